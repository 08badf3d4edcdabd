"""`summarizer schema`, `summarizer prompts` and `summarizer kinds`: what the tool promises,
what it asks, and what it can make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from summarizer.cli import edge, options

if TYPE_CHECKING:
    from summarizer.core.kinds import KindRegistry


def schema(
    name: Annotated[
        str,
        typer.Argument(
            help="brief (the output), brief-content (what the model writes), daily-brief, "
            "or any kind's name (see `summarizer kinds`)."
        ),
    ] = "brief",
    prompts_dir: options.PromptsDir = None,
    kind_file: options.KindFile = None,
    config: options.Config = None,
) -> None:
    """Print the JSON Schema of an output contract.

    Examples:

    summarizer schema
    summarizer schema timeline > timeline.schema.json
    """
    with edge.guarded():
        from summarizer.cli.schema_export import SCHEMAS, schema_json
        from summarizer.errors import ConfigError

        if name in SCHEMAS:
            typer.echo(schema_json(name), nl=False)
            return
        registry = _registry(config, prompts_dir, kind_file)
        if name not in registry:
            known = sorted({*SCHEMAS, *(k.name for k in registry)})
            raise ConfigError(f"schema {name!r}: unknown; use one of {', '.join(known)}")
        data = registry.get(name).json_schema()
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _registry(
    config: Path | None, prompts_dir: Path | None, kind_file: list[Path] | None
) -> KindRegistry:
    """The kinds and templates these flags (and the config file) give."""
    from summarizer.core.kinds import registry_for

    settings = options.settings_from_flags(
        config, strict=False, prompts_dir=prompts_dir, kind_files=kind_file or None
    )
    return registry_for(settings)


def prompts(
    name: Annotated[
        str | None, typer.Argument(help="Show this template in full.", show_default=False)
    ] = None,
    prompts_dir: options.PromptsDir = None,
    kind_file: options.KindFile = None,
    config: options.Config = None,
) -> None:
    """List the prompt templates (name, version, kind, where from), or show one.

    Examples:

    summarizer prompts
    summarizer prompts brief > ~/.config/summarizer/prompts/brief.j2
    """
    with edge.guarded():
        library = _registry(config, prompts_dir, kind_file).prompts
        if name is None:
            for p in library:
                typer.echo(f"{p.name}\tv{p.version}\t{p.kind}\t{p.origin}: {p.where}")
            for p in library.shadowed:
                typer.echo(f"{p.name}\tv{p.version}\t{p.kind}\toverridden: {p.where}")
            return
        typer.echo(library.get(name).source, nl=False)


def kinds(
    prompts_dir: options.PromptsDir = None,
    kind_file: options.KindFile = None,
    config: options.Config = None,
) -> None:
    """List the kinds of output (--kind): name, template, where from, what it makes.

    Examples:

    summarizer kinds
    summarizer kinds --kind-file claims_kind.py
    """
    with edge.guarded():
        registry = _registry(config, prompts_dir, kind_file)
        for k in registry:
            p = registry.prompt(k)
            typer.echo(f"{k.name}\t{p.name} v{p.version}\t{k.origin}\t{k.description}")
