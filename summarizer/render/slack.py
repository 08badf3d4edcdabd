"""Briefs as Slack Block Kit messages, split to fit Slack's limits.

`to_slack_messages()` returns a list of `{"text": fallback, "blocks": [...]}`: the first is
the header message (title, summary, key points, provenance), the rest are meant to be
posted as threaded replies under it, one part each (stances, disagreements, open
questions, sources; for a daily brief, one part per story and one for the failures). A
part that does not fit one message continues in the next, so every message holds at most
MAX_BLOCKS blocks and MAX_MESSAGE_CHARS characters of text, and no section more than
MAX_SECTION_CHARS (the packing is slack_blocks.py's, shared with generic.py). A stance
row is one block and is never split across messages. What the brief says about itself
(notices, counts, What changed, Not included) is worded in notices.py.

Article-derived text goes into mrkdwn, where `&`, `<` and `>` are markup (`<!channel>`,
`<url|label>`): `escape()` (render/escape.py's `slack`) makes it inert. Header blocks are
plain_text, shown as is once control characters are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from summarizer.core.schemas import Brief, DailyBrief, StanceRow
from summarizer.render import notices
from summarizer.render.slack_blocks import (
    MAX_BLOCKS,
    MAX_CONTEXT_CHARS,
    MAX_FALLBACK_CHARS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    Block,
    Message,
    Part,
    block_chars,
    clip_escaped,
    context,
    escape,
    flat,
    header,
    link,
    pack,
    section,
)

__all__ = [
    "MAX_BLOCKS", "MAX_CONTEXT_CHARS", "MAX_FALLBACK_CHARS", "MAX_HEADER_CHARS",
    "MAX_MESSAGE_CHARS", "MAX_SECTION_CHARS", "block_chars", "escape", "to_slack_messages",
]  # fmt: skip

_STANCE_EMOJI = {
    "supports": ":large_green_circle:",
    "opposes": ":red_circle:",
    "mixed": ":large_yellow_circle:",
    "neutral": ":white_circle:",
    "unclear": ":grey_question:",
}


def _stance_row(row: StanceRow) -> Block:
    """One row, one section: shorten the quotes (then drop the last ones), never split."""
    emoji = _STANCE_EMOJI.get(row.stance.value, "")
    text = ""
    for quote_limit, text_limit in ((2000, 600), (600, 300), (250, 200), (100, 120)):
        actor = clip_escaped(flat(row.actor), text_limit)
        issue = clip_escaped(flat(row.issue), text_limit)
        head = (
            f"{emoji} *{actor}* · {issue} · _{row.stance.value}_\n"
            f"{clip_escaped(flat(row.position), text_limit * 2)}"
        )
        quotes = [
            f"> “{clip_escaped(flat(e.quote), quote_limit)}” ({escape(e.source_id)})"
            for e in row.evidence
        ]
        text = "\n".join([head, *quotes])
        if len(text) <= MAX_SECTION_CHARS:
            return section(text)
    # Dozens of quotes on one row: keep those that fit and say how many are left out.
    kept = text.split("\n")
    while len("\n".join(kept)) > MAX_SECTION_CHARS - 40 and len(kept) > 3:
        kept.pop()
    omitted = len(row.evidence) - (len(kept) - 2)
    return section(
        "\n".join([*kept, f"_…and {omitted} more {'quote' if omitted == 1 else 'quotes'}_"])
    )


def notice_block(fixture: bool, replayed: bool, calls: int | None = None) -> Block | None:
    said = notices.notice(fixture, replayed, calls)
    if said is None:
        return None
    strong, rest = said
    return context(f":warning: *{strong}* {escape(rest)}" if strong else escape(rest))


def _summary_part(b: Brief, label: str, title_block: Block) -> Part:
    part = Part(label)
    part.add(title_block)
    p = b.provenance
    if (block := notice_block(p.fixture, p.replayed)) is not None:
        part.add(block)
    if line := notices.story_line(b):
        part.add(context(clip_escaped(flat(line), MAX_CONTEXT_CHARS)))
    part.lines([escape(b.summary.strip())])
    for w in p.warnings:
        part.add(context(f":warning: {escape(flat(w))}"))
    if b.key_points:
        part.lines(["*Key points*", *(f"• {escape(flat(k))}" for k in b.key_points)])
    if notices.is_empty(b):
        part.add(context(f":warning: {escape(notices.EMPTY)}"))
    return part


def _detail_parts(b: Brief, prefix: str = "") -> list[Part]:
    parts: list[Part] = []
    stances = Part(f"{prefix}Stances")
    stances.lines([f"*{prefix}Stances*"])
    if b.stances:
        for row in b.stances:
            stances.add(_stance_row(row))
    else:
        stances.lines(["_No attributable positions with verbatim evidence._"])
    parts.append(stances)
    if b.disagreements:
        dis = Part(f"{prefix}Where sources disagree")
        dis.lines([f"*{prefix}Where sources disagree*"])
        for d in b.disagreements:
            lines = [f"*{escape(flat(d.topic))}* ({d.kind})"] + [
                f"• {escape(c.source_id)}: {escape(flat(c.claim))} — “{escape(flat(c.quote))}”"
                for c in d.claims
            ]
            dis.add(section(notices.clip("\n".join(lines), MAX_SECTION_CHARS)))
        parts.append(dis)
    if b.story is not None:
        if b.story.open_questions:
            oq = Part(f"{prefix}Open questions")
            oq.lines(
                [f"*{prefix}Open questions*"]
                + [
                    f"• {escape(flat(q.question))} ({escape(notices.age(q))})"
                    for q in b.story.open_questions
                ]
            )
            parts.append(oq)
    elif b.open_questions:
        oq = Part(f"{prefix}Open questions")
        oq.lines([f"*{prefix}Open questions*"])
        for q in b.open_questions:
            text = (
                f"*{clip_escaped(flat(q.question), 800)}*\n"
                f"Why it matters: {clip_escaped(flat(q.why_it_matters), 1000)}\n"
                f"What would resolve it: {clip_escaped(flat(q.what_would_resolve_it), 1000)}"
            )
            oq.add(section(text))
        parts.append(oq)
    src = Part(f"{prefix}Sources")
    lines = [f"*{prefix}Sources*"]
    for s in b.sources:
        name = flat(s.title or s.url or s.path or s.id)
        line = f"• *{escape(s.id)}*: {link(s.url, name)}"
        if s.path and not s.url:
            line += f" ({escape(s.path)})"
        if s.duplicate_of:
            line += f" — near-copy of {escape(s.duplicate_of)}"
        lines.append(line)
    src.lines(lines)
    parts.append(src)
    return parts


def _brief_messages(b: Brief) -> list[Message]:
    head = _summary_part(b, "Summary", header(b.title))
    head.add(context(escape(notices.footer_text(b.provenance, kind=False))))
    out = pack(head, b.title)
    for part in _detail_parts(b):
        out += pack(part, f"{part.label}: {b.title}")
    return out


def _what_changed(d: DailyBrief) -> list[Message]:
    """The first message(s) of a daily brief whose stories are tracked across runs: what
    changed since the last briefs, split over messages like any long part."""
    if not any(s.story is not None for s in d.stories):
        return []
    part = Part("What changed")
    part.add(header(f"What changed — {d.date}"))
    changed = notices.what_changed(d)
    if changed and (unmade := notices.unmade_line(d)):
        changed.append(unmade)
    part.lines([f"• {escape(flat(line))}" for line in changed or [notices.unchanged_line(d)]])
    return pack(part, f"What changed — {d.date}")


def _daily_messages(d: DailyBrief, story_url: Callable[[str], str] | None = None) -> list[Message]:
    p = d.provenance
    title = f"Daily brief — {d.date}"
    head = Part("Daily brief")
    head.add(header(title))
    if (block := notice_block(p.fixture, p.replayed, p.llm_calls)) is not None:
        head.add(block)
    lines = [escape(line) for line in notices.header_lines(d)]
    lines += [
        f"{i}. {link(story_url(s.story.story_id), flat(s.title))}"
        if story_url and s.story
        else f"{i}. {escape(flat(s.title))}"
        for i, s in enumerate(d.stories, 1)
    ]
    head.lines(lines)
    head.add(context(escape(notices.daily_footer_text(p))))
    out = _what_changed(d) + pack(head, title)
    for i, story in enumerate(d.stories, 1):
        label = f"{i}. {flat(story.title)}"
        part = _summary_part(story, label, section(f"*{clip_escaped(label, 300)}*"))
        for detail in _detail_parts(story):
            part.units.extend(detail.units)
        out += pack(part, label)
    if d.outputs:
        from summarizer.render.generic import to_slack_messages as generic_messages

        # Other kinds (e.g. timeline) stand alone: their own messages, in the same thread.
        for o in d.outputs:
            out += generic_messages(o)
    left = notices.not_included(d)
    if left:
        fail = Part("Not included")
        fail.lines(
            ["*Not included*"]
            + [f"• {escape(flat(what))}: {escape(flat(why))}" for what, why in left]
        )
        out += pack(fail, f"Not included in the daily brief for {d.date}")
    return out


def to_slack_messages(
    obj: Brief | DailyBrief, *, story_url: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """Messages for chat.postMessage: the first is the header, the rest go in its thread.
    With `story_url` (the `site_url` setting) each story of a daily brief links to its
    page on the reader's site."""
    if isinstance(obj, DailyBrief):
        return _daily_messages(obj, story_url)
    return _brief_messages(obj)
