"""`summarizer eval` end to end: the loopback model, the real pipeline, the CLI, the docs."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.testing.openai_server import FakeOpenAI, Reply, articles_in
from tests.conftest import ROOT

runner = CliRunner()

STRIKE = (
    "Dock workers in Valdera extended their strike on Monday.\n\n"
    "The union said its members would stay out “until the port puts a real offer on the table”. "
    "The port authority called the demand simply unaffordable. Transport Minister Elena Costa "
    "said both sides must return to talks. No date has been set for new talks."
)
BRIDGE = (
    "The council voted to close the Elm Street bridge.\n\n"
    "Mayor Ana Ruiz said the closure was the only responsible choice. Councillor Tom Baker said "
    "shops would lose customers for months. Nobody knows how long the works will take."
)
GOLD = {
    "strike.json": {
        "text": STRIKE,
        "note": "written for this test",
        "stances": [
            {"actor": "Valdera union", "aliases": ["the union"], "issue": "strike", "stance": "supports"},
            {"actor": "port authority", "issue": "pay demand", "stance": "opposes"},
            {"actor": "Elena Costa", "issue": "talks", "stance": "neutral"},
        ],
        "open_questions": ["when new talks will take place"],
    },
    "bridge.json": {
        "text": BRIDGE,
        "stances": [
            {"actor": "Ana Ruiz", "aliases": ["Mayor Ana Ruiz"], "issue": "closure", "stance": "supports"},
            {"actor": "Tom Baker", "issue": "closure", "stance": "opposes"},
        ],
        "open_questions": ["how long the works will take"],
    },
}  # fmt: skip


def row(actor: str, stance: str, quote: str, issue: str = "it") -> dict[str, Any]:
    return {
        "actor": actor,
        "issue": issue,
        "position": "p",
        "stance": stance,
        "evidence": [{"quote": quote, "source_id": "S1"}],
    }


def answer(stances: list[dict[str, Any]], questions: list[str]) -> dict[str, Any]:
    return {
        "title": "t",
        "summary": "s",
        "key_points": ["k"],
        "stances": stances,
        "open_questions": [
            {"question": q, "why_it_matters": "w", "what_would_resolve_it": "r"} for q in questions
        ],
    }


def scripted_model(request: dict[str, Any]) -> Reply:
    """`good` gets everything right; `weak` misses Costa, gives the authority the wrong label
    and asks nothing useful about the strike; `broken` writes no JSON at all."""
    model = request["model"]
    text = next(iter(articles_in(request).values()))
    if model == "broken":
        return Reply("I cannot help with that.")
    if "Valdera" in text:
        union = row("The union", "supports", "until the port puts a real offer on the table")
        authority = row("Port authority", "opposes", "simply unaffordable")
        costa = row("Elena Costa", "neutral", "both sides must return to talks")
        if model == "weak":
            return Reply(answer([union, {**authority, "stance": "mixed"}], ["What next?"]))
        return Reply(answer([union, authority, costa], ["When will new talks take place?"]))
    ruiz = row("Mayor Ana Ruiz", "supports", "the only responsible choice")
    baker = row("Tom Baker", "opposes", "shops would lose customers for months")
    return Reply(answer([ruiz, baker], ["How long will the works take?"]))


@pytest.fixture
def gold_dir(tmp_path: Path) -> Path:
    d = tmp_path / "gold"
    d.mkdir()
    for name, data in GOLD.items():
        (d / name).write_text(json.dumps(data), encoding="utf-8")
    return d


def run(*args: str):
    return runner.invoke(app, ["eval", *args])


def test_compare_two_models_side_by_side(gold_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    with FakeOpenAI(scripted_model) as server:
        r = run(
            str(gold_dir), "--base-url", server.base_url, "-m", "good", "-m", "weak", "-o", str(out)
        )
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    good, weak = data["variants"]
    assert [a["file"] for a in good["articles"]] == [str(gold_dir / "bridge.json"), str(gold_dir / "strike.json")]  # fmt: skip
    g, w = good["overall"], weak["overall"]
    assert (g["stance_precision"], g["stance_recall"], g["label_accuracy"]) == (1.0, 1.0, 1.0)
    # weak: 4 of 5 gold rows found, all 4 predicted rows right actors, 3 of 4 labels right.
    assert (w["stance_precision"], w["stance_recall"], w["stance_f1"]) == (1.0, 0.8, 0.8889)
    assert w["label_accuracy"] == 0.75
    # supports: 2/2/2 -> 1.0; opposes: TP 1, predicted 1, gold 2 -> 2/3; mean 0.8333.
    assert w["label_macro_f1"] == 0.8333
    assert (g["question_coverage"], w["question_coverage"]) == (1.0, 0.5)
    assert (w["quote_verbatim"], w["quote_attribution"]) == (1.0, 1.0)
    assert g["calls"] == 2 and g["tokens_in"] > 0 and g["cost_usd"] is None  # no price known
    # The test server's answers are fixtures, called live: said so, not called replayed.
    assert (good["fixture"], good["replayed"]) == (True, False)
    diff = data["differences"][0]
    assert (diff["variant"], diff["baseline"]) == ("model=weak", "model=good")
    assert diff["overall"]["stance_recall"] == -0.2 and diff["overall"]["questions"] == 0
    strike = weak["articles"][1]
    assert strike["missed_actors"] == ["Elena Costa"] and strike["missed_topics"] == [
        "when new talks will take place"
    ]
    assert "comparison" in r.stdout and "diff" in r.stdout and "-0.200" in r.stdout
    assert data["threshold"] == 0.8


def test_gate_below_floor_exits_14_after_writing_scores(gold_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    with FakeOpenAI(scripted_model) as server:
        r = run(
            str(gold_dir), "--base-url", server.base_url, "-m", "weak", "-o", str(out),
            "--min", "stance_recall=0.9", "--min", "quote_verbatim=1",
        )  # fmt: skip
    assert r.exit_code == 14, r.output
    assert "stance_recall 0.8 < 0.9 (model=weak " in r.stderr
    assert "quote_verbatim" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    gates = json.loads(out.read_text(encoding="utf-8"))["gates"]
    assert [(g["metric"], g["passed"]) for g in gates] == [
        ("stance_recall", False),
        ("quote_verbatim", True),
    ]
    with FakeOpenAI(scripted_model) as server:
        ok = run(str(gold_dir), "--base-url", server.base_url, "-m", "good", "--min", "stance_f1=1")
    assert ok.exit_code == 0, ok.output


def test_gate_on_a_metric_not_measured_fails(gold_dir: Path) -> None:
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold_dir), "--base-url", server.base_url, "-m", "good", "--min", "event_f1=0.5")
    assert r.exit_code == 14 and "event_f1 not measured" in r.stderr


def test_a_failed_article_is_reported_and_scored_empty(gold_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold_dir), "--base-url", server.base_url, "-m", "broken", "--max-reasks", "0", "-o", str(out))  # fmt: skip
    assert r.exit_code == 9, r.output
    assert "FAILED" in r.stdout and "(failed)" in r.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert all(a["error"] for a in data["articles"])
    assert data["overall"]["stance_recall"] == 0.0 and data["overall"]["calls"] == 2


def test_scores_are_deterministic(gold_dir: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    with FakeOpenAI(scripted_model) as server:
        for out in outs:
            r = run(str(gold_dir), "--base-url", server.base_url, "-m", "weak", "-o", str(out))
            assert r.exit_code == 0, r.output
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_bad_input_costs_nothing_and_writes_nothing(gold_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    (gold_dir / "zz-broken.json").write_text('{"text": "x", "stances": [{"actor": 1}]}')
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold_dir), "--base-url", server.base_url, "-o", str(out))
        assert r.exit_code == 4 and str(gold_dir / "zz-broken.json") in r.stderr
        (gold_dir / "zz-broken.json").unlink()
        r = run(str(gold_dir), "--base-url", server.base_url, "--prompt", "nope", "-o", str(out))
        assert r.exit_code == 3 and "nope" in r.stderr
        r = run(str(gold_dir), "--base-url", server.base_url, "--kind", "poem", "-o", str(out))
        assert r.exit_code == 3 and "--kind" in r.stderr and "poem" in r.stderr
        r = run(str(gold_dir), "--base-url", server.base_url, "--min", "f1=2", "-o", str(out))
        assert r.exit_code == 3 and "--min f1=2" in r.stderr
        r = run(str(gold_dir), "--base-url", server.base_url, "--threshold", "0", "-o", str(out))
        assert r.exit_code == 3 and "--threshold 0" in r.stderr
        r = run(str(tmp_path / "empty-nothing"), "--base-url", server.base_url, "-o", str(out))
        assert r.exit_code == 4
        assert server.requests == []
    # A replay with no recording for these articles: exit 5, nothing written.
    r = run(str(gold_dir), "--replay", str(ROOT / "seeds" / "recordings"), "-o", str(out))
    assert r.exit_code == 5, r.output
    assert not out.exists()


def test_offline_gold_set_scores_below_one_on_every_metric(tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    r = run(str(ROOT / "seeds" / "gold"), "--replay", str(ROOT / "seeds" / "recordings"), "-o", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    overall = data["overall"]
    for metric in (
        "stance_precision", "stance_recall", "stance_f1", "label_accuracy", "label_macro_f1",
        "quote_verbatim", "quote_attribution", "question_coverage",
    ):  # fmt: skip
        assert 0 < overall[metric] < 1, metric
    by_file = {Path(a["file"]).stem: a for a in data["articles"]}
    assert by_file["bridge-closure"]["missed_actors"] == ["state transport department"]
    assert by_file["court-ruling"]["counts"]["quotes_dropped"] == 1
    assert by_file["drought-reservoir"]["missed_topics"] == ["limits on farm irrigation"]
    assert by_file["carrow-election"]["calls"] == 3  # two chunks and their merge
    assert by_file["pesca-cuotas"]["stance_f1"] == 1.0  # accents differ, actors still match
    assert all(a["defects"] == [] for a in data["articles"])
    # The timeline: 4 of 6 events (one misdated, one left out, one extra).
    assert by_file["arenas-treaty"]["kind"] == "timeline"
    assert (overall["event_precision"], overall["event_recall"]) == (0.6667, 0.6667)


def docs_eval_commands() -> list[str]:
    text = (ROOT / "docs" / "eval.md").read_text(encoding="utf-8")
    section = text.split("# Evaluate a prompt or a model", 1)[1].split("\n## ", 1)[0]
    return [
        line.split("#", 1)[0].strip()
        for line in section.splitlines()
        if line.startswith("summarizer eval seeds/gold --replay seeds/recordings")
    ]


def test_docs_eval_examples_run_offline_in_a_real_process(tmp_path: Path) -> None:
    commands = docs_eval_commands()
    assert commands, "docs/eval.md lost its offline example"
    for command in commands:
        args = shlex.split(command)[1:]
        expected = 14 if "--min" in args and "0.99" in command else 0
        args = [str(tmp_path / Path(a).name) if a.endswith(".json") else a for a in args]
        r = subprocess.run(
            [sys.executable, "-m", "summarizer", *args],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )  # fmt: skip
        assert r.returncode == expected, (command, r.stderr)
        assert re.search(r"overall\s", r.stdout), r.stdout
        # The seed answers were written by hand: the report never passes them off as a model's.
        assert "not model output" in " ".join(r.stdout.split()), r.stdout


TIMELINE_TEXT = (
    "The maritime deal was signed on 27 November 2019 in Istanbul.\n\n"
    "The parliament in Tobruk will vote on it in March 2026, officials said. "
    "Talks on a visit resumed last week."
)


def timeline_model(request: dict[str, Any]) -> Reply:
    """A timeline that finds the signing (dated differently), misdates the vote, and adds
    an event the gold file does not have."""
    assert request["tools"][0]["function"]["name"] == "TimelineContent"

    def event(date: str, what: str, quote: str) -> dict[str, Any]:
        return {
            "date": date,
            "what_happened": what,
            "evidence": {"quote": quote, "source_id": "S1"},
        }

    return Reply(
        {
            "title": "t",
            "events": [
                event("Nov. 27, 2019", "The maritime deal was signed in Istanbul.",
                      "The maritime deal was signed on 27 November 2019 in Istanbul."),
                event("2026", "Parliament votes on the deal.",
                      "The parliament in Tobruk will vote on it in March 2026"),
                event("last week", "Talks on a visit resumed.", "Talks on a visit resumed last week."),
            ],
        }
    )  # fmt: skip


def test_timeline_kind_is_scored_on_events(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    gold.mkdir()
    data = {
        "text": TIMELINE_TEXT,
        "kind": "timeline",
        "events": [
            {"date": "2019-11-27", "what": "maritime deal signed"},
            {"date": "March 2026", "what": "parliament vote"},
        ],
    }
    (gold / "deal.json").write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "scores.json"
    with FakeOpenAI(timeline_model) as server:
        r = run(str(gold), "--base-url", server.base_url, "-o", str(out))
    assert r.exit_code == 0, r.output
    overall = json.loads(out.read_text(encoding="utf-8"))["overall"]
    # 1 of 3 predicted events matches 1 of 2 gold events: P 1/3, R 1/2, F1 2/5.
    assert (overall["event_precision"], overall["event_recall"], overall["event_f1"]) == (
        0.3333, 0.5, 0.4,
    )  # fmt: skip
    assert overall["quote_verbatim"] == 1.0 and overall["stance_f1"] is None
    assert "evF1" in r.stdout


def test_compare_two_prompts(gold_dir: Path, tmp_path: Path) -> None:
    builtin = (ROOT / "prompts" / "brief.j2").read_text(encoding="utf-8")
    terse = builtin.replace("{% block system %}\n", "{% block system %}\nHouse style: terse.\n", 1)
    assert terse != builtin
    (tmp_path / "terse.j2").write_text(terse.replace("version: ", "version: 9"), encoding="utf-8")
    folder = tmp_path / "house"
    folder.mkdir()
    (folder / "brief.j2").write_text(builtin, encoding="utf-8")

    def model(request: dict[str, Any]) -> Reply:
        terse = "House style: terse." in request["messages"][0]["content"]
        return scripted_model({**request, "model": "weak" if terse else "good"})

    out = tmp_path / "scores.json"
    with FakeOpenAI(model) as server:
        r = run(
            str(gold_dir), "--base-url", server.base_url, "-o", str(out),
            "--prompt", str(folder), "--prompt", str(tmp_path / "terse.j2"),
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [v["variant"] for v in data["variants"]] == [
        f"prompt={folder}", f"prompt={tmp_path / 'terse.j2'}",
    ]  # fmt: skip
    assert data["differences"][0]["overall"]["stance_recall"] == -0.2
    with FakeOpenAI(model) as server:
        bad = run(str(gold_dir), "--base-url", server.base_url, "--prompt", str(tmp_path / "no.j2"))
        assert bad.exit_code == 3 and "no.j2" in bad.stderr and server.requests == []


def test_compare_two_kinds(gold_dir: Path, tmp_path: Path) -> None:
    def model(request: dict[str, Any]) -> Reply:
        if request["tools"][0]["function"]["name"] == "TimelineContent":
            return Reply({"title": "t", "events": []})
        return scripted_model({**request, "model": "good"})

    out = tmp_path / "scores.json"
    with FakeOpenAI(model) as server:
        r = run(
            str(gold_dir), "--base-url", server.base_url, "-o", str(out),
            "--kind", "brief", "--kind", "timeline",
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [v["variant"] for v in data["variants"]] == ["kind=brief", "kind=timeline"]
    assert [a["kind"] for a in data["variants"][1]["articles"]] == ["timeline", "timeline"]
    # A timeline has no stance rows: every gold row is missed.
    assert data["differences"][0]["overall"]["stance_recall"] == -1.0
    assert data["variants"][1]["overall"]["stance_precision"] is None


def test_the_table_fits_an_80_column_terminal(tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    args = [str(ROOT / "seeds" / "gold"), "--replay", str(ROOT / "seeds" / "recordings")]
    narrow = runner.invoke(app, ["eval", *args, "-o", str(out)], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    # The most wanted columns stay; the others are named, and are all in the JSON.
    head = next(line for line in narrow.stdout.splitlines() if "F1" in line)
    assert "acc" in head and "verb" in head and "attr" in head
    assert "not shown at this width:" in narrow.stdout and "-o FILE" in narrow.stdout
    assert "tokens_out" in json.loads(out.read_text(encoding="utf-8"))["overall"]
    wide = runner.invoke(app, ["eval", *args])
    assert "not shown at this width" not in wide.stdout
    assert max(len(line) for line in wide.stdout.splitlines()) > 80


def test_a_live_test_server_is_not_called_replayed_in_the_report(gold_dir: Path) -> None:
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold_dir), "--base-url", server.base_url, "-m", "good")
    assert r.exit_code == 0, r.output
    said = " ".join(r.stdout.split())
    assert "not model output. Answered by a test server" in said
    assert "replayed" not in said


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "symlinked-folder"])
def test_an_article_outside_the_gold_folder_is_refused(tmp_path: Path, how: str) -> None:
    """A gold file must not be a way to send /etc/passwd to the model (issue 19.4): its
    article resolves inside the gold folder, symlinks followed, or eval stops with exit 4."""
    secret = tmp_path / "secret.txt"
    secret.write_text("Dock workers said the secret is xyzzy.\n\nMore text here.", encoding="utf-8")
    gold = tmp_path / "gold"
    gold.mkdir()
    article = {
        "dotdot": "../secret.txt",
        "absolute": str(secret),
        "symlink": "link.txt",
        "symlinked-folder": "articles/secret.txt",
    }[how]
    if how == "symlink":
        (gold / "link.txt").symlink_to(secret)
    if how == "symlinked-folder":
        (gold / "articles").symlink_to(tmp_path)
    (gold / "a.json").write_text(json.dumps({"article": article}), encoding="utf-8")
    out = tmp_path / "scores.json"
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold), "--base-url", server.base_url, "-o", str(out))
        assert server.requests == []
    assert r.exit_code == 4, r.output
    assert "outside the gold folder" in r.stderr and str(gold / "a.json") in r.stderr
    assert "xyzzy" not in r.output and not out.exists()


def test_an_article_in_a_subfolder_of_the_gold_folder_is_read(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    (gold / "articles").mkdir(parents=True)
    (gold / "articles" / "strike.txt").write_text(STRIKE, encoding="utf-8")
    (gold / "sub").mkdir()
    (gold / "a.json").write_text(
        json.dumps({"article": "sub/../articles/strike.txt", **GOLD["strike.json"], "text": None}),
        encoding="utf-8",
    )
    out = tmp_path / "scores.json"
    with FakeOpenAI(scripted_model) as server:
        r = run(str(gold), "--base-url", server.base_url, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.exists()
