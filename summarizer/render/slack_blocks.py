"""Slack Block Kit building and packing, shared by the Slack renderers (slack.py for
briefs and daily briefs, generic.py for any other kind).

Every message holds at most MAX_BLOCKS blocks and MAX_MESSAGE_CHARS characters of text, and
no section more than MAX_SECTION_CHARS: a `Part` is filled unit by unit (a unit is never
split) and `pack` starts a new message, marked "continued", when the next unit would not
fit. `escape` (render/escape.py's `slack`) makes article text inert in mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from summarizer.render import escape as _escape
from summarizer.render.notices import clip

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


escape = _escape.slack


def flat(text: str) -> str:
    return " ".join(text.split())


def clip_escaped(raw: str, limit: int) -> str:
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
            "text": clip(flat(_escape.plain(text)), MAX_HEADER_CHARS) or "Brief",
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


def sections(lines: list[str]) -> list[list[Block]]:
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


def link(url: str | None, label: str) -> str:
    safe = url and url.startswith(("http://", "https://")) and not any(c in url for c in "|<> \n")
    return f"<{escape(url)}|{escape(label)}>" if safe and url else escape(label)


@dataclass
class Part:
    label: str
    units: list[list[Block]] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.units.append(list(blocks))

    def lines(self, lines: list[str]) -> None:
        self.units.extend(sections(lines))


def pack(part: Part, fallback: str) -> list[Message]:
    """Fill messages unit by unit; a unit that would overflow starts the next message."""
    # The fallback is what notifications show; Slack parses it as mrkdwn too.
    fallback = clip_escaped(flat(fallback), MAX_FALLBACK_CHARS)
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
