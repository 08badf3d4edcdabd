"""Where the CLI meets the library and the terminal: errors become one line on stderr and
an exit code, and whatever reaches stdout or stderr loses its control characters.

Article and model text (titles, quotes, summaries, feed and server error messages) can
carry terminal escape sequences (`ESC]0;...BEL` retitles the window, `ESC[2J` clears it).
`out()`, the log formatters and `guarded()` are the CLI's only ways to print, and each
passes the text through `render.escape.plain` (newline and tab kept)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from summarizer.errors import EXIT_INTERRUPTED, BatchPending, Interrupted, SummarizerError

T = TypeVar("T")


def _plain(text: str) -> str:
    from summarizer.render.escape import plain

    return plain(text)


def out(text: str, *, markdown: bool = False) -> None:
    """Print to stdout; Markdown is rendered with rich when stdout is a terminal."""
    text = _plain(text)
    if markdown and sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _plain(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        import json

        # json.dumps escapes C0 controls but, with ensure_ascii off, not C1 ones.
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": _plain(record.getMessage()),
            },
            ensure_ascii=False,
        )


def logger() -> logging.Logger:
    return logging.getLogger("summarizer")


def setup_logging(verbose: bool, *, json_logs: bool = False) -> None:
    from summarizer.plumbing.redact import LogFilter, install

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogFilter())  # what libraries log of a server's answer may hold a key
    handler.setFormatter(
        _JsonFormatter() if json_logs else _TextFormatter("%(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    install()  # handlers a library put on its own logger redact too
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
        # A pending batch or a clean stop is not a failure: it says what happened.
        said = (
            str(exc)
            if isinstance(exc, BatchPending | Interrupted)
            else f"error: {_for_person(str(exc))}"
        )
        typer.echo(_plain(said), err=True)
        raise typer.Exit(code=exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written", err=True)
        raise typer.Exit(code=EXIT_INTERRUPTED) from None


def _for_person(message: str) -> str:
    """A message carrying a validation dump (instructor's `<failed_attempts>`) as one plain
    sentence and the message's own advice; the dump goes to the log (--verbose)."""
    if "<failed_attempts>" not in message and "validation error" not in message:
        return message
    from summarizer.render.notices import reader_error

    logger().debug("%s", message)
    head = message.split(": ", 1)[0]  # "model 'x' gave no valid brief after 3 attempts"
    advice = message.rpartition("; ")[2]
    return f"{head}: {reader_error(message)}; {advice} (--verbose shows the model's errors)"


def run_stoppable(main: Coroutine[Any, Any, T], what: str) -> T:
    """`asyncio.run(main)`, stopped cleanly by SIGTERM or SIGINT: the signal cancels `main`
    (its calls in flight are abandoned, its `finally` blocks and context managers run, so
    locks are released and the run is marked), then Interrupted says so in one line and
    exits 128 + the signal. A second signal while stopping ends the process at once.
    Without this a scheduler's SIGTERM killed the process where it stood: exit 143, no
    line, the run left `running`."""
    import asyncio
    import os
    import signal

    async def runner() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        got: list[int] = []

        def stop(signum: int) -> None:
            if got:  # a second signal while stopping: stop now, as the default would
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
                return
            got.append(signum)
            task.cancel()

        signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
        try:
            for sig in signals:
                loop.add_signal_handler(sig, stop, sig)
        except NotImplementedError:  # Windows' event loops: the default behaviour stays
            signals = ()
        try:
            return await main
        except asyncio.CancelledError:
            if not got:
                raise
            name = signal.Signals(got[0]).name
            raise Interrupted(
                f"stopped by {name}: {what} was interrupted; what was finished is kept, and "
                "running it again resumes from there",
                got[0],
            ) from None
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    return asyncio.run(runner())


@contextmanager
def progress(label: str, first: str | None = None) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal; nothing at all under cron or in a pipe. It names its
    phase (`first` until the first tick, e.g. "Reading sources"; then `label`) and shows
    done/total."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    # On stderr, where the isatty() above looked: stdout may be the brief itself.
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(first or label, total=None)
        yield lambda done, total: bar.update(task, description=label, completed=done, total=total)
