"""Reading endpoints' error bodies: OpenAI's, FastAPI's (llama-cpp-python), plain text;
what a person is shown of them; which ones refuse a mode."""

from __future__ import annotations

import json

import pytest

from summarizer.llm.failures import clean, read_error, refused_mode, request_mode

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/home/srv/venv/lib/python3.11/site-packages/llama_cpp/server/app.py", line 480, '
    "in create_chat_completion\n"
    "    raise ValueError(msg)\n"
    "ValueError: response_format type 'json_schema' is not supported"
)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"error": {"message": "Too long.", "code": "context_length_exceeded", "type": "x"}},
            "context_length_exceeded",
            "Too long.",
        ),
        ({"error": {"message": "Bad.", "code": None, "type": "invalid_request_error"}},
         "invalid_request_error", "Bad."),
        ({"detail": "Model not loaded"}, None, "Model not loaded"),
        ({"error": "upstream timeout"}, None, "upstream timeout"),
    ],
)  # fmt: skip
def test_the_providers_code_and_message_are_read(
    body: dict, code: str | None, message: str
) -> None:
    said = read_error(json.dumps(body))
    assert (said.code, said.message) == (code, message)


def test_a_body_that_is_not_json_is_the_message() -> None:
    assert read_error("<html>502 Bad Gateway</html>").message == "<html>502 Bad Gateway</html>"


def test_a_traceback_leaves_only_its_last_line_and_no_paths() -> None:
    shown = clean(f"Internal error. {TRACEBACK}", [])
    assert (
        shown == "Internal error. ValueError: response_format type 'json_schema' is not supported"
    )
    assert clean("failed in /srv/app/llama_cpp/server.py today", []) == "failed in <path> today"


def test_what_is_shown_is_short_and_redacted() -> None:
    key = "sk-proj-abcdefghijklmnop"
    shown = clean(f"bad key {key[:12]} " + "x" * 500, [key])
    assert key[:8] not in shown and "[REDACTED]" in shown and len(shown) <= 200


@pytest.mark.parametrize(
    ("status", "body", "mode", "refused"),
    [
        (500, {"error": {"message": TRACEBACK}}, "json_schema", True),
        (500, {"error": {"message": TRACEBACK}}, "tools", False),  # not this mode's parameter
        (400, {"error": {"message": "x", "param": "tool_choice"}}, "tools", True),
        (500, {"error": {"message": "CUDA out of memory"}}, "tools", False),
        (429, {"error": {"message": "tools rate limited"}}, "tools", False),
    ],
)
def test_an_error_naming_the_modes_parameter_is_a_refused_mode(
    status: int, body: dict, mode: str, refused: bool
) -> None:
    assert refused_mode(status, json.dumps(body), mode) is refused


def test_the_mode_of_a_request_body() -> None:
    assert request_mode({"tools": [{}], "messages": []}) == "tools"
    assert request_mode({"response_format": {"type": "json_schema"}}) == "json_schema"
    assert request_mode({"messages": []}) == "md_json"
