"""Options shared by the commands that call a model, so `brief` and `daily` agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Config = Annotated[
    Path | None, typer.Option("--config", help="TOML config file.", show_default=False)
]
Model = Annotated[str | None, typer.Option("--model", "-m", help="Model name.", show_default=False)]
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible endpoint URL.", show_default=False),
]
Mode = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="instructor mode: tools, json_schema, md_json, or auto (probe the endpoint once).",
        show_default=False,
    ),
]
SystemPrompt = Annotated[
    str | None,
    typer.Option(
        "--system-prompt",
        help="system (a system message) or merge (into the first user message, for chat "
        "formats without a system role).",
        show_default=False,
    ),
]
Record = Annotated[
    Path | None,
    typer.Option("--record", help="Record every LLM exchange into DIR.", show_default=False),
]
Replay = Annotated[
    Path | None,
    typer.Option("--replay", help="Answer from recordings in DIR; no network.", show_default=False),
]
Strict = Annotated[
    bool,
    typer.Option("--strict", help="Fail when a quote stays ungrounded, instead of dropping it."),
]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="Seconds per LLM response.", show_default=False)
]
Retries = Annotated[
    int | None,
    typer.Option("--retries", help="HTTP retries for 429, 5xx, timeouts.", show_default=False),
]
MaxReasks = Annotated[
    int | None,
    typer.Option(
        "--max-reasks", help="Reasks after invalid or ungrounded output.", show_default=False
    ),
]
MaxTokens = Annotated[
    int | None, typer.Option("--max-tokens", help="Completion token limit.", show_default=False)
]
MaxBytes = Annotated[
    int | None, typer.Option("--max-bytes", help="Largest article accepted.", show_default=False)
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log details to stderr.")]
Language = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="Write briefs in this language; quotes stay in the original.",
        show_default=False,
    ),
]
LogJson = Annotated[bool, typer.Option("--log-json", help="Log to stderr as JSON lines.")]
StorePath = Annotated[
    Path | None,
    typer.Option(
        "--store", help="SQLite store (default ~/.local/share/summarizer).", show_default=False
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option("--concurrency", help="LLM calls in flight at once.", show_default=False),
]
Rpm = Annotated[
    int | None,
    typer.Option("--rpm", help="Requests-per-minute limit of the endpoint.", show_default=False),
]


def store_path(settings: Any) -> Path:
    from summarizer.store import default_store_path

    return settings.store_path or default_store_path()


def settings_from_flags(config: Path | None, *, strict: bool, **flags: Any) -> Any:
    from summarizer.config import load_settings
    from summarizer.errors import ConfigError

    if flags.get("record_dir") is not None and flags.get("replay_dir") is not None:
        raise ConfigError("--record and --replay exclude each other; pick one")
    if strict:
        flags["grounding"] = "fail"
    return load_settings(config, **flags)
