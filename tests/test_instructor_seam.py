"""Pins the instructor 1.17 behaviour llm/checks.py is built on. If an upgrade changes any
of it, this fails loudly and checks.py must be looked at again:

- `instructor.patch(create=fn)` calls `fn` for every attempt with the final request
  (schema and reask messages added), and an error from `fn` that is not a validation error
  ends the retry loop at once, kept in the raised exception's cause chain;
- instructor itself reads `tool_calls[0]` without checking its name, reasks a refusal in
  json_schema mode as invalid JSON, and appends the whole failed output to a reask: the
  three things checks.py corrects.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import instructor
import openai
import pytest
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from summarizer.errors import ModelRefusal
from summarizer.llm.checks import guarded


class Answer(BaseModel):
    word: str


def completion(message: dict[str, Any], finish: str = "stop") -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", **message}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )  # fmt: skip


def call(name: str, args: str) -> dict[str, Any]:
    return {"id": f"id-{name}", "type": "function", "function": {"name": name, "arguments": args}}


def patched(answers: list[ChatCompletion], mode: instructor.Mode, seen: list[dict]) -> Any:
    async def create(**kwargs: Any) -> ChatCompletion:
        seen.append(json.loads(json.dumps(kwargs, default=str)))
        return answers[len(seen) - 1]

    return instructor.patch(create=create, mode=mode)


def ask(create: Any, retries: int) -> Any:
    return asyncio.run(
        create(
            response_model=Answer,
            messages=[{"role": "user", "content": "q"}],
            max_retries=retries,
            model="m",
        )
    )


def test_instructor_reads_the_first_tool_call_whatever_its_name() -> None:
    seen: list[dict] = []
    answers = [
        completion({"tool_calls": [call("other", '{"x": 1}'), call("Answer", '{"word": "w"}')]})
    ] * 2
    with pytest.raises(Exception, match="word"):
        ask(patched(answers, instructor.Mode.TOOLS, seen), retries=1)
    assert len(seen) == 2  # it failed on the other tool's arguments, and reasked


def test_instructor_reasks_a_refusal_in_json_schema_mode() -> None:
    seen: list[dict] = []
    refusal = completion({"content": None, "refusal": "I can't."})
    with pytest.raises(Exception, match=r"EOF|Invalid JSON"):
        ask(patched([refusal, refusal], instructor.Mode.JSON_SCHEMA, seen), retries=1)
    assert len(seen) == 2


def test_instructor_appends_the_whole_failed_output_to_a_reask() -> None:
    seen: list[dict] = []
    broken = '{"word": ' + "1" * 10_000
    answers = [completion({"content": broken}), completion({"content": '{"word": "w"}'})]
    assert ask(patched(answers, instructor.Mode.JSON_SCHEMA, seen), retries=1).word == "w"
    assert seen[1]["messages"][1]["content"] == broken  # the reask carries all 10 KB


def test_an_error_from_create_ends_the_retries_and_stays_in_the_chain() -> None:
    calls = 0

    async def create(**kwargs: Any) -> ChatCompletion:
        nonlocal calls
        calls += 1
        raise ModelRefusal("refused")

    with pytest.raises(Exception) as err:
        ask(instructor.patch(create=create, mode=instructor.Mode.TOOLS), retries=3)
    assert calls == 1
    chain, cur = [], err.value
    while cur is not None:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    assert any(isinstance(e, ModelRefusal) for e in chain)


def test_the_guarded_create_fixes_what_instructor_would_misread() -> None:
    seen: list[dict] = []
    both = completion({"tool_calls": [call("other", '{"x": 1}'), call("Answer", '{"word": "w"}')]})

    async def sdk(**kwargs: Any) -> ChatCompletion:
        seen.append(kwargs)
        return both

    create = instructor.patch(
        create=guarded(sdk, mode="tools", merge=False), mode=instructor.Mode.TOOLS
    )
    assert ask(create, retries=0).word == "w" and len(seen) == 1
    assert openai.__version__  # the SDK these pins were checked against is importable
