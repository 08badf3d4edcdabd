"""Making article and model text inert in each output format. Every renderer passes every
text that came from an article, a feed or a model through one of these, and nothing else
(its own markup, numbers, enum values) needs to.

- `plain(text)`: control characters removed, except newline and tab. Terminal escape
  sequences (`ESC]0;title BEL`, `ESC[2J`), backspaces and carriage returns could otherwise
  rewrite what an operator sees; bidirectional overrides could reorder it.
- `markdown(text)`: `plain`, then HTML and link syntax escaped with backslashes, so a
  Markdown viewer shows `<script>`, `onerror=` and `[x](javascript:...)` as the text they
  are instead of running or linking them, while the file still reads as plain text.
- `markdown_inline(text)`: `markdown` on one line, for headings, list items and table
  cells (a newline would end them and start markup of the text's choosing).
- `slack(text)`: `plain`, then the three characters Slack's mrkdwn reads as markup
  (`&`, `<`, `>`), so no `<!channel>`, `<@U123>` or `<url|label>` can be injected.
- `json_text(text)`: a JSON document keeps the data as it was, but with the control and
  bidi characters JSON itself leaves raw (DEL, C1, overrides) written as `\\uXXXX`, so the
  file is safe to print and decodes to the same data.
- HTML: `html_templates(package)` is the Jinja2 environment of every HTML page (the daily
  page, the reader's site): autoescape on, each value passed through `plain`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

# Whole ESC sequences first, so no `[2J` or window title is left behind as text: CSI
# (ESC [, parameters, a final byte), OSC, DCS and the like (ESC ] ... up to BEL or ESC \\;
# unterminated, only its introducer goes, so no text is lost), and two-character escapes.
# The 8-bit forms (C1 bytes) are removed one by one below, not with what follows them:
# text in a mislabelled encoding is full of them, and its words must survive.
_SEQUENCES = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]?|\x1b[]PX^_][^\x07\x1b]*(?:\x07|\x1b\\\\)|\x1b[ -~]?"
)
# Then any other C0 control but tab and newline, DEL, C1 controls, and the Unicode
# bidirectional embedding, override and isolate characters.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# What CommonMark (and GitHub's dialect) could read as raw HTML or a link, escaped with a
# backslash so it prints as itself:
# - a backslash before punctuation (it would escape our own escape);
# - `<` opening a tag, comment, declaration, processing instruction or autolink;
# - `[` and `]`, which open and close links, images and reference definitions;
# - `&` opening a character reference (`&lt;`, `&#106;`), which would print as another
#   character than the source has.
# Everything else (`AT&T`, `x < 5`, `C:\Users`) is left as the reader expects it.
_MARKDOWN = re.compile(r"""\\(?=[!-/:-@\[-`{-~])|<(?=[A-Za-z/!?])|[\[\]]|&(?=#|[A-Za-z0-9]+;)""")


def plain(text: str) -> str:
    """`text` without control characters other than newline and tab; `\\r\\n` becomes
    `\\n`, a lone `\\r` a newline too (it would move the cursor back over the line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def markdown(text: str) -> str:
    return _MARKDOWN.sub(lambda m: "\\" + m.group(0), plain(text))


def markdown_inline(text: str) -> str:
    return " ".join(markdown(text).split())


def markdown_cell(text: str) -> str:
    """For a table cell: one line, and a `|` would end the cell."""
    return markdown_inline(text).replace("|", "\\|")


# What json.dumps(ensure_ascii=False) and pydantic leave raw (they escape only C0).
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_text(text: str) -> str:
    """Only valid on a JSON document: these characters can occur only inside its strings,
    where `\\uXXXX` means the same character."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def slack(text: str) -> str:
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finalize(value: object) -> object:
    from markupsafe import Markup

    # Markup is the template's own (a macro's output), already built from finalized values.
    if isinstance(value, str) and not isinstance(value, Markup):
        return plain(value)
    return value


@cache
def html_templates(package: str) -> jinja2.Environment:
    """The Jinja2 environment for a package's `templates/` folder of HTML pages (the daily
    page, the reader's site): every printed value escaped and stripped of control
    characters, which no page needs and which would reach a terminal that shows the file."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        # On for every template whatever its file name: select_autoescape() would not
        # recognise the .j2 suffix and leave it off.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
