"""Show folders for the check tests: a clean show written line by line, and ways to plant one problem in it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import showbuilder
from entretiens.check import check_show
from entretiens.errors import Problem
from showbuilder import write_artwork as write_artwork

#: The moment the tests run at: every episode of the clean show is in the past.
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)

FEED = """\
title: Paroles d'atelier
subtitle: Des artisans racontent leur métier
description: |
  Des entretiens avec des artisans : comment ils ont appris, ce qu'ils fabriquent,
  ce qui a changé dans leur métier. [Le site](https://example.org/atelier) garde les archives.
language: fr
base_url: https://podcast.example.org/atelier/
timezone: Europe/Paris
author: Camille Martin
owner:
  name: Camille Martin
  email: camille@example.org
image: artwork.png
categories:
  - Arts: [Design]
  - Education
explicit: false
hosts:
  - name: Camille Martin
    bio: Anime l'émission.
funding:
  - url: https://example.org/soutenir
    text: Soutenir l'émission
"""

EPISODE = """\
title: "{guest}, ébéniste : le bois et le temps"
number: {number}
season: 1
date: 2025-0{number}-03T09:00:00+02:00
audio: audio/{slug}.mp3
summary: >-
  {guest} raconte son apprentissage et les meubles qu'elle restaure.
notes: |
  Une conversation sur le métier d'ébéniste.

  - l'apprentissage ;
  - les bois d'ici et d'ailleurs.
guests:
  - name: {guest}
    bio: Ébéniste à Lyon depuis vingt ans.
links:
  - title: L'atelier
    url: https://example.org/atelier/{number}
"""

CHAPTERS = """\
chapters:
  - {start: "00:00", title: Introduction}
  - {start: "00:05", title: Le métier}
"""

GUESTS = ("Jeanne Roux", "Lise Moreau", "Anne Petit", "Marie Blanc")


def slug(number: int) -> str:
    """The file name (without extension) of episode ``number``."""
    return f"{number:03d}-{GUESTS[number - 1].split()[0].lower()}"


def make_clean_show(root: Path, *, episodes: int = 2, seconds: float = 12.0, chapters: bool = True) -> Path:
    """A show that every rule accepts, its YAML written line by line (tests point at its lines).

    Built by the one builder, `showbuilder.make_show`, from the texts above.

    :param chapters: give each episode two chapters (the second at 5 s): leave them out to
        plant audio shorter than that.
    """
    texts = {
        slug(number): EPISODE.format(guest=GUESTS[number - 1], number=number, slug=slug(number))
        + (CHAPTERS if chapters else "")
        for number in range(1, episodes + 1)
    }
    audio = {"bitrate": 64, "sample_rate": 44100, "channels": 1}
    built = showbuilder.make_show(root, texts, show=FEED, seconds=seconds, audio=audio)
    (root / "audio").mkdir(exist_ok=True)
    return built


def episode_path(root: Path, number: int) -> Path:
    """The YAML file of episode ``number``."""
    return root / "episodes" / f"{slug(number)}.yaml"


def replace_in(path: Path, old: str, new: str) -> Path:
    """Replace text in a file, which must hold it."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    """The number of the first line of a file that contains ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def problems_of(root: Path) -> list[Problem]:
    """Every problem `check` finds in a show, at the tests' fixed moment."""
    return check_show(root, now=NOW).problems


def found(problems: list[Problem], rule: str, root: Path) -> list[tuple[str, int | None, str]]:
    """(file relative to the show, line, severity) of each problem of a rule."""
    return [
        (p.path.relative_to(root).as_posix() if p.path else "", p.line, p.severity) for p in problems if p.rule == rule
    ]


def rules_of(root: Path) -> list[Problem]:
    """The problems of the rules alone, as publish runs them (no feed built): quicker than `check`."""
    from entretiens import releases
    from entretiens.checks import run_checks
    from entretiens.loading import load_project

    project = load_project(root)
    episodes = [episode for episode in project.episodes if not episode.draft]
    infos, failures = releases.probe_each(project, episodes)
    assert not failures, failures
    prepared = releases.prepare(project, episodes, infos)
    return [*project.warnings, *prepared.problems, *run_checks(project, prepared.releases, now=NOW)]


# --- A local web server for the link checks --------------------------------------------------

#: The name of the link checker's worker threads (entretiens.links._engine).
LINK_WORKER = "entretiens-links"
#: How long a test waits for the link checker before calling it stuck (a safety net, not a bound).
STUCK_AFTER = 30.0


class ManualClock:
    """The link checker's clock (``check_urls(clock=...)``), moved only by the test.

    Retry pauses, backoff and the deadline are then checked in the checker's own units, never
    by measuring how long a run took. The workers read the clock whenever they act (after each
    answer, and at least every tick while they wait), so a test waits for them to have read it
    to know they have seen a moment of time: `seen_by_workers`.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._now = 0.0
        self._worker_reads = 0

    def __call__(self) -> float:
        with self._cond:
            if threading.current_thread().name == LINK_WORKER:
                self._worker_reads += 1
                self._cond.notify_all()
            return self._now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds

    @property
    def worker_reads(self) -> int:
        with self._cond:
            return self._worker_reads

    def seen_by_workers(self, reads: int = 2, *, after: int | None = None) -> None:
        """Return once the workers have read the clock ``reads`` more times (after ``after`` reads).

        A worker reads it twice only once it has finished acting on what it saw the first time
        (sending a request it found due, or settling an answer), so afterwards what the server
        received is final for this moment.
        """
        with self._cond:
            target = (self._worker_reads if after is None else after) + reads
            if not self._cond.wait_for(lambda: self._worker_reads >= target, timeout=STUCK_AFTER):
                raise AssertionError("the link checker stopped looking at its clock")


def noting_reads(clock: ManualClock, marks: list[int], route: Route) -> Route:
    """A route that first notes how many times the workers had read ``clock`` (one mark per request).

    A worker is blocked in its request while the server answers, so every read after the mark
    is the worker's handling of this answer.
    """

    def noted(handler: ScriptedHandler) -> None:
        marks.append(clock.worker_reads)
        route(handler)

    return noted


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait (a safety net, not a bound) for something the link checker does on its own."""
    give_up = time.monotonic() + STUCK_AFTER
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


Route = Callable[["ScriptedHandler"], None]


class Concurrency:
    """Requests being answered, over every server sharing this counter, and the most ever at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers each path with its route; counts requests in flight, per server and overall."""

    protocol_version = "HTTP/1.1"
    server: LinkServer._Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        owner = self.server.owner
        # One handler serves every request of a kept-alive connection: count each one afresh.
        self._counted_out = False
        owner.concurrency.enter()
        owner.own.enter()
        try:
            self.previous = owner.record(self.command, self.path)
            route = owner.routes.get(self.path.split("?")[0])
            if route is None:
                respond(404)(self)
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self.answering_done()

    def answering_done(self) -> None:
        """Stop counting this request as in flight; called before the answer's last bytes go out.

        Counting down only after sending would race with the client, which may already have its
        answer and have sent its next request, making the server see one request too many.
        """
        if not self._counted_out:
            self._counted_out = True
            self.server.owner.own.leave()
            self.server.owner.concurrency.leave()

    _counted_out = False

    #: How many requests this path received before this one.
    previous = 0


class LinkServer:
    """A threaded HTTP server on 127.0.0.1 with scripted routes: one "host" of the link checker."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        owner: LinkServer

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # Clients that hang up on purpose (timeouts) are part of the tests.

    def __init__(self, routes: dict[str, Route], concurrency: Concurrency | None = None) -> None:
        self.routes = routes
        self.concurrency = concurrency or Concurrency()
        self.own = Concurrency()
        self.hits: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self.httpd = self._Server(("127.0.0.1", 0), ScriptedHandler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, path: str) -> str:
        """The address of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def record(self, method: str, path: str) -> int:
        """Log a request; returns how many the path had before."""
        with self._lock:
            before = sum(1 for _, seen, _ in self.hits if seen == path)
            self.hits.append((method, path, time.monotonic()))
            return before

    def requests_to(self, path: str) -> list[tuple[str, float]]:
        """(method, time) of each request received for a path."""
        return [(method, moment) for method, seen, moment in self.hits if seen == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def respond(status: int, *, headers: dict[str, str] | None = None, body: bytes = b"", delay: float = 0.0) -> Route:
    """A route answering ``status`` after ``delay`` seconds."""

    def route(handler: ScriptedHandler) -> None:
        if delay:
            time.sleep(delay)
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.answering_done()
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return route


def in_turn(*routes: Route) -> Route:
    """The first request gets the first route, the second the second..., the last one repeats."""

    def route(handler: ScriptedHandler) -> None:
        routes[min(handler.previous, len(routes) - 1)](handler)

    return route


def by_method(head: Route, get: Route) -> Route:
    """One route for HEAD, another for GET."""
    return lambda handler: (head if handler.command == "HEAD" else get)(handler)


def endless_body(handler: ScriptedHandler) -> None:
    """200 at once, then a body that trickles for ever: only a client that does not read it returns."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**9))
    handler.end_headers()
    for _ in range(200):
        handler.wfile.write(b"x" * 16)
        handler.wfile.flush()
        time.sleep(0.05)


def until_set(event: threading.Event, route: Route) -> Route:
    """A route that holds its answer until ``event`` is set (or the safety net runs out)."""

    def held(handler: ScriptedHandler) -> None:
        event.wait(STUCK_AFTER)
        route(handler)

    return held
