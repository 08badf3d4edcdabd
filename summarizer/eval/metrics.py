"""The eval's metrics as pure functions on plain data (strings, lists, dicts).

Nothing here knows a Pydantic class or a kind: the scorer hands in the brief as JSON data,
so any kind that has the same fields (stances, open_questions, events, quotes) is scored
the same way. Every function is deterministic: same input, same numbers, same matching.

The definitions are docs/eval.md's ("The metrics, exactly"); keep them in step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.8

# Latin letters that Unicode does not decompose into a base letter plus an accent, so NFKD
# alone would leave "Kalın" and "Kalin" different. Folded by hand, as search engines do.
_FOLD = str.maketrans(
    {"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ħ": "h"}
)
_NOT_WORD = re.compile(r"[^\w]+|_+")


def name_tokens(text: str) -> frozenset[str]:
    """The token set of a name or phrase: case-, accent- and punctuation-insensitive.

    NFKD, drop combining marks, casefold, fold the letters above, then every run of
    characters that are not letters or digits separates tokens.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = bare.casefold().translate(_FOLD)
    return frozenset(t for t in _NOT_WORD.split(folded) if t)


def similarity(a: str, b: str) -> float:
    """Token-set similarity of two names: |A ∩ B| / |A ∪ B| (Jaccard). 0.0 if either is empty."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def coverage(gold: str, predicted: str) -> float:
    """How much of a short gold description a predicted sentence contains: |G ∩ P| / |G|."""
    tg, tp = name_tokens(gold), name_tokens(predicted)
    if not tg:
        return 0.0
    return len(tg & tp) / len(tg)


def actor_similarity(names: Sequence[str], predicted: str) -> float:
    """The best similarity of a predicted actor to a gold actor or any of its aliases."""
    return max((similarity(n, predicted) for n in names), default=0.0)


@dataclass(frozen=True)
class Match:
    gold: int  # index into the gold list
    predicted: int  # index into the predicted list
    score: float


def greedy_match(scores: dict[tuple[int, int], tuple[float, ...]], threshold: float) -> list[Match]:
    """One-to-one matching: take pairs best first, skip any whose gold or prediction is taken.

    `scores[(g, p)]` is a tuple compared lexicographically (the first element is the one
    that must reach `threshold`; later ones break its ties). Remaining ties go to the lower
    gold index, then the lower predicted index, so the result never depends on dict order.
    """
    eligible = [(s, g, p) for (g, p), s in scores.items() if s[0] >= threshold]
    eligible.sort(key=lambda x: (tuple(-v for v in x[0]), x[1], x[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[Match] = []
    for s, g, p in eligible:
        if g in used_g or p in used_p:
            continue
        used_g.add(g)
        used_p.add(p)
        out.append(Match(g, p, s[0]))
    return sorted(out, key=lambda m: m.gold)


def match_stances(
    gold: Sequence[dict[str, object]],
    predicted: Sequence[dict[str, object]],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """Match predicted stance rows to gold rows by actor (or alias) similarity.

    Ties in actor similarity (one actor on two issues) are broken by the similarity of the
    rows' `issue`, then by list order.
    """
    scores: dict[tuple[int, int], tuple[float, ...]] = {}
    for g, grow in enumerate(gold):
        names = [str(grow.get("actor", "")), *(str(a) for a in _list(grow.get("aliases")))]
        for p, prow in enumerate(predicted):
            actor = actor_similarity(names, str(prow.get("actor", "")))
            issue = similarity(str(grow.get("issue", "")), str(prow.get("issue", "")))
            scores[(g, p)] = (actor, issue)
    return greedy_match(scores, threshold)


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None (not measured) when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def prf(matched: int, predicted: int, gold: int) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 from counts. F1 = 2·matched / (predicted + gold), which is
    the harmonic mean of P and R when both exist, and 0 (not undefined) when one side is
    empty and the other is not. Each is None when its denominator is 0."""
    return ratio(matched, predicted), ratio(matched, gold), ratio(2 * matched, predicted + gold)


POLAR_LABELS = ("supports", "opposes")


def label_f_avg(pairs: Iterable[tuple[str, str]]) -> float | None:
    """SemEval-2016 Task 6's F_avg over (gold label, predicted label) pairs.

    F1 of `supports` (FAVOR) and of `opposes` (AGAINST), averaged. The other three labels
    (mixed, neutral, unclear) play the role of SemEval's NONE: never averaged, but a row
    wrongly given or denied a polar label still costs that label's precision or recall.
    F1(c) = 2·TP(c) / (predicted(c) + gold(c)); a polar label absent from both sides is
    left out of the mean (SemEval's script would count it as 0); None if both are absent.
    """
    pairs = list(pairs)
    scores = []
    for label in POLAR_LABELS:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        total = sum(1 for _, p in pairs if p == label) + sum(1 for g, _ in pairs if g == label)
        if total:
            scores.append(2 * tp / total)
    return sum(scores) / len(scores) if scores else None


def polar_counts(pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The counts behind label_f_avg, so F_avg can be micro-averaged over articles."""
    pairs = list(pairs)
    out: dict[str, int] = {}
    for label in POLAR_LABELS:
        out[f"{label}_tp"] = sum(1 for g, p in pairs if g == label and p == label)
        out[f"{label}_predicted"] = sum(1 for _, p in pairs if p == label)
        out[f"{label}_gold"] = sum(1 for g, _ in pairs if g == label)
    return out


def f_avg_from_counts(counts: dict[str, int]) -> float | None:
    scores = []
    for label in POLAR_LABELS:
        total = counts[f"{label}_predicted"] + counts[f"{label}_gold"]
        if total:
            scores.append(2 * counts[f"{label}_tp"] / total)
    return sum(scores) / len(scores) if scores else None


def covered_topics(
    topics: Sequence[str], questions: Sequence[str], threshold: float = DEFAULT_THRESHOLD
) -> list[bool]:
    """For each gold topic: is it covered by at least one predicted question, i.e. does some
    question contain at least `threshold` of the topic's tokens (`coverage`)?"""
    return [any(coverage(t, q) >= threshold for q in questions) for t in topics]


# --- timeline events -----------------------------------------------------------------

_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_FILLER = frozenset({"on", "of", "the", "in"})
_ORDINALS = frozenset(f"{d}{s}" for d in range(1, 32) for s in ("st", "nd", "rd", "th"))
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def normalize_date(text: str) -> str:
    """A date as an article states it, in one canonical form, so that equal dates compare equal.

    ISO dates stay ISO (`2019-11-27`, `2019-11`, `2019`). English month names, full or
    abbreviated, with an optional day and year, in either order (`27 November 2019`,
    `Nov. 27, 2019`, `November 2019`, `27 Nov`) become `YYYY-MM-DD`, `YYYY-MM`, or
    `--MM-DD` without a year; the words on, of, the, in are ignored. Anything else (`last Tuesday`) becomes its tokens, sorted and
    joined by spaces, so only the same words match.
    """
    raw = text.strip()
    m = _ISO.match(raw)
    if m:
        year, month, day = m.groups()
        return "-".join([year, *(f"{int(x):02d}" for x in (month, day) if x)])
    words = sorted(name_tokens(raw))
    months: list[int] = []
    years: list[str] = []
    days: list[int] = []
    others: list[str] = []
    for w in words:
        if w in _FILLER:
            continue
        if w in _MONTHS:
            months.append(_MONTHS[w])
        elif w.isdigit() and len(w) == 4:
            years.append(w)
        elif (w.isdigit() and len(w) <= 2 and 1 <= int(w) <= 31) or w in _ORDINALS:
            days.append(int(w.rstrip("stndrh")))
        else:
            others.append(w)
    if len(months) != 1 or others or len(years) > 1 or len(days) > 1:
        return " ".join(words)
    year = years[0] if years else "-"
    return f"{year}-{months[0]:02d}-{days[0]:02d}" if days else f"{year}-{months[0]:02d}"


def match_events(
    gold: Sequence[dict[str, object]],
    predicted: Sequence[dict[str, object]],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """An event matches when the normalised dates are equal and the predicted `what`
    covers at least `threshold` of the gold `what`'s tokens; one to one, greedily."""
    scores: dict[tuple[int, int], tuple[float, ...]] = {}
    for g, ge in enumerate(gold):
        gdate = normalize_date(str(ge.get("date", "")))
        for p, pe in enumerate(predicted):
            if normalize_date(str(pe.get("date", ""))) != gdate:
                continue
            scores[(g, p)] = (coverage(str(ge.get("what", "")), str(pe.get("what", ""))),)
    return greedy_match(scores, threshold)
