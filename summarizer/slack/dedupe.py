"""Each Slack request is acted on at most once.

Slack re-sends an event it thinks went unanswered (with X-Slack-Retry-Num), and a signed
request can be replayed for as long as its timestamp is fresh. Either way the copy carries
the same identity as the original: the Events API's `event_id`, or for a slash command its
team, channel, user, text and one-time `trigger_id`. The first copy claims that identity in
the store (`claim_event`, shared across restarts); every later copy is acked and dropped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from summarizer.store.aio import AsyncStore

log = logging.getLogger("summarizer.slack")

SOURCE = "slack"
DUPLICATE_HEADER = "x-summarizer-duplicate"


def request_key(body: dict[str, Any]) -> str | None:
    """The identity of a request for de-duplication, or None for kinds not de-duplicated."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        parts = [
            str(body.get(k, ""))
            for k in ("team_id", "channel_id", "user_id", "command", "text", "trigger_id")
        ]
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
        return f"command:{digest}"
    return None


def dedupe_middleware(
    astore: AsyncStore,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt global middleware. It runs after signature verification, so an unsigned
    request never claims an id."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        key = request_key(req.body)
        if key is not None and not await astore.claim_event(SOURCE, key):
            retry = req.headers.get("x-slack-retry-num", ["0"])[0]
            log.info("ignored a repeated Slack request %s (retry %s)", key, retry)
            # Acked, so Slack stops retrying; the header tells a reader of logs or tests.
            return BoltResponse(status=200, body="", headers={DUPLICATE_HEADER: "1"})
        return await next()

    return middleware
