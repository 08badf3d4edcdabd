"""Where the CLI meets the library: errors become one line on stderr and an exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer

from summarizer.errors import EXIT_INTERRUPTED, SummarizerError

T = TypeVar("T")


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
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


def run(fn: Callable[[], T]) -> T:
    with guarded():
        return fn()
