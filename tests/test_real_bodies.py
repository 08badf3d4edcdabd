"""Bodies recorded from the live OpenAI API by other projects' test suites (see
tests/fixtures/openai/SOURCES.md), served by the loopback server byte for byte, through
the real SDK and instructor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.errors import ModelRefusal, RequestRejected, TruncatedOutput, WrongToolCall
from summarizer.llm import pricing
from summarizer.llm.transport import read_usage
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.briefing import QUOTE, brief_payload, brief_text

REAL = Path(__file__).parent / "fixtures" / "openai"


def body(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


def run(server: FakeOpenAI, **settings: object):
    return brief_text(base_url=server.base_url, **settings)


@pytest.mark.parametrize("mode", ["tools", "json_schema", "md_json"])
def test_a_real_refusal_is_one_call_and_shows_the_models_words(mode: str) -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(raw_body=body("refusal.json"))
        with pytest.raises(ModelRefusal) as err:
            run(server, mode=mode)
        assert len(server.requests) == 1
    assert "I'm very sorry, but I can't assist with that request." in str(err.value)


@pytest.mark.parametrize("mode", ["json_schema", "md_json"])
def test_a_real_length_finish_is_truncation(mode: str) -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(raw_body=body("finish_length.json"))
        with pytest.raises(TruncatedOutput, match="cut off at max_tokens"):
            run(server, mode=mode)
        assert len(server.requests) == 1


def test_real_parallel_calls_of_other_tools_are_named() -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(raw_body=body("parallel_tool_calls.json"))
        with pytest.raises(WrongToolCall) as err:
            run(server)
    assert "(GetWeatherArgs, get_stock_price)" in str(err.value)


def test_a_real_parallel_answer_whose_brief_is_the_second_call() -> None:
    data = json.loads(body("parallel_tool_calls.json"))
    second = data["choices"][0]["message"]["tool_calls"][1]["function"]
    second["name"] = "BriefContent"
    second["arguments"] = json.dumps(brief_payload())
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(raw_body=json.dumps(data))
        brief = run(server)
        assert len(server.requests) == 1
    assert brief.stances[0].evidence[0].quote == QUOTE
    assert brief.provenance.cost_usd is not None  # usage read from the real envelope


def test_a_real_400_names_the_providers_code_and_message() -> None:
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=400, raw_body=body("invalid_request_400.json"))
        with pytest.raises(RequestRejected) as err:
            run(server, http_retries=3)
        assert len(server.requests) == 1
    msg = str(err.value)
    assert "HTTP 400 (invalid_request_error)" in msg
    assert "Web search options not supported with this model" in msg


def test_real_usage_details_and_a_dated_model_are_read() -> None:
    data = json.loads(body("usage_details_tool_call.json"))
    usage = read_usage(200, data)
    assert (usage.tokens_in, usage.tokens_out, usage.cached, usage.known) == (104, 15, 0, True)
    assert pricing.cost_usd(data["model"], usage.tokens_in, usage.tokens_out) is not None
    assert read_usage(200, {k: v for k, v in data.items() if k != "usage"}).known is False
