"""Reading articles: files and stdin become Documents, and bad input is refused by name.

Every loader ends in `document_from_bytes`, so a file, stdin, and (later) an HTTP body
are held to the same rules: not empty, not binary, UTF-8 text, under the size limit.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from summarizer.errors import InputError

# Bytes that never occur in text; one of them in the first block means a binary file.
_BINARY_MARKERS = (b"\x00",)
_SNIFF = 8192


@dataclass(frozen=True)
class Document:
    text: str
    title: str | None = None
    url: str | None = None
    path: str | None = None
    published: datetime | None = None
    # What a reader of the brief should know about how the text was obtained (e.g. the
    # extraction kept much less than the page holds); shown in the brief's provenance.
    warnings: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _first_line_title(text: str) -> str | None:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    # A short first line without a final full stop reads as a headline; a paragraph doesn't.
    if 0 < len(line) <= 120 and not line.endswith((".", "!", "?", ":")):
        return line
    return None


def decode_text(data: bytes, name: str, *, max_bytes: int) -> str:
    """The checks every article passes. Raises InputError naming `name`."""
    if len(data) > max_bytes:
        raise InputError(
            f"{name}: {len(data):,} bytes is over the {max_bytes:,}-byte limit; "
            "split it, or raise max_input_bytes (--max-bytes)"
        )
    if not data.strip():
        raise InputError(f"{name}: is empty; give an article with some text in it")
    head = data[:_SNIFF]
    if any(m in head for m in _BINARY_MARKERS):
        raise InputError(f"{name}: looks like a binary file, not text; give a plain-text article")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: is not UTF-8 text (bad byte at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None
    if not text.strip():
        raise InputError(f"{name}: is empty; give an article with some text in it")
    return text


def document_from_bytes(
    data: bytes,
    name: str,
    *,
    max_bytes: int,
    title: str | None = None,
    url: str | None = None,
    path: str | None = None,
) -> Document:
    text = decode_text(data, name, max_bytes=max_bytes)
    return Document(text=text, title=title or _first_line_title(text), url=url, path=path)


def leads_outside(path: Path, folder: Path) -> bool:
    """Whether `path`, with `..` and every symlink on the way followed, ends outside `folder`.

    A folder of articles (a `daily` source directory, a gold set) must not be a way to send
    /etc/passwd to the model: what it names is read only if it is really inside."""
    return not path.resolve().is_relative_to(folder.resolve())


def read_path(arg: str, *, max_bytes: int) -> Document:
    """A file path, or '-' for standard input."""
    if arg == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("stdin: nothing piped in; pipe an article in, or give a file path")
        # Read one byte past the limit so an oversize stream is refused without reading it all.
        data = sys.stdin.buffer.read(max_bytes + 1)
        return document_from_bytes(data, "stdin", max_bytes=max_bytes)
    p = Path(arg)
    if not p.exists():
        raise InputError(f"{arg}: no such file; check the path")
    if p.is_dir():
        raise InputError(f"{arg}: is a directory; give the article files inside it")
    if not p.is_file():
        raise InputError(f"{arg}: is not a regular file; give a text file")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{arg}: {size:,} bytes is over the {max_bytes:,}-byte limit; "
            "split it, or raise max_input_bytes (--max-bytes)"
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{arg}: cannot be read ({exc.strerror}); check its permissions") from None
    return document_from_bytes(data, arg, max_bytes=max_bytes, path=str(p))
