"""One daily run: collect, collapse copies, brief each article (map), group into stories,
synthesize each story (reduce), store, write, deliver.

Safe to repeat and to schedule:
- a lock file in the output directory stops two overlapping runs;
- per-article and per-story results are cached in the store under a key of everything
  that shapes them (prompt versions, model, mode, language, grounding), so a re-run of
  the same day makes no LLM call for what it has already done, and a run killed half-way
  resumes from what it finished;
- delivery is claimed in the store before sending, so a brief is never posted twice
  (unless forced), even when the run that sent it was killed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from summarizer import pricing, prompting, stories
from summarizer.atomic import write_text
from summarizer.config import Settings
from summarizer.daily.collect import collect
from summarizer.daily.config import DailyConfig
from summarizer.errors import ConfigError, RunError, SummarizerError, UserError
from summarizer.ingest import Document
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.pipeline import brief_document, synthesize
from summarizer.schemas import SCHEMA_VERSION, Brief, DailyBrief, DailyProvenance, SourceFailure
from summarizer.store import Store

log = logging.getLogger("summarizer.daily")

EXIT_PARTIAL = 9


class LockedError(UserError):
    exit_code = 10


class NothingBriefedError(RunError):
    """Every source or article failed: there is no brief to write."""

    exit_code = 11


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


def cache_key(settings: Settings) -> str:
    """Everything that shapes an article's or story's brief; nothing that does not."""
    parts = {
        "schema": SCHEMA_VERSION,
        "prompts": {p.name: p.version for p in prompting.list_prompts()},
        "model": settings.model,
        "mode": settings.mode,
        "language": settings.language,
        "grounding": settings.grounding,
        "chunk": settings.max_article_tokens,
    }
    if settings.system_prompt != "system":  # only when set, so existing caches stay valid
        parts["system_prompt"] = settings.system_prompt
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


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

    def spent(self) -> float:
        # Priced even when replayed, so a budget behaves the same on replay as it did live.
        log, model = self.log, self.settings.model
        return pricing.cost_usd(model, log.tokens_in, log.tokens_out, log.cached_tokens) or 0.0

    def exhausted(self) -> bool:
        tokens = self.log.tokens_in + self.log.tokens_out
        if self.cfg.max_tokens is not None and tokens >= self.cfg.max_tokens:
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
    run_id = store.start_run("daily", day, {"sources": cfg.sources, "since": since.isoformat()})
    try:
        result = await _run(cfg, settings, store, run_id, day, since, now, force, on_article)
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
    key = cache_key(settings)
    with calls.collecting() as run_log:
        budget = _Budget(cfg, settings, run_log)
        loaded = await collect(
            cfg.sources,
            since=since,
            feed_entries=cfg.feed_entries,
            max_bytes=settings.max_input_bytes,
            page_bytes=settings.max_page_bytes,
        )
        failures = [_failure(s, e) for s, e in loaded.failures]
        unique = list({d.sha256: d for d in _newest_first(loaded.documents)}.values())
        found = len(unique)
        chosen = unique[: cfg.max_articles]
        # Wire copies are collapsed before any call: the copy is listed, never briefed.
        groups = stories.near_copies([d.text for d in chosen])
        canon = [chosen[g[0]] for g in groups]
        copies = {chosen[g[0]].sha256: [chosen[i] for i in g[1:]] for g in groups}

        # Lazy: a run answered entirely from the store never pays for importing openai.
        llm = LLM(settings, lazy=True)
        try:
            briefs, hits = await _map(
                canon, settings, store, key, llm, budget, failures, on_article
            )
            story_briefs = await _reduce(briefs, copies, settings, store, key, llm, failures)
        finally:
            await llm.aclose()
        daily = DailyBrief(
            date=day,
            window_start=since,
            window_end=now,
            stories=story_briefs,
            failures=failures,
            provenance=DailyProvenance(
                created_at=datetime.now(UTC),
                models=[settings.model],
                articles_found=found,
                articles_briefed=len(briefs) + sum(len(copies[d.sha256]) for d, _ in briefs),
                tokens_in=run_log.tokens_in,
                tokens_out=run_log.tokens_out,
                cached_tokens=run_log.cached_tokens,
                llm_calls=len(run_log.records),
                cost_usd=run_log.cost_usd(settings.model),
                replayed=run_log.replayed or hits > 0,
                fixture=run_log.fixture or any(b.provenance.fixture for b in story_briefs),
                stopped_by_budget=budget.hit,
            ),
        )
    # The calls were paid for whether or not anything came of them.
    store.record_calls(run_id, run_log.records, pricing.cost_usd)
    if briefs == [] and (failures or found):
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


async def _map(
    docs: Sequence[Document], settings: Settings, store: Store, key: str, llm: LLM,
    budget: _Budget, failures: list[SourceFailure],
    on_article: Callable[[int, int], None] | None,
) -> tuple[list[tuple[Document, Brief]], int]:  # fmt: skip
    """Brief each article, from the cache where it can. Returns the briefs (in input order)
    and how many came from the cache. Workers take articles one at a time, so the budget
    is checked right before each new article is sent (a run overshoots by at most the
    articles already in flight)."""
    import asyncio

    results: list[tuple[Document, Brief] | None] = [None] * len(docs)
    queue = list(enumerate(docs))
    done = hits = 0

    async def worker() -> None:
        nonlocal done, hits
        while queue:
            i, doc = queue.pop(0)
            name = doc.url or doc.path or doc.title or doc.sha256[:12]
            try:
                cached = store.get_extraction(doc.sha256, key)
                if cached is not None:
                    results[i] = (doc, Brief.model_validate_json(cached))
                    hits += 1
                elif budget.exhausted():
                    failures.append(
                        SourceFailure(
                            source=name, error="skipped: the run's cost or token budget was reached"
                        )
                    )
                else:
                    brief = await brief_document(doc, settings, llm=llm)
                    # Stored at once: a run killed after this line never pays for it again.
                    store.put_document(doc)
                    store.put_extraction(doc.sha256, key, brief.model_dump_json())
                    results[i] = (doc, brief)
            except SummarizerError as exc:
                log.debug("article failed: %s: %s", name, exc)
                failures.append(_failure(name, str(exc)))
            done += 1
            if on_article:
                on_article(done, len(docs))

    await asyncio.gather(*(worker() for _ in range(min(settings.concurrency, len(docs)) or 1)))
    return [r for r in results if r is not None], hits


async def _reduce(
    briefs: Sequence[tuple[Document, Brief]], copies: dict[str, list[Document]],
    settings: Settings, store: Store, key: str, llm: LLM, failures: list[SourceFailure],
) -> list[Brief]:  # fmt: skip
    import asyncio

    def story_text(b: Brief) -> str:
        actors = " ".join(f"{r.actor} {r.issue}" for r in b.stances)
        return f"{b.title}. {b.summary} {' '.join(b.key_points)} {actors}"

    groups = stories.group_stories([story_text(b) for _, b in briefs])

    async def one(group: list[int]) -> list[Brief]:
        items = [briefs[i] for i in group]
        extra = [(c, n) for n, (d, _) in enumerate(items) for c in copies.get(d.sha256, [])]
        if len(items) == 1:
            return [await synthesize(items, settings, llm=llm, copies=extra)]
        story_sha = hashlib.sha256("".join(sorted(d.sha256 for d, _ in items)).encode()).hexdigest()
        cached = store.get_extraction(story_sha, key)
        if cached is not None:
            return [Brief.model_validate_json(cached)]
        try:
            brief = await synthesize(items, settings, llm=llm, copies=extra)
        except SummarizerError as exc:
            # The articles are still worth showing: each as its own story, with the reason.
            names = ", ".join(d.url or d.path or d.sha256[:12] for d, _ in items)
            failures.append(
                SourceFailure(source=f"story of {names}", error=f"not synthesized: {exc}")
            )
            return [b for _, b in items]
        store.put_extraction(story_sha, key, brief.model_dump_json())
        return [brief]

    out: list[Brief] = []
    for part in await asyncio.gather(*(one(g) for g in groups)):
        out += part
    # Biggest stories first: more outlets covering it means it matters more today.
    return sorted(out, key=lambda b: -len(b.sources))


def _write(daily: DailyBrief, cfg: DailyConfig) -> list[Path]:
    from summarizer.render import render_daily

    paths = []
    for fmt in cfg.formats:
        path = cfg.out_dir / f"{daily.date}.{fmt}"
        write_text(path, render_daily(daily, fmt))
        paths.append(path)
    return paths
