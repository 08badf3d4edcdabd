"""How a story is matched (docs/linking.md): names folded across spellings and other names,
weights that hold on a quiet day, a decision readers can read, the link gold set as a CI
gate, and daily runs over held-out articles that link continuations and no look-alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.daily.config import ContinuityConfig
from summarizer.stories import continuity, names
from summarizer.testing.openai_server import FakeOpenAI, Reply, articles_in, grounded_brief

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "seeds" / "gold-links"
ARTICLES = GOLD / "articles"
runner = CliRunner()
LINK_SYSTEM = "Decide whether today's articles report new events"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Turkey", "Türkiye"),
        ("Turkish", "Turkey"),
        ("Bombay", "Mumbai"),
        ("Côte d'Ivoire", "Ivory Coast"),
        ("Kiev", "Kyiv"),
        ("Moskva", "Moscow"),
        ("Burma", "Myanmar"),
        ("Erdogan", "Erdoğan"),
        ("Recep Tayyip Erdoğan", "Erdogan"),
        ("Alexei Zhukovsky", "Aleksei Zhukovskiy"),
        ("Kadhafi", "Qadhafi"),
        ("Москва", "Moscow"),
        ("Эрдоган", "Erdogan"),
    ],
)
def test_one_name_however_spelt(a: str, b: str) -> None:
    x, y = names.evidence(f"Talks with {a} went on."), names.evidence(f"Talks with {b} went on.")
    assert x.names.keys() == y.names.keys() and x.names, (x.names, y.names)


@pytest.mark.parametrize(
    ("a", "b"), [("Turkey", "Greece"), ("Mumbai", "Delhi"), ("Barros", "Barro"), ("Kast", "Jara")]
)
def test_different_names_stay_apart(a: str, b: str) -> None:
    x, y = names.evidence(f"Talks with {a} went on."), names.evidence(f"Talks with {b} went on.")
    assert not x.names.keys() & y.names.keys()


def test_common_words_and_sentence_openers_are_not_names() -> None:
    text = "Analysts said the Court would rule. The court met on Monday in Ankara. Officials left."
    assert set(names.evidence(text).names) == {"city:ankara"}


def test_stories_with_nothing_to_say_match_nothing() -> None:
    assert continuity.score([continuity.Side("")], [continuity.Side("  ")]) == []
    assert continuity.score([], [continuity.Side("Kyiv")]) == []


def test_a_shared_name_weighs_more_than_a_shared_country_on_a_quiet_day() -> None:
    """Two stories only: the IDF of the pair alone would give every shared term the same
    weight; the background keeps a rare name above a country everyone names."""
    base = continuity.Base()
    for text in ("Valaoritis met Demirtas in Greece.", "Valaoritis spoke in Greece."):
        base.add(names.evidence(text))
    assert base.idf("name:valaoritis") > base.idf("country:GR") > base.idf("said")


def test_a_reader_sees_the_evidence_an_operator_the_parts() -> None:
    earlier = continuity.Side("", (), ((ARTICLES / "kyiv-power-outage.txt").read_text(),))
    today = continuity.Side("", (), ((ARTICLES / "kiev-power-restored.txt").read_text(),))
    (m,) = continuity.score([today], [earlier])
    assert m.explain().startswith("linked on shared names: Kiev, Ukrenergo")
    assert "score" not in m.explain() and " x " not in m.explain() and "0." not in m.explain()
    parts = m.parts()
    assert parts["score"] == m.score and set(parts["weights"]) == {"names", "words"}
    assert "Kiev" in parts["shared_names"]


def test_gold_links_gate_offline(tmp_path: Path) -> None:
    """The CI gate: the link set scores P/R/F1 >= 0.95 with no model at all."""
    out = tmp_path / "links.json"
    r = runner.invoke(
        app,
        ["eval", str(GOLD), "-o", str(out), "--min", "link_precision=0.95",
         "--min", "link_recall=0.95", "--min", "link_f1=0.95"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["kind"] == "link" and len(data["pairs"]) >= 30
    assert sum(p["continues"] for p in data["pairs"]) >= 12
    assert sum(not p["continues"] for p in data["pairs"]) >= 12
    assert all(data["overall"][m] >= 0.95 for m in ("link_precision", "link_recall", "link_f1"))
    assert all(g["passed"] for g in data["gates"])
    assert "link_f1" in r.output


def test_the_threshold_sits_between_the_sets_scores() -> None:
    """The threshold was chosen on the gold set: every continuing pair scores above it and
    every look-alike below, by a margin."""
    from summarizer.eval import links

    result = links.score_pairs(links.load_link_set(GOLD, max_bytes=2_000_000), 0.0)
    yes = [p.match.score if p.match else 0.0 for p in result.pairs if p.continues]
    no = [p.match.score if p.match else 0.0 for p in result.pairs if not p.continues]
    threshold = ContinuityConfig().threshold
    assert min(yes) > threshold * 1.2 and max(no) < threshold / 1.2


def test_a_link_gate_below_its_floor_fails_after_writing(tmp_path: Path) -> None:
    folder = tmp_path / "links"
    shutil.copytree(GOLD, folder)
    pair = json.loads((folder / "kyiv-power-outage--kyiv-donor-conference.json").read_text())
    pair["continues"] = True  # a wrong gold answer: recall drops
    (folder / "kyiv-power-outage--kyiv-donor-conference.json").write_text(json.dumps(pair))
    out = tmp_path / "links.json"
    r = runner.invoke(app, ["eval", str(folder), "-o", str(out), "--min", "link_recall=0.99"])
    assert r.exit_code == 14, r.output
    assert "link_recall" in r.output and json.loads(out.read_text())["gates"][0]["passed"] is False


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(continues="maybe"), "continues"),
        (lambda d: d.update(today=[]), "today"),
        (lambda d: d.update(earlier=["articles/missing.txt"]), "missing.txt"),
        (lambda d: d.update(extra=1), "extra"),
    ],
)
def test_a_bad_link_file_is_named_and_costs_nothing(tmp_path: Path, change: Any, says: str) -> None:
    folder = tmp_path / "links"
    shutil.copytree(GOLD, folder)
    f = folder / "kyiv-power-outage--kiev-power-restored.json"
    data = json.loads(f.read_text())
    change(data)
    f.write_text(json.dumps(data))
    out = tmp_path / "links.json"
    r = runner.invoke(app, ["eval", str(folder), "-o", str(out)])
    assert r.exit_code == 4, r.output  # an input error
    assert f.name in r.output and says in r.output and not out.exists()


def test_link_pairs_and_article_gold_files_do_not_mix(tmp_path: Path) -> None:
    folder = tmp_path / "links"
    shutil.copytree(GOLD, folder)
    shutil.copy(ROOT / "seeds" / "gold" / "merger.json", folder / "merger.json")
    r = runner.invoke(app, ["eval", str(folder)])
    assert r.exit_code == 4 and "merger.json" in r.output and "directory of their own" in r.output


def test_an_unknown_link_metric_is_refused() -> None:
    r = runner.invoke(app, ["eval", str(GOLD), "--min", "stance_f1=0.5"])
    assert r.exit_code == 3 and "link_precision" in r.output  # a configuration error


def scripted(request: dict[str, Any]) -> Reply:
    """The test server's grounded answers; a continuation repeats the first article's notes
    and reports nothing new (what changed is not what these tests look at); a close match
    is answered no."""
    system = request["messages"][0]["content"]
    if LINK_SYSTEM in system:
        return Reply({"continues": False, "reason": "Scripted: no."})
    if "briefed before" in system:
        docs = articles_in(request)
        first = next(json.loads(v) for k, v in docs.items() if k != "PREVIOUS")
        return Reply({**first, "new_developments": [], "answered_questions": []})
    return grounded_brief(request)


def _day(tmp: Path, server: FakeOpenAI, day: str, files: list[str], *args: str) -> dict[str, Any]:
    src = tmp / f"src-{day}"
    src.mkdir(exist_ok=True)
    for name in files:
        shutil.copy(ARTICLES / f"{name}.txt", src / f"{name}.txt")
    out = tmp / "out"
    r = runner.invoke(
        app,
        ["daily", "-s", str(src), "--out-dir", str(out), "--store", str(tmp / "s.db"),
         "--base-url", server.base_url, "--date", day, *args],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return json.loads((out / f"{day}.json").read_text())  # type: ignore[no-any-return]


def _by_source(daily: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        Path(s["path"]).stem: story["story"] for story in daily["stories"] for s in story["sources"]
    }


def test_daily_runs_link_continuations_in_other_words_and_no_look_alike(tmp_path: Path) -> None:
    """Held-out articles through two real daily runs, with the test server's scripted
    answers (each article's first sentence, nothing more): the article evidence links the
    continuations, spelt and told otherwise, and joins none of the look-alikes."""
    day1 = ["kyiv-power-outage", "mumbai-monsoon-floods", "brazil-minister-china-trade",
            "rotterdam-port-strike"]  # fmt: skip
    day2 = ["kiev-power-restored", "bombay-trains-resume", "brazil-minister-court",
            "antwerp-pilots-strike", "mumbai-sensex-record"]  # fmt: skip
    with FakeOpenAI(scripted) as server:
        d1 = _by_source(_day(tmp_path, server, "2026-03-02", day1))
        d2 = _by_source(_day(tmp_path, server, "2026-03-04", day2))
    for earlier, today in (
        ("kyiv-power-outage", "kiev-power-restored"),
        ("mumbai-monsoon-floods", "bombay-trains-resume"),
    ):
        assert d2[today]["story_id"] == d1[earlier]["story_id"], d2[today]
        assert d2[today]["continues_from"] == "2026-03-02"
        assert d2[today]["match"].startswith("linked on shared names: ")
        parts = d2[today]["match_evidence"]  # for operators: the score and its parts
        assert parts["score"] >= parts["threshold"] == ContinuityConfig().threshold
        assert parts["shared_names"] and parts["checked"] is False
    for look_alike in ("brazil-minister-court", "antwerp-pilots-strike", "mumbai-sensex-record"):
        assert d2[look_alike]["continues_from"] is None, d2[look_alike]
    # The same minister, other events: close, so the model was asked, and it said no.
    assert "the match was close" in d2["brazil-minister-court"]["note"]


class LinkModel:
    """The scripted model, with a `link` answer tests choose: a grounded yes, a yes with an
    invented quote, or a no."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.link_calls = 0

    def __call__(self, request: dict[str, Any]) -> Reply:
        if LINK_SYSTEM not in request["messages"][0]["content"]:
            return scripted(request)
        self.link_calls += 1
        docs = articles_in(request)
        if self.answer == "no":
            return Reply({"continues": False, "reason": "Same minister, other events."})
        today = docs["S1"].split("\n")[0].strip()
        earlier = docs["EARLIER"].split("\n")[0].strip()
        if self.answer == "invented":
            today = "The minister resigned in tears on live television."
        return Reply(
            {
                "continues": True,
                "today_quote": {"quote": today, "source_id": "S1"},
                "earlier_quote": {"quote": earlier, "source_id": "EARLIER"},
                "reason": "Scripted.",
            }
        )


@pytest.mark.parametrize(("answer", "joined"), [("yes", True), ("no", False), ("invented", False)])
def test_a_close_match_is_joined_only_on_a_grounded_yes(
    tmp_path: Path, answer: str, joined: bool
) -> None:
    """brazil-minister-court scores inside the check margin: one `link` call decides it,
    only a yes whose two quotes are found joins, and a rerun asks nothing again."""
    model = LinkModel(answer)
    with FakeOpenAI(model) as server:
        d1 = _by_source(_day(tmp_path, server, "2026-03-02", ["brazil-minister-china-trade"]))
        assert model.link_calls == 0  # nothing to compare with: no call
        d2 = _by_source(_day(tmp_path, server, "2026-03-04", ["brazil-minister-court"]))
        calls = model.link_calls
        assert calls >= 1 if answer == "invented" else calls == 1  # an invented quote: reasked
        story = d2["brazil-minister-court"]
        if joined:
            assert story["story_id"] == d1["brazil-minister-china-trade"]["story_id"]
            assert "close match, confirmed" in story["match"] and "score" not in story["match"]
            assert story["match_evidence"]["checked"] is True
        else:
            assert story["continues_from"] is None
            assert "the match was close" in story["note"]
        shutil.rmtree(tmp_path / "src-2026-03-04")
        _day(tmp_path, server, "2026-03-04", ["brazil-minister-court"])
        assert model.link_calls == calls  # the answer is cached: a rerun asks nothing


def test_no_close_match_no_link_call(tmp_path: Path) -> None:
    model = LinkModel("yes")
    with FakeOpenAI(model) as server:
        _day(tmp_path, server, "2026-03-02", ["kyiv-power-outage"])
        d2 = _by_source(_day(tmp_path, server, "2026-03-04", ["kiev-power-restored"]))
    assert model.link_calls == 0 and d2["kiev-power-restored"]["continues_from"] == "2026-03-02"


def test_embeddings_are_asked_once_per_text_and_kept(tmp_path: Path) -> None:
    """[daily.continuity] embeddings: the stories' texts go to /v1/embeddings (the test
    server's deterministic answer), the match records their cosine, the call is counted
    with the run's, and a rerun embeds nothing again."""
    config = tmp_path / "c.toml"
    config.write_text('[daily.continuity]\nembeddings = "text-embedding-3-small"\n')
    with FakeOpenAI(scripted) as server:
        _day(tmp_path, server, "2026-03-02", ["kyiv-power-outage"], "--config", str(config))
        assert server.embedding_requests == 0  # nothing earlier to compare with
        daily = _day(
            tmp_path, server, "2026-03-04", ["kiev-power-restored"], "--config", str(config)
        )
        assert server.embedding_requests == 1  # today's and the earlier story's, in one
        link = _by_source(daily)["kiev-power-restored"]
        assert link["continues_from"] == "2026-03-02"
        assert 0 < link["match_evidence"]["meaning"] <= 1
        embedded = [r for r in server.requests if "input" in r]
        assert embedded[0]["model"] == "text-embedding-3-small" and len(embedded[0]["input"]) == 2
        _day(tmp_path, server, "2026-03-04", ["kiev-power-restored"], "--config", str(config))
        assert server.embedding_requests == 1  # kept in the store: a rerun asks nothing


def test_an_embedding_call_is_priced_at_its_own_rate() -> None:
    from summarizer.llm.calls import CallLog, CallRecord

    chat = CallRecord("a", "gpt-4o-mini", 200, 1_000_000, 0, 1.0, False, False)
    emb = CallRecord(
        "b", "text-embedding-3-small", 200, 1_000_000, 0, 1.0, False, False, embedding=True
    )
    assert CallLog([chat, emb]).priced("gpt-4o-mini") == pytest.approx(0.15 + 0.02)
    local = CallRecord("c", "local-embedder", 200, 10, 0, 1.0, False, False, embedding=True)
    assert CallLog([chat, local]).priced("gpt-4o-mini") is None  # unknown price: not guessed


def test_an_endpoint_that_cannot_embed_leaves_matching_as_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer.testing import openai_server

    def broken(request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("no embeddings here")  # the server drops the connection

    monkeypatch.setattr(openai_server, "embeddings_body", broken)
    config = tmp_path / "c.toml"
    config.write_text('[daily.continuity]\nembeddings = "text-embedding-3-small"\n')
    with FakeOpenAI(scripted) as server:
        _day(tmp_path, server, "2026-03-02", ["kyiv-power-outage"], "--config", str(config))
        daily = _day(
            tmp_path, server, "2026-03-04", ["kiev-power-restored"], "--config", str(config),
            "--retries", "0",
        )  # fmt: skip
    link = _by_source(daily)["kiev-power-restored"]
    assert link["continues_from"] == "2026-03-02" and link["match_evidence"]["meaning"] is None


def test_a_close_match_check_is_recorded_and_replayed(tmp_path: Path) -> None:
    """The `link` call goes through the same transport as every call: recorded with
    --record, answered from the recording with --replay (a fresh store, no server)."""
    recordings = tmp_path / "rec"
    model = LinkModel("yes")
    live, replay = tmp_path / "live", tmp_path / "replay"
    live.mkdir()
    replay.mkdir()
    with FakeOpenAI(model) as server:
        _day(
            live, server, "2026-03-02", ["brazil-minister-china-trade"], "--record", str(recordings)
        )
        _day(live, server, "2026-03-04", ["brazil-minister-court"], "--record", str(recordings))
    assert model.link_calls == 1
    for day, name in (
        ("2026-03-02", "brazil-minister-china-trade"),
        ("2026-03-04", "brazil-minister-court"),
    ):
        src = replay / f"src-{day}"
        src.mkdir()
        shutil.copy(ARTICLES / f"{name}.txt", src / f"{name}.txt")
        r = runner.invoke(
            app,
            ["daily", "-s", str(src), "--out-dir", str(replay / "out"), "--store",
             str(replay / "s.db"), "--replay", str(recordings), "--date", day],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    d2 = json.loads((replay / "out" / "2026-03-04.json").read_text())
    link = _by_source(d2)["brazil-minister-court"]
    assert link["continues_from"] == "2026-03-02" and link["match_evidence"]["checked"] is True
    assert d2["provenance"]["replayed"] is True
