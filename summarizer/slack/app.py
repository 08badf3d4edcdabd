"""The Slack bot: `/brief <url or text>` and @-mentions with a URL, over HTTP or Socket Mode.

Handlers ack at once (Slack wants an answer within 3 seconds), then brief in the
background through the same `Briefer` as the HTTP API, which calls the library function
the CLI calls, and post the result as Block Kit (render/slack.py): a header message, then
one threaded reply per part. Requests are signature-checked by bolt; repeats are dropped
by dedupe.py. A failure reaches the user as one short line, never a stack trace and
never what the model endpoint answered (that goes to the log, redacted: answers.py).
Bodies over `slack_max_body_bytes` are refused while they stream in, before bolt reads
them to check the signature (see SLACK_MAX_BODY_BYTES for why that limit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from summarizer.config import Settings
from summarizer.errors import ConfigError, SummarizerError
from summarizer.render.slack import escape
from summarizer.serving.answers import log_failure, public_message
from summarizer.serving.jobs import Briefer
from summarizer.serving.limits import BodySizeLimit, to_document
from summarizer.serving.logs import redact_access_log
from summarizer.serving.metrics import Metrics
from summarizer.serving.settings import ServiceSettings
from summarizer.slack.dedupe import dedupe_middleware
from summarizer.store import Store

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("summarizer.slack")

EVENTS_PATH = "/slack/events"  # bolt's default path for Events API and slash commands
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")
_BARE_URL = re.compile(r"^https?://\S+$")
INTERNAL = "something went wrong on our side; the operator's log has the details"

Say = Callable[[str], Awaitable[None]]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def find_url(text: str) -> str | None:
    """The first link in a message as Slack sends it (<https://a.b/c|a.b/c>), or None."""
    m = _LINK.search(text)
    return _unescape(m.group(1)) if m else None


def only_url(text: str) -> str | None:
    """The URL when the whole text is one link (escaped by Slack or bare), else None: a
    pasted article that happens to contain a link is briefed as text."""
    text = text.strip()
    m = _LINK.fullmatch(text)
    if m:
        return _unescape(m.group(1))
    return text if _BARE_URL.match(text) else None


def slack_messages(output: Any) -> list[dict[str, Any]]:
    """Block Kit messages for any kind's output (render.render_one's slack format)."""
    from summarizer.render import render_one

    messages = render_one(output, "slack")
    assert isinstance(messages, list)
    return messages


class SlackBot:
    """The bolt app and what its handlers need: one Briefer, one Web API client."""

    def __init__(
        self,
        settings: Settings,
        service_settings: ServiceSettings,
        store: Store,
        *,
        socket_mode: bool = False,
        briefer: Briefer | None = None,
    ) -> None:
        s = service_settings
        if s.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set; give the bot's xoxb- token")
        if not socket_mode and s.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set; copy it from the Slack app's Basic Information"
            )
        if socket_mode and s.slack_app_token is None:
            raise ConfigError("SLACK_APP_TOKEN is not set; Socket Mode needs the app's xapp- token")
        self.service_settings = s
        from summarizer.core.kinds import LiveKinds

        # As in the API: loaded now, reloaded off the event loop, the last good one kept.
        self.kinds = LiveKinds(settings)
        self.briefer = briefer or Briefer(
            settings, store, Metrics(), allow_private_urls=s.allow_private_urls
        )
        from summarizer.store.tasks import queue_for

        # PostgreSQL: briefs are run by `summarizer worker`s, so a bot replica that stops
        # loses none, and any number of replicas share the work.
        self.queue = queue_for(store)
        self.app = AsyncApp(
            token=s.slack_bot_token.get_secret_value(),
            signing_secret=s.slack_signing_secret.get_secret_value()
            if s.slack_signing_secret
            else "",
            # Socket Mode requests come over an authenticated websocket, not signed HTTP.
            request_verification_enabled=not socket_mode,
            name="summarizer",
        )
        # Bolt builds its Web API client from the token (handing it one instead makes it
        # warn whenever SLACK_BOT_TOKEN is set); each request's client copies these two.
        self.app.client.base_url = s.slack_api_url or AsyncWebClient.BASE_URL
        # Slack answers 429 with Retry-After when a channel gets messages too fast.
        self.app.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
        self.app.middleware(dedupe_middleware(self.briefer.astore))
        self.app.command(s.slack_command)(self._on_command)
        self.app.event("app_mention")(self._on_mention)

    # handlers: ack, then work in the background -----------------------------------------

    async def _on_command(
        self, ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        text = (command.get("text") or "").strip()
        name = self.service_settings.slack_command
        if not text:
            await ack(
                text=f"Give me something to brief: `{name} <url>` or `{name} <article text>`"
                f" (`{name} timeline <url>` for another kind).",
                response_type="ephemeral",
            )
            return
        await ack(
            text="Working on a brief; it will be posted in this channel.",
            response_type="ephemeral",
        )
        kind, text = await self._kind_and_text(text)
        if self.queue is not None:
            await self.queue.defer_slack(
                text=text, channel=command["channel_id"], kind=kind,
                response_url=command.get("response_url"),
            )  # fmt: skip
            return

        async def tell(message: str) -> None:
            await respond(text=message, response_type="ephemeral", replace_original=False)

        self.briefer.spawn(
            self._brief_and_post(
                text, client=client, channel=command["channel_id"], thread_ts=None, tell=tell,
                kind=kind,
            )
        )  # fmt: skip

    async def _kind_and_text(self, text: str) -> tuple[str | None, str]:
        """`/brief timeline <url>`: a first word that names a kind picks it."""
        first, _, rest = text.partition(" ")
        registry = await self.kinds.current()
        if rest.strip() and first in registry and registry.get(first).takes == "article":
            return first, rest.strip()
        return None, text

    async def _on_mention(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        # Events are acked by bolt before this runs.
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]

        async def tell(message: str) -> None:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)

        url = find_url(event.get("text", ""))
        if url is None:
            await tell("Mention me with a link to an article and I will brief it here.")
            return
        # "@bot timeline <link>": the word right after the mention may name a kind.
        after = re.sub(r"^\s*<@[^>]+>\s*", "", event.get("text", ""))
        kind, _ = await self._kind_and_text(after)
        if self.queue is not None:
            await self.queue.defer_slack(text=url, channel=channel, thread_ts=thread_ts, kind=kind)
            return
        self.briefer.spawn(
            self._brief_and_post(
                url, client=client, channel=channel, thread_ts=thread_ts, tell=tell, kind=kind
            )
        )

    # the work -------------------------------------------------------------------------

    async def _brief_and_post(
        self,
        text: str,
        *,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        tell: Say,
        kind: str | None = None,
    ) -> None:
        try:
            url = only_url(text)
            if url is not None:
                doc = await self.briefer.load_url(url)
            else:
                doc = to_document(
                    text,
                    index=0,
                    title=None,
                    url=None,
                    max_chars=self.service_settings.max_document_chars,
                    max_bytes=self.briefer.settings.max_input_bytes,
                )
            _, brief = await self.briefer.brief(doc, "slack", kind)
        except SummarizerError as exc:  # ApiError is one too (errors.py)
            log_failure(exc, "Slack brief")
            message = public_message(exc)
            await self._safely(tell, f":warning: Could not brief that: {escape(message)}")
            return
        except Exception:
            log.exception("Slack brief failed")
            await self._safely(tell, f":warning: Could not brief that: {INTERNAL}")
            return
        try:
            await post_messages(client, channel, thread_ts, slack_messages(brief))
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            log.warning("posting a brief to %s failed: %s", channel, error)
            hint = " Invite me to the channel first." if error == "not_in_channel" else ""
            await self._safely(tell, f":warning: Could not post the brief ({error}).{hint}")

    async def run_queued(
        self,
        text: str,
        channel: str,
        thread_ts: str | None,
        response_url: str | None,
        kind: str | None = None,
    ) -> None:
        """A brief taken from the queue by a worker: the same work as in-process, with the
        user told through the command's response URL or in the mention's thread."""
        from slack_bolt.context.respond.async_respond import AsyncRespond

        client = self.app.client
        respond = AsyncRespond(response_url=response_url) if response_url else None

        async def tell(message: str) -> None:
            if respond is not None:
                await respond(text=message, response_type="ephemeral", replace_original=False)
            else:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)

        await self._brief_and_post(
            text, client=client, channel=channel, thread_ts=thread_ts, tell=tell, kind=kind
        )

    async def start(self) -> None:
        self.kinds.watch()  # the library's registry_for reads the bot's, never loads on the loop
        if self.queue is not None:
            await self.queue.open()

    @staticmethod
    async def _safely(tell: Say, message: str) -> None:
        try:
            await tell(message)
        except Exception:  # the user cannot be told; the log is the last resort
            log.exception("could not tell the Slack user: %s", message)

    async def aclose(self) -> None:
        await self.briefer.aclose()
        if self.queue is not None:
            await self.queue.close()
        self.kinds.unwatch()


async def post_messages(
    client: AsyncWebClient, channel: str, thread_ts: str | None, messages: list[dict[str, Any]]
) -> str:
    """Post the header message, then the rest in its thread. Returns the thread's ts."""
    first, *rest = messages
    answer = await client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **first
    )
    root = thread_ts or str(answer["ts"])
    for message in rest:
        await client.chat_postMessage(
            channel=channel, thread_ts=root, unfurl_links=False, unfurl_media=False, **message
        )
    return root


def create_slack_http_app(
    settings: Settings, service_settings: ServiceSettings, store: Store
) -> FastAPI:
    """An ASGI app serving the bot on bolt's default path, plus /healthz."""
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    bot = SlackBot(settings, service_settings, store)
    handler = AsyncSlackRequestHandler(bot.app)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        redact_access_log()
        await bot.start()
        try:
            yield
        finally:
            await bot.aclose()

    api = FastAPI(title="summarizer Slack bot", lifespan=lifespan, openapi_url=None, docs_url=None)
    api.state.bot = bot
    # Outermost: an oversize body is refused while it streams in, signed or not, before
    # bolt buffers it whole to verify the signature.
    api.add_middleware(
        BodySizeLimit, max_bytes=service_settings.slack_max_body_bytes, paths=(EVENTS_PATH,)
    )

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    # A plain Starlette route: bolt reads the raw body itself (the signature covers it),
    # so FastAPI must not parse or validate anything here.
    api.router.add_route(EVENTS_PATH, events, methods=["POST"])

    @api.get("/healthz")
    async def healthz() -> dict[str, Any]:
        problem = bot.kinds.problem  # a broken template: still serving, with the last good
        if problem is None:
            return {"status": "ok"}
        return {"status": "degraded", "details": {"kinds": problem}}

    @api.get("/metrics")
    async def metrics() -> Response:
        from summarizer.serving.metrics import CONTENT_TYPE

        return Response(bot.briefer.metrics.exposition(), media_type=CONTENT_TYPE)

    return api


async def run_socket_mode(
    settings: Settings, service_settings: ServiceSettings, store: Store
) -> None:
    """Connect to Slack over a websocket (no public URL needed) and serve until stopped."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    bot = SlackBot(settings, service_settings, store, socket_mode=True)
    assert service_settings.slack_app_token is not None  # checked by SlackBot
    handler = AsyncSocketModeHandler(bot.app, service_settings.slack_app_token.get_secret_value())
    try:
        await bot.start()
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await bot.aclose()
