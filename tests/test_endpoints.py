"""Real endpoints' behaviours, each a switch on the loopback server, through the real SDK
and the real instructor: truncation whatever finish_reason says, refusals in every mode,
modes a server cannot do, permanent errors, the right tool call, usage as reported."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.errors import (
    ModelOutputError,
    ModelRefusal,
    ModeUnsupported,
    ProviderError,
    ProviderUnreachable,
    RequestRejected,
    TruncatedOutput,
    WrongToolCall,
)
from summarizer.llm.checks import FEEDBACK_EXCERPT, REASK_EXCERPT
from summarizer.sources.ingest import Document
from summarizer.testing.openai_server import FakeOpenAI, Quirks, Reply
from tests.briefing import ARTICLE, QUOTE, brief_payload, brief_text

KEY = "sk-test-0123456789abcdefSECRET"
MODES = ["tools", "json_schema", "md_json"]


def run(server: FakeOpenAI, text: str = ARTICLE, **settings: object):
    return brief_text(text, path="article.txt", base_url=server.base_url, api_key=KEY, **settings)


@pytest.mark.parametrize("finish", ["tool_calls", "stop"])
def test_truncation_is_recognised_whatever_finish_reason_says(finish: str) -> None:
    with FakeOpenAI(quirks=Quirks(truncate=finish)) as server:
        server.queue(Reply(brief_payload()))
        with pytest.raises(TruncatedOutput) as err:
            run(server, max_tokens=512)
        assert len(server.requests) == 1  # no reask: it would be cut again
    msg = str(err.value)
    assert err.value.exit_code == 7 and "cut off at max_tokens=512" in msg
    assert f"finish_reason {finish!r}" in msg and "512 completion tokens" in msg


@pytest.mark.parametrize("mode", MODES)
def test_a_reask_carries_only_an_excerpt_of_the_failed_output(mode: str) -> None:
    broken = '{"title": "' + "x" * 17_000  # 17 KB of cut-off arguments, as seen live
    with FakeOpenAI() as server:
        server.queue(Reply(broken), Reply(brief_payload()))
        brief = run(server, mode=mode)
        first, reask = (json.dumps(r["messages"]) for r in server.requests)
    assert brief.stances[0].evidence[0].quote == QUOTE
    # What the reask adds (the failed output and the error) is bounded, not 17 KB.
    assert len(reask) - len(first) < 2 * REASK_EXCERPT + FEEDBACK_EXCERPT
    assert "more characters cut" in reask


@pytest.mark.parametrize("mode", MODES)
def test_a_refusal_is_reported_after_one_call_in_every_mode(mode: str) -> None:
    text = "I'm very sorry, but I can't assist with that."
    with FakeOpenAI(quirks=Quirks(refuse=text)) as server:
        with pytest.raises(ModelRefusal) as err:
            run(server, mode=mode, max_reasks=2)
        assert len(server.requests) == 1
    assert text in str(err.value) and err.value.exit_code == 7
    assert "EOF" not in str(err.value)


def test_json_schema_refused_with_a_500_is_not_retried_and_names_other_modes() -> None:
    with FakeOpenAI(quirks=Quirks(reject_modes={"json_schema"})) as server:
        with pytest.raises(ModeUnsupported) as err:
            run(server, mode="json_schema", http_retries=3)
        assert len(server.requests) == 1  # the SDK would have tried 4 times
    msg = str(err.value)
    assert "cannot do --mode json_schema" in msg and "HTTP 500" in msg
    assert "--mode tools or --mode md_json" in msg and "--mode auto" in msg
    assert "is not supported" in msg  # the server's own reason, its last traceback line
    assert "/opt/venv" not in msg and "File " not in msg and "Traceback" not in msg
    assert err.value.exit_code == 6 and "\n" not in msg


def test_tools_refused_names_the_other_modes() -> None:
    with FakeOpenAI(quirks=Quirks(reject_modes={"tools"})) as server:
        with pytest.raises(ModeUnsupported) as err:
            run(server, mode="tools")
        assert len(server.requests) == 1
    assert "--mode json_schema or --mode md_json" in str(err.value)


def test_context_length_exceeded_is_the_requests_fault_and_not_retried() -> None:
    with FakeOpenAI(quirks=Quirks(context_window=200)) as server:
        with pytest.raises(RequestRejected) as err:
            run(server, http_retries=3)
        assert len(server.requests) == 1
    msg = str(err.value)
    assert "HTTP 400 (context_length_exceeded)" in msg and "maximum context length is 200" in msg
    assert "not the endpoint" in msg and "shorter article" in msg and "--max-tokens" in msg
    assert "try later" not in msg


def test_a_5xx_after_retries_is_the_endpoints_fault_and_counts_the_attempts() -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=503, headers={"retry-after-ms": "10"})
        with pytest.raises(ProviderError) as err:
            run(server, http_retries=2)
        assert len(server.requests) == 3
    msg = str(err.value)
    assert "HTTP 503" in msg and "after 3 attempts" in msg and "endpoint is at fault" in msg
    assert server.base_url in msg


def test_provider_text_is_shortened_and_redacted_even_a_cut_off_key() -> None:
    body = {"error": {"message": f"Incorrect key Bearer {KEY[:14]}... " + "padding " * 200}}
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=400, raw_body=json.dumps(body))
        with pytest.raises(RequestRejected) as err:
            run(server)
    msg = str(err.value)
    assert KEY[:10] not in msg and "[REDACTED]" in msg and len(msg) < 600
    assert KEY[:10] not in (err.value.body or "")  # the whole body, for the log, redacted too


@pytest.mark.parametrize(
    "url_form", ["http://user:{key}@{hostport}/v1", "http://{hostport}/v1?api-key={key}"]
)
def test_an_endpoint_url_with_credentials_is_never_printed_whole(url_form: str) -> None:
    with FakeOpenAI() as server:
        hostport = server.base_url.split("//")[1].split("/")[0]
    url = url_form.format(key=KEY, hostport=hostport)
    s = load_settings(base_url=url, http_retries=0)
    with pytest.raises(ProviderUnreachable) as err:
        asyncio.run(brief_documents([Document(text=ARTICLE)], s))
    assert KEY not in str(err.value) and hostport in str(err.value)


@pytest.mark.parametrize("shape", ["other_first", "parallel"])
def test_the_call_named_after_the_response_model_is_used(shape: str) -> None:
    with FakeOpenAI(quirks=Quirks(tool_calls=shape)) as server:
        server.queue(Reply(brief_payload()))
        brief = run(server)
        assert len(server.requests) == 1
    assert brief.stances[0].evidence[0].quote == QUOTE


def test_only_other_tools_called_says_so() -> None:
    with FakeOpenAI(quirks=Quirks(tool_calls="other_only")) as server:
        with pytest.raises(WrongToolCall) as err:
            run(server)
        assert len(server.requests) == 1
    msg = str(err.value)
    assert "called only other tools (web_search)" in msg and "BriefContent" in msg
    assert "--mode json_schema or --mode md_json" in msg


def test_a_dated_model_name_is_priced_as_its_model() -> None:
    snapshot = "gpt-4o-2024-08-06"
    with FakeOpenAI(quirks=Quirks(model_name=snapshot)) as server:
        brief = run(server, model=snapshot)
    p = brief.provenance
    assert p.cost_usd is not None and p.cost_usd > 0 and p.model == snapshot


def test_a_completion_without_usage_has_an_unknown_cost_not_zero() -> None:
    with FakeOpenAI(quirks=Quirks(usage=False)) as server:
        brief = run(server)
    assert brief.provenance.cost_usd is None
    assert brief.provenance.llm_calls == 1


def test_usage_is_known_again_when_the_endpoint_reports_it() -> None:
    with FakeOpenAI() as server:
        brief = run(server)
    assert brief.provenance.cost_usd is not None and brief.provenance.mode == "tools"


@pytest.mark.parametrize("mode", MODES)
def test_a_model_error_hint_names_only_the_other_modes(mode: str) -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply({"title": "only a title"})
        with pytest.raises(ModelOutputError) as err:
            run(server, mode=mode, max_reasks=0)
    msg = str(err.value)
    others = [m for m in MODES if m != mode]
    assert all(f"--mode {m}" in msg for m in others) and f"--mode {mode}" not in msg


def test_a_daily_run_stores_unknown_usage_as_null(tmp_path: Path) -> None:
    from summarizer.daily import DailyConfig, run_daily
    from summarizer.store import Store

    src = tmp_path / "a.txt"
    src.write_text(ARTICLE)
    with FakeOpenAI(quirks=Quirks(usage=False)) as server:
        s = load_settings(base_url=server.base_url)
        cfg = DailyConfig(sources=[str(src)], out_dir=tmp_path / "out", formats=["json"])
        store = Store(tmp_path / "s.db")
        result = asyncio.run(run_daily(cfg, s, store=store))
    assert result.daily.provenance.cost_usd is None
    rows = store._db.execute("SELECT tokens_in, tokens_out, cost_usd FROM llm_calls").fetchall()
    assert [tuple(r) for r in rows] == [(None, None, None)]
