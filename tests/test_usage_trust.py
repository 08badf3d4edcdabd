"""Usage cannot be trusted blindly (issue 19.3): impossible counts are unknown, budgets
count the request's own size instead and only grow, and unknown is null, never 0."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.llm import calls, transport
from summarizer.testing.openai_server import FakeOpenAI, Quirks
from tests.test_daily import articles, daily, load

__all__ = ["articles"]  # the fixture, used by name

runner = CliRunner()


def _body(**usage: Any) -> dict[str, Any]:
    u: dict[str, Any] = {"prompt_tokens": 100, "completion_tokens": 20}
    details = {"cached_tokens": usage.pop("cached_tokens", 0)}
    u.update(usage)
    u["prompt_tokens_details"] = details
    return {"usage": u}


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -1_000_000},
        {"completion_tokens": -5},
        {"cached_tokens": -1},
        {"prompt_tokens": 10**12},
        {"completion_tokens": 10_000_001},
        {"cached_tokens": 101},  # above prompt_tokens
        {"prompt_tokens": "100"},
        {"prompt_tokens": 1.5},
        {"completion_tokens": True},
    ],
)
def test_impossible_usage_is_unknown(usage: dict[str, Any]) -> None:
    assert transport.read_usage(200, _body(**usage)) == transport.Usage(known=False)


def test_believable_usage_is_kept() -> None:
    assert transport.read_usage(200, _body(cached_tokens=100)) == transport.Usage(100, 20, 100)
    assert transport.read_usage(200, _body(prompt_tokens=10_000_000)).known


def test_impossible_usage_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    transport._said.clear()
    with caplog.at_level(logging.WARNING, logger="summarizer.llm"):
        for _ in range(3):
            transport.read_usage(200, _body(prompt_tokens=-7))
    lines = [r.getMessage() for r in caplog.records if "negative token count" in r.getMessage()]
    assert len(lines) == 1 and "counted as unknown" in lines[0]


def test_a_budget_counts_a_call_without_usage_at_its_own_size_and_never_shrinks() -> None:
    known = calls.CallRecord("k1", "gpt-4o-mini", 200, 1000, 100, 1.0, False, False)
    unknown = calls.CallRecord(
        "k2", "gpt-4o-mini", 200, 0, 0, 1.0, False, False, usage_known=False,
        estimated_in=800, estimated_out=200,
    )  # fmt: skip
    log = calls.CallLog([known])
    before_tokens, before_usd = log.budget_tokens, log.budget_usd("gpt-4o-mini")
    log.records.append(unknown)
    assert log.budget_tokens == before_tokens + 1000
    assert log.budget_usd("gpt-4o-mini") > before_usd
    assert log.priced("gpt-4o-mini") is None  # what it cost stays unknown


@pytest.mark.parametrize(
    ("limit", "usage"),
    [
        (["--max-run-tokens", "1"], {"prompt_tokens": -100_000}),
        (["--max-run-tokens", "1"], {"completion_tokens": -100_000}),
        (["--max-cost", "0.00001"], {"prompt_tokens": -100_000}),
        (["--max-cost", "0.00001"], {"cached_tokens": 10**9}),
    ],
)
def test_bad_usage_cannot_defeat_the_run_budget(
    tmp_path: Path, articles: Path, limit: list[str], usage: dict[str, Any]
) -> None:
    """Before: negative counts lowered what the budget saw, and unknown cost counted as $0,
    so every article was sent."""
    with FakeOpenAI(quirks=Quirks(usage_values=usage)) as server:
        r = daily(tmp_path, server, "-s", str(articles), *limit, "--concurrency", "1")
        sent = len(server.requests)
    assert r.exit_code == 9, r.output
    data = load(tmp_path)
    assert sent == 1 and data["provenance"]["stopped_by_budget"] is True
    # Unknown is null in the JSON, never 0 tokens or $0.
    p = data["provenance"]
    assert (p["tokens_in"], p["tokens_out"], p["cost_usd"]) == (None, None, None)


def test_missing_usage_is_unknown_in_provenance_and_history(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(
        "The port of Valdera reopened on Monday after a strike of nine days, officials said.",
        encoding="utf-8",
    )
    store = str(tmp_path / "s.db")
    with FakeOpenAI(quirks=Quirks(usage_values={"completion_tokens": -3})) as server:
        r = runner.invoke(
            app, ["brief", str(article), "-f", "json", "--base-url", server.base_url,
                  "--store", store],
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    p = json.loads(r.stdout)["provenance"]
    assert (p["tokens_in"], p["tokens_out"], p["cost_usd"]) == (None, None, None)
    h = runner.invoke(app, ["history", "--store", store])
    assert h.exit_code == 0, h.output
    assert "1 without usage (tokens and cost unknown)" in h.stdout
    assert "-3" not in h.stdout and "$-" not in h.stdout
    md = runner.invoke(app, ["show", "--store", store, _first_id(h.stdout)])
    assert "tokens unknown" in md.stdout and "None" not in md.stdout


def _first_id(history: str) -> str:
    line = history.splitlines()[1]
    return line.split()[0]
