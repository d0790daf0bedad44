"""Reading YAML files with line numbers, and checking their fields one by one."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

from .errors import Problem


class YamlMap(dict[object, object]):
    """A YAML mapping that remembers the line of each key and of itself."""

    line: int = 0
    key_lines: dict[object, int]


class YamlList(list[object]):
    """A YAML sequence that remembers the line of each item and of itself."""

    line: int = 0
    item_lines: list[int]


# libyaml's parser when PyYAML was built with it (the usual wheels are): several times faster on
# big shows. The marks, and so the line numbers, are the same.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """A safe loader that records lines, refuses duplicate keys, and reads only true/false as booleans."""


# YAML 1.1 turns yes/no/on/off into booleans: `language: no` (Norwegian) would become False.
# Keep only true/false, as YAML 1.2 does. Its numbers are worse: `010` is octal 8, `0x10` is 16,
# `0b11` is 3, `1:30` is 90, `1_000` is 1000, `.inf` is infinite, and an episode would be
# renumbered without a word. Only plain decimal numbers are numbers here; anything else stays
# text, for the field's own check to report at its line.
_REPLACED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]{0,17})$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))

#: The deepest nesting of lists and mappings read; show files need a handful of levels, and
#: building Python objects recursively from thousands would overflow the stack.
MAX_DEPTH = 64
#: The longest text value, in characters: a 10 MB quote would only be refused much later, in
#: the feed, far from the line that holds it.
MAX_TEXT = 100_000
#: The largest show file read, in bytes.
MAX_FILE_BYTES = 20_000_000
#: The largest whole number read: podcast apps store numbers as signed 32-bit integers.
MAX_WHOLE = 2**31 - 1
# Characters that XML 1.0 (and so every feed) cannot carry; YAML lets them in through escapes
# ("\x01", "\ud800" in double quotes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _ValueError(yaml.constructor.ConstructorError):
    """A value that parsed but cannot be used; reported on its field rather than as a syntax error."""

    def __init__(self, message: str, hint: str, mark: yaml.Mark | None) -> None:
        super().__init__(None, None, message, mark)
        self.hint = hint
        self.field: str | None = None


def _nest(outer: str, inner: str | None) -> str:
    """The dotted field name ("guests[0].bio") of ``inner`` inside ``outer``."""
    if not inner:
        return outer
    return f"{outer}{inner}" if inner.startswith("[") else f"{outer}.{inner}"


def _enter(loader: _Loader, node: yaml.Node) -> None:
    loader.depth = getattr(loader, "depth", 0) + 1
    if loader.depth > MAX_DEPTH:
        raise _ValueError(
            f"lists and mappings are nested more than {MAX_DEPTH} levels deep here",
            "show files need only a few levels: check the indentation and the brackets",
            node.start_mark,
        )


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YamlMap:
    _enter(loader, node)
    result = YamlMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool, date)) or isinstance(key, list):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key {key!r} appears twice in this mapping (the first is on line {result.key_lines[key]})",
                key_node.start_mark,
            )
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except _ValueError as exc:
            exc.field = _nest(str(key), exc.field)
            raise
        result.key_lines[key] = key_node.start_mark.line + 1
    loader.depth -= 1
    return result


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> YamlList:
    _enter(loader, node)
    result = YamlList()
    for index, child in enumerate(node.value):
        try:
            result.append(loader.construct_object(child, deep=True))
        except _ValueError as exc:
            exc.field = _nest(f"[{index}]", exc.field)
            raise
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    loader.depth -= 1
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    text: str = loader.construct_scalar(node)
    bad = _NOT_XML.search(text)
    if bad:
        raise _ValueError(
            f"the text holds the control character U+{ord(bad.group()):04X}, which feeds and pages cannot carry",
            "remove it; in double quotes it is written as an escape such as \\x01 or \\u0001",
            node.start_mark,
        )
    if len(text) > MAX_TEXT:
        raise _ValueError(
            f"the text is {len(text):,} characters long; the most a show file may hold in one value is {MAX_TEXT:,}",
            "shorten it: podcast apps show a few thousand characters at most",
            node.start_mark,
        )
    return text


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> object:
    # Also for an explicit `!!int`: decimal digits only, and nothing longer than any real number.
    text = loader.construct_scalar(node)
    return int(text) if _INT.match(text) else text


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    # PyYAML raises a bare ValueError for a well-shaped but impossible date (2024-02-30,
    # 25:00): keep the text, so that the field's own check reports it at its line.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class YamlSyntaxError(Exception):
    """A file is not valid YAML; carries the Problem that says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.format())
        self.problem = problem


def read_yaml(path: Path) -> object:
    """Parse a YAML file, keeping line numbers on mappings and lists.

    :raises YamlSyntaxError: the file is unreadable or not YAML.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlSyntaxError(
                Problem(
                    rule="yaml-syntax",
                    path=path,
                    message=f"the file weighs {size:,} bytes; show files are read only up to {MAX_FILE_BYTES:,}",
                    hint="is it really a show file? Long texts belong in notes or transcript files",
                )
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(
            Problem(
                rule="yaml-syntax",
                path=path,
                message=f"the file is not UTF-8 text (byte {exc.start})",
                hint="save it as UTF-8",
            )
        ) from None
    except OSError as exc:
        raise YamlSyntaxError(
            Problem(rule="yaml-syntax", path=path, message=f"cannot read the file: {exc.strerror}")
        ) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _ValueError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(
            Problem(
                rule="invalid-value",
                path=path,
                line=mark.line + 1 if mark else None,
                field=exc.field,
                message=exc.problem or "invalid value",
                hint=exc.hint,
            )
        ) from None
    except RecursionError:
        # The pure-Python parser (without libyaml) recurses while composing, before any
        # constructor can count the levels.
        raise YamlSyntaxError(
            Problem(
                rule="yaml-syntax",
                path=path,
                message="lists and mappings are nested too deeply to read",
                hint="show files need only a few levels: check the indentation and the brackets",
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.context}, {exc.problem}"
        raise YamlSyntaxError(
            Problem(
                rule="yaml-syntax",
                path=path,
                line=mark.line + 1 if mark else None,
                message=f"YAML syntax error: {what}",
                hint=_syntax_hint(
                    what, text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
                ),
            )
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem(rule="yaml-syntax", path=path, message=f"YAML syntax error: {exc}")) from None


def _syntax_hint(what: str, line: str = "") -> str:
    if "nesting depth" in what:
        return "show files need only a few levels of lists and mappings: check the brackets"
    if "appears twice" in what:
        return "keep only one of them"
    if "mapping values are not allowed" in what:
        return "a value containing ': ' must be quoted"
    if "tab" in what or ("cannot start any token" in what and "\t" in line):
        return "indent with spaces, not tabs"
    return "check the indentation and quote values that contain ':' or '#'"


#: (field, line) pairs already made: a loaded show keeps the lines of every file, and its files
#: mostly share their fields and often their lines (a third of a loaded project's memory).
_PAIRS: dict[tuple[str, int], tuple[str, int]] = {}
_PAIRS_MAX = 200_000


def line_pair(field: str, line: int) -> tuple[str, int]:
    """``(field, line)`` as a model keeps it in its lines: one object for equal pairs, one text
    for equal fields."""
    pair = (field, line)
    kept = _PAIRS.get(pair)
    if kept is None:
        if len(_PAIRS) >= _PAIRS_MAX:
            _PAIRS.clear()
        kept = _PAIRS[pair] = (sys.intern(field), line)
    return kept


def field_lines(data: YamlMap) -> tuple[tuple[str, int], ...]:
    """The line of every field of a parsed file, dotted as messages name them (``guests[1].bio``).

    Read from the one parse of the file, so nested values keep their exact line; ``""`` is the
    line of the file's mapping itself.
    """
    found: list[tuple[str, int]] = [line_pair("", data.line)] if data.line else []

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, YamlMap):
            for key, value in node.items():
                field = f"{prefix}{key}"
                found.append(line_pair(field, node.key_lines[key]))
                walk(value, f"{field}.")
        elif isinstance(node, YamlList):
            base = prefix.removesuffix(".")
            for index, item in enumerate(node):
                found.append(line_pair(f"{base}[{index}]", node.item_lines[index]))
                walk(item, f"{base}[{index}].")

    walk(data, "")
    return tuple(found)


#: A table of implicit resolvers, as PyYAML keeps them: first character (None: any) -> (tag, pattern).
Resolvers = dict[str | None, list[tuple[str, re.Pattern[str]]]]

_TEXT_TAG = "tag:yaml.org,2002:str"


def text_test(table: Resolvers) -> Callable[[str], bool]:
    """``plain -> whether the resolvers of table read this unquoted scalar as text`` (no
    resolver matches it before a text one does), as PyYAML resolves it.

    A scalar was tried against each resolver of its first character in turn: 2-3 regular
    expressions a value, 4 values an episode in published.yaml, read on each load and written
    on each publish. When none of them tags text (PyYAML's tables hold none), they are tried
    as one expression: it matches where any of them does.
    """

    @functools.cache
    def resolvers(first: str) -> tuple[list[tuple[str, re.Pattern[str]]], re.Pattern[str] | None]:
        found = list(table.get(first, [])) + list(table.get(None, []))
        return found, _any_of(found)

    def reads_as_text(plain: str) -> bool:
        found, combined = resolvers(plain[0] if plain else "")
        if combined is not None:
            return combined.match(plain) is None
        for tag, pattern in found:
            if pattern.match(plain):
                return tag == _TEXT_TAG
        return True

    return reads_as_text


def lines_test(table: Resolvers) -> Callable[[str], bool]:
    """``lines -> True when every line of lines (plain scalars joined by newlines, none empty)
    reads as text`` for the resolvers of ``table``; False when one may not (then test each with
    :func:`text_test`). One search over all of them: published.yaml holds 40,000 scalars at
    10,000 episodes, each tested apart on every publish.

    Every resolver of every first character is tried at the start of every line, ``^`` and
    ``$`` being each line's ends: a line that one resolver of its own first character reads as
    something else is found (more are tried than PyYAML would, which can only say False more
    often). Built only from resolvers that cannot match across a line's end.
    """
    # Each resolver once: a table lists the same one under each of its first characters.
    combined = _any_of(list(dict.fromkeys(found for resolvers in table.values() for found in resolvers)), lines=True)
    if combined is None:
        return lambda lines: False
    search = combined.search
    return lambda lines: search(lines) is None


def lines_other_test(table: Resolvers, first: str) -> Callable[[str], bool]:
    """``lines -> True when every line of lines (plain scalars joined by newlines), each
    starting with one of the characters ``first``, is read as something else than text`` by the
    resolvers of ``table`` (then PyYAML's dumper quotes each); False when one may not.

    One match over all of them: each line must be matched whole by a resolver of its first
    character. Only when every character of ``first`` has the same resolvers, none of which
    tags text nor can match across a line's end; else always False (then test each).
    """
    found = {tuple(table.get(char, [])) + tuple(table.get(None, [])) for char in first}
    combined = _any_of(list(found.pop()), lines=True) if len(found) == 1 else None
    if combined is None:
        return lambda lines: False
    one = combined.pattern
    match = re.compile(f"{one}(?:\n{one})*", re.MULTILINE).fullmatch
    return lambda lines: match(lines) is not None


def _any_of(resolvers: list[tuple[str, re.Pattern[str]]], *, lines: bool = False) -> re.Pattern[str] | None:
    """One expression that matches where any of ``resolvers`` does, or None when that cannot be
    told from one (none to try, one that tags text, a flag or a group reference of its own).

    :param lines: match at the start of any line of a text, each line apart (see
        :func:`lines_test`): None also when a resolver could see past a line's end (an escape
        other than ``\\.``, ``\\t``, ``\\*``, a negated class, a look-around).
    """
    parts = []
    for tag, pattern in resolvers:
        flags = pattern.flags & ~re.UNICODE
        if tag == _TEXT_TAG or flags & ~re.VERBOSE or re.search(r"\\[0-9]|\(\?P=", pattern.pattern):
            return None
        if lines and re.search(r"\\[^.t*]|\[\^|\(\?[=!<]", pattern.pattern):
            return None
        parts.append(f"(?{'x' if flags else ''}:{pattern.pattern})")
    if lines and parts:
        # Tried at each line's start only (each resolver has its own ``^`` too).
        return re.compile(f"^(?:{'|'.join(parts)})", re.MULTILINE)
    return re.compile("|".join(parts)) if parts else None


#: Whether :func:`read_yaml` reads this unquoted scalar as text (not a number, date, boolean or
#: null): what a reader that takes a file's lines without YAML must check each value for.
reads_as_text = text_test(_Loader.yaml_implicit_resolvers)
