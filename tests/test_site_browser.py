"""The reader's site in a real browser: Debian's Chromium, headless, driven by Playwright
(no browser is downloaded: Playwright drives /usr/bin/chromium). Skipped, with the reason
printed, where Chromium or Playwright is missing; scripts/check installs both where it can
and then sets SITE_BROWSER_REQUIRED=1, which turns such a skip into a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summarizer.site.build import build_site
from summarizer.store import Store
from tests.site_store import two_day_store
from tests.test_site import HAFTAR, _hostile_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags Chromium needs on a machine with no network and no display, as root.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _why_not() -> str | None:
    if CHROMIUM is None:
        return "no chromium on PATH (Debian: apt-get install chromium); browser tests skipped"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]'); browser tests skipped"
    return None


@pytest.fixture(scope="module")
def browser(site: Path) -> Iterator[Any]:
    # After `site`: Playwright's sync API runs an event loop in this thread, and the
    # daily runs that make the store run their own with asyncio.run.
    why = _why_not()
    if why is not None:
        if os.environ.get("SITE_BROWSER_REQUIRED") == "1":
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "site"
    build_site(Store(two_day_store(folder)), out)
    return out


class Visit:
    """One page with everything it asked for and every error it logged."""

    def __init__(self, browser: Any, root: Path) -> None:
        self.context = browser.new_context()
        self.root = root.resolve().as_uri()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.root + "/"):
            route.continue_()
        else:  # anything outside the site: recorded and refused
            self.outside.append(url)
            route.abort()

    def open(self, rel: str) -> Any:
        self.page.goto(f"{self.root}/{rel}")
        return self.page

    def close(self) -> None:
        self.context.close()


def test_every_page_opens_from_disk_with_no_error_and_no_outside_request(
    browser: Any, site: Path
) -> None:
    visit = Visit(browser, site)
    try:
        seen: set[str] = set()
        queue = ["index.html"]
        while queue:
            rel = queue.pop()
            if rel in seen:
                continue
            seen.add(rel)
            page = visit.open(rel)
            assert page.title(), rel
            assert page.evaluate("document.documentElement.lang") == "en", rel
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if href.startswith(visit.root + "/"):
                    target = href[len(visit.root) + 1 :].split("#")[0]
                    assert (site / target).is_file(), f"{rel}: link to {target} does not resolve"
                    if target.endswith(".html"):
                        queue.append(target)
        assert len(seen) == 9
        assert visit.errors == [] and visit.outside == []
    finally:
        visit.close()


def test_the_story_page_draws_its_stance_history(browser: Any, site: Path) -> None:
    visit = Visit(browser, site)
    try:
        page = visit.open(f"stories/{HAFTAR}.html")
        img = page.locator("figure.picture img")
        assert img.count() == 1
        page.wait_for_function("document.querySelector('figure.picture img').complete")
        size = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert size[0] > 200 and size[1] > 100  # drawn, not a broken image
        spend = visit.open("spend.html")
        spend.wait_for_function("document.querySelector('figure.picture img').complete")
        assert spend.locator("figure.picture img").evaluate("i => i.naturalWidth") > 200
        assert visit.errors == [] and visit.outside == []
    finally:
        visit.close()


def test_the_ledger_filters_without_a_server(browser: Any, site: Path) -> None:
    visit = Visit(browser, site)
    try:
        page = visit.open("questions.html")
        rows = page.locator("table.ledger tbody tr")
        total = rows.count()

        def visible(status: str | None = None) -> int:
            return sum(
                1 for i in range(total)
                if rows.nth(i).is_visible()
                and (status is None or rows.nth(i).get_attribute("class") == f"q-{status}")
            )  # fmt: skip

        assert visible() == total and total >= 2
        page.click("label[for=show-answered]")
        assert visible() == visible("answered") == 1
        page.click("label[for=show-open]")
        assert visible() == visible("open") == total - 1
        page.click("label[for=show-all]")
        assert visible() == total
    finally:
        visit.close()


def test_hostile_titles_run_no_script(browser: Any, tmp_path: Path, site: Path) -> None:
    out = tmp_path / "site"
    build_site(Store(_hostile_store(site.parent / "demo.db", tmp_path / "store")), out)
    visit = Visit(browser, out)
    try:
        for rel in ["index.html", *(str(p.relative_to(out)) for p in out.rglob("*.html"))]:
            page = visit.open(rel)
            assert page.evaluate("window.__pwned") is None, rel
        page = visit.open("index.html")
        assert "<script>window.__pwned = 1</script>Evil" in page.inner_text("body")
        # A javascript: source is shown as text, never as a link.
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if h.startswith("javascript:")]
    finally:
        visit.close()


def test_tables_scroll_in_their_own_box_on_a_narrow_screen(browser: Any, site: Path) -> None:
    visit = Visit(browser, site)
    try:
        visit.page.set_viewport_size({"width": 400, "height": 800})
        for rel in ("questions.html", f"stories/{HAFTAR}.html", "spend.html"):
            page = visit.open(rel)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{rel} scrolls sideways by {overflow}px at 400px"
    finally:
        visit.close()
