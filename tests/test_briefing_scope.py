"""Whose request it is (briefing/keep.py's cache rule), on both stores: one API key's brief
never lends its sources to another key or to a daily run, and a reused answer always
shows the sources of the request it answers. On PostgreSQL the API's jobs run on a real
`summarizer worker`; on SQLite in the API's own process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, articles_in
from tests.test_queue import worker
from tests.test_service import ARTICLE, KEY, OTHER_KEY, Api, doc, serving

SHARED = "Shared report. " + ARTICLE
PHISH_URL = "https://phish.example/reset-your-password"
PHISH_TITLE = "Urgent: reset your password here"


def _asked(fake: FakeOpenAI, marker: str) -> int:
    return sum(marker in t for r in fake.requests for t in articles_in(r).values())


@contextmanager
def _api(tmp_path: Path, target: str, fake: FakeOpenAI) -> Iterator[Api]:
    """The API on `target`, with a worker running its jobs when the store is PostgreSQL."""
    with ExitStack() as stack:
        store = stack.enter_context(Store(target))
        api = stack.enter_context(
            serving(tmp_path, fake, store=store, rate_limit_per_minute=100_000)
        )
        if target.startswith("postgresql://"):
            stack.enter_context(worker(target, fake.base_url))
        yield api


def _job_briefs(api: Api, documents: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Post a job (two documents or more: it runs as a job, on a worker on PostgreSQL) and
    return its briefs as JSON, in request order."""
    accepted = api.post({"documents": documents}, key=key)
    assert accepted.status_code == 202, accepted.text
    job = api.wait_job(accepted.json()["job_id"], key=key, timeout=60)
    assert job["status"] == "succeeded", job
    return [api.get(u, key).json() for u in job["brief_urls"]]


def _daily(tmp_path: Path, target: str, fake: FakeOpenAI, source: Path) -> Any:
    out = tmp_path / f"out-{source.name}"
    r = CliRunner().invoke(
        app,
        ["daily", "--out-dir", str(out), "--store", target, "--base-url", fake.base_url,
         "--date", "2026-11-25", "-s", str(source)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return json.loads((out / "2026-11-25.json").read_text())


def test_a_key_never_sees_another_key_s_brief_of_the_same_text_nor_does_daily(
    tmp_path: Path, store_target: str, fake_openai: FakeOpenAI
) -> None:
    with _api(tmp_path, store_target, fake_openai) as api:
        # Key A briefs a text under a phishing title and link.
        a_shared, _ = _job_briefs(
            api,
            [doc(SHARED, title=PHISH_TITLE, url=PHISH_URL), doc("Other report A. " + ARTICLE)],
            key=KEY,
        )
        assert a_shared["sources"][0]["url"] == PHISH_URL
        # Key B posts the same text under its own title and link.
        b_url = "https://news.example/council-bridge"
        b_shared, _ = _job_briefs(
            api,
            [doc(SHARED, title="Council closes bridge", url=b_url), doc("Other B. " + ARTICLE)],
            key=OTHER_KEY,
        )
    # B's brief is B's: its own source, nothing of A's...
    assert b_shared["sources"][0]["url"] == b_url
    assert b_shared["sources"][0]["title"] == "Council closes bridge"
    assert PHISH_URL not in json.dumps(b_shared) and PHISH_TITLE not in json.dumps(b_shared)
    # ...and made as A's was, with calls of its own (their tokens differ only by the title
    # and link in the prompt), so B cannot tell that A briefed the text first: the model
    # was asked once for each key.
    b_made, a_made = b_shared["provenance"], a_shared["provenance"]
    assert b_made["llm_calls"] == a_made["llm_calls"] >= 1 and b_made["tokens_in"] > 0
    assert b_made["created_at"] > a_made["created_at"]
    assert _asked(fake_openai, "Shared report.") == 2
    # A later daily run over the same text shows its own source: the file, not A's link.
    source = tmp_path / "feed"
    source.mkdir()
    (source / "shared.txt").write_text(SHARED)
    daily = _daily(tmp_path, store_target, fake_openai, source)
    text = json.dumps(daily)
    assert PHISH_URL not in text and PHISH_TITLE not in text and b_url not in text
    (story,) = daily["stories"]
    assert [s["path"] for s in story["sources"]] == [str(source / "shared.txt")]
    assert _asked(fake_openai, "Shared report.") == 3  # an API brief never answers daily


def test_a_reused_answer_shows_the_sources_of_the_request_it_answers(
    tmp_path: Path, store_target: str, fake_openai: FakeOpenAI
) -> None:
    # Two daily runs (the local scope) over the same text from two places: the second run
    # reuses the first's answer, and shows where it found the text itself.
    first, second = tmp_path / "first", tmp_path / "second"
    for d in (first, second):
        d.mkdir()
    (first / "from-first-feed.txt").write_text(SHARED)
    (second / "from-second-feed.txt").write_text(SHARED)
    _daily(tmp_path, store_target, fake_openai, first)
    asked = len(fake_openai.requests)
    daily = _daily(tmp_path, store_target, fake_openai, second)
    assert len(fake_openai.requests) == asked  # reused: no new call
    (story,) = daily["stories"]
    assert [s["path"] for s in story["sources"]] == [str(second / "from-second-feed.txt")]
    assert "from-first-feed" not in json.dumps(daily)


def test_api_answers_kept_among_daily_results_by_older_workers_are_dropped(
    store_target: str,
) -> None:
    """Before the one path, queue workers kept an API key's answers among the per-article
    results, where daily reused them: migration 0012 drops those (and only those)."""
    api_sha, daily_sha = "a" * 64, "b" * 64
    with Store(store_target) as store:
        store.put_brief("brief", "{}", title="t", owner="k1", source_key=f"{api_sha}:key")
        store.put_extraction(api_sha, "key", "{}")
        store.put_extraction(daily_sha, "key", "{}")
        with store._tx() as db:  # as a store from before the migration
            db.execute(
                "DELETE FROM _migrations WHERE name = ?", ("0012_no_api_answers_in_daily_results",)
            )
    with Store(store_target) as store:
        assert store.get_extraction(api_sha, "key") is None
        assert store.get_extraction(daily_sha, "key") == "{}"
