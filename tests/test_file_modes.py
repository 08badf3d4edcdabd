"""Output files get the mode any other tool would give them: the umask decides, not us."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from summarizer.plumbing.atomic import write_text
from tests.conftest import ROOT, SEED_ARTICLE, SEEDS


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_under_umask(umask: int, args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    # The umask is per process: set it in the child, never in the test process.
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run(
        ["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", sys.executable, "-m", "summarizer",
         *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_brief_output_respects_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    out = tmp_path / "brief.md"
    r = _run_under_umask(
        umask,
        ["brief", str(SEED_ARTICLE), "--replay", str(SEEDS / "recordings"), "-o", str(out)],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert _mode(out) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no leftovers


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_daily_outputs_respect_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    out = tmp_path / "out"
    r = _run_under_umask(
        umask,
        ["daily", "-s", str(SEEDS / "daily"), "--replay", str(SEEDS / "recordings"),
         "--out-dir", str(out), "--store", str(tmp_path / "s.db"), "--date", "2026-11-25"],
        tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("2026-11-25.*"))
    assert [p.suffix for p in files] == [".html", ".json", ".md"]
    assert {p.name: _mode(p) for p in files} == {p.name: expected for p in files}


def test_replacing_a_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("old")
    path.chmod(0o640)
    write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "brief.md"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "bad \udcff surrogate")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["brief.md"]
