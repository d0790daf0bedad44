"""Checking the fields of a YAML file one by one: each defect a Problem at its file, line and
field, with what to write instead, and reading goes on.

Apart from :mod:`entretiens.yamlfile`, which reads the file (values with their lines, within
bounds): this module says what each field may hold, as a person writing YAML thinks of it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import TypeVar

from .errors import Problem
from .podcast_spec import is_email_address, is_web_url
from .yamlfile import MAX_WHOLE, YamlList, YamlMap

T = TypeVar("T")
#: A closed set of texts, such as a ``Literal``.
C = TypeVar("C", bound=str)


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
