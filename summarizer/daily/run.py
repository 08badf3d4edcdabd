"""One daily run: collect, collapse copies, brief each article (map), group into stories,
synthesize each story (reduce), store, write, deliver.

Safe to repeat and to schedule:
- a lock per day on the store, and a lock file in the output directory, stop two
  overlapping runs (before either has paid for anything);
- per-article and per-story results are cached in the store under a key of everything
  that shapes them (prompt versions, model, mode, language, grounding), so a re-run of
  the same day makes no LLM call for what it has already done, and a run killed half-way
  resumes from what it finished;
- delivery is claimed in the store before sending, so a brief is never posted twice
  (unless forced), even when the run that sent it was killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from summarizer import continuity, pricing, stories
from summarizer.atomic import write_text
from summarizer.concurrency import gather_or_cancel
from summarizer.config import Settings
from summarizer.daily import follow
from summarizer.daily.config import DailyConfig
from summarizer.errors import (
    EXIT_PARTIAL,
    BatchPending,
    ConfigError,
    Deferred,
    LockedError,
    NothingBriefedError,
    SummarizerError,
)
from summarizer.ingest import Document
from summarizer.kinds import registry_for
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.pipeline import brief_document, make_source, provenance_of, synthesize
from summarizer.schemas import SCHEMA_VERSION, Brief, DailyBrief, DailyProvenance, SourceFailure
from summarizer.sources import Loader
from summarizer.store import Store

if TYPE_CHECKING:
    from summarizer.batch.rounds import BatchRun
    from summarizer.daily.on_workers import RemoteMap

log = logging.getLogger("summarizer.daily")


def _run_cost(
    run_log: calls.CallLog, model: str, w_calls: int, w_in: int, w_out: int
) -> float | None:
    """This process's calls at their own (cached) rates, plus what workers spent for the
    run (--on-workers) at list price; None when either is unknown."""
    own = run_log.cost_usd(model)
    workers = pricing.cost_usd(model, w_in, w_out) if w_calls else 0.0
    return None if own is None or workers is None else own + workers


@dataclass
class DailyResult:
    daily: DailyBrief
    brief_id: str
    paths: list[Path]
    delivery: str | None = None  # what happened to delivery, for the log
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        partial = self.daily.failures or self.daily.provenance.stopped_by_budget or self.warnings
        return EXIT_PARTIAL if partial else 0


def _failure(source: str, error: str) -> SourceFailure:
    # Loaders' messages already start with the source they name; say it once.
    return SourceFailure(source=source, error=error.removeprefix(f"{source}: "))


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


def _kinds(settings: Settings, cfg: DailyConfig) -> dict[str, bool]:
    """Every kind the run makes (the run's, and [daily.kinds] per source) -> whether its
    articles become stories (the kind has a synthesis that makes briefs, like brief) or
    stand alone in the daily brief's `outputs` (like timeline)."""
    registry = registry_for(settings)
    found: dict[str, bool] = {}
    for name in (settings.kind, *cfg.kinds.values()):
        kind = registry.get(name)
        if kind.takes != "article":
            raise ConfigError(
                f"daily kind {name!r} merges the outputs of several articles and cannot brief "
                "one; choose another kind (see `summarizer kinds`)"
            )
        synthesis = registry.get(kind.synthesis) if kind.synthesis else None
        found[name] = (
            synthesis is not None
            and issubclass(kind.output_model, Brief)
            and issubclass(synthesis.output_model, Brief)
        )
    return found


def _as_brief(output: BaseModel) -> Brief:
    assert isinstance(output, Brief), "checked by _kinds"
    return output


def _newest_first(docs: Sequence[Document]) -> list[Document]:
    # Undated articles (files) after dated ones; ties keep the sources' order.
    return sorted(docs, key=lambda d: -d.published.timestamp() if d.published else float("inf"))


class _Budget:
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
        return (self._live().priced(self.settings.model) or 0.0) + committed

    def exhausted(self) -> bool:
        live = self._live()
        used = live.tokens_in + live.tokens_out
        if self.batch is not None:
            used += self.batch.committed_tokens
        if self.cfg.max_tokens is not None and used >= self.cfg.max_tokens:
            self.hit = True
        if self.cfg.max_cost is not None and self.spent() >= self.cfg.max_cost:
            self.hit = True
        return self.hit


async def run_daily(
    cfg: DailyConfig,
    settings: Settings,
    *,
    store: Store,
    now: datetime | None = None,
    force: bool = False,
    on_article: Callable[[int, int], None] | None = None,
) -> DailyResult:
    from filelock import FileLock, Timeout

    now = now or datetime.now(UTC)
    _kinds(settings, cfg)  # an unknown kind fails before the lock and any fetch
    day, since = cfg.day(now), cfg.window_start(now)
    if not cfg.sources:
        raise ConfigError(
            "no sources: give --source (a feed, URL, directory or file) or [daily] sources"
        )
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(cfg.out_dir / ".summarizer-daily.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"another daily run holds {cfg.out_dir}/.summarizer-daily.lock; wait for it to finish"
        ) from None
    try:
        with store.hold_lock(f"daily:{day}") as held:
            # The store's own lock for the day: a run on another folder, or on another
            # machine sharing a PostgreSQL store (an advisory lock there), cannot run it too.
            if not held:
                raise LockedError(
                    f"another daily run holds the lock for {day} on {store.label}; "
                    "wait for it to finish"
                )
            run_id = store.start_run(
                "daily", day, {"sources": cfg.sources, "since": since.isoformat()}
            )
            try:
                result = await _run(
                    cfg, settings, store, run_id, day, since, now, force, on_article
                )
            except BatchPending as exc:
                store.finish_run(run_id, "pending", error=str(exc))
                raise
            except BaseException as exc:
                store.finish_run(run_id, "failed", error=str(exc) or type(exc).__name__)
                raise
    finally:
        lock.release()
    status = "partial" if result.exit_code == EXIT_PARTIAL else "ok"
    store.finish_run(run_id, status, brief_id=result.brief_id)
    return result


async def _run(
    cfg: DailyConfig, settings: Settings, store: Store, run_id: str, day: str,
    since: datetime, now: datetime, force: bool,
    on_article: Callable[[int, int], None] | None,
) -> DailyResult:  # fmt: skip
    kinds = _kinds(settings, cfg)
    with calls.collecting() as run_log:
        budget = _Budget(cfg, settings, run_log)
        # Sources are collected per kind, so each article knows what to make of it; one
        # loader (one HTTP client, one extraction pool) serves every kind.
        kind_of: dict[str, str] = {}
        failures: list[SourceFailure] = []
        documents: list[Document] = []
        async with Loader.from_settings(
            settings, since=since, feed_entries=cfg.feed_entries
        ) as loader:
            for kind in kinds:
                group = [s for s in cfg.sources if cfg.kinds.get(s, settings.kind) == kind]
                if not group:
                    continue
                loaded = await loader.sources(group)
                failures += [_failure(s, e) for s, e in loaded.failures]
                for d in loaded.documents:
                    kind_of.setdefault(d.sha256, kind)
                documents += loaded.documents
        unique = list({d.sha256: d for d in _newest_first(documents)}.values())
        found = len(unique)
        chosen = unique[: cfg.max_articles]
        # Wire copies are collapsed before any call: the copy is listed, never briefed.
        groups = stories.near_copies([d.text for d in chosen])
        canon = [chosen[g[0]] for g in groups]
        copies = {chosen[g[0]].sha256: [chosen[i] for i in g[1:]] for g in groups}

        steps = _Steps(canon, kind_of, kinds, copies, settings, store, budget, on_article, day, cfg)
        try:
            if cfg.batch:
                from summarizer.batch.rounds import BatchRun

                batch = BatchRun(store, settings, cfg, day=day, run_id=run_id)
                budget.batch = batch
                async with batch:
                    while (done := await steps.run(failures, run_id, batch)) is None:
                        await batch.settle()  # waits (--wait), or raises BatchPending
                charged = batch.charged
            else:
                done = await steps.run(failures, run_id)
                charged = []
            # Calls made for this run by workers (--on-workers), recorded by them in the
            # store; read before this process records its own there.
            spent = (
                await asyncio.to_thread(store.run_spend, run_id) if settings.on_workers else None
            )
        finally:
            # Paid for whether or not a brief comes of it (batches: when collected).
            store.record_calls(
                run_id, [r for r in run_log.records if not r.prepaid], pricing.cost_usd
            )
        assert done is not None, "a live run holds nothing for a batch"
        made, hits, story_briefs, outputs, failures = done
        w_calls, w_in, w_out = spent or (0, 0, 0)
        # This run's spending: its own calls (not answers it had paid for already), what
        # its collected batches cost, and what workers spent for it.
        paid = calls.CallLog([r for r in run_log.records if not r.prepaid] + charged)
        tokens_in, tokens_out = paid.tokens_in + w_in, paid.tokens_out + w_out
        daily = DailyBrief(
            date=day,
            window_start=since,
            window_end=now,
            stories=story_briefs,
            outputs=[o.model_dump(mode="json") for o in outputs],
            failures=failures,
            provenance=DailyProvenance(
                created_at=datetime.now(UTC),
                models=[settings.model],
                articles_found=found,
                articles_briefed=len(made) + sum(len(copies[d.sha256]) for d, _ in made),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cached_tokens=paid.cached_tokens,
                llm_calls=len(paid.records) + w_calls,
                cost_usd=_run_cost(paid, settings.model, w_calls, w_in, w_out),
                batched_calls=paid.batched_calls,
                replayed=run_log.replayed or hits > 0,
                fixture=run_log.fixture
                or any(provenance_of(b).fixture for b in [*story_briefs, *outputs]),
                stopped_by_budget=budget.hit,
            ),
        )
    if not made:
        # Nothing briefed is never a brief, however it came about: no file, exit 11.
        raise NothingBriefedError(
            f"no article could be briefed ({len(failures)} failure(s), first: "
            f"{failures[0].source}: {failures[0].error})"
            if failures
            else "no article could be briefed"
        )
    brief_id = store.put_brief(
        "daily", daily.model_dump_json(), title=f"Daily brief {day}", day=day, run_id=run_id
    )
    paths = _write(daily, cfg)
    result = DailyResult(daily, brief_id, paths)
    if cfg.slack_webhook is not None:
        from summarizer.daily.deliver import deliver_webhook

        result.delivery, warning = await deliver_webhook(
            daily,
            cfg.slack_webhook.get_secret_value(),
            store=store,
            day=day,
            brief_id=brief_id,
            force=force,
        )
        if warning:
            result.warnings.append(warning)
    return result


_OVER_BUDGET = "skipped: the run's cost or token budget was reached"


class _Steps:
    """The run's map (brief each article) and reduce (stories) steps, run once for a live
    run and once per round for a batch run (batch/rounds.py)."""

    def __init__(
        self, canon: list[Document], kind_of: dict[str, str], kinds: dict[str, bool],
        copies: dict[str, list[Document]], settings: Settings, store: Store, budget: _Budget,
        on_article: Callable[[int, int], None] | None, day: str, cfg: DailyConfig,
    ) -> None:  # fmt: skip
        self.canon, self.kind_of, self.kinds, self.copies = canon, kind_of, kinds, copies
        self.settings, self.store, self.budget = settings, store, budget
        self.on_article, self.day, self.cfg = on_article, day, cfg

    async def run(
        self, source_failures: list[SourceFailure], run_id: str, batch: BatchRun | None = None
    ) -> _Done | None:
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
                        failures, self.on_article, remote,
                    )  # fmt: skip
            else:
                made, hits = await _map(
                    self.canon, self.kind_of, settings, self.store, llm, self.budget, failures,
                    self.on_article, hold=batch.hold if batch else None,
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


_Done = tuple[
    list[tuple[Document, BaseModel]], int, list[Brief], list[BaseModel], list[SourceFailure]
]


async def _map(
    docs: Sequence[Document], kind_of: dict[str, str], settings: Settings, store: Store,
    llm: LLM, budget: _Budget, failures: list[SourceFailure],
    on_article: Callable[[int, int], None] | None, remote: RemoteMap | None = None,
    hold: Callable[[str, Deferred], None] | None = None,
) -> tuple[list[tuple[Document, BaseModel]], int]:  # fmt: skip
    """Brief each article, from the cache where it can. Returns the briefs (in input order)
    and how many came from the cache. Workers take articles one at a time, so the budget
    is checked right before each new article is sent (a run overshoots by at most the
    articles already in flight)."""
    import asyncio

    results: list[tuple[Document, BaseModel] | None] = [None] * len(docs)
    registry = registry_for(settings)
    keys = {k: cache_key(settings, k) for k in set(kind_of.values())}
    queue = list(enumerate(docs))
    done = hits = 0

    async def worker() -> None:
        nonlocal done, hits
        while queue:
            i, doc = queue.pop(0)
            name = doc.url or doc.path or doc.title or doc.sha256[:12]
            try:
                kind = kind_of[doc.sha256]
                key = keys[kind]
                cached = await asyncio.to_thread(store.get_extraction, doc.sha256, key)
                if cached is not None:
                    output = registry.get(kind).output_model.model_validate_json(cached)
                    results[i] = (doc, output)
                    hits += 1
                elif hold is None and budget.exhausted():
                    failures.append(SourceFailure(source=name, error=_OVER_BUDGET))
                elif remote is not None:  # a worker briefs and stores it
                    output_model = registry.get(kind).output_model
                    results[i] = (doc, await remote.brief(doc, kind, key, output_model))
                else:
                    brief = await brief_document(doc, settings, llm=llm, kind=kind)
                    # Stored at once: a run killed after this line never pays for it again.
                    await asyncio.to_thread(store.put_document, doc)
                    await asyncio.to_thread(
                        store.put_extraction, doc.sha256, key, brief.model_dump_json()
                    )
                    results[i] = (doc, brief)
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
                failures.append(_failure(name, str(exc)))
            done += 1
            if on_article:
                on_article(done, len(docs))

    # On workers, every article is queued at once: the workers' own limits pace them.
    slots = len(docs) if remote is not None else min(settings.concurrency, len(docs))
    await asyncio.gather(*(worker() for _ in range(slots or 1)))
    return [r for r in results if r is not None], hits


async def _reduce(
    briefs: Sequence[tuple[Document, Brief]], copies: dict[str, list[Document]],
    settings: Settings, store: Store, key: str, llm: LLM, failures: list[SourceFailure],
    story_kind: str = "story", day: str | None = None, cfg: DailyConfig | None = None,
) -> list[Brief]:  # fmt: skip
    import asyncio

    groups = stories.group_stories([story_text(b) for _, b in briefs])
    # Stories that continue an earlier run's (daily/follow.py): decided before synthesis.
    plans = (
        await asyncio.to_thread(
            follow.plan, store, [[briefs[i][1] for i in g] for g in groups], day, cfg.continuity
        )
        if day is not None and cfg is not None
        else [follow.Plan() for _ in groups]
    )

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
        except SummarizerError as exc:
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


def story_text(b: Brief) -> str:
    return continuity.story_text(b)


def _with_copies(output: BaseModel, copies: list[Document]) -> BaseModel:
    """An output that stands alone lists its near-copies as sources, like a story does."""
    if not copies:
        return output
    sources = list(getattr(output, "sources", []))
    extra = [make_source(c, f"S{n}", duplicate_of="S1") for n, c in enumerate(copies, 2)]
    return output.model_copy(update={"sources": [*sources, *extra]})


def _write(daily: DailyBrief, cfg: DailyConfig) -> list[Path]:
    from summarizer.render import render_daily
    from summarizer.render.formats import get_format

    paths = []
    for fmt in cfg.formats:
        path = cfg.out_dir / f"{daily.date}{get_format(fmt).extension}"
        write_text(path, render_daily(daily, fmt))
        paths.append(path)
    return paths
