"""The `summarizer` command. It parses arguments and calls the library, nothing more.

Heavy modules (openai, instructor, pydantic models) are imported inside the commands, so
`summarizer --help` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from summarizer import __version__
from summarizer.cli import brief as _brief
from summarizer.cli import daily as _daily
from summarizer.cli import eval as _eval
from summarizer.cli import history as _history
from summarizer.cli import info as _info
from summarizer.cli import mcp as _mcp
from summarizer.cli import serve as _serve
from summarizer.cli import slack as _slack
from summarizer.cli import store as _store
from summarizer.cli import stories as _stories
from summarizer.cli import worker as _worker

app = typer.Typer(
    name="summarizer",
    help="Turn news articles into grounded, structured briefs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarizer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Turn news articles into grounded, structured briefs."""


app.command("brief")(_brief.brief)
app.command("daily")(_daily.daily)
app.command("eval")(_eval.eval_)
app.command("history")(_history.history)
app.command("show")(_history.show)
app.command("story")(_stories.story)
app.command("questions")(_stories.questions)
app.command("schema")(_info.schema)
app.command("prompts")(_info.prompts)
app.command("kinds")(_info.kinds)
app.command("serve")(_serve.serve)
app.command("slack")(_slack.slack)
app.add_typer(_store.app, name="store")
app.command("worker")(_worker.worker)
app.command("mcp")(_mcp.mcp)


def main() -> None:
    app()
