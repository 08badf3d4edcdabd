"""Every front door takes a kind (API, Slack bot), the generic renderer keeps each
format's rules for any kind, and instructor's attempt arithmetic is pinned."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest

from summarizer.config import load_settings
from summarizer.core import kinds
from summarizer.core.pipeline import brief_documents
from summarizer.core.schemas import Provenance, Source, Timeline, TimelineContent
from summarizer.errors import ModelOutputError
from summarizer.llm import attempts
from summarizer.render import render, render_one
from summarizer.sources.ingest import Document
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.slack_fake import check_message
from tests.test_kinds import ARTICLE, QUOTE, _timeline
from tests.test_service import serving
from tests.test_slack import running_bot


@pytest.fixture(autouse=True)
def _fresh_registry() -> Any:
    kinds.clear_cache()
    yield
    kinds.clear_cache()


# the HTTP API -------------------------------------------------------------------------------


def test_api_makes_a_timeline_and_lists_kinds(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with serving(tmp_path, fake_openai) as api:
        listed = api.get("/v1/kinds")
        assert listed.status_code == 200
        by_name = {k["name"]: k for k in listed.json()}
        assert set(by_name) == {"brief", "timeline"}  # story takes briefs, not documents
        assert "events" in by_name["timeline"]["json_schema"]["properties"]
        assert api.get("/v1/kinds", key=None).status_code == 401

        fake_openai.queue(Reply(_timeline()))
        r = api.post({"documents": [{"text": ARTICLE}], "kind": "timeline"})
        assert r.status_code == 200, r.text
        assert r.json()["events"][0]["evidence"]["quote"] == QUOTE
        assert r.json()["provenance"]["kind"] == "timeline"
        brief_id = r.headers["x-brief-id"]
        html = api.get(f"/v1/briefs/{brief_id}?format=html")
        assert html.headers["content-type"].startswith("text/html") and QUOTE in html.text
        md = api.get(f"/v1/briefs/{brief_id}?format=md")
        assert md.headers["content-type"].startswith("text/markdown")

        bad = api.post({"documents": [{"text": ARTICLE}], "kind": "nope"})
        assert bad.status_code == 422 and "kind: 'nope' unknown" in bad.json()["error"]["message"]
        story = api.post({"documents": [{"text": ARTICLE}], "kind": "story"})
        assert story.status_code == 422


def test_api_formats_come_from_the_one_table() -> None:
    from summarizer.render.formats import NAMES
    from summarizer.service.app import OutputFormat

    assert set(get_args(OutputFormat)) == set(NAMES)


# the Slack bot ------------------------------------------------------------------------------


def test_slash_command_with_a_kind_posts_that_kind(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    with running_bot(tmp_path, fake_openai) as bot:
        fake_openai.queue(Reply(_timeline()))
        r, _ = bot.command(f"timeline {ARTICLE}")
        assert r.status_code == 200
        posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 3 and bot.slack.posts)
        assert fake_openai.requests[0]["tools"][0]["function"]["name"] == "TimelineContent"
        # The kind's name was taken off the text: the article starts with "The city council".
        assert "timeline The city" not in fake_openai.requests[0]["messages"][1]["content"]
        text = json.dumps([p.payload for p in posts], ensure_ascii=False)
        assert QUOTE in text and "Events" in text
        for p in posts:
            check_message(p.payload)


# the generic renderer -----------------------------------------------------------------------


def _big_timeline(n: int, quote: str) -> Any:
    content = TimelineContent.model_validate(
        {
            "title": "A <b>long</b> & winding <!channel> story",
            "events": [
                {
                    "date": f"day {i}",
                    "what_happened": "x" * 900 + " <script>alert(1)</script>",
                    "evidence": {"quote": quote, "source_id": "S1"},
                }
                for i in range(n)
            ],
        }
    )
    return Timeline(
        **content.model_dump(),
        sources=[Source(id="S1", title="<i>t</i>", url="https://e.com/a?x=1&y=2", sha256="0")],
        provenance=Provenance(
            model="m", kind="timeline", prompt_name="timeline", prompt_version="1",
            created_at=datetime(2026, 11, 25, tzinfo=UTC), tokens_in=1, tokens_out=1,
            llm_calls=1, cost_usd=None, replayed=False, fixture=False, ungrounded_dropped=0,
        ),
    )  # fmt: skip


def test_generic_slack_keeps_slacks_limits_for_any_size() -> None:
    out = render_one(_big_timeline(300, "q " * 2500), "slack")
    assert isinstance(out, list) and len(out) > 2
    for message in out:
        check_message(message)
        for block in message["blocks"]:
            assert len(block.get("text", {}).get("text", "")) <= 3000


def test_generic_html_and_markdown_escape_article_text() -> None:
    t = _big_timeline(2, "quote with | pipe and <tag>")
    html = render([t], "html")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>long</b>" not in html
    md = render([t], "md")
    assert "\\| pipe" in md  # a pipe cannot break the table row
    assert md.count("\n| day ") == 2


# attempts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_reasks", [0, 1, 2])
def test_instructor_makes_max_reasks_plus_one_attempts(
    fake_openai: FakeOpenAI, max_reasks: int
) -> None:
    """Pins instructor 1.17's arithmetic (N+1 calls for max_retries=N) that attempts.py
    and the grounding policy rely on: an upgrade that changes it fails here."""
    counted: list[int] = []
    real = attempts.started

    def spy(*a: Any, **k: Any) -> None:
        real(*a, **k)
        counted.append(1)

    fake_openai.queue(*[Reply("not json at all")] * 5)
    settings = load_settings(base_url=fake_openai.base_url, max_reasks=max_reasks)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("summarizer.llm.client.attempt_started", spy)
        with pytest.raises(ModelOutputError):
            asyncio.run(brief_documents([Document(text=ARTICLE)], settings))
    assert len(fake_openai.requests) == attempts.allowed(max_reasks) == max_reasks + 1
    assert len(counted) == max_reasks + 1


def test_last_attempt_is_known_without_counting_http_responses(fake_openai: FakeOpenAI) -> None:
    """A 500 retried by the SDK is not an attempt: the drop policy still gets its reask."""
    bad = _timeline("voted to demolish the bridge")
    fake_openai.queue(Reply(status=500), Reply(bad), Reply(_timeline()))
    settings = load_settings(
        base_url=fake_openai.base_url, max_reasks=1, kind="timeline", http_retries=2
    )
    out = asyncio.run(brief_documents([Document(text=ARTICLE)], settings))[0]
    assert isinstance(out, Timeline)
    assert out.events[0].evidence.quote == QUOTE  # grounded on the reask, nothing dropped
    assert out.provenance.ungrounded_dropped == 0


# daily ----------------------------------------------------------------------------------------


def _timeline_or_brief(request: dict[str, Any]) -> Reply:
    from summarizer.testing.openai_server import articles_in, first_sentence, grounded_brief

    if request["tools"][0]["function"]["name"] != "TimelineContent":
        return grounded_brief(request)
    text = next(iter(articles_in(request).values()))
    quote = first_sentence(text)
    return Reply(
        {
            "title": "When",
            "events": [
                {"date": "today", "what_happened": "It happened.",
                 "evidence": {"quote": quote, "source_id": "S1"}}
            ],
        }
    )  # fmt: skip


def test_daily_makes_each_sources_kind(tmp_path: Path) -> None:
    """[daily.kinds] per source: briefs become stories, timelines stand alone in `outputs`,
    both cached, both rendered in every file."""
    from typer.testing import CliRunner

    from summarizer.cli import app

    briefs, timelines = tmp_path / "briefs-in", tmp_path / "timelines-in"
    briefs.mkdir()
    timelines.mkdir()
    (briefs / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (timelines / "b.txt").write_text(
        "The port strike in Valdera began on Monday and ended on Friday after talks.\n\n"
        "Union leaders said the deal was fair.",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[daily]\nsources = ["{briefs}", "{timelines}"]\nformats = ["md", "json", "html", "slack"]\n'
        f'[daily.kinds]\n"{timelines}" = "timeline"\n',
        encoding="utf-8",
    )
    with FakeOpenAI(_timeline_or_brief) as fake:
        args = [
            "daily", "--config", str(config), "--base-url", fake.base_url, "--out-dir",
            str(tmp_path / "out"), "--store", str(tmp_path / "s.db"), "--date", "2026-11-25",
        ]  # fmt: skip
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        assert len(fake.requests) == 2
        data = json.loads((tmp_path / "out" / "2026-11-25.json").read_text(encoding="utf-8"))
        assert len(data["stories"]) == 1 and data["stories"][0]["provenance"]["kind"] == "brief"
        assert [o["provenance"]["kind"] for o in data["outputs"]] == ["timeline"]
        assert data["provenance"]["articles_briefed"] == 2
        quote = "The port strike in Valdera began on Monday and ended on Friday after talks."
        for ext in ("md", "html", "slack.json"):
            text = (tmp_path / "out" / f"2026-11-25.{ext}").read_text(encoding="utf-8")
            assert "Valdera began on Monday" in text, ext
        assert quote in (tmp_path / "out" / "2026-11-25.md").read_text(encoding="utf-8")
        # A second run finds both kinds in its cache: no call at all.
        again = CliRunner().invoke(app, [*args, "--force"])
        assert again.exit_code == 0, again.output
        assert len(fake.requests) == 2


def test_daily_kind_must_name_a_source(tmp_path: Path) -> None:
    from summarizer.daily import load_daily_config
    from summarizer.errors import ConfigError

    config = tmp_path / "c.toml"
    config.write_text('[daily]\nsources = ["a"]\n[daily.kinds]\n"b" = "timeline"\n')
    with pytest.raises(ConfigError, match="kinds names 'b', which is not one of the sources"):
        load_daily_config(config)


def test_daily_kind_per_run_and_template_edit_misses_the_cache(tmp_path: Path) -> None:
    """`daily --kind timeline` makes timelines; editing the template (same version) makes
    the next run ask the model again instead of serving the stored answer."""
    from typer.testing import CliRunner

    from summarizer.cli import app
    from summarizer.core.prompting import builtin_dir

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    template = (builtin_dir() / "timeline.j2").read_text(encoding="utf-8")
    (prompts / "timeline.j2").write_text(template, encoding="utf-8")
    with FakeOpenAI(_timeline_or_brief) as fake:
        args = [
            "daily", "-s", str(src), "--kind", "timeline", "--prompts-dir", str(prompts),
            "--base-url", fake.base_url, "--out-dir", str(tmp_path / "out"),
            "--store", str(tmp_path / "s.db"), "--date", "2026-11-25", "-f", "json",
        ]  # fmt: skip
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
        data = json.loads((tmp_path / "out" / "2026-11-25.json").read_text(encoding="utf-8"))
        assert data["stories"] == [] and data["outputs"][0]["provenance"]["kind"] == "timeline"
        assert len(fake.requests) == 1
        assert CliRunner().invoke(app, args).exit_code == 0
        assert len(fake.requests) == 1  # unchanged template: from the store
        edited = template.replace("reports, earliest first.", "reports, in date order.")
        assert edited != template
        (prompts / "timeline.j2").write_text(edited, encoding="utf-8")
        kinds.clear_cache()
        assert CliRunner().invoke(app, args).exit_code == 0
        assert len(fake.requests) == 2  # edited template, same version: asked again
        assert "in date order" in fake.requests[1]["messages"][0]["content"]


ROOT_QUOTE_KIND = """
from pydantic import BaseModel, Field
from summarizer.core.kinds import Kind
from summarizer.core.schemas import Quote


class Headline(BaseModel):
    \"\"\"The one sentence that matters.\"\"\"

    line: Quote = Field(description="The article's key sentence, verbatim.")


def register(registry):
    registry.register(Kind(name="keyline", model=Headline, description="Key sentence.",
                           template=TEMPLATE))


TEMPLATE = '''{#-
name: keyline
version: 1
description: The key sentence.
-#}
{% block system %}Quote the key sentence verbatim.{% endblock %}
{% block user %}{% for a in articles %}<<<{{ a.fence }} id={{ a.id }}>>>
{{ a.text }}
<<<END {{ a.fence }}>>>{% endfor %}{% endblock %}'''
"""


def test_an_output_that_cannot_stand_without_its_quote_fails(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """Under the drop policy a quote the whole output rests on cannot be dropped: the run
    fails (exit 8) rather than show it."""
    from typer.testing import CliRunner

    from summarizer.cli import app

    path = tmp_path / "keyline.py"
    path.write_text(ROOT_QUOTE_KIND, encoding="utf-8")
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    bad = {"line": {"quote": "the mayor resigned in disgrace yesterday", "source_id": "S1"}}
    fake_openai.queue(Reply(bad), Reply(bad))
    r = CliRunner().invoke(
        app,
        ["brief", str(tmp_path / "a.txt"), "--kind-file", str(path), "--kind", "keyline",
         "--base-url", fake_openai.base_url, "--max-reasks", "1", "--store", str(tmp_path / "s.db")],
    )  # fmt: skip
    assert r.exit_code == 8, r.output
    assert "cannot stand without them" in r.output and "line:" in r.output
    assert "resigned in disgrace" not in r.stdout


def test_mention_with_a_kind_and_a_link(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    from tests.test_slack import mention

    with running_bot(tmp_path, fake_openai, allow_private_urls=True) as bot:
        bot.slack.pages["bridge"] = ("text/plain; charset=utf-8", ARTICLE.encode())
        link = bot.slack.page_url("bridge")
        fake_openai.queue(Reply(_timeline()))
        r, _ = bot.event(mention(f"<@UBOT> timeline <{link}|the bridge story>"))
        assert r.status_code == 200
        posts = bot.slack.wait_for(lambda: len(bot.slack.posts) >= 3 and bot.slack.posts)
    assert fake_openai.requests[0]["tools"][0]["function"]["name"] == "TimelineContent"
    assert QUOTE in json.dumps([p.payload for p in posts], ensure_ascii=False)
