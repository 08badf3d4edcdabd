"""Extraction off the event loop, never in two threads of one process at once.

trafilatura parses every page with one module-level lxml parser (`trafilatura/utils.py`,
`HTML_PARSER`), and an lxml parser must not be used by two threads at once: four
extractions in four threads crashed the process now and then (SIGSEGV, "double free or
corruption"), with nothing written and nothing logged. So:

- `extract.document_from_html` holds a process-wide lock around trafilatura: whoever calls
  it, from whatever thread, one page at a time per process;
- `Extractor.run` runs one page in a worker thread (the event loop keeps downloading
  meanwhile) and, when more pages arrive while one is being extracted and the machine has
  more than one core, sends them to a pool of worker processes, one per extra core, each
  with its own parser. A single page (`brief URL`) never pays for starting a pool;
- a worker process that dies (a native crash) breaks the pool: the pool is replaced, and
  each page that was in it runs once more alone in a fresh process, so only the page that
  crashes again fails, with an InputError naming it, and the run goes on.

Workers start with the "forkserver" method where there is one (Linux, macOS), else
"spawn". Not "fork": this process has threads (asyncio's executor, the extraction thread,
the API's server), and fork copies their locks in whatever state they are in, so a child
can hang on a lock whose owner does not exist in it (Python 3.12 warns about exactly
that). The fork server is a fresh single-threaded process that imports trafilatura once
(preload); each worker is then a cheap fork of it, not a new interpreter.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from summarizer.errors import InputError
from summarizer.sources.ingest import Document

log = logging.getLogger("summarizer.sources.extract")

_PRELOAD = ["summarizer.sources.extract", "trafilatura"]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class Extractor:
    """Where pages are extracted: in this process one at a time, overflow in processes.

    `lanes` is how many pages may be extracted at once (default: the usable cores); 1
    keeps everything in this process. Close it (`close()`) to stop the workers.
    """

    def __init__(self, lanes: int | None = None) -> None:
        self.lanes = max(1, usable_cores() if lanes is None else lanes)
        self._pool: ProcessPoolExecutor | None = None
        self._local_busy = False
        self.crashes = 0  # worker processes lost, for logs and tests

    async def run(
        self, fn: Callable[..., Document], /, *args: Any, what: str, **kw: Any
    ) -> Document:
        """`fn(*args, **kw)` (a module-level function, so a worker can import it)."""
        call = functools.partial(fn, *args, **kw)
        if self.lanes == 1 or not self._local_busy:
            self._local_busy = True
            try:
                return await asyncio.to_thread(call)
            finally:
                self._local_busy = False
        return await self._in_pool(call, what)

    async def _in_pool(self, call: Callable[[], Document], what: str) -> Document:
        try:
            pool = self._pool_now()
            future = pool.submit(call)
        except (OSError, NotImplementedError) as exc:
            # No processes here (a sandbox without semaphores or sockets): one lane it is.
            log.warning("extraction stays in this process: cannot start workers (%s)", exc)
            self.lanes = 1
            return await asyncio.to_thread(call)
        try:
            return await _awaited(future)
        except BrokenProcessPool:
            self.crashes += 1
            log.warning("an extraction worker process died; retrying its pages one by one")
            if self._pool is pool:
                self._pool = None  # the next page gets a fresh pool
                pool.shutdown(wait=False, cancel_futures=True)
        # The pool broke under this page or under another one in it: alone, we know which.
        solo = ProcessPoolExecutor(1, mp_context=_context())
        try:
            return await _awaited(solo.submit(call))
        except BrokenProcessPool:
            self.crashes += 1
            raise InputError(
                f"{what}: extracting the page crashed its worker process; the page was "
                "skipped: save the article's text to a file and give that instead"
            ) from None
        finally:
            solo.shutdown(wait=False)

    def _pool_now(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # One lane stays in this process (the thread above), the rest are processes.
            self._pool = ProcessPoolExecutor(max(1, self.lanes - 1), mp_context=_context())
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


async def _awaited(future: Future[Document]) -> Document:
    return await asyncio.wrap_future(future)
