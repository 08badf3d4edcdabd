"""Local servers, round two (issue 19.11): the probe hears a lower-cased code word, is short
and skips a slow mode, blames a gateway's 502 on HTTP; the API says a refused mode is the
endpoint's configuration; eval takes --system-prompt and --only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.errors import ModelOutputError, ModeUnsupported, ProviderError
from summarizer.llm import probe
from summarizer.testing.openai_server import FakeOpenAI, Quirks
from tests.briefing import brief_text

runner = CliRunner()
GOLD = Path(__file__).resolve().parent.parent / "seeds" / "gold"


def run(server: FakeOpenAI, tmp_path: Path, **settings: object):
    return brief_text(
        base_url=server.base_url, store_path=tmp_path / "s.db", mode="auto", **settings
    )


def probes(server: FakeOpenAI) -> list[dict]:
    return [r for r in server.requests if probe.MARKER in str(r["messages"])]


def test_a_lower_cased_code_word_turns_merge_on(tmp_path: Path) -> None:
    """Before: `periwinkle-7319` was not the code word, so a server that drops the system
    message was sent every brief with a system message it throws away."""
    with FakeOpenAI(quirks=Quirks(drop_system=True, lowercase_words=True)) as server:
        brief = run(server, tmp_path)
        sent = [r for r in server.requests if r not in probes(server)]
    assert brief.provenance.mode == "tools"
    assert all(m["role"] != "system" for m in sent[0]["messages"])


def test_probes_ask_for_few_tokens_and_a_slow_mode_is_skipped_with_a_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quirks = Quirks(slow_modes={"tools": 3.0})
    with (
        FakeOpenAI(quirks=quirks) as server,
        caplog.at_level(logging.WARNING, logger="summarizer.llm"),
    ):
        brief = run(server, tmp_path, timeout=0.5)
        asked = probes(server)
    assert brief.provenance.mode == "json_schema"
    assert {r["max_tokens"] for r in asked} == {probe.PROBE_MAX_TOKENS}
    assert [bool(r.get("tools")) for r in asked] == [True, False]  # tools once, not retried
    assert "--mode auto: tools gave no answer within 0.5s" in caplog.text
    assert "skipped as too slow" in caplog.text


def test_a_502_during_the_probe_is_the_http_failure_not_the_models(tmp_path: Path) -> None:
    with FakeOpenAI(fail_rates={502: 1.0}) as server, pytest.raises(ProviderError) as err:
        run(server, tmp_path, http_retries=0)
    assert not isinstance(err.value, ModelOutputError)
    assert err.value.exit_code == 6 and err.value.status == 502
    assert "HTTP 502" in str(err.value) and "follows instructions" not in str(err.value)


def test_the_api_says_a_refused_mode_is_the_endpoints_configuration() -> None:
    from summarizer.serving.answers import public_message

    said = public_message(
        ModeUnsupported("model endpoint cannot do --mode json_schema: ...", mode="json_schema")
    )
    assert "try again later" not in said
    assert "cannot do --mode json_schema" in said and "configuration" in said


def test_eval_runs_only_the_gold_files_named() -> None:
    with FakeOpenAI() as server:
        r = runner.invoke(
            app,
            ["eval", str(GOLD), "--base-url", server.base_url, "--only", "port-*",
             "--only", "merger.json", "--system-prompt", "merge"],
        )  # fmt: skip
        sent = list(server.requests)
    assert r.exit_code in (0, 9), r.output
    assert "port-strike" in r.stdout and "merger" in r.stdout
    assert "bridge-closure" not in r.stdout and "court-ruling" not in r.stdout
    assert sent and all(m["role"] != "system" for req in sent for m in req["messages"])


def test_eval_only_matching_nothing_says_what_there_is() -> None:
    r = runner.invoke(app, ["eval", str(GOLD), "--only", "nope*", "--replay", "seeds/recordings"])
    assert r.exit_code == 4
    assert "--only nope*: no gold file" in r.stderr and "port-strike" in r.stderr
