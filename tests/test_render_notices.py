"""What every renderer says about a brief: worded once (render/notices.py), and true."""

from __future__ import annotations

import ast
from pathlib import Path

import summarizer.render as render_pkg
from summarizer.render import FORMATS, notices, render, render_one
from summarizer.render.formats import NAMES

RENDER = Path(render_pkg.__file__).parent
FORMAT_MODULES = ("markdown", "html", "slack")


def _imports(module: str) -> set[str]:
    tree = ast.parse((RENDER / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_no_renderer_imports_another() -> None:
    # Imports inside functions count: the old cycle (generic <-> markdown/html/slack) hid there.
    for module in (*FORMAT_MODULES, "generic"):
        imported = _imports(module)
        others = {f"summarizer.render.{m}" for m in FORMAT_MODULES if m != module}
        assert not imported & others, (module, imported & others)


def test_every_format_has_a_writer_from_the_one_table() -> None:
    from tests.test_render_html_slack import make_brief

    b = make_brief(rows=1)
    assert tuple(FORMATS) == NAMES
    for name in NAMES:
        assert render([b], name)
        assert render_one(b, name)


def test_the_api_offers_the_formats_of_the_table() -> None:
    from typing import get_args

    from summarizer.service.app import FormatQuery

    (literal, _query) = get_args(FormatQuery)
    assert set(get_args(literal)) == set(NAMES)


def test_days_are_counted_in_words() -> None:
    assert notices.days(1) == "1 day"
    assert notices.days(2) == "2 days"
    assert notices.days(0) == "0 days"
