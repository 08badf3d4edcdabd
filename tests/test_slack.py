"""The Slack bot, served for real on loopback: signed (and badly signed) requests go in,
Block Kit messages come out at a loopback fake of the Slack Web API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest

from summarizer.config import load_settings
from summarizer.errors import ConfigError
from summarizer.serving.settings import ServiceSettings
from summarizer.slack.app import INTERNAL, SlackBot, create_slack_http_app, find_url, only_url
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply, grounded_brief
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, LiveServer, check_message, sign

ARTICLE = (
    "The city council voted 7-2 on Tuesday to close the Elm Street bridge for repairs.\n\n"
    "Mayor Ana Ruiz said the closure was the only responsible choice after inspectors found "
    "corroded supports."
)
DUPLICATE = "x-summarizer-duplicate"


@dataclass
class Bot:
    url: str
    slack: FakeSlack
    fake: FakeOpenAI
    app: Any

    def send(
        self, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> httpx2.Response:
        return httpx2.post(
            f"{self.url}/slack/events",
            content=body,
            headers={
                "content-type": content_type,
                **(headers if headers is not None else sign(body)),
            },
            timeout=10,
        )

    def command(self, text: str, *, trigger: str = "1.2.abc", channel: str = "C1", **kw: Any):
        body = command_body(self.slack, text, trigger=trigger, channel=channel)
        return self.send(body, "application/x-www-form-urlencoded", **kw), body

    def event(self, event: dict[str, Any], *, event_id: str = "Ev1", **kw: Any):
        body = event_body(event, event_id)
        return self.send(body, "application/json", **kw), body


def command_body(slack: FakeSlack, text: str, *, trigger: str, channel: str) -> bytes:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0001",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "news",
            "user_id": "U1",
            "user_name": "ana",
            "command": "/brief",
            "text": text,
            "api_app_id": "A1",
            "response_url": f"{slack.base}/response/{trigger}",
            "trigger_id": trigger,
        }
    ).encode()


def event_body(event: dict[str, Any], event_id: str) -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
    ).encode()


def mention(text: str, ts: str = "1699999999.000100", **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": "U1",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": "C1",
        **extra,
    }


@contextmanager
def running_bot(tmp_path: Path, fake: FakeOpenAI, store: Store | None = None, **svc: Any):
    with FakeSlack() as slack:
        settings = load_settings(base_url=fake.base_url)
        service = ServiceSettings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.url,
            **svc,
        )
        app = create_slack_http_app(settings, service, store or Store(tmp_path / "store.db"))
        with LiveServer(app) as server:
            yield Bot(server.url, slack, fake, app)


@pytest.fixture
def bot(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Bot]:
    with running_bot(tmp_path, fake_openai) as b:
        yield b


def headers_of(posts: list[Any]) -> list[Any]:
    return [p for p in posts if p.payload["blocks"][0]["type"] == "header"]


# slash command ------------------------------------------------------------------------


def test_slash_command_acks_at_once_then_posts_a_threaded_brief(bot: Bot) -> None:
    bot.fake.latency = 1.0  # the model is slow; the ack must not wait for it
    start = time.monotonic()
    r, _ = bot.command(ARTICLE)
    assert time.monotonic() - start < 0.9
    assert r.status_code == 200 and "Working on a brief" in r.json()["text"]
    assert bot.slack.posts == []

    posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 4 and bot.slack.posts)
    head, *replies = posts
    assert head.payload["channel"] == "C1" and "thread_ts" not in head.payload
    assert head.payload["blocks"][0]["text"]["text"].startswith("Brief: The city council")
    root = "1700000000.000001"
    assert [p.payload["thread_ts"] for p in replies] == [root] * len(replies)
    # One reply per part; FakeOpenAI writes no disagreements, so there is no such part.
    assert [p.payload["text"].split(":")[0] for p in replies] == [
        "Stances",
        "Open questions",
        "Sources",
    ]
    for p in posts:
        check_message(p.payload)
        assert p.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert len(bot.fake.requests) == 1


def test_slack_rate_limits_are_waited_out(bot: Bot) -> None:
    bot.slack.throttle = 1
    bot.command(ARTICLE)
    posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 4 and bot.slack.posts)
    assert bot.slack.throttled == 1
    assert len(headers_of(posts)) == 1 and bot.slack.responses == []


def test_empty_command_explains_itself(bot: Bot) -> None:
    r, _ = bot.command("   ")
    assert r.status_code == 200 and "/brief <url>" in r.json()["text"]
    assert bot.fake.requests == []


def test_model_failure_reaches_the_user_as_one_short_line(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _req: Reply(status=500, headers={"retry-after-ms": "1"})
    with running_bot(tmp_path, fake_openai) as bot:
        bot.command(ARTICLE)
        (answer,) = bot.slack.wait_for(lambda: bot.slack.responses)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        ":warning: Could not brief that: the model endpoint answered HTTP 500; try again later"
    )
    assert "\n" not in answer["text"] and "Traceback" not in answer["text"]
    assert bot.slack.posts == []


def test_a_bug_reaches_the_user_as_a_generic_line(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("internal detail /etc/passwd")

    monkeypatch.setattr(bot.app.state.bot.briefer, "brief", boom)
    bot.command(ARTICLE)
    (answer,) = bot.slack.wait_for(lambda: bot.slack.responses)
    assert answer["text"] == f":warning: Could not brief that: {INTERNAL}"


def test_not_in_channel_is_explained(bot: Bot) -> None:
    bot.slack.fail["C9"] = "not_in_channel"
    bot.command(ARTICLE, channel="C9")
    (answer,) = bot.slack.wait_for(lambda: bot.slack.responses)
    assert "not_in_channel" in answer["text"] and "Invite me" in answer["text"]


# mentions -----------------------------------------------------------------------------


def test_mention_with_a_link_briefs_the_page_in_the_thread(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with running_bot(tmp_path, fake_openai, allow_private_urls=True) as bot:
        bot.slack.pages["bridge"] = ("text/plain; charset=utf-8", ARTICLE.encode())
        link = bot.slack.page_url("bridge")
        r, _ = bot.event(mention(f"<@UBOT> please brief <{link}|the bridge story>"))
        assert r.status_code == 200
        posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 4 and bot.slack.posts)
    assert {p.payload["thread_ts"] for p in posts} == {"1699999999.000100"}
    sources = posts[-1].payload["blocks"][0]["text"]["text"]
    assert f"<{link}|" in sources
    for p in posts:
        check_message(p.payload)


def test_mention_without_a_link_asks_for_one(bot: Bot) -> None:
    bot.event(mention("<@UBOT> hello", thread_ts="1699999990.000001"))
    (post,) = bot.slack.wait_for(lambda: bot.slack.posts)
    assert post.payload["thread_ts"] == "1699999990.000001"
    assert "link to an article" in post.payload["text"]
    assert bot.fake.requests == []


def test_private_links_are_refused_with_a_short_reply(bot: Bot) -> None:
    bot.event(mention("<@UBOT> <http://127.0.0.1:9/admin>"))
    (post,) = bot.slack.wait_for(lambda: bot.slack.posts)
    assert "private or local address" in post.payload["text"]
    assert bot.fake.requests == []


# signatures, retries and replays ---------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    ["bad signature", "other secret", "stale timestamp", "future timestamp", "no headers", "body"],
)
def test_unsigned_or_badly_signed_requests_are_refused(bot: Bot, tamper: str) -> None:
    body = command_body(bot.slack, ARTICLE, trigger="9.9.zzz", channel="C1")
    headers = sign(body)
    if tamper == "bad signature":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif tamper == "other secret":
        headers = sign(body, secret="not-the-secret")
    elif tamper == "stale timestamp":
        headers = sign(body, timestamp=int(time.time()) - 10 * 60)
    elif tamper == "future timestamp":
        headers = sign(body, timestamp=int(time.time()) + 10 * 60)
    elif tamper == "no headers":
        headers = {}
    else:
        body = body.replace(b"C1", b"C2")
    r = bot.send(body, "application/x-www-form-urlencoded", headers)
    assert r.status_code == 401
    # Refused before any listener ran, so nothing can happen later either.
    assert bot.fake.requests == [] and bot.slack.posts == [] and bot.slack.responses == []


def test_a_retried_event_never_makes_a_second_brief(bot: Bot) -> None:
    event = mention("<@UBOT> <http://127.0.0.1:9/nothing-here>")
    first, body = bot.event(event, event_id="EvRetry")
    assert first.status_code == 200 and DUPLICATE not in first.headers
    retry_headers = {**sign(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    retry = bot.send(body, "application/json", retry_headers)
    assert retry.status_code == 200 and retry.headers[DUPLICATE] == "1"
    # The same event id in a fresh, validly signed request is still the same event.
    again, _ = bot.event(event, event_id="EvRetry")
    assert again.headers[DUPLICATE] == "1"
    (post,) = bot.slack.wait_for(lambda: bot.slack.posts)
    assert post.payload["thread_ts"] == event["ts"]


def test_a_replayed_command_never_makes_a_second_brief(bot: Bot) -> None:
    first, body = bot.command(ARTICLE, trigger="5.5.replay")
    assert "Working on a brief" in first.json()["text"]
    replay = bot.send(body, "application/x-www-form-urlencoded", sign(body))
    assert replay.status_code == 200 and replay.headers[DUPLICATE] == "1"
    assert replay.content == b""
    posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 4 and bot.slack.posts)
    assert len(headers_of(posts)) == 1 and len(bot.fake.requests) == 1
    # The same text with a new trigger is a new request, and gets its own brief.
    bot.command(ARTICLE, trigger="5.5.fresh")
    bot.slack.wait_for(lambda: len(headers_of(bot.slack.posts)) == 2)


def test_dedupe_survives_a_restart(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    path = tmp_path / "store.db"
    event = mention("<@UBOT> hi")
    with running_bot(tmp_path, fake_openai, store=Store(path)) as bot:
        bot.event(event, event_id="EvOnce")
        bot.slack.wait_for(lambda: bot.slack.posts)
    with running_bot(tmp_path, fake_openai, store=Store(path)) as bot:
        r, _ = bot.event(event, event_id="EvOnce", headers=None)
        assert r.headers[DUPLICATE] == "1"


def test_url_verification_is_answered(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    r = bot.send(body, "application/json")
    assert r.status_code == 200 and r.json() == {"challenge": "c-123"}


# big briefs are split, never a row across two messages -------------------------------------


def test_a_big_brief_is_split_within_slacks_limits(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    sentences = [
        f"Speaker {i} said that the plan number {i} would " + "really " * 40 + f"change item {i}."
        for i in range(60)
    ]
    article = "Big council meeting on the budget.\n\n" + " ".join(sentences)

    def responder(request: dict[str, Any]) -> Reply:
        payload = grounded_brief(request).payload
        payload["stances"] = [
            {
                "actor": f"Speaker {i}",
                "issue": "Budget <&> plan",
                "position": "Supports the plan.",
                "stance": "supports",
                "evidence": [{"quote": s, "source_id": "S1"}],
            }
            for i, s in enumerate(sentences)
        ]
        return Reply(payload)

    fake_openai.responder = responder
    with running_bot(tmp_path, fake_openai) as bot:
        bot.command(article)
        # Parts are posted in order and Sources comes last: once it is there, all are.
        bot.slack.wait_for(
            lambda: any(p.payload["text"].startswith("Sources") for p in bot.slack.posts)
        )
        posts = list(bot.slack.posts)
    stances = [p for p in posts if p.payload["text"].startswith("Stances")]
    assert len(stances) >= 2  # 60 long rows do not fit one message
    rows = [
        b["text"]["text"]
        for p in stances
        for b in p.payload["blocks"]
        if b["type"] == "section" and "Speaker" in b["text"]["text"]
    ]
    assert [r.split("*")[1] for r in rows] == [f"Speaker {i}" for i in range(60)]
    assert all("&lt;&amp;&gt;" in r for r in rows)
    for p in posts:
        check_message(p.payload)


# configuration ------------------------------------------------------------------------


def test_missing_slack_settings_are_named(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    settings = load_settings(base_url=fake_openai.base_url)
    store = Store(tmp_path / "s.db")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackBot(settings, ServiceSettings(slack_bot_token=BOT_TOKEN), store)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackBot(settings, ServiceSettings(slack_bot_token=BOT_TOKEN), store, socket_mode=True)
    bot = SlackBot(
        settings,
        ServiceSettings(slack_bot_token=BOT_TOKEN, slack_app_token="xapp-1"),
        store,
        socket_mode=True,
    )
    assert bot.app.client.base_url == "https://slack.com/api/"


def test_links_are_read_as_slack_sends_them() -> None:
    assert find_url("<@U1> see <https://a.example/x?a=1&amp;b=2|a.example>") == (
        "https://a.example/x?a=1&b=2"
    )
    assert find_url("<@U1> no link here") is None
    assert only_url(" <https://a.example/x> ") == "https://a.example/x"
    assert only_url("https://a.example/x") == "https://a.example/x"
    assert only_url("An article that cites <https://a.example/x> in passing.") is None
