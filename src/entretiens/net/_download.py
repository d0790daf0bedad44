"""A file streamed to disk: resumed when cut, never left half-written, leftovers cleared.

A download differs from a fetch in what it leaves behind: a temporary file beside the
destination, replaced only once complete and removed on every way out (including SIGTERM
and SIGHUP, turned into an interrupt), and after a SIGKILL removed at the next run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from ..errors import NetworkError
from ._body import Cut
from ._request import exchange
from ._values import BadStatus, Limits, Response
from ._words import printable, shown_url

#: Files left by an interrupted :func:`download`: ``.download-<pid>-<random>``.
DOWNLOAD_PREFIX = ".download-"


#: Resumptions of a cut download within one call.
_RESUMES = 3


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
                    response = exchange(url, limits, "GET", asked, None, session, True, write, offset, stream, started)
                except Cut as cut:
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
