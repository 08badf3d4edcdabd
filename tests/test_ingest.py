from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.errors import InputError
from summarizer.sources.ingest import read_path

LIMIT = 10_000


def write(tmp_path: Path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_reads_utf8_and_strips_bom(tmp_path: Path) -> None:
    doc = read_path(
        write(tmp_path, "a.txt", "\ufeffHeadline here\n\nBody text.".encode()), max_bytes=LIMIT
    )
    assert doc.text.startswith("Headline here")
    assert doc.title == "Headline here"


def test_non_english_text_is_kept_as_is(tmp_path: Path) -> None:
    text = "وزير الخارجية قال إن الزيارة ممكنة.\n\n外務大臣は訪問の可能性を示した。"
    doc = read_path(write(tmp_path, "ar.txt", text.encode()), max_bytes=LIMIT)
    assert doc.text == text


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "is empty"),
        (b"   \n\t  \n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Caf\u00e9 au lait".encode("latin-1"), "not UTF-8"),
        (b"x" * (LIMIT + 1), "over the 10,000-byte limit"),
    ],
)
def test_bad_files_are_refused_by_name(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = write(tmp_path, "bad.txt", data)
    with pytest.raises(InputError) as err:
        read_path(path, max_bytes=LIMIT)
    assert path in str(err.value)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_path(str(tmp_path / "nope.txt"), max_bytes=LIMIT)
    with pytest.raises(InputError, match="is a directory"):
        read_path(str(tmp_path), max_bytes=LIMIT)
