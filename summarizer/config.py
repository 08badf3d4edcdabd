"""Settings: typed models, one loader, one stated precedence.

    command-line flag  >  environment  >  config file (TOML)  >  default

Every settings model is built by `load` here: the model settings (`Settings`, the config
file's top-level keys, `load_settings`), the network front doors' (`ServiceSettings`: the
HTTP API, the Slack bot, the MCP server and the queue workers; service/settings.py) and a
daily run's (`DailyConfig`, the `[daily]` table; daily/config.py). A flag that is None (or
an empty list) was not given. A value that does not validate is a ConfigError of one line
naming the setting and where it came from, never the value: it may be a key or a token.

Environment variables are `SUMMARIZER_<FIELD>` (e.g. SUMMARIZER_MODEL), plus the OpenAI
SDK's own OPENAI_API_KEY and OPENAI_BASE_URL so Ollama, vLLM, llama.cpp and gateways work
as they do everywhere else. The config file is `--config FILE`, else $SUMMARIZER_CONFIG,
else $XDG_CONFIG_HOME/summarizer/config.toml (~/.config/...) when it exists.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from summarizer.errors import ConfigError

# The structured-output modes an endpoint can be asked for; "auto" probes the endpoint once
# (per base URL and model, remembered in the store) and picks the first that works.
ResolvedMode = Literal["tools", "json_schema", "md_json"]
Mode = Literal["tools", "json_schema", "md_json", "auto"]
# Where the system prompt goes: as a system message, or merged into the first user message
# for chat formats that have no system turn (Gemma's, and llama.cpp's `gemma` format).
SystemPrompt = Literal["system", "merge"]

# The config file's values for the model being built (set by `load` only): a source below
# the environment, so a settings model constructed directly reads flags and environment.
_file_values: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "summarizer_file_values", default=None
)

# Tables of the same config file that belong to other parts ([daily] for cron runs,
# [service] for the HTTP API and bot); the model settings are the top-level keys.
SECTIONS = ("daily", "service")

M = TypeVar("M", bound=BaseModel)


class LayeredSettings(BaseSettings):
    """A settings model read from the environment (pydantic-settings' own source, with its
    aliases) between the flags and the config file's values: flag > env > file > default."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from_file = InitSettingsSource(settings_cls, init_kwargs=dict(_file_values.get() or {}))
        return init_settings, env_settings, from_file


def config_section(name: str, config_file: Path | None = None) -> dict[str, Any]:
    """A table of the config file (e.g. 'daily'), or {} when there is none."""
    path = _resolve_config_path(config_file)
    if path is None:
        return {}
    return _section(path, name)


def _section(path: Path, name: str) -> dict[str, Any]:
    section = _read_toml(path).get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table; fix the file")
    return section


class Settings(LayeredSettings):
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


def read_config_file(path: Path) -> dict[str, Any]:
    """A TOML settings file, read whole; a syntax error is a one-line ConfigError."""
    return _read_toml(path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None


def given(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The flags a user gave: None (and an empty list, a repeatable flag never used) was
    not given, and must not hide the environment's or the file's value."""
    return {k: v for k, v in flags.items() if v is not None and v != []}


def invalid(exc: ValidationError, what: str, origin: str = "") -> ConfigError:
    """A validation error as one line: the setting, pydantic's reason, where the value came
    from. The value itself is left out, and cut out of a validator's own message that
    repeats it: it may be a key or a token."""
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"]) or "settings"
    msg = str(err["msg"])
    for value in sorted(_strings(err.get("input")), key=len, reverse=True):
        if len(value) >= 8:  # shorter ones are not secrets and would cut a word ("1", "md")
            msg = msg.replace(value, "(the value)")
    return ConfigError(f"{what} {where}: {msg}{origin}; fix the value")


def _strings(value: Any) -> list[str]:
    """Every string in a refused input (a list of formats, a table of kinds, a secret)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in _strings(v)]
    return []


def load(
    model: type[M],
    *,
    flags: Mapping[str, Any],
    file_values: Mapping[str, Any],
    env_values: Mapping[str, Any] | None = None,
    what: str = "setting",
    origin: str = "",
) -> M:
    """The one loader: `model` built from flags > environment > file values > defaults.

    A LayeredSettings model reads its environment itself (its prefix and aliases); a plain
    model takes the environment's values it has in `env_values`. `what` and `origin` name
    the setting's kind and its file in the error ("daily setting", " (config file P)")."""
    chosen = given(flags)
    try:
        if issubclass(model, LayeredSettings):
            token = _file_values.set(file_values)
            try:
                return model(**chosen)
            finally:
                _file_values.reset(token)
        return model(**{**file_values, **(env_values or {}), **chosen})
    except ValidationError as exc:
        raise invalid(exc, what, origin) from None


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Build Settings from flags (None means 'not given'), environment and config file."""
    path = _resolve_config_path(config_file)
    data = _read_toml(path) if path is not None else {}
    top = {k: v for k, v in data.items() if k not in SECTIONS}
    origin = f" (config file {path})" if path else ""
    return load(Settings, flags=flags, file_values=top, origin=origin)
