"""`summarizer mcp --llm client`: a brief's model calls go to the connected client through
MCP sampling. The client here is the SDK's own, whose sampling callback answers from the
script the loopback OpenAI-compatible server uses (grounded_brief), so everything above
the transport (instructor in md_json mode, grounding and reasks, refusals, truncation,
the call log) runs for real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from summarizer.config import load_settings
from summarizer.core.schemas import Brief
from summarizer.errors import ConfigError
from summarizer.llm.sampling import CLIENT_MODEL, to_completion, to_create_message
from summarizer.mcp.model import build_llm
from summarizer.mcp.server import create_server
from summarizer.store import Store
from summarizer.testing.openai_server import Reply, completion_body, grounded_brief
from tests.test_mcp import ARTICLE, call, text_of


def as_chat_request(params: types.CreateMessageRequestParams) -> dict[str, Any]:
    """The sampling request as the chat request a model server would have seen."""
    messages = [{"role": "system", "content": params.system_prompt}] if params.system_prompt else []
    for m in params.messages:
        assert isinstance(m.content, types.TextContent)
        messages.append({"role": m.role, "content": m.content.text})
    return {"model": "client-model", "messages": messages, "max_tokens": params.max_tokens}


class ScriptedClient:
    """A sampling callback answering like the loopback server: `replies` first (payloads
    or results), then a grounded brief built from the request itself."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.seen: list[types.CreateMessageRequestParams] = []

    async def __call__(
        self, _context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        self.seen.append(params)
        request = as_chat_request(params)
        reply = self.replies.pop(0) if self.replies else grounded_brief(request)
        if isinstance(reply, types.CreateMessageResult | types.ErrorData):
            return reply
        written = completion_body(request, reply)["choices"][0]["message"]["content"]
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=written),
            model="claude-test-model",
            stop_reason="endTurn",
        )


def sampling_server(tmp_path: Path) -> tuple[Any, Store]:
    settings, llm = build_llm(load_settings(None), "client")  # no endpoint, no key
    store = Store(tmp_path / "s.db")
    return create_server(settings, store, llm, sampling=True), store


def brief_with(tmp_path: Path, client: ScriptedClient | None, **options: Any) -> Any:
    served, store = sampling_server(tmp_path)

    async def steps(c: Client) -> tuple[Any, Any]:
        first = await c.call_tool("brief", {"text": ARTICLE})
        return first, await c.call_tool("kinds", {})

    kw: dict[str, Any] = {"mode": "legacy", **options}
    if client is not None:
        kw["sampling_callback"] = client
    result, after = call(served, steps, **kw)
    assert not after.is_error  # whatever happened, the server serves the next call
    return result, store


# Handshake-era sessions take sampling requests mid-call; 2026-07-28 ones get them as
# input-required rounds (rounds.py). Both give the same brief.
MODES = pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])


@MODES
def test_a_brief_through_the_clients_model(tmp_path: Path, mode: str) -> None:
    client = ScriptedClient()
    result, store = brief_with(tmp_path, client, mode=mode)
    assert not result.is_error, text_of(result)
    brief = Brief.model_validate(result.structured_content)
    assert brief.stances[0].evidence[0].quote in ARTICLE
    p = brief.provenance
    # The client picks the model: the brief says so, and its cost is unknown, never $0.
    assert (p.model, p.mode, p.llm_calls, p.cost_usd) == (CLIENT_MODEL, "md_json", 1, None)
    assert not p.replayed and not p.fixture
    params = client.seen[0]
    assert params.include_context == "none" and params.max_tokens == 4096
    assert params.system_prompt and "json" in params.system_prompt.lower()
    assert ARTICLE.splitlines()[0] in json.dumps([m.content.text for m in params.messages])
    # Recorded like any call, under the MCP front door, with unknown usage.
    # One call, its tokens and cost unknown (a client model reports no usage): counted apart.
    assert store.spend() == [("mcp", 1, 0, 0, None, 1)]


@MODES
def test_an_ungrounded_quote_is_reasked_through_the_client(tmp_path: Path, mode: str) -> None:
    invented = grounded_brief({"messages": [{"role": "user", "content": ARTICLE}]}).payload
    invented["stances"][0]["evidence"][0]["quote"] = "The bridge will never reopen, ever."
    client = ScriptedClient(Reply(invented))
    result, _ = brief_with(tmp_path, client, mode=mode)
    assert not result.is_error, text_of(result)
    assert len(client.seen) == 2  # the reask went to the client's model too
    reask = client.seen[1].messages
    assert [m.role for m in reask[-2:]] == ["assistant", "user"]
    assert "never reopen" in reask[-1].content.text  # type: ignore[union-attr]
    brief = Brief.model_validate(result.structured_content)
    assert all(ev.quote in ARTICLE for row in brief.stances for ev in row.evidence)
    assert brief.provenance.llm_calls == 2


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (
            types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text='```json\n{"ti'),
                model="m", stop_reason="maxTokens",
            ),
            "error: model output was cut off at max_tokens=4096",
        ),
        (
            types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text="I can't."),
                model="m", stop_reason="refusal",
            ),
            "refused to answer: \"I can't.\"",
        ),
        (
            types.ErrorData(code=-1, message="User rejected sampling request"),
            "error: the MCP client declined the sampling request (User rejected sampling "
            "request); allow sampling in the client, or use --llm endpoint",
        ),
        (
            types.CreateMessageResult(
                role="assistant",
                content=types.ImageContent(type="image", data="AAAA", mime_type="image/png"),
                model="m",
            ),
            "answered with image content, not text",
        ),
    ],
    ids=["truncated", "refused", "declined", "image"],
)  # fmt: skip
def test_client_side_faults_are_tool_errors(tmp_path: Path, reply: Any, says: str) -> None:
    client = ScriptedClient(reply)
    result, store = brief_with(tmp_path, client)
    assert result.is_error and says in text_of(result), text_of(result)
    assert len(client.seen) == 1  # never reasked: a refusal or a cut answer repeats
    assert store.list_briefs(5) == []


def test_a_client_without_sampling_is_told_what_to_use_instead(tmp_path: Path) -> None:
    result, store = brief_with(tmp_path, None)
    assert result.is_error
    assert text_of(result) == (
        "error: the connected MCP client does not offer sampling (sampling/createMessage), so "
        "it cannot lend its model; start `summarizer mcp` with --llm endpoint and "
        "OPENAI_BASE_URL (or OPENAI_API_KEY), or --replay DIR to answer from recordings"
    )
    assert store.spend() == []  # refused before any work


def test_a_forged_or_stale_retry_is_refused_and_the_server_goes_on(tmp_path: Path) -> None:
    from mcp import MCPError

    from summarizer.errors import InputError
    from summarizer.mcp.rounds import Rounds

    served, _ = sampling_server(tmp_path)

    async def steps(c: Client) -> Any:
        with pytest.raises(MCPError):  # the SDK seals the state: a forged one never arrives
            await c.session.call_tool(
                "brief", {"text": ARTICLE}, input_responses={}, request_state="forged"
            )
        return await c.call_tool("brief", {"text": ARTICLE})

    assert not call(served, steps, sampling_callback=ScriptedClient(), mode="2026-07-28").is_error
    # A sealed state whose brief is gone (or another key's) is a tool error naming the fix.
    with pytest.raises(InputError, match="no longer waiting for the model's answer"):
        Rounds().resume("gone", None, {})


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_stdio_subprocess_briefs_with_the_clients_model(tmp_path: Path, mode: str) -> None:
    """A real `summarizer mcp --llm client`: no endpoint, no key; the client's model."""
    from tests.test_mcp import stdio

    client = ScriptedClient()
    params = stdio("--llm", "client", "--store", str(tmp_path / "s.db"))
    result = call(
        params, lambda c: c.call_tool("brief", {"text": ARTICLE}), sampling_callback=client,
        mode=mode,
    )  # fmt: skip
    assert not result.is_error, text_of(result)
    assert Brief.model_validate(result.structured_content).provenance.model == CLIENT_MODEL
    assert len(client.seen) == 1


def test_client_mode_and_replay_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--llm client and --replay exclude each other"):
        build_llm(load_settings(None, replay_dir=tmp_path), "client")


def test_the_translation_both_ways() -> None:
    params = to_create_message(
        {
            "model": "x",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "JSON only."},
                {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
                {"role": "assistant", "content": "{}"},
                {"role": "user", "content": "Fix it"},
            ],
            "max_tokens": 99,
            "temperature": 0.2,
            "stop": "END",
        }
    )
    assert params.system_prompt == "Be brief.\n\nJSON only."
    assert [(m.role, m.content.text) for m in params.messages] == [  # type: ignore[union-attr]
        ("user", "Hello"), ("assistant", "{}"), ("user", "Fix it"),
    ]  # fmt: skip
    assert (params.max_tokens, params.temperature, params.stop_sequences) == (99, 0.2, ["END"])
    done = to_completion(
        types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="hi"), model="m",
            stop_reason="maxTokens",
        ),
        7,
    )  # fmt: skip
    assert done["choices"][0]["finish_reason"] == "length" and "usage" not in done
