"""One reader for JSON from outside, bounded in depth and size (issue 19.6)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.errors import InputError, ModelOutputError, RecordingUnreadable
from summarizer.plumbing import untrusted_json
from summarizer.sources.ingest import Document
from summarizer.testing.openai_server import FakeOpenAI, Reply

DEEP = "[" * 100_000 + "]" * 100_000


def test_nesting_past_the_bound_is_refused_by_name() -> None:
    with pytest.raises(untrusted_json.JSONRefused) as err:
        untrusted_json.loads(DEEP, what="the thing")
    assert err.value.why == "depth" and err.value.hostile
    assert str(err.value) == ("the thing: JSON nested more than 64 levels deep; not read")


def test_brackets_inside_strings_do_not_count_and_the_bound_itself_is_fine() -> None:
    text = json.dumps({"a": "[" * 10_000 + '\\"{' * 500, "b": [[1]]})
    assert untrusted_json.loads(text, what="x")["b"] == [[1]]
    assert untrusted_json.loads("[" * 64 + "]" * 64, what="x") is not None
    with pytest.raises(untrusted_json.JSONRefused, match="more than 64 levels"):
        untrusted_json.loads("[" * 65 + "]" * 65, what="x")
    with pytest.raises(untrusted_json.JSONRefused, match="more than 64 levels"):
        untrusted_json.loads('{"a":' * 65 + "1" + "}" * 65, what="x")


def test_size_encoding_and_syntax_are_refused_with_their_reason() -> None:
    with pytest.raises(untrusted_json.JSONRefused, match="larger than 10 bytes") as err:
        untrusted_json.loads(b'{"a": "0123456789"}', what="x", max_bytes=10)
    assert err.value.why == "size"
    with pytest.raises(untrusted_json.JSONRefused, match="not UTF-8") as err:
        untrusted_json.loads(b'{"a": "\xff"}', what="x")
    assert err.value.why == "encoding" and not err.value.hostile
    with pytest.raises(untrusted_json.JSONRefused, match=r"line 1, column 2") as err:
        untrusted_json.loads("{oops", what="x")
    assert err.value.why == "syntax"
    assert untrusted_json.loads("\ufeff[1]".encode(), what="x") == [1]  # a BOM is allowed


def test_a_model_answer_nested_deep_is_an_invalid_model_answer_not_unreachable() -> None:
    """Before: the SDK met a RecursionError parsing the body and said "cannot reach the
    model endpoint" (exit 6)."""
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(raw_body=DEEP)
        s = load_settings(base_url=server.base_url, http_retries=0)
        with pytest.raises(ModelOutputError) as err:
            asyncio.run(brief_documents([Document(text="An article about a port.")], s))
    assert err.value.exit_code == 7
    message = str(err.value)
    assert "the model endpoint's answer" in message and "nested more than 64 levels" in message
    assert "cannot reach" not in message and "\n" not in message


def test_an_error_body_nested_deep_does_not_crash_the_error_report() -> None:
    from summarizer.llm import failures

    said = failures.read_error(DEEP)
    assert said.code is None


def test_a_gold_file_nested_deep_is_an_input_error(tmp_path: Path) -> None:
    from summarizer.eval.gold import load_gold_file

    gold = tmp_path / "deep.json"
    gold.write_text('{"article_text": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_gold_file(gold, max_bytes=10**6)
    assert err.value.exit_code == 4
    assert str(err.value).startswith(f"{gold}: JSON nested more than 64 levels deep")


def test_a_batch_output_line_nested_deep_is_counted_unreadable(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from summarizer.batch import api

    good = json.dumps(
        {"custom_id": "k2", "response": {"status_code": 200, "body": {"choices": []}}}
    )
    output = tmp_path / "output.jsonl"  # as the provider's output file is kept: on disk
    output.write_text("\n".join(['{"custom_id": "k1", "x": ' + DEEP + "}", good]))
    got = api.Download(output, False, False)
    with caplog.at_level(logging.WARNING, logger="summarizer"):
        found = api.read_lines(got.lines(), {"k1", "k2"}, api.Status("batch_1", "completed"), got)
    assert list(found) == ["k2"]
    assert "1 line(s) could not be read (the first: JSON nested" in caplog.text


def test_a_recording_nested_deep_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    from summarizer.llm import recordings

    key = "0" * 32
    recordings.path_for(tmp_path, key).write_text('{"response": ' + DEEP + "}", encoding="utf-8")
    with pytest.raises(RecordingUnreadable, match="JSON nested more than 64 levels deep"):
        recordings.load(tmp_path, key)


def test_an_api_request_body_nested_deep_is_a_400_that_says_so() -> None:
    from summarizer.errors import ApiError
    from summarizer.serving.limits import parse_brief_request

    with pytest.raises(ApiError) as err:
        parse_brief_request(
            ('{"documents": ' + DEEP + "}").encode(),
            max_documents=10, max_chars=1000, max_bytes=1000,
        )  # fmt: skip
    assert err.value.status == 400 and "nested more than 64 levels deep" in str(err.value)
