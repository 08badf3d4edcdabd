"""One document briefed and kept: the path every front door takes (the CLI, `daily` on this
machine and on workers, the HTTP API and its queue workers, the Slack bot).

`brief_and_keep` briefs a document through `pipeline.brief_document` with the LLM its
caller holds (one client per front door or per worker and settings, never one per
article), then keeps in one store transaction (`Store.keep_brief`) the LLM calls, the
document and the result. The calls are kept whether or not a brief came of them: they
were paid for. It returns what happened (`Kept`), which the front door observes (metrics,
a job's result, a run's hit count): it needs no metrics object of its own.

The cache rule: whose request it is
-----------------------------------
The model's answer to a document may be reused: it is the same text under the same
settings (`cache_key`). It is reused only where the reuse cannot be observed from another
API key:

- **An API key's answers are its own.** With an `owner` (the key's id), the cache is that
  key's own briefs, found by owner and source key (document hash and `cache_key`): the same
  key resubmitting a document gets its existing brief back, same id, no new call; a queue
  job retried after its worker died finds the briefs that worker kept. Another key's
  identical document is briefed anew and paid for, so nothing it is shown (its brief, its
  cost, its calls) depends on whether anyone else briefed that text before.
- **Runs without an owner share the local scope**: `daily`, on this machine and on
  workers, reuses the per-article results (`extractions`) by document hash and
  `cache_key`, so a re-run pays for nothing it has already done. API briefs never go
  there, and these results never answer an API key.
- **The CLI and the Slack bot ask the model every time** (`reuse=False`): running
  `brief` is asking for an answer (and `--record` must record what was sent). Their
  briefs are kept and listed all the same.
- **A reused answer is the model's content only.** Its sources (title, URL, path, date)
  and what its provenance says about them (warnings) always come from the request being
  answered, never from the cached row (`as_requested`): the copy of a text one feed
  published never lends its title or link to another's brief.

Why not share answers across keys and swap the sources: the prompt carries the article's
title and URL, so the model's own words (its title, its summary) may repeat the first
request's title or link; and a reused answer comes back at once and free, which tells a
key that someone briefed that text before. Keeping each key to its own answers costs a
second call for the same text, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from summarizer.config import Settings
from summarizer.core.kinds import load_output, registry_for
from summarizer.core.pipeline import brief_document, make_source, provenance_of
from summarizer.core.schemas import SCHEMA_VERSION
from summarizer.errors import StorageError
from summarizer.llm import calls
from summarizer.llm.calls import CallRecord
from summarizer.llm.client import LLM
from summarizer.llm.pricing import cost_usd
from summarizer.render.generic import title_of
from summarizer.signals import BudgetReached
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.store.aio import AsyncStore, off_loop

log = logging.getLogger("summarizer.briefing")


def cache_key(settings: Settings, kind: str | None = None) -> str:
    """Everything that shapes an article's or story's brief; nothing that does not. The
    kind's fingerprint hashes its templates' text, so an edited template is a cache miss
    even when its declared version stayed the same."""
    registry = registry_for(settings)
    parts = {
        "schema": SCHEMA_VERSION,
        "kind": kind or settings.kind,
        "templates": registry.fingerprint(registry.get(kind or settings.kind)),
        "model": settings.model,
        "mode": settings.mode,
        "language": settings.language,
        "grounding": settings.grounding,
        "chunk": settings.max_article_tokens,
    }
    if settings.system_prompt != "system":  # only when set, so existing caches stay valid
        parts["system_prompt"] = settings.system_prompt
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def as_requested(output: BaseModel, doc: Document) -> BaseModel:
    """A kept answer to one article, told as `doc`'s: its sources and the source warnings
    in its provenance are this request's, never those of the request that paid for it. (An
    article's output has exactly one source, S1: pipeline.brief_document.)"""
    p = provenance_of(output)
    return output.model_copy(
        update={
            "sources": [make_source(doc, "S1")],
            "provenance": p.model_copy(update={"warnings": list(dict.fromkeys(doc.warnings))}),
        }
    )


async def find_kept(
    store: Store | AsyncStore, doc: Document, *, settings: Settings, kind: str | None, key: str
) -> BaseModel | None:
    """The local scope's kept answer to `doc` under `key`, told as `doc`'s (as_requested),
    or None. Never an API key's: their answers are their briefs."""
    body = await off_loop(store, Store.get_extraction, doc.sha256, key)
    if body is None:
        return None
    model = registry_for(settings).get(kind or settings.kind).output_model
    return as_requested(model.model_validate_json(body), doc)


@dataclass(frozen=True)
class Kept:
    """What `brief_and_keep` did, for the front door to observe."""

    output: BaseModel
    # The stored brief's id (listed briefs: history, show, GET /v1/briefs); None for a
    # daily article, which is kept as a result of its run only.
    brief_id: str | None
    # True: an answer kept before was given (no model call, nothing paid).
    reused: bool
    # The calls this brief made, as kept in the store.
    calls: tuple[CallRecord, ...] = ()


async def brief_and_keep(
    doc: Document,
    *,
    settings: Settings,
    llm: LLM,
    store: Store | AsyncStore | None,
    origin: str,
    kind: str | None = None,
    owner: str | None = None,
    reuse: bool = True,
    listed: bool = True,
    run_id: str | None = None,
    key: str | None = None,
    limit: AbstractAsyncContextManager[Any] | None = None,
    may_spend: Callable[[], bool] | None = None,
    must_keep: bool = True,
) -> Kept:
    """Brief `doc` as `kind` (default: the settings') and keep it. Raises what the pipeline
    raises (a SummarizerError subclass), after keeping the calls it paid for.

    - `origin`: the front door that pays (brief, daily, api, slack, mcp), as recorded with
      the calls; `run_id` the daily run they belong to.
    - `owner`: the API key id whose request it is (None: a local run). It picks the
      cache (module docstring); `reuse=False` asks the model whatever is kept.
    - `listed`: keep it as a brief of its own (an API key's briefs always are); a daily
      article is kept as a per-article result only.
    - `key`: the cache key to keep it under (default `cache_key(settings, kind)`): a
      daily run's workers keep what they brief under the key the run waits on.
    - `limit`: held around the model call only (the API's concurrency), so an answer
      already kept never waits for a slot.
    - `may_spend`: asked once the cache has missed, before any call: False raises
      BudgetReached (daily's budget).
    - `must_keep=False` (the CLI): a store that is None or fails costs a warning, never
      the brief the user asked for.
    """
    key = key or cache_key(settings, kind)
    source_key = f"{doc.sha256}:{key}"
    if owner is not None:
        listed = True  # an API key's cache is its briefs (find_brief)
    keep = _Keeper(store, doc, origin=origin, run_id=run_id, must_keep=must_keep)
    if reuse and store is not None:
        if owner is not None:
            found = await off_loop(store, Store.find_brief, owner, source_key)
            if found is not None:
                # The key's own brief, made by its own earlier request: returned as it is.
                output = load_output(found[1], found[2], registry_for(settings))
                return Kept(output, found[0], reused=True)
        else:
            kept = await find_kept(store, doc, settings=settings, kind=kind, key=key)
            if kept is not None:
                brief_id = await keep(kept, listed=True) if listed else None
                return Kept(kept, brief_id, reused=True)
    if may_spend is not None and not may_spend():
        raise BudgetReached()
    with calls.collecting() as spent:
        try:
            async with limit or nullcontext():
                output = await brief_document(doc, settings, llm=llm, kind=kind)
        except BaseException:
            try:
                await keep(None, _paid(spent))  # paid for whether or not a brief came of it
            except StorageError as exc:  # the failure to report is the brief's, not this
                log.warning("the calls of a failed brief were not kept: %s", exc)
            raise
    made = _paid(spent)
    brief_id = await keep(
        output,
        made,
        result_key=key if owner is None and reuse else None,
        listed=listed,
        owner=owner,
        source_key=source_key if owner is not None else None,
    )
    return Kept(output, brief_id, reused=False, calls=made)


def _paid(log: calls.CallLog) -> tuple[CallRecord, ...]:
    # An answer a daily --batch run had already paid for was kept when it was paid.
    return tuple(r for r in log.records if not r.prepaid)


@dataclass(frozen=True)
class _Keeper:
    """Writes what one request made, in one transaction (Store.keep_brief)."""

    store: Store | AsyncStore | None
    doc: Document
    origin: str
    run_id: str | None
    must_keep: bool

    async def __call__(
        self,
        output: BaseModel | None,
        records: tuple[CallRecord, ...] = (),
        *,
        result_key: str | None = None,
        listed: bool = False,
        owner: str | None = None,
        source_key: str | None = None,
    ) -> str | None:
        """The calls, and the document with its result when there is one; the brief's id
        when it is listed."""
        store = self.store
        if store is None or (output is None and not records):
            return None
        body = None if output is None else output.model_dump_json()
        kind = provenance_of(output).kind if output is not None and listed else None
        title = title_of(output) if output is not None and listed else None
        try:
            return await off_loop(
                store, Store.keep_brief, self.doc, body, records=records, price=cost_usd,
                origin=self.origin, run_id=self.run_id, result_key=result_key, kind=kind,
                title=title, owner=owner, source_key=source_key,
            )  # fmt: skip
        except StorageError as exc:
            if self.must_keep:
                raise
            log.warning("brief not kept in the store: %s", exc)
            return None
