"""Articles in, grounded outputs out: render the prompt, ask, check quotes, assemble.

This is the code path every front door shares (CLI, cron, HTTP API, Slack bot), for every
kind (kinds.py): the kind gives the content model, the template and the output model.

- `brief_document`: one article. An article over the token budget is split into chunks
  at paragraph boundaries, each chunk is briefed, and the chunk outputs are merged (by the
  kind's synthesis, e.g. story for brief, or its merge function, e.g. timeline's).
- `synthesize`: several article briefs on one story into one brief across sources, with
  a cross-source stance table and the disagreements between outlets.

An output's provenance counts every call that went into it, reasks and chunks included.
The request's fixed part comes first and is the same for every article of a kind (the
schema, then the system message); the fence, the article and the language come after it,
in the user message, so a provider's prompt cache can serve the prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.core import grounding, prompting
from summarizer.core.kinds import Kind, KindRegistry, registry_for
from summarizer.core.schemas import Provenance, Source
from summarizer.errors import ConfigError, InputError
from summarizer.llm import attempts, calls, tokens
from summarizer.llm.client import LLM
from summarizer.plumbing.concurrency import gather_or_cancel
from summarizer.sources.ingest import Document


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
    content: BaseModel
    log: calls.CallLog
    dropped: int
    unquoted: int


async def _extract(
    llm: LLM,
    settings: Settings,
    model: type[BaseModel],
    messages: list[dict[str, str]],
    texts: dict[str, str],
) -> _Extraction:
    with calls.collecting() as log, attempts.counting(settings.max_reasks) as tries:
        run = grounding.GroundingRun.for_texts(
            texts, policy=settings.grounding, is_last_attempt=tries.is_last
        )
        with grounding.checking(run):
            content = await llm.extract(grounding.checked(model), messages)
    return _Extraction(content, log, run.dropped, run.unquoted)


def _provenance(
    settings: Settings,
    kind: Kind,
    prompt: prompting.Prompt,
    ex: _Extraction | None,
    parts: Sequence[BaseModel] = (),
    docs: Sequence[Document] = (),
) -> Provenance:
    log = ex.log if ex is not None else calls.CallLog()
    part_p = [provenance_of(p) for p in parts]
    # Replayed answers cost nothing now; a call without usage has an unknown cost (None).
    own = log.cost_usd(settings.model) if log.records else 0.0
    costs = [own, *(p.cost_usd for p in part_p)]
    return Provenance(
        model=settings.model,
        kind=kind.name,
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        created_at=datetime.now(UTC),
        tokens_in=_tokens(log.usage_known, log.tokens_in, [p.tokens_in for p in part_p]),
        tokens_out=_tokens(log.usage_known, log.tokens_out, [p.tokens_out for p in part_p]),
        llm_calls=len(log.records) + sum(p.llm_calls for p in part_p),
        cost_usd=None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
        replayed=log.replayed or any(p.replayed for p in part_p),
        fixture=log.fixture or any(p.fixture for p in part_p),
        ungrounded_dropped=(ex.dropped if ex else 0) + sum(p.ungrounded_dropped for p in part_p),
        quotations_unquoted=(ex.unquoted if ex else 0) + sum(p.quotations_unquoted for p in part_p),
        # Each source's warnings once, whether it came in directly or through a part.
        warnings=list(
            dict.fromkeys(
                [*(w for d in docs for w in d.warnings), *(w for p in part_p for w in p.warnings)]
            )
        ),
        cached_tokens=log.cached_tokens + sum(p.cached_tokens for p in part_p),
        batched_calls=log.batched_calls + sum(p.batched_calls for p in part_p),
        mode=log.mode or next((p.mode for p in part_p if p.mode), None),
    )


def _tokens(known: bool, own: int, parts: list[int | None]) -> int | None:
    """A token total, None (unknown, never 0) when any call or part lacks usage."""
    if not known or any(n is None for n in parts):
        return None
    return own + sum(n for n in parts if n is not None)


def provenance_of(output: BaseModel) -> Provenance:
    p = getattr(output, "provenance", None)
    assert isinstance(p, Provenance), "an output model always carries its provenance"
    return p


# What the pipeline adds to a kind's content; never sent back to a model as notes.
_NOT_CONTENT = {"schema_version", "sources", "provenance", "story"}


def _content(output: BaseModel) -> dict[str, Any]:
    return output.model_dump(exclude=_NOT_CONTENT)


def _kind(settings: Settings, kind: str | None) -> tuple[KindRegistry, Kind]:
    registry = registry_for(settings)
    chosen = registry.get(kind or settings.kind)
    if chosen.takes != "article":
        raise ConfigError(
            f"kind {chosen.name!r} merges the outputs of several articles and cannot brief "
            "one; `daily` uses it for stories. Choose another --kind (see `summarizer kinds`)"
        )
    return registry, chosen


@dataclass(frozen=True)
class Prepared:
    """One article's request, before it is sent: what batch submission, eval and the live
    path all build the same way (so recordings, cache keys and grounding agree)."""

    kind: Kind
    prompt: prompting.Prompt
    messages: list[dict[str, str]]
    texts: dict[str, str]  # source id -> text the quotes are checked against

    @property
    def response_model(self) -> type[BaseModel]:
        """The model instructor is given: the kind's, with the grounding check attached."""
        return grounding.checked(self.kind.model)


def prepare(doc: Document, settings: Settings, kind: str | None = None) -> Prepared:
    """The request for one article (that fits max_article_tokens) as `kind`."""
    registry, k = _kind(settings, kind)
    prompt = registry.prompt(k)
    messages = prompting.render_messages(
        prompt, articles=[_article(doc, "S1")], language=settings.language
    )
    return Prepared(k, prompt, messages, {"S1": doc.text})


async def brief_document(
    doc: Document, settings: Settings, *, llm: LLM, kind: str | None = None
) -> BaseModel:
    """One article into the output of `kind` (default: settings.kind): a Brief for the
    brief kind. Raises a SummarizerError subclass on failure."""
    registry, k = _kind(settings, kind)
    chunks = tokens.split_paragraphs(doc.text, settings.max_article_tokens)
    if len(chunks) > 1:
        return await _long_article(doc, chunks, settings, registry, k, llm)
    req = prepare(doc, settings, k.name)
    ex = await _extract(llm, settings, k.model, req.messages, req.texts)
    return k.output_model(
        **ex.content.model_dump(),
        sources=[make_source(doc, "S1")],
        provenance=_provenance(settings, k, req.prompt, ex, docs=[doc]),
    )


async def _long_article(
    doc: Document, chunks: list[str], settings: Settings, registry: KindRegistry, k: Kind,
    llm: LLM,
) -> BaseModel:  # fmt: skip
    if k.synthesis is None and k.merge is None:
        raise InputError(
            f"{doc.path or doc.url or 'the article'}: longer than max_article_tokens "
            f"({settings.max_article_tokens}) and kind {k.name!r} cannot merge parts; "
            "raise max_article_tokens or use another kind"
        )
    parts = await gather_or_cancel(
        brief_document(Document(text=c), settings, llm=llm, kind=k.name) for c in chunks
    )
    if k.synthesis is not None:
        return await synthesize(
            [(doc, p) for p in parts], settings, llm=llm, one_article=True, kind=k.synthesis
        )
    assert k.merge is not None
    merged = k.merge([k.model.model_validate(_content(p)) for p in parts])
    return k.output_model(
        **merged.model_dump(),
        sources=[make_source(doc, "S1")],
        provenance=_provenance(settings, k, registry.prompt(k), None, parts, [doc]),
    )


def _notes(output: BaseModel, source_id: str) -> str:
    """An article's output as data for the synthesis prompt, every quote re-labelled to
    the story's source id (found by type, whatever the kind's fields are called)."""
    content = output.model_copy(deep=True)
    for _path, quote in grounding.walk(content):
        quote.source_id = source_id
    return content.model_dump_json(exclude=_NOT_CONTENT)


async def synthesize(
    items: Sequence[tuple[Document, BaseModel]],
    settings: Settings,
    *,
    llm: LLM,
    one_article: bool = False,
    copies: Sequence[tuple[Document, int]] = (),
    kind: str = "story",
    context: dict[str, Any] | None = None,
) -> BaseModel:
    """One brief from several article briefs (a story), or from the chunk briefs of one
    long article (one_article=True: every item is the same document). `copies` lists
    near-copies of the item at the given index: shown as sources, never sent again.
    `context` adds template variables (a continuing story's previous brief, fenced by the
    template like an article); with it, even one article is sent, since the model has to
    say what it adds to the previous brief."""
    if not one_article and len(items) == 1 and context is None:
        # A story told once needs no second call; its near-copies join its sources.
        output = items[0][1]
        extra = [
            make_source(doc, f"S{n}", duplicate_of="S1") for n, (doc, _) in enumerate(copies, 2)
        ]
        return output.model_copy(update={"sources": [*getattr(output, "sources", []), *extra]})
    registry = registry_for(settings)
    k = registry.get(kind)
    prompt = registry.prompt(k)
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
        **(context or {}),
    )
    texts = {sid: doc.text for (doc, _), sid in zip(items, ids, strict=True)}
    ex = await _extract(llm, settings, k.model, messages, texts)
    sources = [make_source(items[0][0], "S1")] if one_article else [
        make_source(doc, sid) for (doc, _), sid in zip(items, ids, strict=True)
    ]  # fmt: skip
    for n, (doc, of) in enumerate(copies, start=len(sources) + 1):
        sources.append(make_source(doc, f"S{n}", duplicate_of=ids[of]))
    return k.output_model(
        **ex.content.model_dump(),
        sources=sources,
        provenance=_provenance(
            settings, k, prompt, ex, [b for _, b in items], [d for d, _ in items]
        ),
    )


async def brief_documents(
    docs: Sequence[Document], settings: Settings, *, kind: str | None = None
) -> list[BaseModel]:
    """Brief several articles concurrently, in order. The first failure fails the batch,
    so a caller never writes a partial result."""
    _kind(settings, kind)  # an unknown or broken kind fails before any call
    llm = LLM(settings)
    try:
        return await gather_or_cancel(brief_document(d, settings, llm=llm, kind=kind) for d in docs)
    finally:
        await llm.aclose()
