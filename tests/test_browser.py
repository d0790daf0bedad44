"""The site in headless Chromium, served by ``entretiens serve``: clean loads, a player that seeks, phone widths."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
def served() -> list[str]:
    """The request lines the preview server answered, as it logs them."""
    return []


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory, served: list[str]) -> Iterator[serve.Preview]:
    root = site_show(tmp_path_factory.mktemp("browser") / "show", seconds=SECONDS, chapter_starts=CHAPTERS)
    with serve.Preview(root, port=0, interval=3600, log=served.append) as running:
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
        # Players cancel their own media requests (after reading the metadata, on a seek), and
        # leaving a page cancels its lazy images still on the way.
        if not (request.resource_type in ("media", "image") and request.failure == "net::ERR_ABORTED"):
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
    browser.locator(".transcript summary").click()
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


# -- the player and the home page ------------------------------------------------------------------

AXE = Path(__file__).parent / "clients" / "node_modules" / "axe-core" / "axe.min.js"
SMALL_PHONE: ViewportSize = {"width": 375, "height": 667}
CURRENT = "document.getElementById('player').currentTime"


def _audio_requests(served: list[str]) -> list[str]:
    return [line for line in served if "/audio/" in line]


def _in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    return bool(box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"])


def _wait_near(page: Page, seconds: float, within: float = 3.0) -> None:
    page.wait_for_function(f"([t, d]) => {{ const a = {CURRENT}; return Math.abs(a - t) < d; }}", arg=[seconds, within])


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_home_page_plays_the_latest_episode_in_the_first_screen(
    page: tuple[Page, Watch], preview: serve.Preview, served: list[str], viewport: ViewportSize
) -> None:
    browser, watch = page
    browser.set_viewport_size(viewport)
    served.clear()
    browser.goto(preview.url, wait_until="load")
    assert _in_view(browser, ".episode-card.latest audio"), "the latest episode's player is below the fold"
    assert _in_view(browser, ".hero .follow"), "the subscribe buttons are below the fold"
    # Every episode line can be played, and the host is named once.
    assert browser.locator(".episode-card audio").count() == browser.locator(".episode-card").count() == 2
    assert browser.locator("main").inner_text().count("Alex Host") == 2  # the hero's line and the bio's card
    assert browser.locator(".hero .hosts a").get_attribute("href") == "#host-1"
    # Nothing of the audio is fetched until a listener presses play.
    assert _audio_requests(served) == []
    browser.locator(".episode-card.latest audio").evaluate("audio => audio.play()")
    browser.wait_for_function("document.querySelector('.episode-card.latest audio').currentTime > 0.2")
    assert _audio_requests(served) != []
    assert watch.errors == []


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_player_controls_stay_in_view_and_work(
    page: tuple[Page, Watch], preview: serve.Preview, served: list[str], viewport: ViewportSize
) -> None:
    browser, watch = page
    browser.set_viewport_size(viewport)
    browser.goto(preview.url + "001-engines/", wait_until="load")
    browser.evaluate("localStorage.clear()")  # other tests played this episode: start from 0
    served.clear()
    browser.reload(wait_until="load")
    # The script replaced the browser's controls with its own, and documents its keys.
    assert browser.locator(".player .controls").is_visible()
    assert not browser.locator("#player").is_visible()
    assert "space or K" in browser.locator(".keys").inner_text()
    assert browser.locator(".now").get_attribute("aria-live") == "polite"
    assert browser.locator(".markers li").count() == 2
    assert _audio_requests(served) == [], "audio was downloaded before play"

    browser.locator(".player .play").click()
    browser.wait_for_function(f"{CURRENT} > 0.2")
    assert browser.locator(".player .play").get_attribute("aria-label") == "Pause"
    browser.locator(".player .skip-forward").click()
    _wait_near(browser, 30.5)
    browser.locator(".player .skip-back").click()
    _wait_near(browser, 15.5)
    browser.locator(".player .speed").select_option("1.5")
    assert browser.evaluate("document.getElementById('player').playbackRate") == 1.5

    # The chapter changes: the polite live region says so.
    browser.wait_for_function("document.querySelector('.now').textContent === 'Chapter: The engine'")
    browser.locator(".chapters a.chapter", has_text="Patterns").click()
    _wait_near(browser, CHAPTERS[2])
    browser.wait_for_function("document.querySelector('.now').textContent === 'Chapter: Patterns'")
    assert _in_view(browser, ".player .controls")

    # Far down the page, a transcript timestamp seeks and the controls are still on screen.
    browser.locator(".transcript summary").click()
    browser.locator(".transcript a.time").first.scroll_into_view_if_needed()
    browser.locator(".transcript a.time").first.click()
    _wait_near(browser, 0.0)
    browser.wait_for_function("document.querySelector('.now').textContent === 'Chapter: Welcome'")
    # The player sticks to the top of the screen for as long as the episode's article lasts.
    browser.evaluate("document.querySelector('.transcript p:last-child').scrollIntoView({block: 'end'})")
    assert browser.evaluate("window.scrollY") > 300
    assert _in_view(browser, ".player .controls")
    browser.locator(".player .play").click()
    browser.wait_for_function("document.getElementById('player').paused")
    assert watch.errors == []


def test_keyboard_and_remembered_position(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url + "002-compilers/", wait_until="load")
    browser.evaluate("localStorage.clear()")
    browser.reload(wait_until="load")
    browser.keyboard.press("k")
    browser.wait_for_function(f"{CURRENT} > 0.2")
    browser.keyboard.press("l")
    _wait_near(browser, 30.5)
    browser.keyboard.press("ArrowLeft")
    _wait_near(browser, 15.5)
    browser.keyboard.press("k")
    browser.wait_for_function("document.getElementById('player').paused")
    at = browser.evaluate(CURRENT)
    # Back on the page later: the player shows where the listener stopped and starts from there.
    browser.reload(wait_until="load")
    assert browser.locator(".elapsed").inner_text() == f"00:{int(at):02d}"
    browser.locator(".player .play").click()
    browser.wait_for_function(f"(t) => {CURRENT} >= t - 1 && !document.getElementById('player').paused", arg=at)
    assert watch.errors == []


def test_embed_page_plays_and_links_back(page: tuple[Page, Watch], preview: serve.Preview) -> None:
    browser, watch = page
    browser.goto(preview.url + "001-engines/", wait_until="load")
    code = browser.locator("#embed-code").input_value()
    assert code.startswith('<iframe src="https://podcast.example.org/show/001-engines/embed/"'), code
    browser.goto(preview.url + "001-engines/embed/", wait_until="load")
    assert browser.locator("h1 a").get_attribute("href") == "../../001-engines/"
    assert browser.locator(".meta a").inner_text() == "Test Talks"
    browser.locator(".player .play").click()
    browser.wait_for_function(f"{CURRENT} > 0.2")
    browser.locator(".player .skip-forward").click()
    _wait_near(browser, 30.5)
    assert watch.errors == []


@pytest.mark.parametrize("path", ["", "001-engines/", "guests/", "subscribe/", "001-engines/embed/", "404.html"])
def test_pages_pass_axe(page: tuple[Page, Watch], preview: serve.Preview, path: str) -> None:
    if not AXE.is_file():
        _missing("axe-core (npm ci --prefix tests/clients)")
    browser, watch = page
    browser.goto(preview.url + path, wait_until="load")
    browser.add_script_tag(path=AXE)
    violations = browser.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    assert violations == []
    if path != "404.html":  # its links start from the site's root (/show/), which the preview is not
        assert watch.errors == []
