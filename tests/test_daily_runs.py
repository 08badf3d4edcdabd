"""Daily runs on a shared store: one run per day and store, one delivery per destination,
and a run whose process died shows as interrupted, not running for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.daily.deliver import target
from summarizer.plumbing import liveness
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, grounded_brief
from tests.conftest import ROOT
from tests.test_daily import Webhook, articles  # noqa: F401  (a fixture)

runner = CliRunner()


def _daily(tmp_path: Path, server: FakeOpenAI, out: str, *args: str) -> Any:
    return runner.invoke(
        app,
        ["daily", "--out-dir", str(tmp_path / out), "--store", str(tmp_path / "s.db"),
         "--base-url", server.base_url, "--date", "2026-11-25", *args],
    )  # fmt: skip


def test_two_webhooks_on_one_store_each_get_their_digest(
    tmp_path: Path,
    articles: Path,  # noqa: F811
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = Webhook(), Webhook()
    try:
        monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", first.url)
        r = _daily(tmp_path, fake_openai, "out-a", "-s", str(articles))
        assert r.exit_code == 0, r.output
        assert first.posts
        monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", second.url.replace("SECRETPATH", "OTHER"))
        r = _daily(tmp_path, fake_openai, "out-b", "-s", str(articles))
        assert r.exit_code == 0, r.output
        assert len(second.posts) == len(first.posts)  # delivered, not "already delivered"
        # Each destination is still delivered at most once.
        posted = len(first.posts)
        monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", first.url)
        r = _daily(tmp_path, fake_openai, "out-a", "-s", str(articles))
        assert "already delivered" in r.stderr and len(first.posts) == posted
    finally:
        first.close()
        second.close()
    # The webhook URL is a secret: the store holds neither it nor its path.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*") if p.is_file())
    assert b"SECRETPATH" not in raw and b"OTHER" not in raw and b"/services/" not in raw
    assert "SECRETPATH" not in r.output


def test_delivery_key_names_the_destination_without_revealing_it() -> None:
    url = "https://hooks.slack.com/services/T0/B0/abcdefSECRET"
    assert target(url) == target(url) != target(url + "x")
    assert "SECRET" not in target(url) and "hooks" not in target(url)


def test_a_day_claimed_before_the_upgrade_is_not_posted_again(
    tmp_path: Path,
    articles: Path,  # noqa: F811
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(tmp_path / "s.db")
    assert store.claim_delivery("2026-11-25", "slack-webhook") is None  # the old, shared key
    store.mark_delivered("2026-11-25", "slack-webhook", None)
    hook = Webhook()
    try:
        monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", hook.url)
        r = _daily(tmp_path, fake_openai, "out", "-s", str(articles))
        assert "already delivered" in r.stderr and hook.posts == []
    finally:
        hook.close()


def test_claims_race_across_processes_and_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    code = (
        "import sys; from pathlib import Path; from summarizer.store import Store; "
        "s = Store(Path(sys.argv[1])); print('ready', flush=True); sys.stdin.readline(); "
        "print(s.claim_delivery('2026-11-25', 'slack-webhook:x'))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for p in procs:  # every process has its store open ...
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:  # ... before any of them claims: the claims overlap
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    answers = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert answers == ["None"] + ["pending"] * 5


def test_store_lock_is_per_day_and_freed_on_release(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "s.db"), Store(tmp_path / "s.db")
    with a.hold_lock("daily:2026-11-25") as held:
        assert held
        with b.hold_lock("daily:2026-11-25") as second:
            assert not second
        with b.hold_lock("daily:2026-11-26") as other_day:
            assert other_day
    with b.hold_lock("daily:2026-11-25") as again:
        assert again


def test_a_second_run_for_the_same_day_and_store_is_refused_and_pays_nothing(
    tmp_path: Path,
    articles: Path,  # noqa: F811
) -> None:
    """Two real processes: the first is held mid-run by its model server; the second, with
    another output folder, must stop with exit 10 before making any call."""
    gate = threading.Event()

    def held(request: dict[str, Any]) -> Any:
        gate.wait(60)
        return grounded_brief(request)

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}

    def cmd(server: FakeOpenAI, out: str) -> list[str]:
        return [sys.executable, "-m", "summarizer", "daily", "-s", str(articles),
                "--out-dir", str(tmp_path / out), "--store", str(tmp_path / "s.db"),
                "--base-url", server.base_url, "--date", "2026-11-25", "--concurrency", "1"]  # fmt: skip

    with FakeOpenAI(held) as slow, FakeOpenAI() as other:
        first = subprocess.Popen(
            cmd(slow, "out-a"), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            while not slow.requests and first.poll() is None:
                threading.Event().wait(0.02)
            assert first.poll() is None  # running, and holding the day
            second = subprocess.run(
                cmd(other, "out-b"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
        finally:
            gate.set()
            _, err = first.communicate(timeout=120)
    assert second.returncode == 10, second.stderr
    assert "another daily run holds the lock for 2026-11-25" in second.stderr
    assert "Traceback" not in second.stderr
    assert other.requests == []  # paid nothing
    assert not list((tmp_path / "out-b").glob("2026-11-25.*"))  # and wrote nothing
    assert first.returncode == 0, err
    assert (tmp_path / "out-a" / "2026-11-25.json").exists()


def test_a_run_killed_with_9_shows_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    code = (
        "import sys; from pathlib import Path; from summarizer.store import Store; "
        "Store(Path(sys.argv[1])).start_run('daily', '2026-11-25', {}); print('started', flush=True); "
        "sys.stdin.readline()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    assert [r.status for r in Store(path).list_runs()] == ["running"]  # alive: running
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    runs = Store(path).list_runs()
    assert [r.status for r in runs] == ["interrupted"]
    hist = runner.invoke(app, ["history", "--store", str(path)])
    assert hist.exit_code == 0 and "interrupted" in hist.stdout
    assert f"process {proc.pid} ended without finishing the run" in hist.stdout


def test_a_reused_process_id_does_not_keep_a_dead_run_running(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run = store.start_run("daily", "2026-11-25", {})
    me = liveness.me()
    (row,) = store.list_runs()
    assert row.status == "running" and row.detail == f"process {me.pid}"  # this very process
    # Same id, but a process that started at another time: the run's process is gone.
    store._db.execute("UPDATE runs SET proc_start = ? WHERE id = ?", (f"{me.start}0", run))
    store._db.commit()
    assert [r.status for r in store.list_runs()] == ["interrupted"]
    # On another host nothing can be told: still running, and it says where.
    store._db.execute("UPDATE runs SET host = 'elsewhere' WHERE id = ?", (run,))
    store._db.commit()
    (row,) = store.list_runs()
    assert row.status == "running" and row.detail == f"process {me.pid} on host elsewhere"
    store.finish_run(run, "ok")
    assert [r.status for r in store.list_runs()] == ["ok"]


def test_run_owner_and_destination_keys_on_every_backend(store_target: str) -> None:
    with Store(store_target) as store:
        run = store.start_run("daily", "2026-11-25", {})
        (row,) = store.list_runs()
        assert row.status == "running" and row.detail == f"process {os.getpid()}"
        # A process that has exited (this one's child, reaped) left its run unfinished.
        code = "from summarizer.plumbing import liveness; o = liveness.me(); print(o.pid, o.start)"
        child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                               text=True, check=True)  # fmt: skip
        pid, start = child.stdout.split()
        other = store.start_run("daily", "2026-11-24", {})
        with store._tx() as db:
            db.execute(
                "UPDATE runs SET pid = ?, proc_start = ? WHERE id = ?", (int(pid), start, other)
            )
        statuses = {r.id: r.status for r in store.list_runs()}
        assert statuses == {run: "running", other: "interrupted"}
        a, b = target("https://hooks.example/a"), target("https://hooks.example/b")
        assert store.claim_delivery("2026-11-25", a) is None
        assert store.claim_delivery("2026-11-25", b) is None  # another destination
        assert store.claim_delivery("2026-11-25", a) == "pending"
        assert store.delivery_status("2026-11-25", b) == "pending"
