"""`pip install .` must give a working command with the prompts inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_ships_the_prompts(tmp_path: Path) -> None:
    # --no-build-isolation: hatchling comes from the dev extras, so this needs no index.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(tmp_path.glob("summarizer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "summarizer/prompts/brief.j2" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    assert not any(n.startswith(("tests/", "seeds/")) for n in names)
