"""The overall deadline of one request: a watchdog that shuts its sockets down, and its clock.

A socket timeout only bounds one wait; a server that dribbles a byte every few seconds, or
its headers, would never trip it. The watchdog's timer shuts down every socket the request
opened once the deadline passes, wherever the request is blocked. For that, the requests
adapters here hand each connection's socket to the watchdog of the current thread. The
clock is what the rest of the package asks: the time left, whether it has passed, and the
error to raise when it has.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import NetworkError
from ._values import USER_AGENT, Limits, TooSlow
from ._words import shown_url


class Watchdog:
    """Shuts down the sockets of one request when its deadline passes, wherever it is blocked."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._previous = getattr(_current, "watchdog", None)
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.watchdog = self._previous

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's, which would also tear down the TLS state
    # under the feet of the thread blocked in recv.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def _watch(sock: Any) -> None:
    watchdog = getattr(_current, "watchdog", None)
    if watchdog is not None and isinstance(sock, socket.socket):
        watchdog.watch(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(_WatchedHTTPConnection, urllib3.connection.HTTPSConnection):
    """The same watch over TLS: the methods above call on into HTTPSConnection's, next in line."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """A requests adapter whose connections the deadline watchdog can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def new_session() -> requests.Session:
    """A session for :func:`fetch` and :func:`download`, with our User-Agent and watched adapters."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    mount(session)
    return session


def mount(session: requests.Session) -> None:
    for prefix in ("http://", "https://"):
        if not isinstance(session.adapters.get(prefix), WatchedAdapter):
            session.mount(prefix, WatchedAdapter())


@dataclass
class Clock:
    url: str
    limits: Limits
    watchdog: Watchdog
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        left = self.limits.deadline - (time.monotonic() - self.started)
        if left <= 0 or self.watchdog.expired:
            raise self.late()
        return left

    def past(self) -> bool:
        """Whether the deadline has passed (a socket timeout cut to the deadline counts as this)."""
        return self.watchdog.expired or time.monotonic() - self.started >= self.limits.deadline - 0.01

    def late(self) -> NetworkError:
        return TooSlow(f"{shown_url(self.url)}: no complete answer within the deadline of {self.limits.deadline:g} s")

    def timeouts(self) -> tuple[float, float]:
        left = self.remaining()
        return (min(self.limits.connect_timeout, left), min(self.limits.stall_timeout, left))
