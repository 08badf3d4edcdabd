"""Stories that continue: which earlier story today's articles join, which actor and issue
are the same across days, and which question is already asked. Mechanical and explainable,
so a reader (and a test) can say why two things were matched.

- A story matches an earlier one on a score of two parts, both between 0 and 1:

      score = TEXT_WEIGHT * cosine(titles + summaries + key points + actors and issues)
            + ACTOR_WEIGHT * shared actors / all actors of both (Jaccard)

  the cosine being the TF-IDF one that groups a day's articles into stories (stories.py).
  Today's story joins the earlier story with the highest score at or above the threshold
  ([daily.continuity] threshold); an earlier story is joined by one story of today at most.
- Actors are the same when their normalised names are (lower case, accents, punctuation
  and a leading "the" removed), when one is an alias of the other (the part in brackets of
  "Türkiye (Ankara)", or a name whose words are all in the other's: "Haftar" and "Khalifa
  Haftar"), within one story only.
- Issues are the same when their content words overlap by ISSUE_OVERLAP (Jaccard).
- Questions are the same when their content words overlap by QUESTION_OVERLAP (Jaccard).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from summarizer import stories
from summarizer.schemas import BriefContent, StanceRow, StanceShift

TEXT_WEIGHT = 0.7
ACTOR_WEIGHT = 0.3
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
    return set(stories._terms(normalise(text)))


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


def _shared_actors(a: Sequence[str], b: Sequence[str]) -> list[str]:
    return [x for x in dict.fromkeys(a) if any(same_actor(x, y) for y in b)]


@dataclass(frozen=True)
class Match:
    today: int  # index of today's story
    earlier: int  # index of the earlier story
    score: float
    cosine: float
    shared: tuple[str, ...]

    def explain(self) -> str:
        actors = ", ".join(self.shared) if self.shared else "none"
        return (
            f"score {self.score:.2f} = {TEXT_WEIGHT} x text similarity {self.cosine:.2f} "
            f"+ {ACTOR_WEIGHT} x shared actors ({actors})"
        )


def score(
    today: Sequence[tuple[str, Sequence[str]]], earlier: Sequence[tuple[str, Sequence[str]]]
) -> list[Match]:
    """Every (today, earlier) pair with a score above zero, best first. Each side is
    (text, actors). The cosine's IDF is taken over both sides together."""
    texts = [t for t, _ in today] + [t for t, _ in earlier]
    n = len(today)
    cos = {(i, j - n): c for i, j, c in stories.similar_pairs(texts, 0.0) if i < n <= j}
    found = []
    for i, (_, a) in enumerate(today):
        for j, (_, b) in enumerate(earlier):
            shared = _shared_actors(a, b)
            # One shared actor among many is weak evidence ("Germany" in a gas story and a
            # football one): the share of all actors counts, not of the smaller side's.
            union = len(set(a)) + len(set(b)) - len(shared)
            c = cos.get((i, j), 0.0)
            s = TEXT_WEIGHT * c + ACTOR_WEIGHT * (min(len(shared) / union, 1.0) if union else 0)
            if s > 0:
                found.append(Match(i, j, round(s, 4), round(c, 4), tuple(shared)))
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
