"""Pages extracted per second on this machine: one at a time in this process, against the
Extractor's parallel lanes (worker processes for the overflow, one per extra core).

The pages are the test fixtures (an English news article, a German one, a windows-1252
one, a Shift_JIS one, and the two reviews whose extraction runs twice), each page made a
little different so nothing is cached, fed the way the loader feeds them: four pages in
flight at once. Each figure is the median of three runs over the same pages; the parallel
one includes starting the worker pool, as a daily run pays it.
"""

from __future__ import annotations

import asyncio
import time

from common import ROOT, Figure, median

FIXTURES = ROOT / "tests" / "fixtures" / "web"
NAMES = [
    "article.html",
    "article_de.html",
    "article_cp1252.html",
    "article_sjis.html",
    "review_grid.html",
    "review_two_column.html",
]


def _pages(n: int) -> list[bytes]:
    pages = [(FIXTURES / name).read_bytes() for name in NAMES]
    return [pages[i % len(pages)].replace(b"</body>", b"<!-- %d --></body>" % i) for i in range(n)]


def _rate(lanes: int, pages: list[bytes]) -> float:
    from summarizer.sources.extract import document_from_html
    from summarizer.sources.extract_pool import Extractor

    async def go() -> None:
        extractor = Extractor(lanes)
        gate = asyncio.Semaphore(4)  # the loader's pages in flight

        async def one(i: int, data: bytes) -> None:
            async with gate:
                await extractor.run(document_from_html, data, what=str(i), name=str(i))

        try:
            await asyncio.gather(*(one(i, d) for i, d in enumerate(pages)))
        finally:
            extractor.close()

    started = time.perf_counter()
    asyncio.run(go())
    return len(pages) / (time.perf_counter() - started)


def figures(n: int = 240, runs: int = 3) -> list[Figure]:
    from summarizer.sources.extract_pool import usable_cores

    pages = _pages(n)
    _rate(1, pages[:12])  # imports and first-use caches, outside the timing
    serial = median([_rate(1, pages) for _ in range(runs)])
    lanes = usable_cores()
    parallel = median([_rate(lanes, pages) for _ in range(runs)])
    return [
        Figure(
            "extraction: serial",
            f"{serial:.0f} pages/s ({n} fixture pages, one at a time, median of {runs})",
            "(info)",
            None,
        ),
        Figure(
            "extraction: parallel",
            f"{parallel:.0f} pages/s = {parallel / serial:.2f} x serial "
            f"({lanes} lanes on {lanes} usable cores, pool start included)",
            "(info)",
            None,
        ),
    ]


if __name__ == "__main__":
    for f in figures():
        print(f.name, f.value, f.verdict)
