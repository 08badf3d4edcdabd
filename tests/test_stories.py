from __future__ import annotations

from summarizer.stories.clusters import group_stories, near_copies

WIRE = (
    "BRUSSELS (Wire) - European Union finance ministers agreed on Tuesday to extend the "
    "emergency gas price cap for another six months, officials said, after talks that ran "
    "late into the night. The cap, introduced last winter, limits wholesale prices on the "
    "main Dutch hub. Germany and the Netherlands had pushed for an earlier end, while Spain "
    "and Italy argued that households still needed protection before the heating season."
)
WIRE_COPY = "Published by the Daily Courier. " + WIRE.replace(
    "late into the night", "into the night"
)
SAME_STORY = (
    "EU ministers extend gas price cap. Finance ministers from the European Union decided to keep "
    "the emergency cap on gas prices for six more months. Spain and Italy wanted protection for "
    "households; Germany and the Netherlands preferred ending the cap at the Dutch hub sooner."
)
OTHER = (
    "The city council of Porto approved a new tram line along the river on Monday. Construction "
    "of the tram will start next spring and the line should carry twenty thousand passengers daily."
)
OTHER_2 = (
    "Porto tram line approved: councillors voted for the riverside tram, with building work due "
    "in spring and twenty thousand daily passengers expected on the new line."
)


def test_wire_copies_collapse_but_rewrites_do_not() -> None:
    groups = near_copies([WIRE, WIRE_COPY, SAME_STORY, OTHER])
    assert groups == [[0, 1], [2], [3]]


def test_articles_group_into_stories() -> None:
    assert group_stories([WIRE, OTHER, SAME_STORY, OTHER_2]) == [[0, 2], [1, 3]]


def test_unrelated_articles_stay_apart() -> None:
    assert group_stories([WIRE, OTHER]) == [[0], [1]]
    assert group_stories([]) == []


def test_a_story_stops_growing_at_max_size() -> None:
    texts = [WIRE + f" Update {i}." for i in range(6)]
    groups = group_stories(texts, max_size=4)
    assert sorted(len(g) for g in groups) == [2, 4]
    assert sorted(i for g in groups for i in g) == list(range(6))
