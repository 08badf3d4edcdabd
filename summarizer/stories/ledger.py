"""Reading the stories and the open-question ledger back: `summarizer story ID`,
`summarizer questions`, GET /v1/stories/{id} and GET /v1/questions share these."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from summarizer.core.schemas import Brief, LedgerQuestion, StanceShift
from summarizer.errors import ConfigError, InputError
from summarizer.store import Store

Status = Literal["open", "answered", "dropped"]
STATUSES: tuple[str, ...] = ("open", "answered", "dropped")


def days_between(a: str, b: str) -> int:
    """Days from day `a` to day `b` (YYYY-MM-DD)."""
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def ledger_question(q: dict[str, Any], day: str | None = None) -> LedgerQuestion:
    """A ledger row as of `day` (default: as stored, i.e. its latest status)."""
    answered = q["answered_day"] and (day is None or q["answered_day"] <= day)
    dropped = q["dropped_day"] and (day is None or q["dropped_day"] <= day)
    status: Literal["open", "answered", "dropped"] = (
        "answered" if answered else "dropped" if dropped else "open"
    )
    until = q["answered_day"] if answered else q["dropped_day"] if dropped else day
    return LedgerQuestion(
        id=q["id"], story_id=q["story_id"], question=q["question"], status=status,
        first_asked=q["first_day"],
        age_days=max(days_between(q["first_day"], until or date.today().isoformat()), 0),
        answer=q["answer"] if answered else None,
        answered_on=q["answered_day"] if answered else None,
        quote=q["quote"] if answered else None,
        source=q["source"] if answered else None,
        reason=q["reason"] if dropped else None,
    )  # fmt: skip


def questions(
    store: Store, *, status: str | None = None, story: str | None = None, since: str | None = None
) -> list[LedgerQuestion]:
    """Every question in the ledger with its latest status, oldest first; `since` keeps
    those first asked on or after that day."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"--status {status}: unknown; use one of {', '.join(STATUSES)}")
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise ConfigError(f"--since {since}: not a date; use YYYY-MM-DD") from None
    found = [ledger_question(q) for q in store.questions(story)]
    return [
        q for q in found
        if (status is None or q.status == status) and (since is None or q.first_asked >= since)
    ]  # fmt: skip


def no_story_message(store: Store, story_id: str) -> str:
    # The store is named (a path, or a URL without its password): a run against the wrong
    # store looks like a wrong id otherwise.
    return (
        f"story {story_id}: not in the store {store.label}; story ids are in a daily "
        "brief's stories (pass --store to read another store)"
    )


def story(store: Store, story_id: str) -> dict[str, Any]:
    """A story's timeline: each day's brief title, what it added, its stances and shifts,
    and its questions. InputError when the store has no such story."""
    days = store.story_days(story_id)
    if not days:
        raise InputError(no_story_message(store, story_id))
    timeline = []
    for row in days:
        b = Brief.model_validate_json(row["brief_json"])
        link = b.story
        timeline.append(
            {
                "day": row["day"],
                "title": b.title,
                "summary": b.summary,
                "continues_from": link.continues_from if link else None,
                "new_developments": [d.model_dump() for d in link.new_developments] if link else [],
                "stances": [
                    {
                        "actor": r.actor,
                        "issue": r.issue,
                        "stance": r.stance.value,
                        "quote": r.evidence[0].quote if r.evidence else None,
                    }
                    for r in b.stances
                ],
                "stance_shifts": [s.model_dump() for s in link.stance_shifts] if link else [],
                "answered": [q.model_dump() for q in link.answered] if link else [],
            }
        )
    return {
        "story_id": story_id,
        "first_day": days[0]["first_day"],
        "last_day": days[-1]["day"],
        "title": days[-1]["title"],
        "days": timeline,
        "questions": [q.model_dump() for q in questions(store, story=story_id)],
    }


def shift_line(s: StanceShift) -> str:
    return (
        f"{s.actor}: {s.before.value} ({s.before_day}) -> {s.after.value} ({s.after_day}) "
        f"on {s.issue} — “{s.before_quote}” -> “{s.after_quote}”"
    )


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def age(q: LedgerQuestion) -> str:
    if q.status == "answered":
        return f"answered {q.answered_on}, after {days(q.age_days)}"
    if q.status == "dropped":
        return f"dropped after {days(q.age_days)}: {q.reason}"
    return "asked today" if q.age_days == 0 else f"open for {days(q.age_days)}"


def questions_markdown(found: list[LedgerQuestion]) -> str:
    if not found:
        return "_No questions match._\n"
    out = []
    for q in found:
        out.append(f"- **{q.question}** ({q.status}; {age(q)}; since {q.first_asked}; "
                   f"story {q.story_id}; id {q.id})")  # fmt: skip
        if q.status == "answered":
            out.append(f"  - Answer: {q.answer} — “{q.quote}” ({q.source})")
    return "\n".join(out) + "\n"


def story_markdown(data: dict[str, Any]) -> str:
    out = [
        f"# Story {data['story_id']}: {data['title']}",
        "",
        f"Briefed from {data['first_day']} to {data['last_day']}.",
        "",
    ]
    for d in data["days"]:
        out += [f"## {d['day']} — {d['title']}", "", d["summary"], ""]
        for n in d["new_developments"]:
            out.append(f"- New: {n['development']} — “{n['evidence']['quote']}”")
        for q in d["answered"]:
            out.append(f"- Answered: {q['question']} — {q['answer']} “{q['quote']}”")
        for s in d["stance_shifts"]:
            out.append("- Shift: " + shift_line(StanceShift.model_validate(s)))
        for r in d["stances"]:
            out.append(f"- Stance: {r['actor']} {r['stance']} on {r['issue']} — “{r['quote']}”")
        out.append("")
    out += ["## Questions", ""]
    found = [LedgerQuestion.model_validate(q) for q in data["questions"]]
    return "\n".join(out) + "\n" + questions_markdown(found)
