"""Settings of the two network front doors: the HTTP API and the Slack bot.

One typed model, built by the one loader of config.py with its precedence:

    command-line flag  >  environment  >  service config file (TOML)  >  default

Environment variables are `SUMMARIZER_<FIELD>` (SUMMARIZER_API_KEYS is comma-separated),
plus Slack's usual SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APP_TOKEN. The file is
`--service-config FILE`, else $SUMMARIZER_SERVICE_CONFIG, else the `[service]` table of the
main config file (`--config`, see config.py), so one file can hold everything.
Every secret is a SecretStr: it never shows in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from summarizer.config import LayeredSettings, config_section, load, read_config_file
from summarizer.errors import ConfigError

# Slack's own requests are small: a message's text is cut at 40,000 characters, which is
# at most 160 KB of UTF-8; an event carries it twice (text and rich-text blocks) and a slash
# command form-encodes it (up to 3 bytes per byte), so no real payload nears 0.5 MB. 1 MiB
# leaves room for that and refuses the 100 MB bodies that once cost the bot 1 GB of memory.
SLACK_MAX_BODY_BYTES = 1_048_576
# A key shorter than this can be guessed; the API refuses to start with one.
MIN_KEY_CHARS = 16


class ServiceSettings(LayeredSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUMMARIZER_", extra="forbid", populate_by_name=True, frozen=True
    )

    # NoDecode: the environment gives "k1,k2", not the JSON list pydantic-settings expects.
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), description="Bearer keys accepted by the HTTP API (SUMMARIZER_API_KEYS=k1,k2)."
    )
    admin_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (),
        description=(
            "Bearer keys that may also read every API brief and job, whichever key made it "
            "(SUMMARIZER_ADMIN_KEYS=k1,k2); they are valid API keys on their own."
        ),
    )
    local_briefs: Literal["none", "admin", "all"] = Field(
        "none",
        description=(
            "Who may read briefs made outside the API (summarizer brief, daily, the Slack "
            "bot) by id: none, admin keys, or all keys. They can name local files."
        ),
    )
    rate_limit_per_minute: int = Field(
        60, ge=0, description="Requests per API key per minute; 0 turns the limit off."
    )
    auth_failures_per_minute: int = Field(
        10,
        ge=0,
        description=(
            "Failed authentications a client address may make per minute before it is "
            "refused (429) for a while; 0 turns the throttle off."
        ),
    )
    max_body_bytes: int = Field(2_500_000, ge=1024, description="Largest request body accepted.")
    max_sync_waiting: int = Field(
        16,
        ge=0,
        description=(
            "Synchronous briefs that may wait for a free model slot (beyond `concurrency` "
            "running); past it the API answers 503 with Retry-After."
        ),
    )
    job_lease_seconds: float = Field(
        60.0,
        gt=0,
        description=(
            "A job's process must renew its lease this often (it does so every quarter of "
            "it); another process fails the job only once the lease has lapsed, or at once "
            "when the process is on the same host and its pid is gone."
        ),
    )
    max_documents: int = Field(20, ge=1, description="Most documents plus URLs in one request.")
    max_document_chars: int = Field(
        200_000, ge=1, description="Longest document text accepted, in characters."
    )
    sync_threshold_chars: int = Field(
        20_000,
        ge=0,
        description="One document up to this length is briefed in the request; else a job.",
    )
    allow_private_urls: bool = Field(
        False,
        description=(
            "Let requests fetch URLs on loopback or private networks. Off by default: the "
            "service would otherwise fetch internal addresses on a caller's behalf."
        ),
    )
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("slack_bot_token", "SLACK_BOT_TOKEN"),
        description="The bot's xoxb- token.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("slack_signing_secret", "SLACK_SIGNING_SECRET"),
        description="Verifies that HTTP requests come from Slack.",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("slack_app_token", "SLACK_APP_TOKEN"),
        description="The xapp- token for Socket Mode.",
    )
    slack_api_url: str | None = Field(
        None,
        validation_alias=AliasChoices("slack_api_url", "SUMMARIZER_SLACK_API_URL"),
        description="Base URL of the Slack Web API, for tests and proxies.",
    )
    slack_command: str = Field("/brief", description="The slash command the bot answers.")
    slack_max_body_bytes: int = Field(
        SLACK_MAX_BODY_BYTES,
        ge=65_536,
        description="Largest request body accepted at /slack/events (see SLACK_MAX_BODY_BYTES).",
    )

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str | SecretStr):
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            return tuple(k.strip() for k in raw.split(",") if k.strip())
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str | None) -> str | None:
        # slack_sdk joins method names onto the base URL: it must end in a slash.
        if value and not value.endswith("/"):
            return value + "/"
        return value

    def key_values(self) -> list[bytes]:
        return [k.get_secret_value().encode("utf-8") for k in self.api_keys]

    def admin_key_values(self) -> list[bytes]:
        return [k.get_secret_value().encode("utf-8") for k in self.admin_keys]


def load_service_settings(
    config_file: Path | None = None, *, main_config: Path | None = None, **flags: Any
) -> ServiceSettings:
    """Build ServiceSettings from flags (None means 'not given'), environment and file: the
    service config file if one is given, else the main config file's [service] table."""
    path = config_file
    if path is None and os.environ.get("SUMMARIZER_SERVICE_CONFIG"):
        path = Path(os.environ["SUMMARIZER_SERVICE_CONFIG"])
    if path is not None and not path.is_file():
        raise ConfigError(f"{path}: service config file not found; check --service-config")
    table = read_config_file(path) if path is not None else config_section("service", main_config)
    origin = f" (service config {path})" if path else ""
    return load(ServiceSettings, flags=flags, file_values=table, origin=origin)
