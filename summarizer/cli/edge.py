"""Where the CLI meets the library: errors become one line on stderr and an exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from summarizer.errors import EXIT_INTERRUPTED, SummarizerError


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        import json

        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def logger() -> logging.Logger:
    return logging.getLogger("summarizer")


def setup_logging(verbose: bool, *, json_logs: bool = False) -> None:
    from summarizer.redact import LogFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogFilter())  # what libraries log of a server's answer may hold a key
    handler.setFormatter(
        _JsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Our own progress lines (info) show by default; libraries' only with --verbose.
    logger().setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # instructor logs every failed attempt at ERROR; the final outcome is reported once, by us.
        for name in ("instructor", "openai", "httpx2", "httpcore"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def guarded() -> Iterator[None]:
    try:
        yield
    except SummarizerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written", err=True)
        raise typer.Exit(code=EXIT_INTERRUPTED) from None


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal; nothing at all under cron or in a pipe."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
