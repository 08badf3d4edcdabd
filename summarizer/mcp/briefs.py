"""Brief a document and keep it: the one call the MCP server makes to the library.

Until the library's own "brief and keep" function lands, this does what the HTTP API's
`Briefer.brief` does, with the same library pieces and nothing of the API's: the pipeline
(`pipeline.brief_document`), the same cache rule (a caller's own brief of the same
document, kind and settings is returned instead of paying again), every LLM call recorded
in the store with its tokens and cost under the front door's name (made or not), the
document and the output stored under its kind. Everything else in summarizer/mcp calls
this function, so pointing the MCP server at the library's version is a change here only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.ingest import Document
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.store import Store

#: The front door's name in the store's call log (`summarizer history` shows spend by it).
ORIGIN = "mcp"


@dataclass(frozen=True)
class Kept:
    output: BaseModel
    brief_id: str
    reused: bool  # an earlier brief of the caller's was returned; nothing was paid


# The signature is the library's coming `briefing.keep.brief_and_keep`'s, in the subset
# used here, so pointing at it is an import (with reuse=owner is not None: on stdio a
# local user asks the model every time, as `summarizer brief` does).
async def brief_and_keep(
    doc: Document,
    *,
    settings: Settings,
    llm: LLM,
    store: Store,
    origin: str = ORIGIN,
    kind: str | None = None,
    owner: str | None = None,
) -> Kept:
    """Brief `doc` as `kind` (default: the settings') and store it; see the module docstring.

    `owner` is the caller's key id over HTTP (None on stdio, a local user: briefed anew
    each time, as `summarizer brief` does)."""
    from summarizer.daily.steps import cache_key
    from summarizer.kinds import load_output, registry_for
    from summarizer.pipeline import brief_document, provenance_of
    from summarizer.pricing import cost_usd
    from summarizer.render.generic import title_of

    source_key = f"{doc.sha256}:{cache_key(settings, kind)}"
    if owner is not None:
        found = await asyncio.to_thread(store.find_brief, owner, source_key)
        if found is not None:
            output = load_output(found[1], found[2], registry_for(settings))
            return Kept(output=output, brief_id=found[0], reused=True)
    with calls.collecting() as spent:
        try:
            brief = await brief_document(doc, settings, llm=llm, kind=kind)
        finally:
            # Paid for whether or not a brief came of it (cancelled included).
            store.record_calls(None, spent.records, cost_usd, origin=origin)
    await asyncio.to_thread(store.put_document, doc)
    brief_id = await asyncio.to_thread(
        lambda: store.put_brief(
            provenance_of(brief).kind,
            brief.model_dump_json(),
            title=title_of(brief),
            owner=owner,
            source_key=source_key if owner is not None else None,
        )
    )
    return Kept(output=brief, brief_id=brief_id, reused=False)
