"""Quotations in free text are checked against the sources like quotes (issue 19.2)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from summarizer import errors
from summarizer.core import grounding, quotations
from summarizer.core.schemas import BriefContent, TimelineContent

ARTICLE = (
    "The minister said the port “will reopen on Monday after the inspection”.\n"
    "Workers’ unions said they would not return without a written guarantee."
)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("He said “we will close every border tomorrow” at dawn.", ["we will close every border tomorrow"]),
        ('He said "we will close every border" at dawn.', ["we will close every border"]),
        ("Il a dit «nous fermerons les frontières» hier.", ["nous fermerons les frontières"]),
        ("Il a dit « nous fermerons les frontières » hier.", ["nous fermerons les frontières"]),
        ("Er sagte „wir schließen alle Grenzen“ heute.", ["wir schließen alle Grenzen"]),
        ("Er sagte »wir schließen alle Grenzen« heute.", ["wir schließen alle Grenzen"]),
        ("She called it ‘a plan for the port’ twice.", ["a plan for the port"]),
        ("She called it 'a plan for the port' twice.", ["a plan for the port"]),
        ("He said “we will close the border,” and left.", ["we will close the border"]),
        ("He said “…we will close the border…” and left.", ["we will close the border"]),
        # A quotation inside a longer one is part of it.
        ("“He told me ‘we will close the border’ last night,” she said.",
         ["He told me ‘we will close the border’ last night"]),
    ],
)  # fmt: skip
def test_quoted_spans_of_three_words_or_more_are_found(text: str, spans: list[str]) -> None:
    assert [q.words for q in quotations.find(text)] == spans


@pytest.mark.parametrize(
    "text",
    [
        "The minister’s plan and the workers’ union’s answer were both late.",
        "The ministers' plan and the workers' union said they'd wait, won't they.",
        "the so-called “reform” of the port",  # a scare quote: one word
        "the “Safe Harbour” deal and the “special operation”",  # two words each
        "It's the '90s again and rock 'n' roll is back",
        "O'Brien's team and the Smiths' house",
    ],
)
def test_apostrophes_and_scare_quotes_are_not_quotations(text: str) -> None:
    assert quotations.find(text) == []


def test_unquote_keeps_the_words_and_removes_the_marks() -> None:
    text = "He said “we will close every border” and ‘open the port at dawn’."
    assert quotations.unquote(text, quotations.find(text)) == (
        "He said we will close every border and open the port at dawn."
    )


def _brief(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Port",
        "summary": "The port will reopen.",
        "key_points": ["The port will reopen."],
        "stances": [
            {
                "actor": "The minister",
                "issue": "reopening",
                "position": "Supports reopening.",
                "stance": "supports",
                "evidence": [
                    {"quote": "will reopen on Monday after the inspection", "source_id": "S1"}
                ],
            }
        ],
        "open_questions": [
            {"question": "When?", "why_it_matters": "Trade.", "what_would_resolve_it": "A date."}
        ],
    }
    data.update(fields)
    return data


INJECTED = "The minister said “we will close every border tomorrow at dawn”."


def _run(last: bool, policy: grounding.Policy = "drop") -> grounding.GroundingRun:
    return grounding.GroundingRun.for_texts({"S1": ARTICLE}, policy, lambda: last)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"summary": INJECTED}, "summary"),
        ({"title": "Minister: “we will close every border”"}, "title"),
        ({"key_points": ["Fine.", INJECTED]}, "key_points[1]"),
        (
            {
                "open_questions": [
                    {"question": INJECTED, "why_it_matters": "x", "what_would_resolve_it": "y"}
                ]
            },
            "open_questions[0].question",
        ),
    ],
)
def test_an_invented_quotation_in_free_text_is_sent_back(
    fields: dict[str, object], path: str
) -> None:
    with grounding.checking(_run(last=False)), pytest.raises(ValidationError) as err:
        grounding.checked(BriefContent).model_validate(_brief(**fields))
    assert path in str(err.value) and "we will close every border" in str(err.value)
    assert errors.ungrounded(err.value) is not None


def test_an_invented_quotation_in_a_position_is_sent_back() -> None:
    data = _brief()
    data["stances"][0]["position"] = INJECTED  # type: ignore[index]
    with grounding.checking(_run(last=False)), pytest.raises(ValidationError, match="position"):
        grounding.checked(BriefContent).model_validate(data)


@pytest.mark.parametrize("policy", ["drop", "fail"])
def test_on_the_last_attempt_the_marks_go_and_are_counted(policy: grounding.Policy) -> None:
    run = _run(last=True, policy=policy)
    with grounding.checking(run):
        c = grounding.checked(BriefContent).model_validate(
            _brief(summary=INJECTED, key_points=[INJECTED, "Fine."])
        )
    assert c.summary == "The minister said we will close every border tomorrow at dawn."
    assert c.key_points[0] == c.summary
    assert run.unquoted == 2 and run.dropped == 0


def test_a_grounded_quotation_stays() -> None:
    text = (
        "The minister said the port “will reopen on Monday after the inspection”; unions "
        "want “a written guarantee”."
    )
    run = _run(last=True)
    with grounding.checking(run):
        c = grounding.checked(BriefContent).model_validate(_brief(summary=text))
    assert c.summary == text and run.unquoted == 0


def test_a_capitalised_first_letter_is_forgiven_and_nothing_else() -> None:
    run = _run(last=True)
    with grounding.checking(run):
        c = grounding.checked(BriefContent).model_validate(
            _brief(
                summary="The minister: “Will reopen on Monday after the inspection.”",
                key_points=["The minister: “will Reopen on Monday after the inspection.”"],
            )
        )
    assert "“Will reopen" in c.summary and "“" not in c.key_points[0]
    assert run.unquoted == 1


def test_a_quotation_found_in_any_source_of_a_story_stays() -> None:
    run = grounding.GroundingRun.for_texts(
        {"S1": ARTICLE, "S2": "Unions want a written guarantee before they return."},
        "drop",
        lambda: False,
    )
    with grounding.checking(run):
        grounding.checked(BriefContent).model_validate(
            _brief(summary="Unions want “a written guarantee before they return”.")
        )


def test_every_kind_is_checked_timeline_included() -> None:
    data = {
        "title": "Port",
        "events": [
            {
                "date": "Monday",
                "what_happened": "The minister said “we will close every border tomorrow”.",
                "evidence": {"quote": "will reopen on Monday", "source_id": "S1"},
            }
        ],
    }
    with grounding.checking(_run(last=False)), pytest.raises(ValidationError, match="events"):
        grounding.checked(TimelineContent).model_validate(data)


def test_a_plugin_kind_with_its_own_string_shapes_is_checked() -> None:
    class Notes(BaseModel):
        lines: list[str]
        by_topic: dict[str, str]

    run = _run(last=True)
    with grounding.checking(run):
        n = grounding.checked(Notes).model_validate(
            {"lines": [INJECTED], "by_topic": {"borders": INJECTED}}
        )
    assert "“" not in n.lines[0] and "“" not in n.by_topic["borders"]
    assert run.unquoted == 2


def test_a_dropped_row_does_not_count_its_quotations() -> None:
    data = _brief()
    data["stances"][0]["position"] = INJECTED  # type: ignore[index]
    data["stances"][0]["evidence"][0]["quote"] = "never said this at all"  # type: ignore[index]
    run = _run(last=True)
    with grounding.checking(run):
        c = grounding.checked(BriefContent).model_validate(data)
    assert c.stances == [] and run.dropped == 1 and run.unquoted == 0


# Through the real pipeline: real HTTP, the SDK, instructor's reask loop.


def _e2e(server: object, **settings: object) -> BaseModel:
    import asyncio

    from summarizer.config import load_settings
    from summarizer.core.pipeline import brief_documents
    from summarizer.sources.ingest import Document

    s = load_settings(base_url=server.base_url, api_key="sk-test", **settings)  # type: ignore[attr-defined]
    return asyncio.run(brief_documents([Document(text=ARTICLE)], s, kind=settings.get("kind")))[0]  # type: ignore[arg-type]


def test_an_injected_quotation_is_reasked_then_grounded(fake_openai: object) -> None:
    import json

    from summarizer.testing.openai_server import Reply

    fake_openai.queue(Reply(_brief(summary=INJECTED)), Reply(_brief()))  # type: ignore[attr-defined]
    brief = _e2e(fake_openai)
    reask = json.dumps(fake_openai.requests[1]["messages"], ensure_ascii=False)  # type: ignore[attr-defined]
    assert "we will close every border" in reask and "quotation marks" in reask
    assert brief.summary == "The port will reopen."  # type: ignore[attr-defined]
    assert brief.provenance.quotations_unquoted == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["brief", "timeline"])
def test_a_quotation_still_invented_at_the_end_is_shown_unquoted_and_counted(
    fake_openai: object, kind: str
) -> None:
    from summarizer.testing.openai_server import Reply

    if kind == "brief":
        answer = _brief(summary=INJECTED)
    else:
        answer = {
            "title": "Port",
            "events": [
                {
                    "date": "Monday",
                    "what_happened": INJECTED,
                    "evidence": {"quote": "will reopen on Monday", "source_id": "S1"},
                }
            ],
        }
    fake_openai.responder = lambda _req: Reply(answer)  # type: ignore[attr-defined]
    out = _e2e(fake_openai, max_reasks=1, kind=kind)
    assert len(fake_openai.requests) == 2  # type: ignore[attr-defined]
    text = out.summary if kind == "brief" else out.events[0].what_happened  # type: ignore[attr-defined]
    assert text == "The minister said we will close every border tomorrow at dawn."
    assert out.provenance.quotations_unquoted == 1  # type: ignore[attr-defined]
    assert out.provenance.ungrounded_dropped == 0  # type: ignore[attr-defined]
