"""The site in headless Chromium, served by ``entretiens serve``: clean loads, a player that seeks, phone widths."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from entretiens import serve
from site_fixtures import site_show

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, ViewportSize

pytestmark = pytest.mark.browser

#: Chromium as installed on PATH (Debian: chromium; elsewhere often chromium-browser or google-chrome).
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
#: Long enough for chapters far apart: seeking must visibly move the player.
SECONDS = 40.0
CHAPTERS = (0.0, 12.0, 24.0)
PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def _missing(what: str) -> NoReturn:
    if os.environ.get("ENTRETIENS_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{what} is required (ENTRETIENS_REQUIRE_TOOLS=1)")
    pytest.skip(f"{what} is not available")


@dataclass
class Watch:
    """What went wrong while pages loaded: console errors, failed or foreign requests."""

    errors: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.errors.clear()


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[serve.Preview]:
    root = site_show(tmp_path_factory.mktemp("browser") / "show", seconds=SECONDS, chapter_starts=CHAPTERS)
    with serve.Preview(root, port=0, interval=3600) as running:
        running.start()
        yield running


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    if CHROMIUM is None:
        _missing("Chromium (chromium on PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    with tempfile.TemporaryDirectory(prefix="entretiens-chromium-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport=DESKTOP
        )
        yield browser
        browser.close()


@pytest.fixture
def page(context: BrowserContext, preview: serve.Preview) -> Iterator[tuple[Page, Watch]]:
    watch = Watch()
    page = context.new_page()
    # Failures show in seconds rather than after Playwright's default 30 s.
    page.set_default_timeout(10_000)
    local = urlsplit(preview.url).netloc

    def route(request: Any) -> None:
        # Any request leaving the preview server is a request to a third party.
        if urlsplit(request.request.url).netloc != local:
            watch.errors.append(f"third-party request: {request.request.url}")
            request.abort()
        else:
            request.continue_()

    def failed(request: Any) -> None:
        # Players cancel their own media requests (after reading the metadata, on a seek).
        if not (request.resource_type == "media" and request.failure == "net::ERR_ABORTED"):
            watch.errors.append(f"failed: {request.url} {request.failure}")

    page.route("**/*", route)
    page.on("console", lambda message: watch.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    page.on("requestfailed", failed)
    page.on("response", lambda r: watch.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    yield page, watch
    page.close()


def _no_horizontal_scroll(page: Page) -> None:
    page.set_viewport_size(PHONE)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] == PHONE["width"], widths
    page.set_viewport_size(DESKTOP)


def test_home_page(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url, wait_until="load")
    assert browser.locator("h1").inner_text() == "Test Talks"
    assert browser.locator(".episode-card h3").all_inner_texts() == ["Compilers", "Analytical engines"]
    # Styles applied: the stylesheet loaded from public/assets/.
    assert (
        browser.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    _no_horizontal_scroll(browser)
    browser.locator(".episode-card h3 a", has_text="Analytical engines").click()
    browser.wait_for_url("**/001-engines/")
    assert watch.errors == []


def test_player_plays_and_chapters_seek(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url + "001-engines/", wait_until="load")
    assert browser.evaluate("document.getElementById('player').play().then(() => true)")
    browser.wait_for_function("document.getElementById('player').currentTime > 0.2")
    browser.locator(".chapters a.chapter", has_text="Patterns").click()
    browser.wait_for_function(
        "(t) => { const a = document.getElementById('player'); return a.currentTime >= t && a.currentTime < t + 5; }",
        arg=CHAPTERS[2],
    )
    assert browser.evaluate("location.hash") == "#t=00:24"
    browser.wait_for_function(
        "document.querySelector('.chapters li.current .chapter-title').textContent === 'Patterns'"
    )
    # A transcript timestamp seeks too.
    browser.locator("summary").click()
    browser.locator(".transcript a.time").first.click()
    browser.wait_for_function("document.getElementById('player').currentTime < 5")
    _no_horizontal_scroll(browser)
    assert watch.errors == []


def test_deep_link_starts_there(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url + "001-engines/#t=00:12", wait_until="load")
    browser.wait_for_function(
        "(t) => { const a = document.getElementById('player');"
        " return a.readyState >= 1 && Math.abs(a.currentTime - t) < 0.5; }",
        arg=CHAPTERS[1],
    )
    assert browser.evaluate("document.getElementById('player').paused")
    assert watch.errors == []


def test_subscribe_page_is_where_rss_leads(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url, wait_until="load")
    browser.locator("footer a", has_text="RSS feed").click()
    browser.wait_for_url("**/subscribe/")
    assert browser.locator("h1").inner_text() == "Subscribe to Test Talks"
    assert browser.locator("#feed-url").input_value() == "https://podcast.example.org/show/feed.xml"
    apps = browser.locator("section[aria-labelledby=apps-title] a").all_inner_texts()
    assert "Overcast" in apps and "Apple Podcasts" in apps
    # The feed itself is served as a feed, not dressed as a page.
    answer = browser.request.get(preview.url + "feed.xml")
    assert answer.ok and b"xml-stylesheet" not in answer.body()
    assert watch.errors == []
