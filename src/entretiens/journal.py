"""A mapping kept in a file between publishes, written whole once, then appended to with the
entries each publish changed: the output's ledger (see :class:`entretiens.buildrecord.Ledger`).

At 10,000 episodes the ledger is 80,000 stamps and 60,000 digests; an edit changes a few dozen
of them. Writing the whole mapping as JSON at every publish cost more than the rest of the
record; here a publish appends one line with what changed (or rewrites the file whole, when
the lines since the last whole write hold a quarter as many entries as it, or the file is not
the one it read).

Each line is the SHA-256 (hex) of its JSON, a space, and the JSON: ``{"after": <the token of
the line before, or null for a whole mapping>, "token": <this line's>, "entries": {key: value,
or null for a key removed}}``. A file is only read as the one a record names, by the token of
its last line and its size: a line damaged, cut short, appended by another publish or missing,
and the file is not read at all (the caller then has no ledger, and compares by reading, as
with none). Our own checked format: no pickle, nothing a show folder could carry runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from . import walks

_DECODER = json.JSONDecoder()

#: A file whose changed lines hold more entries than this share of its whole mapping is written whole.
_SHARE = 4
#: ... and so is one with this many lines.
_MAX_LINES = 32
#: How many entries are encoded and dumped at a time when a line is written (see :func:`_write_line`).
_CHUNK = 1024


@dataclass(frozen=True, slots=True)
class Place:
    """A journal as read or written: what a record names it by, and what the next append needs."""

    token: str
    size: int
    #: Lines in the file, and entries in the first (whole) one and in those after it.
    lines: int = 1
    whole: int = 0
    changed: int = 0


def read(path: Path, token: object, size: object) -> tuple[dict[str, Any], Place] | None:
    """The mapping a journal holds, if it is the one written with ``token`` and ``size``."""
    if not isinstance(token, str) or not isinstance(size, int):
        return None
    # A regular file only (a FIFO in its place would block the publish forever).
    data = walks.read_regular(path, size)
    if data is None or len(data) != size or not data.endswith(b"\n") or not data.isascii():
        return None  # our lines are ASCII (JSON's escapes): so a character is a byte below
    # Each line's SHA-256 is checked on the bytes, through a view (no copy of the line); then
    # the file is one text, and each line's JSON is decoded from its place in it: no slice.
    # At 10,000 episodes a journal is ~8 MB, and each copy was as much again at the write.
    view = memoryview(data)
    spans: list[tuple[int, int]] = []
    start = 0
    try:
        while start < size:
            end = data.index(b"\n", start)
            if (
                data[start + 64 : start + 65] != b" "
                or hashlib.sha256(view[start + 65 : end]).hexdigest().encode() != data[start : start + 64]
            ):
                return None
            spans.append((start + 65, end))
            start = end + 1
    except ValueError:
        return None
    view.release()
    text = data.decode("ascii")
    del data
    entries: dict[str, Any] = {}
    after: str | None = None
    whole = changed = lines = 0
    try:
        for begin, end in spans:
            line, stop = _DECODER.raw_decode(text, begin)
            if (
                stop != end
                or not isinstance(line, dict)
                or line["after"] != after
                or not isinstance(line["entries"], dict)
            ):
                return None
            if after is None:
                entries = line["entries"]
                whole = len(entries)
            else:
                for key, value in line["entries"].items():
                    if value is None:
                        entries.pop(key, None)
                    else:
                        entries[key] = value
                changed += len(line["entries"])
            after = line["token"]
            if not isinstance(after, str):
                return None
            lines += 1
    except (ValueError, KeyError, TypeError):
        return None
    if after != token:
        return None
    return entries, Place(token=token, size=size, lines=lines, whole=whole, changed=changed)


def write(
    path: Path,
    entries: Mapping[str, Any],
    read: tuple[Mapping[str, Any], Place] | None = None,
    changed: Collection[str] | None = None,
    encode: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> Place | None:
    """Keep ``entries`` in ``path``: appended as what changed since ``read`` (the mapping this
    journal held, and where, as :func:`read` gave it), or written whole. None: it could not be
    written (no error: the ledger only ever saves time).

    :param changed: the only keys whose value may differ between ``read``'s mapping and
        ``entries`` (None: unknown, every key compared): an edit changes a few dozen of 80,000.
    :param encode: what the values are written as (given them all at once, in order, it gives
        theirs in the same order); compared as they are. None: written as they are.
    """
    token = os.urandom(16).hex()
    if read is not None:
        before, place = read
        changes: dict[str, Any]
        if changed is None:
            changes = {key: value for key, value in entries.items() if before.get(key) != value}
            changes.update(dict.fromkeys(before.keys() - entries.keys()))
        else:
            changes = {key: value for key in changed if (value := entries.get(key)) != before.get(key)}
        if place.lines < _MAX_LINES and (place.changed + len(changes)) * _SHARE <= max(place.whole, 1):
            try:
                with path.open("r+b") as stream:
                    # Appended only to the file as it was read: another publish's lines, or a
                    # file replaced since, and it is written whole instead.
                    if stream.seek(0, os.SEEK_END) == place.size:
                        size = place.size + _write_line(stream, place.token, token, changes, encode)
                        return Place(token, size, place.lines + 1, place.whole, place.changed + len(changes))
            except OSError:
                pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            size = _write_line(stream, None, token, entries, encode)
        temporary.replace(path)
    except OSError:
        # The folder may be no folder at all (a file named .entretiens): nothing to clean then.
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return None
    return Place(token, size, 1, len(entries), 0)


def _write_line(
    stream: BinaryIO,
    after: str | None,
    token: str,
    entries: Mapping[str, Any],
    encode: Callable[[Iterable[Any]], Iterable[Any]] | None,
) -> int:
    """Write one line at the stream's position (see the module's docstring); its size.

    The entries are encoded, dumped and hashed :data:`_CHUNK` at a time, and the SHA-256 put
    in front once the line is written: the bytes are those ``json.dumps`` of the whole line
    gives, but a whole mapping (80,000 stamps at 10,000 episodes) was held four times over
    (its encoded values, the dump's pieces, its text, its bytes, then the line), the peak of
    a cold build's record.
    """
    start = stream.tell()
    hashed = hashlib.sha256()
    stream.write(b"0" * 64 + b" ")  # the digest's place, written last
    head = json.dumps({"after": after, "token": token, "entries": {}}, separators=(",", ":"))
    pieces: list[bytes] = [head[:-2].encode()]  # up to the entries' opening brace
    items = iter(entries.items())
    while chunk := dict(islice(items, _CHUNK)):
        text = json.dumps(_encoded(chunk, encode), separators=(",", ":"))[1:-1]
        pieces.append((text if len(pieces) == 1 else "," + text).encode())
        for piece in pieces:
            hashed.update(piece)
            stream.write(piece)
        pieces.clear()
    for piece in (*pieces, b"}}"):
        hashed.update(piece)
        stream.write(piece)
    stream.write(b"\n")
    end = stream.tell()
    stream.seek(start)
    stream.write(hashed.hexdigest().encode())
    stream.seek(end)
    return end - start


def _encoded(entries: Mapping[str, Any], encode: Callable[[Iterable[Any]], Iterable[Any]] | None) -> dict[str, Any]:
    """``entries`` with their values as ``encode`` writes them (a key removed stays None)."""
    if encode is None:
        return dict(entries)
    kept = [key for key, value in entries.items() if value is not None]
    if len(kept) == len(entries):
        return dict(zip(entries, encode(entries.values()), strict=True))
    return {**dict.fromkeys(entries), **dict(zip(kept, encode(entries[key] for key in kept), strict=True))}
