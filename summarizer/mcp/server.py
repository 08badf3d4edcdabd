"""The MCP server: tools and resources over the library, for chat assistants.

    tools      brief (text or url)  daily (date)  story (story_id)  questions  kinds
    resources  summarizer://daily/latest, summarizer://daily/{date},
               summarizer://stories/{story_id}   (Markdown)

A thin adapter, as the CLI and the API are: it parses arguments, calls the library (a
brief goes through `briefing.keep.brief_and_keep` (the path every front door takes); stories and the ledger through
`summarizer.stories.ledger`, as `summarizer story` and `questions` do) and turns every error
into a tool error. Store calls run in the store's own pool (store/aio.py), off the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field

from summarizer import __version__
from summarizer.briefing.keep import Kept, brief_and_keep
from summarizer.config import Settings
from summarizer.errors import InputError, SummarizerError
from summarizer.llm.client import LLM
from summarizer.mcp import answers, reading
from summarizer.mcp.access import Access, caller
from summarizer.mcp.rounds import Job, Rounds
from summarizer.sources.ingest import Document, document_from_bytes
from summarizer.store import Store
from summarizer.store.aio import AsyncStore

if TYPE_CHECKING:
    from summarizer.llm.sampling import Sampler

log = logging.getLogger("summarizer.mcp")

INSTRUCTIONS = """\
Grounded news briefs. `brief` turns one article (its text, or a URL to fetch) into a \
summary, key points, a stance table whose every quote is checked verbatim against the \
article, and open questions. `daily`, `story` and `questions` read what the daily runs \
found: the day's brief, a story's timeline across days, and the open-question ledger. \
`kinds` lists what else a brief can be (e.g. a timeline)."""

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def create_server(
    settings: Settings,
    store: Store,
    llm: LLM,
    *,
    access: Access | None = None,
    describe: answers.Describe = answers.cli_message,
    sampling: bool = False,
) -> Served:
    """An MCP server briefing with `llm` and keeping everything in `store`.

    With `sampling` (--llm client) each brief's model calls go to the client that asked
    for the brief (`llm` is then built over llm.sampling.SamplingTransport)."""
    rules = access or Access()
    astore = AsyncStore(store)  # every store call off the event loop, in its own pool
    server: MCPServer[Any] = MCPServer(
        "summarizer",
        title="summarizer: grounded news briefs",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    state: dict[str, Any] = {}
    rounds = Rounds()

    def loader() -> Any:
        from summarizer.sources.loader import Loader

        if "loader" not in state:  # one HTTP client for every URL this server fetches
            state["loader"] = Loader.from_settings(
                settings, public_only=not rules.allow_private_urls
            )
        return state["loader"]

    # brief -------------------------------------------------------------------------

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, open_world_hint=True, idempotent_hint=False
        )
    )
    async def brief(
        ctx: Context,
        text: Annotated[
            str | None,
            Field(description="The article's full text (plain text). Give this or url."),
        ] = None,
        url: Annotated[
            str | None,
            Field(description="An article's http(s) address to fetch. Give this or text."),
        ] = None,
        kind: Annotated[
            str | None,
            Field(description="What to make: 'brief' (default) or another kind from `kinds`."),
        ] = None,
        language: Annotated[
            str | None,
            Field(description="Write the brief in this language (quotes stay in the original)."),
        ] = None,
    ) -> CallToolResult | InputRequiredResult:
        """Brief one news article: a summary, key points, a stance table (who holds which
        position, each backed by verbatim quotes checked against the article; quotes that
        cannot be found are dropped and counted) and open questions. Use it when the user
        gives an article's text or link and wants it summarized, analysed or fact-checked
        against its own words. Takes tens of seconds; the result is kept and has an id."""
        try:
            if sampling and ctx.request_state is not None:
                # A retry bringing the client model's answers to a brief waiting for them.
                job = rounds.resume(ctx.request_state, caller(), ctx.input_responses)
                return await _step(job, ctx)
            sampler = client_sampler(ctx) if sampling else None
            chosen = _check_kind(settings, kind)
            if text is not None and url is not None:
                raise InputError("give text or url, not both; one article per call")
            await ctx.report_progress(0, 3, "reading the article")
            doc = await _document(text, url, settings, rules, loader)
            await ctx.report_progress(1, 3, "briefing with the model")
            run = settings if not language else settings.model_copy(update={"language": language})
            if sampler is ROUNDS:
                job = rounds.start(
                    caller(), lambda j: answered(_brief(doc, run, astore, llm, chosen, j.sample))
                )
                return await _step(job, ctx)
            result = await answered(_brief(doc, run, astore, llm, chosen, sampler))
        except SummarizerError as exc:
            return answers.failed("brief", exc, describe)
        except Exception:
            return answers.crashed("brief")
        await ctx.report_progress(3, 3, "done")
        return result

    async def _step(job: Job, ctx: Context) -> CallToolResult | InputRequiredResult:
        step = await job.next_step()
        if isinstance(step, CallToolResult):
            rounds.done(job)
            await ctx.report_progress(3, 3, "done")
        return step

    async def answered(briefing: Awaitable[Kept]) -> CallToolResult:
        """The brief as the tool's answer: its JSON and Markdown, or a tool error."""
        try:
            kept = await briefing
        except SummarizerError as exc:
            return answers.failed("brief", exc, describe)
        except Exception:
            return answers.crashed("brief")
        from summarizer.render import render_one

        markdown = str(render_one(kept.output, "md"))
        note = " (kept from an earlier identical request)" if kept.reused else ""
        return answers.result(
            kept.output.model_dump(mode="json"),
            f"{markdown}\n\n_Brief id {kept.brief_id}{note}._\n",
            meta={"summarizer/brief_id": kept.brief_id},
        )

    # daily, story, questions, kinds ------------------------------------------------

    @server.tool(annotations=_READ_ONLY)
    async def daily(
        date: Annotated[
            str | None,
            Field(description="The day, YYYY-MM-DD; leave out for the latest daily brief."),
        ] = None,
    ) -> CallToolResult:
        """The daily brief of one day (default: the latest): the day's stories, each
        synthesized across its sources with a cross-source stance table, what outlets
        disagree on, and the open questions. Use it for "what happened today/on <day>"."""
        try:
            found = await astore.call(reading.daily, store, settings, rules, date)
        except SummarizerError as exc:
            return answers.failed("daily", exc, describe)
        except Exception:
            return answers.crashed("daily")
        from summarizer.render import render_daily

        return answers.result(found.model_dump(mode="json"), render_daily(found, "md"))  # type: ignore[arg-type]

    @server.tool(annotations=_READ_ONLY)
    async def story(
        story_id: Annotated[
            str, Field(description="A story id (st-...) from a daily brief's stories.")
        ],
    ) -> CallToolResult:
        """One story's timeline across the daily runs: each day's new developments,
        stances and stance shifts (with quotes), questions answered, then its questions.
        Use it for "what changed in the <X> story"."""
        from summarizer.stories import ledger

        try:
            data = await astore.call(reading.story, store, rules, story_id)
        except SummarizerError as exc:
            return answers.failed("story", exc, describe)
        except Exception:
            return answers.crashed("story")
        return answers.result(data, ledger.story_markdown(data))

    @server.tool(annotations=_READ_ONLY)
    async def questions(
        status: Annotated[
            Literal["open", "answered", "dropped"] | None,
            Field(description="Only questions with this status."),
        ] = None,
        story_id: Annotated[
            str | None, Field(description="Only this story's questions (st-...).")
        ] = None,
        since: Annotated[
            str | None, Field(description="Only questions first asked on or after YYYY-MM-DD.")
        ] = None,
    ) -> CallToolResult:
        """The open-question ledger: every question the daily briefs asked, with its
        status (open, answered with a verbatim quote, or dropped) and age. Use it for
        "which questions are still open" or "what got answered"."""
        from summarizer.stories import ledger

        try:
            if not rules.may_read_daily(caller()):
                raise InputError(
                    "the question ledger comes from daily runs, which this key may not read "
                    "(service setting local_briefs)"
                )
            if since is not None:
                reading.check_day(since, "since")
            found = await astore.call(
                lambda: ledger.questions(store, status=status, story=story_id, since=since)
            )
        except SummarizerError as exc:
            return answers.failed("questions", exc, describe)
        except Exception:
            return answers.crashed("questions")
        return answers.result(
            {"questions": [q.model_dump(mode="json") for q in found]},
            ledger.questions_markdown(found),
        )

    @server.tool(annotations=_READ_ONLY)
    async def kinds() -> CallToolResult:
        """The kinds of output `brief` can make (its `kind` argument), each with what it
        makes and the JSON Schema of its output."""
        try:
            views = reading.kinds(settings)
        except SummarizerError as exc:
            return answers.failed("kinds", exc, describe)
        lines = [f"- **{v.name}**: {v.description}" for v in views]
        return answers.result(
            {"kinds": [v.model_dump(mode="json") for v in views]}, "\n".join(lines) + "\n"
        )

    # resources ---------------------------------------------------------------------

    @server.resource(
        "summarizer://daily/latest",
        name="daily-latest",
        title="The latest daily brief",
        mime_type="text/markdown",
    )
    async def daily_latest() -> str:
        return await reading.daily_markdown(astore, settings, rules, None, describe)

    @server.resource(
        "summarizer://daily/{date}",
        name="daily",
        title="The daily brief of a day (YYYY-MM-DD)",
        mime_type="text/markdown",
    )
    async def daily_of(date: str) -> str:
        day = None if date == "latest" else date
        return await reading.daily_markdown(astore, settings, rules, day, describe)

    @server.resource(
        "summarizer://stories/{story_id}",
        name="story",
        title="A story's timeline across daily runs",
        mime_type="text/markdown",
    )
    async def story_of(story_id: str) -> str:
        from summarizer.stories import ledger

        try:
            data = await astore.call(reading.story, store, rules, story_id)
        except SummarizerError as exc:
            raise ResourceError(describe(exc)) from None
        return ledger.story_markdown(data)

    async def schemas() -> dict[str, dict[str, Any]]:
        if "schemas" not in state:
            state["schemas"] = {t.name: t.input_schema for t in await server.list_tools()}
        return state["schemas"]  # type: ignore[no-any-return]

    server.middleware.append(answers.argument_check(schemas))
    return Served(server, llm, state, rounds, astore)


class Served:
    """The MCP server and what it holds open (the LLM's client, the URL fetcher); closed
    once, when serving ends, in the event loop that used them."""

    def __init__(
        self,
        server: MCPServer[Any],
        llm: LLM,
        state: dict[str, Any],
        rounds: Rounds,
        astore: AsyncStore,
    ) -> None:
        self.mcp = server
        self.astore = astore
        self._llm = llm
        self._state = state
        self._rounds = rounds

    async def aclose(self) -> None:
        await self._rounds.aclose()
        loader = self._state.pop("loader", None)
        if loader is not None:
            await loader.aclose()
        await self._llm.aclose()
        await asyncio.to_thread(self.astore.close)  # calls still in flight finish first


# the work behind the tools ---------------------------------------------------------

#: The front door's name in the store's call log (`summarizer history` shows spend by it).
ORIGIN = "mcp"


async def _brief(
    doc: Document, settings: Settings, store: AsyncStore, llm: LLM, kind: str, sampler: Any
) -> Kept:
    owner = caller()
    # Over HTTP a key's own brief of the same document is returned (reuse); on stdio the
    # local user asks the model every time, as `summarizer brief` does.
    keep = brief_and_keep(
        doc, settings=settings, llm=llm, store=store, origin=ORIGIN, kind=kind, owner=owner,
        reuse=owner is not None,
    )  # fmt: skip
    if sampler is None:
        return await keep
    from summarizer.llm.sampling import sampling_with

    with sampling_with(sampler):
        return await keep


#: The session cannot carry requests back: the brief samples in rounds (rounds.py).
ROUNDS: Any = object()


def client_sampler(ctx: Context) -> Sampler:
    """Sends one sampling request to the client behind `ctx`, tied to its tool call, or
    ROUNDS when the session has no way back to the client (2026-07-28, stateless HTTP).
    SamplingUnavailable at once when the client offers no sampling (before any work)."""
    import mcp_types as types
    from mcp.shared.message import ServerMessageMetadata

    from summarizer.errors import SamplingUnavailable
    from summarizer.llm.sampling import NO_SAMPLING

    session = ctx.session
    if not session.check_client_capability(
        types.ClientCapabilities(sampling=types.SamplingCapability())
    ):
        raise SamplingUnavailable(NO_SAMPLING)
    if not session.can_send_request:
        return ROUNDS  # type: ignore[no-any-return]
    related = ctx.request_context.request_id

    async def sample(params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        # The request itself, not ServerSession.create_message: that wrapper only adds a
        # deprecation warning (sampling is deprecated in the 2026-07-28 protocol).
        result: types.CreateMessageResult = await session.send_request(
            types.CreateMessageRequest(params=params),
            types.CreateMessageResult,
            metadata=ServerMessageMetadata(related_request_id=related),
        )
        return result

    return sample


async def _document(
    text: str | None, url: str | None, settings: Settings, rules: Access, loader: Any
) -> Document:
    if url is not None:
        if not url.startswith(("http://", "https://")) or len(url) > 2048 or " " in url:
            raise InputError(
                "url: not an http(s) URL; give a full address like https://example.com/article"
            )
        doc: Document = await loader().page(url)
        return doc
    if text is None:
        raise InputError("nothing to brief; give the article's text or its url")
    if rules.max_document_chars is not None and len(text) > rules.max_document_chars:
        raise InputError(
            f"text: {len(text):,} characters is over the {rules.max_document_chars:,}-character "
            "limit; split the article"
        )
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # JSON can carry lone surrogates no UTF-8 text holds
        raise InputError("text: is not valid Unicode text; send UTF-8 text") from None
    return document_from_bytes(data, "text", max_bytes=settings.max_input_bytes)


def _check_kind(settings: Settings, name: str | None) -> str:
    from summarizer.core.kinds import registry_for

    chosen = name or settings.kind
    registry = registry_for(settings)
    if chosen not in registry or registry.get(chosen).takes != "article":
        known = ", ".join(k.name for k in registry if k.takes == "article")
        raise InputError(f"kind {chosen!r}: unknown; use one of {known} (see the kinds tool)")
    return chosen
