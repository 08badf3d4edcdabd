from __future__ import annotations

import pytest
from pydantic import ValidationError

from summarizer.core import grounding
from summarizer.core.schemas import BriefContent as _BriefContent

# What the pipeline asks the model for: the content model with the check attached.
BriefContent = grounding.checked(_BriefContent)

ARTICLE = (
    "Haftar emphasized the “deep historical ties between the Libyan and Turkish naval forces.”\n\n"
    "The minister said the plan was   “not   negotiable” — for now.  "
    "Tobruk’s parliament will vote on the 2019 deal."
)


def content(*quotes: tuple[str, str]) -> dict:
    return {
        "title": "t",
        "summary": "s",
        "key_points": ["k"],
        "stances": [
            {
                "actor": f"a{i}",
                "issue": "i",
                "position": "p",
                "stance": "supports",
                "evidence": [{"quote": q, "source_id": sid}],
            }
            for i, (q, sid) in enumerate(quotes)
        ],
        "open_questions": [],
    }


@pytest.mark.parametrize(
    "quote",
    [
        'Haftar emphasized the "deep historical ties between the Libyan and Turkish naval forces."',
        'the plan was "not negotiable" - for now.',
        "the plan was “not negotiable” – for now.",
        "Tobruk's parliament will vote on the 2019 deal.",
        '"Tobruk\'s parliament will vote on the 2019 deal."',  # outer quote marks added by a model
        "Tobruk’s  parliament\nwill vote",
    ],
)
def test_normalised_quotes_are_found(quote: str) -> None:
    assert grounding.find(quote, grounding.normalize(ARTICLE))


@pytest.mark.parametrize(
    "quote",
    [
        "Tobruk's parliament will vote on the 2020 deal.",  # a changed number
        "tobruk's parliament will vote",  # case is part of verbatim
        "Haftar emphasized deep historical ties",  # words dropped
        "the plan",  # too short to prove anything
        "Tobruk's parliament ... the 2019 deal.",  # ellipsis stitching
    ],
)
def test_altered_quotes_are_not_found(quote: str) -> None:
    assert not grounding.find(quote, grounding.normalize(ARTICLE))


def _run(policy: grounding.Policy, last: bool) -> grounding.GroundingRun:
    return grounding.GroundingRun.for_texts({"S1": ARTICLE}, policy, lambda: last)


def test_validation_without_a_run_does_not_check() -> None:
    # Loading a stored brief must not need its sources.
    BriefContent.model_validate(content(("invented words entirely", "S1")))


def test_fabricated_quote_is_a_validation_error_naming_the_row() -> None:
    with grounding.checking(_run("drop", last=False)), pytest.raises(ValidationError) as err:
        BriefContent.model_validate(
            content(("Tobruk's parliament will vote", "S1"), ("made up quote here", "S1"))
        )
    assert "stances[1].evidence[0]" in str(err.value)
    assert "made up quote here" in str(err.value)


def test_unknown_source_id_is_refused() -> None:
    with grounding.checking(_run("drop", last=False)), pytest.raises(ValidationError) as err:
        BriefContent.model_validate(content(("Tobruk's parliament will vote", "S9")))
    assert "'S9' is not one of: S1" in str(err.value)


def test_last_attempt_drops_and_counts_in_drop_policy() -> None:
    with grounding.checking(_run("drop", last=True)) as run:
        c = BriefContent.model_validate(
            content(("Tobruk's parliament will vote", "S1"), ("made up quote here", "S1"))
        )
    assert [r.actor for r in c.stances] == ["a0"]
    assert run.dropped == 1


def test_last_attempt_still_fails_in_fail_policy() -> None:
    with grounding.checking(_run("fail", last=True)), pytest.raises(ValidationError):
        BriefContent.model_validate(content(("made up quote here", "S1")))


def test_disagreement_claims_are_checked_and_dropped_as_a_whole() -> None:
    texts = {
        "S1": "The ministry said 40 people were hurt.",
        "S2": "Hospital staff counted 65 injured.",
    }
    data = content()
    data["disagreements"] = [
        {
            "topic": "Number injured",
            "kind": "fact",
            "claims": [
                {"source_id": "S1", "claim": "40 hurt", "quote": "said 40 people were hurt"},
                {"source_id": "S2", "claim": "65 hurt", "quote": "counted 70 injured"},
            ],
        }
    ]
    with (
        grounding.checking(grounding.GroundingRun.for_texts(texts, "drop", lambda: False)),
        pytest.raises(ValidationError, match=r"disagreements\[0\]\.claims\[1\]"),
    ):
        BriefContent.model_validate(data)
    run = grounding.GroundingRun.for_texts(texts, "drop", lambda: True)
    with grounding.checking(run):
        c = BriefContent.model_validate(data)
    # One side alone is not a disagreement: the whole entry goes, and the bad quote is counted.
    assert c.disagreements == [] and run.dropped == 1


def test_any_model_is_walked_for_quotes_and_pruned_by_what_it_can_do_without() -> None:
    """A kind's own shapes: an optional quote is cleared, a required one takes its item with
    it, a list that falls below its min_length takes its owner; the rest stays."""
    from pydantic import BaseModel, Field

    from summarizer.core.schemas import Quote

    class Item(BaseModel):
        name: str
        proof: Quote
        aside: Quote | None = None

    class Group(BaseModel):
        items: list[Item] = Field(min_length=1)

    class Report(BaseModel):
        groups: list[Group]
        headline: Quote | None = None

    good = {"quote": "Tobruk's parliament will vote", "source_id": "S1"}
    bad = {"quote": "nobody said this at all", "source_id": "S1"}
    data = {
        "groups": [
            {"items": [{"name": "kept", "proof": good, "aside": bad}]},
            {"items": [{"name": "gone", "proof": bad}]},
        ],
        "headline": bad,
    }
    paths = [p for p, _ in grounding.walk(Report.model_validate(data))]
    assert paths == [
        "groups[0].items[0].proof", "groups[0].items[0].aside", "groups[1].items[0].proof",
        "headline",
    ]  # fmt: skip
    run = _run("drop", last=True)
    with grounding.checking(run):
        report = grounding.checked(Report).model_validate(data)
    assert [[i.name for i in g.items] for g in report.groups] == [["kept"]]
    assert report.groups[0].items[0].aside is None and report.headline is None
    assert run.dropped == 3
