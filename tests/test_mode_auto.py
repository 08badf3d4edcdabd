"""--mode auto (probed once per endpoint and model, kept in the store) and
system_prompt = "merge" for chat formats that drop the system role."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from summarizer.config import load_settings
from summarizer.core.pipeline import brief_documents
from summarizer.llm import probe
from summarizer.sources.ingest import Document
from summarizer.store import Store
from summarizer.testing.openai_server import FakeOpenAI, Quirks
from tests.briefing import ARTICLE, brief_text


def run(server: FakeOpenAI, tmp_path: Path, **settings: object):
    return brief_text(base_url=server.base_url, store_path=tmp_path / "s.db", **settings)


def briefs(server: FakeOpenAI) -> list[dict]:
    return [r for r in server.requests if probe.MARKER not in str(r["messages"][-1].get("content"))]


def test_auto_prefers_tools_and_records_the_mode(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        brief = run(server, tmp_path, mode="auto")
        probes = len(server.requests) - len(briefs(server))
        assert probes == 1 and briefs(server)[0].get("tools")
    assert brief.provenance.mode == "tools"


def test_auto_probes_once_per_endpoint_and_model(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        run(server, tmp_path, mode="auto")
        server.requests.clear()
        run(server, tmp_path, mode="auto")  # a new run: the answer comes from the store
        assert len(briefs(server)) == len(server.requests) == 1
        run(server, tmp_path, mode="auto", model="gpt-4.1-mini")  # another model: probed
        assert len(server.requests) == 3
    rows = Store(tmp_path / "s.db")._db.execute("SELECT endpoint, model, mode FROM endpoint_modes")
    assert sorted(tuple(r) for r in rows) == [
        (server.base_url, "gpt-4.1-mini", "tools"),
        (server.base_url, "gpt-4o-mini", "tools"),
    ]


def test_auto_falls_back_past_modes_the_server_refuses(tmp_path: Path) -> None:
    quirks = Quirks(reject_modes={"tools", "json_schema"})
    with FakeOpenAI(quirks=quirks) as server:
        brief = run(server, tmp_path, mode="auto")
        sent = briefs(server)
    assert brief.provenance.mode == "md_json"
    assert not sent[0].get("tools") and not sent[0].get("response_format")


def test_auto_merges_the_system_prompt_when_the_server_drops_it(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        run(server, tmp_path / "plain", mode="tools")
        system, user = (m["content"] for m in server.requests[0]["messages"])
    with FakeOpenAI(quirks=Quirks(drop_system=True)) as server:
        brief = run(server, tmp_path, mode="auto")
        sent = briefs(server)[0]["messages"]
    assert brief.provenance.mode == "tools"
    # The rules come first, then the article: one user message.
    assert sent == [{"role": "user", "content": f"{system}\n\n{user}"}]
    assert Store(tmp_path / "s.db").get_endpoint_mode(server.base_url, "gpt-4o-mini") == (
        "tools",
        "merge",
    )


def test_auto_keeps_the_system_role_when_the_server_hears_it(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        run(server, tmp_path, mode="auto")
        assert briefs(server)[0]["messages"][0]["role"] == "system"


def test_merge_in_md_json_carries_instructors_schema_into_the_user_message(
    tmp_path: Path,
) -> None:
    with FakeOpenAI(quirks=Quirks(drop_system=True)) as server:
        run(server, tmp_path, mode="md_json", system_prompt="merge")
        sent = server.requests[0]["messages"]
    assert "system" not in [m["role"] for m in sent]
    assert "json_schema" in sent[0]["content"] and "stances" in sent[0]["content"]


def test_system_prompt_setting_from_config_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('system_prompt = "merge"\nmode = "auto"\n')
    s = load_settings(cfg)
    assert (s.system_prompt, s.mode) == ("merge", "auto")
    monkeypatch.setenv("SUMMARIZER_SYSTEM_PROMPT", "system")
    assert load_settings(cfg).system_prompt == "system"
    assert load_settings(cfg, system_prompt="merge").system_prompt == "merge"


def test_auto_with_replay_replays_the_probe_too(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    with FakeOpenAI() as server:
        live = run(server, tmp_path, mode="auto", record_dir=rec)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    s = load_settings(store_path=fresh / "s.db", mode="auto", replay_dir=rec)
    replayed = asyncio.run(brief_documents([Document(text=ARTICLE)], s))[0]
    assert replayed.title == live.title and replayed.provenance.mode == "tools"


def test_auto_still_works_when_the_store_cannot_keep_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"\x00garbage, not sqlite" * 100)
    with FakeOpenAI() as server:
        s = load_settings(base_url=server.base_url, store_path=bad, mode="auto")
        brief = asyncio.run(brief_documents([Document(text=ARTICLE)], s))[0]
    assert brief.provenance.mode == "tools"
    assert "probe result not kept" in caplog.text


def test_auto_passes_over_tools_a_server_accepts_but_ignores(tmp_path: Path) -> None:
    with FakeOpenAI(quirks=Quirks(ignore_tools=True)) as server:
        brief = run(server, tmp_path, mode="auto")
        sent = briefs(server)
    assert brief.provenance.mode == "json_schema"
    assert sent[0]["response_format"]["type"] == "json_schema"


def test_a_remembered_mode_the_endpoint_no_longer_does_is_forgotten(tmp_path: Path) -> None:
    from summarizer.errors import ModeUnsupported

    with FakeOpenAI() as server:
        run(server, tmp_path, mode="auto")  # probed: tools
        server.quirks = Quirks(reject_modes={"tools"})  # the server changed since
        with pytest.raises(ModeUnsupported, match="probe anew"):
            run(server, tmp_path, mode="auto")
        assert Store(tmp_path / "s.db").get_endpoint_mode(server.base_url, "gpt-4o-mini") is None
        brief = run(server, tmp_path, mode="auto")  # probes again
    assert brief.provenance.mode == "json_schema"


def test_auto_finds_md_json_with_merge_on_a_gemma_like_llama_cpp_server(tmp_path: Path) -> None:
    # llama-cpp-python with the gemma chat format: no tool calling, json_schema refused with
    # a 500, system messages dropped (and with them md_json's schema).
    quirks = Quirks(ignore_tools=True, reject_modes={"json_schema"}, drop_system=True)
    with FakeOpenAI(quirks=quirks) as server:
        brief = run(server, tmp_path, mode="auto")
        sent = briefs(server)[0]["messages"]
    assert brief.provenance.mode == "md_json" and brief.stances
    assert [m["role"] for m in sent] == ["user"] and "json_schema" in sent[0]["content"]


def test_md_json_without_the_schema_fails_on_such_a_server(tmp_path: Path) -> None:
    from summarizer.errors import ModelOutputError

    quirks = Quirks(drop_system=True)
    with FakeOpenAI(quirks=quirks) as server, pytest.raises(ModelOutputError):
        run(server, tmp_path, mode="md_json", max_reasks=0)


def test_auto_keeps_its_answer_in_either_store(store_target: str) -> None:
    where = (
        {"database_url": store_target}
        if store_target.startswith("postgresql://")
        else {"store_path": Path(store_target)}
    )
    with FakeOpenAI() as server:
        for _ in range(2):
            s = load_settings(base_url=server.base_url, mode="auto", **where)
            asyncio.run(brief_documents([Document(text=ARTICLE)], s))
        assert len(server.requests) - len(briefs(server)) == 1  # probed once, then remembered
    with Store(store_target) as store:
        assert store.get_endpoint_mode(server.base_url, "gpt-4o-mini") == ("tools", "system")
