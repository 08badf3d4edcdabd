"""The `link` gold format: does today's story continue an earlier one? Scored as precision,
recall and F1 of the decision daily runs make (continuity.py), on pairs of article sets.

    {
      "kind": "link",
      "earlier": ["articles/kyiv-power-outage.txt"],   (the earlier story's articles)
      "today": ["articles/kiev-power-restored.txt"],   (today's story's articles)
      "continues": true,
      "note": "blackouts, then power restored (Kyiv/Kiev)"
    }

Each pair is matched alone, as on the quietest day (two stories, no earlier base): the
term weights must hold without a crowd of stories behind them. A pair is linked when its
score reaches the threshold ([daily.continuity] threshold by default). The pairs are never
shown to a model as examples.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from summarizer.errors import ConfigError, InputError
from summarizer.eval.gold import _first_error, _Strict
from summarizer.sources.ingest import Document, read_path
from summarizer.stories import continuity

LINK_METRICS = ("link_precision", "link_recall", "link_f1")


class LinkGold(_Strict):
    """One pair of stories and whether the later continues the earlier."""

    kind: Literal["link"] = Field(description='Always "link": this file is a pair of stories.')
    earlier: list[str] = Field(
        min_length=1, description="The earlier story's articles: paths relative to this file."
    )
    today: list[str] = Field(
        min_length=1, description="Today's story's articles: paths relative to this file."
    )
    continues: bool = Field(
        description="True when today's story reports new events of the earlier."
    )
    note: str | None = Field(default=None, description="Free text: why, and where it comes from.")


@dataclass(frozen=True)
class LinkCase:
    file: str
    gold: LinkGold
    earlier: list[Document]
    today: list[Document]


def _is_link(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False  # the article loader says what is wrong with it
    return isinstance(data, dict) and data.get("kind") == "link"


def is_link_set(directory: str | Path) -> bool:
    """True when the directory's gold files are link pairs. A directory mixing them with
    article gold files is refused: the two are scored on different things."""
    folder = Path(directory)
    if not folder.is_dir():
        return False
    files = [f for f in folder.iterdir() if f.suffix == ".json" and not f.name.startswith(".")]
    links = [f for f in files if _is_link(f)]
    if links and len(links) != len(files):
        other = sorted(set(files) - set(links))[0]
        raise InputError(
            f"{other}: an article gold file among link pairs; keep link pairs "
            '("kind": "link") in a directory of their own'
        )
    return bool(links)


def _read(base: Path, paths: Sequence[str], name: str, max_bytes: int) -> list[Document]:
    docs = []
    for p in paths:
        try:
            docs.append(read_path(str(base / p), max_bytes=max_bytes))
        except InputError as exc:
            raise InputError(f"{name}: its article cannot be used: {exc}") from None
    return docs


def load_link_set(directory: str | Path, *, max_bytes: int) -> list[LinkCase]:
    """Every link pair in the directory, sorted by name, validated and with its articles
    read; InputError naming the first bad file."""
    cases = []
    for f in sorted(Path(directory).glob("*.json"), key=lambda f: f.name):
        if f.name.startswith("."):
            continue
        name = str(f)
        try:
            gold = LinkGold.model_validate_json(f.read_bytes())
        except ValidationError as exc:
            raise InputError(
                f"{name}: not a valid link pair ({_first_error(exc)}); see docs/linking.md"
            ) from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
        cases.append(
            LinkCase(
                name, gold, _read(f.parent, gold.earlier, name, max_bytes),
                _read(f.parent, gold.today, name, max_bytes),
            )
        )  # fmt: skip
    return cases


def side(docs: Sequence[Document]) -> continuity.Side:
    """A story as matching sees it, from its articles alone (no model fields)."""
    return continuity.Side("", (), tuple(continuity.article_text(d.title, d.text) for d in docs))


@dataclass
class PairResult:
    file: str
    continues: bool
    linked: bool
    match: continuity.Match | None


@dataclass
class LinkResult:
    threshold: float
    pairs: list[PairResult] = field(default_factory=list)
    margin: float = 0.0  # a score this near the threshold would be checked by the model

    def close(self, p: PairResult) -> bool:
        score = p.match.score if p.match else 0.0
        return self.threshold - self.margin <= score < self.threshold + self.margin

    def counts(self) -> dict[str, int]:
        c = {"true_positive": 0, "false_positive": 0, "false_negative": 0, "true_negative": 0}
        for p in self.pairs:
            key = ("true_" if p.linked == p.continues else "false_") + (
                "positive" if p.linked else "negative"
            )
            c[key] += 1
        return c

    def overall(self) -> dict[str, float | None]:
        c = self.counts()
        tp, fp, fn = c["true_positive"], c["false_positive"], c["false_negative"]
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        return {
            "link_precision": None if p is None else round(p, 4),
            "link_recall": None if r is None else round(r, 4),
            "link_f1": None if f1 is None else round(f1, 4),
        }


def score_pairs(cases: Sequence[LinkCase], threshold: float, margin: float = 0.0) -> LinkResult:
    """The decision on the articles' evidence alone. A pair within `margin` of the threshold
    is marked close (a daily run would ask the `link` kind); here the threshold decides it."""
    result = LinkResult(threshold, margin=margin)
    for case in cases:
        matches = continuity.score([side(case.today)], [side(case.earlier)])
        best = matches[0] if matches else None
        linked = best is not None and best.score >= threshold
        result.pairs.append(PairResult(case.file, case.gold.continues, linked, best))
    return result


def parse_gate(text: str) -> tuple[str, float]:
    """`METRIC=VALUE` for a link metric; ConfigError naming what is wrong."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in LINK_METRICS:
        raise ConfigError(
            f"--min {text}: for link pairs give METRIC=VALUE with METRIC one of "
            f"{', '.join(LINK_METRICS)}"
        )
    try:
        return name, float(value)
    except ValueError:
        raise ConfigError(f"--min {text}: {value!r} is not a number") from None


def check_gates(result: LinkResult, gates: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    overall = result.overall()
    return [
        {
            "metric": m, "min": floor, "value": overall[m],
            "passed": overall[m] is not None and overall[m] >= floor,  # type: ignore[operator]
        }
        for m, floor in gates
    ]  # fmt: skip


def to_json(result: LinkResult, *, gold_dir: str, gates: Sequence[dict[str, Any]] = ()) -> str:
    pairs = [
        {
            "file": p.file,
            "continues": p.continues,
            "linked": p.linked,
            "correct": p.linked == p.continues,
            "close": result.close(p),
            **(p.match.parts() if p.match else {"score": 0.0}),
        }
        for p in result.pairs
    ]
    data = {
        "gold_dir": gold_dir,
        "kind": "link",
        "threshold": result.threshold,
        "check_margin": result.margin,
        "pairs": pairs,
        "overall": {**result.overall(), "counts": result.counts()},
        "gates": list(gates),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render_text(result: LinkResult) -> str:
    out = [f"Link pairs (threshold {result.threshold:g}):", ""]
    width = max((len(Path(p.file).stem) for p in result.pairs), default=4)
    out.append(f"{'pair':<{width}}  gold  linked  score  on")
    for p in result.pairs:
        mark = "" if p.linked == p.continues else "  <- wrong"
        score = p.match.score if p.match else 0.0
        on = ", ".join(p.match.shared_names[:3]) if p.match else ""
        out.append(
            f"{Path(p.file).stem:<{width}}  {'yes' if p.continues else 'no ':<4}  "
            f"{'yes' if p.linked else 'no ':<6}  {score:5.2f}  {on}{mark}"
        )
    o, c = result.overall(), result.counts()

    def show(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    out += [
        "",
        f"link_precision {show(o['link_precision'])}  link_recall {show(o['link_recall'])}  "
        f"link_f1 {show(o['link_f1'])}  ({c['true_positive']} linked rightly, "
        f"{c['false_positive']} wrongly, {c['false_negative']} missed, "
        f"{c['true_negative']} rightly apart)",
        f"{sum(result.close(p) for p in result.pairs)} pair(s) within {result.margin:g} of the "
        "threshold: a daily run would ask the model (the `link` kind) about them; here the "
        "threshold decides.",
        "",
    ]
    return "\n".join(out)
