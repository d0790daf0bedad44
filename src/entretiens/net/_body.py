"""An answer's body read within its size cap and the clock: chunk by chunk, decoded with a bound.

The body is where a hostile server does the most harm: an endless stream, a gzip bomb, a
connection cut half-way. This module reads the raw bytes as they arrive (so the clock is
looked at between the server's sends), decompresses them without ever producing more than
the cap, and reports a cut with how far it got, so that a download can resume there.
"""

from __future__ import annotations

import contextlib
import re
import socket
import zlib
from collections.abc import Callable, Iterator, Mapping
from http.client import HTTPException
from typing import Any

import requests
import urllib3

from ..errors import NetworkError
from ._deadline import Clock
from ._values import TooLarge, TooSlow
from ._words import describe, printable, shown_url, size_text

#: Bytes read from the socket at a time.
_CHUNK = 64 * 1024


class Cut(Exception):
    """The connection closed before the body was complete; how far we got."""

    def __init__(self, error: NetworkError, done: int, validator: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = done
        self.validator = validator


Sink = Callable[[bytes, int, "int | None"], None]


def read_body(answer: requests.Response, clock: Clock, sink: Sink, offset: int, stream: Any) -> None:
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
            raise Cut(NetworkError(f"{where}: the connection was cut after {got}"), done, validator) from None
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
        raise Cut(error, done, validator)


def _raw_chunks(answer: requests.Response, clock: Clock) -> Iterator[bytes]:
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
