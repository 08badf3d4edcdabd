"""Articles in, grounded Briefs out: render the prompt, ask, check quotes, assemble.

This is the code path every front door shares (CLI, cron, HTTP API, Slack bot):

- `brief_document`: one article. An article over the token budget is split into chunks
  at paragraph boundaries, each chunk is briefed, and the chunk briefs are merged.
- `synthesize`: several article briefs on one story into one brief across sources, with
  a cross-source stance table and the disagreements between outlets.

A brief's provenance counts every call that went into it, reasks and chunks included.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from summarizer import grounding, prompting, tokens
from summarizer.config import Settings
from summarizer.ingest import Document
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.schemas import Brief, BriefContent, Provenance, Source


def make_source(doc: Document, source_id: str, duplicate_of: str | None = None) -> Source:
    return Source(
        id=source_id,
        title=doc.title,
        url=doc.url,
        path=doc.path,
        published=doc.published,
        sha256=doc.sha256,
        duplicate_of=duplicate_of,
    )


def _article(doc: Document, source_id: str, text: str | None = None) -> prompting.Article:
    return prompting.Article(
        id=source_id,
        text=doc.text if text is None else text,
        title=doc.title,
        url=doc.url,
        published=doc.published.isoformat() if doc.published else None,
    )


@dataclass
class _Extraction:
    content: BriefContent
    log: calls.CallLog
    dropped: int


async def _extract(
    llm: LLM, settings: Settings, messages: list[dict[str, str]], texts: dict[str, str]
) -> _Extraction:
    attempts_allowed = settings.max_reasks + 1
    with calls.collecting() as log:
        run = grounding.GroundingRun.for_texts(
            texts,
            policy=settings.grounding,
            is_last_attempt=lambda: log.answered >= attempts_allowed,
        )
        with grounding.checking(run):
            content = await llm.extract(BriefContent, messages)
    return _Extraction(content, log, run.dropped)


def _provenance(
    settings: Settings, prompt: prompting.Prompt, ex: _Extraction, parts: Sequence[Brief] = ()
) -> Provenance:
    log = ex.log
    # Replayed answers cost nothing now; a call without usage has an unknown cost (None).
    own = log.cost_usd(settings.model)
    costs = [own, *(p.provenance.cost_usd for p in parts)]
    return Provenance(
        model=settings.model,
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        created_at=datetime.now(UTC),
        tokens_in=log.tokens_in + sum(p.provenance.tokens_in for p in parts),
        tokens_out=log.tokens_out + sum(p.provenance.tokens_out for p in parts),
        llm_calls=len(log.records) + sum(p.provenance.llm_calls for p in parts),
        cost_usd=None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
        replayed=log.replayed or any(p.provenance.replayed for p in parts),
        fixture=log.fixture or any(p.provenance.fixture for p in parts),
        ungrounded_dropped=ex.dropped + sum(p.provenance.ungrounded_dropped for p in parts),
        cached_tokens=log.cached_tokens + sum(p.provenance.cached_tokens for p in parts),
        mode=log.mode or next((p.provenance.mode for p in parts if p.provenance.mode), None),
    )


async def brief_document(doc: Document, settings: Settings, *, llm: LLM) -> Brief:
    """Brief one article. Raises a SummarizerError subclass on failure."""
    chunks = tokens.split_paragraphs(doc.text, settings.max_article_tokens)
    if len(chunks) > 1:
        parts = await asyncio.gather(
            *(brief_document(Document(text=c), settings, llm=llm) for c in chunks)
        )
        return await synthesize([(doc, p) for p in parts], settings, llm=llm, one_article=True)
    prompt = prompting.get_prompt(settings.prompt)
    messages = prompting.render_messages(
        prompt, articles=[_article(doc, "S1")], language=settings.language
    )
    ex = await _extract(llm, settings, messages, {"S1": doc.text})
    return Brief(
        **ex.content.model_dump(),
        sources=[make_source(doc, "S1")],
        provenance=_provenance(settings, prompt, ex),
    )


def _notes(brief: Brief, source_id: str) -> str:
    """An article's brief as data for the story prompt, its quotes re-labelled to the
    story's source ids."""
    data = brief.model_dump(
        mode="json",
        include={"title", "summary", "key_points", "stances", "open_questions", "disagreements"},
    )
    for row in data["stances"]:
        for ev in row["evidence"]:
            ev["source_id"] = source_id
    for dis in data["disagreements"]:
        for claim in dis["claims"]:
            claim["source_id"] = source_id
    return json.dumps(data, ensure_ascii=False)


async def synthesize(
    items: Sequence[tuple[Document, Brief]],
    settings: Settings,
    *,
    llm: LLM,
    one_article: bool = False,
    copies: Sequence[tuple[Document, int]] = (),
) -> Brief:
    """One brief from several article briefs (a story), or from the chunk briefs of one
    long article (one_article=True: every item is the same document). `copies` lists
    near-copies of the item at the given index: shown as sources, never sent again."""
    if not one_article and len(items) == 1:
        # A story told once needs no second call; its near-copies join its sources.
        brief = items[0][1]
        extra = [
            make_source(doc, f"S{n}", duplicate_of="S1") for n, (doc, _) in enumerate(copies, 2)
        ]
        return brief.model_copy(update={"sources": [*brief.sources, *extra]})
    prompt = prompting.get_prompt("story")
    ids = ["S1"] * len(items) if one_article else [f"S{i}" for i in range(1, len(items) + 1)]
    articles = [
        _article(doc, sid, _notes(b, sid)) for (doc, b), sid in zip(items, ids, strict=True)
    ]
    messages = prompting.render_messages(
        prompt,
        articles=articles,
        source_ids=sorted(set(ids)),
        parts_of_one_article=one_article,
        language=settings.language,
    )
    texts = {sid: doc.text for (doc, _), sid in zip(items, ids, strict=True)}
    ex = await _extract(llm, settings, messages, texts)
    sources = [make_source(items[0][0], "S1")] if one_article else [
        make_source(doc, sid) for (doc, _), sid in zip(items, ids, strict=True)
    ]  # fmt: skip
    for n, (doc, of) in enumerate(copies, start=len(sources) + 1):
        sources.append(make_source(doc, f"S{n}", duplicate_of=ids[of]))
    return Brief(
        **ex.content.model_dump(),
        sources=sources,
        provenance=_provenance(settings, prompt, ex, [b for _, b in items]),
    )


async def brief_documents(docs: Sequence[Document], settings: Settings) -> list[Brief]:
    """Brief several articles concurrently, in order. The first failure fails the batch,
    so a caller never writes a partial result."""
    llm = LLM(settings)
    try:
        tasks = [asyncio.create_task(brief_document(d, settings, llm=llm)) for d in docs]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    finally:
        await llm.aclose()
