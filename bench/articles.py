"""Deterministic synthetic news articles for the benchmarks.

Each article is 400-900 words of seeded random sentences about its own made-up topic
(a place, an organisation, a person and a subject), so most articles are separate
stories. A few are second reports of another article's story (same topic words, other
sentences: the reduce step synthesizes them) and a few are near-copies (a wire story
republished with a new first line: collapsed before any call).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


_SYLLABLES = _words(
    "ka lo ve ra mi sun tor bel da quin zor pha lis mer gan tu rho vex nal dor fi "
    "shan ulm bra cot yen wes kar lum tiv gor sel pim dra ost nev hal jur"
)
_SUBJECTS = _words(
    "water tariffs, port expansion, teacher pay, rail tender, flood defences, "
    "fishing quotas, hospital merger, wind farm, border checks, grain exports, "
    "pension reform, bridge repairs, housing permits, mining licence, tram line, "
    "airport curfew, data centre, river dredging, vaccine supply, election law",
    ", ",
)
_VERBS = _words(
    "said, argued, warned, insisted, confirmed, denied, suggested, announced, "
    "estimated, questioned, claimed, noted",
    ", ",
)
_WORDS = _words(
    "council ministry officials residents budget committee plan proposal deal vote "
    "report figures costs delay contract workers union court ruling review agency "
    "funding talks statement schedule project region district market prices supply "
    "demand critics supporters opposition government company investors lenders "
    "inspectors engineers experts analysts families farmers traders drivers nurses"
)
_ADJ = _words(
    "new revised early late public private regional national local final initial "
    "disputed approved delayed costly modest urgent formal informal"
)


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


@dataclass(frozen=True)
class Topic:
    place: str
    org: str
    person: str
    subject: str
    words: tuple[str, ...]  # rare words only this topic uses, so its articles meet


def _topic(rng: random.Random) -> Topic:
    return Topic(
        place=_name(rng, 3),
        org=f"{_name(rng, 2)} {rng.choice(['Authority', 'Council', 'Union', 'Group', 'Agency'])}",
        person=f"{_name(rng, 2)} {_name(rng, 3)}",
        subject=rng.choice(_SUBJECTS),
        words=tuple(_name(rng, 3).lower() for _ in range(6)),
    )


def _sentence(rng: random.Random, t: Topic) -> str:
    who = rng.choice([t.person, t.org, f"officials in {t.place}", "the minister", "critics"])
    n = rng.randint(6, 14)
    filler = " ".join(rng.choice(_WORDS + _ADJ) for _ in range(n))
    key = " ".join(rng.sample(t.words, 2))
    number = rng.randint(2, 900)
    return (
        f"{who[0].upper()}{who[1:]} {rng.choice(_VERBS)} that the "
        f"{rng.choice(_ADJ)} {t.subject} {filler} {key} would cost {number} million."
    )


def _article(rng: random.Random, t: Topic, words: int) -> str:
    title = f"{t.place} {t.org.split()[0]} {t.subject} {rng.choice(_ADJ)} {t.words[0]}"
    lead = (
        f"{t.person} of the {t.org} in {t.place} {rng.choice(_VERBS)} on "
        f"{rng.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])} that the "
        f"{t.subject} plan {t.words[0]} {t.words[1]} had reached a {rng.choice(_ADJ)} stage."
    )
    paras = [lead]
    count = len(lead.split())
    while count < words:
        para = " ".join(_sentence(rng, t) for _ in range(rng.randint(2, 5)))
        paras.append(para)
        count += len(para.split())
    return title + "\n\n" + "\n\n".join(paras) + "\n"


def generate(n: int, *, seed: int = 5) -> list[str]:
    """n article texts: about 1 in 20 a second report of an earlier story, 1 in 40 a
    near-copy of an earlier article, the rest each its own story."""
    rng = random.Random(seed)
    topics: list[Topic] = []
    texts: list[str] = []
    for i in range(n):
        roll = rng.random()
        if texts and roll < 0.025:
            src = rng.randrange(len(texts))
            texts.append("Via the wire service:\n\n" + texts[src])
            continue
        if topics and roll < 0.075:
            topic = rng.choice(topics)
        else:
            topic = _topic(rng)
            topics.append(topic)
        texts.append(_article(random.Random(seed * 100_003 + i), topic, rng.randint(400, 900)))
    return texts


def write(directory: Path, n: int, *, seed: int = 5) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    texts = generate(n, seed=seed)
    for i, text in enumerate(texts):
        (directory / f"a{i:04d}.txt").write_text(text, encoding="utf-8")
    return texts
