"""Stories that continue across daily runs, through the loopback test server: story identity,
what is new, the question ledger, stance shifts, reruns, gaps and backfills."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.core.schemas import StanceRow
from summarizer.stories import continuity
from summarizer.testing.openai_server import FakeOpenAI, Reply, articles_in
from tests.test_daily import GAS_1, GAS_2, TRAM

runner = CliRunner()

# The day-1 articles are test_daily's; GAS_3 continues their story.
GAS_3 = """Germany softens on EU gas cap

Germany said on Wednesday it could accept the six-month extension of the emergency gas price cap if the cap is reviewed in March, a government spokesperson said. The cost of the cap for governments is estimated at 12 billion euros, the European Commission said. Spain welcomed the German move on the gas price cap.
"""
PORT = """Dockers strike in Valdera

Dockworkers at the port of Valdera began a 48-hour strike on Wednesday over night-shift pay, the union said. The port authority said container traffic was halted.
"""
GAS_4 = """EU gas cap review set for March

The European Commission set the review of the emergency gas price cap for 10 March, officials said on Friday. Germany said the review date met its condition for backing the extension of the gas price cap.
"""

Q_EXTEND = "Will the gas price cap be extended beyond the six months?"
Q_COST = "How much will the gas price cap cost governments?"


def _row(actor: str, issue: str, stance: str, quote: str, sid: str = "S1") -> dict[str, Any]:
    return {
        "actor": actor, "issue": issue, "position": f"{actor} is {stance}.", "stance": stance,
        "evidence": [{"quote": quote, "source_id": sid}],
    }  # fmt: skip


def _q(text: str) -> dict[str, str]:
    return {"question": text, "why_it_matters": "Budgets.", "what_would_resolve_it": "A statement."}


def _brief(title: str, summary: str, rows: list[dict[str, Any]], qs: list[str]) -> dict[str, Any]:
    return {
        "title": title, "summary": summary, "key_points": [summary], "stances": rows,
        "open_questions": [_q(q) for q in qs],
    }  # fmt: skip


GERMANY_1 = "Germany and the Netherlands had pushed for an earlier end to the cap"
GERMANY_3 = "Germany said on Wednesday it could accept the six-month extension"
COST_3 = "The cost of the cap for governments is estimated at 12 billion euros"
ARTICLES = {
    "EU extends gas price cap": _brief(
        "EU extends gas price cap", "EU ministers extended the gas price cap by six months.",
        [_row("Germany", "Extending the gas price cap", "opposes", GERMANY_1)], [Q_EXTEND, Q_COST],
    ),
    "Ministers keep gas cap": _brief(
        "Ministers keep gas cap", "EU finance ministers kept the gas price cap for six months.",
        [_row("Spain", "Extending the gas price cap", "supports",
              "Spain and Italy wanted protection for households")], [Q_EXTEND],
    ),
    "Porto approves tram line": _brief(
        "Porto approves tram line", "Porto approved a river tram line.",
        [_row("Porto city council", "New tram line", "supports",
              "The city council of Porto approved a new tram line")], [],
    ),
    "Germany softens": _brief(
        "Germany softens on EU gas price cap",
        "Germany could accept the six-month extension of the gas price cap.",
        [_row("Germany", "Extension of the gas price cap", "mixed", GERMANY_3)], [],
    ),
    "Dockers strike": _brief(
        "Dockers strike in Valdera", "Valdera dockworkers began a 48-hour strike.",
        [_row("Dockworkers union", "Night-shift pay", "opposes",
              "Dockworkers at the port of Valdera began a 48-hour strike")], [],
    ),
    "review set for March": _brief(
        "EU gas price cap review set for March", "The gas price cap review is set for 10 March.",
        [_row("Germany", "Extending the gas price cap", "supports",
              "Germany said the review date met its condition")], [],
    ),
}  # fmt: skip
STORY_GAS_1 = _brief(
    "EU keeps gas price cap for six months",
    "EU ministers extended the gas price cap; Germany opposed, Spain supported.",
    [
        _row("Germany", "Extending the gas price cap", "opposes", GERMANY_1),
        _row("Spain", "Extending the gas price cap", "supports",
             "Spain and Italy wanted protection for households", "S2"),
    ],
    [Q_EXTEND, Q_COST],
)  # fmt: skip


class Model:
    """The scripted model: article briefs by headline, the day-1 gas story, and a
    continuation answer that tests may swap (to invent a quote, say)."""

    def __init__(self) -> None:
        self.invent = False
        self.drop = False
        self.broken = False

    def continuation(self, docs: dict[str, str]) -> dict[str, Any]:
        notes = {k: json.loads(v) for k, v in docs.items() if k != "PREVIOUS"}
        first = next(iter(notes.values()))
        prev = json.loads(docs["PREVIOUS"])
        qid = {q["question"]: q["id"] for q in prev["open_questions"]}
        answered = []
        if "Germany softens" in first["title"] and Q_COST in qid:
            quote = "The cap will cost exactly 99 billion euros" if self.invent else COST_3
            answered.append(
                {"question_id": qid[Q_COST], "answer": "About 12 billion euros.",
                 "evidence": {"quote": quote, "source_id": "S1"}}
            )  # fmt: skip
        devs = [
            {"development": r["position"], "evidence": r["evidence"][0]} for r in first["stances"]
        ]
        if self.drop:
            return {
                **first, "open_questions": [], "new_developments": devs,
                "dropped_questions": [
                    {"question_id": qid[Q_EXTEND], "reason": "The cap's length is settled."},
                    {"question_id": "Q99", "reason": "No such question: ignored."},
                ],
            }  # fmt: skip
        return {
            **first,
            # A near-duplicate of the open question about extension: not added again.
            "open_questions": [_q("Will the gas cap be extended beyond six months?")],
            "new_developments": devs,
            "answered_questions": answered,
        }

    def __call__(self, request: dict[str, Any]) -> Reply:
        docs = articles_in(request)
        system = request["messages"][0]["content"]
        if "briefed before" in system:
            return Reply("not json {") if self.broken else Reply(self.continuation(docs))
        if "notes extracted" in system:
            return Reply(STORY_GAS_1)
        text = next(iter(docs.values()))
        return Reply(next(v for k, v in ARTICLES.items() if k in text))


DAYS = {
    "2026-11-24": {"g1.txt": GAS_1, "g2.txt": GAS_2, "tram.txt": TRAM},
    "2026-11-25": {"g3.txt": GAS_3, "port.txt": PORT},
    "2026-11-27": {"g4.txt": GAS_4},
}


@pytest.fixture
def model() -> Model:
    return Model()


@pytest.fixture
def server(model: Model) -> Any:
    with FakeOpenAI(model) as s:
        yield s


def run_day(tmp: Path, server: FakeOpenAI, day: str, store: str = "s.db", *args: str) -> Any:
    src = tmp / f"src-{day}"
    src.mkdir(exist_ok=True)
    for name, text in DAYS[day].items():
        (src / name).write_text(text)
    out = tmp / f"out-{store}"
    r = runner.invoke(
        app,
        ["daily", "-s", str(src), "--out-dir", str(out), "--store", str(tmp / store),
         "--base-url", server.base_url, "--date", day, *args],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return json.loads((out / f"{day}.json").read_text()), (out / f"{day}.md").read_text()


def _story(daily: dict[str, Any], word: str) -> dict[str, Any]:
    return next(s for s in daily["stories"] if word in s["title"])


def test_three_days_continue_answer_shift_gap_and_rerun(tmp_path: Path, server: FakeOpenAI) -> None:
    d1, _ = run_day(tmp_path, server, "2026-11-24")
    gas1 = _story(d1, "gas")
    assert gas1["story"]["continues_from"] is None
    assert {q["question"] for q in gas1["story"]["open_questions"]} == {Q_EXTEND, Q_COST}

    calls = len(server.requests)
    d2, md2 = run_day(tmp_path, server, "2026-11-25")
    assert len(server.requests) == calls + 3  # two article briefs + one continuation
    gas2, port = _story(d2, "Germany"), _story(d2, "Dockers")
    link = gas2["story"]
    assert link["story_id"] == gas1["story"]["story_id"]
    assert link["continues_from"] == "2026-11-24" and link["days_running"] == 1
    assert link["match"].startswith("linked on shared names: Germany")
    assert "score" not in link["match"] and " x " not in link["match"]  # no formula for readers
    assert port["story"]["continues_from"] is None  # a new story starts
    # The answer comes with its verbatim quote and source; the question leaves the open list.
    (answered,) = link["answered"]
    assert answered["question"] == Q_COST and answered["quote"] == COST_3
    assert answered["source"].endswith("g3.txt") and answered["age_days"] == 1
    # The near-duplicate of the open question about extension was not added again.
    assert [(q["question"], q["age_days"]) for q in link["open_questions"]] == [(Q_EXTEND, 1)]
    (shift,) = link["stance_shifts"]
    assert (shift["actor"], shift["before"], shift["after"]) == ("Germany", "opposes", "mixed")
    assert (shift["before_quote"], shift["after_quote"]) == (GERMANY_1, GERMANY_3)
    assert [d["evidence"]["quote"] for d in link["new_developments"]] == [GERMANY_3]
    # What changed comes first in the Markdown, before the stories.
    assert md2.index("## What changed") < md2.index("## 1.")
    assert "Germany: opposes (2026-11-24) -> mixed (2026-11-25)" in md2
    assert "Continues story " + link["story_id"] + " from 2026-11-24" in md2
    html = (tmp_path / "out-s.db" / "2026-11-25.html").read_text()
    assert html.index("What changed") < html.index('<article class="story"')
    assert "Germany: opposes (2026-11-24) -&gt; mixed (2026-11-25)" in html
    assert "open for 1 day" in html and "open for 1 day" in md2

    # A rerun of the same day: no call, the same answer once, the same shift once.
    calls = len(server.requests)
    again, _ = run_day(tmp_path, server, "2026-11-25")
    assert len(server.requests) == calls and again["provenance"]["llm_calls"] == 0
    assert _story(again, "Germany")["story"] == link

    # A gap (no run on the 26th): day 3 continues from the 25th, its last brief.
    d3, _ = run_day(tmp_path, server, "2026-11-27")
    link3 = _story(d3, "review")["story"]
    assert link3["story_id"] == link["story_id"] and link3["continues_from"] == "2026-11-25"
    assert link3["days_running"] == 3 and link3["answered"] == []
    (shift3,) = link3["stance_shifts"]
    assert (shift3["before"], shift3["before_day"], shift3["after"]) == (
        "mixed", "2026-11-25", "supports",
    )  # fmt: skip
    assert [(q["question"], q["age_days"]) for q in link3["open_questions"]] == [(Q_EXTEND, 3)]

    # The continuation calls: the previous brief is fenced data, the old articles are never
    # sent again, and the system message is the same every day (a cacheable prefix).
    sent = [r for r in server.requests if "briefed before" in r["messages"][0]["content"]]
    assert len(sent) == 2
    assert len({r["messages"][0]["content"] for r in sent}) == 1
    for r in sent:
        assert "id=PREVIOUS>>>" in r["messages"][1]["content"]
        assert "Dutch hub" not in json.dumps(r)  # day 1's article text
    assert "2026-11-24" in articles_in(sent[0])["PREVIOUS"]
    assert "2026-11-25" in articles_in(sent[1])["PREVIOUS"]  # the last brief, across the gap

    # The ledger commands.
    store = str(tmp_path / "s.db")
    r = runner.invoke(app, ["questions", "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert sorted((q["question"], q["status"]) for q in rows) == [
        (Q_COST, "answered"), (Q_EXTEND, "open"),
    ]  # fmt: skip
    r = runner.invoke(app, ["questions", "--store", store, "--status", "open"])
    assert r.exit_code == 0 and Q_EXTEND in r.stdout and Q_COST not in r.stdout
    r = runner.invoke(app, ["questions", "--store", store, "--since", "2026-11-25"])
    assert r.exit_code == 0 and Q_EXTEND not in r.stdout
    r = runner.invoke(app, ["story", link["story_id"], "--store", store])
    assert r.exit_code == 0, r.output
    days = [r.stdout.index(f"## {d} ") for d in ("2026-11-24", "2026-11-25", "2026-11-27")]
    assert days == sorted(days)
    assert GERMANY_3 in r.stdout and "opposes (2026-11-24) -> mixed (2026-11-25)" in r.stdout
    r = runner.invoke(app, ["story", "st-nope", "--store", store])
    assert r.exit_code != 0 and "st-nope" in r.output and "Traceback" not in r.output


def test_backfill_does_not_see_later_days(tmp_path: Path, server: FakeOpenAI) -> None:
    run_day(tmp_path, server, "2026-11-24", "order.db")
    in_order, _ = run_day(tmp_path, server, "2026-11-25", "order.db")
    run_day(tmp_path, server, "2026-11-24", "back.db")
    run_day(tmp_path, server, "2026-11-27", "back.db")
    backfill, _ = run_day(tmp_path, server, "2026-11-25", "back.db")
    assert [s["story"] for s in backfill["stories"]] == [s["story"] for s in in_order["stories"]]


def test_an_invented_answer_quote_leaves_the_question_open(
    tmp_path: Path, server: FakeOpenAI, model: Model
) -> None:
    model.invent = True
    run_day(tmp_path, server, "2026-11-24")
    d2, md2 = run_day(tmp_path, server, "2026-11-25")
    link = _story(d2, "Germany")["story"]
    assert link["answered"] == []
    assert Q_COST in [q["question"] for q in link["open_questions"]]
    assert "99 billion" not in json.dumps(d2) and "99 billion" not in md2
    # The model was told, and asked again, before the quote was dropped.
    assert any("does not occur verbatim" in json.dumps(r["messages"]) for r in server.requests)


def test_detached_story_is_left_alone(tmp_path: Path, server: FakeOpenAI) -> None:
    d1, _ = run_day(tmp_path, server, "2026-11-24")
    sid = _story(d1, "gas")["story"]["story_id"]
    (tmp_path / "c.toml").write_text(f'[daily.continuity]\ndetach = ["{sid}"]\n')
    d2, _ = run_day(tmp_path, server, "2026-11-25", "s.db", "--config", str(tmp_path / "c.toml"))
    link = _story(d2, "Germany")["story"]
    assert link["story_id"] != sid and link["continues_from"] is None
    assert f"not joined to story {sid}" in link["note"]


def _stance(actor: str, issue: str) -> StanceRow:
    return StanceRow.model_validate(_row(actor, issue, "supports", "some quote here"))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Greece", "greece", True),
        ("Türkiye (Ankara)", "Ankara", True),
        ("Türkiye (Ankara)", "Turkiye", True),
        ("Khalifa Haftar", "Haftar", True),
        ("The European Commission", "European Commission", True),
        ("Greece", "Egypt", False),
        ("Khalifa Haftar", "Saddam Haftar", False),
        ("EU", "EU Commission", False),  # a short word is not a name to match on
    ],
)
def test_actor_matching(a: str, b: str, same: bool) -> None:
    assert continuity.same_actor(a, b) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Extending the gas price cap", "Extension of the gas price cap", True),
        ("The 2019 maritime deal", "Maritime deal with Tripoli", True),
        ("Visiting Türkiye", "The maritime deal", False),
        ("Night-shift pay", "Extending the gas price cap", False),
    ],
)
def test_issue_matching(a: str, b: str, same: bool) -> None:
    assert continuity.same_issue(a, b) is same


def test_shift_needs_same_actor_and_issue() -> None:
    before = [("2026-11-24", [_stance("Greece", "The maritime deal")])]
    moved = StanceRow.model_validate(_row("Greece", "The maritime deal", "mixed", "q" * 12))
    other = StanceRow.model_validate(_row("Egypt", "The maritime deal", "mixed", "q" * 12))
    same = StanceRow.model_validate(_row("greece", "maritime deal", "supports", "q" * 12))
    assert len(continuity.stance_shifts(before, [moved], "2026-11-25")) == 1
    assert continuity.stance_shifts(before, [other, same], "2026-11-25") == []


def test_api_story_and_questions(tmp_path: Path, server: FakeOpenAI) -> None:
    from summarizer.store import Store
    from tests.test_service import KEY, serving

    run_day(tmp_path, server, "2026-11-24")
    d2, _ = run_day(tmp_path, server, "2026-11-25")
    sid = _story(d2, "Germany")["story"]["story_id"]
    with serving(tmp_path, server, store=Store(tmp_path / "s.db")) as api:
        # Stories and questions come from daily runs: by default (local_briefs = "none")
        # no API key reads them, as no key reads the daily briefs themselves.
        assert api.get(f"/v1/stories/{sid}").status_code == 404
        assert api.get("/v1/questions").status_code == 403
    with serving(tmp_path, server, store=Store(tmp_path / "s.db"), local_briefs="all") as api:
        r = api.get(f"/v1/stories/{sid}")
        assert r.status_code == 200, r.text
        assert [d["day"] for d in r.json()["days"]] == ["2026-11-24", "2026-11-25"]
        r = api.get("/v1/questions", params={"status": "answered"})
        assert [(q["question"], q["quote"]) for q in r.json()] == [(Q_COST, COST_3)]
        assert (
            api.get("/v1/questions", params={"story": sid, "status": "open"}).json()[0]["question"]
            == Q_EXTEND
        )
        assert api.get("/v1/stories/st-0000000000").status_code == 404
        assert api.get("/v1/questions", params={"status": "maybe"}).status_code == 422
        assert api.get("/v1/questions", key=None).status_code == 401
        assert KEY  # the service's own key was used above


def test_slack_what_changed_comes_first_and_keeps_limits(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    from summarizer.core.schemas import DailyBrief
    from summarizer.render.slack import (
        MAX_BLOCKS,
        MAX_MESSAGE_CHARS,
        block_chars,
        to_slack_messages,
    )

    run_day(tmp_path, server, "2026-11-24")
    d2, _ = run_day(tmp_path, server, "2026-11-25")
    daily = DailyBrief.model_validate(d2)
    messages = to_slack_messages(daily)
    assert messages[0]["blocks"][0]["text"]["text"] == "What changed — 2026-11-25"
    assert "opposes (2026-11-24) -&gt; mixed (2026-11-25)" in json.dumps(messages[0])
    story_msgs = json.dumps(messages[2:])
    assert "Continues story " in story_msgs and "open for 1 day" in story_msgs
    # A long "What changed": hundreds of developments still fit Slack's limits.
    story = daily.stories[0]
    assert story.story is not None
    dev = story.story.new_developments[0]
    many = [dev.model_copy(update={"development": f"Point {i}: " + "x " * 300}) for i in range(200)]
    long = daily.model_copy(
        update={"stories": [story.model_copy(update={"story": story.story.model_copy(
            update={"new_developments": many})})]}
    )  # fmt: skip
    messages = to_slack_messages(long)
    changed = [m for m in messages if m["text"].startswith("What changed")]
    assert len(changed) > 1 and messages[: len(changed)] == changed
    for m in messages:
        assert len(m["blocks"]) <= MAX_BLOCKS
        assert len(m["text"]) + sum(block_chars(b) for b in m["blocks"]) <= MAX_MESSAGE_CHARS
    text = json.dumps(changed)
    assert all(f"Point {i}:" in text for i in range(200))  # nothing dropped


PAIRS = json.loads((Path(__file__).parent / "fixtures" / "continuity_pairs.json").read_text())


@pytest.mark.parametrize("pair", PAIRS["pairs"], ids=[p["why"] for p in PAIRS["pairs"]])
def test_matching_on_the_pair_set(pair: dict[str, Any]) -> None:
    """The default threshold tells continuing pairs from the others, with a margin."""
    from summarizer.daily.config import ContinuityConfig

    threshold = ContinuityConfig().threshold
    matches = continuity.score([pair["today"]], [pair["earlier"]])
    best = matches[0].score if matches else 0.0
    if pair["continues"]:
        assert best >= threshold + 0.1, matches
    else:
        assert best <= threshold - 0.1, matches


def test_seed_demo_day_two_offline(tmp_path: Path) -> None:
    """The README's two commands: day 1 then day 2 of the seeds, from the recordings."""
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    for folder, day in (("daily", "2026-11-25"), ("daily-2", "2026-11-26")):
        r = runner.invoke(
            app,
            ["daily", "-s", str(seeds / folder), "--replay", str(seeds / "recordings"),
             "--out-dir", str(tmp_path), "--store", str(tmp_path / "demo.db"), "--date", day],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    d2 = json.loads((tmp_path / "2026-11-26.json").read_text())
    haftar, flood = _story(d2, "Haftar"), _story(d2, "Kessra")
    link = haftar["story"]
    assert link["continues_from"] == "2026-11-25" and flood["story"]["continues_from"] is None
    assert [q["question"] for q in link["answered"]] == [
        "When will the visit take place: this month or next?"
    ]
    assert [(s["actor"], s["before"], s["after"]) for s in link["stance_shifts"]] == [
        ("Greece", "opposes", "mixed")
    ]
    assert d2["provenance"]["fixture"] is True and d2["provenance"]["replayed"] is True
    md = (tmp_path / "2026-11-26.md").read_text()
    assert "Not model output" in md and "Greece: opposes (2026-11-25) -> mixed (2026-11-26)" in md


@pytest.fixture
def store(store_target: str) -> Any:
    from summarizer.store import Store

    with Store(store_target) as s:
        yield s


def test_ledger_store_on_both_backends(store: Any) -> None:
    """Asked again keeps the earliest day; answered once; a backfill moves an answer earlier;
    a question is never answered on the day it was asked; candidates never come from later."""
    store.add_question("q1", "st-1", "Who pays?", "2026-11-24")
    store.add_question("q1", "st-1", "Who pays?", "2026-11-25")  # a later day: no change
    assert store.questions("st-1")[0]["first_day"] == "2026-11-24"
    store.answer_question("q1", "2026-11-24", answer="x", quote="y" * 12, source="s")
    assert store.questions()[0]["answered_day"] is None  # not on the day it was asked
    store.answer_question("q1", "2026-11-27", answer="A", quote="Q" * 12, source="s")
    store.answer_question("q1", "2026-11-28", answer="B", quote="R" * 12, source="s")
    assert (store.questions()[0]["answer"], store.questions()[0]["answered_day"]) == (
        "A", "2026-11-27",
    )  # fmt: skip
    store.answer_question("q1", "2026-11-25", answer="C", quote="S" * 12, source="s")
    assert store.questions()[0]["answered_day"] == "2026-11-25"  # a backfill moves it earlier
    store.drop_question("q1", "2026-11-26", "moot")
    assert store.questions()[0]["reason"] == "moot"
    store.replace_story_days("2026-11-24", [("st-1", "2026-11-24", "T1", "{}")])
    store.replace_story_days("2026-11-26", [("st-1", "2026-11-24", "T2", "{}")])
    assert [r["day"] for r in store.story_candidates("2026-11-25", "2026-11-01")] == ["2026-11-24"]
    assert [r["day"] for r in store.story_candidates("2026-11-27", "2026-11-01")] == ["2026-11-26"]
    assert store.story_candidates("2026-11-25", "2026-11-25") == []  # outside the lookback
    store.replace_story_days("2026-11-26", [])  # a rerun of the day replaces its stories
    assert [r["day"] for r in store.story_days("st-1")] == ["2026-11-24"]


def test_webhook_delivery_posts_what_changed_first(
    tmp_path: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_daily import Webhook

    run_day(tmp_path, server, "2026-11-24")
    hook = Webhook()
    try:
        monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", hook.url)
        run_day(tmp_path, server, "2026-11-25")
    finally:
        hook.close()
    first = hook.posts[0]
    assert first["blocks"][0]["text"]["text"] == "What changed — 2026-11-25"
    assert COST_3 in json.dumps(first)  # the answered question, with its quote
    assert hook.posts[1]["blocks"][0]["text"]["text"] == "Daily brief — 2026-11-25"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["questions", "--status", "maybe"], "--status maybe: unknown"),
        (["questions", "--since", "yesterday"], "--since yesterday: not a date"),
        (["questions", "--format", "html"], "--format html: unknown; use md or json"),
    ],
)
def test_ledger_command_errors(tmp_path: Path, args: list[str], says: str) -> None:
    r = runner.invoke(app, [*args, "--store", str(tmp_path / "s.db")])
    assert r.exit_code == 3 and says in r.output and "Traceback" not in r.output
    assert r.stdout == ""  # no partial output


def test_empty_ledger(tmp_path: Path) -> None:
    r = runner.invoke(app, ["questions", "--store", str(tmp_path / "s.db")])
    assert r.exit_code == 0 and r.stdout == "_No questions match._\n"
    r = runner.invoke(app, ["questions", "--store", str(tmp_path / "s.db"), "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == []


def test_a_development_the_previous_brief_already_quoted_is_not_new() -> None:
    from summarizer.core.schemas import Brief, NewDevelopment
    from summarizer.daily.follow import _really_new

    before = Brief.model_validate(
        {**STORY_GAS_1, "sources": [], "provenance": {
            "model": "m", "prompt_name": "p", "prompt_version": "1",
            "created_at": "2026-11-24T00:00:00Z", "tokens_in": 0, "tokens_out": 0,
            "llm_calls": 0, "cost_usd": 0, "replayed": False, "fixture": True,
            "ungrounded_dropped": 0}}
    )  # fmt: skip
    old = NewDevelopment.model_validate(
        {
            "development": "Germany wanted an end.",
            "evidence": {"quote": GERMANY_1, "source_id": "S1"},
        }
    )
    new = NewDevelopment.model_validate(
        {"development": "Germany softens.", "evidence": {"quote": GERMANY_3, "source_id": "S1"}}
    )
    assert _really_new([old, new], before) == [new]


def test_a_dropped_question_leaves_the_open_list_with_its_reason(
    tmp_path: Path, server: FakeOpenAI, model: Model
) -> None:
    model.drop = True
    run_day(tmp_path, server, "2026-11-24")
    d2, md2 = run_day(tmp_path, server, "2026-11-25")
    link = _story(d2, "Germany")["story"]
    assert [(q["question"], q["reason"]) for q in link["dropped"]] == [
        (Q_EXTEND, "The cap's length is settled.")
    ]
    assert [q["question"] for q in link["open_questions"]] == [Q_COST]
    assert f"Dropped: {Q_EXTEND} — The cap's length is settled." in md2
    r = runner.invoke(
        app, ["questions", "--store", str(tmp_path / "s.db"), "--status", "dropped", "-f", "json"]
    )
    assert [q["question"] for q in json.loads(r.stdout)] == [Q_EXTEND]


def test_a_failed_continuation_still_continues_and_says_why(
    tmp_path: Path, server: FakeOpenAI, model: Model
) -> None:
    d1, _ = run_day(tmp_path, server, "2026-11-24")
    model.broken = True
    src = tmp_path / "src-2026-11-25"
    src.mkdir()
    for name, text in DAYS["2026-11-25"].items():
        (src / name).write_text(text)
    r = runner.invoke(
        app,
        ["daily", "-s", str(src), "--out-dir", str(tmp_path / "out"), "--store",
         str(tmp_path / "s.db"), "--base-url", server.base_url, "--date", "2026-11-25"],
    )  # fmt: skip
    assert r.exit_code == 9, r.output  # partial: listed under "Not included"
    d2 = json.loads((tmp_path / "out" / "2026-11-25.json").read_text())
    link = _story(d2, "Germany")["story"]
    assert link["story_id"] == _story(d1, "gas")["story"]["story_id"]
    assert link["new_developments"] == [] and link["answered"] == []
    assert link["note"].startswith("What changed could not be made")
    assert [q["question"] for q in link["open_questions"]] == [Q_EXTEND, Q_COST]
    assert len(link["stance_shifts"]) == 1  # computed from the store, not by the model
    assert any(f["source"] == f"story {link['story_id']}" for f in d2["failures"])
