"""What every benchmark shares: the figure row, medians, timed child processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = ROOT / "seeds" / "haftar-turkiye-visit.txt"
SEED_RECORDINGS = ROOT / "seeds" / "recordings"
# The console script next to the interpreter running the bench (the project's venv).
SUMMARIZER = str(Path(sys.executable).parent / "summarizer")


@dataclass
class Figure:
    name: str
    value: str
    budget: str
    ok: bool | None  # None: for information, no budget
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "info" if self.ok is None else ("pass" if self.ok else "MISS")


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


@dataclass
class Child:
    returncode: int
    wall: float  # seconds, whole process
    max_rss_mb: float  # peak resident set of this child alone
    cpu: float  # seconds of CPU (user + system) of this child alone
    stdout: str
    stderr: str


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no user config, no key, nothing from the caller's shell
    that could point the child at a real endpoint."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".data"),
        "LANG": "C.UTF-8",
    }
    if os.environ.get("PYTHONPATH"):  # a checkout run in place of the installed package
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


def run_child(cmd: Sequence[str], env: dict[str, str], *, timeout: float = 600) -> Child:
    """Run a command to the end; its wall time and its own peak RSS (wait4, so other
    children of the bench do not count)."""
    out_path = Path(env["HOME"]) / f".child-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=ROOT)
        killer = threading.Timer(timeout, proc.kill)  # bounded: a stuck child is ended
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            returncode=proc.returncode,
            wall=wall,
            max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
            cpu=usage.ru_utime + usage.ru_stime,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
