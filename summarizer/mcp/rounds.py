"""Sampling on sessions with no way back to the client (MCP 2026-07-28, stateless HTTP).

On those sessions a server cannot send `sampling/createMessage` in the middle of a tool
call. It answers the call with an `InputRequiredResult` instead (the requests it needs,
and an opaque state), and the client retries the same call with the answers. A brief
asks its model several times (reasks, long articles in parts), so the brief cannot be
restarted on each round without paying, recording and asking again. Instead it runs on,
in this process, as a `Job`: when its model call needs the client, the request is
handed to the tool call then waiting, which returns it as input required; the retry
hands the answer back to the waiting model call, and the brief goes on where it was.

The state the client echoes is only the job's id; the SDK seals it (tamper-proof), and a
job answers only the caller that started it. A job whose client never comes back gives
up after IDLE_SECONDS, like a model endpoint that stopped answering.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

import mcp_types as types
from mcp_types import CallToolResult, InputRequiredResult

from summarizer.errors import InputError, SamplingDeclined

#: How long a brief waits for the client's next answer before it gives up.
IDLE_SECONDS = 600.0
#: How long a finished job is kept for a retry that may still come.
KEEP_SECONDS = 600.0


class Job:
    def __init__(self, owner: str | None) -> None:
        self.id = secrets.token_urlsafe(16)
        self.owner = owner
        self.task: asyncio.Task[CallToolResult] | None = None
        self.finished_at: float | None = None
        self._keys = itertools.count(1)
        self._pending: dict[str, tuple[types.CreateMessageRequestParams, asyncio.Future[Any]]] = {}
        self._sent: set[str] = set()
        self._changed = asyncio.Event()

    async def sample(self, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        """The brief's Sampler: park the request until a retry brings its answer."""
        key = f"sample-{next(self._keys)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = (params, future)
        self._changed.set()
        try:
            result: types.CreateMessageResult = await asyncio.wait_for(future, IDLE_SECONDS)
        except TimeoutError:
            raise SamplingDeclined(
                f"the MCP client sent no answer to a sampling request in {IDLE_SECONDS:g}s; "
                "ask again, or use --llm endpoint with OPENAI_BASE_URL"
            ) from None
        finally:
            self._pending.pop(key, None)
        return result

    def answer(self, responses: dict[str, Any]) -> None:
        """Hand the client's answers to the model calls waiting for them."""
        for key, response in responses.items():
            waiting = self._pending.get(key)
            if waiting is None or waiting[1].done():
                continue  # an answer to nothing asked (or a repeated retry): ignored
            try:
                result = types.CreateMessageResult.model_validate(
                    response if isinstance(response, dict) else response.model_dump(by_alias=True)
                )
            except ValueError:
                waiting[1].set_exception(
                    SamplingDeclined(
                        "the MCP client's answer to a sampling request was not a message"
                    )
                )
                continue
            waiting[1].set_result(result)

    async def next_step(self) -> CallToolResult | InputRequiredResult:
        """Wait until the brief is done, or needs the client again."""
        assert self.task is not None
        while True:
            unsent = {k: p for k, (p, f) in self._pending.items() if k not in self._sent}
            if unsent:
                self._sent.update(unsent)
                return InputRequiredResult(
                    input_requests={
                        k: types.CreateMessageRequest(params=p) for k, p in unsent.items()
                    },
                    request_state=self.id,
                )
            if self.task.done():
                return self.task.result()
            self._changed.clear()
            waiter = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({waiter, self.task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()


class Rounds:
    """The briefs of one server waiting on their clients' models."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def start(
        self, owner: str | None, run: Callable[[Job], Coroutine[Any, Any, CallToolResult]]
    ) -> Job:
        self._forget_old()
        job = Job(owner)
        job.task = asyncio.get_running_loop().create_task(run(job))

        def finished(_task: asyncio.Task[CallToolResult]) -> None:
            job.finished_at = time.monotonic()

        job.task.add_done_callback(finished)
        self._jobs[job.id] = job
        return job

    def resume(self, state: str, owner: str | None, responses: dict[str, Any] | None) -> Job:
        job = self._jobs.get(state)
        if job is None or job.owner != owner:
            raise InputError(
                "this brief is no longer waiting for the model's answer (the server restarted, "
                "or it gave up waiting); ask for the brief again"
            )
        job.answer(responses or {})
        return job

    def done(self, job: Job) -> None:
        self._jobs.pop(job.id, None)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > KEEP_SECONDS:
                del self._jobs[key]

    async def aclose(self) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._jobs.clear()
