"""`--mode auto`: ask the endpoint once which structured-output mode it can do, and whether
it hears the system prompt.

One tiny request per mode, in order of preference: tools (the provider enforces the
schema), then json_schema (the provider constrains the output), then md_json (the schema
is only text in the prompt, which any chat model can follow). The first mode whose answer
parses wins. The probe's system message holds a code word the user message asks for: a
model that answers in the right format without knowing the word never saw the system
message (llama.cpp's `gemma` chat format drops it), so the probe asks again with the
system prompt merged into the user message, and when that brings the word back, the
endpoint is used with `system_prompt = "merge"`. In md_json the schema itself is in the
system message, so a model that fails md_json is asked once more with it merged.

Probes are short: a few tokens (PROBE_MAX_TOKENS) and a timeout of their own
(PROBE_TIMEOUT, or --timeout when lower), so a slow mode costs seconds, not the brief's
4096 tokens at CPU speed. A mode that times out is skipped, with a line saying so, and the
next one is tried. The code word is compared without regard to case: a small model that
writes `periwinkle-7319` heard the system message. An HTTP failure that is not the endpoint
refusing the mode (a 502 from a gateway, a 503) ends the probe as the HTTP failure it is
(exit 6), not as the model's fault.

The answer is kept in the store per endpoint (its URL without credentials) and model, so
an endpoint is probed once, not once per run. The probe's calls are ordinary calls:
recorded, replayed, counted and priced like the brief's.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from summarizer.errors import (
    ModelOutputError,
    ModeUnsupported,
    ProviderError,
    ProviderUnreachable,
    SummarizerError,
)

if TYPE_CHECKING:
    from summarizer.llm.client import LLM
    from summarizer.store import Store

PREFERENCE = ("tools", "json_schema", "md_json")
CODE_WORD = "PERIWINKLE-7319"
MARKER = "summarizer mode probe"
_SYSTEM = f"You are a test endpoint check. The code word is {CODE_WORD}."
_USER = f"({MARKER}) What is the code word? Put it in the field `word`."
# The answer is a dozen tokens; room for a model that says a little more, no more.
PROBE_MAX_TOKENS = 100
# Seconds a probe may take (or --timeout, when lower): a mode slower than this is skipped.
PROBE_TIMEOUT = 30.0
log = logging.getLogger("summarizer.llm")


class ModeProbe(BaseModel):
    """The probe's answer."""

    word: str = Field(description="The code word from the instructions.")


@dataclass(frozen=True)
class Probed:
    mode: str
    merge: bool


def messages() -> list[dict[str, str]]:
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _USER}]


def heard(answer: ModeProbe | None) -> bool:
    """The answer holds the code word, in any case (a model may lower-case it)."""
    return answer is not None and CODE_WORD.casefold() in answer.word.casefold()


async def _ask(llm: LLM, mode: str, merge: bool) -> ModeProbe | None:
    """The probe's answer in `mode`, or None when the endpoint cannot do the mode (or is
    too slow in it: skipped, with a line saying so)."""
    timeout = min(PROBE_TIMEOUT, llm.settings.timeout)
    try:
        return await llm.ask(
            ModeProbe, messages(), mode=mode, merge=merge, reasks=0,
            max_tokens=PROBE_MAX_TOKENS, timeout=timeout,
        )  # fmt: skip
    except ProviderUnreachable as exc:
        if exc.how != "timeout":
            raise
        log.warning(
            "--mode auto: %s gave no answer within %gs (a probe asks for %d tokens); "
            "skipped as too slow, trying the next mode",
            mode, timeout, PROBE_MAX_TOKENS,
        )  # fmt: skip
        return None
    except ModeUnsupported:
        return None
    except ProviderError as exc:
        # A wrong key, model or base URL, a rate limit, or a failing server or gateway
        # (5xx that does not name the mode) is not a mode problem: say so at once.
        if exc.status in (401, 403, 404, 429) or (exc.status or 0) >= 500:
            raise
        return None
    except ModelOutputError:
        return None


async def probe(llm: LLM) -> Probed:
    for mode in PREFERENCE:
        answer = await _ask(llm, mode, merge=False)
        if answer is None and mode == "md_json":
            # md_json's schema lives in the system message: a model that never sees it
            # cannot answer in the format, so the mode is tried with it merged.
            merged = await _ask(llm, mode, merge=True)
            if merged is not None:
                return Probed(mode, merge=True)
        if answer is None:
            continue
        if heard(answer):
            return Probed(mode, merge=False)
        merged = await _ask(llm, mode, merge=True)
        return Probed(mode, merge=heard(merged))
    raise ModelOutputError(
        f"--mode auto: model {llm.settings.model!r} gave no usable answer in any mode "
        f"({', '.join(PREFERENCE)}); check that the model follows instructions, or pick a "
        "--mode and look at its error"
    )


def remembered(llm: LLM, endpoint: str) -> Probed | None:
    store = _store(llm)
    if store is None:
        return None
    try:
        row = store.get_endpoint_mode(endpoint, llm.settings.model)
    except (SummarizerError, sqlite3.Error) as exc:
        _not_kept(exc)
        return None
    finally:
        store.close()
    return None if row is None else Probed(row[0], row[1] == "merge")


def remember(llm: LLM, endpoint: str, found: Probed) -> None:
    store = _store(llm)
    if store is None:
        return
    try:
        store.put_endpoint_mode(
            endpoint, llm.settings.model, found.mode, "merge" if found.merge else "system"
        )
    except (SummarizerError, sqlite3.Error) as exc:
        _not_kept(exc)  # the run goes on; the next one probes again
    finally:
        store.close()


def forget(llm: LLM, endpoint: str) -> None:
    store = _store(llm)
    if store is None:
        return
    try:
        store.forget_endpoint_mode(endpoint, llm.settings.model)
    except (SummarizerError, sqlite3.Error) as exc:
        _not_kept(exc)
    finally:
        store.close()


def _store(llm: LLM) -> Store | None:
    """The store, or None when it cannot be opened: then the probe runs every time."""
    from summarizer.store import Store, default_store_path

    settings = llm.settings
    try:
        # The run's own store: PostgreSQL when database_url is set, else the SQLite file.
        return Store(settings.database_url or settings.store_path or default_store_path())
    except (SummarizerError, sqlite3.Error) as exc:
        _not_kept(exc)
        return None


def _not_kept(exc: BaseException) -> None:
    logging.getLogger("summarizer.llm").warning("--mode auto: probe result not kept (%s)", exc)
