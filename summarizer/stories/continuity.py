"""Stories that continue: which earlier story today's articles join, which actor and issue
are the same across days, and which question is already asked. Mechanical and explainable,
so a reader (and a test) can say why two things were matched.

- A story matches an earlier one on evidence from its articles as well as from the
  model's fields (title, summary, key points, actors and issues, quotes): the names both
  mention (people, places, organisations; names.py folds spellings, transliterations and
  the other names of places) and their other content words, each compared as TF-IDF
  vectors whose document frequencies come from a base of stories on top of general news
  (Base), so two or three stories on a quiet day do not make shared names weigh nothing:

      score = cosine(names) ** NAME_WEIGHT x cosine(words) ** WORD_WEIGHT

  Today's story joins the earlier story with the highest score at or above the threshold
  ([daily.continuity] threshold); an earlier story is joined by one story of today at most.
  The weights and the threshold come from seeds/gold-links (docs/linking.md). A reader is
  told what the match rests on ("linked on shared names: ..."), never the formula.
- Actors are the same when their normalised names are (lower case, accents, punctuation
  and a leading "the" removed), when one is an alias of the other (the part in brackets of
  "Türkiye (Ankara)", or a name whose words are all in the other's: "Haftar" and "Khalifa
  Haftar"), within one story only.
- Issues are the same when their content words overlap by ISSUE_OVERLAP (Jaccard).
- Questions are the same when their content words overlap by QUESTION_OVERLAP (Jaccard).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarizer.core.schemas import BriefContent, MatchEvidence, StanceRow, StanceShift
from summarizer.stories import clusters, names

# Chosen on seeds/gold-links (docs/linking.md says how).
NAME_WEIGHT = 0.4
WORD_WEIGHT = 0.6
EMBED_CHARS = 1500
BACKGROUND = 100  # pseudo-stories of general news behind every base (Base)
ISSUE_OVERLAP = 0.5
QUESTION_OVERLAP = 0.6

_PAREN = re.compile(r"\(([^)]*)\)")
_NONWORD = re.compile(r"[^\w\s]", re.UNICODE)


def normalise(name: str) -> str:
    """Lower case, no accents, no punctuation, no leading 'the', single spaces."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Dotless and dotted i (Turkish names) fold to i.
    plain = plain.replace("ı", "i")
    words = _NONWORD.sub(" ", plain).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def aliases(actor: str) -> set[str]:
    """The normalised names an actor goes by: the whole name, the name without its
    bracketed part, and each bracketed part ("Türkiye (Ankara)" -> türkiye, ankara)."""
    names = {normalise(actor), normalise(_PAREN.sub(" ", actor))}
    names |= {normalise(m) for m in _PAREN.findall(actor)}
    return {n for n in names if n}


def same_actor(a: str, b: str) -> bool:
    x, y = aliases(a), aliases(b)
    if x & y:
        return True
    # "Haftar" and "Khalifa Haftar": every word of one name is in the other, and it is a
    # name, not a stray short word.
    for n in x:
        for m in y:
            short, long_ = sorted((set(n.split()), set(m.split())), key=len)
            if short and short <= long_ and max(len(w) for w in short) >= 4:
                return True
    return False


def content_words(text: str) -> set[str]:
    return set(clusters._terms(normalise(text)))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def same_issue(a: str, b: str) -> bool:
    x, y = content_words(a), content_words(b)
    return normalise(a) == normalise(b) or jaccard(x, y) >= ISSUE_OVERLAP


def same_question(a: str, b: str) -> bool:
    x, y = content_words(a), content_words(b)
    return normalise(a) == normalise(b) or jaccard(x, y) >= QUESTION_OVERLAP


def story_text(b: BriefContent) -> str:
    actors = " ".join(f"{r.actor} {r.issue}" for r in b.stances)
    return f"{b.title}. {b.summary} {' '.join(b.key_points)} {actors}"


def article_text(title: str | None, text: str) -> str:
    """An article as matching reads it: its title (unless the text opens with it) and text."""
    if not title or text.lstrip().startswith(title.strip()):
        return text
    return f"{title}\n{text}"


def match_text(b: BriefContent) -> str:
    """What the model said happened (the actors are matched as names, apart)."""
    return f"{b.title}. {b.summary} {' '.join(b.key_points)}"


def story_quotes(b: BriefContent) -> list[str]:
    return [e.quote for r in b.stances for e in r.evidence] + [
        c.quote for d in b.disagreements for c in d.claims
    ]


@dataclass(frozen=True)
class Side:
    """One story as matching sees it: the model's fields (`story_text`), its actors, and
    what its sources say (each article's title and text, the quotes)."""

    text: str
    actors: Sequence[str] = ()
    articles: Sequence[str] = ()  # the articles first, then any quotes
    vector: Sequence[float] | None = None  # its embedding, when [daily.continuity] embeddings

    def gist(self) -> str:
        """What is embedded: the model's fields and the start of the first article."""
        lead = self.articles[0][:EMBED_CHARS] if self.articles else ""
        return f"{self.text}\n{lead}".strip()[: EMBED_CHARS * 2]

    def evidence(self) -> names.Evidence:
        found = names.evidence(self.text)
        for a in self.actors:
            # An actor is a name; the words around it ("the article", "ministry of") are
            # how the model labels it, the same on every story, not what happened.
            found.names.update(names.evidence(a).names)
        for a in self.articles:
            found.add(names.evidence(a))
        return found


class Base:
    """Document frequencies of names and words over a base of stories (the day's and the
    earlier ones matching reads, and any more the caller adds), on top of BACKGROUND
    pseudo-stories of general news (names.background): with two stories, a name both
    mention still weighs what a rare name weighs, and a word every story of the base uses
    weighs little."""

    def __init__(self, stories: Sequence[names.Evidence] = ()) -> None:
        self.n = 0
        self.df: Counter[str] = Counter()
        for e in stories:
            self.add(e)

    def add(self, e: names.Evidence) -> None:
        self.n += 1
        self.df.update(e.names.keys())
        self.df.update(e.words.keys())

    def idf(self, term: str) -> float:
        prior = BACKGROUND * names.background(term)
        return math.log((self.n + BACKGROUND + 1) / (self.df[term] + prior + 1))


def _vector(counts: Counter[str], base: Base) -> dict[str, float]:
    weights = {t: (1 + math.log(c)) * base.idf(t) for t, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


def _shared(a: dict[str, float], b: dict[str, float]) -> list[tuple[str, float]]:
    """The terms both vectors have, with their part of the cosine, largest first."""
    return sorted(((t, w * b[t]) for t, w in a.items() if t in b), key=lambda x: -x[1])


@dataclass(frozen=True)
class Match:
    today: int  # index of today's story
    earlier: int  # index of the earlier story
    score: float
    names: float  # cosine of the names both stories' sources and fields mention
    words: float  # cosine of their other content words
    shared_names: tuple[str, ...]  # as today's story spells them, strongest first
    shared_words: tuple[str, ...]
    meaning: float | None = None  # cosine of the two embeddings, when there are
    checked: str | None = None  # the second opinion, when the score was close (follow.py)

    def shared(self) -> str:
        """What both stories mention: "shared names: ...; shared words: ..."."""
        out = "shared names: " + (", ".join(self.shared_names[:5]) or "none")
        if self.shared_words:
            out += "; shared words: " + ", ".join(self.shared_words[:5])
        return out

    def explain(self) -> str:
        """For readers: on what evidence, never the formula (the parts are in `parts`)."""
        return "linked on " + self.shared() + (f"; {self.checked}" if self.checked else "")

    def parts(self) -> dict[str, Any]:
        """For operators: the score and its parts."""
        return {
            "score": self.score,
            "names": self.names,
            "words": self.words,
            "weights": {"names": NAME_WEIGHT, "words": WORD_WEIGHT},
            "shared_names": list(self.shared_names),
            "shared_words": list(self.shared_words),
            "meaning": self.meaning,
        }

    def evidence(self, threshold: float, checked: bool = False) -> MatchEvidence:
        return MatchEvidence(
            score=self.score, threshold=threshold, names=self.names, words=self.words,
            shared_names=list(self.shared_names), shared_words=list(self.shared_words),
            meaning=self.meaning, checked=checked,
        )  # fmt: skip


def _cosine(a: Sequence[float] | None, b: Sequence[float] | None) -> float | None:
    if a is None or b is None:
        return None
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return max(sum(x * y for x, y in zip(a, b, strict=False)) / norm, 0.0) if norm else 0.0


def _as_side(s: Side | tuple[str, Sequence[str]]) -> Side:
    return s if isinstance(s, Side) else Side(s[0], tuple(s[1]))


def score(
    today: Sequence[Side | tuple[str, Sequence[str]]],
    earlier: Sequence[Side | tuple[str, Sequence[str]]],
    base: Base | None = None,
) -> list[Match]:
    """Every (today, earlier) pair with a score above zero, best first. A side is a `Side`
    (or (text, actors)). `base` gives the document frequencies; both sides are added to it.

        score = cosine(names) ** NAME_WEIGHT x cosine(words) ** WORD_WEIGHT

    each cosine over TF-IDF vectors of what the story's sources and the model's fields say
    (with embeddings on both sides, the words' cosine is averaged with theirs):
    a weighted geometric mean, so both kinds of evidence are needed (one shared minister
    is not one story; nor is one shared word "strike")."""
    t_ev = [_as_side(s).evidence() for s in today]
    e_ev = [_as_side(s).evidence() for s in earlier]
    base = base if base is not None else Base()
    for e in t_ev + e_ev:
        base.add(e)
    t_sides, e_sides = [_as_side(s) for s in today], [_as_side(s) for s in earlier]
    t_vec = [(_vector(e.names, base), _vector(e.words, base)) for e in t_ev]
    e_vec = [(_vector(e.names, base), _vector(e.words, base)) for e in e_ev]
    # Candidates through an inverted index of the earlier stories' names: a pair with no
    # name in common scores 0 (a geometric mean), and the work grows with what stories
    # share, not with the product of their numbers.
    index: dict[str, list[int]] = defaultdict(list)
    for j, (nv, _) in enumerate(e_vec):
        for t in nv:
            index[t].append(j)
    found = []
    for i, (nv, wv) in enumerate(t_vec):
        for j in sorted({j for t in nv for j in index.get(t, ())}):
            ev_n, ev_w = e_vec[j]
            cw = sum(w * ev_w[t] for t, w in wv.items() if t in ev_w)
            meaning = _cosine(t_sides[i].vector, e_sides[j].vector)
            # With embeddings, what happened is read from the words and the meaning alike.
            what = cw if meaning is None else (cw + meaning) / 2
            if what <= 0:
                continue
            sn, sw = _shared(nv, ev_n), _shared(wv, ev_w)
            cn = sum(x for _, x in sn)
            s = cn**NAME_WEIGHT * what**WORD_WEIGHT
            spelt = t_ev[i].spelt
            found.append(
                Match(
                    i, j, round(s, 4), round(cn, 4), round(cw, 4),
                    tuple(spelt.get(t, t) for t, _ in sn[:8]),
                    tuple(spelt.get(w, w) for w, _ in sw[:8]),
                    None if meaning is None else round(meaning, 4),
                )
            )  # fmt: skip
    return sorted(found, key=lambda m: (-m.score, m.today, m.earlier))


def assign(matches: Sequence[Match], threshold: float) -> dict[int, Match]:
    """Today's index -> its match: best scores first, each side used once."""
    chosen: dict[int, Match] = {}
    taken: set[int] = set()
    for m in matches:
        if m.score < threshold or m.today in chosen or m.earlier in taken:
            continue
        chosen[m.today] = m
        taken.add(m.earlier)
    return chosen


def stance_shifts(
    earlier: Sequence[tuple[str, Sequence[StanceRow]]], today: Sequence[StanceRow], day: str
) -> list[StanceShift]:
    """Today's rows whose actor and issue were last seen (in `earlier`, (day, rows) oldest
    first, all of one story) with another stance: one shift each, with both quotes."""
    found = []
    for row in today:
        last: tuple[str, StanceRow] | None = None
        for when, rows in earlier:
            for old in rows:
                if same_actor(old.actor, row.actor) and same_issue(old.issue, row.issue):
                    last = (when, old)
        if last is None or last[1].stance == row.stance or not row.evidence:
            continue
        when, old = last
        if not old.evidence:
            continue
        found.append(
            StanceShift(
                actor=row.actor,
                issue=row.issue,
                before=old.stance,
                before_day=when,
                before_quote=old.evidence[0].quote,
                after=row.stance,
                after_day=day,
                after_quote=row.evidence[0].quote,
            )
        )
    return found
