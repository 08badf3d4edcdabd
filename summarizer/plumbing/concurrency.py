"""Running several coroutines as one step that succeeds or fails whole."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from summarizer.signals import Deferred

T = TypeVar("T")


async def gather_or_cancel(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Every result, in order. On the first failure the others are cancelled (and awaited,
    so none is left running), and that failure is raised as it is. asyncio.TaskGroup does
    the same but wraps the failure in an ExceptionGroup, which every front door would then
    have to unpack to show its one-line error.

    A request held for a batch (`Deferred`, `daily --batch`) is not a failure: the others
    go on until they are held too or done, and one Deferred naming every held request is
    raised, so a long article's chunks all go into the same batch."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    held: list[Deferred] = []
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                exc = task.exception()
                if isinstance(exc, Deferred):
                    held.append(exc)
                elif exc is not None:
                    raise exc
        if held:
            raise Deferred.merged(held)
        return [t.result() for t in tasks]
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
