"""Renderers: one function per output format, all from the same Brief."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from summarizer.render.markdown import to_markdown
from summarizer.schemas import Brief

Format = Literal["md", "json"]
FORMATS: tuple[str, ...] = ("md", "json")


def to_json(briefs: Sequence[Brief]) -> str:
    """One brief as an object; several as an array, in input order."""
    if len(briefs) == 1:
        return briefs[0].model_dump_json(indent=2) + "\n"
    return (
        json.dumps([b.model_dump(mode="json") for b in briefs], indent=2, ensure_ascii=False) + "\n"
    )


def render(briefs: Sequence[Brief], fmt: str) -> str:
    if fmt == "md":
        return "\n---\n\n".join(to_markdown(b) for b in briefs)
    if fmt == "json":
        return to_json(briefs)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "Format", "render", "to_json", "to_markdown"]
