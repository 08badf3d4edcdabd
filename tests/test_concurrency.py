import asyncio

import pytest

from summarizer.errors import InputError
from summarizer.plumbing.concurrency import gather_or_cancel


def test_results_in_order() -> None:
    async def value(n: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return n

    assert asyncio.run(gather_or_cancel([value(1, 0.02), value(2, 0), value(3, 0.01)])) == [1, 2, 3]


def test_first_failure_is_raised_as_is_and_the_others_are_cancelled() -> None:
    cancelled: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append("slow")
            raise

    async def bad() -> None:
        await asyncio.sleep(0)
        raise InputError("a.txt: empty file")

    async def run() -> None:
        await gather_or_cancel([slow(), bad(), slow()])

    with pytest.raises(InputError, match=r"a\.txt: empty file"):  # no ExceptionGroup
        asyncio.run(run())
    assert cancelled == ["slow", "slow"]
