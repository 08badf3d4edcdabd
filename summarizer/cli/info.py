"""`summarizer schema` and `summarizer prompts`: what the tool promises and what it asks."""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer.cli import edge


def schema(
    name: Annotated[
        str, typer.Argument(help="brief (the output) or brief-content (what the model writes).")
    ] = "brief",
) -> None:
    """Print the JSON Schema of the output contract."""
    with edge.guarded():
        from summarizer.errors import ConfigError
        from summarizer.schema_export import SCHEMAS, schema_json

        if name not in SCHEMAS:
            raise ConfigError(f"schema {name!r}: unknown; use one of {', '.join(SCHEMAS)}")
        typer.echo(schema_json(name), nl=False)


def prompts(
    name: Annotated[
        str | None, typer.Argument(help="Show this template in full.", show_default=False)
    ] = None,
) -> None:
    """List the prompt templates with their versions, or show one."""
    with edge.guarded():
        from summarizer import prompting

        if name is None:
            for p in prompting.list_prompts():
                typer.echo(f"{p.name}\tv{p.version}\t{p.description}")
            return
        typer.echo(prompting.get_prompt(name).source, nl=False)
