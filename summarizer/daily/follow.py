"""Stories that continue, inside a daily run: which of today's stories continue a story of
an earlier run, what the model is shown of it, and what the store keeps of each story.

For a day D (`plan`, before synthesis; `record`, after):
- the candidates are the stories briefed in [D - lookback_days, D), each by its latest
  brief before D whatever its date (a day with no run in between is no gap), and never a
  day after D (a backfill does not see the future); matching is continuity.py's;
- a continuing story is synthesized by the `continuation` kind, which sees the previous
  brief's compact form and the story's open questions as one fenced block of data (never
  the old articles: the cost stays flat); it is cached under its articles and that block,
  so a rerun of the day makes no call;
- the model may answer a question only with a quote the grounding check found in today's
  sources (a `Quote`, so an invented one is reasked, then dropped with its answer: the
  question stays open); a development whose quote the previous brief already had is not new;
- stance shifts and question ages are computed here from the store, never by the model;
- every write is keyed by (story, day) or question id, so a rerun writes the same rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from summarizer.core import grounding, prompting
from summarizer.core.kinds import registry_for
from summarizer.core.schemas import (
    Brief,
    ContinuationContent,
    LinkContent,
    MatchEvidence,
    NewDevelopment,
    SourceFailure,
    StoryLink,
)
from summarizer.daily.config import ContinuityConfig
from summarizer.errors import SummarizerError
from summarizer.signals import BudgetReached, Deferred
from summarizer.store import Store
from summarizer.stories import continuity
from summarizer.stories.ledger import days_between, ledger_question

if TYPE_CHECKING:
    from summarizer.config import Settings
    from summarizer.llm.client import LLM
    from summarizer.sources.ingest import Document

log = logging.getLogger(__name__)
KIND = "continuation"
LINK_KIND = "link"


@dataclass
class Earlier:
    story_id: str
    day: str
    first_day: str
    brief: Brief


@dataclass
class Plan:
    """What continuity decided for one of today's stories."""

    earlier: Earlier | None = None
    why: str | None = None  # the match, explained
    evidence: MatchEvidence | None = None  # the match's parts, for operators
    note: str | None = None  # what it did not do, and why
    open: list[dict[str, Any]] = field(default_factory=list)  # ledger rows, Q1.. in order
    context: dict[str, Any] | None = None  # template variables for the continuation kind
    # A match close to the threshold, for the `link` kind to confirm (confirm()).
    close: tuple[Earlier, continuity.Match] | None = None
    extras: ContinuationContent | None = None  # what the model said changed
    changes_failed: bool = False  # it continues a story, but what changed could not be made

    def cache_text(self) -> str:
        assert self.context is not None
        return str(self.context["previous"].text)


def open_before(q: dict[str, Any], day: str) -> bool:
    """Asked before `day` and neither answered nor dropped before it."""
    return (
        q["first_day"] < day
        and not (q["answered_day"] and q["answered_day"] < day)
        and not (q["dropped_day"] and q["dropped_day"] < day)
    )


def compact(earlier: Earlier, open_questions: Sequence[dict[str, Any]]) -> str:
    """The previous brief as the model sees it: what it said, not its quotes or sources."""
    b = earlier.brief
    return json.dumps(
        {
            "day": earlier.day,
            "title": b.title,
            "summary": b.summary,
            "key_points": b.key_points,
            "stances": [
                {
                    "actor": r.actor,
                    "issue": r.issue,
                    "stance": r.stance.value,
                    "position": r.position,
                }
                for r in b.stances
            ],
            "open_questions": [
                {"id": f"Q{n}", "question": q["question"], "asked": q["first_day"]}
                for n, q in enumerate(open_questions, 1)
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),  # no indent: every space is a token paid for on every call
    )


class _Articles:
    """What a brief's sources say, read from the store once per run: each article's title
    and the start of its text (the names and words of a story are mostly in its first
    paragraphs; the cap keeps a 200-story day fast)."""

    CHARS = 4000

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: dict[str, str] = {}

    def of(self, brief: Brief) -> list[str]:
        out = []
        for s in brief.sources:
            if s.duplicate_of:
                continue  # a copy says what its original says
            if s.sha256 not in self.seen:
                doc = self.store.get_document(s.sha256)
                text = (doc or {}).get("text") or ""
                self.seen[s.sha256] = continuity.article_text(s.title, text[: self.CHARS])
            out.append(self.seen[s.sha256])
        return out


Embed = Callable[[list[str]], list[list[float]]]


def with_vectors(
    store: Store, sides: list[continuity.Side], model: str, embed: Embed
) -> list[continuity.Side]:
    """The sides with their embeddings: each text embedded once and kept in the store
    (under its hash and the model), so a rerun, or a story seen again, costs nothing."""
    key = f"embedding:{model}"
    shas = [hashlib.sha256(s.gist().encode()).hexdigest() for s in sides]
    found: dict[str, list[float]] = {}
    for sha in dict.fromkeys(shas):
        cached = store.get_extraction(sha, key)
        if cached is not None:
            found[sha] = json.loads(cached)
    missing = list(dict.fromkeys(sha for sha in shas if sha not in found))
    if missing:
        texts = {sha: s.gist() for sha, s in zip(shas, sides, strict=True)}
        for sha, vec in zip(missing, embed([texts[m] for m in missing]), strict=True):
            found[sha] = vec
            store.put_extraction(sha, key, json.dumps(vec))
    return [replace(s, vector=tuple(found[sha])) for s, sha in zip(sides, shas, strict=True)]


def plan(
    store: Store, groups: Sequence[Sequence[Brief]], day: str, cfg: ContinuityConfig,
    embed: Embed | None = None,
) -> list[Plan]:  # fmt: skip
    """For each of today's stories (its articles' briefs), the earlier story it continues.
    `embed` (texts -> vectors) is called when [daily.continuity] embeddings names a model."""
    plans = [Plan() for _ in groups]
    if not cfg.enabled or not groups:
        return plans
    since = (date.fromisoformat(day) - timedelta(days=cfg.lookback_days)).isoformat()
    found = [
        Earlier(r["story_id"], r["day"], r["first_day"], Brief.model_validate_json(r["brief_json"]))
        for r in store.story_candidates(day, since)
    ]
    if not found:
        return plans
    articles = _Articles(store)
    today = [
        continuity.Side(
            " ".join(continuity.match_text(b) for b in g),
            [r.actor for b in g for r in b.stances],
            [a for b in g for a in articles.of(b)]
            + [q for b in g for q in continuity.story_quotes(b)],
        )
        for g in groups
    ]
    earlier = [
        continuity.Side(
            continuity.match_text(e.brief),
            [r.actor for r in e.brief.stances],
            articles.of(e.brief) + continuity.story_quotes(e.brief),
        )
        for e in found
    ]
    if cfg.embeddings and embed is not None:
        try:
            both = with_vectors(store, today + earlier, cfg.embeddings, embed)
            today, earlier = both[: len(today)], both[len(today) :]
        except SummarizerError as exc:
            # Matching stands on the articles' names and words alone, as without embeddings.
            log.warning("[daily.continuity] embeddings %s not used: %s", cfg.embeddings, exc)
    # The base of the term weights is every story read here: today's, and the earlier
    # ones of the lookback window (continuity.Base adds general news behind them).
    matches = continuity.score(today, earlier)
    detached = set(cfg.detach)
    for m in matches:
        sid = found[m.earlier].story_id
        if sid in detached and m.score >= cfg.threshold and plans[m.today].note is None:
            plans[
                m.today
            ].note = (
                f"not joined to story {sid} ({m.explain()}): it is in [daily.continuity] detach"
            )
    kept = [m for m in matches if found[m.earlier].story_id not in detached]
    # A match within check_margin of the threshold is close: the model is asked (`confirm`)
    # before it joins; below the margin nothing joins, above it the evidence suffices.
    low = max(cfg.threshold - cfg.check_margin, 0.0)
    for i, m in continuity.assign(kept, low).items():
        if m.score >= cfg.threshold + cfg.check_margin:
            join(plans[i], found[m.earlier], m, store, day)
            plans[i].evidence = m.evidence(cfg.threshold)
        else:
            plans[i].close = (found[m.earlier], m)
            plans[i].note = (
                f"not joined to story {found[m.earlier].story_id} ({m.shared()}): the match "
                "was close and was not checked"
            )
    return plans


def join(p: Plan, e: Earlier, m: continuity.Match, store: Store, day: str) -> None:
    """Today's story continues `e`: what the continuation kind will be shown of it."""
    p.earlier, p.why, p.note, p.close = e, m.explain(), None, None
    p.open = [q for q in store.questions(e.story_id) if open_before(q, day)]
    p.context = {
        "previous": prompting.Article("PREVIOUS", compact(e, p.open)),
        "previous_day": e.day,
    }


def earlier_text(e: Earlier) -> str:
    """The earlier story as the `link` kind sees it, and its quotes are checked against:
    what its brief said and the quotes it showed."""
    b = e.brief
    lines = [b.title, b.summary, *b.key_points, *continuity.story_quotes(b)]
    return "\n".join(line for line in lines if line)


async def confirm(
    plans: Sequence[Plan], items: Sequence[Sequence[Document]], day: str, settings: Settings,
    store: Store, llm: LLM, key: str, threshold: float,
) -> None:  # fmt: skip
    """The second opinion on each close match (`Plan.close`): one `link` call per story,
    cached under today's articles and the earlier story's brief, so a rerun makes none.
    Only a yes whose two quotes the grounding check found joins; anything else (a no, a
    quote not found, a failed call) leaves the story new, and its note says why."""
    import asyncio

    from summarizer.core.pipeline import _article, _extract
    from summarizer.plumbing.concurrency import gather_or_cancel

    registry = registry_for(settings)
    kind = registry.get(LINK_KIND)

    async def one(p: Plan, docs: Sequence[Document]) -> None:
        assert p.close is not None
        e, m = p.close
        before = earlier_text(e)
        sha = hashlib.sha256(
            ("".join(sorted(d.sha256 for d in docs)) + "\n" + e.story_id + "\n" + before).encode()
        ).hexdigest()
        cached = await asyncio.to_thread(store.get_extraction, sha, key)
        if cached is not None:
            answer = LinkContent.model_validate_json(cached)
        else:
            ids = [f"S{n}" for n in range(1, len(docs) + 1)]
            messages = prompting.render_messages(
                registry.prompt(kind),
                articles=[_article(d, sid) for d, sid in zip(docs, ids, strict=True)],
                source_ids=ids,
                language=settings.language,
                previous=prompting.Article("EARLIER", before),
                previous_day=e.day,
            )
            texts = {sid: d.text for d, sid in zip(docs, ids, strict=True)} | {"EARLIER": before}
            try:
                ex = await _extract(llm, settings, kind.model, messages, texts)
            except Deferred:
                raise  # held for a batch (daily --batch): asked in a later round
            except (SummarizerError, BudgetReached) as exc:
                p.close = None
                p.note = (
                    f"not joined to story {e.story_id} ({m.shared()}): the match was close "
                    f"and the check could not be made: {exc}"
                )
                return
            answer = LinkContent.model_validate(ex.content.model_dump())
            await asyncio.to_thread(store.put_extraction, sha, key, answer.model_dump_json())
        p.close = None
        if answer.continues and answer.today_quote and answer.earlier_quote:
            await asyncio.to_thread(join, p, e, m, store, day)
            p.evidence = m.evidence(threshold, checked=True)
            p.why = (
                f"{m.explain()}; a close match, confirmed: today “{answer.today_quote.quote}” "
                f"continues “{answer.earlier_quote.quote}”"
            )
        else:
            p.note = (
                f"not joined to story {e.story_id} ({m.shared()}): the match was close and "
                f"the check found no grounded continuation ({answer.reason})"
            )

    # The close stories are asked at once, within the run's concurrency (LLM slots).
    await gather_or_cancel(
        one(p, docs) for p, docs in zip(plans, items, strict=True) if p.close is not None
    )


async def synthesize_continuing(
    items: Sequence[tuple[Document, Brief]], copies: Sequence[tuple[Document, int]], p: Plan,
    settings: Settings, store: Store, llm: LLM, key: str, failures: list[SourceFailure],
) -> Brief | None:  # fmt: skip
    """A continuing story's brief, with `p.extras` set to what changed; from the cache when
    the same articles met the same previous brief (a rerun). None when the call failed:
    the story still continues (its id, ledger and shifts), the brief and failures say why."""
    import asyncio

    from summarizer.core.pipeline import synthesize

    assert p.earlier is not None
    sha = cache_sha([d.sha256 for d, _ in items], p)
    cached = await asyncio.to_thread(store.get_extraction, sha, key)
    if cached is not None:
        output = registry_for(settings).get(KIND).output_model.model_validate_json(cached)
    else:
        try:
            output = await synthesize(
                items, settings, llm=llm, copies=copies, kind=KIND, context=p.context
            )
        except Deferred:
            raise  # held for a batch (daily --batch): made in a later round
        except (SummarizerError, BudgetReached) as exc:
            # The story's line says it plainly; why is under "Not included" (one sentence
            # for the reader) and in the failure's detail (the operator's, via run.py).
            p.changes_failed = True
            p.note = "What changed could not be made (see Not included)."
            failures.append(
                SourceFailure(
                    source=f"story {p.earlier.story_id}", error=f"what changed not made: {exc}"
                )
            )
            return None
        await asyncio.to_thread(store.put_extraction, sha, key, output.model_dump_json())
    brief, p.extras = as_brief(output)
    return brief


def cache_sha(doc_shas: Sequence[str], p: Plan) -> str:
    """A continuing story's cache entry: its articles and what it was shown of the past."""
    text = "".join(sorted(doc_shas)) + "\n" + p.cache_text()
    return hashlib.sha256(text.encode()).hexdigest()


def as_brief(output: BaseModel) -> tuple[Brief, ContinuationContent]:
    """A continuation output split into the story's brief and what changed."""
    data = output.model_dump()
    brief = Brief.model_validate({k: v for k, v in data.items() if k in Brief.model_fields})
    extras = ContinuationContent.model_validate(
        {k: v for k, v in data.items() if k in ContinuationContent.model_fields}
    )
    return brief, extras


def _source_name(brief: Brief, source_id: str) -> str | None:
    s = next((s for s in brief.sources if s.id == source_id), None)
    return None if s is None else (s.url or s.path or s.title or s.id)


def _new_story_id(day: str, brief: Brief) -> str:
    shas = "".join(sorted(s.sha256 for s in brief.sources))
    return "st-" + hashlib.sha256(f"{day}\n{shas}".encode()).hexdigest()[:10]


def _question_id(story_id: str, question: str) -> str:
    key = f"{story_id}\n{continuity.normalise(question)}"
    return "q-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _really_new(devs: Sequence[NewDevelopment], before: Brief) -> list[NewDevelopment]:
    """Drops a development whose quote the previous brief already showed: not new."""
    seen = {grounding.normalize(e.quote) for r in before.stances for e in r.evidence}
    seen |= {grounding.normalize(c.quote) for d in before.disagreements for c in d.claims}
    return [d for d in devs if grounding.normalize(d.evidence.quote) not in seen]


def _update_ledger(store: Store, sid: str, day: str, brief: Brief, p: Plan) -> None:
    if p.extras is not None:
        for a in p.extras.answered_questions:
            n = a.question_id.strip().upper().removeprefix("Q")
            if n.isdigit() and 1 <= int(n) <= len(p.open):
                store.answer_question(
                    p.open[int(n) - 1]["id"], day, answer=a.answer, quote=a.evidence.quote,
                    source=_source_name(brief, a.evidence.source_id),
                )  # fmt: skip
        for d in p.extras.dropped_questions:
            n = d.question_id.strip().upper().removeprefix("Q")
            if n.isdigit() and 1 <= int(n) <= len(p.open):
                store.drop_question(p.open[int(n) - 1]["id"], day, d.reason)
    for q in brief.open_questions:
        ledger = store.questions(sid)
        # A near-duplicate of a question still open is the same question (asked on a later
        # day it keeps its first day; asked on an earlier one, by a backfill, it moves there).
        same = next(
            (
                row for row in ledger
                if continuity.same_question(row["question"], q.question)
                and (row["first_day"] > day or ledger_question(row, day).status == "open")
            ),
            None,
        )  # fmt: skip
        if same is not None:
            store.add_question(same["id"], sid, same["question"], day)
        else:
            store.add_question(_question_id(sid, q.question), sid, q.question, day)


def record(store: Store, day: str, made: Sequence[tuple[Brief, Plan]]) -> list[Brief]:
    """Give each of today's stories its id, update the ledger, find stance shifts, and store
    the day's stories. Returns the briefs with their `story` filled in."""
    rows, out = [], []
    for brief, p in made:
        e = p.earlier
        sid = e.story_id if e else _new_story_id(day, brief)
        first = e.first_day if e else day
        history = store.story_days(sid, before=day)
        shifts = continuity.stance_shifts(
            [(h["day"], Brief.model_validate_json(h["brief_json"]).stances) for h in history],
            brief.stances,
            day,
        )
        _update_ledger(store, sid, day, brief, p)
        stored = [q for q in store.questions(sid) if q["first_day"] <= day]
        ledger = [ledger_question(q, day) for q in stored]
        link = StoryLink(
            story_id=sid,
            first_day=first,
            continues_from=e.day if e else None,
            days_running=days_between(first, day),
            match=p.why,
            match_evidence=p.evidence,
            note=p.note,
            new_developments=_really_new(p.extras.new_developments, e.brief)
            if p.extras is not None and e is not None
            else [],
            answered=[q for r, q in zip(stored, ledger, strict=True) if r["answered_day"] == day],
            dropped=[q for r, q in zip(stored, ledger, strict=True)
                     if r["dropped_day"] == day and q.status == "dropped"],
            stance_shifts=shifts,
            open_questions=[q for q in ledger if q.status == "open"],
            changes_failed=p.changes_failed and e is not None,
        )  # fmt: skip
        story = brief.model_copy(update={"story": link})
        rows.append((sid, first, story.title, story.model_dump_json()))
        out.append(story)
    store.replace_story_days(day, rows)
    return out
