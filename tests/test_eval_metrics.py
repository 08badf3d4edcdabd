"""The eval's metrics on small cases computed by hand (docs/eval.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.config import load_settings
from summarizer.errors import ConfigError, InputError
from summarizer.eval import metrics
from summarizer.eval.gold import load_gold_set
from summarizer.eval.run import kind_checker, parse_gate
from summarizer.eval.score import Counts, compute, failed, score_brief, total


def test_names_fold_case_accents_and_punctuation() -> None:
    assert metrics.name_tokens("Lucía  IBÁÑEZ-Ortega.") == {"lucia", "ibanez", "ortega"}
    # Letters NFKD does not decompose are folded too: dotless i, o with stroke.
    assert metrics.name_tokens("İbrahim Kalın, Søren") == {"ibrahim", "kalin", "soren"}
    assert metrics.name_tokens("Elm Street Traders' Association") == {
        "elm", "street", "traders", "association",
    }  # fmt: skip
    assert metrics.name_tokens("  ...  ") == frozenset()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Ana Ruiz", "ana RUIZ.", 1.0),
        ("Khalifa Haftar", "Haftar", 0.5),  # 1 shared / 2 in the union
        ("Greek government", "government of Greece", 0.25),  # {government} / 4
        ("a b c d e", "a b c d", 0.8),  # exactly the default threshold
        ("", "Greece", 0.0),
        ("Lucia Ibañez", "Lucía Ibáñez", 1.0),
    ],
)
def test_similarity_is_jaccard_of_token_sets(a: str, b: str, expected: float) -> None:
    assert metrics.similarity(a, b) == pytest.approx(expected)
    assert metrics.similarity(b, a) == pytest.approx(expected)


def test_coverage_is_the_share_of_gold_tokens_in_the_prediction() -> None:
    topic = "when the visit will take place"
    assert metrics.coverage(topic, "When will Haftar's visit take place?") == pytest.approx(5 / 6)
    assert metrics.coverage(topic, "What happens next?") == 0.0
    assert metrics.coverage("", "anything") == 0.0


def rows(*actors: str, issue: str = "x", stance: str = "supports") -> list[dict[str, object]]:
    return [{"actor": a, "issue": issue, "stance": stance} for a in actors]


def test_alias_counts_as_the_actor() -> None:
    gold = [{"actor": "Greece", "aliases": ["Athens", "Greek government"], "issue": "deal"}]
    found = metrics.match_stances(gold, rows("Athens"))
    assert [(m.gold, m.predicted, m.score) for m in found] == [(0, 0, 1.0)]
    assert metrics.match_stances(gold, rows("Greece and Egypt")) == []  # 1/3 < 0.8


def test_matching_is_one_to_one_and_greedy() -> None:
    # Two predicted rows for one gold actor: only one can match, the other is extra.
    found = metrics.match_stances(rows("Ana Ruiz"), rows("Ana Ruiz", "Mayor Ana Ruiz"))
    assert [(m.gold, m.predicted) for m in found] == [(0, 0)]
    # Best pairs first: P0 is 1.0 with G1 and 0.8 with G0, so G0 gets nothing (greedy, not
    # the assignment that would match both).
    gold = rows("a b c d e", "a b c d")
    found = metrics.match_stances(gold, rows("a b c d"), threshold=0.8)
    assert [(m.gold, m.predicted, m.score) for m in found] == [(1, 0, 1.0)]


def test_ties_go_to_the_closer_issue_then_to_list_order() -> None:
    gold = [
        {"actor": "Greece", "issue": "maritime deal", "stance": "opposes"},
        {"actor": "Greece", "issue": "Haftar visit", "stance": "neutral"},
    ]
    pred = [
        {"actor": "Greece", "issue": "Haftar's visit", "stance": "neutral"},
        {"actor": "Greece", "issue": "the maritime deal", "stance": "opposes"},
    ]
    found = metrics.match_stances(gold, pred)
    assert [(m.gold, m.predicted) for m in found] == [(0, 1), (1, 0)]
    # A perfect tie (same actor, same issue): lower gold index, then lower predicted index.
    found = metrics.match_stances(rows("X", "X"), rows("X", "X"))
    assert [(m.gold, m.predicted) for m in found] == [(0, 0), (1, 1)]


def test_precision_recall_f1_with_empty_sides() -> None:
    assert metrics.prf(2, 3, 4) == pytest.approx((2 / 3, 1 / 2, 4 / 7))
    assert metrics.prf(0, 0, 0) == (None, None, None)  # nothing to find, nothing found
    assert metrics.prf(0, 0, 3) == (None, 0.0, 0.0)  # found nothing: F1 is 0, not undefined
    assert metrics.prf(0, 2, 0) == (0.0, None, 0.0)


def test_label_f_avg_is_semeval_2016_favor_against_average() -> None:
    s, o, m, n = "supports", "opposes", "mixed", "neutral"
    pairs = [(s, s), (s, o), (o, o), (m, o), (n, n)]
    # supports: TP 1, predicted 1, gold 2 -> 2/3; opposes: TP 1, predicted 3, gold 1 -> 2/4.
    assert metrics.label_f_avg(pairs) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # neutral/mixed/unclear are never averaged, even when wrong between themselves.
    assert metrics.label_f_avg([(n, m), (m, "unclear")]) is None
    # A polar label absent from both sides is left out of the mean.
    assert metrics.label_f_avg([(s, s)]) == 1.0
    assert metrics.label_f_avg([]) is None
    counts = metrics.polar_counts(pairs)
    assert metrics.f_avg_from_counts(counts) == metrics.label_f_avg(pairs)


def brief(
    stances: list[dict[str, object]] | None = None,
    questions: list[str] | None = None,
    dropped: int = 0,
) -> dict[str, object]:
    return {
        "stances": stances or [],
        "open_questions": [
            {"question": q, "why_it_matters": "w", "what_would_resolve_it": "r"}
            for q in questions or []
        ],
        "disagreements": [],
        "sources": [{"id": "S1"}],
        "provenance": {
            "tokens_in": 100, "tokens_out": 20, "llm_calls": 2, "cost_usd": 0.001,
            "ungrounded_dropped": dropped,
        },
    }  # fmt: skip


SOURCE = "The mayor said the closure was “the only responsible choice” on Tuesday.\nMore text here."


def test_quote_shares_use_the_grounding_normalisation() -> None:
    row = {
        "actor": "Mayor",
        "issue": "closure",
        "stance": "supports",
        "evidence": [
            # Straight quotes for the article's curly ones: the same after normalisation.
            {"quote": 'the closure was "the only responsible choice"', "source_id": "S1"},
            # Found, but in S1, not in the S2 it cites: verbatim, misattributed, a defect.
            {"quote": "More text here.", "source_id": "S2"},
            # Nowhere: a paraphrase that the grounding check should never have let through.
            {"quote": "the closure was the only sensible choice", "source_id": "S1"},
        ],
    }
    score = score_brief({}, brief([row], dropped=1), {"S1": SOURCE, "S2": "Other article."})
    c = score.counts
    # 3 shown + 1 dropped by grounding = 4 quotes; 2 verbatim; 1 attributed right.
    assert (c.quotes, c.quotes_verbatim, c.quotes_attributed, c.quotes_dropped) == (4, 2, 1, 1)
    m = compute(c)
    assert (m["quote_verbatim"], m["quote_attribution"]) == (0.5, 0.25)
    assert c.quotes_shown_not_found == 2 and len(score.defects) == 2
    assert "S2" in score.defects[0]


def test_question_coverage_and_count() -> None:
    gold = {"open_questions": ["when the visit will take place", "the cost"]}
    s = score_brief(gold, brief(questions=["When will the visit take place?", "Who pays?"]), {})
    m = compute(s.counts)
    assert (m["question_coverage"], m["questions"]) == (0.5, 2)
    assert s.missed_topics == ["the cost"]
    # No gold topics: coverage not measured; no predicted questions: nothing covered.
    assert (
        compute(score_brief({}, brief(questions=["Why?"]), {}).counts)["question_coverage"] is None
    )
    assert compute(score_brief(gold, brief(), {}).counts)["question_coverage"] == 0.0


def test_stance_rows_labels_and_usage_for_one_brief() -> None:
    gold = {
        "stances": [
            {"actor": "Greece", "aliases": ["Athens"], "issue": "deal", "stance": "opposes"},
            {"actor": "Egypt", "aliases": [], "issue": "deal", "stance": "opposes"},
            {"actor": "Türkiye", "aliases": [], "issue": "deal", "stance": "supports"},
        ]
    }
    pred = [
        {"actor": "Athens", "issue": "deal", "stance": "opposes", "evidence": []},
        {"actor": "Turkiye", "issue": "deal", "stance": "mixed", "evidence": []},
        {"actor": "Libya", "issue": "deal", "stance": "neutral", "evidence": []},
    ]
    s = score_brief(gold, brief(pred), {})
    m = compute(s.counts)
    assert (m["stance_precision"], m["stance_recall"]) == (2 / 3, 2 / 3)
    assert m["label_accuracy"] == 0.5
    # opposes: TP 1, predicted 1, gold 1 -> 1; supports: TP 0, predicted 0, gold 1 -> 0.
    assert m["label_macro_f1"] == 0.5
    assert s.missed_actors == ["Egypt"] and s.extra_actors == ["Libya"]
    assert (m["tokens_in"], m["tokens_out"], m["calls"], m["cost_usd"]) == (100, 20, 2, 0.001)


def test_overall_is_micro_averaged_over_rows() -> None:
    a = Counts(gold_rows=1, predicted_rows=1, matched_rows=1, cost_usd=0.5)
    b = Counts(gold_rows=9, predicted_rows=9, matched_rows=0, cost_usd=0.25)
    overall = compute(total([a, b]))
    assert overall["stance_recall"] == 0.1  # 1 of 10 rows, not the mean of 1.0 and 0.0
    assert overall["cost_usd"] == 0.75
    assert compute(total([a, Counts(cost_usd=None)]))["cost_usd"] is None  # unknown price


def test_a_failed_article_scores_as_an_empty_brief() -> None:
    c = failed({"stances": [{"actor": "a"}], "open_questions": ["x", "y"]})
    m = compute(c)
    assert (m["stance_recall"], m["stance_precision"], m["question_coverage"]) == (0.0, None, 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-11-27", "2019-11-27"),
        ("2019-1-5", "2019-01-05"),
        ("27 November 2019", "2019-11-27"),
        ("Nov. 27, 2019", "2019-11-27"),
        ("November 27th, 2019", "2019-11-27"),
        ("on 27 November", "--11-27"),
        ("November 2019", "2019-11"),
        ("2019", "2019"),
        ("last Tuesday", "last tuesday"),
        ("Tuesday last", "last tuesday"),
    ],
)
def test_dates_normalise(text: str, expected: str) -> None:
    assert metrics.normalize_date(text) == expected


def test_events_match_on_date_and_what() -> None:
    gold = [
        {"date": "2019-11-27", "what": "maritime deal signed"},
        {"date": "2020-01-02", "what": "parliament vote"},
    ]
    pred = [
        {"date": "27 November 2019", "what": "Türkiye and Tripoli signed the maritime deal"},
        {"date": "3 January 2020", "what": "parliament vote"},  # wrong day
    ]
    assert [(m.gold, m.predicted) for m in metrics.match_events(gold, pred)] == [(0, 0)]
    c = score_brief({"events": gold}, {**brief(), "events": pred}, {}).counts
    assert compute(c)["event_f1"] == 0.5
    # The timeline kind's field name for `what`, and its quotes, are read as well.
    timeline = {
        "events": [
            {
                "date": "Nov. 27, 2019",
                "what_happened": "The maritime deal was signed.",
                "evidence": {"quote": "signed the maritime deal", "source_id": "S1"},
            }
        ]
    }
    c = score_brief(
        {"events": gold}, timeline, {"S1": "Both sides signed the maritime deal."}
    ).counts
    assert (c.matched_events, c.predicted_events, c.gold_events) == (1, 1, 2)
    assert (c.quotes, c.quotes_verbatim) == (1, 1)
    assert metrics.match_events([], pred) == [] and metrics.match_events(gold, []) == []


def test_scoring_is_deterministic() -> None:
    gold = {"stances": [{"actor": a, "issue": "x", "stance": "supports"} for a in "ABCD"]}
    pred = [{"actor": a, "issue": "x", "stance": "opposes"} for a in "DCBA"]
    first = score_brief(gold, brief(pred), {})
    for _ in range(5):
        again = score_brief(gold, brief(pred), {})
        assert again.counts == first.counts and again.matches == first.matches


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "one JSON object"),
        ({"text": "An article.", "stances": [{"actor": "A", "issue": "i", "stance": "loves"}]},
         "stances.0.stance"),
        ({"text": "An article.", "article": "a.txt"}, "exactly one of"),
        ({"stances": []}, "exactly one of"),
        ({"text": "An article.", "stance": []}, "stance"),  # misspelt key
        ({"article": "missing.txt"}, "missing.txt: no such file"),
        ({"text": "   "}, "is empty"),
        ({"text": "An article.", "kind": "poem"}, "kind 'poem'"),
        ({"text": "An article.", "kind": "story"}, "kind 'story' cannot be evaluated"),
        ({"text": "An article. " * 2000}, "over the 10,000-byte limit"),
    ],
)  # fmt: skip
def test_bad_gold_files_are_refused_by_name(tmp_path: Path, content: object, says: str) -> None:
    write(tmp_path / "a-good.json", {"text": "A fine article about a vote."})
    bad = write(tmp_path / "b-bad.json", content)
    with pytest.raises(InputError) as err:
        load_gold_set(tmp_path, max_bytes=10_000, check_kind=kind_checker(load_settings()))
    message = str(err.value)
    assert message.startswith(str(bad)) and says in message and "\n" not in message


def test_gold_directory_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no gold files"):
        load_gold_set(tmp_path, max_bytes=10_000)
    with pytest.raises(InputError, match="no such gold directory"):
        load_gold_set(tmp_path / "nope", max_bytes=10_000)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_bytes(b"\xff\xfe bad bytes")
    write(tmp_path / "g.json", {"article": "articles/a.txt"})
    with pytest.raises(InputError, match=r"g\.json: its article .*not UTF-8"):
        load_gold_set(tmp_path, max_bytes=10_000)
    (tmp_path / "g.json").write_bytes(b'\xff{"text": "x"}')
    with pytest.raises(InputError, match=r"g\.json: not UTF-8 text; save the gold file as UTF-8"):
        load_gold_set(tmp_path, max_bytes=10_000)


def test_gold_schema_is_exported_with_the_others() -> None:
    from summarizer.cli.schema_export import SCHEMAS, schema_json

    assert "gold" in SCHEMAS
    schema = json.loads(schema_json("gold"))
    assert schema["additionalProperties"] is False
    stance = schema["$defs"]["GoldStance"]
    assert stance["required"] == ["actor", "issue", "stance"]
    for model in [schema, *schema["$defs"].values()]:
        for name, spec in model.get("properties", {}).items():
            assert spec.get("description") or "$ref" in spec, name


def test_gold_set_in_the_repository_loads() -> None:
    root = Path(__file__).resolve().parent.parent / "seeds" / "gold"
    cases = load_gold_set(root, max_bytes=2_000_000, check_kind=kind_checker(load_settings()))
    assert len(cases) >= 8
    assert all("not real reporting" in (c.gold.note or "") for c in cases)
    assert all("not real reporting" in c.document.text or "no es información real" in c.document.text for c in cases)  # fmt: skip


def test_gates_parse() -> None:
    gate = parse_gate("stance_f1=0.8")
    assert (gate.metric, gate.floor) == ("stance_f1", 0.8)
    for bad in ("stance_f1", "f1=0.8", "stance_f1=high"):
        with pytest.raises(ConfigError):
            parse_gate(bad)
