"""Posting a daily brief to a Slack incoming webhook, at most once per day.

The delivery is claimed in the store before the first message goes out. If the first
post fails, the claim is released and a later run may try again; once anything has been
posted, the day counts as delivered, because a second copy in the channel is worse for
the reader than a missing tail (which the run reports). `--force` sends again.

A webhook cannot start threads, so the parts follow the header as plain messages.
"""

from __future__ import annotations

from summarizer.schemas import DailyBrief
from summarizer.store import Store

TARGET = "slack-webhook"


def _safe(url: str) -> str:
    # The path of a webhook URL is its secret: name only the host in messages.
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or "the webhook"


async def deliver_webhook(
    daily: DailyBrief, url: str, *, store: Store, day: str, brief_id: str, force: bool
) -> tuple[str, str | None]:
    """Returns (what happened, a warning or None)."""
    import httpx2

    from summarizer.render.slack import to_slack_messages

    previous = store.claim_delivery(day, TARGET, force=force)
    if previous == "sent":
        return f"already delivered for {day}; not sent again (use --force to resend)", None
    if previous == "pending":
        return "", (
            f"delivery for {day} was started by a run that did not finish; it may have been "
            "posted, so it is not sent again (check the channel, then use --force to resend)"
        )
    messages = to_slack_messages(daily)
    sent = 0
    try:
        async with httpx2.AsyncClient(timeout=20.0) as client:
            for message in messages:
                response = await client.post(url, json=message)
                if response.status_code >= 400:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                sent += 1
    except (httpx2.HTTPError, RuntimeError) as exc:
        reason = str(exc) or type(exc).__name__
        if sent == 0:
            store.release_delivery(day, TARGET)
            return (
                "",
                f"delivery to {_safe(url)} failed ({reason}); nothing was posted, a re-run will retry",
            )
        store.mark_delivered(day, TARGET, brief_id)
        return "", (
            f"delivery to {_safe(url)} stopped after {sent} of {len(messages)} messages ({reason}); "
            "not retried, to avoid posting twice"
        )
    store.mark_delivered(day, TARGET, brief_id)
    return f"delivered {sent} message(s) to {_safe(url)}", None
