"""`pip install .` must give a working command with the prompts inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_ships_the_prompts_and_types(tmp_path: Path) -> None:
    # --no-build-isolation: hatchling comes from the dev extras, so this needs no index.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(tmp_path.glob("summarizer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    # Every top-level template, at the place prompting.builtin_dir() looks in a wheel.
    for template in sorted((ROOT / "prompts").glob("*.j2")):
        assert f"summarizer/prompts/{template.name}" in names
    assert "summarizer/py.typed" in names
    # The place names and word frequencies story matching reads offline (names.py).
    assert {
        "summarizer/stories/data/place_names.tsv.gz",
        "summarizer/stories/data/word_frequencies.tsv.gz",
    } <= set(names)
    assert any(n.endswith("entry_points.txt") for n in names)
    assert not any(n.startswith(("tests/", "seeds/", "prompts/")) for n in names)
    # The version is written once (summarizer/__init__.py) and reaches the metadata.
    from summarizer import __version__

    assert wheel.name.startswith(f"summarizer-{__version__}-")


def test_installed_wheel_finds_its_prompts(tmp_path: Path) -> None:
    """Unpacked as an installed wheel is (no checkout next to it), the package finds the
    templates inside itself."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path / "w"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next((tmp_path / "w").glob("summarizer-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import summarizer.core.prompting as p; d = p.builtin_dir(); "
        "assert str(d).startswith(sys.argv[1]), d; "
        "print(sorted(x.name for x in p.list_prompts()))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code, str(site)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "['brief', 'continuation', 'link', 'story', 'timeline']"
