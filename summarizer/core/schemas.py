"""The output contract: what a brief is.

Field names are a public contract for bots and scripts; change them only together with
SCHEMA_VERSION and the files in schemas/. The descriptions are prompt text: the model
reads them through the JSON Schema, so they say what a good value is.

`BriefContent` is what the model is asked to produce. `Brief` adds what the pipeline
knows and the model must not invent: the sources and the provenance. Every kind (see
kinds.py) pairs a content model like it with an output model made by `output_model()`.

Quotes are one typed building block, `Quote`: evidence, claims and a timeline's events all
use it, and the grounding check (grounding.py) finds every `Quote` in any kind's content by
walking its fields, so no kind can show a quote that was not found in its source.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

SCHEMA_VERSION = "1.5"


class Stance(StrEnum):
    supports = "supports"
    opposes = "opposes"
    mixed = "mixed"
    neutral = "neutral"
    unclear = "unclear"


def _no_property_titles(schema: dict[str, Any]) -> None:
    # Pydantic titles each property after its own name ("Source Id" for source_id): it tells
    # the model nothing, and the schema is sent with every call (~130 tokens).
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_property_titles)


class Quote(_Strict):
    # No docstring on purpose: it would become schema text sent with every call.
    quote: str = Field(
        description=(
            "An exact, verbatim excerpt copied character for character from the source "
            "article that shows the position. Do not paraphrase, translate, shorten with "
            "ellipses or fix typos; keep the original language."
        ),
        min_length=1,
    )
    source_id: str = Field(
        description="The id of the source the quote is copied from, e.g. S1.",
    )


class Evidence(Quote):
    pass


class StanceRow(_Strict):
    actor: str = Field(description="Who holds the position: a person, government, group or outlet.")
    issue: str = Field(description="The question or matter the position is about, in a few words.")
    position: str = Field(description="The actor's position on the issue, in one sentence.")
    stance: Stance = Field(
        description=(
            "How the actor stands on the issue: supports, opposes, mixed, neutral, or unclear "
            "when the article does not make it clear."
        )
    )
    evidence: list[Evidence] = Field(
        description="One or more verbatim quotes from the sources that show this position.",
        min_length=1,
    )


class OpenQuestion(_Strict):
    question: str = Field(description="Something the article leaves unknown or unresolved.")
    why_it_matters: str = Field(description="Why a reader should care about the answer.")
    what_would_resolve_it: str = Field(
        description="What event, document or statement would settle the question."
    )


class SourceClaim(Quote):
    quote: str = Field(
        description=(
            "A verbatim excerpt from that source that shows the claim (same rules as evidence)."
        )
    )
    source_id: str = Field(description="The source making this claim, e.g. S2.")
    claim: str = Field(description="What this source says, in one sentence.")


class Disagreement(_Strict):
    topic: str = Field(description="What the sources disagree about, in a few words.")
    kind: Literal["position", "fact"] = Field(
        description=(
            "position: sources attribute different positions to the same actor; "
            "fact: sources report different facts (dates, numbers, names, events)."
        )
    )
    claims: list[SourceClaim] = Field(
        description="Each side of the disagreement with its source and quote; at least two.",
        min_length=2,
    )


class BriefContent(_Strict):
    """The part of a brief the model writes. Every quote is checked against its source."""

    title: str = Field(description="A short, factual headline for the brief.")
    summary: str = Field(
        description="A neutral summary of the article in 2-4 sentences, without opinion."
    )
    key_points: list[str] = Field(
        description="The 3-6 most important facts, one sentence each, most important first."
    )
    stances: list[StanceRow] = Field(
        description=(
            "The stance table: who holds which position on which issue, each row backed by "
            "verbatim quotes. Only actors whose position the article actually reports."
        )
    )
    open_questions: list[OpenQuestion] = Field(
        description="What is still unknown after reading, why it matters, what would settle it."
    )
    disagreements: list[Disagreement] = Field(
        default_factory=list,
        description=(
            "Where sources (or people within one source) contradict each other. Show every side "
            "with its quote; never pick one. Empty when nothing conflicts."
        ),
    )


class Source(_Strict):
    id: str = Field(description="The id quotes use to cite this source, e.g. S1.")
    title: str | None = Field(default=None, description="The article's title, if known.")
    url: str | None = Field(default=None, description="Where the article came from, if a URL.")
    path: str | None = Field(default=None, description="The local file it was read from, if any.")
    published: datetime | None = Field(default=None, description="When it was published.")
    sha256: str = Field(description="SHA-256 of the article text the brief was made from.")
    duplicate_of: str | None = Field(
        default=None,
        description=(
            "Set when this source is a near-copy (e.g. a wire story) of the source with this id; "
            "its text was not sent to the model again."
        ),
    )


class Provenance(_Strict):
    model: str = Field(description="The model name sent to the endpoint.")
    kind: str = Field(
        default="brief", description="The kind of output (`summarizer kinds`): brief, timeline, ..."
    )
    prompt_name: str = Field(description="Name of the prompt template used.")
    prompt_version: str = Field(description="Version of the prompt template used.")
    created_at: datetime = Field(description="When the brief was made (UTC).")
    tokens_in: int | None = Field(
        description=(
            "Prompt tokens over all LLM calls, reasks included; null when the endpoint did not "
            "report believable usage for one of them (unknown, not 0)."
        )
    )
    tokens_out: int | None = Field(
        description=(
            "Completion tokens over all LLM calls, reasks included; null when unknown (as for "
            "tokens_in)."
        )
    )
    llm_calls: int = Field(
        description="HTTP requests sent to the model endpoint, retries included."
    )
    cost_usd: float | None = Field(
        description=(
            "Estimated USD cost of this run's calls from the price table; 0 when replayed, "
            "null when the model's price is unknown."
        )
    )
    replayed: bool = Field(description="True when answers came from recordings, not a live call.")
    fixture: bool = Field(
        description=(
            "True when any answer came from a recording that was not produced by a live model "
            "(hand-written or from the test server): then this brief is not model output."
        )
    )
    ungrounded_dropped: int = Field(
        description="Quotes (evidence and claims) dropped because they were not in their source."
    )
    quotations_unquoted: int = Field(
        default=0,
        description=(
            "Words put in quotation marks in free text (summary, key points, positions, ...) "
            "that were not found in any source: shown without the marks, as a paraphrase."
        ),
    )
    warnings: list[str] = Field(
        default_factory=list,
        description=(
            "What a reader should know about the sources, e.g. that the text extracted from a "
            "page is much shorter than the page (the brief may miss part of the article)."
        ),
    )
    cached_tokens: int = Field(
        default=0,
        description=(
            "Of tokens_in, those the provider served from its prompt cache (a prefix it saw "
            "recently), billed at the model's cached rate."
        ),
    )
    batched_calls: int = Field(
        default=0,
        description=(
            "Of llm_calls, those answered through the provider's Batch API (daily --batch), "
            "billed at its price (half the list price)."
        ),
    )
    mode: str | None = Field(
        default=None,
        description=(
            "Structured-output mode the model was asked in (tools, json_schema or md_json; "
            "the one chosen when --mode auto); null when no call was made."
        ),
    )


class NewDevelopment(_Strict):
    development: str = Field(
        description=(
            "Something today's sources report that the previous brief did not say, in one sentence."
        )
    )
    evidence: Quote = Field(description="A verbatim quote from one of today's sources showing it.")


class AnsweredQuestion(_Strict):
    question_id: str = Field(description="The id of the open question it answers, e.g. Q1.")
    answer: str = Field(description="The answer today's sources give, in one sentence.")
    evidence: Quote = Field(description="A verbatim quote from today's sources that answers it.")


class DroppedQuestion(_Strict):
    question_id: str = Field(description="The id of the open question, e.g. Q2.")
    reason: str = Field(description="Why it no longer matters, in one sentence.")


class ContinuationContent(BriefContent):
    """Today's brief of a story briefed before, with what changed since its last brief."""

    new_developments: list[NewDevelopment] = Field(
        default_factory=list,
        description=(
            "What today's sources add to the previous brief, most important first. Never "
            "repeat what the previous brief already said. Empty when nothing is new."
        ),
    )
    answered_questions: list[AnsweredQuestion] = Field(
        default_factory=list,
        description=(
            "Open questions from the previous briefs that today's sources answer, each with a "
            "verbatim quote. Leave a question out unless a source answers it."
        ),
    )
    dropped_questions: list[DroppedQuestion] = Field(
        default_factory=list,
        description="Open questions that today's sources make irrelevant, with the reason.",
    )


class LinkContent(_Strict):
    """The second opinion on a close match (the `link` kind, daily/follow.py)."""

    continues: bool = Field(
        description="True only when today's articles report new events of the earlier story: "
        "the same events followed up, not merely the same place, person, company or topic."
    )
    today_quote: Quote | None = Field(
        default=None,
        description="When continues is true: a verbatim quote from today's articles (S1, S2, "
        "...) showing the earlier story's events going on.",
    )
    earlier_quote: Quote | None = Field(
        default=None,
        description="When continues is true: a verbatim quote from the earlier brief "
        "(source id EARLIER) about the same events.",
    )
    reason: str = Field(description="Why, in one sentence.")


class LedgerQuestion(_Strict):
    id: str = Field(description="The question's id in the ledger (`summarizer questions`).")
    story_id: str = Field(description="The story that asked it.")
    question: str = Field(description="The question.")
    status: Literal["open", "answered", "dropped"] = Field(description="Its status.")
    first_asked: str = Field(description="The day it was first asked, YYYY-MM-DD.")
    age_days: int = Field(description="Days from first asked to this brief's day (or answer).")
    answer: str | None = Field(default=None, description="The answer, when answered.")
    answered_on: str | None = Field(default=None, description="The day it was answered.")
    quote: str | None = Field(
        default=None, description="The verbatim quote that answers it, found in its source."
    )
    source: str | None = Field(default=None, description="The source of that quote (URL/file).")
    reason: str | None = Field(default=None, description="Why it was dropped, when dropped.")


class StanceShift(_Strict):
    actor: str = Field(description="The actor, as named today.")
    issue: str = Field(description="The issue, as named today.")
    before: Stance = Field(description="The stance stored for the story before today.")
    before_day: str = Field(description="The day of that stance.")
    before_quote: str = Field(description="Its verbatim quote, as briefed that day.")
    after: Stance = Field(description="Today's stance.")
    after_day: str = Field(description="Today.")
    after_quote: str = Field(description="Today's verbatim quote.")


class MatchEvidence(_Strict):
    """For operators: what a story's match to an earlier one rests on (continuity.py)."""

    score: float = Field(description="The match score, compared with the threshold.")
    threshold: float = Field(description="The [daily.continuity] threshold it was compared with.")
    names: float = Field(description="Cosine of the names both stories mention (0 to 1).")
    words: float = Field(description="Cosine of their other content words (0 to 1).")
    shared_names: list[str] = Field(description="The names both mention, strongest first.")
    shared_words: list[str] = Field(description="The words both use, strongest first.")
    meaning: float | None = Field(
        default=None,
        description="Cosine of the two stories' embeddings, with [daily.continuity] embeddings.",
    )
    checked: bool = Field(
        default=False,
        description="True when the score was close and the model's `link` check confirmed it.",
    )


class StoryLink(_Strict):
    story_id: str = Field(description="The story's stable id across daily runs.")
    first_day: str = Field(description="The day the story was first briefed.")
    continues_from: str | None = Field(
        default=None, description="The day of the story's previous brief, when it continues one."
    )
    days_running: int = Field(description="Days from the first brief of the story to this one.")
    match: str | None = Field(
        default=None, description="Why today's articles were joined to the story (the scores)."
    )
    match_evidence: MatchEvidence | None = Field(
        default=None, description="For operators: the score of the match and its parts."
    )
    note: str | None = Field(
        default=None, description="What continuity did not do for this story, and why."
    )
    new_developments: list[NewDevelopment] = Field(
        default_factory=list, description="What today's sources add (quotes from today's sources)."
    )
    answered: list[LedgerQuestion] = Field(
        default_factory=list, description="Questions answered today, each with its quote."
    )
    dropped: list[LedgerQuestion] = Field(
        default_factory=list, description="Questions dropped today, with the reason."
    )
    stance_shifts: list[StanceShift] = Field(
        default_factory=list, description="Actors whose stance on an issue changed."
    )
    open_questions: list[LedgerQuestion] = Field(
        default_factory=list, description="The story's questions still open, with their age."
    )
    changes_failed: bool = Field(
        default=False,
        description=(
            "True when the story continues one but what changed could not be made (the "
            "continuation step failed): its new_developments and answers are then unknown, "
            "not empty."
        ),
    )


class Brief(BriefContent):
    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of this schema.")
    sources: list[Source] = Field(description="Every source the brief was made from.")
    provenance: Provenance = Field(description="How, when and from what the brief was made.")
    story: StoryLink | None = Field(
        default=None,
        description="In a daily brief: the story's identity across runs and what changed.",
    )


class TimelineEvent(_Strict):
    date: str = Field(
        description="When, as the article states it ('last week', 'in April'); never computed."
    )
    what_happened: str = Field(description="What happened (or is planned), in one sentence.")
    evidence: Quote = Field(description="A verbatim quote from the article that shows the event.")


class TimelineContent(_Strict):
    """A timeline of one article."""

    title: str = Field(description="A short, factual headline.")
    events: list[TimelineEvent] = Field(description="The dated events, earliest first.")


def output_model(content: type[BaseModel], name: str) -> type[BaseModel]:
    """A kind's output: its content plus what the pipeline knows (like Brief for briefs)."""
    model: type[BaseModel] = create_model(
        name,
        __base__=content,
        __doc__=f"{content.__doc__ or name} With its sources and provenance.",
        schema_version=(str, Field(default=SCHEMA_VERSION, description="Version of this schema.")),
        sources=(list[Source], Field(description="Every source it was made from.")),
        provenance=(Provenance, Field(description="How, when and from what it was made.")),
    )
    return model


Timeline = output_model(TimelineContent, "Timeline")


class SourceFailure(_Strict):
    source: str = Field(description="The URL, feed or file that failed (or the story).")
    error: str = Field(description="What went wrong, in one plain sentence for a reader.")
    stage: Literal["source", "article", "story"] | None = Field(
        default=None,
        description=(
            "What failed: a source given to the run (a feed, URL, directory or file gave no "
            "article), one article in it (could not be read or briefed), or a story step "
            "(synthesis, or what changed). Null in briefs made before stages were recorded."
        ),
    )
    detail: str | None = Field(
        default=None,
        description="The full error for an operator, when it says more than `error`.",
    )


class LeftOut(_Strict):
    source: str = Field(description="The feed or source whose entries were left out.")
    reason: str = Field(description="Why, in a few words (over the per-feed cap, duplicates).")
    count: int = Field(description="How many entries were left out for this reason.")


class DailyProvenance(_Strict):
    created_at: datetime = Field(description="When the daily brief was made (UTC).")
    models: list[str] = Field(description="Models used for extraction and synthesis.")
    articles_found: int = Field(description="Articles found in the sources within the window.")
    articles_briefed: int = Field(description="Articles that made it into a story.")
    tokens_in: int | None = Field(
        description="Prompt tokens over all calls of the run; null when a call's usage is unknown."
    )
    tokens_out: int | None = Field(
        description="Completion tokens over all calls of the run; null when unknown."
    )
    cached_tokens: int = Field(
        default=0,
        description="Of tokens_in, those served from the provider's prompt cache.",
    )
    llm_calls: int = Field(description="HTTP requests sent to the model endpoint in this run.")
    batched_calls: int = Field(
        default=0,
        description="Of llm_calls, those answered through the Batch API (at its price).",
    )
    cost_usd: float | None = Field(description="Estimated USD cost of this run's calls.")
    replayed: bool = Field(description="True when any answer came from recordings or the cache.")
    fixture: bool = Field(description="True when any answer came from a non-model recording.")
    stopped_by_budget: bool = Field(description="True when --max-cost or a token limit ended it.")
    published_first: datetime | None = Field(
        default=None, description="The earliest publication time of the briefed articles (UTC)."
    )
    published_last: datetime | None = Field(
        default=None, description="The latest publication time of the briefed articles (UTC)."
    )
    articles_undated: int = Field(
        default=0, description="Of articles_briefed, those with no known publication time."
    )


class DailyBrief(_Strict):
    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of this schema.")
    date: str = Field(description="The day this brief covers, YYYY-MM-DD.")
    window_start: datetime = Field(
        description=(
            "Start of the run's window (--since, UTC): feed entries and directory files dated "
            "before it were left out. The articles' own dates are in provenance."
        )
    )
    window_end: datetime = Field(description="End of the run's window: when it ran (UTC).")
    stories: list[Brief] = Field(
        description="One brief per story, synthesized across all sources that covered it."
    )
    outputs: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Articles made into a kind that does not merge into stories (e.g. timeline), one "
            "output each, in that kind's own contract (`summarizer schema KIND`); "
            "provenance.kind names it."
        ),
    )
    failures: list[SourceFailure] = Field(
        description="Sources, articles or story steps that failed, and why."
    )
    left_out: list[LeftOut] = Field(
        default_factory=list,
        description=(
            "Entries left out on purpose (past a feed's cap, duplicates), counted per source "
            "and reason."
        ),
    )
    provenance: DailyProvenance = Field(description="How, when and at what cost it was made.")
