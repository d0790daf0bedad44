"""A local preview: build a show into a folder, serve it on 127.0.0.1 and rebuild when the show changes."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import posixpath
import re
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

from . import pipeline
from .errors import EntretiensError
from .layout import FEED, content_type
from .model import Project, is_local
from .output import check_target
from .publish import PublishResult, accept

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Seconds between two looks at the show's files. Polling costs a few stat() calls per file,
#: works on every file system (network shares, containers) and needs no extra dependency.
POLL_INTERVAL = 0.5
#: Folders whose every file is a source of the show (the YAML files beside feed.yaml too).
WATCHED_FOLDERS = ("episodes", "guests", "templates")
_CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: Seconds a connection may stay silent before the server hangs up: a browser's keep-alive
#: connection costs a thread while open.
IDLE_TIMEOUT = 30.0
#: Connections served at once; more are answered 503 at once rather than queued.
MAX_CONNECTIONS = 64
#: Digits beyond which a byte position is taken as "past any file" (and int() is never asked
#: to parse thousands of digits).
_MAX_DIGITS = 18

#: Characters no served name holds: controls (CR/LF would end a header line).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

Snapshot = dict[str, tuple[int, int]]


class BuildCrashed(EntretiensError):
    """A rebuild failed with an error that is not ours: said where, when a show file is to blame."""

    def __init__(self, error: BaseException, show_dir: Path) -> None:
        self.error = error
        where = _where_in_show(error, show_dir)
        text = f"{type(error).__name__}: {error}"
        super().__init__(f"{where}: {text}" if where else f"the build failed ({text})")


def _where_in_show(error: BaseException, show_dir: Path) -> str:
    """``templates/x.j2:3``: the innermost frame of the traceback in a file of the show, if any."""
    try:
        root = show_dir.resolve()
        frames = traceback.extract_tb(error.__traceback__)
    except (OSError, RecursionError):
        return ""
    for frame in reversed(frames):
        with contextlib.suppress(OSError, ValueError):
            path = Path(frame.filename).resolve()
            if path.is_relative_to(root):
                return f"{path.relative_to(root).as_posix()}:{frame.lineno}"
    return ""


class RangeNotSatisfiable(Exception):
    """A Range header that asks for bytes the file does not have."""


def build(
    show_dir: Path,
    out_dir: Path,
    *,
    include_future: bool = False,
    now: datetime | None = None,
    preview_url: str | None = None,
) -> PublishResult:
    """Build a show into ``out_dir`` for preview: a publish that pins no GUID in published.yaml.

    :param preview_url: the preview's address, written in place of base_url (feed, enclosures,
        pages' absolute links) so that a podcast app can subscribe to the preview.

    :raises EntretiensError: the show has errors; ``out_dir`` keeps its previous build.
    """
    root = show_dir.resolve()
    check_target(out_dir, root)
    built = pipeline.build(
        show_dir, now=now, include_future=include_future, feed_path=out_dir / FEED, preview_url=preview_url
    )
    # Its documents go once written (or refused): the preview serves out_dir's copies.
    with built:
        result = accept(built, out_dir)
        result.report = pipeline.commit(built, out_dir, pin_guids=False).report
    return result


def referenced_files(project: Project) -> set[Path]:
    """The files a show's YAML points to: audio, artwork, photos, transcripts, chapter images."""
    show = project.show
    references: list[str | None] = [show.cover_image, *(person.image for person in show.hosts)]
    found: set[Path] = set()
    for episode in project.episodes:
        references += [episode.audio, episode.cover_image]
        references += [person.image for person in episode.guests]
        references += [chapter.image for chapter in episode.chapters]
        found.update(show.root / transcript.path for transcript in episode.transcripts)
    found.update(show.root / reference for reference in references if reference and is_local(reference))
    return found


def snapshot(show_dir: Path, files: Iterable[Path] = ()) -> Snapshot:
    """Modification time and size of the show's sources: the YAML files, the episodes, guests
    and templates folders, and the given files (those the YAML refers to)."""
    paths = {*show_dir.glob("*.yaml"), *show_dir.glob("*.yml"), *files}
    for name in WATCHED_FOLDERS:
        paths.update(path for path in (show_dir / name).rglob("*") if not path.name.startswith("."))
    return _stats(paths)


def _stats(paths: Iterable[Path]) -> Snapshot:
    found: Snapshot = {}
    for path in sorted(paths):
        try:
            stat = path.stat()
        except OSError:
            continue  # Missing (or removed while we looked): its absence is the state.
        if not path.is_dir():
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for, or None for the whole file.

    Only single ranges are honoured; a multi-range request gets the whole file, as RFC 9110 allows.

    :raises RangeNotSatisfiable: the range starts past the end of the file.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # "bytes=-500": the last 500 bytes.
        length = _position(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - length), size - 1
    start = _position(first)
    end = min(_position(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return start, end


def _position(digits: str) -> int:
    """A byte position from a Range header; a huge one stands for "beyond any file"."""
    stripped = digits.lstrip("0") or "0"
    return int(stripped) if len(stripped) <= _MAX_DIGITS else 10**_MAX_DIGITS


class _Handler(BaseHTTPRequestHandler):
    """Serves the files of one folder, with byte ranges so that audio players can seek."""

    protocol_version = "HTTP/1.1"
    server_version = "entretiens"
    root: Path
    log: Callable[[str], None] | None = None
    #: Socket timeout (StreamRequestHandler): an idle or stalled connection is closed.
    timeout = IDLE_TIMEOUT

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.log is not None:
            self.log(format % args)

    def _serve(self, *, send_body: bool) -> None:
        url_path = unquote(urlsplit(self.path).path)
        normalized = posixpath.normpath(url_path)
        parts = [part for part in normalized.split("/") if part]
        if any(part in ("..", ".") or part.startswith(".") or "\\" in part or _UNSAFE.search(part) for part in parts):
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        target = self.root.joinpath(*parts)
        try:
            is_dir = target.is_dir()
            if is_dir:
                if not url_path.endswith("/"):
                    # Rebuilt from the checked parts, never from the request: no CR/LF into the
                    # header, and always one leading slash (never "//host", another site).
                    self._redirect("/" + "".join(quote(part) + "/" for part in parts))
                    return
                target = target / "index.html"
            found = target.is_file()
        except (OSError, ValueError):
            # A name too long for the file system, a NUL byte...: nothing is served by that name.
            found = False
        if not found:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self._send_file(target, send_body=send_body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_file(self, path: Path, *, send_body: bool) -> None:
        try:
            stream = path.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with stream:
            size = os.fstat(stream.fileno()).st_size
            try:
                wanted = byte_range(self.headers.get("Range"), size)
            except RangeNotSatisfiable:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = wanted if wanted is not None else (0, size - 1)
            self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted is not None else HTTPStatus.OK)
            self.send_header("Content-Type", content_type(path))
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if wanted is not None:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            # A preview changes under the browser's feet: never reuse a stale copy.
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if send_body:
                self._copy(stream, start, end - start + 1)

    def _copy(self, stream: BinaryIO, start: int, length: int) -> None:
        stream.seek(start)
        try:
            while length > 0:
                chunk = stream.read(min(_CHUNK, length))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            # Players drop a request as soon as they have what they need, e.g. after a seek.
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            # Full: say so at once rather than queue a connection that may never be served.
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def make_server(
    root: Path,
    port: int = DEFAULT_PORT,
    *,
    host: str = HOST,
    log: Callable[[str], None] | None = None,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """An HTTP server for the files under ``root`` on ``host`` (port 0 picks a free port).

    Each connection is closed after ``idle_timeout`` seconds of silence, and at most
    ``max_connections`` are served at once, so idle or slow clients cannot pile up threads.

    :raises EntretiensError: the port is taken or cannot be used.
    """
    handler = type(
        "Handler",
        (_Handler,),
        {"root": root, "log": staticmethod(log) if log else None, "timeout": idle_timeout},
    )
    try:
        return _Server((host, port), handler, max_connections)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        msg = f"cannot serve on {host}:{port} ({reason}); choose another port with --port, or another --host"
        raise EntretiensError(msg) from exc


class Preview:
    """A show built into a folder and served, rebuilt whenever one of its files changes.

    :param out_dir: where to build; by default a temporary folder removed by :meth:`stop`.
    :param on_build: called after each successful rebuild (not the first build, which
        :meth:`start` returns).
    :param on_error: called when a rebuild fails; the previous build keeps being served.
    """

    def __init__(
        self,
        show_dir: Path,
        out_dir: Path | None = None,
        *,
        port: int = DEFAULT_PORT,
        host: str = HOST,
        include_future: bool = False,
        interval: float = POLL_INTERVAL,
        on_build: Callable[[PublishResult], None] | None = None,
        on_error: Callable[[EntretiensError], None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.show_dir = show_dir
        self._temporary = out_dir is None
        self.out_dir = out_dir if out_dir is not None else Path(tempfile.mkdtemp(prefix="entretiens-serve-")) / "public"
        self.port = port
        self.host = host
        self.include_future = include_future
        self.interval = interval
        self.on_build = on_build
        self.on_error = on_error
        self._log = log
        self._server: ThreadingHTTPServer | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sources: Snapshot = {}
        self._referenced: set[Path] = set()
        self._pending: Snapshot | None = None

    @property
    def url(self) -> str:
        """The preview's address."""
        port = self._server.server_address[1] if self._server else self.port
        return f"http://{self.host}:{port}/"

    def start(self) -> PublishResult:
        """Build, then serve and watch in background threads.

        :raises EntretiensError: the first build failed or the port is taken; nothing is served.
        """
        try:
            # The port first: a taken port is reported before a long build, not after.
            self._server = make_server(self.out_dir, self.port, host=self.host, log=self._log)
            before = self._snapshot()
            result = build(self.show_dir, self.out_dir, include_future=self.include_future, preview_url=self.url)
            self._built(before, result.project)
        except BaseException:
            if self._server is not None:
                self._server.server_close()
                self._server = None
            self._cleanup()
            raise
        server = self._server
        self._threads = [
            threading.Thread(
                target=lambda: server.serve_forever(poll_interval=0.1), name="entretiens-serve", daemon=True
            ),
            threading.Thread(target=self._watch, name="entretiens-watch", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return result

    def check(self) -> bool:
        """Look at the show's files once; rebuild when they changed and then stayed still.

        Waiting for one quiet interval lets an editor finish saving several files.

        :returns: whether a rebuild was attempted.
        """
        current = self._snapshot()
        if current == self._sources:
            self._pending = None
            return False
        if current != self._pending:
            self._pending = current
            return False
        self._sources, self._pending = current, None
        try:
            result = build(self.show_dir, self.out_dir, include_future=self.include_future, preview_url=self.url)
        except EntretiensError as exc:
            if self.on_error:
                self.on_error(exc)
            return True
        except Exception as exc:
            # A TypeError in a template, a RecursionError from deep input...: a bug somewhere,
            # but the preview must outlive it, keep the last good build and retry at the next change.
            if self.on_error:
                self.on_error(BuildCrashed(exc, self.show_dir))
            return True
        self._built(current, result.project)
        if self.on_build:
            self.on_build(result)
        return True

    def wait(self) -> None:
        """Block until :meth:`stop` is called from another thread (or Ctrl+C)."""
        while not self._stop.wait(0.2):
            pass

    def stop(self) -> None:
        """Stop serving and watching; remove the temporary build folder."""
        self._stop.set()
        if self._server is not None:
            if self._threads:
                # shutdown() waits for serve_forever(), so only once it runs.
                self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._cleanup()

    def __enter__(self) -> Preview:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watcher must outlive anything, or rebuilds stop for good
                if self.on_error:
                    with contextlib.suppress(Exception):
                        self.on_error(BuildCrashed(exc, self.show_dir))

    def _built(self, before: Snapshot, project: Project) -> None:
        """Watch the files the new build refers to (new episodes bring new audio); a failed build
        keeps watching the old ones. Files seen before the build keep their old state, so that an
        edit made during the build triggers the next one."""
        referenced = referenced_files(project)
        added = _stats(referenced - self._referenced)
        self._referenced = referenced
        self._sources = {**added, **before}

    def _snapshot(self) -> Snapshot:
        return snapshot(self.show_dir, self._referenced)

    def _cleanup(self) -> None:
        if self._temporary:
            shutil.rmtree(self.out_dir.parent, ignore_errors=True)
