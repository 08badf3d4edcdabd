"""Names and words of a text, folded so that two days' spellings of one thing meet.

- `fold`: transliterated to ASCII (anyascii: Erdoğan -> erdogan, Кыив -> kyiv), lower case,
  no punctuation, single spaces.
- `evidence(text)`: the names a text mentions (people, places, organisations: runs of
  capitalised words that the text never writes in lower case) and its other content words,
  stemmed (snowballstemmer: strikes, striking -> strike). A name that is a country or a
  city of 250,000 people or more takes the place's key, so its other names are the same
  name: Turkey, Türkiye and Turkish are `country:TR`; Bombay and Mumbai are `city:mumbai`;
  Ivory Coast and Côte d'Ivoire are `country:CI`. Other names are compared word by word on a
  spelling skeleton (doubled letters, q/k, kh/k, dh/d, ph/f, y/i), so Qaddafi meets Gaddafi
  only if the text says so elsewhere, but Kadhafi and Qadhafi meet, and Haftar meets
  "Khalifa Haftar".
- `background(term)`: the share of news texts that would mention a term, from general
  English word frequencies, so that a term's weight does not depend on how many stories a
  day happens to have (continuity.py).

The place names and word frequencies are a table derived from well-kept sources and
shipped in `summarizer/stories/data/` (scripts/make_name_data.py says which and how), read once;
nothing is downloaded at run time.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import snowballstemmer
from anyascii import anyascii

DATA = Path(__file__).resolve().parent / "data"

# Apostrophes split words: "Türkiye's" is Türkiye, "d'Ivoire" is d Ivoire, as folded names are.
_TOKEN = re.compile(r"[^\W\d_](?:[\w\-]*\w)?", re.UNICODE)
_OPENS = re.compile(r"(?:^|[.!?:;\"“”\n]\s*)$")
_NONWORD = re.compile(r"[^a-z0-9\s]")
# Words that join the parts of one name ("Bank of England", "Côte d'Ivoire", "bin Salman").
_JOINERS = frozenset("of the de d del della di da du la le al el bin ibn van von der den".split())  # noqa: SIM905
# Capitalised words that are not names: sentence openers, titles, days and months.
_NOT_NAMES = frozenset(
    """the a an and but or if in on at by for from to of with as after before while when
    where what who why how this that these those there here it its he she they we i you his
    her their our my mr mrs ms dr sir president prime minister ministers minister's chief
    general commander secretary spokesperson spokesman spokeswoman king queen prince mayor
    governor senator judge justice officials official police army foreign interior defence
    defense state national federal central north south east west eastern western northern
    southern monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december today yesterday tomorrow
    breaking update updated live exclusive analysis opinion editorial reuters ap afp
    according meanwhile however also""".split()  # noqa: SIM905 - reads better as prose
)
_STOP = frozenset(
    """the and for that with from this have has had was were are been will would could should
    said says say its their they them there than then which who whom what when where while
    about after before into over under more most other some such only also not but can may
    might one two three new year years last first his her him she our out all any per via
    according reported reportedly told tell week day days month months time being did does
    made make just very like because since until upon these those here each both many much
    yet still even now today yesterday tomorrow monday tuesday wednesday thursday friday
    saturday sunday""".split()  # noqa: SIM905
)
# Words that say who someone is, not what happened: two stories about one minister or one
# company share them whatever the events ("agriculture minister", "chief executive").
_ROLES = frozenset(
    """minister ministers ministry chief executive executives government governments official
    officials spokesperson spokesman spokeswoman president presidential military junta army
    company companies operator operators firm group leader leaders authority authorities
    agency office secretary director chairman chairwoman head deputy department council
    country countries city capital state national federal regional local public including
    include includes percent million billion thousand hundred""".split()  # noqa: SIM905
)
# A word this common in general English is not a name even when capitalised ("Court").
COMMON = 5e-5
# Share of news texts a name of each sort is taken to appear in, when general word
# frequencies do not say: countries are named often, a person or a town rarely.
PRIOR = {"country": 0.03, "city": 0.01, "name": 0.001}
WORDS_PER_TEXT = 500  # a news text's length in words, to turn word frequencies into shares

_stem = snowballstemmer.stemmer("english").stemWord


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """ASCII, lower case, no punctuation, single spaces, no leading 'the'."""
    plain = _NONWORD.sub(" ", anyascii(text).lower())
    words = plain.split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


@cache
def places() -> dict[str, str]:
    """Folded place name -> its key (`country:TR`, `city:mumbai`)."""
    with gzip.open(DATA / "place_names.tsv.gz", "rt", encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("\t", 1) for line in f)


@cache
def frequencies() -> dict[str, float]:
    """Stem -> its frequency per word in general English."""
    with gzip.open(DATA / "word_frequencies.tsv.gz", "rt", encoding="utf-8") as f:
        return {s: float(v) for s, v in (line.rstrip("\n").split("\t", 1) for line in f)}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    # Cached: a day's articles use the same few thousand words over and over.
    return str(_stem(word))


_SKELETON = (
    ("x", "ks"), ("kh", "k"), ("dh", "d"), ("ph", "f"), ("q", "k"), ("y", "i"), ("w", "v"),
    (r"(.)\1+", r"\1"),
)  # fmt: skip


def skeleton(word: str) -> str:
    """A name's spelling skeleton: the transliteration choices folded away."""
    for a, b in _SKELETON:
        word = re.sub(a, b, word)
    return word


def background(term: str) -> float:
    """The share of news texts (0..1) taken to mention a term (`name:x`, `country:TR`,
    `city:x`, or a word stem)."""
    sort, _, rest = term.partition(":")
    if sort in PRIOR:
        f = frequencies().get(rest, 0.0) if sort == "name" else 0.0
        return max(PRIOR[sort], 1 - math.exp(-WORDS_PER_TEXT * f))
    return min(max(1 - math.exp(-WORDS_PER_TEXT * frequencies().get(term, 0.0)), 0.001), 0.95)


@dataclass
class Evidence:
    """What a text mentions: names (key -> count) and its other content words (stem ->
    count), with how the text first spelt each (key or stem -> as written)."""

    names: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    spelt: dict[str, str] = field(default_factory=dict)

    def add(self, other: Evidence) -> None:
        self.names.update(other.names)
        self.words.update(other.words)
        for k, v in other.spelt.items():
            self.spelt.setdefault(k, v)


def _place(tokens: list[str], start: int) -> tuple[str, int] | None:
    """The longest place name (up to four words) starting at `start`: (key, length)."""
    table = places()
    for n in range(min(4, len(tokens) - start), 0, -1):
        key = table.get(" ".join(tokens[start : start + n]))
        if key is not None:
            return key, n
    return None


def evidence(text: str) -> Evidence:
    """The names and content words of a text."""
    found = Evidence()
    matches = list(_TOKEN.finditer(text))
    folded = [fold(m.group()) for m in matches]
    lower = {f for m, f in zip(matches, folded, strict=True) if m.group()[0].islower()}
    # Where a sentence starts, any word has a capital: a lone capitalised word there is a
    # name only if the text also writes it with a capital inside a sentence.
    opens = [bool(_OPENS.search(text[max(m.start() - 3, 0) : m.start()])) for m in matches]
    inside = {
        f
        for f, o, m in zip(folded, opens, matches, strict=True)
        if not o and m.group()[0].isupper()
    }
    freq = frequencies()
    k = 0
    while k < len(matches):
        m = matches[k]
        if not m.group()[0].isupper():
            _word(found, folded[k])
            k += 1
            continue
        # A run of capitalised words (with joiners inside), not broken by punctuation.
        run = [k]
        j = k + 1
        while (
            j < len(matches) and text[matches[j - 1].end() : matches[j].start()].strip("'’ ") == ""
        ):
            capital = matches[j].group()[0].isupper()
            joiner = folded[j] in _JOINERS and j + 1 < len(matches)
            if not capital and not (joiner and matches[j + 1].group()[0].isupper()):
                break
            run.append(j)
            j += 1
        words = [folded[i] for i in run]
        person: tuple[str, str] | None = None  # the run's last name word: its key
        i = 0
        while i < len(words):
            place = _place(words, i)
            if place is not None:
                key, n = place
                found.names[key] += 1
                found.spelt.setdefault(key, " ".join(matches[r].group() for r in run[i : i + n]))
                i += n
                continue
            w = words[i]
            raw = matches[run[i]].group()
            if (
                " " in w or len(w) < 3 or w in _NOT_NAMES or w in _JOINERS or w in lower
                or freq.get(stem(w), 0.0) >= COMMON
                or (len(run) == 1 and opens[run[0]] and w not in inside)
            ):  # fmt: skip
                _word(found, w)  # a common word written with a capital: a word
            else:
                person = ("name:" + skeleton(w), raw)
            i += 1
        if person is not None:
            # One name per run, its last word: "Joaquim Barros", "Barros" and "minister
            # Barros" are one person; a first name alone says little.
            found.names[person[0]] += 1
            found.spelt.setdefault(*person)
        k = j
    return found


def _word(found: Evidence, w: str) -> None:
    for part in w.split():
        if len(part) >= 3 and part not in _STOP and part not in _ROLES and not part.isdigit():
            key = stem(part)
            found.words[key] += 1
            found.spelt.setdefault(key, part)
