"""Kinds: the registry, user templates and kinds (file and entry point), generic grounding
and rendering, cache-friendly requests. End to end through the loopback test server."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.core import kinds
from summarizer.testing.openai_server import FakeOpenAI, Reply
from tests.conftest import SEED_ARTICLE

ARTICLE = (
    "The city council voted 7-2 on Tuesday to close the Elm Street bridge for repairs.\n\n"
    "Mayor Ana Ruiz said in March that the closure was “the only responsible choice”."
)
OTHER = (
    "Dockworkers in Valdera walked out on Monday over pay.\n\n"
    "The union said the strike would last until Friday unless talks resumed."
)
QUOTE = "voted 7-2 on Tuesday to close the Elm Street bridge"

# A user's kind, as a file: a Pydantic model, a template, one register() hook.
KIND_FILE = '''
from pydantic import BaseModel, Field

from summarizer.core.kinds import Kind
from summarizer.core.schemas import Quote


class Claim(BaseModel):
    who: str = Field(description="Who makes the claim.")
    says: str = Field(description="The claim, in one sentence.")
    evidence: list[Quote] = Field(description="Verbatim quotes that show it.", min_length=1)


class ClaimsContent(BaseModel):
    """The claims an article reports."""

    title: str = Field(description="A short headline.")
    claims: list[Claim] = Field(description="Each claim with its quotes.")


TEMPLATE = """{#-
name: claims
version: 3
description: Who claims what, with quotes.
-#}
{% block system %}
List who claims what in the article, each with a verbatim quote.
{% endblock %}
{% block user %}
{% for a in articles %}<<<{{ a.fence }} id={{ a.id }}>>>
{{ a.text }}
<<<END {{ a.fence }}>>>{% endfor %}
{% endblock %}
"""


def register(registry):
    registry.register(
        Kind(name="claims", model=ClaimsContent, description="Who claims what.", template=TEMPLATE)
    )
'''

CLAIMS = {
    "title": "Bridge closure",
    "claims": [
        {
            "who": "The council",
            "says": "Voted to close the bridge.",
            "evidence": [{"quote": QUOTE, "source_id": "S1"}],
        }
    ],
}


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    kinds.clear_cache()
    yield
    kinds.clear_cache()


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def _article_file(tmp_path: Path, text: str = ARTICLE, name: str = "a.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _timeline(quote: str = QUOTE) -> dict[str, Any]:
    return {
        "title": "Bridge",
        "events": [
            {
                "date": "Tuesday",
                "what_happened": "The council voted to close the bridge.",
                "evidence": {"quote": quote, "source_id": "S1"},
            }
        ],
    }


# the registry and the prefix a provider can cache ----------------------------------------


def test_builtin_kinds_are_registered_through_the_plugin_hook() -> None:
    registry = kinds.load()
    assert [k.name for k in registry] == ["brief", "continuation", "link", "story", "timeline"]
    assert {k.origin for k in registry} == {"built-in"}
    assert registry.prompt(registry.get("timeline")).origin == "built-in"


@pytest.mark.parametrize("kind", ["brief", "timeline"])
def test_fixed_prefix_is_byte_identical_across_articles(
    tmp_path: Path, fake_openai: FakeOpenAI, kind: str
) -> None:
    """Schema and system message are the same bytes for every article of a kind; the
    fence, the article and the language come only in the user message after them."""
    payload = _timeline() if kind == "timeline" else None
    a, b = _article_file(tmp_path, ARTICLE, "a.txt"), _article_file(tmp_path, OTHER, "b.txt")
    for path, language in ((a, []), (b, ["--language", "German"])):
        if payload is not None:
            fake_openai.queue(
                Reply(payload if path == a else _timeline("walked out on Monday over pay"))
            )
        r = invoke(
            "brief", str(path), "--kind", kind, "--base-url", fake_openai.base_url,
            "--store", str(tmp_path / "s.db"), "-f", "json", *language,
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    first, second = fake_openai.requests
    assert json.dumps(first["tools"]).encode() == json.dumps(second["tools"]).encode()
    assert first["messages"][0] == second["messages"][0]
    assert first["messages"][0]["role"] == "system"
    system = first["messages"][0]["content"]
    assert "ARTICLE-" in system  # it explains the fences in general ...
    for req in (first, second):
        fence = next(w for w in req["messages"][1]["content"].split() if w.startswith("<<<ARTICLE"))
        assert fence.removeprefix("<<<") not in system  # ... but names none of them
    assert "German" in second["messages"][1]["content"] and "German" not in system
    # In the body the schema (tools) and the system message come before the user message.
    assert list(first).index("messages") < len(first) and first["messages"][1]["role"] == "user"


def test_a_system_block_that_varies_with_the_article_is_refused(tmp_path: Path) -> None:
    prompts = tmp_path / "p"
    prompts.mkdir()
    (prompts / "brief.j2").write_text(
        "{#-\nname: brief\nversion: 9\ndescription: d\n-#}\n"
        "{% block system %}Article {{ articles[0].fence }}{% endblock %}"
        "{% block user %}x{% endblock %}",
        encoding="utf-8",
    )
    r = invoke("brief", str(SEED_ARTICLE), "--prompts-dir", str(prompts), "--replay", "seeds")
    assert r.exit_code == 3
    assert str(prompts / "brief.j2") in r.output and "user block" in r.output
    assert len(r.output.strip().splitlines()) == 1


# users' templates -------------------------------------------------------------------------


def _house_brief(version: str) -> str:
    from summarizer.core.prompting import builtin_dir

    text = (builtin_dir() / "brief.j2").read_text(encoding="utf-8")
    text = re.sub(r"^version: \d+$", f"version: {version}", text, count=1, flags=re.M)
    return text.replace(
        "You are a careful news analyst", "You write in the HOUSE STYLE as an analyst"
    )


@pytest.mark.parametrize("where", ["user", "flag", "env"])
def test_user_template_overrides_brief(tmp_path: Path, fake_openai: FakeOpenAI, where: str) -> None:
    import os

    folder = (
        Path(os.environ["XDG_CONFIG_HOME"]) / "summarizer" / "prompts"
        if where == "user"
        else tmp_path / "prompts"
    )
    folder.mkdir(parents=True)
    (folder / "brief.j2").write_text(_house_brief("7-house"), encoding="utf-8")
    extra = ["--prompts-dir", str(folder)] if where == "flag" else []
    env = {"SUMMARIZER_PROMPTS_DIR": str(folder)} if where == "env" else None
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--base-url", fake_openai.base_url, "-f", "json",
        "--store", str(tmp_path / "s.db"), *extra, env=env,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["provenance"]["prompt_version"] == "7-house"
    assert "HOUSE STYLE" in fake_openai.requests[0]["messages"][0]["content"]
    listing = invoke("prompts", *extra, env=env).stdout
    line = next(ln for ln in listing.splitlines() if ln.startswith("brief\tv7-house"))
    assert str(folder / "brief.j2") in line
    assert "overridden" in listing  # the built-in one is listed as overridden


def test_broken_template_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "timeline.j2").write_text(
        "{#-\nname: timeline\nversion: 2\ndescription: d\n-#}\n"
        "{% block system %}ok{% endblock %}{% block user %}{{ articles[0].fence {% endblock %}",
        encoding="utf-8",
    )
    r = invoke(
        "brief", str(SEED_ARTICLE), "--prompts-dir", str(folder), "--replay", "seeds/recordings"
    )
    assert r.exit_code == 3
    assert (
        r.output.startswith(f"error: prompt {folder / 'timeline.j2'}")
        and "does not render" in r.output
    )
    assert len(r.output.strip().splitlines()) == 1


def test_edited_template_misses_the_daily_cache(tmp_path: Path) -> None:
    from summarizer.briefing import cache_key
    from summarizer.config import load_settings

    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "brief.j2").write_text(_house_brief("7"), encoding="utf-8")
    settings = load_settings(prompts_dir=folder, replay_dir=Path("seeds/recordings"))
    before = cache_key(settings)
    # Same declared version, one word changed: a different key, so the model is asked again.
    (folder / "brief.j2").write_text(
        _house_brief("7").replace("HOUSE STYLE", "HOUSE TONE"), encoding="utf-8"
    )
    kinds.clear_cache()
    assert cache_key(settings) != before


# users' kinds -------------------------------------------------------------------------------


def _write_kind_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims_kind.py"
    path.write_text(KIND_FILE, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["md", "json", "html", "slack"])
def test_kind_from_a_file_end_to_end_in_every_format(
    tmp_path: Path, fake_openai: FakeOpenAI, fmt: str
) -> None:
    fake_openai.queue(Reply(CLAIMS))
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind-file", str(_write_kind_file(tmp_path)),
        "--kind", "claims", "--base-url", fake_openai.base_url, "-f", fmt,
        "--store", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert fake_openai.requests[0]["tools"][0]["function"]["name"] == "ClaimsContent"
    out = r.stdout
    if fmt == "json":
        data = json.loads(out)
        assert data["claims"][0]["evidence"][0]["quote"] == QUOTE
        assert data["provenance"]["kind"] == "claims"
        assert data["provenance"]["prompt_version"] == "3"
    elif fmt == "slack":
        messages = json.loads(out)
        assert QUOTE in json.dumps(messages, ensure_ascii=False)
        assert all(len(m["blocks"]) <= 50 for m in messages)
    else:
        assert QUOTE in out and "Bridge closure" in out and "The council" in out
    # history and show know the kind too
    hist = invoke("history", "--store", str(tmp_path / "s.db"), "--kind", "claims")
    brief_id = next(ln for ln in hist.stdout.splitlines() if " claims " in ln).split()[0]
    shown = invoke(
        "show", brief_id, "--store", str(tmp_path / "s.db"), "-f", "json",
        "--kind-file", str(_write_kind_file(tmp_path)),
    )  # fmt: skip
    assert json.loads(shown.stdout)["claims"][0]["who"] == "The council"


def test_a_kinds_fabricated_quote_is_dropped_or_fails_strict(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    bad = json.loads(json.dumps(CLAIMS))
    bad["claims"][0]["evidence"][0]["quote"] = "the bridge will never reopen, officials said"
    base = [
        "brief", str(_article_file(tmp_path)), "--kind-file", str(_write_kind_file(tmp_path)),
        "--kind", "claims", "--base-url", fake_openai.base_url, "-f", "json",
        "--store", str(tmp_path / "s.db"), "--max-reasks", "1",
    ]  # fmt: skip
    fake_openai.queue(Reply(bad), Reply(bad))
    r = invoke(*base)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    # The claim lost its only quote, so the claim itself is gone (min_length=1), and counted.
    assert data["claims"] == [] and data["provenance"]["ungrounded_dropped"] == 1
    reask = json.dumps(fake_openai.requests[1]["messages"])
    assert "claims[0].evidence[0]" in reask and "does not occur verbatim" in reask
    fake_openai.queue(Reply(bad), Reply(bad))
    strict = invoke(*base, "--strict")
    assert strict.exit_code == 8, strict.output
    assert "quotes still not found" in strict.output and r.stdout not in strict.output


def test_timeline_fabricated_quote_is_reasked_then_dropped(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.queue(Reply(_timeline("voted to demolish the bridge")), Reply(_timeline()))
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind", "timeline", "--base-url",
        fake_openai.base_url, "-f", "json", "--store", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["events"][0]["evidence"]["quote"] == QUOTE
    assert data["provenance"]["llm_calls"] == 2


BROKEN_KIND = """
from typing import Any
from pydantic import BaseModel, ConfigDict
from summarizer.core.kinds import Kind


class Opaque:
    pass


class Broken(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


def register(registry: Any) -> None:
    registry.register(Kind(name="broken", model=Broken, description="x", template="x"))
"""


def test_broken_kind_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "broken_kind.py"
    path.write_text(BROKEN_KIND, encoding="utf-8")
    r = invoke("kinds", "--kind-file", str(path))
    assert r.exit_code == 3
    assert str(path) in r.output and "cannot be turned into a JSON Schema" in r.output
    assert len(r.output.strip().splitlines()) == 1
    path.write_text("import not_a_module_anywhere\n", encoding="utf-8")
    r = invoke("kinds", "--kind-file", str(path))
    assert r.exit_code == 3 and str(path) in r.output and "cannot load kind file" in r.output


def _install_plugin(site: Path) -> None:
    """A tiny plugin package, installed as pip would: the module plus a dist-info whose
    entry_points.txt names its register() in the summarizer.core.kinds group."""
    pkg = site / "claimsplugin"
    pkg.mkdir(parents=True)
    code = KIND_FILE.replace('name="claims"', 'name="claims2"').replace(
        "name: claims", "name: claims2"
    )
    (pkg / "__init__.py").write_text(code)
    dist = site / "claimsplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: claimsplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [summarizer.core.kinds]
            claims2 = claimsplugin:register
            """
        )
    )


@pytest.mark.parametrize("fmt", ["md", "json", "html", "slack"])
def test_kind_from_an_entry_point_end_to_end(
    tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    _install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "claimsplugin", raising=False)
    listing = invoke("kinds")
    assert listing.exit_code == 0, listing.output
    assert "claims2" in listing.stdout and "plugin claimsplugin" in listing.stdout
    fake_openai.queue(Reply(CLAIMS))
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind", "claims2", "--base-url",
        fake_openai.base_url, "-f", fmt, "--store", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert QUOTE in (
        r.stdout if fmt != "slack" else json.dumps(json.loads(r.stdout), ensure_ascii=False)
    )


def test_unknown_kind_is_refused_before_any_call(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind", "nope", "--base-url", fake_openai.base_url
    )
    assert (
        r.exit_code == 3
        and "kind 'nope': unknown; use one of brief, continuation, link, story, timeline"
        in r.output
    )
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind", "story", "--base-url", fake_openai.base_url
    )
    assert r.exit_code == 3 and "merges the outputs of several articles" in r.output
    assert fake_openai.requests == []


def test_seed_timeline_replays_offline() -> None:
    r = invoke(
        "brief",
        str(SEED_ARTICLE),
        "--kind",
        "timeline",
        "--replay",
        "seeds/recordings",
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["provenance"]["fixture"] is True and data["provenance"]["kind"] == "timeline"
    assert [e["date"] for e in data["events"]][:2] == ["2011", "2019"]


@pytest.mark.parametrize("kind", ["brief", "timeline"])
def test_fixed_prefix_is_cacheable_or_small(kind: str) -> None:
    """A provider caches a prefix of 1,024 tokens or more; a fixed part shorter than that
    is only acceptable while it stays under 600 tokens (issue 14)."""
    import instructor

    from summarizer.core import prompting
    from summarizer.llm.tokens import estimate

    registry = kinds.load()
    k = registry.get(kind)
    tool = {"type": "function", "function": instructor.openai_schema(k.model).openai_schema}
    system = prompting.render_messages(registry.prompt(k), articles=[prompting.Article("S1", "x")])[
        0
    ]["content"]
    fixed = estimate(json.dumps(tool)) + estimate(system)
    assert fixed >= 1024 or fixed < 600, fixed


def test_the_docs_kind_file_works(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """The docs' kind-file example (docs/kinds.md), exactly as printed there."""
    from tests.conftest import ROOT

    readme = (ROOT / "docs" / "kinds.md").read_text(encoding="utf-8")
    start = readme.index("```python\n# claims_kind.py\n") + len("```python\n")
    code = readme[start : readme.index("```", start)]
    path = tmp_path / "claims_kind.py"
    path.write_text(code, encoding="utf-8")
    fake_openai.queue(Reply(CLAIMS))
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--kind-file", str(path), "--kind", "claims",
        "--base-url", fake_openai.base_url, "-f", "json", "--store", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["claims"][0]["evidence"][0]["quote"] == QUOTE


def test_a_new_template_of_an_existing_kind_is_a_kind_of_its_own(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """`energy.j2` with `kind: brief` in the prompts folder: `--kind energy` makes a brief
    with that template (no Python), and `daily` can synthesize it like a brief."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = _house_brief("1").replace("name: brief", "name: energy", 1)
    text = text.replace(
        "description: One article", "description: Energy policy only. One article", 1
    )
    (folder / "energy.j2").write_text(text, encoding="utf-8")
    listing = invoke("kinds", "--prompts-dir", str(folder)).stdout
    assert any(ln.startswith("energy\tenergy v1") for ln in listing.splitlines()), listing
    r = invoke(
        "brief", str(_article_file(tmp_path)), "--prompts-dir", str(folder), "--kind", "energy",
        "--base-url", fake_openai.base_url, "-f", "json", "--store", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    p = json.loads(r.stdout)["provenance"]
    assert (p["kind"], p["prompt_name"], p["prompt_version"]) == ("energy", "energy", "1")
    assert "HOUSE STYLE" in fake_openai.requests[0]["messages"][0]["content"]
    (folder / "energy.j2").write_text(text.replace("kind: brief", "kind: nope"), encoding="utf-8")
    bad = invoke("kinds", "--prompts-dir", str(folder))
    assert bad.exit_code == 3 and "names kind 'nope'" in bad.output


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("x = 1\n", "defines no register(registry) function"),
        (
            "from summarizer.core.kinds import Kind\nfrom summarizer.core.schemas import BriefContent\n"
            "def register(r):\n    r.register(Kind(name='brief', model=BriefContent, "
            "description='d', template='t'))\n",
            "kind 'brief' is already registered by built-in",
        ),
        ("def register(r):\n    raise RuntimeError('boom')\n", "register() failed (boom)"),
        ("def register(r):\n    r.register('not a kind')\n", "not a summarizer Kind"),
    ],
)
def test_bad_kind_files_are_refused_by_name(tmp_path: Path, code: str, message: str) -> None:
    path = tmp_path / "k.py"
    path.write_text(code, encoding="utf-8")
    r = invoke("kinds", "--kind-file", str(path))
    assert r.exit_code == 3 and str(path) in r.output and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
