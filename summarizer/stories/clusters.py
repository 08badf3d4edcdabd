"""Which articles tell the same story, and which are copies of each other.

Two passes over a day's articles, both on TF-IDF cosine similarity:

- near-copies (wire stories republished by several outlets) are found on the raw text
  before any model call and collapsed into one, confirmed by word 5-gram overlap; the
  copies stay listed as sources but cost nothing;
- stories are found after extraction, on each article's brief (title, summary, key points,
  actors), which is in the output language, so articles in different languages about the
  same event can still meet.

Written by hand rather than with scikit-learn or datasketch: a day is at most a few
thousand short texts, and those libraries would bring numpy and scipy (~100 MB, slower
start) for some eighty lines. Candidate pairs come from an inverted index of each text's
top terms, so the work grows with overlap, not with the square of the article count.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"\w{3,}", re.UNICODE)
_STOP = frozenset(
    """the and for that with from this have has had was were are been will would could
    said says its their they them there than then which who whom what when where while
    about after before into over under more most other some such only also not but can
    may might one two new year years last first his her him she our out all any per via
    according reported reportedly""".split()  # noqa: SIM905 - a word list reads better as prose
)
TOP_TERMS = 40


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP)


def _vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    counts = [_terms(t) for t in texts]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(texts)
    vectors = []
    for c in counts:
        # Smoothed IDF (+1, as scikit-learn does): with few texts, a plain IDF all but
        # zeroes the very terms that two articles on one story share.
        weights = {
            t: (1 + math.log(f)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, f in c.items()
        }
        top = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:TOP_TERMS])
        norm = math.sqrt(sum(w * w for w in top.values())) or 1.0
        vectors.append({t: w / norm for t, w in top.items()})
    return vectors


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs (i, j, cosine) with i < j and cosine >= threshold."""
    vectors = _vectors(texts)
    index: dict[str, list[int]] = defaultdict(list)
    for i, vec in enumerate(vectors):
        for term in vec:
            index[term].append(i)
    pairs = []
    for i, vec in enumerate(vectors):
        dots: dict[int, float] = defaultdict(float)
        for term, w in vec.items():
            for j in index[term]:
                if j > i:
                    dots[j] += w * vectors[j][term]
        pairs += [(i, j, d) for j, d in dots.items() if d >= threshold]
    return pairs


def _shingles(text: str, n: int = 5) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {hash(tuple(words[k : k + n])) for k in range(max(len(words) - n + 1, 1))}


def _components(n: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def near_copies(
    texts: Sequence[str], *, cosine: float = 0.8, overlap: float = 0.5
) -> list[list[int]]:
    """Groups of indices whose texts are near-copies; each group's first index is the one
    to keep (callers order texts so the preferred version comes first)."""
    confirmed = []
    shingles: dict[int, set[int]] = {}
    for i, j, _ in similar_pairs(texts, cosine):
        a = shingles.setdefault(i, _shingles(texts[i]))
        b = shingles.setdefault(j, _shingles(texts[j]))
        if len(a & b) / max(min(len(a), len(b)), 1) >= overlap:
            confirmed.append((i, j))
    return _components(len(texts), confirmed)


def group_stories(
    texts: Sequence[str], *, threshold: float = 0.3, max_size: int = 8
) -> list[list[int]]:
    """Groups of indices that tell the same story. Strongest links join first, and a
    story stops growing at max_size so one busy topic cannot swallow the day."""
    pairs = sorted(similar_pairs(texts, threshold), key=lambda p: -p[2])
    member: dict[int, int] = {}
    stories: list[list[int]] = []
    for i, j, _ in pairs:
        si, sj = member.get(i), member.get(j)
        if si is None and sj is None:
            member[i] = member[j] = len(stories)
            stories.append([i, j])
        elif si is not None and sj is None and len(stories[si]) < max_size:
            member[j] = si
            stories[si].append(j)
        elif sj is not None and si is None and len(stories[sj]) < max_size:
            member[i] = sj
            stories[sj].append(i)
        elif (
            si is not None and sj is not None and si != sj
            and len(stories[si]) + len(stories[sj]) <= max_size
        ):  # fmt: skip
            for k in stories[sj]:
                member[k] = si
            stories[si] += stories[sj]
            stories[sj] = []
    singles = [[i] for i in range(len(texts)) if i not in member]
    return sorted((sorted(s) for s in stories + singles if s), key=lambda g: g[0])
