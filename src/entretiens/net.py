"""Every request entretiens makes: bounded in size and time, and failing with one plain error.

A remote server is hostile until proven otherwise: it may send an endless body, a few bytes
every few seconds, a gzip bomb, a redirect loop, a redirect from https to plain http, or cut
the connection half-way. Each request here therefore has a size cap, a stall timeout (no byte
for that long), an overall deadline (connection, redirects and body together, enforced by a
watchdog that shuts the socket down, so even a server dribbling its headers cannot hold us),
and every failure is an :class:`~entretiens.errors.NetworkError` with a sentence for people,
never a ``requests`` or ``urllib3`` exception.

Redirects are followed here, not by requests, so that each hop is checked and recorded.
Compressed bodies are decoded here, not by urllib3, so that the size cap holds for the
decoded bytes too.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import __version__
from .errors import NetworkError

USER_AGENT = f"entretiens/{__version__} (podcast publisher)"
#: Redirects followed before giving up: browsers stop at 20, podcast apps at about 10.
MAX_REDIRECTS = 10
#: Bytes read from the socket at a time.
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Files left by an interrupted :func:`download`: ``.download-<pid>-<random>``.
DOWNLOAD_PREFIX = ".download-"
#: Resumptions of a cut download within one call.
_RESUMES = 3


@dataclass(frozen=True)
class Limits:
    """How much one request may cost: bytes, and seconds in three ways."""

    #: Body size cap in bytes (decoded); exceeding it is a NetworkError.
    max_bytes: int
    connect_timeout: float = 10.0
    #: No byte received for this long: NetworkError.
    stall_timeout: float = 20.0
    #: The whole request, redirects and body included: NetworkError.
    deadline: float = 120.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "stall_timeout", "deadline"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                msg = f"Limits.{name} must be a positive number of seconds, not {value!r}"
                raise ValueError(msg)
        if self.max_bytes < 0:
            msg = f"Limits.max_bytes must not be negative, not {self.max_bytes!r}"
            raise ValueError(msg)


@dataclass(frozen=True)
class Response:
    """A complete answer: final URL, status, headers, body, and the redirects that led there."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: Each redirect followed: (status, the URL it pointed to).
    redirects: tuple[tuple[int, str], ...] = ()
    reason: str = ""

    def text(self) -> str:
        """The body as text, in the charset the server declared (UTF-8 otherwise)."""
        match = re.search(r"charset=([\w.:-]+)", self.headers.get("Content-Type", ""), re.IGNORECASE)
        encoding = match.group(1) if match else "utf-8"
        try:
            return self.body.decode(encoding, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class TooLarge(NetworkError):
    """The body is larger than the size cap."""


class TooSlow(NetworkError):
    """The deadline passed, or the server stalled."""


class Refused(NetworkError):
    """We refused to go on: a redirect to plain http, a loop, too many redirects, an unusable URL."""


class BadStatus(NetworkError):
    """:func:`download` got an answer other than 200, 206 or 304."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# -- what people read ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from a remote server made safe for a terminal: control characters become escapes.

    A ``Location`` header or a reason phrase may hold escape sequences that would rewrite
    the screen; what we print shows them as ``\\x1b`` instead.
    """
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def shown_url(url: str) -> str:
    """A URL as printed: control characters escaped and any password hidden."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            url = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return printable(url)


def size_text(count: int) -> str:
    """Bytes for people: ``2 GiB``, ``500 MiB``, ``16 bytes``."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{count} bytes"  # pragma: no cover


def describe(exc: BaseException) -> str:
    """What went wrong, from the innermost cause: ``unknown host name``, ``connection refused``..."""
    seen: BaseException = exc
    for _ in range(10):
        inner = seen.__cause__ or seen.__context__
        if inner is None:
            break
        seen = inner
    text = " ".join(f"{seen} {exc}".split())
    if "Name or service not known" in text or "getaddrinfo failed" in text or "nodename nor servname" in text:
        return "unknown host name"
    if "No address associated" in text or "Temporary failure in name resolution" in text:
        return "unknown host name"
    if "Connection refused" in text or "actively refused" in text:
        return "connection refused"
    if "Connection reset" in text:
        return "connection reset by the server"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        why = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text.split("certificate verify failed:")[-1]).strip(" ()'\"")
        return f"its certificate is not valid ({printable(why)})"
    return printable(str(seen) or seen.__class__.__name__)


# -- the watchdog ------------------------------------------------------------------------------


class _Watchdog:
    """Shuts down the sockets of one request when its deadline passes, wherever it is blocked."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
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


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


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
    _mount(session)
    return session


def _mount(session: requests.Session) -> None:
    for prefix in ("http://", "https://"):
        if not isinstance(session.adapters.get(prefix), WatchedAdapter):
            session.mount(prefix, WatchedAdapter())


# -- one request ------------------------------------------------------------------------------


@dataclass
class _Clock:
    url: str
    limits: Limits
    watchdog: _Watchdog
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


def fetch(
    url: str,
    *,
    limits: Limits,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    allow_redirects: bool = True,
) -> Response:
    """One request, its body in memory, within ``limits``.

    Any status is returned (a 404 is an answer, not a failure); only a failure to get a
    complete answer raises. A session passed in gets our watched adapters mounted for
    ``http://`` and ``https://``, so that the deadline holds for it too.

    :raises NetworkError: unreachable, TLS refused, too slow, too big, bad URL, https->http
        redirect, redirect loop, cut connection.
    """
    chunks: list[bytes] = []

    def keep(chunk: bytes, done: int, total: int | None) -> None:
        chunks.append(chunk)

    try:
        response = _exchange(
            url, limits, method, headers, data, session, allow_redirects, keep, 0, None, time.monotonic()
        )
    except _Cut as cut:
        raise cut.error from None
    return Response(
        url=response.url,
        status=response.status,
        headers=response.headers,
        body=b"".join(chunks),
        redirects=response.redirects,
        reason=response.reason,
    )


def download(
    url: str,
    dest: Path,
    *,
    limits: Limits,
    resume: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
    session: requests.Session | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Stream a file to ``dest`` through a temporary file beside it, replaced only once complete.

    A connection cut half-way is resumed with a ``Range`` request (``If-Range`` makes sure
    it is still the same file) while the deadline allows. The temporary file is removed on
    every way out (success, error, Ctrl-C, SIGTERM turned into an exception); after a
    SIGKILL, :func:`remove_stale_downloads` clears it at the next run. A 304 answer (the
    caller sent ``If-None-Match``) leaves ``dest`` untouched. ``Response.body`` is empty.

    :raises NetworkError: as :func:`fetch`, and for any answer other than 200, 206 or 304.
    """
    with _terminate_as_interrupt():
        return _download(url, dest, limits, resume, progress, session, headers)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While downloading, let SIGTERM and SIGHUP unwind like Ctrl+C, so the temporary file goes.

    Only from the main thread (the only one that may set handlers), and only when the
    signals still have their default, process-killing handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    replaced: list[tuple[signal.Signals, Any]] = []
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            replaced.append((number, signal.signal(number, interrupt)))
    try:
        yield
    finally:
        for number, previous in replaced:
            signal.signal(number, previous)


def _download(
    url: str,
    dest: Path,
    limits: Limits,
    resume: bool,
    progress: Callable[[int, int | None], None] | None,
    session: requests.Session | None,
    headers: Mapping[str, str] | None,
) -> Response:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f"{DOWNLOAD_PREFIX}{os.getpid()}-")
    temporary = Path(name)
    started = time.monotonic()
    try:
        with os.fdopen(fd, "wb") as stream:
            offset = 0
            validator: str | None = None
            response: Response | None = None
            for attempt in range(_RESUMES + 1):
                asked = dict(headers or {})
                # The bytes as the server stores them: the file's length is the enclosure's.
                asked["Accept-Encoding"] = "identity"
                if offset and validator:
                    asked["Range"] = f"bytes={offset}-"
                    asked["If-Range"] = validator
                    asked.pop("If-None-Match", None)
                    asked.pop("If-Modified-Since", None)

                def write(chunk: bytes, done: int, total: int | None) -> None:
                    try:
                        stream.write(chunk)
                    except OSError as exc:
                        msg = f"{dest}: cannot write the downloaded file ({exc.strerror or exc})"
                        raise NetworkError(msg) from None
                    if progress is not None:
                        progress(done, total)

                try:
                    response = _exchange(url, limits, "GET", asked, None, session, True, write, offset, stream, started)
                except _Cut as cut:
                    offset = cut.done
                    validator = cut.validator if resume else None
                    if attempt == _RESUMES or not validator:
                        raise cut.error from None
                    continue
                break
            assert response is not None
            if response.status == 304:
                return response
            if response.status not in (200, 206):
                label = printable(f"{response.status} {response.reason}".strip())
                raise BadStatus(f"{shown_url(url)}: the server answered {label}", response.status)
        os.replace(temporary, dest)
        return response
    finally:
        temporary.unlink(missing_ok=True)


def remove_stale_downloads(folder: Path) -> list[Path]:
    """Remove the temporary files interrupted downloads left in ``folder`` (a SIGKILL, a power cut).

    Files of a download still running in another process are left alone.

    :returns: the files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(folder.glob(f"{DOWNLOAD_PREFIX}*"))
    except OSError:
        return removed
    for entry in entries:
        pid_text = entry.name[len(DOWNLOAD_PREFIX) :].partition("-")[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _running(int(pid_text)):
            continue
        if pid_text.isdigit() and int(pid_text) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            entry.unlink()
            removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


class _Cut(Exception):
    """The connection closed before the body was complete; how far we got."""

    def __init__(self, error: NetworkError, done: int, validator: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = done
        self.validator = validator


Sink = Callable[[bytes, int, "int | None"], None]


def _exchange(
    url: str,
    limits: Limits,
    method: str,
    headers: Mapping[str, str] | None,
    data: bytes | Mapping[str, str] | None,
    session: requests.Session | None,
    allow_redirects: bool,
    sink: Sink,
    offset: int,
    stream: Any,
    started: float,
) -> Response:
    """Send, follow redirects, and feed the body to ``sink``; the returned body is empty.

    ``started`` is when the whole operation began: a resumed download shares one deadline.
    """
    own = session is None
    client = new_session() if session is None else session
    if not own:
        _mount(client)
    try:
        left = limits.deadline - (time.monotonic() - started)
        if left <= 0:
            raise _Clock(url, limits, _Watchdog(1)).late()
        with _Watchdog(left) as watchdog:
            clock = _Clock(url, limits, watchdog, started)
            try:
                return _follow(client, clock, method, headers, data, allow_redirects, sink, offset, stream)
            except (NetworkError, _Cut):
                if clock.past():
                    raise clock.late() from None
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, HTTPException) as exc:
                if clock.past():
                    raise clock.late() from None
                raise _failure(clock.url, exc, limits) from None
            except (OSError, ValueError) as exc:
                if clock.past():
                    raise clock.late() from None
                raise _failure(clock.url, exc, limits) from None
    finally:
        if own:
            client.close()


def _failure(url: str, exc: BaseException, limits: Limits) -> NetworkError:
    where = shown_url(url)
    host = printable(urlsplit(url).hostname or "") if "://" in url else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TooSlow(f"{where}: no connection to {host} within {limits.connect_timeout:g} s")
    if isinstance(exc, (requests.exceptions.ReadTimeout, socket.timeout, urllib3.exceptions.ReadTimeoutError)):
        return TooSlow(f"{where}: the server sent nothing for {limits.stall_timeout:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"{where}: the secure connection to {host} failed: {describe(exc)}")
    bad_url = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)
    if isinstance(exc, (*bad_url, urllib3.exceptions.LocationParseError, ValueError)):
        return Refused(f"{where}: not a valid web address ({describe(exc)})")
    if isinstance(exc, requests.ConnectionError):
        return NetworkError(f"{where}: cannot reach {host}: {describe(exc)}")
    return NetworkError(f"{where}: the request failed: {describe(exc)}")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise Refused(f"{shown_url(url)}: not a valid web address ({printable(str(exc))})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{shown_url(url)}: not a web address (it must start with https:// or http://)")
    if _CONTROL.search(url) or " " in url:
        raise Refused(f"{shown_url(url)}: not a valid web address (it holds spaces or control characters)")


def _follow(
    http: requests.Session,
    clock: _Clock,
    method: str,
    headers: Mapping[str, str] | None,
    data: bytes | Mapping[str, str] | None,
    allow_redirects: bool,
    sink: Sink,
    offset: int,
    stream: Any,
) -> Response:
    url = clock.url
    redirects: list[tuple[int, str]] = []
    visited = {url}
    asked: dict[str, str] = dict(headers or {})
    asked.setdefault("User-Agent", USER_AGENT)
    asked.setdefault("Accept-Encoding", "gzip, deflate")
    body = data
    while True:
        _check_url(url)
        clock.url = url
        answer = http.request(
            method, url, headers=asked, data=body, stream=True, timeout=clock.timeouts(), allow_redirects=False
        )
        with answer:
            location = answer.headers.get("Location")
            if allow_redirects and answer.status_code in _REDIRECTS and location:
                try:
                    target = urljoin(url, location.strip())
                except ValueError:
                    target = location
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme == "http":
                    msg = (
                        f"{shown_url(url)}: the server redirects to plain http ({shown_url(target)}); "
                        "refused, as it would drop the encryption"
                    )
                    raise Refused(msg)
                if target in visited:
                    raise Refused(f"{shown_url(clock.url)}: redirects in a loop (back to {shown_url(target)})")
                if len(redirects) >= MAX_REDIRECTS:
                    raise Refused(f"{shown_url(clock.url)}: redirects more than {MAX_REDIRECTS} times")
                redirects.append((answer.status_code, target))
                visited.add(target)
                status = answer.status_code
                if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    asked.pop("Content-Type", None)
                if _origin(target) != _origin(url):
                    asked.pop("Authorization", None)
                    asked.pop("Cookie", None)
                url = target
                continue
            result = Response(
                url=url,
                status=answer.status_code,
                headers=CaseInsensitiveDict(answer.headers),
                body=b"",
                redirects=tuple(redirects),
                reason=answer.reason or "",
            )
            if method != "HEAD" and not (stream is not None and answer.status_code not in (200, 206)):
                _read_body(answer, clock, sink, offset, stream)
            return result


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.scheme, (parts.hostname or "").lower(), port)


def _read_body(answer: requests.Response, clock: _Clock, sink: Sink, offset: int, stream: Any) -> None:
    """Feed the decoded body to ``sink`` within the cap and the clock.

    For a download (``stream`` given), a 206 continues at ``offset``, a 200 starts over.
    """
    limits = clock.limits
    where = shown_url(clock.url)
    length_header = answer.headers.get("Content-Length", "")
    expected = int(length_header) if length_header.strip().isdigit() and len(length_header) < 20 else None
    encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
    if stream is not None:
        # A download keeps the bytes as the server stores them: a file's length is what a
        # podcast app's enclosure length must match, compressed or not.
        encoding = "identity"
    validator = _validator(answer.headers) if encoding in ("", "identity") else None
    done = 0
    if stream is not None:
        if answer.status_code == 206:
            start, total = _content_range(answer.headers.get("Content-Range", ""))
            if start != offset:
                raise NetworkError(f"{where}: the server resumed at the wrong place (byte {start}, not {offset})")
            done = offset
            expected = total - offset if total is not None else expected
        else:
            stream.seek(0)
            stream.truncate()
    total_size = done + expected if expected is not None and encoding in ("", "identity") else None
    too_big = TooLarge(f"{where}: the file is larger than the limit of {size_text(limits.max_bytes)}")
    if total_size is not None and total_size > limits.max_bytes:
        raise too_big
    decoder = _decoder(encoding, where)
    raw_count = 0
    chunks = _raw_chunks(answer, clock)
    while True:
        try:
            raw = next(chunks, None)
        except (urllib3.exceptions.HTTPError, HTTPException, requests.RequestException, OSError) as exc:
            if clock.past():
                raise clock.late() from None
            if isinstance(exc, (socket.timeout, urllib3.exceptions.ReadTimeoutError)):
                raise TooSlow(f"{where}: the server sent nothing for {limits.stall_timeout:g} s") from None
            if expected is not None:
                got = f"{size_text(raw_count)} of {size_text(expected)}"
            else:
                got = f"{size_text(raw_count)} ({describe(exc)})"
            raise _Cut(NetworkError(f"{where}: the connection was cut after {got}"), done, validator) from None
        if raw is not None:
            raw_count += len(raw)
            if raw_count > limits.max_bytes:
                raise too_big
        for piece in decoder(raw, limits.max_bytes - done):
            done += len(piece)
            if done > limits.max_bytes:
                raise too_big
            sink(piece, done, total_size)
        if raw is None:
            break
    if expected is not None and raw_count < expected:
        error = NetworkError(f"{where}: the connection was cut after {size_text(raw_count)} of {size_text(expected)}")
        raise _Cut(error, done, validator)


def _raw_chunks(answer: requests.Response, clock: _Clock) -> Iterator[bytes]:
    raw = answer.raw
    sock = _socket_of(raw)
    while True:
        left = clock.remaining()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(min(clock.limits.stall_timeout, left))
        # read1: whatever has arrived, so the clock is looked at between the server's sends.
        chunk = raw.read1(_CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


def _socket_of(raw: Any) -> socket.socket | None:
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


Decoder = Callable[["bytes | None", int], list[bytes]]


def _decoder(encoding: str, where: str) -> Decoder:
    """A function turning raw chunks into decoded pieces, never more than ``room + 1`` bytes at once.

    Decompressing with a bound is what defuses a gzip bomb: a few kilobytes that would
    expand into gigabytes stop at the cap.
    """
    if encoding in ("", "identity"):
        return lambda raw, room: [raw] if raw else []
    if encoding in ("gzip", "x-gzip", "deflate"):
        state: dict[str, Any] = {"d": zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)}
        state["raw_deflate"] = False

        def decode(raw: bytes | None, room: int) -> list[bytes]:
            d = state["d"]
            data = raw if raw is not None else b""
            pieces: list[bytes] = []
            try:
                while True:
                    piece = d.decompress(data, max(room, 0) + 1)
                    pieces.append(piece)
                    room -= len(piece)
                    if room < 0 or not d.unconsumed_tail:
                        break
                    data = d.unconsumed_tail
                if raw is None and room >= 0:
                    pieces.append(d.flush())
            except zlib.error as exc:
                if encoding == "deflate" and not state["raw_deflate"] and not pieces:
                    # Some servers send raw deflate data under the zlib name.
                    state["raw_deflate"] = True
                    state["d"] = zlib.decompressobj(-zlib.MAX_WBITS)
                    return decode(raw, room)
                raise NetworkError(f"{where}: the compressed answer is damaged ({exc})") from None
            return [p for p in pieces if p]

        return decode
    msg = f"{where}: the server used a compression entretiens cannot read ({printable(encoding)})"
    raise NetworkError(msg)


def _validator(headers: Mapping[str, str]) -> str | None:
    """What ``If-Range`` can carry: a strong ETag, or a Last-Modified date."""
    etag = headers.get("ETag", "")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified") or None


def _content_range(value: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"\s*bytes\s+(\d{1,18})-(\d{1,18})/(\d{1,18}|\*)\s*", value)
    if not match:
        return (-1, None)
    total = match.group(3)
    return (int(match.group(1)), None if total == "*" else int(total))
