"""What the multi-process tests share: waiting as a client should, children with a clean
environment, queue workers, and racing several stores at once.

Waiting: a test that waits on another process polls with backoff (a few ms at first, then
up to half a second), never at a fixed short interval; an HTTP poll that is answered 429
waits the Retry-After it was given, as a client should, instead of counting the refusal as
an answer; and an answer that is not the one expected fails with its status and body, not
with a KeyError on a field an error body does not have.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

LLM_KEY = "sk-test-LLMKEY-0123456789"
FINISHED = ("succeeded", "partial", "failed")


def wait_until(
    done: Callable[[], T | None],
    *,
    timeout: float = 30,
    what: str = "the condition",
    alive: subprocess.Popen[Any] | None = None,
) -> T:
    """`done()`'s first true value, polled with backoff. Fails after `timeout` seconds, or
    at once when the process `alive` it depends on has exited."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        value = done()
        if value:
            return value
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"waiting for {what}: the process exited ({alive.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def answer(response: Any, *expected: int) -> dict[str, Any]:
    """A response's JSON body when its status is one of `expected` (default 200); else a
    failure naming the status and the body (an error body has no "status" or "job_id")."""
    wanted = expected or (200,)
    assert response.status_code in wanted, (
        f"{response.request.method} {response.request.url.path}: expected "
        f"{' or '.join(map(str, wanted))}, got {response.status_code}: {response.text[:500]}"
    )
    body: dict[str, Any] = response.json()
    return body


def poll_job(get: Callable[[str], Any], job_id: str, *, timeout: float = 60) -> dict[str, Any]:
    """GET /v1/jobs/ID until the job is finished, backing off, and honouring 429's
    Retry-After (the API's per-key limit counts these polls like any request)."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        r = get(f"/v1/jobs/{job_id}")
        if r.status_code == 429:
            wait = float(r.headers.get("retry-after", "1"))
            assert time.monotonic() + wait < deadline, (
                f"job {job_id}: rate limited ({r.text[:200]}) past the {timeout:.0f} s allowed"
            )
            time.sleep(wait)
            continue
        job = answer(r)
        if job["status"] in FINISHED:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout} s"
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def child_env(**extra: str) -> dict[str, str]:
    """This environment without the user's model or summarizer settings, with a test key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env["OPENAI_API_KEY"] = LLM_KEY
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def worker(
    pg_url: str, base_url: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A `summarizer worker` process on the queue of the store at `pg_url`, stopped with
    SIGTERM (killed if it does not stop) when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "summarizer", "worker", "--base-url", base_url, *args],
        env=child_env(SUMMARIZER_DATABASE_URL=pg_url, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("DEBUG_WORKER") else subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def race(action: Callable[[Any], T], subjects: Sequence[Any]) -> list[T]:
    """`action(subject)` for every subject at once, each in its own thread, all released
    together by a barrier; the results in the order they finished."""
    results: list[T] = []
    barrier = threading.Barrier(len(subjects))

    def run(subject: Any) -> None:
        barrier.wait()
        results.append(action(subject))

    threads = [threading.Thread(target=run, args=(s,)) for s in subjects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class HoldSecond:
    """A scripted model that answers the first request and holds the second until
    `release` is set: a process can then be killed or signalled with that call in flight,
    whatever the machine's load (an event, not a sleep). Later requests are answered."""

    def __init__(self) -> None:
        from summarizer.testing.openai_server import grounded_brief

        self._answer = grounded_brief
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen = 0
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Any:
        with self._lock:
            self.seen += 1
            n = self.seen
        if n == 2:
            self.holding.set()
            self.release.wait(60)
        return self._answer(request)
