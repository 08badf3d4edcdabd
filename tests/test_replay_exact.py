"""Replays are exact: the body bytes as received, errors included; a recording that cannot
be used says which file and why; --record makes its directory at once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import pytest

from summarizer.errors import ProviderError, RecordingUnreadable, ReplayMissError, RequestRejected
from summarizer.llm.transport import HarnessTransport
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.briefing import brief_text

# Not what json.dumps would write back: odd spacing, escaped non-ASCII, key order.
ODD_BODY = b'{"error":   {"type":"invalid_request_error","message":"Caf\\u00e9 \\u2014 too long",\n "code": "context_length_exceeded"}}'


def brief(**settings: object):
    return brief_text(**settings)


async def _post(transport: HarnessTransport, body: dict) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=transport) as client:
        return await client.post("http://127.0.0.1:1/v1/chat/completions", json=body)


def test_a_replay_answers_the_bytes_that_were_received(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with FakeOpenAI() as server:
        server.queue(Reply(status=400, raw_body=ODD_BODY.decode()))
        live = asyncio.run(_record(server.base_url, tmp_path, body))
    replayed = asyncio.run(_post(HarnessTransport("replay", directory=tmp_path), body))
    assert live.content == ODD_BODY
    assert replayed.content == ODD_BODY and replayed.status_code == 400
    # The readable JSON is still there for a reviewer.
    data = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert data["response"]["body"]["error"]["code"] == "context_length_exceeded"


async def _record(base_url: str, directory: Path, body: dict) -> httpx2.Response:
    transport = HarnessTransport("record", directory=directory)
    async with httpx2.AsyncClient(transport=transport) as client:
        return await client.post(f"{base_url}/chat/completions", json=body)


def test_binary_bodies_survive_as_base64(tmp_path: Path) -> None:
    from summarizer.llm import recordings

    raw = b"\xff\xfe not utf-8 \x00"
    recordings.save(
        tmp_path, key="k", method="POST", path="/v1/x", query=[], request_body={},
        status=502, content_type="application/octet-stream", response_body=raw,
        origin="fixture", origin_note="test",
    )  # fmt: skip
    assert json.loads((tmp_path / "k.json").read_text())["response"]["raw"]["encoding"] == "base64"
    rec = recordings.load(tmp_path, "k")
    assert rec is not None and rec.content == raw


def test_a_replayed_error_says_it_was_replayed_with_the_live_text(tmp_path: Path) -> None:
    tmp_path = tmp_path / "récords"  # a directory name that is not ASCII
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=400, raw_body=ODD_BODY.decode())
        with pytest.raises(RequestRejected) as live:
            brief(base_url=server.base_url, record_dir=tmp_path)
        with pytest.raises(RequestRejected) as replayed:
            brief(replay_dir=tmp_path)
        assert len(server.requests) == 1
    assert f"replayed from {tmp_path} (no endpoint was contacted)" in str(replayed.value)
    assert "Café — too long" in str(replayed.value)
    assert replayed.value.body == live.value.body  # byte for byte the same provider text
    assert "try later" not in str(replayed.value)


def test_old_recordings_without_raw_bytes_still_replay(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        live = brief(base_url=server.base_url, record_dir=tmp_path)
    path = next(tmp_path.glob("*.json"))
    data = json.loads(path.read_text())
    del data["response"]["raw"]
    path.write_text(json.dumps(data))
    assert brief(replay_dir=tmp_path).title == live.title


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"format": "summarizer-recording/1", "response": {"sta', "not valid JSON"),
        (b'{"format": "summarizer-recording/1"}', "missing field 'response'"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    ],
)
def test_a_corrupt_recording_names_the_file_and_why(
    tmp_path: Path, content: bytes, why: str
) -> None:
    with FakeOpenAI() as server:
        brief(base_url=server.base_url, record_dir=tmp_path)
    path = next(tmp_path.glob("*.json"))
    path.write_bytes(content)
    with pytest.raises(RecordingUnreadable) as err:
        brief(replay_dir=tmp_path)
    msg = str(err.value)
    assert str(path) in msg and why in msg and err.value.exit_code == 5
    assert "cannot reach" not in msg


def test_record_creates_its_directory_even_when_every_call_fails(tmp_path: Path) -> None:
    rec = tmp_path / "new" / "recordings"
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=500, headers={"retry-after-ms": "5"})
        with pytest.raises(ProviderError):
            brief(base_url=server.base_url, record_dir=rec, http_retries=1)
    assert rec.is_dir() and list(rec.iterdir()) == []  # 5xx answers are not recorded
    with pytest.raises(ReplayMissError) as err:  # exit 5 "no recording", not 3 "not found"
        brief(replay_dir=rec)
    assert err.value.exit_code == 5


def test_the_cli_names_a_corrupt_seed_recording_and_exits_5(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from summarizer.cli import app
    from tests.conftest import ROOT, SEED_ARTICLE

    recs = tmp_path / "recs"
    shutil.copytree(ROOT / "seeds" / "recordings", recs)
    for f in recs.glob("*.json"):
        f.write_text(f.read_text()[:200])  # cut every file short
    r = CliRunner().invoke(app, ["brief", str(SEED_ARTICLE), "--replay", str(recs)])
    assert r.exit_code == 5
    assert str(recs) in r.stderr and "not valid JSON" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_a_recorded_answer_that_echoes_the_key_is_masked(tmp_path: Path) -> None:
    key = "sk-live-abcdefghijklmnopqrstuvwxyz0123"
    echo = {"error": {"message": f"Incorrect API key provided: {key[:12]}***0123."}}
    with FakeOpenAI() as server:
        server.responder = lambda _req: Reply(status=401, raw_body=json.dumps(echo))
        with pytest.raises(ProviderError):
            brief(base_url=server.base_url, api_key=key, record_dir=tmp_path)
    raw = next(tmp_path.glob("*.json")).read_text()
    assert key[:8] not in raw and "[REDACTED]" in raw
