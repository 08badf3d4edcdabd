"""`daily --batch`: the per-article step through the Batch API, against the loopback
server's Files and Batch endpoints (real SDK, real instructor, real store)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.llm import pricing, recordings
from summarizer.testing.openai_server import FakeOpenAI, Quirks, Reply, grounded_brief
from tests.test_daily import GAS_1, GAS_2, TRAM

runner = CliRunner()
DAY = "2026-11-25"


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    d = tmp_path / "articles"
    d.mkdir()
    (d / "a1.txt").write_text(GAS_1)
    (d / "a2.txt").write_text(GAS_2)
    (d / "a3.txt").write_text(TRAM)
    return d


def config(tmp_path: Path, **daily: Any) -> Path:
    """A config file whose [daily] table has these settings (batch_poll short by default);
    `top` holds settings outside it."""
    daily.setdefault("batch_poll", 0.01)
    top = daily.pop("top", {})
    lines = [f"{k} = {json.dumps(v)}" for k, v in top.items()]
    lines += ["[daily]"] + [f"{k} = {json.dumps(v)}" for k, v in daily.items()]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(tmp_path: Path, articles: Path, *args: str, base_url: str | None, **daily: Any) -> Any:
    where = ["--base-url", base_url] if base_url else []
    return runner.invoke(
        app,
        ["daily", "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
         "--date", DAY, "-s", str(articles), "--config", str(config(tmp_path, **daily)),
         "--batch", *where, *args],
    )  # fmt: skip


def written(tmp_path: Path) -> list[str]:
    out = tmp_path / "out"
    return (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )


def load(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "out" / f"{DAY}.json").read_text())


def uploaded(server: FakeOpenAI) -> list[list[dict[str, Any]]]:
    """Each uploaded batch input file, as its lines."""
    api = server.batch_api
    return [
        [json.loads(line) for line in api.contents[fid].splitlines()]
        for fid, f in api.files.items()
        if f["purpose"] == "batch"
    ]


def db_rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "s.db") as db:
        return list(db.execute(sql))


def test_a_batch_is_pending_then_collected_by_the_next_run_at_half_price(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=3)) as server:
        first = run(tmp_path, articles, base_url=server.base_url)
        # Submitted, not finished: exit 13, one line saying so, no brief, no model call.
        assert first.exit_code == 13, first.output
        assert "batch pending: 3 request(s) wait in batch_" in first.output
        assert "error" not in first.output.lower()
        assert written(tmp_path) == [] and server.requests == []
        second = run(tmp_path, articles, base_url=server.base_url)
        assert second.exit_code == 13, second.output  # still running: nothing sent again
        assert len(uploaded(server)) == 1 and len(server.batch_api.batches) == 1
        third = run(tmp_path, articles, base_url=server.base_url)
        assert third.exit_code == 0, third.output
    # 3 articles through the batch; the gas story's synthesis live (the default).
    assert server.batched_requests == 3 and len(server.requests) == 4
    data = load(tmp_path)
    p = data["provenance"]
    assert p["batched_calls"] == 3 and p["llm_calls"] == 4 and p["fixture"] is True
    assert data["stories"][0]["provenance"]["batched_calls"] == 2
    statuses = [s for (s,) in db_rows(tmp_path, "SELECT status FROM runs ORDER BY started_at")]
    assert statuses == ["pending", "pending", "ok"]
    # Each call in the history once, the batched ones at half the price of their tokens.
    calls = db_rows(
        tmp_path, "SELECT model, tokens_in, tokens_out, cost_usd, batched FROM llm_calls"
    )
    assert sorted(b for *_, b in calls) == [0, 1, 1, 1]
    for model, tin, tout, cost, batched in calls:
        full = pricing.cost_usd(model, tin, tout)
        assert full is not None and cost < full if batched else cost <= full
    batched = [c for c in calls if c[4]]
    cached = 0  # the fake's prefix cache may discount a batched line too: compare uncached
    assert (
        sum(c[3] for c in batched)
        <= 0.5 * sum(pricing.cost_usd(m, i, o, cached) or 0 for m, i, o, *_ in batched) + 1e-9
    )


def test_request_lines_are_the_bodies_a_live_run_sends(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        assert run(tmp_path / "b", articles, base_url=server.base_url).exit_code == 0
    with FakeOpenAI() as live:
        r = runner.invoke(
            app,
            ["daily", "--out-dir", str(tmp_path / "l" / "out"), "--store",
             str(tmp_path / "l.db"), "--date", DAY, "-s", str(articles), "--base-url",
             live.base_url],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    [lines] = uploaded(server)
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert {line["method"] for line in lines} == {"POST"}
    # Same bodies, byte for byte once canonical, filed under the same keys as recordings.
    live_bodies = {recordings.request_key(r): r for r in live.requests[:3]}
    assert {line["custom_id"]: line["body"] for line in lines} == live_bodies
    # And the brief is the same.
    b = json.loads((tmp_path / "b" / "out" / f"{DAY}.json").read_text())
    lv = json.loads((tmp_path / "l" / "out" / f"{DAY}.json").read_text())
    assert [s["stances"] for s in b["stories"]] == [s["stances"] for s in lv["stories"]]


def test_wait_polls_until_done_and_finishes_in_one_run(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=4)) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert written(tmp_path) == [f"{DAY}.html", f"{DAY}.json", f"{DAY}.md"]
    assert server.batched_requests == 3


def _ungrounded_first(tram_quote: str) -> Any:
    """The tram article's first answer quotes what the article never said; its reask and
    every other request get a grounded brief."""

    def respond(request: dict[str, Any]) -> Reply:
        reask = any(m.get("role") in ("assistant", "tool") for m in request["messages"])
        text = json.dumps(request["messages"])
        if "tram" in text and not reask and "Story" not in text:
            reply = grounded_brief(request)
            payload = dict(reply.payload)
            payload["stances"] = [
                {**payload["stances"][0], "evidence": [{"quote": tram_quote, "source_id": "S1"}]}
            ]
            return Reply(payload)
        return grounded_brief(request)

    return respond


@pytest.mark.parametrize("followup", ["batch", "live"])
def test_reasks_go_to_a_follow_up_batch_or_live(
    tmp_path: Path, articles: Path, followup: str
) -> None:
    respond = _ungrounded_first("The mayor promised free trams for everyone forever.")
    with FakeOpenAI(respond, quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url, batch_followup=followup)
    assert r.exit_code == 0, r.output
    files = uploaded(server)
    if followup == "batch":
        # The reask went into a second batch, carrying the failed answer back.
        assert [len(f) for f in files] == [3, 1]
        assert any(m["role"] in ("assistant", "tool") for m in files[1][0]["body"]["messages"])
        assert server.batched_requests == 4 and len(server.requests) == 5
    else:
        assert [len(f) for f in files] == [3] and server.batched_requests == 3
        assert len(server.requests) == 5  # 3 batched + the reask and the story live
    tram = next(s for s in load(tmp_path)["stories"] if "tram" in json.dumps(s).lower())
    quotes = [ev["quote"] for row in tram["stances"] for ev in row["evidence"]]
    assert quotes and all(q in TRAM for q in quotes)


def test_stories_can_be_a_second_batch(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=1)) as server:
        first = run(tmp_path, articles, base_url=server.base_url, batch_stories="batch")
        assert first.exit_code == 13, first.output  # the articles' batch runs
        second = run(tmp_path, articles, base_url=server.base_url, batch_stories="batch")
        assert second.exit_code == 13, second.output  # collected; the stories' batch runs
        assert "1 request(s) wait" in second.output
        third = run(tmp_path, articles, base_url=server.base_url, batch_stories="batch")
        assert third.exit_code == 0, third.output
    assert [len(f) for f in uploaded(server)] == [3, 1]
    assert server.batched_requests == 4 and len(server.requests) == 4
    assert load(tmp_path)["provenance"]["batched_calls"] >= 1


@pytest.mark.parametrize("outcome", ["expired", "cancelled"])
def test_an_expired_or_cancelled_batch_is_reported_and_its_requests_retried(
    tmp_path: Path, articles: Path, outcome: str
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0, batch_outcome=outcome)) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    # One of three answered before it ended; the other two retried live.
    assert server.batched_requests == 1 and len(server.requests) == 1 + 2 + 1
    assert f"ended {outcome}: 2 of 3 request(s) got no answer" in r.output
    assert f"batch_{outcome}" in r.output


def test_requests_no_batch_answers_fail_by_name_once_retries_are_spent(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0, batch_outcome="expired")) as server:
        r = run(
            tmp_path, articles, "--wait", base_url=server.base_url, batch_followup="batch",
            batch_retries=1,
        )  # fmt: skip
    # 3 lines: 1 answered; retried in a second batch: 1 of 2 answered; the last one has
    # had no answer from 2 batches and is listed, naming the batch and why.
    assert [len(f) for f in uploaded(server)] == [3, 2]
    assert r.exit_code == 9, r.output
    failures = load(tmp_path)["failures"]
    assert len(failures) == 1
    assert "batch_expired" in failures[0]["error"] and "batch batch_" in failures[0]["error"]
    assert "no answer from 2 batches" in failures[0]["error"]


def test_a_failed_batch_is_reported_and_retried_live(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0, batch_outcome="failed")) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert "ended failed: 3 of 3 request(s) got no answer" in r.output
    assert "token_limit_exceeded" in r.output
    assert server.batched_requests == 0 and len(server.requests) == 4


def test_an_error_line_and_a_lost_output_file_are_retried(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=1)) as server:
        assert run(tmp_path, articles, base_url=server.base_url).exit_code == 13
        [lines] = uploaded(server)
        server.quirks.batch_error_lines = {lines[0]["custom_id"]}
        r = run(tmp_path, articles, base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert "1 of 3 request(s) got no answer" in r.output and "HTTP 500" in r.output
    assert server.batched_requests == 2 and len(server.requests) == 2 + 1 + 1

    other = tmp_path / "lost"
    with FakeOpenAI(quirks=Quirks(batch_steps=0, batch_lose_output=True)) as server:
        r = run(other, articles, "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert "could not be downloaded" in r.output
    assert len(server.requests) == 3 + 3 + 1  # answered in the batch, but lost: paid again


def test_an_endpoint_without_a_batch_api_is_refused_in_one_line(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batches=False)) as server:
        r = run(tmp_path, articles, base_url=server.base_url)
    assert r.exit_code == 3
    assert r.output.count("\n") == 1 and "has no Batch API" in r.output
    assert "HTTP 404" in r.output and "without --batch" in r.output
    assert written(tmp_path) == [] and server.requests == []


def test_bad_combinations_are_refused(tmp_path: Path, articles: Path) -> None:
    r = runner.invoke(
        app,
        ["daily", "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
         "-s", str(articles), "--base-url", "http://127.0.0.1:9/v1", "--wait"],
    )  # fmt: skip
    assert r.exit_code == 3 and "--wait is for batch runs" in r.output
    r = run(tmp_path, articles, "--on-workers", base_url="http://127.0.0.1:9/v1")
    assert r.exit_code == 3 and "cannot be combined" in r.output


def test_a_batch_run_records_and_replays_on_a_fresh_machine(tmp_path: Path, articles: Path) -> None:
    rec = tmp_path / "rec"
    live = tmp_path / "live"
    with FakeOpenAI(quirks=Quirks(batch_steps=2)) as server:
        assert run(live, articles, "--record", str(rec), base_url=server.base_url).exit_code == 13
        r = run(live, articles, "--record", str(rec), base_url=server.base_url)
        assert r.exit_code == 0, r.output
    # No server, no key, a new store: the upload, the batch, its polls and its output
    # come from the recordings, and the brief is the same.
    fresh = tmp_path / "fresh"
    r = run(fresh, articles, "--replay", str(rec), base_url=None)
    assert r.exit_code == 0, r.output
    a, b = load(live), load(fresh)
    assert [s["stances"] for s in a["stories"]] == [s["stances"] for s in b["stories"]]
    assert b["provenance"]["fixture"] is True and b["provenance"]["batched_calls"] == 3
    assert "Not model output" in (fresh / "out" / f"{DAY}.md").read_text()
    saved = [json.loads(p.read_text()) for p in rec.glob("*.json")]
    assert {s["request"]["path"].rsplit("/v1", 1)[1].split("/")[1] for s in saved} >= {
        "files", "batches", "chat",
    }  # fmt: skip
    assert all(s["origin"] == "fixture" for s in saved)


def test_a_run_killed_before_storing_its_batch_adopts_it(
    tmp_path: Path, articles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.store import Store

    real = Store.set_batch
    calls = {"n": 0}

    def dies_once(self: Store, batch: str, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # the batch was created at the provider; the process dies here
            raise KeyboardInterrupt
        real(self, batch, **kw)

    monkeypatch.setattr(Store, "set_batch", dies_once)
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        killed = run(tmp_path, articles, base_url=server.base_url)
        assert killed.exit_code == 130
        r = run(tmp_path, articles, base_url=server.base_url)
        assert r.exit_code == 0, r.output
        assert "found batch" in r.output
    # One upload, one batch at the provider: nothing was submitted twice.
    assert len(uploaded(server)) == 1 and len(server.batch_api.batches) == 1
    assert server.batched_requests == 3


def test_a_long_articles_chunks_share_one_batch(tmp_path: Path) -> None:
    d = tmp_path / "long"
    d.mkdir()
    paragraphs = [f"Paragraph {i}: " + GAS_1.split("\n")[2] for i in range(40)]
    (d / "long.txt").write_text("Long report\n\n" + "\n\n".join(paragraphs))
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, d, "--wait", base_url=server.base_url, top={"max_article_tokens": 600})
    assert r.exit_code == 0, r.output
    sizes = [len(f) for f in uploaded(server)]
    # Every chunk in the first batch; the merge of the chunks, which needs them, in the next.
    assert sizes[0] > 2 and sizes[1:] == [1]


def test_the_batch_price_is_half_of_every_rate() -> None:
    from summarizer.llm.calls import CallLog, CallRecord

    live = pricing.cost_usd("gpt-4o-mini", 10_000, 2_000, 4_096)
    batched = pricing.cost_usd("gpt-4o-mini", 10_000, 2_000, 4_096, batched=True)
    assert live is not None and batched is not None and batched == pytest.approx(live / 2, abs=1e-6)
    assert pricing.cost_usd("local-model", 10, 10, batched=True) is None
    log = CallLog(
        [
            CallRecord("a", "gpt-4o-mini", 200, 10_000, 2_000, 1.0, False, False),
            CallRecord("b", "gpt-4o-mini", 200, 10_000, 2_000, 0.0, False, False, batched=True),
        ]
    )
    assert log.batched_calls == 1
    assert log.cost_usd("gpt-4o-mini") == pytest.approx(
        1.5 * (pricing.cost_usd("gpt-4o-mini", 10_000, 2_000) or 0), abs=1e-6
    )


def test_a_morning_collect_finishes_what_the_night_submitted(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=3)) as server:
        night = run(tmp_path, articles, base_url=server.base_url)
        assert night.exit_code == 13, night.output
        (articles / "a4.txt").write_text(TRAM.replace("Porto", "Braga").replace("river", "hill"))
        morning = run(tmp_path, articles, "--collect", base_url=server.base_url)
        assert morning.exit_code == 0, morning.output
    # The night's three articles from its batch; the one that came since, live; no new batch.
    assert len(uploaded(server)) == 1 and server.batched_requests == 3
    p = load(tmp_path)["provenance"]
    assert p["articles_briefed"] == 4 and p["batched_calls"] == 3
    assert len(server.requests) - server.batched_requests >= 1


def test_the_budget_counts_held_requests_at_their_worst_case(
    tmp_path: Path, articles: Path
) -> None:
    # One article's worst case (its prompt, a full max_tokens answer, at the batch price)
    # is about $0.0013 at gpt-4o-mini's rates: a $0.002 budget holds two, skips the third.
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(
            tmp_path, articles, "--concurrency", "1", "--max-cost", "0.002",
            base_url=server.base_url,
        )  # fmt: skip
    assert r.exit_code == 9, r.output
    assert [len(f) for f in uploaded(server)] == [2]
    skipped = load(tmp_path)["failures"]
    assert len(skipped) == 1 and "budget was reached" in skipped[0]["error"]
    assert load(tmp_path)["provenance"]["stopped_by_budget"] is True


def test_a_batch_left_at_another_endpoint_is_reported_and_not_waited_for(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=50)) as old:
        assert run(tmp_path, articles, base_url=old.base_url).exit_code == 13
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as new:
        r = run(tmp_path, articles, "--wait", base_url=new.base_url)
    assert r.exit_code == 0, r.output
    assert f"was submitted to {old.base_url}, not to this run's endpoint" in r.output
    assert "left alone" in r.output
    # Not polled, not waited for, not closed: asked anew at this endpoint.
    assert [len(f) for f in uploaded(new)] == [3]
    rows = db_rows(tmp_path, "SELECT endpoint, collected_at IS NULL FROM batches ORDER BY rowid")
    assert rows == [(old.base_url, 1), (new.base_url, 0)]


def test_the_same_endpoint_with_a_trailing_slash_is_the_same(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=3)) as server:
        assert run(tmp_path, articles, base_url=server.base_url).exit_code == 13
        r = run(tmp_path, articles, "--collect", base_url=server.base_url + "/")
        assert r.exit_code == 0, r.output
    assert "left alone" not in r.output
    assert len(uploaded(server)) == 1 and server.batched_requests == 3


def test_readme_batch_demo_runs_offline(tmp_path: Path) -> None:
    from tests.conftest import SEEDS

    r = runner.invoke(
        app,
        ["daily", "-s", str(SEEDS / "daily"), "--batch", "--replay", str(SEEDS / "recordings"),
         "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"), "--date", DAY],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = load(tmp_path)
    assert [len(s["sources"]) for s in data["stories"]] == [2, 2]
    p = data["provenance"]
    assert p["batched_calls"] == 3 and p["fixture"] is True and p["replayed"] is True
    assert "Not model output" in (tmp_path / "out" / f"{DAY}.md").read_text()


def test_mode_auto_probes_live_once_then_batches_in_the_mode_found(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0, reject_modes={"tools"})) as server:
        r = run(tmp_path, articles, "--mode", "auto", "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    [lines] = uploaded(server)
    # The probe ran live (tools refused, json_schema taken); the batch asks in json_schema.
    assert all(line["body"]["response_format"]["type"] == "json_schema" for line in lines)
    assert all("tools" not in line["body"] for line in lines)
    assert load(tmp_path)["stories"][0]["provenance"]["mode"] == "json_schema"


def test_a_batch_the_provider_refuses_to_create_is_ended_not_asked_again(
    tmp_path: Path, articles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.batch.api import BatchApi
    from summarizer.errors import RequestRejected

    async def refused(self: BatchApi, input_file_id: str, batch: str) -> Any:
        raise RequestRejected("model endpoint answered HTTP 400: input file is too large")

    monkeypatch.setattr(BatchApi, "create", refused)
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, articles, base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert "refused to create batch" in r.output and "input file is too large" in r.output
    assert len(server.requests) == 4  # retried live (the default follow-up)
    statuses = db_rows(tmp_path, "SELECT status, collected_at IS NOT NULL FROM batches")
    assert statuses == [("refused", 1)]


# Found in review: each of these failed before its fix.


def test_live_calls_of_a_batch_run_keep_to_the_budget(tmp_path: Path, articles: Path) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(
            tmp_path, articles, "--collect", "--concurrency", "1", "--max-cost", "0.0000001",
            base_url=server.base_url,
        )  # fmt: skip
    # --collect sends live: the first article's call spends the budget, the rest are skipped.
    assert r.exit_code == 9, r.output
    assert len(server.requests) == 1
    failures = load(tmp_path)["failures"]
    assert len(failures) == 2 and all("budget was reached" in f["error"] for f in failures)


def test_a_lost_answer_to_the_batch_creation_does_not_make_a_second_batch(
    tmp_path: Path, articles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.testing import batch_server

    made = batch_server.BatchAPI._create
    seen = {"n": 0}

    def created_then_502(self: batch_server.BatchAPI, body: bytes) -> Any:
        answer = made(self, body)  # the batch exists at the provider...
        seen["n"] += 1
        # ...but its answer is lost at a gateway: a retry would make a second one.
        return batch_server.error_answer(502, "Bad gateway") if seen["n"] == 1 else answer

    monkeypatch.setattr(batch_server.BatchAPI, "_create", created_then_502)
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, articles, "--wait", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert len(server.batch_api.batches) == 1 and server.batched_requests == 3
    [(batch_id,)] = db_rows(tmp_path, "SELECT batch_id FROM batches")
    assert batch_id in server.batch_api.batches


def test_a_batch_the_provider_no_longer_knows_is_ended_and_retried(
    tmp_path: Path, articles: Path
) -> None:
    with FakeOpenAI(quirks=Quirks(batch_steps=3)) as server:
        assert run(tmp_path, articles, base_url=server.base_url).exit_code == 13
        server.batch_api.batches.clear()  # deleted, or made with another key
        r = run(tmp_path, articles, "--collect", base_url=server.base_url)
    assert r.exit_code == 0, r.output
    assert "is no longer known to the provider" in r.output
    assert len(server.requests) == 4  # the three articles live, then the story


def test_live_answers_are_not_paid_twice_across_rounds(tmp_path: Path) -> None:
    """A long article: its chunks batched, one chunk's reask live, then the merge held for
    a second round, which builds the article again and must not send the reask again."""
    d = tmp_path / "long"
    d.mkdir()
    paragraphs = [f"Paragraph {i}: " + GAS_1.split("\n")[2] for i in range(40)]
    (d / "long.txt").write_text("Long report\n\n" + "\n\n".join(paragraphs))
    first_chunk = {"done": False}

    def respond(request: dict[str, Any]) -> Reply:
        reply = grounded_brief(request)
        reask = any(m.get("role") in ("assistant", "tool") for m in request["messages"])
        if not reask and "Paragraph 0:" in json.dumps(request) and not first_chunk["done"]:
            first_chunk["done"] = True
            payload = dict(reply.payload)
            payload["stances"] = [
                {**payload["stances"][0], "evidence": [{"quote": "Never said.", "source_id": "S1"}]}
            ]
            return Reply(payload)
        return reply

    with FakeOpenAI(respond, quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, d, "--wait", base_url=server.base_url, top={"max_article_tokens": 600})
    assert r.exit_code == 0, r.output
    keys = [recordings.request_key(q) for q in server.requests]
    assert len(keys) == len(set(keys)), "a request reached the endpoint twice"
    # The brief's run totals are what the endpoint saw, and what history recorded.
    p = load(tmp_path)["provenance"]
    assert p["llm_calls"] == len(server.requests)
    assert p["batched_calls"] == server.batched_requests
    [(n, cost)] = db_rows(tmp_path, "SELECT COUNT(*), SUM(cost_usd) FROM llm_calls")
    assert n == len(server.requests) and p["cost_usd"] == pytest.approx(cost, abs=1e-5)


def test_a_run_killed_while_collecting_charges_the_batch_once(
    tmp_path: Path, articles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.store import Store

    real = Store.collect_batch
    seen = {"n": 0}

    def dies_once(self: Store, batch: str, **kw: Any) -> None:
        seen["n"] += 1
        if seen["n"] == 1:
            raise KeyboardInterrupt  # killed: nothing of the collection is kept
        real(self, batch, **kw)

    monkeypatch.setattr(Store, "collect_batch", dies_once)
    with FakeOpenAI(quirks=Quirks(batch_steps=1)) as server:
        assert run(tmp_path, articles, base_url=server.base_url).exit_code == 13
        assert run(tmp_path, articles, base_url=server.base_url).exit_code == 130
        r = run(tmp_path, articles, base_url=server.base_url)
        assert r.exit_code == 0, r.output
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM llm_calls WHERE batched = 1") == [(3,)]


def test_odd_output_lines_are_counted_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.testing import batch_server

    d = tmp_path / "arts"
    d.mkdir()
    # U+2028 inside a JSON string, unescaped, as a provider may write it: still one line.
    (d / "a1.txt").write_text(GAS_1.replace("officials said", "officials said\u2028 in Brussels"))
    (d / "a3.txt").write_text(TRAM)
    plain = batch_server._jsonl

    def odd(rows: Any) -> bytes:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return (text + json.dumps({"custom_id": ["not", "a", "string"]}) + "\n").encode()

    monkeypatch.setattr(batch_server, "_jsonl", odd)
    with FakeOpenAI(quirks=Quirks(batch_steps=0)) as server:
        r = run(tmp_path, d, "--wait", base_url=server.base_url)
    monkeypatch.setattr(batch_server, "_jsonl", plain)
    assert r.exit_code == 0, r.output
    assert "1 line(s) could not be read" in r.output
    assert server.batched_requests == 2 and len(server.requests) == 2  # nothing paid again
