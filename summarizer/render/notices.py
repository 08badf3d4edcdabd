"""What every renderer says about a brief, worded once: provenance notices and labels, the
story line, "What changed", the daily header's counts and dates, and "Not included".

Each function returns plain text (article and model text still raw); the renderers
(markdown.py, html.py, slack.py, generic.py) escape it for their format. They all import
this module and none imports another renderer, so the wording cannot drift between
formats and no renderer depends on another.

The reader sees one plain sentence per problem; the operator's detail (a validation dump,
the endpoint) stays in the JSON (`SourceFailure.detail`) and the log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from summarizer.core.schemas import (
        Brief,
        DailyBrief,
        DailyProvenance,
        LedgerQuestion,
        Provenance,
        SourceFailure,
    )


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 day', '2 days'; `many` when the plural is not `one` + 's'."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def days(n: int) -> str:
    from summarizer.stories.ledger import days as ledger_days

    return ledger_days(n)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


# provenance ---------------------------------------------------------------------------


def origin(fixture: bool, replayed: bool, calls: int | None = None) -> str:
    """The footer's one-word account of where the answers came from. `calls` (a daily
    brief's) tells a run that called the model and reused earlier answers from one that
    only reused."""
    if fixture:
        return "test fixture, replayed" if replayed else "test server"
    if replayed:
        return "live and replayed" if calls else "replayed"
    return "live"


def notice(fixture: bool, replayed: bool, calls: int | None = None) -> tuple[str, str] | None:
    """(the strong part, the rest) of the warning at the top, or None for a live brief.

    A fixture is not model output, whether replayed from a recording or answered live by
    the test server: the notice says which. `calls` is given for a daily brief, whose
    `replayed` means "some answers came from recordings or the store's cache"."""
    if fixture:
        how = (
            "Replayed from recordings that were written by hand or served by a test server"
            if replayed
            else "Answered by a test server (a scripted stand-in for a model)"
        )
        return "Not model output.", f"{how}, not produced by a live model."
    if not replayed:
        return None
    if calls is None:
        return "", "Replayed from recorded model responses, not a live call."
    if calls == 0:
        return "", (
            "No model was called for this run: every answer was replayed from recordings "
            "or reused from an earlier run."
        )
    return "", "Some answers were replayed from recordings or reused from an earlier run."


def tokens_text(tokens_in: int | None, tokens_out: int | None) -> str:
    """Tokens as a footer says them: unknown when the endpoint did not report them."""
    if tokens_in is None or tokens_out is None:
        return "tokens unknown"
    return f"{tokens_in}+{tokens_out} tokens"


def footer_text(p: Provenance, kind: bool = True) -> str:
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    dropped = (
        f", {plural(p.ungrounded_dropped, 'ungrounded quote')} dropped"
        if p.ungrounded_dropped
        else ""
    )
    unquoted = (
        f", {plural(p.quotations_unquoted, 'quotation')} not found in the sources left unquoted"
        if p.quotations_unquoted
        else ""
    )
    what = f"{p.model} · {p.kind} · " if kind else f"{p.model} · "
    return (
        f"{what}prompt {p.prompt_name} v{p.prompt_version} · "
        f"{p.created_at:%Y-%m-%d %H:%M UTC} · {plural(p.llm_calls, 'call')}, "
        f"{tokens_text(p.tokens_in, p.tokens_out)}{cost}{dropped}{unquoted} · "
        f"{origin(p.fixture, p.replayed)}"
    )


def daily_footer_text(p: DailyProvenance) -> str:
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    cached = f" ({p.cached_tokens} cached)" if p.cached_tokens else ""
    return (
        f"{', '.join(p.models)} · {p.created_at:%Y-%m-%d %H:%M UTC} · "
        f"{plural(p.llm_calls, 'call')}, {tokens_text(p.tokens_in, p.tokens_out)}{cached}{cost} · "
        f"{origin(p.fixture, p.replayed, p.llm_calls)}"
    )


EMPTY = "This brief is empty: the model gave no stances, key points or open questions."


def is_empty(brief: Brief) -> bool:
    """A brief with nothing but a title and a summary (a small model can give that)."""
    asked = brief.story.open_questions if brief.story is not None else []
    return not (brief.stances or brief.key_points or brief.open_questions or asked)


# stories ------------------------------------------------------------------------------


def age(q: LedgerQuestion) -> str:
    from summarizer.stories.ledger import age as ledger_age

    return ledger_age(q)  # one wording, shared with `summarizer questions`


def story_line(brief: Brief) -> str | None:
    """How long a story has run and what it continues. Why it was matched (the scores)
    is the operator's: it stays in the JSON (`story.match`), not in the reader's line."""
    link = brief.story
    if link is None:
        return None
    if link.continues_from:
        text = (
            f"Continues story {link.story_id} from {link.continues_from} "
            f"(running {days(link.days_running)}, since {link.first_day})."
        )
    else:
        text = f"New story {link.story_id}."
    return text + (f" {link.note}" if link.note else "")


def what_changed(daily: DailyBrief) -> list[str]:
    """The daily brief's "What changed" lines (one per change): new developments,
    answered and dropped questions, stance shifts, across stories."""
    from summarizer.stories.ledger import shift_line

    lines: list[str] = []
    for story in daily.stories:
        link = story.story
        if link is None:
            continue
        for d in link.new_developments:
            lines.append(
                f"{story.title}: {d.development} — “{d.evidence.quote}” ({d.evidence.source_id})"
            )
        for q in link.answered:
            lines.append(
                f"Answered after {days(q.age_days)}: {q.question} — {q.answer} "
                f"“{q.quote}” ({q.source})"
            )
        for q in link.dropped:
            lines.append(f"Dropped: {q.question} — {q.reason}")
        lines += [shift_line(sh) for sh in link.stance_shifts]
    return lines


def unchanged_line(daily: DailyBrief) -> str:
    """What "What changed" says when it has no line: "nothing" only when every continuing
    story's comparison was made; otherwise which stories it could not be made for."""
    failed = [s.title for s in daily.stories if s.story is not None and s.story.changes_failed]
    if not any(s.story is not None and s.story.continues_from for s in daily.stories):
        return "No story continues one from earlier briefs: every story is new."
    if not failed:
        return "Nothing since the last briefs."
    return "What changed could not be made for " + _names(failed) + "."


def unmade_line(daily: DailyBrief) -> str | None:
    """Beside real changes: the stories whose comparison could not be made, if any."""
    failed = [s.title for s in daily.stories if s.story is not None and s.story.changes_failed]
    if not failed:
        return None
    return "What changed could not be made for " + _names(failed) + "."


def _names(titles: Sequence[str]) -> str:
    quoted = [f"“{t}”" for t in titles]
    word = "story" if len(quoted) == 1 else "stories"
    if len(quoted) <= 1:
        return f"the {word} {''.join(quoted)}"
    return f"the {word} {', '.join(quoted[:-1])} and {quoted[-1]}"


# the daily header ---------------------------------------------------------------------


def _when(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC"


def published_range(p: DailyProvenance) -> str:
    """The briefed articles' own publication dates, not the run's window. Undated ones
    (files, pages without a date) were taken whatever the window: said so."""
    first, last, undated = p.published_first, p.published_last, p.articles_undated
    whole = "taken whatever the window, having no date of their own"
    if first is None or last is None:
        if not undated:
            return ""
        return f"{'undated' if undated == 1 else 'all undated'} ({whole})"
    dates = (
        f"published {_when(first)}"
        if first == last
        else f"published {_when(first)} to {_when(last)}"
    )
    if undated:
        dates += f"; {plural(undated, 'undated article')} ({whole})"
    return dates


def header_lines(daily: DailyBrief) -> list[str]:
    """The counts and dates under the title: stories, articles, the articles' dates,
    and what failed, each counted apart in its own words."""
    p = daily.provenance
    stories = plural(len(daily.stories), "story", "stories")
    articles = (
        f"{p.articles_briefed} of {plural(p.articles_found, 'article')}"
        if p.articles_found != p.articles_briefed
        else plural(p.articles_briefed, "article")
    )
    head = f"{stories} from {articles}"
    dates = published_range(p)
    lines = [f"{head}, {dates}." if dates else f"{head}."]
    if p.stopped_by_budget:
        lines.append("Stopped early: the run reached its cost or token budget.")
    counts = failure_counts(daily.failures)
    if counts:
        lines.append(counts + " (listed under Not included).")
    return lines


_STAGE_WORDS: dict[str | None, tuple[str, str]] = {
    "source": ("source gave no article", "sources gave no article"),
    "article": ("article could not be briefed", "articles could not be briefed"),
    "story": ("story step failed", "story steps failed"),
    # A brief stored before stages were recorded: what failed is not known more exactly.
    None: ("source or article failed", "sources or articles failed"),
}


def failure_counts(failures: Sequence[SourceFailure]) -> str:
    """ "1 source gave no article; 2 articles could not be briefed": each stage apart."""
    out = []
    for stage, (one, many) in _STAGE_WORDS.items():
        n = sum(1 for f in failures if f.stage == stage)
        if n:
            out.append(f"{n} {one if n == 1 else many}")
    text = "; ".join(out)
    return text[:1].upper() + text[1:]


def not_included(daily: DailyBrief) -> list[tuple[str, str]]:
    """(what, why) for every source, article or story step left out, then what was
    skipped on purpose (over a feed's cap, duplicates), one line per source and reason."""
    lines = [(f.source, f.error) for f in daily.failures]
    for s in daily.left_out:
        lines.append((s.source, f"{plural(s.count, 'entry', 'entries')} left out: {s.reason}"))
    return lines


# errors, for readers ------------------------------------------------------------------

# A pydantic error as one line: "<loc> <Message> [type=<type>, ..." (client.py flattens
# the validation dump into one line). The location is dotted, the message capitalised.
# An error's location follows "for <Model>", the previous error's "]", or its help URL.
_PYDANTIC = re.compile(
    r"(?:for \w+|\]|errors\.pydantic\.dev/\S+)\s+([A-Za-z_]\w*(?:\.\w+)*)\s+[A-Z][^\[]*?\[type=(\w+)"
)


# Model-side failures, said for a reader: the operator's part of these messages (the
# endpoint's URL, environment variable names, flags to try) stays in the detail and the log.
_MODEL_FAILURES = (
    ("cannot reach the model endpoint", "the model could not be reached"),
    ("model endpoint timed out", "the model did not answer in time"),
    ("model endpoint cannot do", "the model's service refused the request"),
    ("model endpoint answered", "the model's service answered with an error"),
    ("quotes still not found", "its quotes could not be found in the articles"),
    ("cut off at", "the model's answer was cut off at its length limit"),
    ("refused to answer", "the model refused to answer"),
    ("called only other tools", "the model answered in the wrong form"),
)


def reader_error(error: str) -> str:
    """One plain sentence for a reader from an error message that may carry a validation
    dump (instructor's `<failed_attempts>`, pydantic's "N validation errors for X ...") or
    an operator's detail (an endpoint, an environment variable). Other messages (a page that
    could not be fetched) are already said for a reader, and come back as they are."""
    for marker, said in _MODEL_FAILURES:
        if marker in error:
            return said
    if "validation error" not in error and "<failed_attempts>" not in error:
        return error
    found = _PYDANTIC.findall(error)
    missing = list(dict.fromkeys(_field(loc) for loc, kind in found if kind == "missing"))
    wrong = list(dict.fromkeys(_field(loc) for loc, kind in found if kind != "missing"))
    parts = []
    if missing:
        parts.append(f"lacked the {_fields(missing)}")
    if wrong:
        parts.append(f"had the wrong form in the {_fields(wrong)}")
    if not parts:
        return "the model's answer did not fit the expected form"
    return "the model's answer " + " and ".join(parts)


def _field(loc: str) -> str:
    # stances.0.evidence -> stances.evidence: the reader needs the field, not the row.
    return ".".join(p for p in loc.split(".") if not p.isdigit())


def _fields(names: list[str]) -> str:
    if len(names) == 1:
        return f"field {names[0]}"
    return f"fields {', '.join(names[:-1])} and {names[-1]}"
