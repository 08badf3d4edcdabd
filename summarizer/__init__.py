"""summarizer: news articles into grounded, structured briefs.

The library's public names are imported lazily, so the CLI's `--help` does not pay for
pydantic, openai and instructor.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Brief": "summarizer.schemas",
    "BriefContent": "summarizer.schemas",
    "Document": "summarizer.ingest",
    "Kind": "summarizer.kinds",
    "KindRegistry": "summarizer.kinds",
    "Quote": "summarizer.schemas",
    "Settings": "summarizer.config",
    "load_settings": "summarizer.config",
    "brief_document": "summarizer.pipeline",
    "brief_documents": "summarizer.pipeline",
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
    from summarizer.errors import SummarizerError
    from summarizer.ingest import Document
    from summarizer.kinds import Kind, KindRegistry
    from summarizer.llm.client import LLM
    from summarizer.pipeline import brief_document, brief_documents
    from summarizer.render import render
    from summarizer.schemas import Brief, BriefContent, Quote


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
