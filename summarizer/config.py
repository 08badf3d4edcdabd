"""Settings: one typed model, with a stated precedence.

    command-line flag  >  environment  >  config file (TOML)  >  default

Environment variables are `SUMMARIZER_<FIELD>` (e.g. SUMMARIZER_MODEL), plus the OpenAI
SDK's own OPENAI_API_KEY and OPENAI_BASE_URL so Ollama, vLLM, llama.cpp and gateways work
as they do everywhere else. The config file is `--config FILE`, else $SUMMARIZER_CONFIG,
else $XDG_CONFIG_HOME/summarizer/config.toml (~/.config/...) when it exists.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from summarizer.errors import ConfigError

# The structured-output modes an endpoint can be asked for; "auto" probes the endpoint once
# (per base URL and model, remembered in the store) and picks the first that works.
ResolvedMode = Literal["tools", "json_schema", "md_json"]
Mode = Literal["tools", "json_schema", "md_json", "auto"]
# Where the system prompt goes: as a system message, or merged into the first user message
# for chat formats that have no system turn (Gemma's, and llama.cpp's `gemma` format).
SystemPrompt = Literal["system", "merge"]

_config_file: ContextVar[Path | None] = ContextVar("summarizer_config_file", default=None)

# Tables of the same config file that belong to other parts ([daily] for cron runs,
# [service] for the HTTP API and bot); the model settings are the top-level keys.
SECTIONS = ("daily", "service")


class _TomlSettings(TomlConfigSettingsSource):
    def _read_file(self, file_path: Any) -> dict[str, Any]:
        data = super()._read_file(file_path)
        return {k: v for k, v in data.items() if k not in SECTIONS}


def config_section(name: str, config_file: Path | None = None) -> dict[str, Any]:
    """A table of the config file (e.g. 'daily'), or {} when there is none."""
    path = _resolve_config_path(config_file)
    if path is None:
        return {}
    section = _read_toml(path).get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table; fix the file")
    return section


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUMMARIZER_", extra="forbid", populate_by_name=True, frozen=True
    )

    model: str = Field("gpt-4o-mini", description="Model name sent to the endpoint.")
    api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("api_key", "SUMMARIZER_API_KEY", "OPENAI_API_KEY"),
        description="API key; OPENAI_API_KEY works too. Never logged or recorded.",
    )
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("base_url", "SUMMARIZER_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama.",
    )
    mode: Mode = Field(
        "tools",
        description="instructor mode: tools, json_schema, md_json, or auto (probe the endpoint once).",
    )
    system_prompt: SystemPrompt = Field(
        "system",
        description=(
            "system: send the system prompt as a system message; merge: send it as the start "
            "of the first user message (for chat formats without a system role)."
        ),
    )
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one LLM response.")
    http_retries: int = Field(3, ge=0, le=10, description="Retries of 429, 5xx and timeouts.")
    max_reasks: int = Field(2, ge=0, le=5, description="Reasks after invalid or ungrounded output.")
    max_tokens: int = Field(4096, ge=256, description="Completion token limit per call.")
    temperature: float | None = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    grounding: Literal["drop", "fail"] = Field(
        "drop",
        description="Ungrounded quotes after all reasks: drop them (counted) or fail the run.",
    )
    max_input_bytes: int = Field(2_000_000, ge=1, description="Largest article accepted, in bytes.")
    max_page_bytes: int = Field(
        10_000_000,
        ge=1,
        description="Largest web page or feed downloaded (pages carry far more markup than text).",
    )
    concurrency: int = Field(4, ge=1, le=64, description="LLM calls in flight at once.")
    rpm: int | None = Field(None, ge=1, description="Requests-per-minute limit of the endpoint.")
    tpm: int | None = Field(None, ge=1, description="Tokens-per-minute limit of the endpoint.")
    rate_window: float = Field(
        60.0, gt=0, description="Window of the rpm/tpm limits, in seconds (60 for real APIs)."
    )
    language: str | None = Field(
        None, description="Write briefs in this language (quotes stay in the original)."
    )
    max_article_tokens: int = Field(
        12_000, ge=500, description="Longer articles are split into chunks of this size."
    )
    kind: str = Field(
        "brief", description="What to make (see `summarizer kinds`): brief, timeline, ..."
    )
    prompts_dir: Path | None = Field(
        None,
        description="A folder of prompt templates that override or add to the built-in ones.",
    )
    kind_files: list[Path] = Field(
        default_factory=list, description="Python files that register more kinds."
    )
    store_path: Path | None = Field(
        None, description="SQLite store; default $XDG_DATA_HOME/summarizer/summarizer.db."
    )
    database_url: str | None = Field(
        None,
        description="postgresql://... puts the store on PostgreSQL instead of SQLite.",
    )
    on_workers: bool = Field(
        False, description="daily: brief the articles on `summarizer worker`s (PostgreSQL)."
    )
    record_dir: Path | None = Field(None, description="Record every LLM exchange into this dir.")
    replay_dir: Path | None = Field(None, description="Answer LLM calls from recordings here.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(_TomlSettings(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def has_endpoint(self) -> bool:
        return self.api_key is not None or self.base_url is not None


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "summarizer" / "config.toml"


def _resolve_config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found; check the --config path")
        return explicit
    env = os.environ.get("SUMMARIZER_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"{p}: config file from SUMMARIZER_CONFIG not found; fix or unset it")
        return p
    p = default_config_path()
    return p if p.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Build Settings from flags (None means 'not given'), environment and config file."""
    path = _resolve_config_path(config_file)
    if path is not None:
        _read_toml(path)  # a syntax error is reported as such, before any field errors
    token = _config_file.set(path)
    try:
        return Settings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "settings"
        origin = f" (config file {path})" if path else ""
        raise ConfigError(f"setting {where}: {err['msg']}{origin}; fix the value") from None
    finally:
        _config_file.reset(token)
