"""The record/replay transport: keys, readable files, no secrets, clear misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.errors import ReplayMissError
from summarizer.llm.recordings import redact_query, request_key
from summarizer.testing.openai_server import FakeOpenAI
from tests.briefing import brief_text

SECRET = "sk-live-abcdefghijklmnopqrstuvwxyz0123"
ARTICLE = "The harbour authority said on Monday that the new ferry line would open in May."


def brief(settings_kw: dict, text: str = ARTICLE):
    return brief_text(text, **settings_kw)


def test_key_is_the_canonical_body_hash() -> None:
    assert request_key({"b": 1, "a": [1, 2]}) == request_key({"a": [1, 2], "b": 1})
    assert request_key({"a": 1}) != request_key({"a": 2})


def test_query_credentials_are_redacted() -> None:
    assert redact_query(
        [("api-version", "2024-06-01"), ("api-key", "k"), ("access_token", "t")]
    ) == {
        "api-version": "2024-06-01",
        "api-key": "REDACTED",
        "access_token": "REDACTED",
    }


def test_record_then_replay_offline(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    rec_dir = tmp_path / "rec"
    live = brief({"base_url": fake_openai.base_url, "api_key": SECRET, "record_dir": rec_dir})
    # The key went to the server, but nowhere into the recording.
    assert fake_openai.headers_seen[0]["authorization"] == f"Bearer {SECRET}"
    files = list(rec_dir.glob("*.json"))
    assert len(files) == 1
    raw = files[0].read_text(encoding="utf-8")
    assert SECRET not in raw and "Authorization" not in raw and "authorization" not in raw
    data = json.loads(raw)
    assert data["origin"] == "fixture"  # the test server is not a live model
    assert raw.count("\n") > 20  # pretty-printed for review

    fake_openai.requests.clear()
    replayed = brief({"replay_dir": rec_dir})
    assert fake_openai.requests == []
    assert replayed.model_dump(exclude={"provenance"}) == live.model_dump(exclude={"provenance"})
    p = replayed.provenance
    assert (p.replayed, p.fixture, p.cost_usd, p.llm_calls) == (True, True, 0.0, 1)


def test_replay_miss_names_key_model_and_prompt(tmp_path: Path) -> None:
    with pytest.raises(ReplayMissError) as err:
        brief(
            {"replay_dir": tmp_path, "model": "some-model"},
            text="Quarterly wheat exports rose sharply.",
        )
    msg = str(err.value)
    assert err.value.key in msg and "'some-model'" in msg
    assert "'Quarterly wheat exports rose sharply.'..." in msg  # the article's words, not the fence
    assert "--record" in msg and err.value.exit_code == 5


def test_transient_failures_are_not_recorded(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    from summarizer.testing.openai_server import Reply

    fake_openai.queue(Reply(status=500, headers={"retry-after-ms": "10"}))
    brief({"base_url": fake_openai.base_url, "record_dir": tmp_path})
    data = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert data["response"]["status"] == 200


def test_seed_recordings_say_they_are_fixtures() -> None:
    seeds = Path(__file__).resolve().parent.parent / "seeds" / "recordings"
    files = list(seeds.glob("*.json"))
    assert files
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        assert data["origin"] == "fixture" and "not a live model" in data["origin_note"]
