"""published.yaml's own text, written and read without PyYAML when it has the shape publish gives it.

Every publish that changes anything rewrites published.yaml (its change dates move), so no
cache of its parse ever hits, and at 10,000 episodes (30,000 lines) PyYAML spent about a
second reading it on each load and another writing it on each commit. Its shape is fixed: a
header comment, ``podcast_guid``, ``episodes`` (slug: GUID) and ``changes`` (a hash and a
date per part). Here that shape is written and read line by line, but only where the result
is provably PyYAML's own:

- :func:`render` writes a scalar as it is only when it is plain ASCII letters, digits, ``-``
  and ``_`` that YAML 1.1 reads as text (the resolvers of PyYAML's dumper), and a time stamp
  in single quotes; any other value (a slug with a dot, a GUID that reads as a number...)
  returns None, and the caller lets PyYAML write the whole file.
- :func:`parse` takes only those same lines, each scalar checked against the resolvers of
  the loader that reads show files (:func:`~entretiens.yamlfile.reads_as_text`); anything
  else (a comment, another order, flow style, a quoted key) returns None, and the caller
  reads the file with :func:`~entretiens.yamlfile.read_yaml`, which also reports what is wrong.

The values and lines :func:`parse` gives are those of ``read_yaml``, and :func:`render`'s
bytes those of ``yaml.dump``: tests compare both, on tricky values too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import yaml

from .yamlfile import YamlMap, lines_other_test, lines_test, reads_as_text, text_test

#: Plain scalars written and read here: longer keys are "complex keys" for YAML emitters.
_PLAIN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
#: Times as ``datetime.isoformat`` writes them with an offset: YAML time stamps, so quoted.
_MOMENT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}"
)
#: Whether PyYAML's dumper would write a value unquoted (its resolvers read it as text).
_dumped_as_text: Final = text_test(yaml.resolver.Resolver.yaml_implicit_resolvers)
#: Lines of plain scalars, each as :data:`_PLAIN` takes it.
_PLAIN_LINES: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?:\n[A-Za-z0-9][A-Za-z0-9_-]{0,99})*")
#: Whether the dumper writes every line of a text unquoted (False: it may not, see lines_test).
_all_dumped_as_text: Final = lines_test(yaml.resolver.Resolver.yaml_implicit_resolvers)
#: Lines of times, each as :data:`_MOMENT` takes it (each starts with a digit).
_MOMENT_LINES: Final = re.compile(rf"{_MOMENT.pattern}(?:\n{_MOMENT.pattern})*")
#: Whether the dumper quotes every line of a text of times (False: it may not, see lines_other_test).
_all_dumped_quoted: Final = lines_other_test(yaml.resolver.Resolver.yaml_implicit_resolvers, "0123456789")


def _lines(values: Iterable[str]) -> str | None:
    """``values`` as one text, a line each, to be tried at once; None when one is not a text
    (not a subclass of str either: PyYAML's dumper refuses those) or holds a line break (it
    would pass as two values)."""
    values = list(values)
    if {*map(type, values)} != {str}:
        return None
    lines = "\n".join(values)
    return lines if lines.count("\n") == len(values) - 1 else None


def _all_plain(values: Iterable[str]) -> bool:
    """Whether each of ``values`` is written as it is (as :class:`_Scalars` would write it), by
    one match and one search over all of them: False when one may not (then each is tried)."""
    lines = _lines(values)
    return lines is not None and _PLAIN_LINES.fullmatch(lines) is not None and _all_dumped_as_text(lines)


def _all_moments(values: Iterable[str]) -> bool:
    """Whether each of ``values`` is a time :class:`_Scalars` writes in quotes, tried at once."""
    lines = _lines(values)
    return lines is not None and _MOMENT_LINES.fullmatch(lines) is not None and _all_dumped_quoted(lines)


class _Scalars:
    """Each scalar as PyYAML's dumper writes it, or the reason to let PyYAML write the file."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        known = self._known.get(value)
        if known is not None:
            return known
        if type(value) is str and _PLAIN.fullmatch(value) and _dumped_as_text(value):
            written = value
        elif type(value) is str and _MOMENT.fullmatch(value) and not _dumped_as_text(value):
            written = f"'{value}'"
        else:
            raise _Unusual(value)
        self._known[value] = written
        return written


class _Unusual(Exception):
    """A value whose YAML spelling is left to PyYAML."""


def render(
    podcast_guid: str,
    guids: Mapping[str, str],
    show_change: tuple[str, str] | None,
    episode_changes: Mapping[str, tuple[str, str]] | None,
) -> str | None:
    """The YAML body (after the header) of published.yaml, exactly as ``yaml.dump`` writes it
    with ``sort_keys=False, default_flow_style=False, allow_unicode=True``; None when a value
    is not one this writer spells (the caller then uses PyYAML).

    :param guids: slug -> GUID, in the order to write. :param show_change: (hash, date).
    :param episode_changes: slug -> (hash, date), in the order to write; None: no ``changes:``.
    """
    scalar = _Scalars()
    # The slugs each written as they are (checked all at once: four scalars an episode, 40,000
    # at 10,000 episodes, each tried apart otherwise).
    slugs = bool(guids) and _all_plain(guids)
    try:
        lines = [f"podcast_guid: {scalar(podcast_guid)}\n"]
        if not guids:
            lines.append("episodes: {}\n")
        else:
            lines.append("episodes:\n")
            if slugs and _all_plain(guids.values()):
                lines += [f"  {slug}: {guid}\n" for slug, guid in guids.items()]
            else:
                lines += [f"  {scalar(slug)}: {scalar(guid)}\n" for slug, guid in guids.items()]
        if show_change is not None or episode_changes is not None:
            lines.append("changes:\n")
            if show_change is not None:
                lines.append(f"  show:\n    hash: {scalar(show_change[0])}\n    date: {scalar(show_change[1])}\n")
            if not episode_changes:
                lines.append("  episodes: {}\n")
            else:
                lines.append("  episodes:\n")
                if (
                    ((slugs and episode_changes.keys() <= guids.keys()) or _all_plain(episode_changes))
                    and _all_plain(digest for digest, _ in episode_changes.values())
                    and _all_moments(date for _, date in episode_changes.values())
                ):
                    lines += [
                        f"    {slug}:\n      hash: {digest}\n      date: '{date}'\n"
                        for slug, (digest, date) in episode_changes.items()
                    ]
                else:
                    lines += [
                        f"    {scalar(slug)}:\n      hash: {scalar(digest)}\n      date: {scalar(date)}\n"
                        for slug, (digest, date) in episode_changes.items()
                    ]
    except _Unusual:
        return None
    return "".join(lines)


_P: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}"
_V: Final = rf"(?:({_P})|'([0-9T:.+-]{{1,40}})')"
# What parse() takes, a few lines at a time: exactly what render() writes (each line whole, so
# no line can be the continuation of a value above, which YAML would join to it).
_SHOW_GUID: Final = re.compile(rf"podcast_guid: {_V}\nepisodes:\n")
_GUID: Final = re.compile(rf"  ({_P}): {_V}\n")
_CHANGES: Final = re.compile(r"changes:\n")
_SHOW_CHANGE: Final = re.compile(rf"  show:\n    hash: {_V}\n    date: {_V}\n")
_EPISODE_CHANGES: Final = re.compile(r"  episodes:\n")
_CHANGE: Final = re.compile(rf"    ({_P}):\n      hash: {_V}\n      date: {_V}\n")


def _value(found: re.Match[str], group: int) -> str:
    """The scalar in groups ``group`` (plain) and ``group + 1`` (quoted), checked to read as text."""
    plain = found[group]
    if plain is None:
        return found[group + 1]
    if not reads_as_text(plain):
        raise _Unusual(plain)
    return plain


def _map(line: int) -> YamlMap:
    made = YamlMap()
    made.line = line
    made.key_lines = {}
    return made


def _put(mapping: YamlMap, key: str, line: int, value: object) -> None:
    if key in mapping:
        raise _Unusual(key)  # read_yaml refuses a key written twice
    mapping[key] = value
    mapping.key_lines[key] = line


#: published.yaml's values as :func:`render` writes them, in the file's order: the show's GUID,
#: slug -> GUID, the show's (hash, date) or None, and slug -> (hash, date), None without
#: ``changes:``. Dates are the texts written.
Written = tuple[str, dict[str, str], tuple[str, str] | None, dict[str, tuple[str, str]] | None]


def read(text: str, header: str) -> Written | None:
    """The values :func:`render` wrote, when ``text`` is ``header`` followed by exactly the
    lines it writes (each scalar reads as text, no key twice); else None.

    What :func:`parse` gives as YamlMaps, without them (a few objects an episode, on each load).
    """
    if not text.startswith(header) or not text.endswith("\n") or "\r" in text:
        return None
    try:
        return _read(text, len(header))
    except _Unusual:
        return None


def _read(text: str, at: int) -> Written | None:
    found = _SHOW_GUID.match(text, at)
    if found is None:
        return None
    podcast_guid = _value(found, 1)
    at = found.end()
    guids: dict[str, str] = {}
    # The lines of each episode read inline (one line's groups at once, no call per scalar),
    # with the checks of _key and _value: two lines an episode, on every load.
    test, guid_line, change_line = reads_as_text, _GUID.match, _CHANGE.match
    while (found := guid_line(text, at)) is not None:
        slug, plain, quoted = found.groups()
        # A key written twice: read_yaml refuses it.
        if slug in guids or not test(slug) or (plain is not None and not test(plain)):
            raise _Unusual(slug)
        guids[slug] = plain if plain is not None else quoted
        at = found.end()
    if not guids:
        return None
    if at == len(text):
        return podcast_guid, guids, None, None
    if (found := _CHANGES.match(text, at)) is None:
        return None
    at = found.end()
    show = None
    if (found := _SHOW_CHANGE.match(text, at)) is not None:
        show = (_value(found, 1), _value(found, 3))
        at = found.end()
    if (found := _EPISODE_CHANGES.match(text, at)) is None:
        return None
    at = found.end()
    changes: dict[str, tuple[str, str]] = {}
    while (found := change_line(text, at)) is not None:
        slug, digest, quoted_digest, date, quoted_date = found.groups()
        # A slug the GUIDs hold was read as text there already (the same text).
        if (
            slug in changes
            or (slug not in guids and not test(slug))
            or (digest is not None and not test(digest))
            or (date is not None and not test(date))
        ):
            raise _Unusual(slug)
        changes[slug] = (
            digest if digest is not None else quoted_digest,
            date if date is not None else quoted_date,
        )
        at = found.end()
    if not changes or at != len(text):
        return None
    return podcast_guid, guids, show, changes


def parse(text: str, header: str) -> YamlMap | None:
    """What :func:`~entretiens.yamlfile.read_yaml` reads from ``text`` (values and lines), when
    ``text`` is ``header`` followed by exactly the lines :func:`render` writes; else None."""
    written = read(text, header)
    if written is None:
        return None
    podcast_guid, guids, show, changes = written
    # Each line is where render() puts it: one a GUID, three an episode's change.
    line = header.count("\n") + 1
    top = _map(line)
    _put(top, "podcast_guid", line, podcast_guid)
    line += 2
    episodes = _map(line)
    _put(top, "episodes", line - 1, episodes)
    for slug, guid in guids.items():
        _put(episodes, slug, line, guid)
        line += 1
    if changes is None:
        return top
    changed = _map(line + 1)
    _put(top, "changes", line, changed)
    line += 1
    if show is not None:
        record = _map(line + 1)
        _put(record, "hash", line + 1, show[0])
        _put(record, "date", line + 2, show[1])
        _put(changed, "show", line, record)
        line += 3
    each = _map(line + 1)
    _put(changed, "episodes", line, each)
    line += 1
    for slug, (digest, date) in changes.items():
        record = _map(line + 1)
        _put(record, "hash", line + 1, digest)
        _put(record, "date", line + 2, date)
        _put(each, slug, line, record)
        line += 3
    return top
