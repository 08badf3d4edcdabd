"""The MCP front door, driven by the SDK's own client: in process against the loopback
OpenAI-compatible server, and as a real `summarizer mcp` subprocess over stdio, offline
on the seed recordings."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

from summarizer.cli import app as cli
from summarizer.config import load_settings
from summarizer.core.schemas import Brief, DailyBrief, LedgerQuestion
from summarizer.mcp.model import build_llm
from summarizer.mcp.server import Served, create_server
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Quirks, Reply, grounded_brief
from tests.conftest import ROOT, SEED_ARTICLE, SEEDS

ARTICLE = (
    "The city council voted 7-2 on Tuesday to close the Elm Street bridge for repairs.\n\n"
    "Mayor Ana Ruiz said the closure was the only responsible choice after inspectors found "
    "corroded supports."
)
LLM_KEY = "sk-test-LLMKEY-0123456789"


def call(target: Any, steps: Any, **client: Any) -> Any:
    """Run `steps(client)` with the SDK's client against a server in process (a `Served`,
    closed afterwards in the same event loop) or a subprocess (StdioServerParameters)."""

    async def main() -> Any:
        served = target if isinstance(target, Served) else None
        try:
            async with Client(served.mcp if served else target, **client) as c:
                return await steps(c)
        finally:
            if served is not None:
                await served.aclose()

    return anyio.run(main)


@pytest.fixture
def served(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[tuple[Any, Store, FakeOpenAI]]:
    settings, llm = build_llm(
        load_settings(None, base_url=fake_openai.base_url, api_key=LLM_KEY, http_retries=0),
        "endpoint",
    )
    store = Store(tmp_path / "store.db")
    yield create_server(settings, store, llm), store, fake_openai


def text_of(result: Any) -> str:
    return "".join(c.text for c in result.content)


# tools -----------------------------------------------------------------------------


def test_tools_are_listed_with_schemas_and_descriptions(served: Any) -> None:
    server, _, _ = served
    tools = call(server, lambda c: c.list_tools()).tools
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"brief", "daily", "story", "questions", "kinds"}
    brief = by_name["brief"]
    assert set(brief.input_schema["properties"]) == {"text", "url", "kind", "language"}
    assert "verbatim quotes" in (brief.description or "")
    assert by_name["questions"].input_schema["properties"]["status"]["anyOf"][0]["enum"] == [
        "open", "answered", "dropped",
    ]  # fmt: skip
    assert by_name["story"].input_schema["required"] == ["story_id"]
    assert by_name["daily"].annotations.read_only_hint is True


def test_brief_returns_the_api_json_and_markdown_and_is_kept(served: Any) -> None:
    server, store, _ = served
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(p: float, total: float | None, message: str | None) -> None:
        seen.append((p, total, message))

    result = call(
        server, lambda c: c.call_tool("brief", {"text": ARTICLE}, progress_callback=progress)
    )
    assert not result.is_error
    brief = Brief.model_validate(result.structured_content)  # the API's schema, exactly
    assert brief.stances[0].evidence[0].quote in ARTICLE
    assert brief.provenance.llm_calls == 1 and brief.provenance.cost_usd is not None
    text = text_of(result)
    assert text.startswith(f"# {brief.title}") and "Brief id" in text
    brief_id = result.meta["summarizer/brief_id"]
    kind, body = store.get_brief(brief_id)
    assert kind == "brief" and Brief.model_validate_json(body) == brief
    assert [origin for origin, *_ in store.spend()] == ["mcp"]  # its calls, with their cost
    assert seen[0][0] == 0 and seen[-1] == (3, 3, "done")


def test_brief_kind_and_language_reach_the_model(served: Any) -> None:
    server, _, fake = served

    async def steps(c: Client) -> tuple[Any, Any]:
        brief = await c.call_tool("brief", {"text": ARTICLE, "language": "German"})
        return brief, await c.call_tool("kinds", {})

    result, kinds = call(server, steps)
    assert not result.is_error, text_of(result)
    assert "German" in json.dumps(fake.requests[-1]["messages"])
    names = [k["name"] for k in kinds.structured_content["kinds"]]
    assert "brief" in names and "timeline" in names
    assert all("json_schema" in k for k in kinds.structured_content["kinds"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"text": "   \n"}, "error: text: is empty; give an article with some text in it"),
        ({}, "error: nothing to brief; give the article's text or its url"),
        ({"text": ARTICLE, "url": "https://example.com/a"}, "error: give text or url, not both"),
        ({"text": ARTICLE, "kind": "poem"}, "error: kind 'poem': unknown; use one of"),
        ({"url": "ftp://example.com/a"}, "error: url: not an http(s) URL"),
        # Arguments off the input schema: one line naming the argument, not pydantic's report.
        (
            {"text": ["a"]},
            "error: text: ['a'] is not of type 'string'; see the tool's input schema",
        ),
    ],
)
def test_bad_input_is_a_tool_error_and_the_server_goes_on(
    served: Any, args: dict[str, Any], says: str
) -> None:
    server, _, fake = served

    async def steps(c: Client) -> tuple[Any, Any]:
        return await c.call_tool("brief", args), await c.call_tool("brief", {"text": ARTICLE})

    bad, good = call(server, steps)
    assert bad.is_error and text_of(bad).startswith(says)
    assert "\n" not in text_of(bad) and "Traceback" not in text_of(bad)
    assert not good.is_error and fake.requests  # the next call was served, and only it paid
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("reply", "quirks", "says"),
    [
        (Reply(status=500, raw_body='{"error": {"message": "upstream exploded"}}'), None,
         "model endpoint answered HTTP 500"),
        (None, Quirks(refuse="I cannot help with that."), "refused to answer"),
        (None, Quirks(truncate="length"), "cut off at max_tokens"),
    ],
)  # fmt: skip
def test_model_faults_are_tool_errors_with_the_cli_line(
    served: Any, reply: Reply | None, quirks: Quirks | None, says: str
) -> None:
    server, _, fake = served
    if reply is not None:
        fake.queue(reply)
    if quirks is not None:
        fake.quirks = quirks

    async def steps(c: Client) -> tuple[Any, Any]:
        first = await c.call_tool("brief", {"text": ARTICLE})
        fake.quirks = Quirks()
        return first, await c.call_tool("brief", {"text": ARTICLE})

    result, after = call(server, steps)
    assert result.is_error and says in text_of(result), text_of(result)
    assert LLM_KEY not in text_of(result) and "Traceback" not in text_of(result)
    assert not after.is_error


def test_a_private_url_is_refused_over_http_rules(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    from summarizer.mcp.access import Access

    settings, llm = build_llm(
        load_settings(None, base_url=fake_openai.base_url, api_key=LLM_KEY), "endpoint"
    )
    server = create_server(
        settings, Store(tmp_path / "s.db"), llm, access=Access(allow_private_urls=False)
    )
    result = call(server, lambda c: c.call_tool("brief", {"url": f"{fake_openai.base_url}/x"}))
    assert result.is_error and "127.0.0.1" in text_of(result), text_of(result)
    assert fake_openai.requests == []


class SlowFirstAnswer:
    """A responder whose first answer keeps the brief waiting; it says when it was asked."""

    def __init__(self) -> None:
        self.asked = threading.Event()

    def __call__(self, request: dict[str, Any]) -> Reply:
        if not self.asked.is_set():
            self.asked.set()
            return Reply(delay=30)
        return grounded_brief(request)


def cancel_while_briefing(model: SlowFirstAnswer, steps_after: Any) -> Any:
    """Steps that start a brief, cancel it once the model has the request, then run
    `steps_after`."""

    async def steps(c: Client) -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: c.call_tool("brief", {"text": ARTICLE}))
            await anyio.to_thread.run_sync(model.asked.wait)
            tg.cancel_scope.cancel()
        return await steps_after(c)

    return steps


def test_a_cancelled_brief_stops_and_the_server_serves_the_next_call(served: Any) -> None:
    server, store, fake = served
    fake.responder = model = SlowFirstAnswer()

    after = call(server, cancel_while_briefing(model, lambda c: c.call_tool("kinds", {})))
    assert not after.is_error
    assert store.list_briefs(10) == []  # nothing kept of the cancelled brief


# daily, stories, questions and resources on the seed demo (offline) -----------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two daily runs of the seed demo, replayed from the seed recordings."""
    out = tmp_path_factory.mktemp("demo")
    for folder, day in (("daily", "2026-11-25"), ("daily-2", "2026-11-26")):
        r = CliRunner().invoke(
            cli,
            ["daily", "-s", str(SEEDS / folder), "--replay", str(SEEDS / "recordings"),
             "--out-dir", str(out), "--store", str(out / "demo.db"), "--date", day],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    return out / "demo.db"


@pytest.fixture
def demo(demo_store: Path) -> Any:
    settings, llm = build_llm(
        load_settings(None, replay_dir=SEEDS / "recordings", store_path=str(demo_store)),
        "endpoint",
    )
    return create_server(settings, Store(demo_store), llm)


async def haftar_id(c: Client) -> str:
    daily = DailyBrief.model_validate((await c.call_tool("daily", {})).structured_content)
    return next(s.story.story_id for s in daily.stories if s.story and "Haftar" in s.title)


def test_daily_story_and_questions_from_the_store(demo: Any) -> None:
    async def steps(c: Client) -> dict[str, Any]:
        return {
            "latest": await c.call_tool("daily", {}),
            "day1": await c.call_tool("daily", {"date": "2026-11-25"}),
            "none": await c.call_tool("daily", {"date": "2020-01-01"}),
            "bad": await c.call_tool("daily", {"date": "yesterday"}),
            "open": await c.call_tool("questions", {"status": "open"}),
            "answered": await c.call_tool("questions", {"status": "answered"}),
            "story": await c.call_tool("story", {"story_id": await haftar_id(c)}),
        }

    got = call(demo, steps)
    latest = DailyBrief.model_validate(got["latest"].structured_content)
    assert str(latest.date) == "2026-11-26"
    assert str(DailyBrief.model_validate(got["day1"].structured_content).date) == "2026-11-25"
    assert text_of(got["latest"]).startswith("# Daily brief — 2026-11-26")
    assert got["none"].is_error and "date 2020-01-01: no daily brief" in text_of(got["none"])
    assert got["bad"].is_error and "not a date; use YYYY-MM-DD" in text_of(got["bad"])
    answered = [
        LedgerQuestion.model_validate(q) for q in got["answered"].structured_content["questions"]
    ]
    assert [q.question for q in answered] == ["When will the visit take place: this month or next?"]
    assert answered[0].quote and "answered" in text_of(got["answered"])
    assert all(q["status"] == "open" for q in got["open"].structured_content["questions"])

    story = got["story"]
    assert [d["day"] for d in story.structured_content["days"]] == ["2026-11-25", "2026-11-26"]
    assert "Greece: opposes (2026-11-25) -> mixed (2026-11-26)" in text_of(story)


def test_resources_are_markdown_and_listed_with_templates(demo: Any) -> None:
    async def steps(c: Client) -> Any:
        listed = await c.list_resources()
        templates = await c.list_resource_templates()
        latest = await c.read_resource("summarizer://daily/latest")
        day1 = await c.read_resource("summarizer://daily/2026-11-25")
        sid = await haftar_id(c)
        story = await c.read_resource(f"summarizer://stories/{sid}")
        return listed, templates, latest, day1, story, sid

    listed, templates, latest, day1, story, sid = call(demo, steps)
    assert [str(r.uri) for r in listed.resources] == ["summarizer://daily/latest"]
    assert {t.uri_template for t in templates.resource_templates} == {
        "summarizer://daily/{date}", "summarizer://stories/{story_id}",
    }  # fmt: skip
    assert latest.contents[0].mime_type == "text/markdown"
    assert latest.contents[0].text.startswith("# Daily brief — 2026-11-26")
    assert day1.contents[0].text.startswith("# Daily brief — 2026-11-25")
    assert story.contents[0].text.startswith(f"# Story {sid}")


def test_a_missing_story_is_a_tool_error(demo: Any) -> None:
    result = call(demo, lambda c: c.call_tool("story", {"story_id": "st-0000000000"}))
    assert result.is_error
    assert text_of(result) == (
        "error: story st-0000000000: not in the store; story ids are in a daily brief's stories"
    )


# a real `summarizer mcp` over stdio -------------------------------------------------


def stdio(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    base["PYTHONPATH"] = str(ROOT)
    return StdioServerParameters(
        command=sys.executable, args=["-m", "summarizer", "mcp", *args], env={**base, **(env or {})},
        cwd=str(ROOT),
    )  # fmt: skip


def test_stdio_subprocess_briefs_offline_from_the_seed_recordings(tmp_path: Path) -> None:
    """The docs' offline try: `summarizer mcp --replay seeds/recordings`, over stdio."""
    params = stdio("--replay", str(SEEDS / "recordings"), "--store", str(tmp_path / "s.db"))

    async def steps(c: Client) -> Any:
        tools = await c.list_tools()
        bad = await c.call_tool("brief", {"text": ""})
        good = await c.call_tool("brief", {"text": SEED_ARTICLE.read_text()})
        return tools, bad, good

    tools, bad, good = call(params, steps)
    assert len(tools.tools) == 5
    assert bad.is_error and text_of(bad).startswith("error: text: is empty")
    assert not good.is_error, text_of(good)
    brief = Brief.model_validate(good.structured_content)
    assert brief.provenance.replayed and brief.provenance.fixture
    assert "Not model output" in text_of(good)
    assert Store(tmp_path / "s.db").list_briefs(5)[0].kind == "brief"


def test_stdio_without_a_model_says_what_to_set(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["mcp", "--store", str(tmp_path / "s.db")])
    assert r.exit_code == 3
    assert "--llm client" in r.output and "--replay seeds/recordings" in r.output
    r = CliRunner().invoke(cli, ["mcp", "--transport", "sse"])
    assert r.exit_code == 3 and "--transport sse: unknown; use stdio or http" in r.output


def test_stdio_cancel_then_a_brief(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """Over a real stdio connection: a brief cancelled while with the model, then another."""
    fake_openai.responder = model = SlowFirstAnswer()
    params = stdio(
        "--store", str(tmp_path / "s.db"), "--retries", "0",
        env={"OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": LLM_KEY},
    )  # fmt: skip
    result = call(
        params, cancel_while_briefing(model, lambda c: c.call_tool("brief", {"text": ARTICLE}))
    )
    assert not result.is_error, text_of(result)
    assert len(Store(tmp_path / "s.db").list_briefs(5)) == 1  # the second brief only
    assert len(fake_openai.requests) == 2
