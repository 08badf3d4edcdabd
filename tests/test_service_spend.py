"""Every LLM call is recorded with its tokens and cost, whichever front door made it:
`summarizer brief`, the HTTP API and the Slack bot, as `daily` always did. `history`
sums them up, so it accounts for all spend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app as cli
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.test_service import ARTICLE, doc, serving
from tests.test_slack import running_bot


def _calls(store: Store, origin: str) -> list[tuple[int, int, int, float | None]]:
    rows = store._db.execute(
        "SELECT status, tokens_in, tokens_out, cost_usd FROM llm_calls WHERE origin = ?",
        (origin,),
    ).fetchall()
    return [tuple(r) for r in rows]


def test_cli_api_and_bot_calls_are_recorded_and_history_sums_them(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    db = tmp_path / "store.db"
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    runner = CliRunner()
    r = runner.invoke(cli, ["brief", str(article), "--base-url", fake_openai.base_url,
                            "--store", str(db), "-f", "json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    with serving(tmp_path, fake_openai, store=Store(db)) as api:
        assert api.post({"documents": [doc("From the API. " + ARTICLE)]}).status_code == 200
    with running_bot(tmp_path, fake_openai, store=Store(db)) as bot:
        bot.command("From Slack. " + ARTICLE)
        bot.slack.wait_for(lambda: bot.slack.posts)
    store = Store(db)
    for origin in ("brief", "api", "slack"):
        (call,) = _calls(store, origin)
        status, tokens_in, tokens_out, cost = call
        # gpt-4o-mini, the default model, has a price: the cost is known and positive.
        assert status == 200 and tokens_in > 0 and tokens_out > 0 and cost and cost > 0
    assert len(fake_openai.requests) == 3
    hist = runner.invoke(cli, ["history", "--store", str(db)])
    assert "LLM spend" in hist.output
    for origin in ("brief", "api", "slack"):
        assert any(line.split()[0] == origin and "1 call(s)" in line
                   for line in hist.output.splitlines() if line.startswith("  "))  # fmt: skip


def test_failed_briefs_still_record_what_they_paid_for(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    fake_openai.responder = lambda _req: Reply({"title": "only a title"})  # invalid every time
    db = tmp_path / "store.db"
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    r = CliRunner().invoke(cli, ["brief", str(article), "--base-url", fake_openai.base_url,
                                 "--store", str(db), "--max-reasks", "1"])  # fmt: skip
    assert r.exit_code == 7
    with serving(tmp_path, fake_openai, store=Store(db)) as api:
        assert api.post({"documents": [doc()]}).status_code == 502
    store = Store(db)
    # Every attempt was paid for and is recorded: the CLI's two (one reask), the API's
    # three (its default of two reasks).
    assert len(_calls(store, "brief")) == 2
    assert len(_calls(store, "api")) == 3
