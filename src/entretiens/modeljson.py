"""The model's values (an episode and every part of one) as JSON values, read back exactly.

Apart from the episode cache (:mod:`entretiens.episodecache`, which writes the usual episode
flat and falls back on this form for any other) because it is one closed format of its own:
the model's own dataclasses, by name from :data:`CLASSES`, their fields in order; tuples, text,
numbers, booleans, null, paths, times (with a fixed offset or an IANA zone) and durations.
Each value is written with a tag, so that reading it back costs one call per value; and
:func:`same` compares two values in every field, those equality leaves out (lines, sources)
included, which is how the loader proves that a value read back is the one it wrote.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path, PosixPath
from typing import Any, Final
from zoneinfo import ZoneInfo

from .model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from .yamlfile import line_pair

#: The model classes an episode is made of, by name.
CLASSES: Final = {
    cls.__name__: cls for cls in (Episode, Person, Link, Chapter, Soundbite, Transcript, DeclaredAudio, Source)
}
_FIELDS: Final = {name: tuple(field.name for field in dataclasses.fields(cls)) for name, cls in CLASSES.items()}


class Unsupported(Exception):
    """A value this format does not hold: the episode is not kept."""


def encode(value: object) -> object:
    """``value`` (an :class:`~entretiens.model.Episode`, or any part of one) as JSON values.

    :raises Unsupported: it holds something else than what :func:`decode` builds.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        assert isinstance(value, float)
        if not math.isfinite(value):
            raise Unsupported("not a finite number")
        return value
    if kind is tuple:
        assert isinstance(value, tuple)
        return ["T", *(encode(item) for item in value)]
    name = kind.__name__
    if CLASSES.get(name) is kind:
        return ["C", name, *(encode_field(field, getattr(value, field)) for field in _FIELDS[name])]
    if kind is PosixPath:
        return ["P", str(value)]
    if kind is datetime:
        assert isinstance(value, datetime)
        return ["t", *moment(value)]
    if kind is timedelta:
        assert isinstance(value, timedelta)
        return ["d", value.days, value.seconds, value.microseconds]
    raise Unsupported(name)


def encode_field(field: str, value: object) -> object:
    """One field's value as :func:`encode` writes it, a file's ``lines`` flat (a person's too, in
    the episode cache's flat form)."""
    # The lines of a file's fields, flat: (field, line) pairs are most of an episode's values.
    if field == "lines":
        assert isinstance(value, tuple)
        flat: list[object] = ["L"]
        for name, line in value:
            if type(name) is not str or type(line) is not int:
                raise Unsupported("lines")
            flat += (name, line)
        return flat
    return encode(value)


def moment(value: datetime) -> list[object]:
    """A time's parts, its zone as an IANA key or a fixed offset (microseconds); read back by :func:`decode_moment`."""
    zone = value.tzinfo
    parts: list[object] = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    parts.append(value.microsecond)
    if zone is None:
        parts.append(None)
    elif type(zone) is ZoneInfo and zone.key and ZoneInfo(zone.key) is zone:
        parts.append(zone.key)
    elif type(zone) is timezone and zone.tzname(None) == timezone(zone.utcoffset(None)).tzname(None):
        parts.append(zone.utcoffset(None) // timedelta(microseconds=1))
    else:
        raise Unsupported("time zone")
    if value.fold:
        raise Unsupported("fold")
    return parts


def decode(data: object, *, paths: Iterable[Path] = ()) -> object:
    """What :func:`encode` was given.

    :param paths: Path objects to use for these paths rather than new equal ones (the
        episode's own file, which every source names).
    :raises ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError: ``data``
        is not what :func:`encode` writes.
    """
    return _decode(data, {str(path): path for path in paths})


def _decode(data: object, paths: dict[str, Path]) -> object:
    # ``paths``: one Path object for every mention of one path (each source names the file).
    # Written for speed (an episode is read back on every build, 10,000 of them in a large
    # show): scalars are taken where they are met, without a call each.
    kind = type(data)
    if kind is not list:
        if kind is dict:
            raise TypeError("not an episode")
        return data
    assert isinstance(data, list)
    tag = data[0]
    if tag == "C":
        name = data[1]
        names = _FIELDS[name]
        if len(data) != len(names) + 2:
            raise ValueError("not an episode")
        values: dict[str, Any] = {}
        for field, item in zip(names, data[2:], strict=True):
            values[field] = _decode(item, paths) if type(item) is list or type(item) is dict else item
        return CLASSES[name](**values)
    if tag == "T":
        if len(data) == 1:
            return ()
        return tuple([_decode(item, paths) if type(item) is list or type(item) is dict else item for item in data[1:]])
    if tag == "L":
        return decode_lines(data)
    if tag == "P":
        text = data[1]
        path = paths.get(text)
        if path is None:
            path = paths[text] = Path(text)
        return path
    if tag == "t":
        return decode_moment(data)
    if tag == "d":
        return timedelta(days=data[1], seconds=data[2], microseconds=data[3])
    raise ValueError("not an episode")


def decode_moment(data: list[Any]) -> datetime:
    """The time a ``["t", *moment(...)]`` list holds."""
    _, year, month, day, hour, minute, second, micro, zone = data
    tzinfo = None if zone is None else ZoneInfo(zone) if type(zone) is str else _offset(zone)
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)


#: Lines read back, by their flat form: the files of a show mostly share them whole, and a
#: lookup costs less than making each pair again. (A key equal to a kept one but for a line
#: written 1.0 or true, which no store of ours holds, gives the same pairs: never an error.)
_LINES: dict[tuple[object, ...], tuple[tuple[str, int], ...]] = {}
LINES_MAX = 20_000


def decode_lines(data: list[object]) -> tuple[tuple[str, int], ...]:
    """The (field, line) pairs of a flat ``["L", name, line, ...]`` list, shared with the equal ones read before."""
    flat = tuple(data)
    kept = _LINES.get(flat)
    if kept is not None:
        return kept
    if not len(data) % 2:
        raise ValueError("not lines")
    pairs = []
    for index in range(1, len(data), 2):
        field, line = data[index], data[index + 1]
        if type(field) is not str or type(line) is not int:
            raise TypeError("not lines")
        pairs.append(line_pair(field, line))
    if len(_LINES) >= LINES_MAX:
        _LINES.clear()
    kept = _LINES[flat] = tuple(pairs)
    return kept


@functools.lru_cache(maxsize=64)
def _offset(microseconds: int) -> timezone:
    """A fixed-offset zone, one object per offset (a show's dates share a handful)."""
    return timezone(timedelta(microseconds=microseconds))


def same(one: object, other: object) -> bool:
    """Whether two values are the same in every field, even those equality leaves out."""
    if one is other:
        # Read back, lines are the very pairs the loader made (line_pair): nothing to compare.
        return True
    kind = type(one)
    if kind is not type(other):
        return False
    names = _FIELDS.get(kind.__name__)
    if names is not None and CLASSES[kind.__name__] is kind:
        return all(same(getattr(one, name), getattr(other, name)) for name in names)
    if dataclasses.is_dataclass(one):
        return all(same(getattr(one, f.name), getattr(other, f.name)) for f in dataclasses.fields(one))
    if kind is tuple:
        assert isinstance(one, tuple)
        assert isinstance(other, tuple)
        return len(one) == len(other) and all(same(a, b) for a, b in zip(one, other, strict=True))
    if isinstance(one, datetime):
        assert isinstance(other, datetime)
        return (
            one == other
            and type(one.tzinfo) is type(other.tzinfo)
            and one.tzinfo == other.tzinfo
            and one.tzname() == other.tzname()
            and one.fold == other.fold
        )
    return one == other
