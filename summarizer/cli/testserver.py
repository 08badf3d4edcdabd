"""`summarizer testserver`: the scripted OpenAI-compatible server the tests use, as a tool.

People who build on summarizer try prompts, kinds and integrations offline against it:
`--base-url http://127.0.0.1:PORT/v1`. Its answers are labelled fixture output, so nothing
recorded from it passes for a live model's.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli import edge

EXAMPLES = """Examples:

summarizer testserver --port 8000
summarizer brief seeds/haftar-turkiye-visit.txt --base-url http://127.0.0.1:8000/v1

summarizer testserver --port 8000 --latency 0.5 --fail-rate 429=0.05 --quirk reject_modes=json_schema"""


def testserver(
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on; 0 picks a free one.")
    ] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    latency: Annotated[
        float, typer.Option("--latency", help="Seconds before each answer.", min=0.0)
    ] = 0.0,
    rpm_limit: Annotated[
        int | None,
        typer.Option(
            "--rpm-limit",
            help="Requests allowed per window; more get 429 with Retry-After. Off by default.",
            min=1,
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        float, typer.Option("--window", help="Seconds of the --rpm-limit window.", min=0.001)
    ] = 60.0,
    fail_rate: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-rate",
            help="STATUS=P: answer that HTTP status at random with probability P, e.g. "
            "429=0.03 (repeatable).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random failures (a run repeats).")
    ] = 0,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="JSON file: a list of replies served in order before the built-in answers; "
            'each like {"payload": {...}, "status": 200}.',
            show_default=False,
        ),
    ] = None,
    quirk: Annotated[
        list[str] | None,
        typer.Option(
            "--quirk",
            help="NAME=VALUE: behave like a real endpoint that misbehaves, e.g. "
            "truncate=tool_calls, reject_modes=json_schema, drop_system=true, batches=false "
            "(repeatable; the docs list them all).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the scripted OpenAI-compatible test server until stopped (Ctrl-C or SIGTERM).

    It answers POST /v1/chat/completions, and OpenAI's Files and Batch APIs, over real
    HTTP. By default every answer is a valid brief whose quotes come from the article
    itself, so grounding passes. Answers carry the x-summarizer-fixture header: a recording
    made against it is labelled not model output. It prints its base URL on stdout.
    """
    with edge.guarded():
        import signal
        import threading

        from summarizer.errors import ConfigError
        from summarizer.testing.openai_server import FakeOpenAI, Quirks

        quirks = _quirks(Quirks(), quirk or [])
        rates = _fail_rates(fail_rate or [])
        replies = _script(script) if script is not None else []
        try:
            server = FakeOpenAI(
                latency=latency, rpm_limit=rpm_limit, window=window, fail_rates=rates,
                seed=seed, quirks=quirks, host=host, port=port,
            )  # fmt: skip
        except OSError as exc:
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "pick another port, or 0 for any free one"
            ) from None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with server:
            server.queue(*replies)
            typer.echo(server.base_url)
            typer.echo(
                f"summarizer test server on {server.base_url}: scripted answers, not a live "
                "model; Ctrl-C stops it",
                err=True,
            )
            try:
                while not stop.wait(3600):
                    pass
            except KeyboardInterrupt:
                pass  # Ctrl-C is how it is meant to stop
        typer.echo(f"stopped after {len(server.requests)} request(s)", err=True)


testserver.__doc__ = f"{testserver.__doc__}\n{EXAMPLES}"


def _fail_rates(items: list[str]) -> dict[int, float]:
    from summarizer.errors import ConfigError

    rates: dict[int, float] = {}
    for item in items:
        status, _, rate = item.partition("=")
        try:
            code, p = int(status), float(rate)
        except ValueError:
            raise ConfigError(f"--fail-rate {item}: use STATUS=P, e.g. 429=0.03") from None
        if not (100 <= code <= 599 and 0.0 <= p <= 1.0):
            raise ConfigError(f"--fail-rate {item}: the status is 100-599, P is 0 to 1")
        rates[code] = p
    if sum(rates.values()) > 1.0:
        raise ConfigError("--fail-rate: the probabilities add up to more than 1")
    return rates


def _quirks(quirks: Any, items: list[str]) -> Any:
    """Each NAME=VALUE onto the Quirks field of that name, read as its default's type."""
    from dataclasses import replace

    from summarizer.errors import ConfigError

    known = {f.name: f for f in fields(quirks)}
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or name not in known:
            raise ConfigError(
                f"--quirk {item}: unknown; use NAME=VALUE with NAME one of {', '.join(known)}"
            )
        default = getattr(quirks, name)
        try:
            changes[name] = _typed(raw, default, str(known[name].type))
        except ValueError as exc:
            raise ConfigError(f"--quirk {item}: {exc}") from None
    return replace(quirks, **changes)


def _typed(raw: str, default: Any, annotation: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() not in ("true", "false"):
            raise ValueError("use true or false")
        return raw.lower() == "true"
    if isinstance(default, int) or "int" in annotation:
        return int(raw) if raw else None
    if isinstance(default, float):
        return float(raw)
    if "Collection" in annotation:  # a set of names, comma-separated
        return {part.strip() for part in raw.split(",") if part.strip()}
    return raw or None


def _script(path: Path) -> list[Any]:
    from summarizer.errors import ConfigError
    from summarizer.testing.openai_server import Reply

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"--script {path}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, list):
        raise ConfigError(f"--script {path}: must be a JSON list of replies")
    allowed = {f.name for f in fields(Reply)}
    replies = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not set(item) <= allowed:
            raise ConfigError(
                f"--script {path}: reply {i + 1} must be an object with keys from "
                f"{', '.join(sorted(allowed))}"
            )
        replies.append(Reply(**item))
    return replies
