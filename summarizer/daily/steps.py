"""A daily run's two steps over the articles it collected (daily/run.py runs them):

- map: brief each article, from the store's cache where it can (a re-run pays for
  nothing it has already done), on `summarizer worker`s with --on-workers, or through the
  Batch API with --batch, within the run's cost and token budget;
- reduce: group the briefs into stories and synthesize each story (continuing an earlier
  run's story where one matches, daily/follow.py).

A live run runs them once; a batch run once per round (batch/rounds.py): a round whose
articles or stories wait for a batch ends early, and the next round finds what the batch
answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from summarizer.briefing.keep import as_requested, brief_and_keep, cache_key, find_kept
from summarizer.config import Settings
from summarizer.core.kinds import registry_for
from summarizer.core.pipeline import make_source, synthesize
from summarizer.core.schemas import Brief, SourceFailure
from summarizer.daily import follow
from summarizer.daily.config import DailyConfig
from summarizer.errors import ConfigError, SummarizerError
from summarizer.llm import calls, pricing
from summarizer.llm.calls import CallRecord
from summarizer.llm.client import LLM
from summarizer.plumbing.concurrency import gather_or_cancel
from summarizer.signals import BudgetReached, Deferred
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.stories import clusters, continuity

if TYPE_CHECKING:
    from summarizer.batch.rounds import BatchRun
    from summarizer.daily.on_workers import RemoteMap

log = logging.getLogger("summarizer.daily")


def failure(source: str, error: str) -> SourceFailure:
    # Loaders' messages already start with the source they name; say it once.
    return SourceFailure(source=source, error=error.removeprefix(f"{source}: "))


def _as_brief(output: BaseModel) -> Brief:
    assert isinstance(output, Brief), "checked by _kinds"
    return output


class Budget:
    """The run's cost and token budget (--max-cost, --max-run-tokens): what it spent live,
    and with --batch what it committed to batches."""

    def __init__(self, cfg: DailyConfig, settings: Settings, run_log: calls.CallLog) -> None:
        if (
            cfg.max_cost is not None
            and not pricing.known(settings.model)
            and settings.replay_dir is None
        ):
            raise ConfigError(
                f"--max-cost: no price is known for model {settings.model!r}; "
                "use --max-run-tokens (or [daily] max_tokens) instead"
            )
        self.cfg, self.settings, self.log = cfg, settings, run_log
        self.hit = False
        # daily --batch: what this run submitted to batches counts too (batch/rounds.py).
        self.batch: BatchRun | None = None

    def _live(self) -> calls.CallLog:
        # What this run sent; an answer it had already paid for (a collected batch's, an
        # earlier round's) is not spent again.
        return calls.CallLog([r for r in self.log.records if not r.prepaid])

    def spent(self) -> float:
        # Priced even when replayed, so a budget behaves the same on replay as it did live.
        committed = self.batch.committed_usd if self.batch else 0.0
        return self._live().budget_usd(self.settings.model) + committed

    def exhausted(self) -> bool:
        live = self._live()
        used = live.budget_tokens  # a call without usage counts at its own size (issue 19.3)
        if self.batch is not None:
            used += self.batch.committed_tokens
        if self.cfg.max_tokens is not None and used >= self.cfg.max_tokens:
            self.hit = True
        if self.cfg.max_cost is not None and self.spent() >= self.cfg.max_cost:
            self.hit = True
        return self.hit


_OVER_BUDGET = str(BudgetReached())


class Steps:
    """The run's map (brief each article) and reduce (stories) steps, run once for a live
    run and once per round for a batch run (batch/rounds.py)."""

    def __init__(
        self, canon: list[Document], kind_of: dict[str, str], kinds: dict[str, bool],
        copies: dict[str, list[Document]], settings: Settings, store: Store, budget: Budget,
        on_article: Callable[[int, int], None] | None, day: str, cfg: DailyConfig,
    ) -> None:  # fmt: skip
        self.canon, self.kind_of, self.kinds, self.copies = canon, kind_of, kinds, copies
        self.settings, self.store, self.budget = settings, store, budget
        self.on_article, self.day, self.cfg = on_article, day, cfg
        # Calls already kept in the store with their article (briefing/keep.py).
        self.recorded: list[CallRecord] = []

    async def run(
        self, source_failures: list[SourceFailure], run_id: str, batch: BatchRun | None = None
    ) -> Done | None:
        """(made, cache hits, stories, outputs, failures); None when a batch round held
        requests (they are in `batch.held`)."""
        settings, kinds, copies = self.settings, self.kinds, self.copies
        failures = list(source_failures)
        # Lazy: a run answered entirely from the store never pays for importing openai.
        llm = batch.llm("articles", self.budget.exhausted) if batch else LLM(settings, lazy=True)
        try:
            if settings.on_workers:  # the map step on `summarizer worker`s (on_workers.py)
                from summarizer.daily.on_workers import RemoteMap

                async with RemoteMap(self.store, run_id, settings) as remote:
                    made, hits = await _map(
                        self.canon, self.kind_of, settings, self.store, llm, self.budget,
                        failures, self.on_article, run_id, self.recorded, remote,
                    )  # fmt: skip
            else:
                made, hits = await _map(
                    self.canon, self.kind_of, settings, self.store, llm, self.budget, failures,
                    self.on_article, run_id, self.recorded, hold=batch.hold if batch else None,
                )  # fmt: skip
            if batch is not None:
                if batch.held:
                    return None  # stories wait for every article
                await llm.aclose()
                llm = batch.llm("stories")  # stories are made past the budget, as live
            briefs = [(d, _as_brief(o)) for d, o in made if kinds[self.kind_of[d.sha256]]]
            # Stories are made by the synthesis of the kind(s) whose articles become stories.
            story_kind = next((k for k, merges in kinds.items() if merges), settings.kind)
            try:
                story_briefs = await _reduce(
                    briefs, copies, settings, self.store, cache_key(settings, story_kind), llm,
                    failures, registry_for(settings).get(story_kind).synthesis or "story",
                    self.day, self.cfg,
                )  # fmt: skip
            except Deferred as held:
                if batch is None:
                    raise
                batch.hold("story synthesis", held)
                return None
            outputs = [
                _with_copies(o, copies[d.sha256])
                for d, o in made
                if not kinds[self.kind_of[d.sha256]]
            ]
        finally:
            await llm.aclose()
        return made, hits, story_briefs, outputs, failures


Done = tuple[
    list[tuple[Document, BaseModel]], int, list[Brief], list[BaseModel], list[SourceFailure]
]


async def _map(
    docs: Sequence[Document], kind_of: dict[str, str], settings: Settings, store: Store,
    llm: LLM, budget: Budget, failures: list[SourceFailure],
    on_article: Callable[[int, int], None] | None, run_id: str, recorded: list[CallRecord],
    remote: RemoteMap | None = None, hold: Callable[[str, Deferred], None] | None = None,
) -> tuple[list[tuple[Document, BaseModel]], int]:  # fmt: skip
    """Brief each article, from the cache where it can (briefing/keep.py, the local scope).
    Returns the briefs (in input order) and how many came from the cache. Workers take
    articles one at a time, so the budget is checked right before each new article is sent
    (a run overshoots by at most the articles already in flight). The calls an article
    made are kept with it, and added to `recorded` (the run keeps the rest at its end)."""

    results: list[tuple[Document, BaseModel] | None] = [None] * len(docs)
    registry = registry_for(settings)
    keys = {k: cache_key(settings, k) for k in set(kind_of.values())}
    queue = list(enumerate(docs))
    done = hits = 0
    # A batch run checks its budget once its requests are known (Deferred, below).
    may_spend = None if hold is not None else (lambda: not budget.exhausted())

    async def worker() -> None:
        nonlocal done, hits
        while queue:
            i, doc = queue.pop(0)
            name = doc.url or doc.path or doc.title or doc.sha256[:12]
            try:
                kind = kind_of[doc.sha256]
                key = keys[kind]
                if remote is not None:  # a worker briefs and keeps it (queue.py)
                    output = await find_kept(store, doc, settings=settings, kind=kind, key=key)
                    if output is not None:
                        hits += 1
                    elif budget.exhausted():
                        raise BudgetReached()
                    else:
                        made = await remote.brief(doc, kind, key, registry.get(kind).output_model)
                        output = as_requested(made, doc)
                    results[i] = (doc, output)
                else:
                    with calls.collecting() as article:
                        try:
                            # Kept at once: a run killed after this never pays for it again.
                            kept = await brief_and_keep(
                                doc, settings=settings, llm=llm, store=store, origin="daily",
                                kind=kind, run_id=run_id, key=key, listed=False,
                                may_spend=may_spend,
                            )  # fmt: skip
                        finally:
                            recorded.extend(article.records)  # in the store with the article
                    hits += kept.reused
                    results[i] = (doc, kept.output)
            except BudgetReached:
                failures.append(SourceFailure(source=name, error=_OVER_BUDGET))
            except Deferred as held:  # daily --batch: its requests wait for a batch
                if hold is None:
                    raise
                # Checked here, not before: an article its batch answered costs nothing more.
                new = any(body is not None for body in held.requests.values())
                if new and budget.exhausted():
                    failures.append(SourceFailure(source=name, error=_OVER_BUDGET))
                else:
                    hold(name, held)
            except SummarizerError as exc:
                log.debug("article failed: %s: %s", name, exc)
                failures.append(failure(name, str(exc)))
            done += 1
            if on_article:
                on_article(done, len(docs))

    # On workers, every article is queued at once: the workers' own limits pace them.
    slots = len(docs) if remote is not None else min(settings.concurrency, len(docs))
    await asyncio.gather(*(worker() for _ in range(slots or 1)))
    return [r for r in results if r is not None], hits


def _embedder(llm: LLM, model: str | None) -> follow.Embed | None:
    """`follow.plan` runs in a thread; its embeddings calls go back to this event loop."""
    if model is None:
        return None
    loop = asyncio.get_running_loop()

    def embed(texts: list[str]) -> list[list[float]]:
        return asyncio.run_coroutine_threadsafe(llm.embed(model, texts), loop).result()

    return embed


async def _reduce(
    briefs: Sequence[tuple[Document, Brief]], copies: dict[str, list[Document]],
    settings: Settings, store: Store, key: str, llm: LLM, failures: list[SourceFailure],
    story_kind: str = "story", day: str | None = None, cfg: DailyConfig | None = None,
) -> list[Brief]:  # fmt: skip

    groups = clusters.group_stories([continuity.story_text(b) for _, b in briefs])
    # Stories that continue an earlier run's (daily/follow.py): decided before synthesis.
    plans = (
        await asyncio.to_thread(
            follow.plan, store, [[briefs[i][1] for i in g] for g in groups], day, cfg.continuity,
            _embedder(llm, cfg.continuity.embeddings),
        )
        if day is not None and cfg is not None
        else [follow.Plan() for _ in groups]
    )  # fmt: skip
    if day is not None and cfg is not None and any(p.close for p in plans):  # the `link` check
        await follow.confirm(
            plans, [[briefs[i][0] for i in g] for g in groups], day, settings, store, llm,
            cache_key(settings, follow.LINK_KIND), cfg.continuity.threshold,
        )  # fmt: skip

    async def one(group: list[int], plan: follow.Plan) -> list[tuple[Brief, follow.Plan]]:
        items = [briefs[i] for i in group]
        extra = [(c, n) for n, (d, _) in enumerate(items) for c in copies.get(d.sha256, [])]
        if plan.earlier is not None:
            made = await follow.synthesize_continuing(
                items, extra, plan, settings, store, llm, cache_key(settings, follow.KIND), failures
            )
            if made is not None:
                return [(made, plan)]
        if len(items) == 1:
            return [(_as_brief(await synthesize(items, settings, llm=llm, copies=extra)), plan)]
        story_sha = hashlib.sha256("".join(sorted(d.sha256 for d, _ in items)).encode()).hexdigest()
        cached = await asyncio.to_thread(store.get_extraction, story_sha, key)
        if cached is not None:
            return [(Brief.model_validate_json(cached), plan)]
        try:
            brief = _as_brief(
                await synthesize(items, settings, llm=llm, copies=extra, kind=story_kind)
            )
        except Deferred:
            raise  # held for a batch: synthesized in a later round
        except (SummarizerError, BudgetReached) as exc:
            # The articles are still worth showing: each as its own story, with the reason.
            names = ", ".join(d.url or d.path or d.sha256[:12] for d, _ in items)
            failures.append(
                SourceFailure(source=f"story of {names}", error=f"not synthesized: {exc}")
            )
            return [(b, follow.Plan()) for _, b in items]
        await asyncio.to_thread(store.put_extraction, story_sha, key, brief.model_dump_json())
        return [(brief, plan)]

    out: list[tuple[Brief, follow.Plan]] = []
    # Every story is tried before one held for a batch stops the step (gather_or_cancel).
    for part in await gather_or_cancel(one(g, p) for g, p in zip(groups, plans, strict=True)):
        out += part
    # Biggest stories first: more outlets covering it means it matters more today.
    out.sort(key=lambda bp: -len(bp[0].sources))
    if day is None:
        return [b for b, _ in out]
    return await asyncio.to_thread(follow.record, store, day, out)


def _with_copies(output: BaseModel, copies: list[Document]) -> BaseModel:
    """An output that stands alone lists its near-copies as sources, like a story does."""
    if not copies:
        return output
    sources = list(getattr(output, "sources", []))
    extra = [make_source(c, f"S{n}", duplicate_of="S1") for n, c in enumerate(copies, 2)]
    return output.model_copy(update={"sources": [*sources, *extra]})
