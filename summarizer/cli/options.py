"""Options shared by the commands that call a model (brief, daily, serve, slack).

`@model_options` adds one set of options to a command, the same for all four, and hands
them to it as one `ModelFlags`: a flag added here is offered everywhere, so the commands
cannot drift apart again.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="TOML config file. A flag wins over the environment, which wins over the file.",
        show_default="$SUMMARIZER_CONFIG, else ~/.config/summarizer/config.toml if it exists",
    ),
]
Model = Annotated[
    str | None, typer.Option("--model", "-m", help="Model name.", show_default="gpt-4o-mini")
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="OpenAI-compatible endpoint URL.",
        show_default="$OPENAI_BASE_URL, else OpenAI's",
    ),
]
Mode = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="instructor mode: tools, json_schema, md_json, or auto (probe the endpoint once).",
        show_default="tools",
    ),
]
SystemPrompt = Annotated[
    str | None,
    typer.Option(
        "--system-prompt",
        help="system (a system message) or merge (into the first user message, for chat "
        "formats without a system role).",
        show_default="system",
    ),
]
Record = Annotated[
    Path | None,
    typer.Option(
        "--record", metavar="DIR", help="Record every LLM exchange into DIR.", show_default=False
    ),
]
Replay = Annotated[
    Path | None,
    typer.Option(
        "--replay",
        metavar="DIR",
        help="Answer from recordings in DIR; no network.",
        show_default=False,
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail when a quote stays ungrounded (instead of dropping it) or a brief is empty.",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout", metavar="SECONDS", help="Seconds per LLM response.", show_default="60"
    ),
]
Retries = Annotated[
    int | None,
    typer.Option("--retries", help="HTTP retries for 429, 5xx, timeouts.", show_default="3"),
]
MaxReasks = Annotated[
    int | None,
    typer.Option(
        "--max-reasks", help="Reasks after invalid or ungrounded output.", show_default="2"
    ),
]
MaxTokens = Annotated[
    int | None,
    typer.Option("--max-tokens", help="Completion token limit per call.", show_default="4096"),
]
MaxBytes = Annotated[
    int | None,
    typer.Option(
        "--max-bytes", metavar="BYTES", help="Largest article accepted.", show_default="2000000"
    ),
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
    str | None,
    typer.Option(
        "--store",
        metavar="FILE|URL",
        help="The store: a SQLite file or a postgresql:// URL.",
        show_default="~/.local/share/summarizer/summarizer.db",
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option("--concurrency", help="LLM calls in flight at once.", show_default="4"),
]
Rpm = Annotated[
    int | None,
    typer.Option(
        "--rpm", help="Requests-per-minute limit of the endpoint.", show_default="no limit"
    ),
]


Kind = Annotated[
    str | None,
    typer.Option(
        "--kind", "-k", help="What to make: brief, timeline, ... (see `summarizer kinds`).",
        show_default="brief",
    ),
]  # fmt: skip
PromptsDir = Annotated[
    Path | None,
    typer.Option(
        "--prompts-dir",
        metavar="DIR",
        help="Folder of prompt templates overriding or adding to the built-in ones.",
        show_default=False,
    ),
]
KindFile = Annotated[
    list[Path] | None,
    typer.Option(
        "--kind-file",
        metavar="FILE",
        help="Python file registering more kinds (repeatable).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class ModelFlags:
    """The shared options as given (None: not given, so the environment or file decides)."""

    config: Path | None = None
    model: str | None = None
    base_url: str | None = None
    mode: str | None = None
    system_prompt: str | None = None
    record: Path | None = None
    replay: Path | None = None
    strict: bool = False
    timeout: float | None = None
    retries: int | None = None
    max_reasks: int | None = None
    max_tokens: int | None = None
    max_bytes: int | None = None
    concurrency: int | None = None
    rpm: int | None = None
    language: str | None = None
    kind: str | None = None
    prompts_dir: Path | None = None
    kind_file: list[Path] | None = None
    store: str | None = None  # a SQLite file or a postgresql:// URL
    verbose: bool = False

    def settings(self, **more: Any) -> Any:
        """Settings from these flags (flag > environment > config file > default)."""
        return settings_from_flags(
            self.config, strict=self.strict, model=self.model, base_url=self.base_url,
            mode=self.mode, system_prompt=self.system_prompt, record_dir=self.record,
            replay_dir=self.replay,
            timeout=self.timeout, http_retries=self.retries, max_reasks=self.max_reasks,
            max_tokens=self.max_tokens, max_input_bytes=self.max_bytes,
            concurrency=self.concurrency, rpm=self.rpm, language=self.language,
            kind=self.kind, prompts_dir=self.prompts_dir, kind_files=self.kind_file or None,
            store_path=self.store, **more,
        )  # fmt: skip


_ANNOTATIONS: dict[str, Any] = {
    "config": Config, "model": Model, "base_url": BaseUrl, "mode": Mode,
    "system_prompt": SystemPrompt, "record": Record,
    "replay": Replay, "strict": Strict, "timeout": Timeout, "retries": Retries,
    "max_reasks": MaxReasks, "max_tokens": MaxTokens, "max_bytes": MaxBytes,
    "concurrency": Concurrency, "rpm": Rpm, "language": Language, "kind": Kind,
    "prompts_dir": PromptsDir, "kind_file": KindFile, "store": StorePath, "verbose": Verbose,
}  # fmt: skip


def model_options(func: F) -> F:
    """Give a command the shared options; it receives them as `flags: ModelFlags`."""
    sig = inspect.signature(func, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "flags"]
    shared = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.default,
            annotation=_ANNOTATIONS[f.name],
        )
        for f in fields(ModelFlags)
    ]
    names = [f.name for f in fields(ModelFlags)]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        flags = ModelFlags(**{n: kwargs.pop(n) for n in names if n in kwargs})
        return func(*args, flags=flags, **kwargs)

    command.__signature__ = sig.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


def store_path(settings: Any) -> Path | str:
    """Where the store is: a PostgreSQL URL (`database_url`) or a SQLite file. `Store()`
    opens either."""
    from summarizer.store import default_store_path

    return settings.database_url or settings.store_path or default_store_path()


def settings_from_flags(config: Path | None, *, strict: bool, **flags: Any) -> Any:
    from summarizer.config import load_settings
    from summarizer.errors import ConfigError

    if flags.get("record_dir") is not None and flags.get("replay_dir") is not None:
        raise ConfigError("--record and --replay exclude each other; pick one")
    if strict:
        flags["grounding"] = "fail"
    from summarizer.store import is_database_url

    if is_database_url(flags.get("store_path")):  # --store postgresql://...
        flags["database_url"] = flags.pop("store_path")
    return load_settings(config, **flags)
