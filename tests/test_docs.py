"""The front page and the docs hold together: every relative link of README.md leads to a
file, and every page under docs/ is in the site's nav (`mkdocs build --strict`, run by
scripts/check, checks the links between pages)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_of_the_readme_resolves() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [link for link in LINK.findall(text) if "://" not in link and not link.startswith("#")]
    assert links, "the README links into docs/"
    missing = [link for link in links if not (ROOT / link.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readme_is_a_front_page() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 300
    assert "bash scripts/demo" in text and "bash scripts/check" in text


def test_every_docs_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    absent = [p for p in pages if not re.search(rf":\s+{re.escape(p)}\s*$", nav, re.MULTILINE)]
    assert not absent, f"docs pages missing from mkdocs.yml's nav: {absent}"


def test_the_two_commands_are_what_the_scripts_do() -> None:
    demo = (ROOT / "scripts" / "demo").read_text(encoding="utf-8")
    check = (ROOT / "scripts" / "check").read_text(encoding="utf-8")
    assert "brief seeds/haftar-turkiye-visit.txt --replay seeds/recordings" in demo
    assert "mkdocs build --strict" in check and ".[dev,docs]" in check
