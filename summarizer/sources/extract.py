"""Turning a fetched page (or a saved .html file) into a Document, with trafilatura.

    doc = extract(fetched)                        # Fetched from summarizer.sources.fetch
    doc = document_from_html(data, name=path)     # bytes of a saved page

HTML goes through trafilatura with `favor_precision` (boilerplate such as navigation, ads,
share bars, comments and footers is dropped, and a page that is only navigation yields
nothing) and without comments; trafilatura's metadata gives the title and the publication
date. Precision can cut an article to its first paragraph (a body laid out in a grid of
styled boxes is pruned as boilerplate), so unless the page's paragraph text shows that
nothing was lost, the default extraction is run too and the fuller text is kept when the
precise one lost most of it. When the text kept is still much shorter than
the page's paragraph text (the rest is hidden until a script shows it, say), the Document
carries a warning that the brief's provenance shows. The date search is kept to the page's markup (no "extensive search"): that search
turns a footer's "© 2025" into 1 January 2025, and no date is better than a wrong one.

Bytes are decoded by: byte-order mark, then the charset in the Content-Type header, then
the page's own <meta charset> / <?xml encoding?>, then UTF-8, then windows-1252 (what
browsers assume for an unlabelled Western page). Legacy labels are widened the way
browsers widen them (ISO-8859-1 means windows-1252, Shift_JIS means cp932), and a page
labelled Latin-1 that is valid UTF-8 is read as UTF-8, the commonest server misconfiguration.

Every refusal is an InputError naming the URL or file.
"""

from __future__ import annotations

import codecs
import re
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from summarizer.errors import InputError
from summarizer.sources.ingest import Document, document_from_bytes

if TYPE_CHECKING:
    from summarizer.sources.fetch import Fetched

# Shorter than this after extraction is a stub ("Loading...", a cookie notice), not an article.
_MIN_TEXT_CHARS = 50
# The precise text "lost most" of the article when it is under half of the default text.
_LOST = 0.5
# Text kept under this share of the page's paragraph text (and PAGE_SLACK characters short
# of it) gets a warning: comments and teasers are paragraphs too, so the bar is low.
_WARN_SHARE = 0.4
_PAGE_SLACK = 1500
# Elements whose paragraphs are never article text, for measuring what a page holds: by
# tag, and by a class or id that names reader comments or teasers for other articles.
_CHROME = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form")
_NOT_ARTICLE = re.compile(r"comment|disqus|related|recommend|newsletter|promo|teaser", re.I)
_SNIFF = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)", re.I | re.S
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Python codec name -> the superset browsers actually decode with (WHATWG Encoding).
_WIDER = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
}
_UNKNOWN_TO_PYTHON = {"x-sjis": "cp932", "windows-31j": "cp932", "x-gbk": "gb18030"}

# trafilatura parses with one module-level lxml parser (trafilatura.utils.HTML_PARSER) that
# two threads must never use at once (native crashes): every call into it holds this lock.
# Parallel extraction uses processes instead (summarizer.sources.extract_pool).
TRAFILATURA_LOCK = threading.Lock()

_DATE_PARAMS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


def extract(fetched: Fetched) -> Document:
    """A Document from a fetched page: HTML through trafilatura, text/plain as it is."""
    kind = fetched.content_type
    if not kind:
        kind = "text/html" if _HTML_START.match(fetched.content[:_SNIFF]) else "text/plain"
    if kind == "text/plain":
        return document_from_text(
            fetched.content, name=fetched.url, url=fetched.url, charset=fetched.charset
        )
    return document_from_html(
        fetched.content, name=fetched.url, url=fetched.url, charset=fetched.charset
    )


def document_from_text(
    data: bytes, *, name: str, url: str | None = None, charset: str | None = None
) -> Document:
    text = decode_web(data, name=name, charset=charset, html=False)
    # The size limit was enforced on the bytes as they arrived; re-encoding to UTF-8 can
    # only grow them, so the shared checks (empty, title) run without a second limit.
    encoded = text.encode("utf-8")
    return document_from_bytes(encoded, name, max_bytes=max(len(encoded), 1), url=url)


def document_from_html(
    data: bytes,
    *,
    name: str,
    url: str | None = None,
    charset: str | None = None,
    path: str | None = None,
) -> Document:
    """Article text, title and date from an HTML page; InputError if there is no article."""
    html = decode_web(data, name=name, charset=charset, html=True)
    held = paragraph_chars(html)
    with TRAFILATURA_LOCK:
        result = _bare_extraction(html, url, precise=True)
        text = _field(result, "text")
        # The default pass is skipped only when the page's paragraphs show that nothing was
        # lost: most of the precise text is paragraph text (so `held` measures the article)
        # and it keeps at least half of it. A page of links (no paragraphs, no text) stays
        # refused rather than becoming "an article" made of its menu.
        measured = held >= len(text) * _LOST
        if not (measured and len(text) >= held * _LOST):
            fuller = _field(_bare_extraction(html, url, precise=False), "text")
            if len(text) < len(fuller) * _LOST:
                text = fuller
    warnings: tuple[str, ...] = ()
    if len(text) < _MIN_TEXT_CHARS:
        raise InputError(
            f"no article text found at {name}; the page may be only navigation or need "
            "JavaScript: give the article's own URL, or save its text to a file"
        )
    if len(text) < held * _WARN_SHARE and held - len(text) >= _PAGE_SLACK:
        warnings = (
            f"{name}: extracted {len(text):,} characters of the {held:,} in the page's paragraphs: "
            "the brief may miss part of the article (check the page)",
        )
    page_url = url
    canonical = _field(result, "url")
    if page_url is None and canonical.startswith(("http://", "https://")):
        # A saved page keeps its canonical address: worth citing as the source.
        page_url = canonical
    return Document(
        text=text,
        title=_title(html, result),
        url=page_url,
        path=path,
        published=parse_date(_field(result, "date")),
        warnings=warnings,
    )


def _title(html: str, result: object) -> str | None:
    """The article's title. trafilatura prefers og:title, which some sites fill with their
    own name ("Yahoo News - Latest News & Headlines") on every page: then the headline the
    page itself shows (<h1>, which its <title> repeats) is the article's title."""
    meta = _field(result, "title")
    site = _norm(_field(result, "sitename"))
    page_title, h1 = _headings(html)
    if not h1 or not meta or _norm(h1) in _norm(meta):
        return meta or h1 or None
    names_site = bool(site) and _norm(meta).startswith(site)
    headline_agreed = _norm(h1) in _norm(page_title) and _norm(meta) not in _norm(page_title)
    return h1 if names_site or headline_agreed else meta


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _headings(html: str) -> tuple[str, str]:
    """The page's <title> and its first <h1>, as text ("" when missing)."""
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return "", ""
    title = tree.find(".//title")
    h1 = tree.find(".//h1")
    return (
        " ".join(title.text_content().split()) if title is not None else "",
        " ".join(h1.text_content().split()) if h1 is not None else "",
    )


def _bare_extraction(html: str, url: str | None, *, precise: bool) -> object:
    import trafilatura

    return trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=precise,
        date_extraction_params=_DATE_PARAMS,
    )


def paragraph_chars(html: str) -> int:
    """Characters of text in the page's <p> elements outside navigation, headers, footers,
    asides, forms and scripts (hidden ones included: the page still holds them)."""
    import lxml.etree
    import lxml.html

    # A parser of our own per call: trafilatura's module-level one is not shared with it.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return 0
    lxml.etree.strip_elements(tree, *_CHROME, with_tail=False)
    for elem in list(tree.iter("div", "section", "ul", "ol")):
        label = f"{elem.get('class', '')} {elem.get('id', '')}"
        if _NOT_ARTICLE.search(label) and elem.getparent() is not None:
            elem.drop_tree()
    return sum(len(" ".join(p.text_content().split())) for p in tree.iter("p"))


def _field(result: object, name: str) -> str:
    # bare_extraction returns None when it finds nothing, and its fields may be None too.
    return str(getattr(result, name, None) or "").strip()


def parse_date(value: str | None) -> datetime | None:
    """trafilatura's date string -> aware UTC datetime; a date without a zone is taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def decode_web(data: bytes, *, name: str, charset: str | None = None, html: bool = True) -> str:
    """Bytes from the web to text, by the rules in the module docstring."""
    if not data.strip():
        raise InputError(f"{name}: is empty; give an article with some text in it")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(codec, errors="replace"), name)
    label = _codec(charset)
    if label is None and html:
        label = _declared_in_markup(data[:_SNIFF])
    wide = (label or "").startswith(("utf-16", "utf-32"))
    if not wide and b"\x00" in data[:_SNIFF]:
        raise InputError(f"{name}: looks like a binary file, not a web page; give an article's URL")
    # UTF-8 first when unlabelled, and also over a windows-1252 / Latin-1 label: servers send
    # that label by default, and non-ASCII text that is valid UTF-8 is, in practice, never
    # really windows-1252.
    candidates = ["utf-8", "cp1252"] if label in (None, "cp1252") else [label, "utf-8"]
    for codec in candidates:
        try:
            return _checked(data.decode(codec), name)
        except UnicodeDecodeError:
            continue
    # Mislabelled or mixed bytes: keep the text readable rather than refuse the whole page.
    return _checked(data.decode(label or "cp1252", errors="replace"), name)


def _checked(text: str, name: str) -> str:
    if not text.strip():
        raise InputError(f"{name}: is empty; give an article with some text in it")
    return text


def _codec(label: str | bytes | None) -> str | None:
    """A charset label -> the Python codec to decode with, or None when unusable."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", errors="ignore")
    label = label.strip().lower()
    if label in _UNKNOWN_TO_PYTHON:
        return _UNKNOWN_TO_PYTHON[label]
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WIDER.get(name, name)


def _declared_in_markup(head: bytes) -> str | None:
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    label = _codec(match.group(1)) if match else None
    # A page's markup cannot really be UTF-16 if it was readable as ASCII to find the tag.
    if label and label.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return label
