"""Re-make seeds/recordings from the hand-written answers in seeds/fixtures/.

No model is involved: the loopback test server serves each fixture (or, for an article
without one, a brief it builds from the article's own sentences), and the recorder marks
every file it writes origin=fixture, so a brief replayed from them says it is not model
output. Run after changing a prompt, the schema or a default setting:

    python seeds/record_fixtures.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.daily import DailyConfig, run_daily
from summarizer.eval import Variant, load_gold_set, run_variant
from summarizer.eval.run import kind_checker
from summarizer.sources.ingest import read_path
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Reply, articles_in, grounded_brief

SEEDS = Path(__file__).resolve().parent
FIXTURES = SEEDS / "fixtures"
# The gold set's answers: `NAME.json` answers seeds/gold/articles/NAME.txt; a file with a
# `_match` answers the chunk of a long article that contains that text, and `story-*.json`
# the merge of its chunks (the story prompt), as for the daily seeds.
GOLD_FIXTURES = FIXTURES / "gold"
GOLD = SEEDS / "gold"


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _kind_answers(kind: str) -> dict[str, dict[str, Any]]:
    """Article text -> its hand-written output of another kind (fixtures/KIND/NAME.json)."""
    found: dict[str, dict[str, Any]] = {}
    for fixture in (FIXTURES / kind).glob("*.json"):
        for article in [
            *SEEDS.glob(f"{fixture.stem}.txt"),
            *SEEDS.glob(f"daily/{fixture.stem}.txt"),
            *GOLD.glob(f"articles/{fixture.stem}.txt"),
        ]:
            found[read_path(str(article), max_bytes=10**7).text] = _load(fixture)
    return found


def _schema_name(request: dict[str, Any]) -> str:
    """The response model's name: the tool's (tools mode) or the JSON schema's."""
    if request.get("tools"):
        return str(request["tools"][0]["function"]["name"])
    return str(request.get("response_format", {}).get("json_schema", {}).get("name", ""))


def _answers() -> tuple[
    dict[str, dict[str, Any]], list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]
]:
    """Article text -> its hand-written brief; (match, answer) for story fixtures; and
    (match, answer) for chunks of a long article."""
    by_text: dict[str, dict[str, Any]] = {}
    for fixture in FIXTURES.glob("*.json"):
        if fixture.stem.startswith(("story-", "continuation-")):
            continue
        for article in [
            *SEEDS.glob(f"{fixture.stem}.txt"),
            *SEEDS.glob(f"daily/{fixture.stem}.txt"),
            *SEEDS.glob(f"daily-2/{fixture.stem}.txt"),
        ]:
            by_text[read_path(str(article), max_bytes=10**7).text] = _load(fixture)
    stories = [
        (json.loads(f.read_text(encoding="utf-8"))["_match"], _load(f))
        for f in sorted([*FIXTURES.glob("story-*.json"), *GOLD_FIXTURES.glob("story-*.json")])
    ]
    chunks: list[tuple[str, dict[str, Any]]] = []
    for fixture in sorted(GOLD_FIXTURES.glob("*.json")):
        if fixture.stem.startswith("story-"):
            continue
        match = json.loads(fixture.read_text(encoding="utf-8")).get("_match")
        if match:
            chunks.append((match, _load(fixture)))
        else:
            article = GOLD / "articles" / f"{fixture.stem}.txt"
            by_text[read_path(str(article), max_bytes=10**7).text] = _load(fixture)
    return by_text, stories, chunks


def _continuation(request: dict[str, Any]) -> Reply:
    """A continuing story's answer (fixtures/continuation-*.json), its answered questions
    given the ids the prompt's PREVIOUS block gave them."""
    docs = articles_in(request)
    user = request["messages"][-1]["content"]
    ids = {q["question"]: q["id"] for q in json.loads(docs["PREVIOUS"])["open_questions"]}
    for fixture in sorted(FIXTURES.glob("continuation-*.json")):
        data = json.loads(fixture.read_text(encoding="utf-8"))
        if data["_match"] in user:
            answer = _load(fixture)
            answer["answered_questions"] = [
                {
                    "question_id": ids[a["_question"]],
                    "answer": a["answer"],
                    "evidence": a["evidence"],
                }
                for a in answer["answered_questions"]
                if a["_question"] in ids
            ]
            return Reply(answer)
    raise SystemExit("no continuation fixture matches; add one to seeds/fixtures/")


def responder(request: dict[str, Any]) -> Reply:
    by_text, stories, chunks = _answers()
    docs = articles_in(request)
    if "briefed before" in request["messages"][0]["content"]:
        return _continuation(request)
    if _schema_name(request) == "TimelineContent":
        text = next(iter(docs.values()), "")
        for known, answer in _kind_answers("timeline").items():
            if known.strip() == text.strip():
                return Reply(answer)
        raise SystemExit("no timeline fixture for an article; add one to seeds/fixtures/timeline/")
    system = request["messages"][0]["content"]
    if "notes extracted" in system:
        user = request["messages"][-1]["content"]
        for match, answer in stories:
            if match in user:
                return Reply(answer)
        return grounded_brief(request)
    text = next(iter(docs.values()), "")
    # The same article, copied into daily/, has the same text: it needs one answer.
    for known, answer in by_text.items():
        if known.strip() == text.strip():
            return Reply(answer)
    for match, answer in chunks:
        if match in text:
            return Reply(answer)
    return grounded_brief(request)


def main() -> None:
    out = SEEDS / "recordings"
    shutil.rmtree(out, ignore_errors=True)
    with FakeOpenAI(responder) as server, tempfile.TemporaryDirectory() as tmp:
        # Only the endpoint differs from a default run; the recording key ignores it.
        settings = load_settings(base_url=server.base_url, record_dir=out)
        for article in sorted(SEEDS.glob("*.txt")):
            doc = read_path(str(article), max_bytes=settings.max_input_bytes)
            asyncio.run(brief_documents([doc], settings))
            print(f"recorded brief {article.name}")
        for fixture in sorted((FIXTURES / "timeline").glob("*.json")):
            if not (SEEDS / f"{fixture.stem}.txt").exists():
                continue  # a gold article's: recorded with the gold set below
            doc = read_path(str(SEEDS / f"{fixture.stem}.txt"), max_bytes=settings.max_input_bytes)
            asyncio.run(brief_documents([doc], settings, kind="timeline"))
            print(f"recorded timeline {fixture.stem}.txt")
        cfg = DailyConfig(
            sources=[str(SEEDS / "daily")], out_dir=Path(tmp) / "out", date="2026-11-25"
        )
        store = Store(Path(tmp) / "s.db")
        result = asyncio.run(run_daily(cfg, settings, store=store))
        print(
            f"recorded daily: {len(result.daily.stories)} stories, {result.daily.provenance.llm_calls} calls"
        )
        # The same day as a batch run (daily --batch), on a store of its own: the upload,
        # the batch, its polls and its output, so `daily --batch --replay` works offline.
        cfg = DailyConfig(
            sources=[str(SEEDS / "daily")], out_dir=Path(tmp) / "out-batch", date="2026-11-25",
            batch=True, wait=True, batch_poll=0.01,
        )  # fmt: skip
        result = asyncio.run(run_daily(cfg, settings, store=Store(Path(tmp) / "batch.db")))
        print(
            f"recorded daily --batch: {len(result.daily.stories)} stories, "
            f"{result.daily.provenance.batched_calls} batched calls"
        )
        # Day 2 of the demo, on the same store: the Haftar story continues.
        cfg = DailyConfig(
            sources=[str(SEEDS / "daily-2")], out_dir=Path(tmp) / "out", date="2026-11-26"
        )
        result = asyncio.run(run_daily(cfg, settings, store=store))
        print(
            f"recorded daily day 2: {len(result.daily.stories)} stories, "
            f"{result.daily.provenance.llm_calls} calls"
        )
        # The gold set, through the eval's own path, so `summarizer eval seeds/gold
        # --replay seeds/recordings` finds every request it makes.
        cases = load_gold_set(
            GOLD, max_bytes=settings.max_input_bytes, check_kind=kind_checker(settings)
        )
        scored = asyncio.run(run_variant(cases, settings, Variant()))
        print(f"recorded gold set: {len(cases)} articles, {scored.counts.calls} calls")


if __name__ == "__main__":
    main()
