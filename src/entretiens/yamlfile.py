"""Reading YAML files with line numbers, and checking their fields one by one."""

from __future__ import annotations

import difflib
import functools
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import TypeVar

import yaml

from .errors import Problem
from .podcast_spec import is_email_address, is_web_url

T = TypeVar("T")
#: A closed set of texts, such as a ``Literal``.
C = TypeVar("C", bound=str)


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


def describe(value: object) -> str:
    """Name a YAML value's type the way a person writing YAML thinks of it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_WHOLE = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")


_FIRST_YEAR = 1900
_LAST_YEAR = 9998
# What YAML 1.1 (and so entretiens before it read numbers as YAML 1.2 does) took for a number.
_LOOKS_NUMERIC = re.compile(r"[-+]?(?:0[bBxXoO]?[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)")


def _number_hint(text: str) -> str:
    """What to write instead of a number YAML 1.1 read in another base (010, 0x10, 1:30), or too big."""
    digits = text.lstrip("+-").replace("_", "")
    if digits.isdigit() and len(digits) > 10:
        return "a number this big is surely a typo"
    try:
        if ":" in digits:
            old = 0
            for part in digits.split(":"):
                old = old * 60 + int(part)
        elif digits[:2].lower() in ("0b", "0x", "0o"):
            old = int(digits, 0)
        elif digits.startswith("0") and set(digits) <= set("01234567"):
            old = int(digits, 8)
        else:
            old = int(digits)
    except ValueError:
        return "write it in plain digits, without leading zeros or separators"
    return (
        f"earlier versions of entretiens read it as {old}, as YAML 1.1 does;"
        " write the number listeners know, in plain digits"
    )


def parse_timestamp(text: str) -> float | None:
    """Seconds in "SS(.mmm)", "MM:SS(.mmm)" or "HH:MM:SS(.mmm)"; None when malformed."""
    parts = text.strip().split(":")
    if len(parts) > 3 or not _DECIMAL.fullmatch(parts[-1]) or not all(_WHOLE.fullmatch(p) for p in parts[:-1]):
        return None
    numbers = [float(part) for part in parts]
    # Only the leading unit may exceed 59: "90:00" is ninety minutes, "1:75" is a typo.
    if any(number >= 60 for number in numbers[1:]):
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds


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


class FieldReader:
    """Reads the fields of one YAML file, collecting a Problem for each defect instead of stopping."""

    def __init__(self, path: Path, problems: list[Problem], *, named: list[str | None] | None = None) -> None:
        """:param named: gathers each show file the fields name, as written, when its check was
        one that can be made again cheaply (None when it was not)."""
        self.path = path
        self.problems = problems
        self.named = named

    # -- reporting ---------------------------------------------------------------------------

    def error(self, rule: str, field: str, line: int | None, message: str, hint: str | None = None) -> None:
        """Record a finding about a field (the loader's rules are errors; the rulebook says)."""
        self.problems.append(Problem(rule=rule, path=self.path, line=line, field=field, message=message, hint=hint))

    def wrong_type(self, field: str, line: int | None, value: object, expected: str, hint: str | None = None) -> None:
        """Record that a field holds the wrong kind of value."""
        self.error("field-type", field, line, f"expected {expected}, found {describe(value)}", hint)

    # -- structure ---------------------------------------------------------------------------

    def mapping(self, value: object, field: str, line: int | None) -> YamlMap | None:
        """The value as a mapping, or None (with an error) when it is something else."""
        if isinstance(value, YamlMap):
            return value
        self.wrong_type(field, line, value, "a mapping of `key: value` lines")
        return None

    def items(self, data: YamlMap, key: str, field: str) -> list[tuple[object, str, int]]:
        """The items of a list field as (value, dotted field, line); a lone value counts as a list of one."""
        value = data.get(key)
        if value is None:
            return []
        line = data.key_lines.get(key)
        if isinstance(value, YamlList):
            return [(item, f"{field}[{index}]", value.item_lines[index]) for index, item in enumerate(value)]
        return [(value, field, line or 0)]

    def check_keys(self, data: YamlMap, known: Iterable[str], prefix: str = "", what: str = "field") -> None:
        """Report unknown keys, suggesting the closest known one."""
        names = sorted(known)
        for key, line in data.key_lines.items():
            if not isinstance(key, str) or key not in names:
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"known {what}s: {', '.join(names)}"
                self.error("unknown-field", f"{prefix}{key}", line, f"unknown {what} '{key}'", hint)

    def line(self, data: YamlMap, key: str) -> int | None:
        """The line of a key, or of the mapping when the key is absent."""
        return data.key_lines.get(key, data.line)

    # -- scalar fields -----------------------------------------------------------------------

    def text(self, data: YamlMap, key: str, prefix: str = "", *, required: bool = False, default: str = "") -> str:
        """A text field, stripped; numbers are accepted as their text."""
        field = prefix + key
        value = data.get(key)
        if value is None:
            if required:
                self.missing(data, key, prefix)
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.wrong_type(field, self.line(data, key), value, "text", "quote the value")
            return default
        text = str(value).strip()
        if required and not text:
            self.error("missing-field", field, self.line(data, key), "must not be empty")
        return text

    def missing(self, data: YamlMap, key: str, prefix: str = "") -> None:
        """Record that a required field is absent."""
        self.error(
            "missing-field",
            prefix + key,
            data.line or None,
            f"required field '{prefix + key}' is missing",
            f"add a line `{key}: ...`",
        )

    def boolean(self, data: YamlMap, key: str, prefix: str = "", *, default: bool = False) -> bool:
        """A true/false field."""
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.wrong_type(prefix + key, self.line(data, key), value, "true or false")
            return default
        return value

    def optional_boolean(self, data: YamlMap, key: str, prefix: str = "") -> bool | None:
        """A true/false field that may be absent."""
        if data.get(key) is None:
            return None
        return self.boolean(data, key, prefix)

    def positive_int(self, data: YamlMap, key: str, prefix: str = "") -> int | None:
        """A whole number of 1 or more, or None when absent."""
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str) and _LOOKS_NUMERIC.match(value.strip()):
            self.error(
                "field-type",
                prefix + key,
                self.line(data, key),
                f"'{value}' is not a whole number from 1 to {MAX_WHOLE} written in decimal digits",
                _number_hint(value.strip()),
            )
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WHOLE:
            self.wrong_type(prefix + key, self.line(data, key), value, f"a whole number from 1 to {MAX_WHOLE}")
            return None
        return value

    def choice(self, data: YamlMap, key: str, choices: Sequence[C], prefix: str = "", *, default: C) -> C:
        """A text field restricted to a few values (a ``Literal``'s, typically), typed as them."""
        options = list(choices)
        value = self.text(data, key, prefix, default=default)
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else None
            self.error(
                "invalid-value",
                prefix + key,
                self.line(data, key),
                f"'{value}' is not one of: {', '.join(options)}",
                hint,
            )
            return default
        return options[options.index(value)]

    def url(
        self,
        data: YamlMap,
        key: str,
        prefix: str = "",
        *,
        required: bool = False,
        https: bool = True,
    ) -> str | None:
        """An absolute http(s) URL; https only unless told otherwise."""
        text = self.text(data, key, prefix, required=required)
        if not text:
            return None
        return self.check_url(text, prefix + key, self.line(data, key), https=https)

    def check_url(self, text: str, field: str, line: int | None, *, https: bool = True) -> str | None:
        """Validate a URL written in a field; returns it or None."""
        if not is_web_url(text, https_only=https):
            scheme = text.split("://", 1)[0].lower() if "://" in text else ""
            expected = "an https:// URL" if https else "an absolute http:// or https:// URL"
            hint = None
            if https and scheme == "http":
                hint = "podcast apps and the Podcasting 2.0 namespace require https"
            elif not scheme:
                hint = "write the full address, starting with https://"
            self.error("invalid-url", field, line, f"'{text}' is not {expected}", hint)
            return None
        # Schemes are case-insensitive, but feeds and apps compare "https://" literally.
        scheme, rest = text.split("://", 1)
        return f"{scheme.lower()}://{rest}"

    def email(self, data: YamlMap, key: str, prefix: str = "", *, required: bool = False) -> str:
        """An e-mail address."""
        text = self.text(data, key, prefix, required=required)
        if text and not is_email_address(text):
            self.error(
                "invalid-email",
                prefix + key,
                self.line(data, key),
                f"'{text}' is not an e-mail address",
                "write it as name@example.org",
            )
        return text

    def timestamp(self, value: object, field: str, line: int | None) -> float | None:
        """A position in the audio: seconds, "MM:SS" or "HH:MM:SS(.mmm)"."""
        # PyYAML reads an unquoted 12:30 as the base-60 integer 750, which is already seconds.
        if isinstance(value, bool):
            value = None
        if isinstance(value, (int, float)):
            if value >= 0 and math.isfinite(value):
                return float(value)
        elif isinstance(value, str):
            seconds = parse_timestamp(value)
            if seconds is not None and math.isfinite(seconds):
                return seconds
        self.error(
            "invalid-time",
            field,
            line,
            f"'{value}' is not a time in the audio",
            'write seconds (90), "MM:SS" or "HH:MM:SS", quoted',
        )
        return None

    def moment(self, data: YamlMap, key: str, zone: tzinfo, prefix: str = "") -> datetime | None:
        """A date, or date and time; naive values are placed in the show's time zone."""
        field = prefix + key
        value = data.get(key)
        line = self.line(data, key)
        if value is None:
            self.missing(data, key, prefix)
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.error(
                    "invalid-date",
                    field,
                    line,
                    f"'{value}' is not a date",
                    "write it as 2011-02-21T09:00:00+01:00 (or a bare date 2011-02-21)",
                )
                return None
        if isinstance(value, date) and not _FIRST_YEAR <= value.year <= _LAST_YEAR:
            # Feeds write four-digit years (RFC 2822), and a date near year 1 or 9999 overflows
            # when moved to UTC.
            self.error(
                "invalid-date",
                field,
                line,
                f"the year {value.year} is not between {_FIRST_YEAR} and {_LAST_YEAR}",
                "check the year",
            )
            return None
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                value = value.replace(tzinfo=zone)
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), tzinfo=zone)
        self.wrong_type(field, line, value, "a date such as 2011-02-21T09:00:00+01:00")
        return None

    def each(
        self,
        data: YamlMap,
        key: str,
        prefix: str,
        read: Callable[[object, str, int], T | None],
    ) -> tuple[T, ...]:
        """Read every item of a list field with ``read(value, field, line)``, dropping failures."""
        results = []
        for value, field, line in self.items(data, key, prefix + key):
            item = read(value, field, line)
            if item is not None:
                results.append(item)
        return tuple(results)


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


def _any_of(resolvers: list[tuple[str, re.Pattern[str]]]) -> re.Pattern[str] | None:
    """One expression that matches where any of ``resolvers`` does, or None when that cannot be
    told from one (none to try, one that tags text, a flag or a group reference of its own)."""
    parts = []
    for tag, pattern in resolvers:
        flags = pattern.flags & ~re.UNICODE
        if tag == _TEXT_TAG or flags & ~re.VERBOSE or re.search(r"\\[0-9]|\(\?P=", pattern.pattern):
            return None
        parts.append(f"(?{'x' if flags else ''}:{pattern.pattern})")
    return re.compile("|".join(parts)) if parts else None


#: Whether :func:`read_yaml` reads this unquoted scalar as text (not a number, date, boolean or
#: null): what a reader that takes a file's lines without YAML must check each value for.
reads_as_text = text_test(_Loader.yaml_implicit_resolvers)
