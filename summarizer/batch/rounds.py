"""One daily run's side of the Batch API: collect, hold, submit, wait or say pending.

A batch run goes in rounds. Each round runs the daily pipeline (map, then reduce) with the
answers collected so far (book.py): what can be briefed is briefed, and every request that
still needs the model is held. When nothing was held, the brief is written as in a live
run. Otherwise the held requests are submitted as one batch (never a request already in a
running batch), and the run either waits for the batches to end (`--wait`) and goes on
with the next round, or stops with exit 13 (`BatchPending`): the next run (the next cron
tick) collects them. With `--collect` nothing new is submitted: the run waits for the
batches already running and sends live whatever they do not cover, so a morning run
finishes the brief that a night run submitted.

Everything that must survive the process is in the store before the provider is asked
(store/batches.py): a run killed at any point leaves a state the next run resumes from,
and no request is submitted twice (a batch is created once, never retried blindly: one
whose answer was lost is found by its input file). What the batches cost is recorded once,
in the transaction that collects a batch, at the batch price; what a batch run gets live
is kept and served again to later rounds and runs, never paid twice. A failed, expired or
cancelled batch, an error line, a lost output file and a batch the provider no longer
knows are each logged by name, and their requests retried as configured. Batches made at
another endpoint (another --base-url, or a replay) are left alone, neither polled nor
waited for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.batch import api as batch_api
from summarizer.batch.book import Book, Policy
from summarizer.config import Settings
from summarizer.errors import (
    BatchPending,
    BatchUnsupported,
    ConfigError,
    ProviderError,
    RequestRejected,
)
from summarizer.llm import calls, pricing, tokens
from summarizer.llm.client import LLM
from summarizer.signals import Deferred
from summarizer.store import Store
from summarizer.store.batches import AnswerRow

if TYPE_CHECKING:
    # daily runs batches, not the other way round: the settings are only read here.
    from summarizer.daily.config import DailyConfig

log = logging.getLogger("summarizer.batch")
# With --wait, say what is awaited at most this often (the polls can be much closer).
_SAY_EVERY_S = 60.0


class BatchRun:
    """A daily run's batches (scope: the day), used as `async with BatchRun(...)`."""

    def __init__(
        self, store: Store, settings: Settings, cfg: DailyConfig, *, day: str, run_id: str
    ) -> None:
        if settings.on_workers:
            raise ConfigError(
                "--batch and --on-workers cannot be combined: the Batch API answers the "
                "articles itself; choose one"
            )
        self.store, self.settings, self.cfg = store, settings, cfg
        self.scope = f"daily:{day}"
        self.run_id = run_id
        self.admin = LLM(settings, lazy=True)
        self.api = batch_api.BatchApi(self.admin)
        # Batches are the endpoint's: one given as .../v1/ is the same as .../v1.
        self.endpoint = self.admin.endpoint.rstrip("/")
        # key -> (request body, what asked for it): the requests held in this round
        self.held: dict[str, tuple[dict[str, Any] | None, str]] = {}
        # What this run submitted, for its budget: key -> (tokens, USD), the worst case
        # until its batch is collected, then what its answer cost.
        self.committed: dict[str, tuple[int, float]] = {}
        # What this run collected, as the calls `history` records (at the batch price).
        self.charged: list[calls.CallRecord] = []
        self._elsewhere: set[str] = set()  # batches at other endpoints, said once

    async def __aenter__(self) -> BatchRun:
        try:
            if self.settings.mode == "auto":
                # Probed live, once, and remembered in the store: the rounds' clients find
                # it there (a probe held for a batch would never be answered in time).
                async with self.admin.translated():
                    await self.admin.resolved_mode()
            await self.refresh()
        except BaseException:
            await self.admin.aclose()  # __aexit__ is not called when __aenter__ fails
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.aclose()

    # what a round's pipeline uses ---------------------------------------------------------

    def llm(self, stage: str, over_budget: Callable[[], bool] | None = None) -> LLM:
        """The client for one round's map ("articles") or reduce ("stories") step."""
        cfg = self.cfg
        batched = stage == "articles" or cfg.batch_stories == "batch"
        # --collect: what the batches already submitted do not answer goes live.
        first: Policy = "batch" if batched and not cfg.collect else "live"
        followup: Policy = cfg.batch_followup if first == "batch" else "live"
        book = Book.from_rows(
            self.store.batch_answers(self.scope), self._running(), first=first,
            followup=followup, retries=cfg.batch_retries,
            live=self.store.live_answers(self.scope),
        )  # fmt: skip
        book.keep = self._keep
        book.over_budget = over_budget
        return LLM(self.settings, lazy=True, book=book)

    def _keep(self, key: str, status: int, body: bytes) -> None:
        self.store.put_live_answer(self.scope, key, status, body.decode("utf-8", "replace"))

    def _running(self) -> set[str]:
        return self.store.batch_keys_open(self.scope, self.endpoint)

    def hold(self, label: str, held: Deferred) -> None:
        """Requests an article (or story) could not go on without."""
        for key, body in held.requests.items():
            if self.held.get(key, (None, ""))[0] is None:
                self.held[key] = (body, label)
            if body is not None:  # to be submitted (again, after a batch failed it)
                # The worst case: the prompt as estimated offline, a full max_tokens answer.
                prompt, answer = tokens.estimate(json.dumps(body)), self.settings.max_tokens
                usd = pricing.cost_usd(self.settings.model, prompt, answer, batched=True)
                self.committed[key] = (prompt + answer, usd or 0.0)

    @property
    def committed_tokens(self) -> int:
        return sum(t for t, _ in self.committed.values())

    @property
    def committed_usd(self) -> float:
        return sum(u for _, u in self.committed.values())

    # between rounds -----------------------------------------------------------------------

    async def settle(self) -> None:
        """Submit what this round held; then wait for every open batch to end (--wait),
        or raise BatchPending when one has not."""
        needed = set(self.held)  # what this round waits for; other batches do not block it
        await self.submit()
        await self.refresh()
        said = time.monotonic()
        while needed & self._running():
            if not (self.cfg.wait or self.cfg.collect):
                raise BatchPending(self.pending())
            await asyncio.sleep(self.cfg.batch_poll)
            await self.refresh()
            if time.monotonic() - said >= _SAY_EVERY_S:
                said = time.monotonic()
                log.info("%s", self.pending())

    async def submit(self) -> None:
        running = self._running()
        new = {k: v for k, v in self.held.items() if v[0] is not None and k not in running}
        self.held.clear()
        if not new:
            return
        bodies = {k: body for k, (body, _) in new.items() if body is not None}
        files = batch_api.split_files(batch_api.input_lines(bodies))
        start = 0
        for content in files:
            keys = sorted(bodies)[start : start + content.count(b"\n")]
            start += len(keys)
            await self._submit_file(content, [(k, new[k][1]) for k in keys])

    async def _submit_file(self, content: bytes, requests: list[tuple[str, str]]) -> None:
        file_id = await self.api.upload(content)
        # Named by what it holds and how many batches the day had before, so a replay of
        # the run asks the provider for byte-identical batches.
        seed = f"{self.scope}\n{self.store.batch_count(self.scope)}\n" + "\n".join(
            k for k, _ in requests
        )
        batch = "b" + hashlib.sha256(seed.encode()).hexdigest()[:20]
        self.store.add_batch(
            batch, scope=self.scope, endpoint=self.endpoint, model=self.settings.model,
            input_file_id=file_id, requests=requests,
        )  # fmt: skip
        made = await self._create(batch, file_id)
        if made is None:
            return
        labels = sorted({label for _, label in requests})
        log.info(
            "submitted batch %s: %d request(s), for %s", made.batch_id, len(requests),
            _names(labels),
        )  # fmt: skip

    async def _create(self, batch: str, file_id: str) -> batch_api.Status | None:
        """The batch created at the provider from an uploaded file, and stored; None when
        the provider refused it (400/422), which ends it with its requests unanswered
        (tried again as configured) rather than asking again on every run. When the answer
        is lost (a timeout, a 5xx), the batch may exist all the same: it is looked for by
        its input file, and left to the next run to find if it is not listed yet."""
        try:
            made = await self.api.create(file_id, batch)
        except RequestRejected as exc:
            self._close(batch, "refused", f"the provider refused to create batch {batch}: {exc}")
            return None
        except BatchUnsupported:
            self._close(batch, "refused", "the endpoint has no Batch API")
            raise
        except ProviderError:
            found = await self.api.find(file_id)
            if found is None:
                raise  # still `submitting`: the next run looks again before creating
            made = found
        self.store.set_batch(batch, status=made.status, batch_id=made.batch_id)
        return made

    def _close(self, batch: str, status: str, why: str) -> None:
        """End a batch that will never answer: each of its requests unanswered, with why."""
        keys = [k for k, _ in self.store.batch_requests(batch)]
        self.store.collect_batch(
            batch, status=status, detail=why,
            answers=[AnswerRow(k, "error", None, None, why) for k in keys],
        )  # fmt: skip
        log.warning("%s", why)

    async def refresh(self) -> None:
        """Poll each open batch once; collect those that ended."""
        for row in self.store.open_batches(self.scope):
            if row["endpoint"] != self.endpoint:
                self._elsewhere_said(row)
                continue
            if row["batch_id"] is None:
                await self._adopt(row)
                continue
            status = await self.api.status(row["batch_id"])
            if status is not None and not status.ended:
                status = self._given_up(status, row)
            if status is None:
                self._close(
                    row["id"], "gone", f"batch {row['batch_id']} is no longer known to the "
                    "provider (HTTP 404: deleted, or made with another key or project)",
                )  # fmt: skip
            elif status.ended:
                await self._collect(row, status)
            elif status.status != row["status"]:
                self.store.set_batch(row["id"], status=status.status)

    def _given_up(self, status: batch_api.Status, row: dict[str, Any]) -> batch_api.Status:
        """A batch still running `batch_give_up_after` seconds past its expires_at will
        not end by itself (a provider that lost it says in_progress for ever): it is taken
        as expired, so its answered lines are kept, the rest go live or are listed, and the
        run (and the day's lock) ends."""
        expires_at = status.expires_at
        if expires_at is None:  # the provider says neither: 24 h from when it was stored
            try:
                stored = datetime.fromisoformat(str(row["created_at"]))
            except (KeyError, ValueError):
                return status
            if stored.tzinfo is None:
                stored = stored.replace(tzinfo=UTC)
            expires_at = stored.timestamp() + 24 * 3600
        late = time.time() - expires_at
        if late <= self.cfg.batch_give_up_after:
            return status
        expired = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        why = (
            f"still {status.status} {late / 3600:.1f} h past its expires_at ({expired}); given "
            f"up as expired (batch_give_up_after = {self.cfg.batch_give_up_after:g} s)"
        )
        log.warning("batch %s: %s", status.batch_id, why)
        return replace(status, status="expired", errors=[why, *status.errors])

    def _elsewhere_said(self, row: dict[str, Any]) -> None:
        """A batch sent to another endpoint than this run's (another --base-url, or this is
        a replay): not polled from here, not waited for, not closed; its requests are
        asked anew at this endpoint."""
        if row["id"] in self._elsewhere:
            return
        self._elsewhere.add(row["id"])
        log.warning(
            "batch %s was submitted to %s, not to this run's endpoint %s: left alone (a run "
            "at that endpoint collects it)",
            row["batch_id"] or row["id"], row["endpoint"], self.endpoint,
        )  # fmt: skip

    async def _adopt(self, row: dict[str, Any]) -> None:
        """A batch stored but not known to be created (the run that made it was killed):
        the provider's, if it made it, else created now, from the file already uploaded."""
        try:
            found = await self.api.find(row["input_file_id"])
        except BatchUnsupported:
            self._close(row["id"], "refused", "the endpoint has no Batch API")
            raise
        if found is None:
            made = await self._create(row["id"], row["input_file_id"])
            if made is not None:
                log.info("created batch %s, whose run stopped before creating it", made.batch_id)
            return
        log.info("found batch %s, whose run stopped before storing it", found.batch_id)
        self.store.set_batch(row["id"], status=found.status, batch_id=found.batch_id)

    async def _collect(self, row: dict[str, Any], status: batch_api.Status) -> None:
        keys = {k for k, _ in self.store.batch_requests(row["id"])}
        answers: dict[str, AnswerRow] = {}
        lost: list[str] = []
        with tempfile.TemporaryDirectory(prefix="summarizer-batch-") as tmp:
            for file_id in (status.error_file_id, status.output_file_id):  # output wins
                if not file_id:
                    continue
                try:
                    got = await self.api.download(
                        file_id, Path(tmp) / "file.jsonl", max_bytes=self.cfg.batch_max_output_bytes
                    )
                except batch_api.TooLarge as exc:
                    lost.append(f"{file_id} ({exc}, batch_max_output_bytes)")
                    continue
                if got is None:
                    lost.append(f"{file_id} (gone at the provider)")
                    continue
                answers.update(batch_api.read_lines(got.lines(), keys, status, got))
        why = f"batch {status.batch_id} ({status.status})"
        if lost:
            why += f": its file {', '.join(lost)} could not be downloaded"
        elif status.errors:
            why += f": {'; '.join(status.errors[:3])}"
        else:
            why += " gave no answer for this request"
        for key in keys - answers.keys():
            answers[key] = AnswerRow(key, "error", None, None, why)
        charges = self._charges(row["model"], answers.values())
        self.store.collect_batch(
            row["id"], status=status.status, detail=why if lost or status.errors else None,
            answers=list(answers.values()), run_id=self.run_id, charges=charges,
            price=pricing.cost_usd,
        )  # fmt: skip
        self.charged += charges
        paid = {c.key: c for c in charges}
        for key in keys & self.committed.keys():  # the worst case becomes what it cost
            c = paid.get(key)
            if c is not None and not c.usage_known:
                continue  # usage unknown (missing or impossible): the worst case stays
            self.committed[key] = (
                (c.tokens_in + c.tokens_out, c.cost_usd() or 0.0) if c else (0, 0.0)
            )
        missing = [a for a in answers.values() if a.outcome != "answer"]
        if missing:
            retry = "live" if self.cfg.batch_followup == "live" else "in a new batch"
            log.warning(
                "batch %s ended %s: %d of %d request(s) got no answer (first: %s); each is "
                "tried again %s, up to %d more time(s)",
                status.batch_id, status.status, len(missing), len(keys), missing[0].detail,
                retry, self.cfg.batch_retries,
            )  # fmt: skip
        else:
            log.info("collected batch %s: %d answer(s)", status.batch_id, len(keys))

    @staticmethod
    def _charges(model: str, answers: Iterable[AnswerRow]) -> list[calls.CallRecord]:
        """What a batch's answers cost, as the calls `history` records (batch price)."""
        from summarizer.llm.recordings import canonical_body
        from summarizer.llm.transport import call_record, read_usage

        return [
            call_record(
                a.key,
                model,
                a.status,
                read_usage(a.status, canonical_body((a.body or "").encode("utf-8"))),
                0.0,
                replayed=a.replayed,
                fixture=a.fixture,
                batched=True,
            )
            for a in answers
            if a.outcome == "answer" and a.status is not None
        ]

    def pending(self) -> str:
        rows = [r for r in self.store.open_batches(self.scope) if r["endpoint"] == self.endpoint]
        waiting = sum(int(r["requests"]) for r in rows)
        ids = ", ".join(f"{r['batch_id'] or r['id']} ({r['status']})" for r in rows)
        return (
            f"batch pending: {waiting} request(s) wait in {ids}; no brief is written until "
            "they are answered: run again later (the next run collects them), or add --wait"
        )


def _names(labels: list[str], most: int = 3) -> str:
    shown = ", ".join(labels[:most])
    return shown + (f" and {len(labels) - most} more" if len(labels) > most else "")
