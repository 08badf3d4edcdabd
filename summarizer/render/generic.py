"""Any kind's output in md, html or slack, laid out from its fields: no renderer code per kind.

The model's fields become a list of blocks (`layout`), which each format then writes:

    str / number / enum field     a paragraph under the field's name
    Quote                         a quote with its source id (any object with `quote` and
                                  `source_id`: the layout reads JSON data, so a stored
                                  output renders the same as a live one)
    list of str                   a bulleted list
    list of Quote                 quotes, one per line
    list of models                a table: one row per item, one column per field (a quote
                                  in a cell is shown with its source id)
    a nested model                its fields as "name: value" lines

`title` (if the kind has one) is the heading; sources and provenance close every output
as they do a brief's. Slack output keeps Slack's limits whatever the kind: a table row is
one section (clipped to 3,000 characters), and messages are packed to 50 blocks.

Article and model text is escaped for each format through `_md`, `_html` and `_slack`,
the one place each format's escaping is called from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from summarizer.core.schemas import Provenance, Source
from summarizer.render import escape, notices
from summarizer.render import slack_blocks as sb

SKIP = frozenset({"title", "schema_version", "sources", "provenance"})


# escaping: one small function per format ----------------------------------------------


def _md(text: str) -> str:
    # One line (a newline would end a table row or list item), a `|` would end a cell, and
    # HTML and link syntax is escaped (render/escape.py): the rest reads as written.
    return escape.markdown_cell(text)


def _html(text: str) -> str:
    from markupsafe import escape as html_escape

    return str(html_escape(escape.plain(text)))


def _slack(text: str) -> str:
    return escape.slack(" ".join(text.split()))


# the layout, shared by every format -----------------------------------------------------

Inline = tuple[str, str, str]  # ("text", text, "") or ("quote", quote, source id)


@dataclass
class Block:
    type: str  # heading, text, bullets, quotes, table
    text: str = ""
    items: list[list[Inline]] = field(default_factory=list)  # bullets / quotes: one each
    columns: list[str] = field(default_factory=list)
    rows: list[list[list[Inline]]] = field(default_factory=list)


def label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _data(output: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The layout works on JSON data, so a stored output (a daily brief's other kinds)
    renders the same as a live one, with no model class at hand."""
    if isinstance(output, BaseModel):
        data: dict[str, Any] = output.model_dump(mode="json")
        return data
    return output


def _is_quote(value: Any) -> bool:
    # schemas.Quote as JSON: every kind's quotes have these two fields.
    return (
        isinstance(value, dict)
        and isinstance(value.get("quote"), str)
        and isinstance(value.get("source_id"), str)
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def inline(value: Any) -> list[Inline]:
    """A value inside a table cell or a bullet."""
    if value is None or value == "":
        return []
    if _is_quote(value):
        extra = [
            part for k, v in value.items() if k not in ("quote", "source_id") for part in inline(v)
        ]
        return [*extra, ("quote", value["quote"], value["source_id"])]
    if isinstance(value, dict):
        out: list[Inline] = []
        for name, item in value.items():
            sub = inline(item)
            if sub:
                out += [("text", f"{label(name)}: ", ""), *sub]
        return out
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out += inline(item)
        return out
    return [("text", _scalar(value), "")]


def layout(output: BaseModel | dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    for name, value in _data(output).items():
        if name in SKIP or value is None or value == [] or value == "":
            continue
        blocks.append(Block("heading", label(name)))
        if _is_quote(value):
            blocks.append(Block("quotes", items=[inline(value)]))
        elif isinstance(value, dict):
            blocks.append(Block("bullets", items=[inline(value)]))
        elif isinstance(value, list) and all(_is_quote(v) for v in value):
            blocks.append(Block("quotes", items=[inline(v) for v in value]))
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            rows = [[inline(v.get(c)) for c in columns] for v in value]
            blocks.append(Block("table", columns=[label(c) for c in columns], rows=rows))
        elif isinstance(value, list):
            blocks.append(Block("bullets", items=[inline(v) for v in value]))
        else:
            blocks.append(Block("text", text=_scalar(value)))
    return blocks


def title_of(output: BaseModel | dict[str, Any]) -> str:
    data = output if isinstance(output, dict) else {"title": getattr(output, "title", None)}
    title = data.get("title")
    if isinstance(title, str) and title.strip():
        return title
    p = _provenance(output)
    return label(p.kind) if p is not None else "Output"


def _sources(output: BaseModel | dict[str, Any]) -> list[Source]:
    if isinstance(output, dict):
        return [Source.model_validate(s) for s in output.get("sources", [])]
    sources = getattr(output, "sources", [])
    return [s for s in sources if isinstance(s, Source)]


footer_text = notices.footer_text


def _provenance(output: BaseModel | dict[str, Any]) -> Provenance | None:
    if isinstance(output, dict):
        raw = output.get("provenance")
        return Provenance.model_validate(raw) if isinstance(raw, dict) else None
    p = getattr(output, "provenance", None)
    return p if isinstance(p, Provenance) else None


# Markdown -----------------------------------------------------------------------------


def _md_inline(parts: list[Inline]) -> str:
    out = []
    for kind, text, sid in parts:
        out.append(f"“{_md(text)}” ({_md(sid)})" if kind == "quote" else _md(text))
    return " ".join(o for o in out if o)


def to_markdown(output: BaseModel | dict[str, Any], h: str = "#") -> str:
    p = _provenance(output)
    out = [f"{h} {_md(title_of(output))}", ""]
    said = notices.notice(p.fixture, p.replayed) if p is not None and h == "#" else None
    if said is not None:
        strong, rest = said
        out += [f"> **{strong}** {rest}" if strong else f"> {rest}", ""]
    for b in layout(output):
        if b.type == "heading":
            out += [f"{h}# {b.text}", ""]
        elif b.type == "text":
            out += [escape.markdown(b.text), ""]
        elif b.type == "bullets":
            out += [f"- {_md_inline(i)}" for i in b.items] + [""]
        elif b.type == "quotes":
            out += [f"> {_md_inline(i)}" for i in b.items] + [""]
        elif b.type == "table":
            out.append("| " + " | ".join(b.columns) + " |")
            out.append("|" + "---|" * len(b.columns))
            out += ["| " + " | ".join(_md_inline(c) for c in row) + " |" for row in b.rows]
            out.append("")
    out += [f"{h}# Sources", ""]
    for s in _sources(output):
        where = s.url or s.path
        line = f"- **{_md(s.id)}**: {_md(s.title or where or s.id)}"
        out.append(line + (f" ({_md(where)})" if where and s.title else ""))
    out.append("")
    if p is not None:
        out += [f"> **Warning:** {_md(w)}\n" for w in p.warnings]
        out.append(f"<sub>{escape.markdown_inline(footer_text(p))}</sub>")
    return "\n".join(out) + "\n"


# HTML ---------------------------------------------------------------------------------

_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "overflow-wrap:break-word}"
    ".table-scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d0d5;padding:.4rem;"
    "vertical-align:top;text-align:left}th{background:#f5f5f7}blockquote{margin:0 0 .4rem;"
    "font-style:italic}cite{font-style:normal;color:#555}.notice{border-left:4px solid #c0392b;"
    "background:#fdecea;padding:.6rem 1rem}.provenance{color:#666;font-size:.8rem;margin-top:2rem}"
)


def _html_inline(parts: list[Inline]) -> str:
    out = []
    for kind, text, sid in parts:
        if kind == "quote":
            out.append(f"<q>{_html(text)}</q> <cite>{_html(sid)}</cite>")
        else:
            out.append(_html(text))
    return " ".join(o for o in out if o)


def html_fragment(output: BaseModel | dict[str, Any], level: int = 2) -> str:
    """The output as an HTML fragment (no page around it), every value escaped."""
    p = _provenance(output)
    h, sub = f"h{level}", f"h{level + 1}"
    out = [f"<{h}>{_html(title_of(output))}</{h}>"]
    for b in layout(output):
        if b.type == "heading":
            out.append(f"<{sub}>{_html(b.text)}</{sub}>")
        elif b.type == "text":
            out.append(f"<p>{_html(b.text)}</p>")
        elif b.type == "bullets":
            out.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.type == "quotes":
            out += [f"<blockquote>{_html_inline(i)}</blockquote>" for i in b.items]
        elif b.type == "table":
            head = "".join(f"<th>{_html(c)}</th>" for c in b.columns)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in row) + "</tr>"
                for row in b.rows
            )
            out.append(
                f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table></div>"
            )
    out.append(f"<{sub}>Sources</{sub}><ul>")
    for s in _sources(output):
        name = _html(s.title or s.url or s.path or s.id)
        if s.url and s.url.startswith(("http://", "https://")):
            name = f'<a href="{_html(s.url)}" rel="noopener noreferrer">{name}</a>'
        out.append(f"<li><strong>{_html(s.id)}</strong>: {name}</li>")
    out.append("</ul>")
    if p is not None:
        out += [f'<p class="warning">Warning: {_html(w)}</p>' for w in p.warnings]
        out.append(f'<footer class="provenance">{_html(footer_text(p))}</footer>')
    return "\n".join(out)


def to_html(output: BaseModel | dict[str, Any]) -> str:
    """One self-contained page: inline CSS, no scripts, no external assets."""
    p = _provenance(output)
    title = _html(title_of(output))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_CSS}</style></head>",
        "<body>",
    ]
    said = notices.notice(p.fixture, p.replayed) if p is not None else None
    if said is not None:
        strong = f"<strong>{_html(said[0])}</strong> " if said[0] else ""
        out.append(f'<p class="notice">{strong}{_html(said[1])}</p>')
    out += [html_fragment(output, level=1), "</body>", "</html>"]
    return "\n".join(out) + "\n"


# Slack --------------------------------------------------------------------------------


def _slack_inline(parts: list[Inline], limit: int) -> str:
    out = []
    for kind, text, sid in parts:
        if kind == "quote":
            out.append(f"“{_slack(notices.clip(text, limit))}” ({_slack(sid)})")
        else:
            out.append(_slack(notices.clip(text, limit)))
    return " ".join(o for o in out if o)


def to_slack_messages(output: BaseModel | dict[str, Any]) -> list[dict[str, Any]]:
    """The header message (title, notice, footer), then one threaded part per field."""
    p = _provenance(output)
    title = title_of(output)
    head = sb.Part("Summary")
    head.add(sb.header(title))
    said = notices.notice(p.fixture, p.replayed) if p is not None else None
    if said is not None:
        strong, rest = said
        head.add(sb.context(f":warning: *{strong}* {_slack(rest)}" if strong else _slack(rest)))
    if p is not None:
        for w in p.warnings:
            head.add(sb.context(f":warning: {_slack(w)}"))
        head.add(sb.context(_slack(footer_text(p))))
    messages = sb.pack(head, title)
    part: sb.Part | None = None
    for b in layout(output):
        if b.type == "heading":
            if part is not None:
                messages += sb.pack(part, f"{part.label}: {title}")
            part = sb.Part(b.text)
            part.lines([f"*{_slack(b.text)}*"])
            continue
        assert part is not None
        if b.type == "text":
            part.lines([_slack(b.text)])
        elif b.type in ("bullets", "quotes"):
            mark = "•" if b.type == "bullets" else ">"
            part.lines([f"{mark} {_slack_inline(i, 2000)}" for i in b.items])
        elif b.type == "table":
            for row in b.rows:
                # One row, one section: shorten long cells until it fits, never split it.
                for limit in (2000, 600, 200, 80):
                    text = "\n".join(
                        f"*{_slack(c)}*: {_slack_inline(cell, limit)}"
                        for c, cell in zip(b.columns, row, strict=True)
                        if cell
                    )
                    if len(text) <= sb.MAX_SECTION_CHARS:
                        break
                part.add(sb.section(text))
    if part is not None:
        messages += sb.pack(part, f"{part.label}: {title}")
    src = sb.Part("Sources")
    src.lines(
        ["*Sources*"]
        + [
            f"• *{_slack(x.id)}*: {sb.link(x.url, ' '.join((x.title or x.url or x.path or x.id).split()))}"
            for x in _sources(output)
        ]
    )
    messages += sb.pack(src, f"Sources: {title}")
    return messages
