"""`summarizer daily` end to end: files, feeds and pages in; stories, cache, lock, delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.web_server import Route, WebServer

runner = CliRunner()

GAS_1 = """EU extends gas price cap

European Union finance ministers agreed on Tuesday to extend the emergency gas price cap for another six months, officials said. Germany and the Netherlands had pushed for an earlier end to the cap on the Dutch hub, while Spain and Italy argued that households still needed protection.
"""
GAS_2 = """Ministers keep gas cap

Finance ministers of the European Union decided to keep the emergency gas price cap for six more months. Spain and Italy wanted protection for households, while Germany and the Netherlands preferred ending the cap at the Dutch hub sooner.
"""
TRAM = """Porto approves tram line

The city council of Porto approved a new tram line along the river on Monday. Construction of the tram will start next spring and the line should carry twenty thousand passengers daily.
"""


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    d = tmp_path / "articles"
    d.mkdir()
    (d / "a1.txt").write_text(GAS_1)
    (d / "a2.txt").write_text(GAS_2)
    (d / "a3.txt").write_text(TRAM)
    (d / "a4-wire.txt").write_text("Via the wire service:\n\n" + TRAM)
    return d


class Webhook:
    """A loopback stand-in for a Slack incoming webhook: records every POST body."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                hook.posts.append(json.loads(body))
                self.send_response(hook.status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/SECRETPATH"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def daily(tmp_path: Path, server: FakeOpenAI, *args: str) -> Any:
    return runner.invoke(
        app,
        ["daily", "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
         "--base-url", server.base_url, "--date", "2026-11-25", *args],
    )  # fmt: skip


def load(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "out" / "2026-11-25.json").read_text())


def test_stories_copies_and_disagreements(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "2026-11-25.html", "2026-11-25.json", "2026-11-25.md",
    ]  # fmt: skip
    data = load(tmp_path)
    # 4 articles: the wire copy is collapsed, the two gas articles form one story.
    assert len(fake_openai.requests) == 4  # 3 extractions + 1 synthesis
    assert data["provenance"]["articles_found"] == 4 and data["provenance"]["articles_briefed"] == 4
    gas, tram = data["stories"]
    assert {s["path"].rsplit("/", 1)[1] for s in gas["sources"]} == {"a1.txt", "a2.txt"}
    assert gas["disagreements"] and {c["source_id"] for c in gas["disagreements"][0]["claims"]} == {
        "S1",
        "S2",
    }
    copies = [s for s in tram["sources"] if s["duplicate_of"]]
    assert len(copies) == 1 and copies[0]["duplicate_of"] == "S1"
    # Every quote in the synthesis is still grounded in the article it cites.
    texts = {s["id"]: Path(s["path"]).read_text() for s in gas["sources"]}
    for row in gas["stances"]:
        for ev in row["evidence"]:
            assert ev["quote"] in texts[ev["source_id"]]
    assert data["provenance"]["fixture"] is True
    assert "Not model output" in (tmp_path / "out" / "2026-11-25.md").read_text()


def test_second_run_reuses_results_and_history_shows_both(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    assert daily(tmp_path, fake_openai, "-s", str(articles)).exit_code == 0
    calls = len(fake_openai.requests)
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 0
    assert len(fake_openai.requests) == calls  # no new LLM call
    assert load(tmp_path)["provenance"]["llm_calls"] == 0
    hist = runner.invoke(app, ["history", "--store", str(tmp_path / "s.db")])
    assert hist.stdout.count(" daily ") >= 2 and "ok" in hist.stdout
    brief_id = Store(tmp_path / "s.db").list_briefs()[0].id
    shown = runner.invoke(app, ["show", brief_id, "--store", str(tmp_path / "s.db")])
    assert shown.exit_code == 0 and shown.stdout.startswith("# Daily brief — 2026-11-25")


def test_bad_sources_are_listed_and_the_run_is_partial(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    (articles / "bad.txt").write_bytes(b"\x00\x01\x02")
    with WebServer(
        {
            "/404": Route(status=404),
            "/img": Route(headers={"Content-Type": "image/png"}, body=b"\x89PNG"),
        }
    ) as web:
        r = daily(tmp_path, fake_openai, "-s", str(articles), "-s", web.url("/404"), "-s", web.url("/img"),
                  "-s", str(tmp_path / "missing-dir"))  # fmt: skip
    assert r.exit_code == 9, r.output
    failures = {f["source"]: f["error"] for f in load(tmp_path)["failures"]}
    assert len(failures) == 4
    assert "binary" in failures[str(articles / "bad.txt")]
    assert "404" in next(v for k, v in failures.items() if k.endswith("/404"))
    assert len(load(tmp_path)["stories"]) == 2  # the rest of the run went on


def test_feeds_and_pages_over_http(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    now = datetime.now(UTC)

    def item(path: str, title: str, when: datetime) -> str:
        return f"<item><title>{title}</title><link>{{base}}{path}</link><pubDate>{format_datetime(when)}</pubDate></item>"

    page = "<html><head><title>{t}</title></head><body><nav>Home | World | Sport</nav><article><h1>{t}</h1><p>{p}</p></article><footer>Copyright</footer></body></html>"
    with WebServer() as web:
        items = item("/gas", "Gas cap extended", now - timedelta(hours=2)) + item(
            "/old", "Old news", now - timedelta(days=3)
        )
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items.replace("{base}", web.base)}</channel></rss>'
        web.add(
            "/feed.xml", Route(headers={"Content-Type": "application/rss+xml"}, body=feed.encode())
        )
        web.add(
            "/gas",
            Route(body=page.format(t="Gas cap extended", p=GAS_1.split("\n", 2)[2] * 3).encode()),
        )
        web.add(
            "/old",
            Route(body=page.format(t="Old news", p="Something from days ago. " * 20).encode()),
        )
        web.add("/tram", Route(body=page.format(t="Tram", p=TRAM.split("\n", 2)[2] * 3).encode()))
        r = daily(tmp_path, fake_openai, "-s", web.url("/feed.xml"), "-s", web.url("/tram"))
        fetched = [p for p, _ in web.requests]
    assert r.exit_code == 0, r.output
    assert "/old" not in fetched  # outside the 24h window: not even fetched
    urls = {s["url"] for story in load(tmp_path)["stories"] for s in story["sources"]}
    assert urls == {web.url("/gas"), web.url("/tram")}
    sent = json.dumps(fake_openai.requests)
    assert "Home | World | Sport" not in sent  # page boilerplate never reaches the model


def test_webhook_is_delivered_once_unless_forced(
    tmp_path: Path,
    articles: Path,
    fake_openai: FakeOpenAI,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", webhook.url)
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 0, r.output
    first = len(webhook.posts)
    assert first >= 1 and all(len(p["blocks"]) <= 50 for p in webhook.posts)
    assert "SECRETPATH" not in r.output
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert len(webhook.posts) == first and "already delivered" in r.stderr
    daily(tmp_path, fake_openai, "-s", str(articles), "--force")
    assert len(webhook.posts) == 2 * first


def test_failed_webhook_is_reported_and_retried_next_run(
    tmp_path: Path,
    articles: Path,
    fake_openai: FakeOpenAI,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", webhook.url)
    webhook.status = 500
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 9 and "nothing was posted" in r.stderr and "SECRETPATH" not in r.stderr
    webhook.status = 200
    webhook.posts.clear()
    assert daily(tmp_path, fake_openai, "-s", str(articles)).exit_code == 0
    assert webhook.posts


def test_overlapping_run_is_refused(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    from filelock import FileLock

    (tmp_path / "out").mkdir()
    with FileLock(str(tmp_path / "out" / ".summarizer-daily.lock")):
        r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 10 and "another daily run" in r.stderr
    assert fake_openai.requests == []


def test_budget_stops_spending_and_says_so(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    r = daily(
        tmp_path, fake_openai, "-s", str(articles), "--max-run-tokens", "1", "--concurrency", "1"
    )
    assert r.exit_code == 9
    data = load(tmp_path)
    assert data["provenance"]["stopped_by_budget"] is True
    assert len(fake_openai.requests) == 1
    assert sum("budget" in f["error"] for f in data["failures"]) == 2


def test_everything_failing_writes_nothing(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _req: Reply(status=500, headers={"retry-after-ms": "1"})
    r = daily(tmp_path, fake_openai, "-s", str(articles), "--retries", "0")
    assert r.exit_code == 11 and "no article could be briefed" in r.stderr
    assert not (tmp_path / "out" / "2026-11-25.json").exists()
    assert Store(tmp_path / "s.db").list_runs()[0].status == "failed"


def test_failed_articles_are_retried_by_the_next_run(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.queue(Reply(status=500))  # the first call fails, the others succeed
    r = daily(tmp_path, fake_openai, "-s", str(articles), "--retries", "0", "--concurrency", "1")
    assert r.exit_code == 9
    before = len(fake_openai.requests)
    r = daily(tmp_path, fake_openai, "-s", str(articles))
    assert r.exit_code == 0
    # Only the failed article (and the story it belongs to) is asked for again.
    assert 1 <= len(fake_openai.requests) - before <= 2


def test_output_language_is_asked_for_and_quotes_stay_original(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    d = tmp_path / "de"
    d.mkdir()
    text = "Die Stadt Porto hat am Montag eine neue Straßenbahnlinie entlang des Flusses genehmigt. Der Bau beginnt im Frühjahr."
    (d / "de.txt").write_text(text, encoding="utf-8")
    r = daily(tmp_path, fake_openai, "-s", str(d), "--language", "English")
    assert r.exit_code == 0, r.output
    assert "in English" in fake_openai.requests[0]["messages"][1]["content"]
    quote = load(tmp_path)["stories"][0]["stances"][0]["evidence"][0]["quote"]
    assert quote in text and "Straßenbahnlinie" in quote


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "no sources"),
        (["-s", "x", "--since", "yesterday-ish"], "--since yesterday-ish"),
        (["-s", "x", "--date", "25/11/2026"], "--date 25/11/2026"),
        (["-s", "x", "--format", "pdf"], "formats"),
    ],
)
def test_bad_daily_settings(
    tmp_path: Path, fake_openai: FakeOpenAI, args: list[str], fragment: str
) -> None:
    r = runner.invoke(app, ["daily", "--out-dir", str(tmp_path / "o"), "--store", str(tmp_path / "s.db"),
                            "--base-url", fake_openai.base_url, *args])  # fmt: skip
    assert r.exit_code == 3 and fragment in r.stderr and "Traceback" not in r.output


def test_a_run_killed_half_way_resumes_without_paying_twice(
    tmp_path: Path, articles: Path, webhook: Webhook
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SUMMARIZER_SLACK_WEBHOOK": webhook.url,
    }
    with FakeOpenAI(latency=0.4) as server:
        cmd = [sys.executable, "-m", "summarizer", "daily", "-s", str(articles), "--out-dir", str(tmp_path / "out"),
               "--store", str(tmp_path / "s.db"), "--base-url", server.base_url, "--date", "2026-11-25",
               "--concurrency", "1"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while server.status_counts.get(200, 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # no cleanup, no atexit: as a crash or an OOM kill
        proc.communicate(timeout=30)  # reaps it and closes its pipes
        first = len(server.requests)
        assert 2 <= first < 4
        assert not (tmp_path / "out" / "2026-11-25.json").exists()  # nothing half-written
        assert webhook.posts == []

        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        again = len(server.requests) - first
    # The killed run's finished articles were kept: at most the one in flight is redone.
    assert again <= 4 - first + 1
    assert len(webhook.posts) >= 1
    posts = len(webhook.posts)
    store = Store(tmp_path / "s.db")
    assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r.status for r in store.list_runs()] == [
        "ok",
        "interrupted",
    ]  # the killed run is visible
    assert len(load(tmp_path)["stories"]) == 2
    assert posts == len(webhook.posts)


def test_readme_daily_demo_runs_offline(tmp_path: Path) -> None:
    from tests.conftest import SEEDS

    r = runner.invoke(
        app,
        ["daily", "-s", str(SEEDS / "daily"), "--replay", str(SEEDS / "recordings"),
         "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"), "--date", "2026-11-25"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = load(tmp_path)
    assert [len(s["sources"]) for s in data["stories"]] == [2, 2]
    haftar = data["stories"][0]
    assert haftar["disagreements"][0]["kind"] == "fact"
    assert data["provenance"]["fixture"] is True and data["provenance"]["replayed"] is True


def test_max_cost_stops_the_run(tmp_path: Path, articles: Path, fake_openai: FakeOpenAI) -> None:
    r = daily(
        tmp_path, fake_openai, "-s", str(articles), "--max-cost", "0.0000001", "--concurrency", "1"
    )
    assert r.exit_code == 9
    assert load(tmp_path)["provenance"]["stopped_by_budget"] is True
    assert len(fake_openai.requests) == 1


def test_max_cost_needs_a_known_price(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    r = daily(
        tmp_path, fake_openai, "-s", str(articles), "--max-cost", "1", "--model", "my-local-llama"
    )
    assert r.exit_code == 3 and "--max-run-tokens" in r.stderr


def test_log_json_is_one_object_per_line(
    tmp_path: Path, articles: Path, fake_openai: FakeOpenAI
) -> None:
    (articles / "bad.txt").write_bytes(b"\x00")
    r = daily(tmp_path, fake_openai, "-s", str(articles), "--log-json")
    assert r.exit_code == 9
    records = [json.loads(line) for line in r.stderr.strip().splitlines()]
    assert {rec["level"] for rec in records} >= {"warning", "info"}
    assert any("bad.txt" in rec["message"] for rec in records)
