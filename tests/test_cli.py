"""The CLI as a user meets it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.testing.openai_server import FakeOpenAI
from tests.conftest import ROOT, SEED_ARTICLE

runner = CliRunner()
REPLAY = ["--replay", str(ROOT / "seeds" / "recordings")]


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def test_version_and_help() -> None:
    assert invoke("--version").stdout.startswith("summarizer ")
    out = invoke("--help").stdout
    for cmd in ("brief", "schema", "prompts"):
        assert cmd in out


def test_offline_seed_brief_as_json() -> None:
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["provenance"]["replayed"] is True and data["provenance"]["fixture"] is True
    assert {s["stance"] for s in data["stances"]} <= {
        "supports",
        "opposes",
        "mixed",
        "neutral",
        "unclear",
    }
    assert data["sources"][0]["path"].endswith("haftar-turkiye-visit.txt")


def test_markdown_says_fixture_output_is_not_model_output() -> None:
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY)
    assert r.exit_code == 0
    assert "Not model output" in r.stdout
    assert "| Actor | Issue | Position | Stance | Evidence |" in r.stdout


def test_output_file_is_written(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "brief.md"
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# ")
    assert [p.name for p in out.parent.iterdir()] == ["brief.md"]  # no temp file left


def test_stdin_dash(tmp_path: Path) -> None:
    r = invoke("brief", "-", *REPLAY, "-f", "json", input=SEED_ARTICLE.read_bytes())
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["sources"][0]["path"] is None


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        (b"", 4, "is empty"),
        (b"\x00\x01\x02binary", 4, "binary"),
        ("na\u00efve".encode("latin-1"), 4, "not UTF-8"),
        (b"x" * 6000, 4, "over the 5,000-byte limit"),
    ],
)
def test_bad_input_exit_codes_and_nothing_written(
    tmp_path: Path, content: bytes, code: int, fragment: str
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = tmp_path / "out.md"
    r = invoke("brief", str(bad), *REPLAY, "--max-bytes", "5000", "-o", str(out))
    assert r.exit_code == code
    assert fragment in r.stderr and str(bad) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_one_bad_input_does_not_sink_the_rest(tmp_path: Path) -> None:
    # good.html missing.html a.txt: the good ones are briefed, the bad one reported, exit 9.
    import shutil

    good = tmp_path / "good.html"
    shutil.copy(ROOT / "tests" / "fixtures" / "web" / "article.html", good)
    text = tmp_path / "a.txt"
    text.write_text("The port reopened on Friday after a week of strikes, officials said.")
    missing = tmp_path / "missing.html"
    with FakeOpenAI() as server:
        r = invoke(
            "brief", str(good), str(missing), str(text), "--base-url", server.base_url, "-f", "json"
        )
        assert r.exit_code == 9, r.output
        data = json.loads(r.stdout)
        assert [d["sources"][0]["path"] for d in data] == [str(good), str(text)]
        assert str(missing) in r.stderr and "no such file" in r.stderr
        # The same with text files only (the fast path, no web stack).
        r = invoke("brief", str(text), str(tmp_path / "nope.txt"), "--base-url", server.base_url)
        assert r.exit_code == 9 and "nope.txt" in r.stderr and r.stdout.startswith("# ")


def test_an_empty_brief_says_so_and_strict_fails_it(tmp_path: Path) -> None:
    from summarizer.testing.openai_server import Reply

    art = tmp_path / "a.txt"
    art.write_text("The port reopened on Friday after a week of strikes, officials said.")
    empty = {"title": "Port reopens", "summary": "The port reopened.", "key_points": [],
             "stances": [], "open_questions": [], "disagreements": []}  # fmt: skip
    with FakeOpenAI(lambda request: Reply(empty)) as server:
        r = invoke("brief", str(art), "--base-url", server.base_url)
        assert r.exit_code == 0, r.output
        assert "This brief is empty" in r.stdout and "This brief is empty" in r.stderr
        out = tmp_path / "out.md"
        r = invoke("brief", str(art), "--base-url", server.base_url, "--strict", "-o", str(out))
        assert r.exit_code == 7 and "empty" in r.stderr and "--strict" in r.stderr
        assert not out.exists()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    r = invoke("brief", str(tmp_path / "nope.txt"), *REPLAY)
    assert r.exit_code == 4 and "no such file" in r.stderr
    r = invoke("brief", str(tmp_path), *REPLAY)
    assert r.exit_code == 4 and "is a directory" in r.stderr


def test_no_endpoint_says_what_to_set(tmp_path: Path) -> None:
    art = tmp_path / "a.txt"
    art.write_text("Some article text about a vote.")
    r = invoke("brief", str(art))
    assert r.exit_code == 3
    assert "OPENAI_API_KEY" in r.stderr and "--replay seeds/recordings" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_replay_miss_exit_code(tmp_path: Path) -> None:
    art = tmp_path / "a.txt"
    art.write_text("An article that was never recorded.")
    r = invoke("brief", str(art), "--replay", str(tmp_path))
    assert r.exit_code == 5 and "no recording" in r.stderr


def test_failure_of_one_article_writes_nothing(tmp_path: Path) -> None:
    # The seed replays, the second article has no recording: no partial output.
    other = tmp_path / "b.txt"
    other.write_text("Another article, not recorded.")
    out = tmp_path / "out.json"
    r = invoke("brief", str(SEED_ARTICLE), str(other), *REPLAY, "-f", "json", "-o", str(out))
    assert r.exit_code == 5 and not out.exists()


def test_several_files_give_a_json_array(tmp_path: Path) -> None:
    second = tmp_path / "second.txt"
    second.write_text("The port reopened on Friday after a week of strikes, officials said.")
    with FakeOpenAI() as server:
        r = invoke(
            "brief", str(SEED_ARTICLE), str(second), "--base-url", server.base_url, "-f", "json"
        )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [d["sources"][0]["path"] for d in data] == [str(SEED_ARTICLE), str(second)]


def test_bad_flag_values(tmp_path: Path) -> None:
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "--format", "pdf")
    assert r.exit_code == 3 and "--format pdf" in r.stderr
    r = invoke(
        "brief", str(SEED_ARTICLE), "--mode", "telepathy", "--base-url", "http://127.0.0.1:9/v1"
    )
    assert r.exit_code == 3 and "mode" in r.stderr
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "--record", str(tmp_path))
    assert r.exit_code == 3 and "exclude each other" in r.stderr


def test_schema_and_prompts_commands() -> None:
    schema = json.loads(invoke("schema").stdout)
    assert schema["properties"]["stances"]["type"] == "array"
    assert "brief\tv" in invoke("prompts").stdout
    assert "{% block system %}" in invoke("prompts", "brief").stdout
    assert invoke("prompts", "nope").exit_code == 3


def test_readme_offline_command_in_a_real_process(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "summarizer", "brief", "seeds/haftar-turkiye-visit.txt",
         "--replay", "seeds/recordings"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Haftar" in r.stdout and r.stderr == ""
    assert (tmp_path / ".local" / "share" / "summarizer" / "summarizer.db").exists()


PAGE = (
    "<html><head><title>Port strike ends</title></head><body><nav>Menu Login Subscribe</nav>"
    "<article><h1>Port strike ends</h1><p>Dock workers in the port of Valdera returned to work on "
    "Friday after a nine-day strike over pay, the union said in a statement.</p><p>The agreement "
    "raises wages by six percent over two years, according to the port authority.</p></article>"
    "<footer>Contact us</footer></body></html>"
)


def test_brief_a_url_and_a_feed() -> None:
    from tests.web_server import Route, WebServer

    with WebServer() as web, FakeOpenAI() as server:
        web.add("/port", Route(body=PAGE.encode()))
        rss = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
            f"<item><title>Port strike ends</title><link>{web.url('/port')}</link></item>"
            f"<item><title>Gone</title><link>{web.url('/gone')}</link></item></channel></rss>"
        )
        web.add("/feed", Route(headers={"Content-Type": "application/rss+xml"}, body=rss.encode()))
        r = invoke("brief", web.url("/port"), "--base-url", server.base_url, "-f", "json")
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert data["sources"][0]["url"] == web.url("/port")
        assert data["sources"][0]["title"] == "Port strike ends"
        assert "Menu Login" not in json.dumps(server.requests)
        # A feed with one broken entry: the good one is briefed, the bad one reported, exit 9.
        r = invoke("brief", web.url("/feed"), "--feed", "--base-url", server.base_url, "-f", "json")
        assert r.exit_code == 9, r.output
        assert json.loads(r.stdout)["sources"][0]["url"] == web.url("/port")
        assert "/gone" in r.stderr and "404" in r.stderr
        # A page that is not there: refused by name before any model call.
        calls = len(server.requests)
        r = invoke("brief", web.url("/missing"), "--base-url", server.base_url)
        assert (
            r.exit_code == 4 and web.url("/missing") in r.stderr and len(server.requests) == calls
        )
        r = invoke("brief", "notaurl.txt", "--feed", "--base-url", server.base_url)
        assert r.exit_code == 4 and "--feed takes feed URLs" in r.stderr


def test_briefs_are_kept_for_history_and_show(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "--store", str(db), "-f", "json")
    assert r.exit_code == 0
    hist = invoke("history", "--store", str(db))
    line = next(ln for ln in hist.stdout.splitlines() if " brief " in ln)
    brief_id = line.split()[0]
    shown = invoke("show", brief_id, "--store", str(db), "-f", "json")
    assert json.loads(shown.stdout)["title"] == json.loads(r.stdout)["title"]
    assert invoke("show", "nope", "--store", str(db)).exit_code == 4


def test_an_unusable_store_costs_a_warning_not_the_brief(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"garbage" * 1000)
    r = invoke("brief", str(SEED_ARTICLE), *REPLAY, "--store", str(bad))
    assert r.exit_code == 0 and "# " in r.stdout
    assert "not kept in the store" in r.stderr


def test_html_and_slack_formats() -> None:
    html = invoke("brief", str(SEED_ARTICLE), *REPLAY, "-f", "html")
    assert html.exit_code == 0 and html.stdout.lstrip().lower().startswith("<!doctype html")
    assert "Not model output" in html.stdout
    slack = invoke("brief", str(SEED_ARTICLE), *REPLAY, "-f", "slack")
    messages = json.loads(slack.stdout)
    assert messages and all(len(m["blocks"]) <= 50 for m in messages)


def test_language_flag_reaches_the_prompt() -> None:
    with FakeOpenAI() as server:
        r = invoke(
            "brief", str(SEED_ARTICLE), "--base-url", server.base_url, "--language", "Deutsch"
        )
        assert r.exit_code == 0, r.output
        assert "in Deutsch" in server.requests[0]["messages"][1]["content"]


def test_pages_have_their_own_size_limit() -> None:
    from tests.web_server import Route, WebServer

    # The page (markup and all) is larger than --max-bytes; its article text is not.
    padded = PAGE.replace("<footer>", "<script>" + "var x = 1;" * 100 + "</script><footer>")
    with WebServer() as web, FakeOpenAI() as server:
        web.add("/port", Route(body=padded.encode()))
        r = invoke("brief", web.url("/port"), "--base-url", server.base_url, "--max-bytes", "1000")
        assert r.exit_code == 0, r.output
        assert len(padded) > 1000


def test_a_live_call_to_the_test_server_is_not_called_replayed(tmp_path: Path) -> None:
    art = tmp_path / "a.txt"
    art.write_text("The port reopened on Friday after a week of strikes, officials said.")
    with FakeOpenAI() as server:
        md = invoke("brief", str(art), "--base-url", server.base_url)
        js = invoke("brief", str(art), "--base-url", server.base_url, "-f", "json")
    p = json.loads(js.stdout)["provenance"]
    assert (p["fixture"], p["replayed"]) == (True, False)
    assert "Answered by a test server" in md.stdout and "test server" in md.stdout
    assert "eplayed" not in md.stdout
    # Replayed from the seed recordings: said so.
    replayed = invoke("brief", str(SEED_ARTICLE), *REPLAY)
    assert "Replayed from recordings" in replayed.stdout


def test_a_model_that_never_fits_is_said_in_one_plain_sentence(tmp_path: Path) -> None:
    from summarizer.testing.openai_server import Reply

    art = tmp_path / "a.txt"
    art.write_text("The port reopened on Friday after a week of strikes, officials said.")
    with FakeOpenAI(lambda request: Reply({"title": "Only a title"})) as server:
        r = invoke("brief", str(art), "--base-url", server.base_url)
        verbose = invoke("brief", str(art), "--base-url", server.base_url, "--verbose")
    assert r.exit_code == 7
    (line,) = r.stderr.strip().splitlines()
    assert "the model's answer lacked the field" in line and "summary" in line
    assert "failed_attempts" not in line and "validation error" not in line
    assert "try " in line and "--verbose" in line
    assert "validation error" in verbose.stderr  # the operator's detail, when asked for
