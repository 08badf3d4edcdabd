"""One daily run: collect, collapse copies, brief each article (map), group into stories,
synthesize each story (reduce; both steps in daily/steps.py), store, write, deliver.

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
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from summarizer.config import Settings
from summarizer.core.kinds import registry_for
from summarizer.core.pipeline import provenance_of
from summarizer.core.schemas import Brief, DailyBrief, DailyProvenance, LeftOut, SourceFailure
from summarizer.daily.config import DailyConfig
from summarizer.daily.steps import Budget, Steps, failure
from summarizer.errors import (
    EXIT_PARTIAL,
    BatchPending,
    ConfigError,
    LockedError,
    NothingBriefedError,
)
from summarizer.llm import calls, pricing
from summarizer.plumbing.atomic import write_text
from summarizer.plumbing.concurrency import gather_or_cancel
from summarizer.sources.ingest import Document
from summarizer.sources.loader import Loader
from summarizer.store import Store
from summarizer.stories import clusters

log = logging.getLogger("summarizer.daily")


def _run_cost(
    run_log: calls.CallLog, model: str, w_calls: int, w_in: int | None, w_out: int | None
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


def _newest_first(docs: Sequence[Document]) -> list[Document]:
    # Undated articles (files) after dated ones; ties keep the sources' order.
    return sorted(docs, key=lambda d: -d.published.timestamp() if d.published else float("inf"))


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
            except (asyncio.CancelledError, KeyboardInterrupt):
                # Stopped from outside (SIGTERM, SIGINT: cli/edge.py cancels the run): the
                # articles briefed so far are in the store already, for the rerun.
                store.finish_run(run_id, "interrupted", error="stopped by a signal")
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
        budget = Budget(cfg, settings, run_log)
        # Sources are collected per kind, so each article knows what to make of it; one
        # loader (one HTTP client, one extraction pool) serves every kind.
        kind_of: dict[str, str] = {}
        failures: list[SourceFailure] = []
        documents: list[Document] = []
        origin: dict[int, str] = {}  # id(document) -> the source that gave it
        left_out: list[LeftOut] = []
        async with Loader.from_settings(
            settings, since=since, feed_entries=cfg.feed_entries
        ) as loader:
            for kind in kinds:
                group = [s for s in cfg.sources if cfg.kinds.get(s, settings.kind) == kind]
                if not group:
                    continue
                # One source at a time through sources() (which reports, never raises), all
                # at once: each document keeps the source it came from, for "Not included".
                results = await gather_or_cancel(loader.sources([s]) for s in group)
                for source, loaded in zip(group, results, strict=True):
                    failures += [failure(s, e) for s, e in loaded.failures]
                    left_out += [LeftOut(source=x.source, reason=x.reason, count=x.entries)
                                 for x in loaded.left_out]  # fmt: skip
                    for d in loaded.documents:
                        kind_of.setdefault(d.sha256, kind)
                        origin[id(d)] = source
                    documents += loaded.documents
        unique: dict[str, Document] = {}
        copies_of: dict[str, int] = {}
        for d in _newest_first(documents):
            if d.sha256 in unique:
                # The same text again (one page under two links, or in two feeds): briefed once.
                copies_of[origin[id(d)]] = copies_of.get(origin[id(d)], 0) + 1
            else:
                unique[d.sha256] = d
        left_out += [
            LeftOut(source=src, reason="the same article as another entry (same text)", count=n)
            for src, n in copies_of.items()
        ]
        found = len(unique)
        chosen = list(unique.values())[: cfg.max_articles]
        if found > len(chosen):
            left_out.append(
                LeftOut(
                    source="this run",
                    reason=f"past max_articles ({cfg.max_articles}; the newest are kept)",
                    count=found - len(chosen),
                )
            )
        # Wire copies are collapsed before any call: the copy is listed, never briefed.
        groups = clusters.near_copies([d.text for d in chosen])
        canon = [chosen[g[0]] for g in groups]
        copies = {chosen[g[0]].sha256: [chosen[i] for i in g[1:]] for g in groups}
        gave = {origin[id(d)] for d in documents}
        empty = {s for s in cfg.sources if s not in gave}

        steps = Steps(canon, kind_of, kinds, copies, settings, store, budget, on_article, day, cfg)
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
            # (An article's calls are kept with it already: briefing/keep.py.)
            kept = {id(r) for r in steps.recorded}
            store.record_calls(
                run_id,
                [r for r in run_log.records if not r.prepaid and id(r) not in kept],
                pricing.cost_usd,
            )
        assert done is not None, "a live run holds nothing for a batch"
        made, hits, story_briefs, outputs, failures = done
        failures = [_for_reader(f, empty) for f in failures]
        briefed = [d for d, _ in made] + [c for d, _ in made for c in copies[d.sha256]]
        dates = [d.published.astimezone(UTC) for d in briefed if d.published is not None]
        w_calls, w_in, w_out = spent or (0, 0, 0)
        # This run's spending: its own calls (not answers it had paid for already), what
        # its collected batches cost, and what workers spent for it.
        paid = calls.CallLog([r for r in run_log.records if not r.prepaid] + charged)
        tokens_in, tokens_out = (
            (paid.tokens_in + w_in, paid.tokens_out + w_out)
            if paid.usage_known and w_in is not None and w_out is not None
            else (None, None)  # a call without usage: unknown, never counted as 0
        )
        daily = DailyBrief(
            date=day,
            window_start=since,
            window_end=now,
            stories=story_briefs,
            outputs=[o.model_dump(mode="json") for o in outputs],
            failures=failures,
            left_out=left_out,
            provenance=DailyProvenance(
                created_at=datetime.now(UTC),
                models=[settings.model],
                articles_found=found,
                articles_briefed=len(briefed),
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
                published_first=min(dates, default=None),
                published_last=max(dates, default=None),
                articles_undated=len(briefed) - len(dates),
            ),
        )
    if not made:
        from summarizer.render.notices import plural

        # Nothing briefed is never a brief, however it came about: no file, exit 11.
        raise NothingBriefedError(
            f"no article could be briefed ({plural(len(failures), 'failure')}, first: "
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
            story_url=cfg.story_url(),
        )
        if warning:
            result.warnings.append(warning)
    return result


def _for_reader(f: SourceFailure, empty: set[str]) -> SourceFailure:
    """A failure as the reader sees it: what failed (a source given to the run that gave
    nothing, one article, or a story step), in one plain sentence; the full message stays
    in `detail` for the operator (the JSON and the log)."""
    from summarizer.render.notices import reader_error

    if f.source.startswith("story "):
        stage: Literal["source", "article", "story"] = "story"
    elif f.source in empty:
        stage = "source"
    else:
        stage = "article"
    lead, sep, rest = f.error.partition(": ")
    plain = (
        f"{lead}: {reader_error(rest)}"
        if sep and lead in ("not synthesized", "what changed not made")
        else reader_error(f.error)
    )
    detail = f.detail or (f.error if plain != f.error else None)
    return f.model_copy(update={"stage": stage, "error": plain, "detail": detail})


def _write(daily: DailyBrief, cfg: DailyConfig) -> list[Path]:
    from summarizer.render import render_daily
    from summarizer.render.formats import get_format

    paths = []
    for fmt in cfg.formats:
        path = cfg.out_dir / f"{daily.date}{get_format(fmt).extension}"
        write_text(path, render_daily(daily, fmt, story_url=cfg.story_url()))
        paths.append(path)
    return paths
