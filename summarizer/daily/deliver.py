"""Posting a daily brief to a Slack incoming webhook, at most once per day.

The delivery is claimed in the store before the first message goes out. If the first
post fails, the claim is released and a later run may try again; once anything has been
posted, the day counts as delivered, because a second copy in the channel is worse for
the reader than a missing tail (which the run reports). `--force` sends again.

Deliveries are keyed by day and destination: two daily configs with two webhooks on one
store each deliver once. The destination is named by a hash of the webhook URL, because the
URL itself is a secret (its path is the credential); neither is ever printed or logged.

A webhook cannot start threads, so the parts follow the header as plain messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

from summarizer.core.schemas import DailyBrief
from summarizer.store import Store

# Before deliveries were keyed by destination, every webhook shared this one key. A day
# claimed under it is taken as delivered to any webhook, so an upgrade never posts twice.
LEGACY_TARGET = "slack-webhook"


def target(url: str) -> str:
    """The store's key for a webhook: a hash that names it without revealing it."""
    digest = hashlib.sha256(b"summarizer slack webhook\0" + url.strip().encode()).hexdigest()
    return f"slack-webhook:{digest[:32]}"


def _safe(url: str) -> str:
    # The path of a webhook URL is its secret: name only the host in messages.
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[2] or "the webhook"


async def deliver_webhook(
    daily: DailyBrief,
    url: str,
    *,
    store: Store,
    day: str,
    brief_id: str,
    force: bool,
    story_url: Callable[[str], str] | None = None,
) -> tuple[str, str | None]:
    """Returns (what happened, a warning or None)."""
    import httpx2

    from summarizer.render.slack import to_slack_messages

    key = target(url)
    previous = None if force else store.delivery_status(day, LEGACY_TARGET)
    if previous is None:
        previous = store.claim_delivery(day, key, force=force)
    if previous == "sent":
        return f"already delivered for {day}; not sent again (use --force to resend)", None
    if previous == "pending":
        return "", (
            f"delivery for {day} was started by a run that did not finish; it may have been "
            "posted, so it is not sent again (check the channel, then use --force to resend)"
        )
    messages = to_slack_messages(daily, story_url=story_url)
    sent = 0
    try:
        async with httpx2.AsyncClient(timeout=20.0) as client:
            for message in messages:
                response = await client.post(url, json=message)
                if response.status_code >= 400:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                sent += 1
    except (httpx2.HTTPError, RuntimeError) as exc:
        from summarizer.plumbing import redact

        # The path is the webhook's credential, and an error text may repeat it alone.
        path = urlsplit(url).path
        reason = redact.text(str(exc) or type(exc).__name__, [url, path if len(path) > 8 else None])
        if sent == 0:
            store.release_delivery(day, key)
            return (
                "",
                f"delivery to {_safe(url)} failed ({reason}); nothing was posted, a re-run will retry",
            )
        store.mark_delivered(day, key, brief_id)
        return "", (
            f"delivery to {_safe(url)} stopped after {sent} of {len(messages)} messages ({reason}); "
            "not retried, to avoid posting twice"
        )
    store.mark_delivered(day, key, brief_id)
    return f"delivered {sent} message(s) to {_safe(url)}", None
