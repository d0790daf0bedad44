"""``check --remote-audio``: is audio left at another host still what its feed declared?

An imported show publishes such recordings with the length and type the old feed declared,
without downloading them. Apps download the file and compare; Apple also asks for byte ranges.
So for each one: a HEAD request (the status, ``Content-Length`` against the declared length,
``Content-Type`` against the declared type), then a GET of the first two bytes, which must
answer ``206 Partial Content``. Requests go through :mod:`entretiens.net`: bounded, a few at a
time, and never more than a couple of bytes of audio.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from . import net
from .errors import NetworkError, Problem
from .model import Episode, Project

#: A HEAD answer and two bytes: nothing more may come back.
_LIMITS = net.Limits(max_bytes=64 * 1024, connect_timeout=10.0, stall_timeout=15.0, deadline=30.0)
AT_ONCE = 4

#: Called after each recording: (done, total, URL).
Progress = Callable[[int, int, str], None]


def verify(project: Project, *, progress: Progress | None = None) -> list[Problem]:
    """One problem per declared recording that does not answer as declared."""
    episodes = [e for e in project.episodes if e.declared_audio is not None and not e.draft]
    problems: list[Problem] = []
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        for done, found in enumerate(pool.map(_verify_one, episodes), start=1):
            problems += found
            if progress:
                progress(done, len(episodes), episodes[done - 1].audio)
    return problems


def _verify_one(episode: Episode) -> list[Problem]:
    declared = episode.declared_audio
    assert declared is not None
    url = episode.audio

    def problem(rule: str, message: str, hint: str) -> Problem:
        return Problem(
            rule=rule,
            path=episode.path,
            line=episode.line_of("audio"),
            field="audio.url",
            message=f"{net.shown_url(url)}: {message}",
            hint=hint,
        )

    try:
        head = net.fetch(url, limits=_LIMITS, method="HEAD")
        if head.status >= 400:
            return [problem("remote-audio-unreachable", f"the server answered {head.status}", _MOVED)]
        ranged = net.fetch(url, limits=_LIMITS, headers={"Range": "bytes=0-1"})
    except NetworkError as exc:
        return [problem("remote-audio-unreachable", str(exc), _MOVED)]
    found = []
    length = head.headers.get("Content-Length", "")
    if length.isdigit() and int(length) != declared.length:
        found.append(
            problem(
                "remote-audio-mismatch",
                f"the file has {length} bytes, the feed declares {declared.length}",
                "write the real length in `audio.length`, or download the file into audio/ to publish it measured",
            )
        )
    kind = head.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind and kind != "application/octet-stream" and kind != declared.mime_type:
        found.append(
            problem(
                "remote-audio-mismatch",
                f"the server sends it as {kind}, the feed declares {declared.mime_type}",
                "make `audio.type` what the file is, or fix the server's Content-Type",
            )
        )
    if ranged.status != 206:
        found.append(
            problem(
                "remote-audio-range",
                f"a request for bytes 0-1 got {ranged.status}, not 206: apps cannot seek or resume",
                "serve the file from a host that honours byte ranges (Apple requires them)",
            )
        )
    return found


_MOVED = "the old host may have deleted it: download it while you can, or point `audio.url` at where it is now"
