"""The build record: what the last publish read and wrote, so that an unchanged show is not rebuilt.

After a publish, ``.entretiens/build.json`` keeps the size, modification and change times and
inode of every file of the show folder (the inputs, as they were when the build began), the
state of the output folder (the same of every file and folder, and the SHA-256 of each file
whose stamp had settled, in journals beside it that it names, see :class:`Ledger`), the options, the
code that built it, the first moment a scheduled episode comes out (and the date of the latest one
out, for a clock moved back), and what the command
printed (the summary and the warnings). When all of it still holds, the command repeats the
summary and stops: nothing is read, built or written. Anything else, or a record that cannot be
read, means a normal build; the record only ever saves time.

Deliberately small: this module imports neither the stages nor anything heavy, since it runs
before them, while Python is still starting.
"""

from __future__ import annotations

import binascii
import contextlib
import contextvars
import functools
import json
import os
import struct
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import repeat, starmap
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar

from . import __version__, journal, walks
from .errors import Problem
from .walks import Stats as Stats
from .walks import inputs as inputs
from .walks import outputs as outputs
from .walks import settled as settled

RECORD: Final = Path(".entretiens") / "build.json"
#: The output's ledger (see :class:`Ledger`), beside the record and named by it: journals
#: (:mod:`entretiens.journal`) that a publish appends what it changed to. Files of their own:
#: the check of an edited show needs neither, that of an unchanged show only the stamps.
STAMPS: Final = Path(".entretiens") / "output-stamps.journal"
DIGESTS: Final = Path(".entretiens") / "output-digests.journal"
#: The digests as record version 2 kept them: removed by the next save.
_OLD_DIGESTS: Final = Path(".entretiens") / "output-digests.json"
#: Bump when the record's content changes meaning (4: the stamps journal holds packed stamps).
RECORD_VERSION: Final = 4
#: A stamp as the stamps journal keeps it: size, mtime, ctime (signed: -1 and -2 are a
#: folder's and a link's size) and inode, 32 bytes, in base64 (see :func:`packed`).
_STAMP: Final = struct.Struct("<qqqQ")
_BASE64 = functools.partial(binascii.b2a_base64, newline=False)
#: The stamp kept for one :data:`_STAMP` cannot hold (see walks.NEVER).
_NEVER: Final = _BASE64(_STAMP.pack(walks.NEVER, 0, 0, 0)).decode()

_P = ParamSpec("_P")
_R = TypeVar("_R")


def now_ns() -> int:
    """The clock, in the unit of file modification times; taken before :func:`inputs`."""
    return time.time_ns()


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a publish reports, kept to be reported again when nothing changed."""

    episodes: int
    seconds: float
    drafts: int
    #: Dates of the scheduled episodes, as the summary prints them.
    scheduled: tuple[str, ...]
    feed_url: str
    problems: list[Problem] = field(default_factory=list)


#: The package whose files :func:`code` dates.
_PACKAGE = Path(__file__).resolve().parent
#: The code taken at the start of the command under way in this thread (see :func:`one_code`).
_TAKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar("entretiens_code", default=None)


def code() -> str:
    """What built the output: entretiens' version and its own files, and Python's version.

    The package's files are included so that a changed template or stage (a development
    checkout, an upgrade without a version bump) never serves an output it did not build.
    Within :func:`one_code`, the value taken at its start (the package is not walked again).
    """
    return _TAKEN.get() or _walked_code()


def under_one_code(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run within :func:`one_code` (a command that may also be called alone)."""

    @functools.wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with one_code():
            return function(*args, **kwargs)

    return run


def _walked_code() -> str:
    newest = max(
        (
            entry.stat().st_mtime_ns
            for entry in _scan_tree(_PACKAGE)
            if entry.name.endswith((".py", ".j2", ".css", ".js", ".xsl"))
        ),
        default=0,
    )
    return f"{__version__} {newest} {sys.version.split()[0]}"


@contextlib.contextmanager
def one_code(taken: str | None = None) -> Iterator[str]:
    """One command's code: :func:`code` is taken once (or is ``taken``, from the check that
    started the command) and is the same for the whole block, in this thread and the processes
    it forks; a block inside another keeps the outer one's.

    A publish asked for it five times (each a walk of the package); and what builds an output
    is the code as it was when the build began: a template changed during the build is then
    a change the next run sees, not one recorded as built. Nothing is kept past the block, so a
    long ``serve`` or a test that changes the package between two commands sees the change.
    """
    outer = _TAKEN.get()
    if outer is not None:
        yield outer
        return
    value = taken or _walked_code()
    token = _TAKEN.set(value)
    try:
        yield value
    finally:
        _TAKEN.reset(token)


def _scan_tree(folder: Path) -> list[os.DirEntry[str]]:
    found: list[os.DirEntry[str]] = []
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                else:
                    found.append(entry)
    return found


def save(
    root: Path,
    *,
    options: dict[str, Any],
    taken_ns: int,
    read: Stats,
    own: tuple[str, ...] = (),
    written: Stats,
    written_since: int | None = None,
    digests: Mapping[str, str] | None = None,
    kept: Ledger | None = None,
    changed: Collection[str] | None = None,
    valid_until: datetime | None,
    valid_from: datetime | None = None,
    summary: Summary,
) -> None:
    """Write the record (temporary file, then rename); a record that cannot be written is no error.

    :param own: inputs this publish wrote itself after ``taken_ns`` (published.yaml): their
        recorded stats are those it left, so they are not suspected of a change in the same tick.
    :param written: the output as the write left it, stamped from ``written_since`` on;
        ``digests``: the SHA-256 of its files whose stamp had settled (see :class:`Ledger`);
        ``kept``: the ledger the write started from, as read from its journals: only what
        changed since is appended to them; ``changed``: the names whose stamp or digest may
        differ from ``kept``'s (:attr:`Ledger.changes`), the only ones compared (None: all).
    :param valid_until: the first moment a scheduled episode comes out; ``valid_from``: the date
        of the latest episode out by its date (None: none, or all out whatever the date): a
        clock moved back before it (set right by NTP, a machine restored) takes that episode
        out of a cold build, so the record no longer holds.
    """
    # The ledger first, under names the record then gives: a record always names the ledger of
    # its own output, and one left by another publish is never taken for it.
    places = (
        journal.write(root / STAMPS, written, _was(kept.stats, kept.places[0]) if kept else None, changed, packed),
        journal.write(root / DIGESTS, digests or {}, _was(kept.digests, kept.places[1]) if kept else None, changed),
    )
    with contextlib.suppress(OSError):
        (root / _OLD_DIGESTS).unlink(missing_ok=True)
    document = {
        "version": RECORD_VERSION,
        # The journals' names, and when the stamps they hold began to be taken (see Ledger.since).
        "ledger": [*(None if place is None else [place.token, place.size] for place in places), written_since],
        "code": code(),
        "options": options,
        "taken_ns": taken_ns,
        "own": list(own),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "valid_from": valid_from.isoformat() if valid_from else None,
        "summary": {
            "episodes": summary.episodes,
            "seconds": summary.seconds,
            "drafts": summary.drafts,
            "scheduled": list(summary.scheduled),
            "feed_url": summary.feed_url,
            "problems": [problem_to_json(p) for p in summary.problems],
        },
        "inputs": read,
    }
    _write(root / RECORD, document)
    tidy(root)


def tidy(root: Path) -> None:
    """Remove what a publish killed as it wrote them left in ``.entretiens`` (the record's, the
    journals' temporaries), once old enough (see :func:`entretiens.atomicfile.remove_leftovers`):
    after each save, and after each publish that keeps no record (a show with remote audio)."""
    # Imported here: a publish with nothing changed stops before any save, and imports no more.
    from . import atomicfile

    atomicfile.remove_leftovers_in(root / RECORD.parent)


def _was(
    entries: Mapping[str, object], place: journal.Place | None
) -> tuple[Mapping[str, object], journal.Place] | None:
    return None if place is None else (entries, place)


def _write(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON file whole (temporary file, then rename); one that cannot be written is no error."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def forget(root: Path) -> None:
    """Drop the record (a build that did not end in a commit)."""
    with contextlib.suppress(OSError):
        (root / RECORD).unlink(missing_ok=True)


def options(out_dir: Path, *, include_future: bool, tag_audio: bool | None) -> dict[str, Any]:
    """The options a record holds: a publish with other options builds another output."""
    return {"out_dir": str(out_dir.resolve()), "include_future": include_future, "tag_audio": tag_audio}


@dataclass(frozen=True, slots=True)
class Ledger:
    """The output folder as the last write left it: the stamp (size, mtime, ctime, inode) of
    every file and folder, and the SHA-256 of each file whose stamp had settled then
    (:func:`settled`), by path relative to the folder.

    A file whose stamp still holds has the bytes of its digest: any write moves its ctime (which
    no program can set back, even one that puts the mtime back), and a file put in its place has
    another inode. So the next write proves an unchanged file from here without reading it. A
    record from another machine or folder, or a damaged one, has stamps no file matches: its
    files are read and compared, as with no record at all.
    """

    stats: Stats
    digests: Mapping[str, str]
    #: Where the stamps and the digests were read from (their journals), for the next save to
    #: append to; None: not read from there (written whole next).
    places: tuple[journal.Place | None, journal.Place | None] = (None, None)
    #: When the stamps began to be taken (ns; None: unknown): a folder whose stamp had settled
    #: by then, and still holds, has the entries recorded (see :func:`walks.outputs`).
    since: int | None = None
    #: Made by a write from another ledger (the first): the names whose stamp or digest may
    #: differ from that one's (the others are its own), so that only those are compared when
    #: its journals are appended to. None: not known, compared whole.
    changes: tuple[Ledger, Collection[str]] | None = None


@dataclass(frozen=True, slots=True)
class Walked:
    """The inputs as a check walked them, and the clock taken just before: a publish that
    follows reuses them instead of walking the show again (the walk is taken before anything
    is built, so a file changed during the build still makes the next run rebuild)."""

    root: Path
    #: The output folder, resolved: the walk skipped it.
    out_dir: Path
    taken_ns: int
    read: Stats
    #: The record's names of the output's ledger, read by the write (None: no usable record).
    ledger: object = None
    #: :func:`code` as the check took it, for the command that follows (see :func:`one_code`).
    code: str | None = None


def _record(root: Path) -> bytes:
    """The record's bytes, read only from a regular file (see :func:`walks.read_regular`).

    :raises OSError: there is no such file.
    """
    data = walks.read_regular(root / RECORD)
    if data is None:
        raise FileNotFoundError(root / RECORD)
    return data


def kept(root: Path, out_dir: Path) -> Ledger | None:
    """The output as the last publish into ``out_dir`` left it, from the record, or None."""
    try:
        document = json.loads(_record(root))
        if document["version"] != RECORD_VERSION or document["options"]["out_dir"] != str(out_dir.resolve()):
            return None
        named = document["ledger"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ledger(root, named)


def packed(stamps: Iterable[tuple[int, int, int, int]]) -> list[str]:
    """The stamps as the stamps journal keeps them, each 32 bytes in base64 (read back by
    :func:`unpacked`): a JSON list of four large numbers took four times as long to read, and
    had to be checked for what it held, number by number. Made in C (map), no call per stamp.

    A time that 64 bits cannot hold (a file dated after 2262, which a recorder or an archive can
    leave, and a hard-linked audio copy keeps) is kept as :data:`_NEVER`: that file is then
    read back at each write, and the rest of the ledger still serves."""
    stamps = list(stamps)
    try:
        return list(map(bytes.decode, map(_BASE64, starmap(_STAMP.pack, stamps))))
    except (struct.error, OverflowError):
        return [_packed_one(stamp) for stamp in stamps]


def _packed_one(stamp: tuple[int, int, int, int]) -> str:
    try:
        return _BASE64(_STAMP.pack(*stamp)).decode()
    except (struct.error, OverflowError):
        return _NEVER


def unpacked(entries: Mapping[str, object]) -> Stats | None:
    """The stamps a journal's entries hold (:func:`packed`), or None if any value is not one."""
    try:
        return dict(zip(entries, map(_STAMP.unpack, map(binascii.a2b_base64, entries.values())), strict=True))  # type: ignore[arg-type]
    except (ValueError, TypeError, struct.error):
        return None


def ledger(root: Path, named: object) -> Ledger | None:
    """The ledger a record names (:attr:`Walked.ledger`), from its journals; None if they are not
    those (damaged, another publish's), and no digests if only those are not."""
    stamps = _journal(root / STAMPS, named, 0)
    if stamps is None or not walks.plain_names(stamps[0]):
        return None
    # Tuples, as the walk's, made in C (map): 80,000 entries at 10,000 episodes. The journal's
    # own mapping (its texts of the stamps) is let go at once, before the digests are read.
    entries, place = stamps
    del stamps
    stats = unpacked(entries)
    del entries
    if stats is None:
        return None
    since = _since(named)
    digests = _journal(root / DIGESTS, named, 1)
    # A digest proves its file once its stamp holds: one naming no stamped entry is not ours.
    if (
        digests is None
        or not all(map(isinstance, digests[0].values(), repeat(str)))
        or not digests[0].keys() <= stats.keys()
    ):
        return Ledger(stats=stats, digests={}, places=(place, None), since=since)
    # Its names are texts of their own, equal to the stamps' (~4 MiB at 10,000 episodes, held at
    # the write only, below the build's peak): re-keyed by the stamps' own, they cost 29 ms.
    return Ledger(stats=stats, digests=digests[0], places=(place, digests[1]), since=since)


def _since(named: object) -> int | None:
    """When the stamps of the ledger a record names began to be taken (None: not said, or not a
    moment of the past: a later one would make folders changed since look settled)."""
    if isinstance(named, list) and len(named) == 3 and type(named[2]) is int and 0 < named[2] <= now_ns():
        return named[2]
    return None


def _journal(path: Path, named: object, index: int) -> tuple[dict[str, Any], journal.Place] | None:
    """The journal the record names ``named[index]`` (a token and a size), if it is that one."""
    if not isinstance(named, list) or len(named) not in (2, 3):
        return None
    if not isinstance(named[index], list) or len(named[index]) != 2:
        return None
    token, size = named[index]
    return journal.read(path, token, size)


def unchanged(
    show_dir: Path, out_dir: Path | None, *, include_future: bool = False, tag_audio: bool | None = None
) -> Summary | None:
    """For ``publish``: the last publish's summary if nothing it read or wrote has changed since."""
    return look(show_dir, out_dir, include_future=include_future, tag_audio=tag_audio)[0]


def look(
    show_dir: Path, out_dir: Path | None, *, include_future: bool = False, tag_audio: bool | None = None
) -> tuple[Summary | None, Walked | None]:
    """:func:`unchanged`, with the inputs it walked (if it did) for the publish that follows."""
    root = show_dir.resolve()
    target = out_dir if out_dir is not None else root / "public"
    wanted = options(target, include_future=include_future, tag_audio=tag_audio)
    return check(root, target, options=wanted, now=datetime.now(timezone.utc))


def up_to_date(root: Path, out_dir: Path, *, options: dict[str, Any], now: datetime) -> Summary | None:
    """The last publish's summary if its output is still exactly what the show builds, else None."""
    return check(root, out_dir, options=options, now=now)[0]


def check(root: Path, out_dir: Path, *, options: dict[str, Any], now: datetime) -> tuple[Summary | None, Walked | None]:
    """:func:`up_to_date`, and the inputs it walked, or None when the record ended it before.

    The inputs are walked before the outputs: an edit changes an input, and the outputs only
    change when written, so the common change is found, and handed on, with one walk.
    """
    walked: Walked | None = None
    try:
        document = json.loads(_record(root))
        if document["version"] != RECORD_VERSION or document["options"] != options:
            return None, None
        until, since = document["valid_until"], document["valid_from"]
        if until is not None and now >= datetime.fromisoformat(until):
            return None, None
        if since is not None and now < datetime.fromisoformat(since):
            return None, None
        version = code()
        if document["code"] != version:
            return None, None
        taken = now_ns()
        read = inputs(root, out_dir)
        walked = Walked(root=root, out_dir=out_dir.resolve(), taken_ns=taken, read=read, code=version)
        # A change: the publish that follows reads the output's ledger when it writes (not held
        # through its build), from the journals the record names.
        walked = replace(walked, ledger=document["ledger"])
        if not _same(document["inputs"], read) or racy(read, int(document["taken_ns"]), document["own"]):
            return None, walked
        stamps = _journal(root / STAMPS, document["ledger"], 0)
        recorded = unpacked(stamps[0]) if stamps is not None else None
        del stamps  # its texts of the stamps: not held through the check of the output
        if recorded is None or not walks.holds(out_dir, recorded, _since(document["ledger"])):
            return None, walked
        data = document["summary"]
        return Summary(
            episodes=int(data["episodes"]),
            seconds=float(data["seconds"]),
            drafts=int(data["drafts"]),
            scheduled=tuple(str(d) for d in data["scheduled"]),
            feed_url=str(data["feed_url"]),
            problems=[problem_from_json(p) for p in data["problems"]],
        ), walked
    except (OSError, ValueError, KeyError, TypeError):
        return None, walked


def racy(read: Stats, taken_ns: int, own: Collection[str] = ()) -> list[str]:
    """The inputs whose stamp, taken at ``taken_ns``, does not prove their bytes (:func:`settled`:
    changed less than a tick before it, so a second change could keep the stamp), but ``own``
    (written by the publish itself, after its walk: see :func:`save`).

    By the later of the mtime and the ctime, as every other stamp: a file copied with its mtime
    kept, or put back, has a new ctime. In C first: no file is that young (almost always).
    """
    if not read:
        return []
    limit = taken_ns - walks.RACY_NS
    stamps = read.values()
    if max(map(itemgetter(1), stamps)) < limit and max(map(itemgetter(2), stamps)) < limit:
        return []
    return [name for name, stamp in read.items() if not settled(stamp, taken_ns) and name not in own]


def settle(root: Path, read: Stats, taken_ns: int) -> int:
    """Wait for the inputs just saved to settle, then stamp them again (in ``read``): the moment
    the stamps then date from, for :func:`save` (``taken_ns`` when none had to be waited for).

    An input saved less than a tick before the walk (:func:`racy`) makes the record untrusted,
    so the publish after an edit saved just before built everything again to find nothing.
    Waiting the tick out (at most :data:`walks.FINE_RACY_NS`, wall time, no work) before the
    build reads anything makes the stamp prove the bytes the build then reads: any later change
    moves it. A change made meanwhile is in the new stamp. A file system with coarse times (a
    tick of up to 2 s) and a file dated ahead of the clock are not waited for: the record then
    stays untrusted, as before.
    """
    late = racy(read, taken_ns)
    if not late:
        return taken_ns
    newest = max(max(read[name][1], read[name][2]) for name in late)
    if newest > now_ns() or any(walks.coarse(read[name]) for name in late):
        # Dated ahead of the clock (copied from a machine whose clock runs ahead): waiting
        # would not settle it. A coarse tick is too long to wait for. Untrusted, as before.
        return taken_ns
    _sleep(min(walks.FINE_RACY_NS, max(0, newest + walks.FINE_RACY_NS + 1 - now_ns())) / 1e9)
    taken = now_ns()
    base = str(root) + "/"
    for name in late:
        try:
            status = os.stat(base + name)
        except OSError:
            del read[name]  # gone meanwhile: the walk that follows finds it gone too
            continue
        read[name] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    return taken


#: How :func:`settle` waits (tests watch it).
_sleep = time.sleep


def _same(recorded: dict[str, list[int]], current: Stats) -> bool:
    """Whether two walks found the same entries (JSON turned the tuples into lists)."""
    return len(recorded) == len(current) and all(
        tuple(recorded.get(path, ())) == stats for path, stats in current.items()
    )


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """A problem as JSON values, to be read back by :func:`problem_from_json`."""
    return {
        "rule": problem.rule,
        "message": problem.message,
        "path": None if problem.path is None else str(problem.path),
        "line": problem.line,
        "field": problem.field,
        "hint": problem.hint,
        "as_note": problem.as_note,
    }


def problem_from_json(data: dict[str, Any]) -> Problem:
    """A problem written by :func:`problem_to_json`.

    :raises KeyError, TypeError, ValueError: not such a record (an unknown rule raises LookupError).
    """
    return Problem(
        rule=str(data["rule"]),
        message=str(data["message"]),
        path=None if data["path"] is None else Path(data["path"]),
        line=data["line"],
        field=data["field"],
        hint=data["hint"],
        as_note=bool(data["as_note"]),
    )
