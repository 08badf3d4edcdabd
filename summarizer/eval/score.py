"""Score one brief against its gold file, on plain data, and add articles up.

Every metric is computed from integer counts (`Counts`), one article's or the sum over
all articles: so the overall figures are micro-averaged over all rows, questions and
quotes by construction, and the per-article and overall numbers share one formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from summarizer.core import grounding
from summarizer.eval import metrics

# The metric names of the JSON output, in table order (the names, then events).
METRICS: tuple[str, ...] = (
    "stance_precision",
    "stance_recall",
    "stance_f1",
    "label_accuracy",
    "label_macro_f1",
    "quote_verbatim",
    "quote_attribution",
    "question_coverage",
    "questions",
    "tokens_in",
    "tokens_out",
    "calls",
    "cost_usd",
    "event_precision",
    "event_recall",
    "event_f1",
)
# Shares and scores in [0, 1]; the rest are counts (summed, not averaged, over articles).
RATES = frozenset(METRICS) - {"questions", "tokens_in", "tokens_out", "calls", "cost_usd"}


@dataclass
class Counts:
    gold_rows: int = 0
    predicted_rows: int = 0
    matched_rows: int = 0
    labels_correct: int = 0
    supports_tp: int = 0
    supports_predicted: int = 0
    supports_gold: int = 0
    opposes_tp: int = 0
    opposes_predicted: int = 0
    opposes_gold: int = 0
    quotes: int = 0  # shown in the brief + dropped by grounding
    quotes_verbatim: int = 0
    quotes_attributed: int = 0
    quotes_dropped: int = 0
    quotes_shown_not_found: int = 0  # a grounding defect when > 0
    gold_topics: int = 0
    topics_covered: int = 0
    questions: int = 0
    gold_events: int = 0
    predicted_events: int = 0
    matched_events: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: Counts) -> Counts:
        out = Counts()
        for f in fields(Counts):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "cost_usd":
                # One article of unknown price makes the total unknown, not smaller.
                setattr(out, f.name, None if a is None or b is None else round(a + b, 6))
            else:
                setattr(out, f.name, a + b)
        return out


def total(counts: Iterable[Counts]) -> Counts:
    out = Counts()
    for c in counts:
        out = out + c
    return out


def compute(c: Counts) -> dict[str, float | int | None]:
    """The metrics from counts; None where a denominator is 0 (not measured)."""
    p, r, f1 = metrics.prf(c.matched_rows, c.predicted_rows, c.gold_rows)
    ep, er, ef1 = metrics.prf(c.matched_events, c.predicted_events, c.gold_events)
    return {
        "stance_precision": p,
        "stance_recall": r,
        "stance_f1": f1,
        "label_accuracy": metrics.ratio(c.labels_correct, c.matched_rows),
        "label_macro_f1": metrics.f_avg_from_counts(asdict(c)),
        "quote_verbatim": metrics.ratio(c.quotes_verbatim, c.quotes),
        "quote_attribution": metrics.ratio(c.quotes_attributed, c.quotes),
        "question_coverage": metrics.ratio(c.topics_covered, c.gold_topics),
        "questions": c.questions,
        "tokens_in": c.tokens_in,
        "tokens_out": c.tokens_out,
        "calls": c.calls,
        "cost_usd": c.cost_usd,
        "event_precision": ep,
        "event_recall": er,
        "event_f1": ef1,
    }


def iter_quotes(data: Any) -> Iterator[Mapping[str, Any]]:
    """Every quote in a brief of any kind: each object with a `quote` and a `source_id`
    (evidence, disagreement claims, a timeline's events), in document order."""
    if isinstance(data, Mapping):
        if isinstance(data.get("quote"), str) and isinstance(data.get("source_id"), str):
            yield data
        for key, value in data.items():
            if key not in ("sources", "provenance"):
                yield from iter_quotes(value)
    elif isinstance(data, list):
        for item in data:
            yield from iter_quotes(item)


@dataclass
class ArticleScore:
    counts: Counts
    matches: list[dict[str, Any]] = field(default_factory=list)
    missed_actors: list[str] = field(default_factory=list)
    extra_actors: list[str] = field(default_factory=list)
    missed_topics: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _rows(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def score_brief(
    gold: Mapping[str, Any],
    brief: Mapping[str, Any],
    sources: Mapping[str, str],
    *,
    threshold: float = metrics.DEFAULT_THRESHOLD,
) -> ArticleScore:
    """Score one brief (its JSON data) against one gold file (its JSON data).

    `sources` maps each source id to the article text it stands for. Usage (tokens,
    calls, cost) and the quotes grounding dropped come from the brief's provenance.
    """
    c = Counts()
    gold_rows = _rows(gold.get("stances"))
    pred_rows = _rows(brief.get("stances"))
    found = metrics.match_stances(gold_rows, pred_rows, threshold)
    c.gold_rows, c.predicted_rows, c.matched_rows = len(gold_rows), len(pred_rows), len(found)
    pairs = [
        (str(gold_rows[m.gold]["stance"]), str(pred_rows[m.predicted].get("stance"))) for m in found
    ]
    c.labels_correct = sum(1 for g, p in pairs if g == p)
    for key, value in metrics.polar_counts(pairs).items():
        setattr(c, key, value)
    score = ArticleScore(c)
    for m, (g, p) in zip(found, pairs, strict=True):
        score.matches.append(
            {
                "gold_actor": gold_rows[m.gold]["actor"],
                "predicted_actor": pred_rows[m.predicted].get("actor"),
                "similarity": round(m.score, 4),
                "gold_stance": g,
                "predicted_stance": p,
            }
        )
    taken_g = {m.gold for m in found}
    taken_p = {m.predicted for m in found}
    score.missed_actors = [str(r["actor"]) for i, r in enumerate(gold_rows) if i not in taken_g]
    score.extra_actors = [str(r.get("actor")) for i, r in enumerate(pred_rows) if i not in taken_p]

    normalized = {sid: grounding.normalize(text) for sid, text in sources.items()}
    for q in iter_quotes(dict(brief)):
        quote, sid = q["quote"], q["source_id"]
        c.quotes += 1
        anywhere = any(grounding.find(quote, text) for text in normalized.values())
        cited = sid in normalized and grounding.find(quote, normalized[sid])
        c.quotes_verbatim += anywhere
        c.quotes_attributed += cited
        if not cited:
            c.quotes_shown_not_found += 1
            score.defects.append(
                f"quote {quote[:60]!r} (cited {sid}) is shown but not found in its source"
            )
    provenance = brief.get("provenance") or {}
    c.quotes_dropped = int(provenance.get("ungrounded_dropped") or 0)
    c.quotes += c.quotes_dropped

    topics = [str(t) for t in gold.get("open_questions") or []]
    questions = [
        str(q.get("question", "")) if isinstance(q, dict) else str(q)
        for q in brief.get("open_questions") or []
    ]
    covered = metrics.covered_topics(topics, questions, threshold)
    c.gold_topics, c.topics_covered, c.questions = len(topics), sum(covered), len(questions)
    score.missed_topics = [t for t, ok in zip(topics, covered, strict=True) if not ok]

    gold_events = _rows(gold.get("events"))
    # The timeline kind calls it `what_happened`; the gold format, `what`.
    pred_events = [
        {"date": e.get("date", ""), "what": e.get("what", e.get("what_happened", ""))}
        for e in _rows(brief.get("events"))
    ]
    c.gold_events, c.predicted_events = len(gold_events), len(pred_events)
    c.matched_events = len(metrics.match_events(gold_events, pred_events, threshold))

    c.tokens_in = int(provenance.get("tokens_in") or 0)
    c.tokens_out = int(provenance.get("tokens_out") or 0)
    c.calls = int(provenance.get("llm_calls") or 0)
    cost = provenance.get("cost_usd", 0.0)
    c.cost_usd = None if cost is None else float(cost)
    return score


def failed(gold: Mapping[str, Any]) -> Counts:
    """An article whose brief failed scores as an empty brief: every gold row, topic and
    event missed, nothing predicted."""
    return Counts(
        gold_rows=len(_rows(gold.get("stances"))),
        gold_topics=len(gold.get("open_questions") or []),
        gold_events=len(_rows(gold.get("events"))),
    )
