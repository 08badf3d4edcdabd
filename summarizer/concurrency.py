"""Running several coroutines as one step that succeeds or fails whole."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def gather_or_cancel(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Every result, in order. On the first failure the others are cancelled (and awaited,
    so none is left running), and that failure is raised as it is. asyncio.TaskGroup does
    the same but wraps the failure in an ExceptionGroup, which every front door would then
    have to unpack to show its one-line error."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
