"""The shape of a rule and of the rows that declare them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How bad a finding is: ``error`` stops ``publish``; ``warning`` fails ``check --strict``;
#: ``info`` (a note) never changes the exit status.
Severity = Literal["error", "warning", "info"]

#: A rule of the show folder as declared: id, severity, what triggers it, how to fix it.
Row = tuple[str, Severity, str, str]
#: A code of the feed validator as declared: id, severity, what triggers it (its message says
#: what to do).
FeedRow = tuple[str, Severity, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A group of rules, as ``docs/rules.md`` and the README list them."""

    key: str
    #: The heading in docs/rules.md, which the generated table follows.
    heading: str
    #: The title of the group in the README's list.
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule: a stable id, its severity and what people read about it in the docs."""

    #: Stable identifier, e.g. "artwork-size" or "apple.duration.invalid"; never renamed.
    id: str
    severity: Severity
    #: What triggers it, in a sentence or two (Markdown).
    summary: str
    #: How to fix it (Markdown); ``None`` for the feed validator's codes, whose messages say it.
    fix: str | None
    section: Section
