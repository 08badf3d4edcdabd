"""What `summarizer eval` shows: a table per article and overall, JSON, comparisons.

The JSON has no timestamps and no absolute paths of its own making: the same briefs give
the same bytes, so two runs can be diffed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from summarizer.eval.run import ArticleResult, VariantResult, differences, rounded
from summarizer.eval.score import METRICS, RATES

# Column headers of the terminal table; the legend under it spells out each one.
SHORT: dict[str, str] = {
    "stance_precision": "P",
    "stance_recall": "R",
    "stance_f1": "F1",
    "label_accuracy": "acc",
    "label_macro_f1": "Favg",
    "quote_verbatim": "verb",
    "quote_attribution": "attr",
    "question_coverage": "qcov",
    "questions": "q",
    "tokens_in": "in",
    "tokens_out": "out",
    "calls": "calls",
    "cost_usd": "USD",
    "event_precision": "evP",
    "event_recall": "evR",
    "event_f1": "evF1",
}
EVENT_METRICS = ("event_precision", "event_recall", "event_f1")


def _metrics(values: dict[str, float | int | None]) -> dict[str, float | int | None]:
    return {m: rounded(values[m]) for m in METRICS}


def article_json(a: ArticleResult) -> dict[str, Any]:
    from summarizer.eval.score import compute

    out: dict[str, Any] = {"file": a.file, "kind": a.kind, **_metrics(compute(a.counts))}
    out["counts"] = asdict(a.counts)
    if a.score is not None:
        out["matches"] = a.score.matches
        out["missed_actors"] = a.score.missed_actors
        out["extra_actors"] = a.score.extra_actors
        out["missed_topics"] = a.score.missed_topics
        out["defects"] = a.score.defects
    out["error"] = a.error
    return out


def variant_json(r: VariantResult, *, gold_dir: str, threshold: float) -> dict[str, Any]:
    return {
        "gold_dir": gold_dir,
        "threshold": threshold,
        "variant": r.label,
        "model": r.model,
        "prompt": r.prompt,
        "kind": r.variant.kind,
        "replayed": r.replayed,
        "fixture": r.fixture,
        "articles": [article_json(a) for a in r.articles],
        "overall": {**_metrics(r.overall), "counts": asdict(r.counts)},
    }


def to_json(
    results: Sequence[VariantResult],
    *,
    gold_dir: str,
    threshold: float,
    gates: Sequence[dict[str, Any]] = (),
) -> str:
    """One variant: its object. Several: `variants` (each that object) and `differences`."""
    if len(results) == 1:
        data = variant_json(results[0], gold_dir=gold_dir, threshold=threshold)
    else:
        data = {
            "gold_dir": gold_dir,
            "threshold": threshold,
            "variants": [variant_json(r, gold_dir=gold_dir, threshold=threshold) for r in results],
            "differences": differences(results),
        }
    data["gates"] = list(gates)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def fmt(metric: str, value: float | int | None) -> str:
    if value is None:
        return "-"
    if metric == "cost_usd":
        return f"{value:.4f}"
    if metric in RATES:
        return f"{value:.3f}"
    return f"{value:,}"


def fmt_delta(metric: str, value: float | int | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    sign = "+" if value > 0 else ""
    return sign + fmt(metric, value)


def _shown(results: Sequence[VariantResult]) -> list[str]:
    """Event columns only when some gold file or brief has events."""
    with_events = any(
        a.counts.gold_events or a.counts.predicted_events for r in results for a in r.articles
    )
    return [m for m in METRICS if with_events or m not in EVENT_METRICS]


# Which columns a narrow terminal keeps, most wanted first; the JSON (-o) has them all.
PRIORITY = (
    "stance_f1", "label_accuracy", "quote_verbatim", "quote_attribution", "question_coverage",
    "event_f1", "stance_precision", "stance_recall", "label_macro_f1", "calls", "cost_usd",
    "questions", "event_precision", "event_recall", "tokens_in", "tokens_out",
)  # fmt: skip
_NAME_MIN = 18  # the article column folds down to this


def _name(path: str) -> str:
    # The gold file's name says which article; its folder and .json suffix say nothing.
    return path.rsplit("/", 1)[-1].removesuffix(".json")


def _fitting(results: Sequence[VariantResult], shown: list[str], width: int) -> list[str]:
    """The metrics whose columns fit in `width` (with the article column and borders),
    dropping the least wanted first; in the table's own order."""
    from summarizer.eval.score import compute

    def column(m: str) -> int:
        cells = [fmt(m, rounded(r.overall[m])) for r in results]
        cells += [fmt(m, rounded(compute(a.counts)[m])) for r in results for a in r.articles]
        return max(len(SHORT[m]), *(len(c) for c in cells)) + 3  # padding and a border

    names = [len(_name(a.file)) + 9 * bool(a.error) for r in results for a in r.articles]
    name = min(max([len("overall"), *names]), _NAME_MIN) + 4
    kept = sorted(shown, key=lambda m: PRIORITY.index(m) if m in PRIORITY else len(PRIORITY))
    while kept and name + sum(column(m) for m in kept) > width:
        kept.pop()
    return [m for m in shown if m in kept]


def render_text(
    results: Sequence[VariantResult], *, threshold: float, width: int | None = None
) -> str:
    """The tables as text (rich), for a terminal or a log, fitted to `width` (160 when not
    given): columns that do not fit are left out and named, the JSON (-o) has them all."""
    from rich.console import Console
    from rich.table import Table

    from summarizer.eval.score import compute

    buf = io.StringIO()
    width = width or 160
    console = Console(file=buf, width=width, highlight=False, soft_wrap=False)
    every = _shown(results)
    shown = _fitting(results, every, width)
    for r in results:
        table = Table(title=f"summarizer eval: {r.label}", title_justify="left")
        table.add_column("article", overflow="fold")
        for m in shown:
            table.add_column(SHORT[m], justify="right")
        for a in r.articles:
            values = compute(a.counts)
            name = _name(a.file) + (" (failed)" if a.error else "")
            table.add_row(name, *(fmt(m, rounded(values[m])) for m in shown))
        overall = r.overall
        table.add_section()
        table.add_row("overall", *(fmt(m, rounded(overall[m])) for m in shown), style="bold")
        if r.fixture:
            from summarizer.render.notices import notice

            # The same words as the brief's own notice: replayed, or a live test server.
            said = notice(r.fixture, r.replayed)
            assert said is not None
            console.print(
                f"{r.label}: {said[0].lower()} {said[1]} "
                "These figures measure those answers, not a model."
            )
        console.print(table)
        for a in r.articles:
            if a.error:
                console.print(f"FAILED {a.file}: {a.error}")
            if a.score is not None:
                for defect in a.score.defects:
                    console.print(f"DEFECT {a.file}: {defect}")
    if len(results) > 1:
        table = Table(
            title="comparison (overall; differences against the first)", title_justify="left"
        )
        table.add_column("metric")
        for i, r in enumerate(results):
            table.add_column(r.label if i == 0 else f"{r.label}", justify="right", overflow="fold")
            if i:
                table.add_column("diff", justify="right")
        diffs = differences(results)
        for m in shown:
            cells = [fmt(m, rounded(results[0].overall[m]))]
            for r, d in zip(results[1:], diffs, strict=True):
                cells += [fmt(m, rounded(r.overall[m])), fmt_delta(m, d["overall"][m])]
            table.add_row(m, *cells)
        console.print(table)
    legend = ", ".join(f"{SHORT[m]}={m}" for m in shown)
    left = [m for m in every if m not in shown]
    more = (
        f"; not shown at this width: {', '.join(left)} (all are in the JSON: -o FILE)"
        if left
        else ""
    )
    # Wrapped by rich at the console's width, never cut mid-word.
    console.print(
        f"threshold {threshold:g} (actor and topic matching); {legend}; "
        f"'-' = not measured (nothing to divide by){more}"
    )
    # rich pads titles to the table's width; trailing blanks only make diffs noisy.
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
