"""Client-side rate limits: requests and tokens per window, so a big run provokes no 429s.

A sliding-window log rather than a token bucket: providers count requests in any rolling
window, and a full bucket spent at once followed by its refill can put N+1 requests in one
window. Each request waits until sending it keeps the last window's count under the limit.
Tokens are charged with an estimate before sending (the prompt plus the completion limit
is too pessimistic, so the prompt estimate plus what was actually returned is used).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class RateLimiter:
    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        window: float = 60.0,
        margin: float = 0.05,
    ) -> None:
        self.rpm, self.tpm, self.window = rpm, tpm, window
        # Send times are taken before the request leaves; the server stamps it a little
        # later, so keep a small margin to stay inside its window, not on its edge.
        self.margin = margin
        self._sent: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    def _expire(self, now: float) -> None:
        horizon = now - self.window - self.margin
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        while self._tokens and self._tokens[0][0] <= horizon:
            self._tokens.popleft()

    def _wait_time(self, now: float, tokens: int) -> float:
        waits = [0.0]
        if self.rpm is not None and len(self._sent) >= self.rpm:
            waits.append(self._sent[-self.rpm] + self.window + self.margin - now)
        if self.tpm is not None and self._tokens:
            used = sum(n for _, n in self._tokens)
            # Free the oldest charges until this request fits (a request larger than the
            # whole budget goes alone in an empty window rather than never).
            for t, n in self._tokens:
                if used + tokens <= self.tpm:
                    break
                used -= n
                waits.append(t + self.window + self.margin - now)
        return max(waits)

    async def acquire(self, tokens: int = 0) -> None:
        if not self.active:
            return
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                now = time.monotonic()
                self._expire(now)
                wait = self._wait_time(now, tokens)
                if wait <= 0:
                    self._sent.append(now)
                    if tokens:
                        self._tokens.append((now, tokens))
                    return
                await asyncio.sleep(wait)

    def charge(self, tokens: int) -> None:
        """Count tokens learned after the fact (the completion)."""
        if self.tpm is not None and tokens > 0:
            self._tokens.append((time.monotonic(), tokens))
