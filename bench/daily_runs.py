"""Daily runs against the loopback test server: throughput, rate limits, cache, tokens,
memory, and injected faults.

Each run is `summarizer daily` as a child process (wall time and its own peak RSS), with
generated articles (articles.py) in a temporary directory, a fresh store and output
directory, and FakeOpenAI in this process counting what it is asked. Calls are counted on
the server, so every attempt counts: map (one per article), reduce (one per story of
several articles), reasks and retries.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import articles
from common import SUMMARIZER, Child, Figure, child_env, median, run_child

from summarizer.llm import tokens
from summarizer.testing.openai_server import FakeOpenAI, articles_in

DATE = "2026-11-25"
CONCURRENCY = 16
LATENCY = 0.5


@dataclass
class Workspace:
    home: Path
    sources: Path
    texts: list[str]

    def cmd(self, base_url: str, *extra: str, concurrency: int = CONCURRENCY) -> list[str]:
        return [
            SUMMARIZER, "daily", "-s", str(self.sources), "--base-url", base_url,
            "--concurrency", str(concurrency), "--store", str(self.home / "store.db"),
            "--out-dir", str(self.home / "out"), "--date", DATE,
            "--max-articles", str(len(self.texts)), *extra,
        ]  # fmt: skip

    def daily_json(self) -> dict[str, Any]:
        path = self.home / "out" / f"{DATE}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@contextmanager
def workspace(n: int) -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-") as tmp:
        home = Path(tmp)
        texts = articles.write(home / "articles", n)
        yield Workspace(home, home / "articles", texts)


def _failed(name: str, budget: str, child: Child) -> Figure:
    last = child.stderr.strip().splitlines()[-1:] or ["no output"]
    return Figure(name, f"run failed (exit {child.returncode}): {last[0][:120]}", budget, False)


def _tok(obj: Any) -> int:
    return tokens.estimate(
        obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    )


def _json_escaped(text: str) -> int:
    """Tokens of a text as it sits inside a JSON request body (newlines escaped)."""
    return tokens.estimate(json.dumps(text, ensure_ascii=False)[1:-1])


def _is_story_call(request: dict[str, Any]) -> bool:
    """The story prompt sends each article's brief as JSON notes; the brief prompt, text."""
    docs = articles_in(request)
    try:
        return bool(docs) and all(isinstance(json.loads(t), dict) for t in docs.values())
    except ValueError:
        return False


def token_figures(requests: list[dict[str, Any]], completions: list[str]) -> list[Figure]:
    extra: list[int] = []  # per extraction call: everything in the request but the article
    article_tokens: dict[str, int] = {}
    for req in requests:
        if _is_story_call(req):
            continue
        docs = articles_in(req)
        extra.append(_tok(req) - sum(_json_escaped(t) for t in docs.values()))
        for text in docs.values():
            article_tokens[text] = tokens.estimate(text)
    total = sum(_tok(r) for r in requests) + sum(tokens.estimate(c) for c in completions)
    articles_total = sum(article_tokens.values())
    ratio = total / articles_total if articles_total else math.inf
    worst = max(extra, default=0)
    return [
        Figure(
            "tokens: non-article prompt tokens per extraction call",
            f"{worst:,} max, {median(extra) if extra else 0:,.0f} median "
            f"({len(extra)} calls; whole request body incl. tool schema)",
            "<= 1,500 per call",
            worst <= 1500,
        ),
        Figure(
            "tokens: run total / article tokens",
            f"{ratio:.2f} ({total:,} tokens in requests and completions / "
            f"{articles_total:,} in the {len(article_tokens)} articles sent)",
            "<= 1.6",
            ratio <= 1.6,
        ),
    ]


def throughput_and_cache(n: int = 200, reps: int = 3) -> list[Figure]:
    """The 200-article run at concurrency 16 against 0.5 s answers, then the same run
    again over the same store: repeated `reps` times, medians reported."""
    walls, ideals, phases, cache_walls, cache_calls, calls_made = [], [], [], [], [], []
    tok: list[Figure] = []
    name = "throughput"
    budget = "<= 1.15 x ideal"
    for rep in range(reps):
        with workspace(n) as ws, FakeOpenAI(latency=LATENCY) as server:
            env = child_env(ws.home)
            first = run_child(ws.cmd(server.base_url), env)
            if first.returncode != 0:
                return [_failed(name, budget, first)]
            calls = len(server.requests)
            times = list(server.request_times)
            calls_made.append(calls)
            walls.append(first.wall)
            ideals.append(calls / CONCURRENCY * LATENCY)
            phases.append(max(times) + LATENCY - min(times))
            if rep == 0:
                tok = token_figures(list(server.requests), list(server.completions))
            second = run_child(ws.cmd(server.base_url), env)
            if second.returncode != 0:
                return [_failed("cache", "zero calls", second)]
            cache_calls.append(len(server.requests) - calls)
            cache_walls.append(second.wall)
    wall, ideal, phase = median(walls), median(ideals), median(phases)
    calls = int(median(calls_made))
    # The least the design allows: every map call, then (after grouping) every story call,
    # each wave in rounds of CONCURRENCY.
    story_calls = calls - (n - _near_copies(n))
    floor = (
        math.ceil((calls - story_calls) / CONCURRENCY) + math.ceil(story_calls / CONCURRENCY)
    ) * LATENCY
    cache_ratio = median([c / w for c, w in zip(cache_walls, walls, strict=True)])
    return [
        Figure(
            "throughput: whole process",
            f"{wall:.2f} s = {wall / ideal:.2f} x ideal {ideal:.2f} s "
            f"({calls} calls, median of {reps})",
            budget,
            wall / ideal <= 1.15,
        ),
        Figure(
            "throughput: LLM phase (first request to last answer)",
            f"{phase:.2f} s = {phase / ideal:.2f} x ideal; map-then-reduce floor "
            f"{floor:.2f} s = {floor / ideal:.2f} x",
            "(info)",
            None,
        ),
        *tok,
        Figure(
            "cache: LLM calls in a second run",
            f"{max(cache_calls)} (max of {reps})",
            "0",
            max(cache_calls) == 0,
        ),
        Figure(
            "cache: second run wall / first",
            f"{cache_ratio:.1%} ({median(cache_walls):.2f} s / {wall:.2f} s, median of {reps})",
            "<= 10%",
            cache_ratio <= 0.10,
        ),
    ]


def _near_copies(n: int) -> int:
    from summarizer.stories.clusters import near_copies

    groups = near_copies(articles.generate(n))
    return sum(len(g) - 1 for g in groups)


def rate_limits(n: int = 200, limit: int = 40, window: float = 5.0) -> list[Figure]:
    """The same run, the server enforcing `limit` requests per `window` seconds with 429s
    above it, and the client told the same limit (--rpm, SUMMARIZER_RATE_WINDOW).

    Throughput is the fraction of the limit achieved: any limit+1 consecutive requests
    span at least one window, so N requests need floor((N-1)/limit) windows between the
    first and the last; that least span over the span the run took."""
    budget = "0 429s; >= 90% of the limit"
    with workspace(n) as ws, FakeOpenAI(latency=LATENCY, rpm_limit=limit, window=window) as server:
        env = child_env(ws.home, SUMMARIZER_RATE_WINDOW=str(window))
        child = run_child(ws.cmd(server.base_url, "--rpm", str(limit)), env)
        if child.returncode != 0:
            return [_failed("rate limits", budget, child)]
        times = sorted(server.request_times)
        limited = server.status_counts.get(429, 0)
    span = times[-1] - times[0]
    least = (len(times) - 1) // limit * window
    achieved = least / span if span else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    return [
        Figure(
            "rate limits: 429s provoked",
            f"{limited} ({len(times)} requests, limit {limit} per {window:g} s)",
            "0",
            limited == 0,
        ),
        Figure(
            "rate limits: throughput / limit",
            f"{achieved:.1%} ({rate:.2f} req/s over {span:.1f} s; limit {limit / window:.2f}/s)",
            ">= 90%",
            achieved >= 0.90,
        ),
    ]


def memory(n: int = 1000) -> list[Figure]:
    """A run over 1,000 articles, the server answering at once: peak RSS of the process."""
    budget = "<= 300 MB"
    with workspace(n) as ws, FakeOpenAI(latency=0.0) as server:
        child = run_child(ws.cmd(server.base_url), child_env(ws.home))
        if child.returncode != 0:
            return [_failed("memory", budget, child)]
        briefed = ws.daily_json().get("provenance", {}).get("articles_briefed")
        calls = len(server.requests)
    return [
        Figure(
            "memory: peak RSS, 1,000 articles",
            f"{child.max_rss_mb:.0f} MB ({briefed} articles briefed, {calls} calls, "
            f"{child.wall:.1f} s)",
            budget,
            child.max_rss_mb <= 300,
        )
    ]


def faults(n: int = 200, rate_429: float = 0.03, rate_500: float = 0.03) -> list[Figure]:
    """The server answers a random 3% of calls with 429 and 3% with 500 (seeded): every
    article must still be briefed, through the SDK's retries."""
    with (
        workspace(n) as ws,
        FakeOpenAI(latency=0.1, fail_rates={429: rate_429, 500: rate_500}, seed=5) as server,
    ):
        child = run_child(ws.cmd(server.base_url), child_env(ws.home))
        prov = ws.daily_json().get("provenance", {})
        injected = dict(server.injected)
    briefed, found = prov.get("articles_briefed"), prov.get("articles_found")
    return [
        Figure(
            "faults: 3% 429 + 3% 500 injected",
            f"exit {child.returncode}, {briefed}/{found} articles briefed, "
            f"{sum(injected.values())} failures injected {injected}, {child.wall:.1f} s",
            "(info) all briefed",
            None if child.returncode == 0 and briefed == found else False,
        )
    ]


if __name__ == "__main__":
    for fig in throughput_and_cache(reps=1) + rate_limits() + memory() + faults():
        print(fig.name, "|", fig.value, "|", fig.budget, "|", fig.verdict)
