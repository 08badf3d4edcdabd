"""Briefs as Markdown: readable as plain text, and rendered with rich on a terminal.

Every text from an article, a feed or a model goes through `render.escape` (`_t` for
paragraphs, `_i` for one-line places, `_cell` in tables): no raw HTML, link or image
syntax, and no control characters, reach the reader's viewer or terminal.
"""

from __future__ import annotations

from summarizer.core.schemas import Brief, DailyBrief, Provenance
from summarizer.render import notices
from summarizer.render.escape import markdown as _t
from summarizer.render.escape import markdown_cell as _cell
from summarizer.render.escape import markdown_inline as _i


def _notice(fixture: bool, replayed: bool, calls: int | None = None) -> list[str]:
    said = notices.notice(fixture, replayed, calls)
    if said is None:
        return []
    strong, rest = said
    return [f"> **{strong}** {rest}" if strong else f"> {rest}", ""]


# Kept importable under their old names: the wording now lives in notices.py.
what_changed = notices.what_changed
story_line = notices.story_line


def _body(brief: Brief, h: str) -> list[str]:
    """Everything but the title: `h` is the heading prefix ('##' alone, '###' in a daily)."""
    out: list[str] = []
    if line := notices.story_line(brief):
        out += [f"_{_i(line)}_", ""]
    out += [_t(brief.summary), ""]
    if notices.is_empty(brief):
        out += [f"> **Empty brief.** {notices.EMPTY}", ""]
    if brief.key_points:
        out += [f"{h} Key points", ""] + [f"- {_i(k)}" for k in brief.key_points] + [""]
    out += [f"{h} Stances", ""]
    if brief.stances:
        out += ["| Actor | Issue | Position | Stance | Evidence |", "|---|---|---|---|---|"]
        for row in brief.stances:
            # A bullet before each quote: two quotes stay apart on a terminal too, where
            # rich drops the <br>.
            evidence = "<br>".join(
                f"• “{_cell(e.quote)}” ({_cell(e.source_id)})" for e in row.evidence
            )
            out.append(
                f"| {_cell(row.actor)} | {_cell(row.issue)} | {_cell(row.position)} "
                f"| {row.stance.value} | {evidence} |"
            )
    else:
        out.append("_No attributable positions with verbatim evidence._")
    out.append("")
    if brief.disagreements:
        out += [f"{h} Where sources disagree", ""]
        for d in brief.disagreements:
            out.append(f"- **{_i(d.topic)}** ({d.kind})")
            out += [f"  - {_i(c.source_id)}: {_i(c.claim)} — “{_i(c.quote)}”" for c in d.claims]
        out.append("")
    if brief.story is not None:
        if brief.story.open_questions:
            out += [f"{h} Open questions", ""]
            out += [
                f"- **{_i(q.question)}** ({_i(notices.age(q))})" for q in brief.story.open_questions
            ]
            out.append("")
    elif brief.open_questions:
        out += [f"{h} Open questions", ""]
        for q in brief.open_questions:
            out += [
                f"- **{_i(q.question)}**",
                f"  - Why it matters: {_i(q.why_it_matters)}",
                f"  - What would resolve it: {_i(q.what_would_resolve_it)}",
            ]
        out.append("")
    out += [f"{h} Sources", ""]
    for s in brief.sources:
        name = s.title or s.url or s.path or s.id
        where = s.url or s.path
        line = f"- **{_i(s.id)}**: {_i(name)}"
        if where and where != name:
            line += f" ({_i(where)})"
        if s.duplicate_of:
            line += f" — near-copy of {_i(s.duplicate_of)}"
        out.append(line)
    out.append("")
    return out


def _warnings(p: Provenance) -> str:
    return "".join(f"> **Warning:** {_i(w)}\n\n" for w in p.warnings)


def _footer(p: Provenance) -> str:
    return _warnings(p) + f"<sub>{_i(notices.footer_text(p, kind=False))}</sub>"


def to_markdown(brief: Brief) -> str:
    p = brief.provenance
    out = [f"# {_i(brief.title)}", "", *_notice(p.fixture, p.replayed), *_body(brief, "##")]
    out.append(_footer(p))
    return "\n".join(out) + "\n"


def daily_to_markdown(daily: DailyBrief) -> str:
    p = daily.provenance
    out = [f"# Daily brief — {daily.date}", "", *_notice(p.fixture, p.replayed, p.llm_calls)]
    for line in notices.header_lines(daily):
        out += [_i(line), ""]
    if any(s.story is not None for s in daily.stories):
        changed = notices.what_changed(daily)
        out += ["## What changed", ""]
        if changed:
            out += [f"- {_i(line)}" for line in changed]
            if unmade := notices.unmade_line(daily):
                out += ["", f"_{_i(unmade)}_"]
        else:
            out.append(f"_{_i(notices.unchanged_line(daily))}_")
        out.append("")
    for i, story in enumerate(daily.stories, 1):
        out += [f"## {i}. {_i(story.title)}", "", *_body(story, "###")]
        if story.provenance.warnings:
            out.append(_warnings(story.provenance))
    if daily.outputs:
        from summarizer.render.generic import to_markdown as generic_markdown

        # Other kinds (e.g. timeline) stand alone, laid out from their fields.
        out += [generic_markdown(o, h="##") for o in daily.outputs]
    left = notices.not_included(daily)
    if left:
        out += ["## Not included", ""]
        out += [f"- {_i(what)}: {_i(why)}" for what, why in left]
        out.append("")
    out.append(f"<sub>{_i(notices.daily_footer_text(p))}</sub>")
    return "\n".join(out) + "\n"
