"""The model a server briefs with: an OpenAI-compatible endpoint (or recordings), as every
other front door, or with `--llm client` the connected client's own model through MCP
sampling (llm/sampling.py), which needs no key at all."""

from __future__ import annotations

from typing import Literal

from summarizer.config import Settings
from summarizer.errors import ConfigError
from summarizer.llm.client import LLM

LlmSource = Literal["endpoint", "client"]

NO_ENDPOINT = (
    "no LLM endpoint configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (Ollama, "
    "vLLM, any OpenAI-compatible server), or pass --base-url; or use --llm client to brief "
    "with the connected assistant's own model, or --replay seeds/recordings to try it offline"
)


def build_llm(settings: Settings, source: LlmSource) -> tuple[Settings, LLM]:
    """(the settings briefs run with, the LLM). ConfigError at once, before serving, when
    there is no model to ask."""
    if source == "endpoint":
        if settings.replay_dir is None and not settings.has_endpoint:
            raise ConfigError(NO_ENDPOINT)
        return settings, LLM(settings, lazy=True)
    if settings.replay_dir is not None:
        raise ConfigError(
            "--llm client and --replay exclude each other: replay answers from recordings, "
            "client asks the assistant's model; pick one"
        )
    from summarizer.llm.sampling import CLIENT_MODEL, SAMPLING_BASE_URL, SamplingTransport

    # md_json: a sampled model writes JSON in text (no tools, no response_format). The
    # provenance names the model as the client's, since the client picks it.
    sampled = settings.model_copy(
        update={
            "base_url": SAMPLING_BASE_URL,
            "api_key": None,
            "mode": "md_json",
            "model": CLIENT_MODEL,
        }
    )
    return sampled, LLM(sampled, inner_transport=SamplingTransport(), lazy=True)
