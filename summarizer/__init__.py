"""summarizer: news articles into grounded, structured briefs.

The library's public names are imported lazily, so the CLI's `--help` does not pay for
pydantic, openai and instructor.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Brief": "summarizer.core.schemas",
    "BriefContent": "summarizer.core.schemas",
    "Document": "summarizer.sources.ingest",
    "Kind": "summarizer.core.kinds",
    "KindRegistry": "summarizer.core.kinds",
    "Quote": "summarizer.core.schemas",
    "Settings": "summarizer.config",
    "load_settings": "summarizer.config",
    "brief_document": "summarizer.core.pipeline",
    "brief_documents": "summarizer.core.pipeline",
    "render": "summarizer.render",
    "LLM": "summarizer.llm.client",
    "SummarizerError": "summarizer.errors",
}

__all__ = [
    "LLM",
    "Brief",
    "BriefContent",
    "Document",
    "Kind",
    "KindRegistry",
    "Quote",
    "Settings",
    "SummarizerError",
    "__version__",
    "brief_document",
    "brief_documents",
    "load_settings",
    "render",
]

if TYPE_CHECKING:
    from summarizer.config import Settings, load_settings
    from summarizer.core.kinds import Kind, KindRegistry
    from summarizer.core.pipeline import brief_document, brief_documents
    from summarizer.core.schemas import Brief, BriefContent, Quote
    from summarizer.errors import SummarizerError
    from summarizer.llm.client import LLM
    from summarizer.render import render
    from summarizer.sources.ingest import Document


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
