"""The link checker against local servers: every failure mode, the bounds on concurrency, the deadline, the cache."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import requests

from check_fixtures import (
    STUCK_AFTER,
    Concurrency,
    LinkServer,
    ManualClock,
    Route,
    ScriptedHandler,
    by_method,
    endless_body,
    episode_path,
    in_turn,
    line_of,
    make_clean_show,
    noting_reads,
    replace_in,
    respond,
    until_set,
    wait_until,
)
from entretiens.links import (
    LinkCache,
    LinkOptions,
    LinkPlace,
    LinkResult,
    LinkStatus,
    check_links,
    check_urls,
    collect_places,
    link_problems,
    parse_retry_after,
)
from entretiens.loading import load_project

#: Short enough for a quick suite, long enough for a loaded machine.
FAST = LinkOptions(jobs=8, timeout=0.5, deadline=8.0, retries=2, backoff=0.05, max_retry_after=0.2)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment would send the requests for 127.0.0.1 elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def servers() -> Iterator[list[LinkServer]]:
    started: list[LinkServer] = []
    yield started
    for server in started:
        server.close()


def _serve(servers: list[LinkServer], routes: dict[str, object], concurrency: Concurrency | None = None) -> LinkServer:
    server = LinkServer(routes, concurrency)  # type: ignore[arg-type]
    servers.append(server)
    return server


class CountingSessions:
    """Sessions that count the requests in flight from the client's side, overall and per host."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most = 0
        self.most_per_host: dict[str, int] = {}

    def session(self) -> requests.Session:
        counter = self

        class Counting(requests.Session):
            def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
                host = urlsplit(str(url)).netloc
                with counter.lock:
                    counter.now[host] += 1
                    counter.most = max(counter.most, sum(counter.now.values()))
                    counter.most_per_host[host] = max(counter.most_per_host.get(host, 0), counter.now[host])
                try:
                    return super().request(method, url, *args, **kwargs)
                finally:
                    with counter.lock:
                        counter.now[host] -= 1

        return Counting()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_failure_mode_is_classified_within_the_deadline(servers: list[LinkServer]) -> None:
    concurrency = Concurrency()
    site = _serve(
        servers,
        {
            "/ok": respond(200),
            "/moved": respond(301, headers={"Location": "/ok"}),
            "/moved-twice": respond(308, headers={"Location": "/moved"}),
            "/temporary": respond(302, headers={"Location": "/ok"}),
            "/temporary-then-moved": respond(302, headers={"Location": "/moved"}),
            "/moved-to-missing": respond(301, headers={"Location": "/missing"}),
            "/missing": respond(404),
            "/gone": respond(410),
            "/busy": in_turn(respond(429, headers={"Retry-After": "1"}), respond(200)),
            "/always-busy": respond(429, headers={"Retry-After": "1"}),
            "/flaky": in_turn(respond(500), respond(200)),
            "/broken": respond(500),
            "/slow": respond(200, delay=0.75),
            "/loop-a": respond(302, headers={"Location": "/loop-b"}),
            "/loop-b": respond(302, headers={"Location": "/loop-a"}),
            "/no-head": by_method(respond(405), respond(200, body=b"<html>" * 1000)),
            "/head-forbidden": by_method(respond(403), respond(200, body=b"hello")),
            "/head-not-implemented": by_method(respond(501), respond(200)),
            "/denied": respond(403),
        },
        concurrency,
    )
    refused = f"http://127.0.0.1:{_closed_port()}/"
    counting = CountingSessions()
    expected = {
        "/ok": "ok",
        "/moved": "moved",
        "/moved-twice": "moved",
        "/temporary": "ok",
        "/temporary-then-moved": "ok",
        "/moved-to-missing": "dead",
        "/missing": "dead",
        "/gone": "dead",
        "/busy": "ok",
        "/always-busy": "rate-limited",
        "/flaky": "ok",
        "/broken": "server-error",
        "/slow": "timeout",
        "/loop-a": "redirect-loop",
        "/no-head": "ok",
        "/head-forbidden": "ok",
        "/head-not-implemented": "ok",
        "/denied": "denied",
    }
    urls = [site.url(path) for path in expected] + [refused]
    results = check_urls(urls, options=FAST, session_factory=counting.session)
    assert {path: results[site.url(path)].status for path in expected} == expected
    assert results[refused].status == "unreachable"
    # Each answer was classified on its own merits: none was cut short by the deadline.
    assert [r.url for r in results.values() if "deadline" in r.detail] == []
    assert site.own.most == 1  # One request at a time on this host, as the server saw it...
    assert set(counting.most_per_host.values()) == {1}  # ... and as the client sent them.
    assert results[site.url("/moved")].moved_to == site.url("/ok")
    assert results[site.url("/moved-twice")].moved_to == site.url("/ok")
    assert results[site.url("/temporary")].final_url == site.url("/ok")
    assert results[site.url("/moved-to-missing")].final_url == site.url("/missing")
    assert (results[site.url("/missing")].http_status, results[site.url("/gone")].http_status) == (404, 410)
    assert results[site.url("/always-busy")].attempts == 3
    assert results[site.url("/broken")].attempts == 3
    assert results[site.url("/flaky")].attempts == 2
    assert results[site.url("/no-head")].method == "GET"
    assert "loop" in results[site.url("/loop-a")].detail
    assert [method for method, _ in site.requests_to("/no-head")] == ["HEAD", "GET"]


def test_concurrency_is_bounded_overall_and_one_at_a_time_per_host(servers: list[LinkServer]) -> None:
    concurrency = Concurrency()
    hosts = [_serve(servers, {f"/page/{n}": respond(200, delay=0.08) for n in range(4)}, concurrency) for _ in range(6)]
    urls = [host.url(f"/page/{n}") for n in range(4) for host in hosts]
    counting = CountingSessions()
    results = check_urls(urls, options=LinkOptions(jobs=3, timeout=2, deadline=10), session_factory=counting.session)
    assert {result.status for result in results.values()} == {"ok"}
    assert 2 <= concurrency.most <= 3  # Requests did run side by side, never more than --jobs.
    assert 2 <= counting.most <= 3
    assert [host.own.most for host in hosts] == [1] * 6
    assert set(counting.most_per_host.values()) == {1}


def test_more_jobs_than_hosts_still_means_one_request_per_host(servers: list[LinkServer]) -> None:
    concurrency = Concurrency()
    hosts = [_serve(servers, {f"/{n}": respond(200, delay=0.05) for n in range(5)}, concurrency) for _ in range(2)]
    results = check_urls(
        [host.url(f"/{n}") for host in hosts for n in range(5)], options=LinkOptions(jobs=8, timeout=2)
    )
    assert len(results) == 10
    assert concurrency.most <= 2
    assert [host.own.most for host in hosts] == [1, 1]


def test_a_stuck_server_cannot_hold_the_run_past_its_deadline(servers: list[LinkServer]) -> None:
    clock = ManualClock()
    released, answered = threading.Event(), threading.Event()

    def stuck(handler: ScriptedHandler) -> None:
        clock.advance(1.0)  # The deadline (0.5) passes while the server sits on the request...
        until_set(released, respond(200))(handler)  # ... which it answers only when the test says so.
        answered.set()

    site = _serve(servers, {"/stuck": stuck, "/after": respond(200)})
    options = LinkOptions(timeout=STUCK_AFTER, deadline=0.5)
    try:
        results = check_urls([site.url("/stuck"), site.url("/after")], options=options, clock=clock)
        # check_urls returned while the server still held the answer: the deadline ended the run.
        assert not answered.is_set()
    finally:
        released.set()
    assert [result.status for result in results.values()] == ["timeout", "timeout"]
    assert "deadline" in results[site.url("/after")].detail
    assert site.requests_to("/after") == []


def _in_background(urls: list[str], options: LinkOptions, clock: ManualClock) -> Future[dict[str, LinkResult]]:
    pool = ThreadPoolExecutor(max_workers=1)
    running = pool.submit(check_urls, urls, options=options, clock=clock)
    pool.shutdown(wait=False)
    return running


def _requests_at(clock: ManualClock, site: LinkServer, path: str, moment: float) -> int:
    """How many requests ``path`` has received once the checker has seen the clock at ``moment``."""
    clock.advance(moment - clock())
    clock.seen_by_workers()
    return len(site.requests_to(path))


def _paused(status: int, clock: ManualClock, marks: list[int], headers: dict[str, str] | None = None) -> Route:
    return noting_reads(clock, marks, respond(status, headers=headers))


def _answer_handled(clock: ManualClock, marks: list[int], count: int) -> None:
    """Wait until the checker has received answer number ``count`` and scheduled what follows."""
    wait_until(lambda: len(marks) >= count, f"request {count}")
    clock.seen_by_workers(after=marks[count - 1])


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("retry_after", ["3600", "an hour from now, as an HTTP date"])
def test_retry_after_is_honoured_but_capped(servers: list[LinkServer], status: int, retry_after: str) -> None:
    if not retry_after.isdigit():
        retry_after = format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
    clock, marks = ManualClock(), list[int]()
    site = _serve(
        servers, {"/wait": in_turn(_paused(status, clock, marks, {"Retry-After": retry_after}), respond(200))}
    )
    running = _in_background([site.url("/wait")], LinkOptions(max_retry_after=0.3, timeout=STUCK_AFTER), clock)

    _answer_handled(clock, marks, 1)
    assert _requests_at(clock, site, "/wait", 0.29) == 1  # The pause is honoured...
    assert _requests_at(clock, site, "/wait", 0.31) == 2  # ... up to the cap, not the hour asked.

    result = running.result(timeout=STUCK_AFTER)[site.url("/wait")]
    assert (result.status, result.attempts) == ("ok", 2)


def test_without_retry_after_the_pause_doubles(servers: list[LinkServer]) -> None:
    clock, marks = ManualClock(), list[int]()
    site = _serve(servers, {"/flaky": in_turn(_paused(502, clock, marks), _paused(503, clock, marks), respond(200))})
    running = _in_background([site.url("/flaky")], LinkOptions(backoff=0.1, timeout=STUCK_AFTER), clock)

    _answer_handled(clock, marks, 1)
    assert _requests_at(clock, site, "/flaky", 0.09) == 1
    assert _requests_at(clock, site, "/flaky", 0.11) == 2  # backoff after the first answer: 0.1
    _answer_handled(clock, marks, 2)
    assert _requests_at(clock, site, "/flaky", 0.30) == 2
    assert _requests_at(clock, site, "/flaky", 0.32) == 3  # after the second: 0.2

    result = running.result(timeout=STUCK_AFTER)[site.url("/flaky")]
    assert (result.status, result.attempts) == ("ok", 3)


def test_a_retry_that_would_pass_the_deadline_reports_the_answer(servers: list[LinkServer]) -> None:
    site = _serve(servers, {"/later": respond(503, headers={"Retry-After": "30"})})
    results = check_urls([site.url("/later")], options=LinkOptions(deadline=1, max_retry_after=30, timeout=2))
    result = results[site.url("/later")]
    assert (result.status, result.attempts) == ("server-error", 1)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), (" 0 ", 0.0), ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0), ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0)],
)
def test_retry_after_values_are_read(value: str, seconds: float) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5"])
def test_unreadable_retry_after_values_fall_back_to_backoff(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_head_refusing_server_gets_a_get_whose_body_is_not_downloaded(servers: list[LinkServer]) -> None:
    sent = threading.Event()

    def whole_body(handler: ScriptedHandler) -> None:
        endless_body(handler)  # Ten seconds of trickle: only a client that reads it all waits for it.
        sent.set()

    site = _serve(servers, {"/page": by_method(respond(405), whole_body)})
    result = check_urls([site.url("/page")], options=LinkOptions(timeout=2))[site.url("/page")]
    assert (result.status, result.method, result.http_status) == ("ok", "GET", 200)
    assert not sent.is_set(), "the checker waited for the whole body"


def test_too_many_redirects_count_as_a_loop(servers: list[LinkServer]) -> None:
    site = _serve(servers, {f"/{n}": respond(307, headers={"Location": f"/{n + 1}"}) for n in range(12)})
    result = check_urls([site.url("/0")], options=LinkOptions(timeout=2))[site.url("/0")]
    assert result.status == "redirect-loop"
    assert "more than 10" in result.detail


def test_progress_is_reported_up_to_the_total(servers: list[LinkServer]) -> None:
    site = _serve(servers, {"/a": respond(200), "/b": respond(404)})
    calls: list[tuple[int, int]] = []
    check_urls(
        [site.url("/a"), site.url("/b")], options=FAST, progress=lambda done, total, url: calls.append((done, total))
    )
    assert calls[-1] == (2, 2)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# --- cache -----------------------------------------------------------------------------------------


def _places(urls: list[str], path: Path) -> list[LinkPlace]:
    return [
        LinkPlace(url=url, path=path, line=n + 1, field=f"links[{n}].url", label=f"link {n}")
        for n, url in enumerate(urls)
    ]


def test_results_are_cached_for_a_day_except_passing_failures(tmp_path: Path, servers: list[LinkServer]) -> None:
    site = _serve(servers, {"/ok": respond(200), "/dead": respond(404), "/slow": respond(200, delay=0.75)})
    cache = tmp_path / "links.json"
    places = _places([site.url("/ok"), site.url("/dead"), site.url("/slow")], tmp_path / "e.yaml")
    first = check_links(places, options=FAST, cache_path=cache)
    assert [r.status for r in first.results.values()] == ["ok", "dead", "timeout"]
    stored = json.loads(cache.read_text(encoding="utf-8"))["links"]
    assert set(stored) == {site.url("/ok"), site.url("/dead")}  # A timeout may pass: not kept.
    hits = len(site.hits)
    second = check_links(places[:2], options=FAST, cache_path=cache)
    assert len(site.hits) == hits
    assert [(r.status, r.cached) for r in second.results.values()] == [("ok", True), ("dead", True)]
    assert second.from_cache == 2
    assert [p.rule for p in second.problems] == ["link-dead"]
    third = check_links(places[:2], options=FAST, cache_path=cache, read_cache=False)
    assert len(site.hits) == hits + 2
    assert not any(r.cached for r in third.results.values())


def test_cached_results_expire_after_a_day_and_damaged_caches_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "links.json"
    now = [1_000_000.0]
    cache = LinkCache(path, now=lambda: now[0])
    cache.put(LinkResult(url="https://example.org/", status="ok", http_status=200))
    cache.put(LinkResult(url="https://example.org/slow", status="timeout"))
    cache.save()
    assert LinkCache(path, now=lambda: now[0] + 3600).get("https://example.org/") is not None
    assert LinkCache(path, now=lambda: now[0] + 3600).get("https://example.org/slow") is None
    assert LinkCache(path, now=lambda: now[0] + 24 * 3600 + 1).get("https://example.org/") is None
    path.write_text("{not json", encoding="utf-8")
    assert LinkCache(path).get("https://example.org/") is None


# --- places and problems ---------------------------------------------------------------------------


def test_places_cover_what_a_show_cites_at_the_line_it_is_written(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    feed = root / "feed.yaml"
    feed.write_text(
        feed.read_text(encoding="utf-8") + "subscribe:\n  apple: https://podcasts.example.com/atelier\n",
        encoding="utf-8",
    )
    replace_in(feed, "    bio: Anime l'émission.", "    bio: Anime l'émission.\n    url: https://example.org/camille")
    (root / "guests").mkdir()
    (root / "guests" / "lise.yaml").write_text(
        "name: Lise Moreau\nbio: Ébéniste.\nurl: https://example.org/lise\n", encoding="utf-8"
    )
    second = episode_path(root, 2)
    replace_in(second, "  - name: Lise Moreau\n    bio: Ébéniste à Lyon depuis vingt ans.\n", "  - lise\n")
    replace_in(second, "  - l'apprentissage ;", "  - l'apprentissage, voir <https://example.org/apprendre> ;")
    replace_in(
        second,
        '{start: "00:05", title: Le métier}',
        '{start: "00:05", title: Le métier, url: "https://example.org/metier"}',
    )
    places = {(p.url, p.path.relative_to(root).as_posix(), p.line, p.field) for p in collect_places(load_project(root))}
    first = episode_path(root, 1)
    assert places == {
        ("https://example.org/atelier", "feed.yaml", 5, "description"),
        ("https://example.org/soutenir", "feed.yaml", line_of(feed, "soutenir"), "funding[0].url"),
        ("https://podcasts.example.com/atelier", "feed.yaml", line_of(feed, "apple:"), "subscribe.apple"),
        ("https://example.org/camille", "feed.yaml", line_of(feed, "url: https://example.org/camille"), "hosts[0].url"),
        ("https://example.org/atelier/1", "episodes/001-jeanne.yaml", line_of(first, "url:"), "links[0].url"),
        (
            "https://example.org/atelier/2",
            "episodes/002-lise.yaml",
            line_of(second, "url: https://example.org/atelier"),
            "links[0].url",
        ),
        ("https://example.org/lise", "guests/lise.yaml", 3, "url"),
        ("https://example.org/apprendre", "episodes/002-lise.yaml", line_of(second, "apprendre"), "notes"),
        ("https://example.org/metier", "episodes/002-lise.yaml", line_of(second, "metier"), "chapters[1].url"),
    }


def test_a_dead_link_is_a_warning_naming_the_episode_file_line_and_url(
    tmp_path: Path, servers: list[LinkServer]
) -> None:
    site = _serve(
        servers, {"/gone": respond(410), "/old": respond(301, headers={"Location": "/new"}), "/new": respond(200)}
    )
    root = make_clean_show(tmp_path / "show", episodes=2)
    first, second = episode_path(root, 1), episode_path(root, 2)
    replace_in(first, "https://example.org/atelier/1", site.url("/gone"))
    replace_in(second, "https://example.org/atelier/2", site.url("/old"))
    places = [p for p in collect_places(load_project(root)) if p.url.startswith("http://127.0.0.1")]
    report = check_links(places, options=FAST)
    dead, moved = sorted(report.problems, key=lambda p: p.rule)
    assert (dead.rule, dead.severity, dead.path, dead.line, dead.field) == (
        "link-dead",
        "warning",
        first,
        line_of(first, "url:"),
        "links[0].url",
    )
    assert site.url("/gone") in dead.message and "410" in dead.message
    assert (moved.rule, moved.path, moved.line) == ("link-moved", second, line_of(second, "url:"))
    assert site.url("/new") in (moved.hint or "")
    assert report.counts() == {"moved": 1, "dead": 1}


def test_every_outcome_but_ok_is_reported_under_its_rule(tmp_path: Path) -> None:
    statuses: list[LinkStatus] = list(get_args(LinkStatus))
    urls = [f"https://example.org/{status}" for status in statuses]
    results = {
        url: LinkResult(url=url, status=status, moved_to="https://example.org/new")
        for url, status in zip(urls, statuses, strict=True)
    }
    problems = link_problems(_places(urls, tmp_path / "e.yaml"), results)
    assert [p.rule for p in problems] == [f"link-{status}" for status in statuses[1:]]
    assert {p.severity for p in problems} == {"warning"}
