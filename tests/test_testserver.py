"""`summarizer testserver`: the scripted OpenAI-compatible server, started as a user would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "summarizer", "testserver", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()  # printed once it listens: no sleep, no polling
    assert url.startswith("http://127.0.0.1:"), (url, proc.stderr.read() if proc.stderr else "")
    return proc, url


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def _chat(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    req = urllib.request.Request(
        f"{url}/chat/completions", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def _content(body: dict[str, Any]) -> Any:
    # No tools and no response_format: the answer is md_json, JSON in a fenced block.
    text = body["choices"][0]["message"]["content"].strip()
    return json.loads(text.removeprefix("```json").removesuffix("```"))


ARTICLE = (
    "<<<ARTICLE-0a1b id=S1>>>\nThe port of Valdera reopened on Friday after a nine-day strike "
    "over pay, the union said in a statement.\n<<<END ARTICLE-0a1b>>>"
)


def test_testserver_on_a_free_port_answers_a_grounded_fixture_brief() -> None:
    port = _free_port()
    proc, url = _start("--port", str(port))
    try:
        assert url == f"http://127.0.0.1:{port}/v1"
        status, headers, body = _chat(
            url, {"model": "m", "messages": [{"role": "user", "content": ARTICLE}]}
        )
    finally:
        err = _stop(proc)
    assert status == 200
    assert any(k.lower() == "x-summarizer-fixture" for k in headers), headers
    brief = _content(body)
    quote = brief["stances"][0]["evidence"][0]["quote"]
    assert quote in ARTICLE  # grounded in the article it was sent
    assert "not a live model" in err and "1 request(s)" in err


def test_testserver_knobs_quirks_and_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"status": 503}, {"payload": {"title": "scripted"}}]))
    proc, url = _start(
        "--port", "0", "--script", str(script), "--quirk", "reject_modes=json_schema",
        "--quirk", "usage=false",
    )  # fmt: skip
    try:
        chat = {"model": "m", "messages": [{"role": "user", "content": ARTICLE}]}
        rejected = _chat(url, {**chat, "response_format": {"type": "json_schema"}})
        first, second = _chat(url, chat), _chat(url, chat)
    finally:
        _stop(proc)
    assert rejected[0] == 500 and "response_format" in json.dumps(rejected[2])
    assert first[0] == 503
    assert second[0] == 200 and "usage" not in second[2]
    assert _content(second[2]) == {"title": "scripted"}


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--quirk", "nope=1"], "--quirk nope=1: unknown"),
     (["--quirk", "usage=maybe"], "use true or false"),
     (["--fail-rate", "429"], "--fail-rate 429: use STATUS=P"),
     (["--fail-rate", "429=0.8", "--fail-rate", "500=0.5"], "more than 1")],
)  # fmt: skip
def test_testserver_refuses_bad_knobs_in_one_line(args: list[str], words: str) -> None:
    from typer.testing import CliRunner

    from summarizer.cli import app

    r = CliRunner().invoke(app, ["testserver", "--port", "0", *args])
    assert r.exit_code == 3 and words in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_testserver_port_in_use_is_one_line() -> None:
    from typer.testing import CliRunner

    from summarizer.cli import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(app, ["testserver", "--port", str(port)])
    assert r.exit_code == 3 and f"--port {port}: cannot listen" in r.output, r.output
