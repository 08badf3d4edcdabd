"""One article briefed end to end from a test, shared by the end-to-end tests: the Elm
Street article and its quote, a valid brief of it as the model would write it, and
`brief_text`, the real pipeline (real HTTP, SDK and instructor) on one document."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.sources.ingest import Document

ARTICLE = (
    "The city council voted 7-2 on Tuesday to close the Elm Street bridge for repairs.\n\n"
    "Mayor Ana Ruiz said the closure was “the only responsible choice” after inspectors found "
    "corroded supports. Councillor Tom Baker opposed the plan, saying businesses on Elm Street "
    "would lose customers for months."
)
QUOTE = "the only responsible choice"


def brief_payload(quote: str = QUOTE, sid: str = "S1") -> dict:
    return {
        "title": "Elm Street bridge to close",
        "summary": "The council voted to close the bridge.",
        "key_points": ["The vote was 7-2."],
        "stances": [
            {
                "actor": "Mayor Ana Ruiz",
                "issue": "Bridge closure",
                "position": "Backs the closure.",
                "stance": "supports",
                "evidence": [{"quote": quote, "source_id": sid}],
            }
        ],
        "open_questions": [
            {
                "question": "How long will repairs take?",
                "why_it_matters": "Businesses depend on the bridge.",
                "what_would_resolve_it": "A published repair schedule.",
            }
        ],
    }


def brief_text(text: str = ARTICLE, *, path: str | None = None, **settings: Any) -> BaseModel:
    """`text` (as a document at `path`) briefed with `load_settings(**settings)`: the brief,
    or the run's error raised."""
    s = load_settings(**settings)
    return asyncio.run(brief_documents([Document(text=text, path=path)], s))[0]
