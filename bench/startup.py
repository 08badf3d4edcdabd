"""Whole-process start-up: `summarizer --help`, and one offline brief from the seed recordings
against a bare `import openai, instructor` in the same interpreter (what any client of the
two SDKs pays before its first call; the brief should add little to it)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import SEED_ARTICLE, SEED_RECORDINGS, SUMMARIZER, Figure, child_env, median, run_child

BUDGET_RATIO = 1.3  # the offline brief over the bare SDK import (issue 20.16)


def _timed(cmd: list[str], runs: int) -> tuple[list[float], str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env(Path(tmp))
        warm = run_child(cmd, env)  # compiles .pyc files once, as any installed run would have
        if warm.returncode != 0:
            return [], warm.stderr.strip().splitlines()[-1] if warm.stderr.strip() else "failed"
        return [run_child(cmd, env).wall for _ in range(runs)], ""


def figures(runs: int = 10) -> list[Figure]:
    out = []
    times, error = _timed([SUMMARIZER, "--help"], runs)
    if error:
        out.append(Figure("CLI cold start", f"failed: {error}", "<= 0.25 s", False))
    else:
        t = median(times)
        out.append(
            Figure(
                "CLI cold start",
                f"{t:.3f} s median of {runs} (`summarizer --help`)",
                "<= 0.25 s",
                t <= 0.25,
            )
        )
    cmd = [SUMMARIZER, "brief", str(SEED_ARTICLE), "--replay", str(SEED_RECORDINGS)]
    bare_cmd = [sys.executable, "-c", "import openai, instructor"]
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env(Path(tmp))
        warm = [run_child(cmd, env), run_child(bare_cmd, env)]  # .pyc files written once
        failed = next((c for c in warm if c.returncode != 0), None)
        if failed is not None:
            error = failed.stderr.strip().splitlines()[-1] if failed.stderr.strip() else "failed"
            out.append(Figure("offline brief", f"failed: {error}", "<= 1.5 s", False))
            return out
        # Interleaved, so the two see the same load on a shared machine: the ratio is the
        # median of each pair's, and CPU time (this child's own) is shown beside it.
        pairs = [(run_child(cmd, env), run_child(bare_cmd, env)) for _ in range(runs)]
    t = median([p[0].wall for p in pairs])
    ratio = median([p[0].wall / p[1].wall for p in pairs])
    cpu_ratio = median([p[0].cpu for p in pairs]) / median([p[1].cpu for p in pairs])
    out.append(
        Figure(
            "offline brief",
            f"{t:.2f} s median of {runs} (seed article, --replay)",
            "<= 1.5 s",
            t <= 1.5,
        )
    )
    out.append(
        Figure(
            "offline brief over a bare `import openai, instructor`",
            f"{ratio:.2f}x wall (median of {runs} interleaved pairs), {cpu_ratio:.2f}x CPU",
            f"<= {BUDGET_RATIO}x",
            ratio <= BUDGET_RATIO,
        )
    )
    return out


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
