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
from summarizer.cli import help as _help
from summarizer.cli import history as _history
from summarizer.cli import info as _info
from summarizer.cli import mcp as _mcp
from summarizer.cli import serve as _serve
from summarizer.cli import site as _site
from summarizer.cli import slack as _slack
from summarizer.cli import store as _store
from summarizer.cli import stories as _stories
from summarizer.cli import testserver as _testserver
from summarizer.cli import worker as _worker

app = typer.Typer(
    name="summarizer",
    help="Turn news articles into grounded, structured briefs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_help.Group,
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


# cls=_help.Command gives --help the house style (cli/help.py); a new command needs it too.
app.command("brief", cls=_help.Command)(_brief.brief)
app.command("daily", cls=_help.Command)(_daily.daily)
app.command("eval", cls=_help.Command)(_eval.eval_)
app.command("history", cls=_help.Command)(_history.history)
app.command("show", cls=_help.Command)(_history.show)
app.command("story", cls=_help.Command)(_stories.story)
app.command("questions", cls=_help.Command)(_stories.questions)
app.command("schema", cls=_help.Command)(_info.schema)
app.command("prompts", cls=_help.Command)(_info.prompts)
app.command("kinds", cls=_help.Command)(_info.kinds)
app.command("serve", cls=_help.Command)(_serve.serve)
app.command("slack", cls=_help.Command)(_slack.slack)
app.command("site", cls=_help.Command)(_site.site)
app.add_typer(_store.app, name="store")
app.command("worker", cls=_help.Command)(_worker.worker)
app.command("testserver", cls=_help.Command)(_testserver.testserver)
app.command("mcp", cls=_help.Command)(_mcp.mcp)


def main() -> None:
    app()
