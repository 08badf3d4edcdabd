"""Client-side rate limits: requests and tokens per window, so a big run provokes no 429s.

A sliding-window log rather than a token bucket: providers count requests in any rolling
window, and a full bucket spent at once followed by its refill can put N+1 requests in one
window. Each request waits until sending it keeps the last window's count under the limit.
Tokens are charged with an estimate before sending (the prompt plus the completion limit
is too pessimistic, so the prompt estimate plus what was actually returned is used).

Where the log lives is pluggable (`WindowLog`): this process's memory by default, or a
table in the store's database when several processes and machines share one provider's
limit (`llm/shared_window.py`, used when the store is PostgreSQL). The arithmetic is the
same either way (`wait_time`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol


class WindowLog(Protocol):
    """Where sends and token charges are logged. `try_send` either records a send of
    `tokens` and returns 0, or records nothing and returns the seconds to wait. `charge`
    is called when the answer to this task's last send is in, with its completion tokens
    and when the request actually left (`time.perf_counter()`), if known."""

    async def try_send(self, limiter: RateLimiter, tokens: int) -> float: ...
    async def charge(self, tokens: int, sent: float | None = None) -> None: ...
    def close(self) -> None: ...


def wait_time(
    limiter: RateLimiter,
    now: float,
    sent: Sequence[float],
    charges: Sequence[tuple[float, int]],
    tokens: int,
    margin: float | None = None,
) -> float:
    """Seconds until a request of `tokens` fits the window, given the log (oldest first,
    already cut to the window). `margin` overrides the limiter's."""
    margin = limiter.margin if margin is None else margin
    waits = [0.0]
    if limiter.rpm is not None and len(sent) >= limiter.rpm:
        waits.append(sent[-limiter.rpm] + limiter.window + margin - now)
    if limiter.tpm is not None and charges:
        used = sum(n for _, n in charges)
        # Free the oldest charges until this request fits (a request larger than the
        # whole budget goes alone in an empty window rather than never).
        for t, n in charges:
            if used + tokens <= limiter.tpm:
                break
            used -= n
            waits.append(t + limiter.window + margin - now)
    return max(waits)


class MemoryLog:
    """The log of one process."""

    def __init__(self) -> None:
        self._sent: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()

    async def try_send(self, limiter: RateLimiter, tokens: int) -> float:
        now = time.monotonic()
        horizon = now - limiter.window - limiter.margin
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        while self._tokens and self._tokens[0][0] <= horizon:
            self._tokens.popleft()
        wait = wait_time(limiter, now, self._sent, self._tokens, tokens)
        if wait <= 0:
            self._sent.append(now)
            if tokens:
                self._tokens.append((now, tokens))
        return wait

    async def charge(self, tokens: int, sent: float | None = None) -> None:
        if tokens > 0:
            self._tokens.append((time.monotonic(), tokens))

    def close(self) -> None:
        pass


class RateLimiter:
    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        window: float = 60.0,
        margin: float = 0.05,
        log: WindowLog | None = None,
    ) -> None:
        self.rpm, self.tpm, self.window = rpm, tpm, window
        # Send times are taken before the request leaves; the server stamps it a little
        # later, so keep a small margin to stay inside its window, not on its edge.
        self.margin = margin
        self.log: WindowLog = log or MemoryLog()
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    async def acquire(self, tokens: int = 0) -> None:
        if not self.active:
            return
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                wait = await self.log.try_send(self, tokens)
                if wait <= 0:
                    return
                await asyncio.sleep(wait)

    async def charge(self, tokens: int, sent: float | None = None) -> None:
        """The answer is in: count the tokens learned after the fact (the completion).
        `sent` is when the request left (perf_counter), for a log that re-stamps sends."""
        if self.active:
            await self.log.charge(tokens if self.tpm is not None else 0, sent)

    def close(self) -> None:
        self.log.close()
