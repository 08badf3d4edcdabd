"""The gold set: one JSON file per article, saying what a good brief of it contains.

    {
      "article": "articles/port-strike.txt",      (or "text": the article inline)
      "kind": "brief",
      "stances": [{"actor": "Greece", "aliases": ["Athens"], "issue": "...", "stance": "opposes"}],
      "open_questions": ["when the visit will take place"],
      "events": [{"date": "2019-11-27", "what": "maritime deal signed"}]
    }

`GoldFile` is the contract (exported to schemas/ like the brief's), and `load_gold_set`
reads a directory of them, refusing the first bad file, unreadable article or unknown
kind with one line naming the file, before any model is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from summarizer.core.schemas import Stance
from summarizer.errors import InputError
from summarizer.plumbing import untrusted_json
from summarizer.sources.ingest import Document, document_from_bytes, leads_outside, read_path


def _no_property_titles(schema: dict[str, Any]) -> None:
    # As in schemas.py: "Actor" as the title of `actor` tells a reader nothing.
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class _Strict(BaseModel):
    # A misspelt key ("stance" for "stances") would silently score nothing: refuse it.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_property_titles)


class GoldStance(_Strict):
    actor: str = Field(
        min_length=1, description="Who holds the position, as the article names them."
    )
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names that count as the same actor (e.g. Athens for Greece).",
    )
    issue: str = Field(min_length=1, description="What the position is about, in a few words.")
    stance: Stance = Field(description="supports, opposes, mixed, neutral or unclear.")


class GoldEvent(_Strict):
    date: str = Field(min_length=1, description="The date as the article states it, or ISO.")
    what: str = Field(min_length=1, description="What happened, in a few key words.")


class GoldFile(_Strict):
    """What a good brief of one article contains. Shared between tools: keep it plain JSON."""

    article: str | None = Field(
        default=None, description="Path of the article text, relative to this gold file."
    )
    text: str | None = Field(default=None, description="The article inline, instead of `article`.")
    kind: str = Field(default="brief", description="The kind of output to make and score.")
    note: str | None = Field(
        default=None,
        description="Free text: where the article comes from (e.g. written for this set).",
    )
    stances: list[GoldStance] = Field(
        default_factory=list, description="The stance rows a good brief has."
    )
    open_questions: list[str] = Field(
        default_factory=list,
        description="Topics a good brief asks about: a few key words each, all of which "
        "a predicted question should contain.",
    )
    events: list[GoldEvent] = Field(
        default_factory=list, description="Dated events (timeline kind only)."
    )

    @model_validator(mode="after")
    def _one_article(self) -> GoldFile:
        if (self.article is None) == (self.text is None):
            raise ValueError("give exactly one of `article` (a path) or `text` (inline)")
        return self


@dataclass(frozen=True)
class GoldCase:
    """One gold file, loaded: its path (as given), its contents and its article."""

    file: str
    gold: GoldFile
    document: Document

    @property
    def data(self) -> dict[str, object]:
        """The gold file as plain data, for the scorer."""
        return self.gold.model_dump(mode="json")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"]) or "file"
    return f"{where}: {err['msg']}"


def load_gold_file(path: Path, *, max_bytes: int, folder: Path | None = None) -> GoldCase:
    """One gold file. Its article is read only if it resolves inside `folder` (the gold set's
    folder, by default the file's own), as `daily -s DIR` reads only what DIR holds."""
    name = str(path)
    folder = path.parent if folder is None else folder
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{name}: cannot be read ({exc.strerror}); check its permissions"
        ) from None
    try:
        data = untrusted_json.loads(raw, what=name)
    except untrusted_json.JSONRefused as exc:
        fix = "save the gold file as UTF-8" if exc.why == "encoding" else "fix the file"
        raise InputError(f"{exc}; {fix}") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: a gold file is one JSON object; see schemas/ for its format")
    try:
        gold = GoldFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            f"{name}: not a valid gold file ({_first_error(exc)}); see schemas/ for its format"
        ) from None
    if gold.article is not None:
        article = path.parent / gold.article
        if leads_outside(article, folder):
            raise InputError(
                f"{name}: its article {gold.article} leads outside the gold folder {folder}; "
                "copy the article into the folder"
            )
        try:
            doc = read_path(str(article), max_bytes=max_bytes)
        except InputError as exc:
            raise InputError(f"{name}: its article cannot be used: {exc}") from None
    else:
        assert gold.text is not None
        try:
            doc = document_from_bytes(
                gold.text.encode("utf-8"), f"{name} (text)", max_bytes=max_bytes
            )
        except InputError as exc:
            raise InputError(f"{name}: its inline text cannot be used: {exc}") from None
    return GoldCase(file=name, gold=gold, document=doc)


def load_gold_set(
    directory: str | Path,
    *,
    max_bytes: int,
    check_kind: Callable[[str, str], None] | None = None,
) -> list[GoldCase]:
    """Every `*.json` directly in `directory`, sorted by name, validated and with its article
    read. `check_kind(kind, file)` raises for a kind that cannot be made. Raises InputError
    naming the first bad file; a directory without gold files is refused too."""
    folder = Path(directory)
    if not folder.exists():
        raise InputError(f"{directory}: no such gold directory; check the path")
    if not folder.is_dir():
        raise InputError(f"{directory}: is not a directory; give a directory of gold .json files")
    files = sorted(
        (f for f in folder.iterdir() if f.suffix == ".json" and not f.name.startswith(".")),
        key=lambda f: f.name,
    )
    if not files:
        raise InputError(
            f"{directory}: has no gold files (*.json); add one per article (see the README)"
        )
    cases = [load_gold_file(f, max_bytes=max_bytes, folder=folder) for f in files]
    if check_kind is not None:
        for case in cases:
            check_kind(case.gold.kind, case.file)
    return cases


def kinds_in(cases: Sequence[GoldCase]) -> list[str]:
    return sorted({c.gold.kind for c in cases})
