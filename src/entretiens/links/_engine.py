"""The checking engine: worker threads taking hops from one board, one request per host at a time."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Literal
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from urllib3.exceptions import LocationParseError

from entretiens.links._model import LinkOptions, LinkResult, LinkStatus
from entretiens.net import describe, printable

Progress = Callable[[int, int, str], None]

#: Answers to HEAD after which GET is tried: servers that refuse or mishandle HEAD.
_HEAD_REFUSED = frozenset({400, 403, 405, 501})
#: Answers worth asking again, after a pause.
_RETRIED = frozenset({429, 500, 502, 503, 504})
_PERMANENT = frozenset({301, 308})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: How long a waiting thread sleeps at most between looks at the clock.
_TICK = 0.2
#: Characters a URL may not hold raw: controls, spaces, and the C1 range a terminal obeys.
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")


@dataclass(slots=True)
class _Task:
    """One URL on its way: the hop to request next and what was learnt so far."""

    url: str
    current: str
    started: float
    method: str = "HEAD"
    attempts: int = 0
    #: Retries already spent on the current hop.
    retries: int = 0
    not_before: float = 0.0
    visited: set[str] = field(default_factory=set)
    hops: int = 0
    moved_to: str | None = None
    #: Whether every redirect so far was permanent: only then has the URL itself moved.
    permanent: bool = True


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one request brought back: an HTTP status, or a failure to get one."""

    status: int | None
    reason: str = ""
    location: str | None = None
    retry_after: str | None = None
    failure: Literal["timeout", "unreachable"] | None = None


def check_urls(
    urls: Iterable[str],
    *,
    options: LinkOptions | None = None,
    progress: Progress | None = None,
    session_factory: Callable[[], requests.Session] = requests.Session,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, LinkResult]:
    """Check URLs over the network, never more than ``options.jobs`` requests at once and one per host.

    Returns when every URL has a result or when ``options.deadline`` passes, whichever comes
    first; URLs still pending then are ``timeout``. A server that never answers cannot hold
    the run: the worker threads are daemons and are abandoned at the deadline.

    :returns: a result for every URL.
    """
    run = _Run(list(dict.fromkeys(urls)), options or LinkOptions(), session_factory, clock)
    return run.run(progress)


class _Run:
    """The shared board of one check: pending hops, busy hosts and finished results, under one lock."""

    def __init__(
        self,
        urls: list[str],
        options: LinkOptions,
        session_factory: Callable[[], requests.Session],
        clock: Callable[[], float],
    ) -> None:
        self.options = options
        self.session_factory = session_factory
        self.clock = clock
        start = clock()
        self.deadline_at = start + options.deadline
        self.urls = urls
        self.pending = [_Task(url=url, current=url, started=start, visited={url}) for url in urls]
        self.total = len(urls)
        self.results: dict[str, LinkResult] = {}
        self.busy: set[str] = set()
        #: Hosts resting after a timeout, until a moment of `clock`.
        self.resting: dict[str, float] = {}
        self.stopped = False
        self.last_done = ""
        self.cond = threading.Condition()

    def run(self, progress: Progress | None) -> dict[str, LinkResult]:
        for _ in range(min(max(self.options.jobs, 1), self.total)):
            threading.Thread(target=self._work, daemon=True, name="entretiens-links").start()
        reported = 0
        while True:
            with self.cond:
                if len(self.results) >= self.total or self.clock() >= self.deadline_at:
                    self.stopped = True
                    self.cond.notify_all()
                    results = dict(self.results)
                    break
                self.cond.wait(timeout=max(min(self.deadline_at - self.clock(), _TICK), 0.0))
                done, last = len(self.results), self.last_done
            if progress is not None and done > reported:
                reported = done
                progress(done, self.total, last)
        for url in self.urls:
            if url not in results:
                results[url] = LinkResult(
                    url=url, status="timeout", detail=f"not checked before the deadline of {self.options.deadline:g} s"
                )
        if progress is not None and reported < self.total:
            progress(self.total, self.total, "")
        return {url: results[url] for url in self.urls}

    # -- worker side ----------------------------------------------------------------------------

    def _work(self) -> None:
        session = self.session_factory()
        session.headers["User-Agent"] = self.options.user_agent
        try:
            while (task := self._take()) is not None:
                try:
                    answer = _request(session, task, self.options.timeout)
                except Exception as exc:  # a worker that dies would leave every link unchecked
                    answer = _Answer(status=None, failure="unreachable", reason=describe(exc))
                self._settle(task, answer)
        finally:
            session.close()

    def _take(self) -> _Task | None:
        with self.cond:
            while not self.stopped and len(self.results) < self.total:
                now = self.clock()
                wait = _TICK
                for index, task in enumerate(self.pending):
                    host = _host_key(task.current)
                    if host in self.busy:
                        continue
                    ready = max(task.not_before, self.resting.get(host, 0.0))
                    if ready > now:
                        wait = min(wait, ready - now)
                        continue
                    del self.pending[index]
                    self.busy.add(host)
                    if task.attempts == 0:
                        task.started = now
                    return task
                self.cond.wait(timeout=wait)
            return None

    def _settle(self, task: _Task, answer: _Answer) -> None:
        with self.cond:
            host = _host_key(task.current)
            self.busy.discard(host)
            if answer.failure == "timeout":
                # The server may still be working on the abandoned request: give it as long
                # again before sending it another one.
                self.resting[host] = self.clock() + self.options.timeout
            self.cond.notify_all()
            if self.stopped:
                return
            task.attempts += 1
            result = self._next_step(task, answer)
            if result is None:
                self.pending.append(task)
            else:
                self.results[task.url] = result
                self.last_done = task.url

    def _next_step(self, task: _Task, answer: _Answer) -> LinkResult | None:
        """Update the task after an answer: None to go on, or the final result."""
        options = self.options
        if answer.failure is not None:
            detail = f"no answer within {options.timeout:g} s" if answer.failure == "timeout" else answer.reason
            return self._result(task, answer.failure, answer, detail=detail)
        status = answer.status or 0
        label = f"{status} {answer.reason}".strip()
        if task.method == "HEAD" and status in _HEAD_REFUSED:
            task.method = "GET"
            return None
        if status in _REDIRECTS and answer.location:
            target = urljoin(task.current, answer.location)
            if target in task.visited or task.hops >= options.max_redirects:
                what = (
                    "redirects in a loop"
                    if target in task.visited
                    else f"redirects more than {options.max_redirects} times"
                )
                return self._result(task, "redirect-loop", answer, detail=f"{what} (last: {label} to {target})")
            if status in _PERMANENT and task.permanent:
                task.moved_to = target
            else:
                task.permanent = False
            task.visited.add(target)
            task.hops += 1
            task.retries = 0
            task.current = target
            return None
        if status in _RETRIED and task.retries < options.retries:
            delay = _retry_delay(answer.retry_after, options, task.retries)
            if self.clock() + delay < self.deadline_at:
                task.retries += 1
                task.not_before = self.clock() + delay
                return None
        if 200 <= status < 300:
            return self._result(task, "moved" if task.moved_to else "ok", answer, detail=label)
        if status == 429:
            return self._result(task, "rate-limited", answer, detail=label)
        if status in (401, 403):
            return self._result(task, "denied", answer, detail=label)
        if status >= 500:
            return self._result(task, "server-error", answer, detail=label)
        if status in _REDIRECTS:
            label += " without a Location header"
        return self._result(task, "dead", answer, detail=label)

    def _result(self, task: _Task, status: LinkStatus, answer: _Answer, *, detail: str) -> LinkResult:
        return LinkResult(
            url=task.url,
            status=status,
            http_status=answer.status,
            final_url=task.current if task.current != task.url else None,
            moved_to=task.moved_to if status == "moved" else None,
            method=task.method,
            attempts=task.attempts,
            elapsed=round(self.clock() - task.started, 3),
            detail=printable(detail),
        )


def _request(session: requests.Session, task: _Task, timeout: float) -> _Answer:
    """Send one request without following redirects; the body of a GET is never downloaded."""
    try:
        if task.method == "HEAD":
            response = session.head(task.current, timeout=(timeout, timeout), allow_redirects=False)
        else:
            response = session.get(task.current, timeout=(timeout, timeout), allow_redirects=False, stream=True)
        with response:
            location = response.headers.get("Location")
            return _Answer(
                status=response.status_code,
                reason=printable(response.reason or ""),
                location=_quote_controls(location) if location is not None else None,
                retry_after=response.headers.get("Retry-After"),
            )
    except requests.Timeout:
        return _Answer(status=None, failure="timeout")
    except requests.exceptions.SSLError as exc:
        return _Answer(status=None, failure="unreachable", reason=f"TLS error ({describe(exc)})")
    except requests.ConnectionError as exc:
        return _Answer(status=None, failure="unreachable", reason=describe(exc))
    except (requests.exceptions.InvalidURL, LocationParseError, ValueError) as exc:
        # urllib3 raises LocationParseError (outside requests' tree) for hosts like "a..b".
        return _Answer(status=None, failure="unreachable", reason=f"not a valid web address ({describe(exc)})")
    except requests.RequestException as exc:
        return _Answer(status=None, failure="unreachable", reason=printable(f"{exc.__class__.__name__}: {exc}"))
    except (urllib3.exceptions.HTTPError, HTTPException, OSError) as exc:
        return _Answer(status=None, failure="unreachable", reason=describe(exc))


def _quote_controls(location: str) -> str:
    """A Location header with its control characters and spaces percent-encoded, as a browser would
    request it: what a hostile server puts there is never printed raw."""
    return _CONTROL.sub(lambda m: "".join(f"%{byte:02X}" for byte in m.group(0).encode("utf-8")), location.strip())


def _retry_delay(header: str | None, options: LinkOptions, retries: int) -> float:
    """Seconds to wait before asking again: the server's Retry-After (capped), else exponential backoff."""
    asked = parse_retry_after(header)
    if asked is None:
        return float(options.backoff * 2**retries)
    return min(asked, options.max_retry_after)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: a number of seconds or an HTTP date (RFC 9110).

    :returns: seconds, never negative, or None when the header is absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


def _host_key(url: str) -> str:
    """``host:port``: requests to one key are made one at a time."""
    parts = urlsplit(url)
    host = (parts.hostname or parts.netloc).lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port or {'http': 80, 'https': 443}.get(parts.scheme, 0)}"
