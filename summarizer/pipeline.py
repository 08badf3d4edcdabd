"""One article in, one grounded Brief out: render the prompt, ask, check quotes, assemble.

This is the code path every front door shares (CLI, cron, HTTP API, Slack bot).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from summarizer import grounding, prompting
from summarizer.config import Settings
from summarizer.ingest import Document
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.pricing import cost_usd
from summarizer.schemas import Brief, BriefContent, Provenance, Source


def _source(doc: Document, source_id: str) -> Source:
    return Source(
        id=source_id,
        title=doc.title,
        url=doc.url,
        path=doc.path,
        published=doc.published,
        sha256=doc.sha256,
    )


async def brief_document(
    doc: Document, settings: Settings, *, llm: LLM, language: str | None = None
) -> Brief:
    """Brief one article. Raises a SummarizerError subclass on failure."""
    prompt = prompting.get_prompt(settings.prompt)
    source_id = "S1"
    article = prompting.Article(
        id=source_id,
        text=doc.text,
        title=doc.title,
        url=doc.url,
        published=doc.published.isoformat() if doc.published else None,
    )
    messages = prompting.render_messages(prompt, articles=[article], language=language)
    attempts_allowed = settings.max_reasks + 1
    with calls.collecting() as log:
        run = grounding.GroundingRun.for_texts(
            {source_id: doc.text},
            policy=settings.grounding,
            is_last_attempt=lambda: log.answered >= attempts_allowed,
        )
        with grounding.checking(run):
            content = await llm.extract(BriefContent, messages)
    return Brief(
        **content.model_dump(),
        sources=[_source(doc, source_id)],
        provenance=Provenance(
            model=settings.model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            created_at=datetime.now(UTC),
            tokens_in=log.tokens_in,
            tokens_out=log.tokens_out,
            llm_calls=len(log.records),
            # Replayed answers cost nothing now; the recording's original cost is not this run's.
            cost_usd=0.0
            if log.replayed
            else cost_usd(settings.model, log.tokens_in, log.tokens_out),
            replayed=log.replayed,
            fixture=log.fixture,
            ungrounded_dropped=run.dropped,
        ),
    )


async def brief_documents(docs: Sequence[Document], settings: Settings) -> list[Brief]:
    """Brief several articles concurrently, in order. The first failure fails the batch,
    so a caller never writes a partial result."""
    llm = LLM(settings)
    sem = asyncio.Semaphore(settings.concurrency)

    async def one(doc: Document) -> Brief:
        async with sem:
            return await brief_document(doc, settings, llm=llm)

    try:
        tasks = [asyncio.create_task(one(d)) for d in docs]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    finally:
        await llm.aclose()
