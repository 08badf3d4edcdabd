"""Briefs as Slack Block Kit messages, split to fit Slack's limits.

`to_slack_messages()` returns a list of `{"text": fallback, "blocks": [...]}`: the first is
the header message (title, summary, key points, provenance), the rest are meant to be
posted as threaded replies under it, one part each (stances, disagreements, open
questions, sources; for a daily brief, one part per story and one for the failures). A
part that does not fit one message continues in the next, so every message holds at most
MAX_BLOCKS blocks and MAX_MESSAGE_CHARS characters of text, and no section more than
MAX_SECTION_CHARS. A stance row is one block and is never split across messages.

Article-derived text goes into mrkdwn, where `&`, `<` and `>` are markup (`<!channel>`,
`<url|label>`): `escape()` (render/escape.py's `slack`) makes it inert. Header blocks are
plain_text, shown as is once control characters are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from summarizer.render import escape as _escape
from summarizer.schemas import Brief, DailyBrief, StanceRow, tokens_text

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
# Slack truncates message text long before its hard 40,000-character cap reads well; its
# guidance is about 4,000. Counted over the fallback text plus every block's text.
MAX_MESSAGE_CHARS = 4000
MAX_CONTEXT_CHARS = 2000
MAX_FALLBACK_CHARS = 150

Block = dict[str, Any]
Message = dict[str, Any]

FIXTURE_NOTICE = (
    ":warning: *Not model output.* Replayed from recordings written by hand or served by a "
    "test server, not produced by a live model."
)
REPLAY_NOTICE = "Replayed from recorded model responses; no model was called for this run."
_STANCE_EMOJI = {
    "supports": ":large_green_circle:",
    "opposes": ":red_circle:",
    "mixed": ":large_yellow_circle:",
    "neutral": ":white_circle:",
    "unclear": ":grey_question:",
}


escape = _escape.slack


def _flat(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _clip_escaped(raw: str, limit: int) -> str:
    """escape(raw) cut to `limit` characters without breaking an &entity; in two."""
    out = escape(raw)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": _clip(_flat(_escape.plain(text)), MAX_HEADER_CHARS) or "Brief",
        },
    }


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION_CHARS]}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:MAX_CONTEXT_CHARS]}]}


def block_chars(block: Block) -> int:
    n = len(block.get("text", {}).get("text", ""))
    n += sum(len(e.get("text", "")) for e in block.get("elements", []))
    n += sum(len(f.get("text", "")) for f in block.get("fields", []))
    return n


def _sections(lines: list[str]) -> list[list[Block]]:
    """Lines (already mrkdwn) packed into sections of at most MAX_SECTION_CHARS, one unit
    each. A line longer than that is split at spaces, then hard."""
    units: list[list[Block]] = []
    current = ""
    for line in lines:
        while len(line) > MAX_SECTION_CHARS:
            cut = line.rfind(" ", 0, MAX_SECTION_CHARS)
            cut = cut if cut > MAX_SECTION_CHARS // 2 else MAX_SECTION_CHARS
            amp = line.rfind("&", cut - 6, cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp  # keep &amp; &lt; &gt; whole
            if current:
                units.append([section(current)])
                current = ""
            units.append([section(line[:cut].rstrip())])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_CHARS:
            units.append([section(current)])
            candidate = line
        current = candidate
    if current:
        units.append([section(current)])
    return units


def _stance_row(row: StanceRow) -> Block:
    """One row, one section: shorten the quotes (then drop the last ones), never split."""
    emoji = _STANCE_EMOJI.get(row.stance.value, "")
    text = ""
    for quote_limit, text_limit in ((2000, 600), (600, 300), (250, 200), (100, 120)):
        actor = _clip_escaped(_flat(row.actor), text_limit)
        issue = _clip_escaped(_flat(row.issue), text_limit)
        head = (
            f"{emoji} *{actor}* · {issue} · _{row.stance.value}_\n"
            f"{_clip_escaped(_flat(row.position), text_limit * 2)}"
        )
        quotes = [
            f"> “{_clip_escaped(_flat(e.quote), quote_limit)}” ({escape(e.source_id)})"
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
    return section("\n".join([*kept, f"_…and {omitted} more quote(s)_"]))


def _link(url: str | None, label: str) -> str:
    safe = url and url.startswith(("http://", "https://")) and not any(c in url for c in "|<> \n")
    return f"<{escape(url)}|{escape(label)}>" if safe and url else escape(label)


@dataclass
class _Part:
    label: str
    units: list[list[Block]] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.units.append(list(blocks))

    def lines(self, lines: list[str]) -> None:
        self.units.extend(_sections(lines))


def _summary_part(b: Brief, label: str, title_block: Block) -> _Part:
    part = _Part(label)
    part.add(title_block)
    p = b.provenance
    if p.fixture:
        part.add(context(FIXTURE_NOTICE))
    elif p.replayed:
        part.add(context(REPLAY_NOTICE))
    from summarizer.render.markdown import story_line

    if line := story_line(b):
        part.add(context(_clip_escaped(_flat(line), MAX_CONTEXT_CHARS)))
    part.lines([escape(b.summary.strip())])
    for w in p.warnings:
        part.add(context(f":warning: {escape(_flat(w))}"))
    if b.key_points:
        part.lines(["*Key points*", *(f"• {escape(_flat(k))}" for k in b.key_points)])
    return part


def _detail_parts(b: Brief, prefix: str = "") -> list[_Part]:
    parts: list[_Part] = []
    stances = _Part(f"{prefix}Stances")
    stances.lines([f"*{prefix}Stances*"])
    if b.stances:
        for row in b.stances:
            stances.add(_stance_row(row))
    else:
        stances.lines(["_No attributable positions with verbatim evidence._"])
    parts.append(stances)
    if b.disagreements:
        dis = _Part(f"{prefix}Where sources disagree")
        dis.lines([f"*{prefix}Where sources disagree*"])
        for d in b.disagreements:
            lines = [f"*{escape(_flat(d.topic))}* ({d.kind})"] + [
                f"• {escape(c.source_id)}: {escape(_flat(c.claim))} — “{escape(_flat(c.quote))}”"
                for c in d.claims
            ]
            dis.add(section(_clip("\n".join(lines), MAX_SECTION_CHARS)))
        parts.append(dis)
    if b.story is not None:
        from summarizer.ledger import age

        if b.story.open_questions:
            oq = _Part(f"{prefix}Open questions")
            oq.lines(
                [f"*{prefix}Open questions*"]
                + [
                    f"• {escape(_flat(q.question))} ({escape(age(q))})"
                    for q in b.story.open_questions
                ]
            )
            parts.append(oq)
    elif b.open_questions:
        oq = _Part(f"{prefix}Open questions")
        oq.lines([f"*{prefix}Open questions*"])
        for q in b.open_questions:
            text = (
                f"*{_clip_escaped(_flat(q.question), 800)}*\n"
                f"Why it matters: {_clip_escaped(_flat(q.why_it_matters), 1000)}\n"
                f"What would resolve it: {_clip_escaped(_flat(q.what_would_resolve_it), 1000)}"
            )
            oq.add(section(text))
        parts.append(oq)
    src = _Part(f"{prefix}Sources")
    lines = [f"*{prefix}Sources*"]
    for s in b.sources:
        name = _flat(s.title or s.url or s.path or s.id)
        line = f"• *{escape(s.id)}*: {_link(s.url, name)}"
        if s.path and not s.url:
            line += f" ({escape(s.path)})"
        if s.duplicate_of:
            line += f" — near-copy of {escape(s.duplicate_of)}"
        lines.append(line)
    src.lines(lines)
    parts.append(src)
    return parts


def _footer(b: Brief) -> str:
    p = b.provenance
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    dropped = (
        f", {p.ungrounded_dropped} ungrounded quote(s) dropped" if p.ungrounded_dropped else ""
    )
    origin = "replayed fixture" if p.fixture else "replayed" if p.replayed else "live"
    return escape(
        f"{p.model} · prompt {p.prompt_name} v{p.prompt_version} · "
        f"{p.created_at:%Y-%m-%d %H:%M UTC} · {p.llm_calls} call(s), "
        f"{tokens_text(p.tokens_in, p.tokens_out)}{cost}{dropped} · {origin}"
    )


def _pack(part: _Part, fallback: str) -> list[Message]:
    """Fill messages unit by unit; a unit that would overflow starts the next message."""
    # The fallback is what notifications show; Slack parses it as mrkdwn too.
    fallback = _clip_escaped(_flat(fallback), MAX_FALLBACK_CHARS)
    messages: list[Message] = []
    blocks: list[Block] = []
    chars = len(fallback)
    for unit in part.units:
        size = sum(block_chars(b) for b in unit)
        if blocks and (len(blocks) + len(unit) > MAX_BLOCKS or chars + size > MAX_MESSAGE_CHARS):
            messages.append({"text": fallback, "blocks": blocks})
            blocks = [context(f"_{escape(part.label)}, continued_")]
            chars = len(fallback) + block_chars(blocks[0])
        blocks.extend(unit)
        chars += size
    if blocks:
        messages.append({"text": fallback, "blocks": blocks})
    return messages


def _brief_messages(b: Brief) -> list[Message]:
    head = _summary_part(b, "Summary", header(b.title))
    head.add(context(_footer(b)))
    out = _pack(head, b.title)
    for part in _detail_parts(b):
        out += _pack(part, f"{part.label}: {b.title}")
    return out


def _what_changed(d: DailyBrief) -> list[Message]:
    """The first message(s) of a daily brief whose stories are tracked across runs: what
    changed since the last briefs, split over messages like any long part."""
    from summarizer.render.markdown import what_changed

    if not any(s.story is not None for s in d.stories):
        return []
    part = _Part("What changed")
    part.add(header(f"What changed — {d.date}"))
    changed = what_changed(d) or ["Nothing since the last briefs."]
    part.lines([f"• {escape(_flat(line))}" for line in changed])
    return _pack(part, f"What changed — {d.date}")


def _daily_messages(d: DailyBrief, story_url: Callable[[str], str] | None = None) -> list[Message]:
    p = d.provenance
    title = f"Daily brief — {d.date}"
    head = _Part("Daily brief")
    head.add(header(title))
    if p.fixture:
        head.add(context(FIXTURE_NOTICE))
    elif p.replayed:
        head.add(context(REPLAY_NOTICE))
    lines = [
        f"{len(d.stories)} stories from {p.articles_briefed} of {p.articles_found} articles "
        f"published {d.window_start:%Y-%m-%d %H:%M} to {d.window_end:%Y-%m-%d %H:%M} UTC."
    ]
    if p.stopped_by_budget:
        lines.append("*Stopped early:* the run reached its cost or token budget.")
    lines += [
        f"{i}. {_link(story_url(s.story.story_id), _flat(s.title))}"
        if story_url and s.story
        else f"{i}. {escape(_flat(s.title))}"
        for i, s in enumerate(d.stories, 1)
    ]
    if d.failures:
        lines.append(f"_{len(d.failures)} source(s) could not be briefed (listed in the thread)._")
    head.lines(lines)
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    origin = "replayed fixture" if p.fixture else "replayed" if p.replayed else "live"
    head.add(
        context(
            escape(
                f"{', '.join(p.models)} · {p.created_at:%Y-%m-%d %H:%M UTC} · "
                f"{p.llm_calls} call(s), {tokens_text(p.tokens_in, p.tokens_out)}{cost} · {origin}"
            )
        )
    )
    out = _what_changed(d) + _pack(head, title)
    for i, story in enumerate(d.stories, 1):
        label = f"{i}. {_flat(story.title)}"
        part = _summary_part(story, label, section(f"*{_clip_escaped(label, 300)}*"))
        for detail in _detail_parts(story):
            part.units.extend(detail.units)
        out += _pack(part, label)
    if d.outputs:
        from summarizer.render.generic import to_slack_messages as generic_messages

        # Other kinds (e.g. timeline) stand alone: their own messages, in the same thread.
        for o in d.outputs:
            out += generic_messages(o)
    if d.failures:
        fail = _Part("Not included")
        fail.lines(
            ["*Not included*"]
            + [f"• {escape(_flat(f.source))}: {escape(_flat(f.error))}" for f in d.failures]
        )
        out += _pack(fail, f"Not included in the daily brief for {d.date}")
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
