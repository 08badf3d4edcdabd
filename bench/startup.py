"""Whole-process start-up: `summarizer --help`, and one offline brief from the seed recordings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import SEED_ARTICLE, SEED_RECORDINGS, SUMMARIZER, Figure, child_env, median, run_child


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
    times, error = _timed(cmd, runs)
    if error:
        out.append(Figure("offline brief", f"failed: {error}", "<= 1.5 s", False))
    else:
        t = median(times)
        out.append(
            Figure(
                "offline brief",
                f"{t:.2f} s median of {runs} (seed article, --replay)",
                "<= 1.5 s",
                t <= 1.5,
            )
        )
    return out


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
