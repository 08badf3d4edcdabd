"""Run every benchmark and print one table: figure, value, budget, pass or MISS.

    bench/run                  everything (a couple of minutes on 2 cores)
    bench/run --only startup   one group: startup, overhead, daily, rates, memory, faults,
                               shared, service, extraction, cost, continuity
    bench/run --markdown       the table as Markdown too (for the README)

Offline: the model is the loopback test server (summarizer.testing.openai_server) or an
in-process transport. Exit status 1 when any figure misses its budget, so it can serve as
a gate by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable

import continuity
import cost
import daily_runs
import extraction
import overhead
import service_briefs
import service_latency
import shared
import startup
from common import Figure

GROUPS: dict[str, Callable[[], list[Figure]]] = {
    "startup": startup.figures,
    "overhead": overhead.figures,
    "daily": daily_runs.throughput_and_cache,
    "rates": daily_runs.rate_limits,
    "memory": daily_runs.memory,
    "faults": daily_runs.faults,
    "shared": shared.figures,
    "continuity": continuity.figures,
    "service": lambda: service_latency.figures() + service_briefs.figures(),
    "extraction": extraction.figures,
    "cost": cost.figures,
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {cpu}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"{datetime.date.today().isoformat()}"
    )


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "budget", "result")]
    rows += [(f.name, f.value, f.budget, f.verdict) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[3])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ------")
    return "\n".join(lines)


def markdown(figures: list[Figure]) -> str:
    lines = ["| figure | value | budget | result |", "| --- | --- | --- | --- |"]
    for f in figures:
        lines.append(f"| {f.name} | {f.value} | {f.budget} | {f.verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(GROUPS), help="run one group")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    chosen = args.only or list(GROUPS)
    figures: list[Figure] = []
    started = time.perf_counter()
    for name in chosen:
        t = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures += GROUPS[name]()
        print(f"  {name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    print(f"machine: {machine()}")
    print(f"bench took {time.perf_counter() - started:.0f} s\n")
    print(table(figures))
    if args.markdown:
        print("\n" + markdown(figures))
    missed = [f.name for f in figures if f.ok is False]
    if missed:
        print(f"\n{len(missed)} figure(s) missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
