"""Briefs as Markdown: readable as plain text, and rendered with rich on a terminal.

Every text from an article, a feed or a model goes through `render.escape` (`_t` for
paragraphs, `_i` for one-line places, `_cell` in tables): no raw HTML, link or image
syntax, and no control characters, reach the reader's viewer or terminal.
"""

from __future__ import annotations

from summarizer.render.escape import markdown as _t
from summarizer.render.escape import markdown_cell as _cell
from summarizer.render.escape import markdown_inline as _i
from summarizer.schemas import Brief, DailyBrief, Provenance, tokens_text

FIXTURE_NOTICE = (
    "> **Not model output.** This brief was replayed from recordings that were written by "
    "hand or served by a test server, not produced by a live model."
)
REPLAY_NOTICE = "> Replayed from recorded model responses; no model was called for this run."


def _notice(fixture: bool, replayed: bool) -> list[str]:
    if fixture:
        return [FIXTURE_NOTICE, ""]
    if replayed:
        return [REPLAY_NOTICE, ""]
    return []


def what_changed(daily: DailyBrief) -> list[str]:
    """The daily brief's "What changed" lines (plain text, one per change): new
    developments, answered and dropped questions, stance shifts, across stories. The md,
    html and slack renderers all list these, first."""
    from summarizer.ledger import shift_line

    lines: list[str] = []
    for story in daily.stories:
        link = story.story
        if link is None:
            continue
        for d in link.new_developments:
            lines.append(
                f"{story.title}: {d.development} — “{d.evidence.quote}” ({d.evidence.source_id})"
            )
        for q in link.answered:
            lines.append(
                f"Answered after {q.age_days} day(s): {q.question} — {q.answer} “{q.quote}” ({q.source})"
            )
        for q in link.dropped:
            lines.append(f"Dropped: {q.question} — {q.reason}")
        lines += [shift_line(sh) for sh in link.stance_shifts]
    return lines


def story_line(brief: Brief) -> str | None:
    """How long a story has run, and what it continues."""
    link = brief.story
    if link is None:
        return None
    if link.continues_from:
        text = (
            f"Continues story {link.story_id} from {link.continues_from} "
            f"(running {link.days_running} day(s), since {link.first_day}; {link.match})."
        )
    else:
        text = f"New story {link.story_id}."
    return text + (f" {link.note}" if link.note else "")


def _body(brief: Brief, h: str) -> list[str]:
    """Everything but the title: `h` is the heading prefix ('##' alone, '###' in a daily)."""
    out: list[str] = []
    if line := story_line(brief):
        out += [f"_{_i(line)}_", ""]
    out += [_t(brief.summary), ""]
    if brief.key_points:
        out += [f"{h} Key points", ""] + [f"- {_i(k)}" for k in brief.key_points] + [""]
    out += [f"{h} Stances", ""]
    if brief.stances:
        out += ["| Actor | Issue | Position | Stance | Evidence |", "|---|---|---|---|---|"]
        for row in brief.stances:
            evidence = "<br>".join(
                f"“{_cell(e.quote)}” ({_cell(e.source_id)})" for e in row.evidence
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
        from summarizer.ledger import age

        if brief.story.open_questions:
            out += [f"{h} Open questions", ""]
            out += [f"- **{_i(q.question)}** ({age(q)})" for q in brief.story.open_questions]
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
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    dropped = (
        f", {p.ungrounded_dropped} ungrounded quote(s) dropped" if p.ungrounded_dropped else ""
    )
    origin = "replayed fixture" if p.fixture else "replayed" if p.replayed else "live"
    return _warnings(p) + (
        f"<sub>{_i(p.model)} · prompt {_i(p.prompt_name)} v{_i(p.prompt_version)} · "
        f"{p.created_at:%Y-%m-%d %H:%M UTC} · {p.llm_calls} call(s), "
        f"{tokens_text(p.tokens_in, p.tokens_out)}{cost}{dropped} · {origin}</sub>"
    )


def to_markdown(brief: Brief) -> str:
    p = brief.provenance
    out = [f"# {_i(brief.title)}", "", *_notice(p.fixture, p.replayed), *_body(brief, "##")]
    out.append(_footer(p))
    return "\n".join(out) + "\n"


def daily_to_markdown(daily: DailyBrief) -> str:
    p = daily.provenance
    out = [f"# Daily brief — {daily.date}", "", *_notice(p.fixture, p.replayed)]
    out.append(
        f"{len(daily.stories)} stories from {p.articles_briefed} of {p.articles_found} articles "
        f"published {daily.window_start:%Y-%m-%d %H:%M} to {daily.window_end:%Y-%m-%d %H:%M} UTC."
    )
    out.append("")
    if p.stopped_by_budget:
        out += ["> **Stopped early:** the run reached its cost or token budget.", ""]
    if daily.failures:
        out += [
            f"> **{len(daily.failures)} source(s) could not be briefed** (listed at the end).",
            "",
        ]
    changed = what_changed(daily)
    if any(s.story is not None for s in daily.stories):
        out += ["## What changed", ""]
        out += (
            [f"- {_i(line)}" for line in changed]
            if changed
            else ["_Nothing since the last briefs._"]
        )
        out.append("")
    for i, story in enumerate(daily.stories, 1):
        out += [f"## {i}. {_i(story.title)}", "", *_body(story, "###")]
        if story.provenance.warnings:
            out.append(_warnings(story.provenance))
    if daily.outputs:
        from summarizer.render.generic import to_markdown as generic_markdown

        # Other kinds (e.g. timeline) stand alone, laid out from their fields.
        out += [generic_markdown(o, h="##") for o in daily.outputs]
    if daily.failures:
        out += ["## Not included", ""]
        out += [f"- {_i(f.source)}: {_i(f.error)}" for f in daily.failures]
        out.append("")
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    cached = f" ({p.cached_tokens} cached)" if p.cached_tokens else ""
    origin = "replayed fixture" if p.fixture else "replayed" if p.replayed else "live"
    out.append(
        f"<sub>{_i(', '.join(p.models))} · {p.created_at:%Y-%m-%d %H:%M UTC} · {p.llm_calls} call(s), "
        f"{tokens_text(p.tokens_in, p.tokens_out)}{cached}{cost} · {origin}</sub>"
    )
    return "\n".join(out) + "\n"
