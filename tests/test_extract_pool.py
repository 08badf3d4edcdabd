"""extract_pool.py: extraction never runs trafilatura in two threads at once, and a worker
process that dies fails only its own page."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from summarizer.errors import InputError
from summarizer.sources.extract import document_from_html
from summarizer.sources.extract_pool import Extractor
from summarizer.sources.ingest import Document
from tests.web_server import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (FIXTURES / "article.html").read_bytes()


def crash_or_extract(data: bytes, *, name: str) -> Document:
    """A page that kills the worker process extracting it, as a native crash in lxml does."""
    if b"CRASH" in data and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return document_from_html(data, name=name)


def slow_extract(data: bytes, *, name: str) -> Document:
    time.sleep(0.5)  # holds the in-process lane, so the pages after it go to the processes
    return document_from_html(data, name=name)


def test_a_dying_worker_fails_only_its_page_and_the_pool_is_rebuilt() -> None:
    pages = {f"https://news.example/{i}": ARTICLE for i in range(6)}
    pages["https://news.example/crash"] = ARTICLE.replace(b"<body>", b"<body><!-- CRASH -->")
    extractor = Extractor(lanes=2)

    async def go() -> list[Document | BaseException]:
        jobs = [extractor.run(slow_extract, ARTICLE, what="first", name="first")]
        jobs += [extractor.run(crash_or_extract, d, what=u, name=u) for u, d in pages.items()]
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(go())
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1 and isinstance(failed[0], InputError)
        assert str(failed[0]).startswith(
            "https://news.example/crash: extracting the page crashed its worker process;"
        )
        assert sum(isinstance(r, Document) for r in results) == 7
        assert extractor.crashes >= 2  # the pool it broke, then its run alone
        # The pool was replaced: later pages are extracted as before.
        again = asyncio.run(go())
        assert sum(isinstance(r, Document) for r in again) == 7
    finally:
        extractor.close()


def test_trafilatura_is_never_entered_by_two_threads_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    import trafilatura

    real = trafilatura.bare_extraction
    inside = 0
    most = 0
    count = threading.Lock()

    def watched(*args: object, **kwargs: object) -> object:
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)  # widen the window two unguarded threads would overlap in
        try:
            return real(*args, **kwargs)
        finally:
            with count:
                inside -= 1

    monkeypatch.setattr(trafilatura, "bare_extraction", watched)
    threads = [
        threading.Thread(target=document_from_html, args=(ARTICLE,), kwargs={"name": str(i)})
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


STRESS = r"""
import asyncio, sys, threading
from pathlib import Path
from summarizer.sources.extract import document_from_html
from summarizer.sources.extract_pool import Extractor
from summarizer.sources.fetch import Fetched

fixtures = Path(sys.argv[1])
names = ["article.html", "article_de.html", "article_cp1252.html", "article_sjis.html"]
pages = [(fixtures / n).read_bytes() for n in names]
# Each page a little different, as a real run's are.
batch = [pages[i % len(pages)].replace(b"</body>", b"<!-- %d --></body>" % i) for i in range(150)]
extracted = 0

async def through_the_loader_path() -> None:
    global extracted
    extractor = Extractor()          # the real settings: lanes = usable cores
    gate = asyncio.Semaphore(4)      # the loader's page concurrency
    async def one(i: int, data: bytes) -> None:
        global extracted
        async with gate:
            await extractor.run(document_from_html, data, what=str(i), name=str(i))
            extracted += 1
    try:
        await asyncio.gather(*(one(i, d) for i, d in enumerate(batch)))
    finally:
        extractor.close()

def four_threads_at_once() -> None:
    # What crashed before: four threads calling into trafilatura together.
    global extracted
    lock = threading.Lock()
    def work(part: list[bytes]) -> None:
        global extracted
        for i, data in enumerate(part):
            document_from_html(data, name=str(i))
            with lock:
                extracted += 1
    threads = [threading.Thread(target=work, args=(batch[k::4],)) for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()

for _round in range(2):
    asyncio.run(through_the_loader_path())
    four_threads_at_once()
print(extracted)
"""


@pytest.mark.stress
def test_stress_hundreds_of_pages_at_the_real_concurrency_never_crash() -> None:
    # In a child process: a native crash there is a failed test here, not a dead test run.
    # 150 pages, four times over: twice through the Extractor (processes), twice from four
    # threads at once (the lock).
    child = subprocess.run(
        [sys.executable, "-c", STRESS, str(FIXTURES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.strip() == "600"


def test_no_worker_processes_means_one_lane_not_failed_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from summarizer.sources import extract_pool

    def no_processes(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "semaphores are not available here")

    monkeypatch.setattr(extract_pool, "ProcessPoolExecutor", no_processes)
    extractor = Extractor(lanes=4)

    async def go() -> list[Document]:
        jobs = [extractor.run(slow_extract, ARTICLE, what="first", name="first")]
        jobs += [
            extractor.run(document_from_html, ARTICLE, what=str(i), name=str(i)) for i in range(3)
        ]
        return await asyncio.gather(*jobs)

    assert len(asyncio.run(go())) == 4
    assert extractor.lanes == 1
