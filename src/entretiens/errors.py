"""The errors and problems users see, each saying where it comes from and what to do."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .rulebook import Severity, rule

#: Exit codes, shared by every command.
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "AudioError",
    "ConfigError",
    "EntretiensError",
    "FeedError",
    "NetworkError",
    "OutputError",
    "Problem",
    "ProblemsError",
    "Severity",
    "StrictError",
    "TemplateError",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One finding about the show: an error, a warning or a piece of information.

    Its severity is its rule's, from :mod:`entretiens.rulebook`; an id missing there raises
    ``LookupError`` (a bug in entretiens, which the tests catch).
    """

    #: Stable identifier, e.g. "yaml-syntax", "artwork-size".
    rule: str
    message: str
    severity: Severity = dataclasses.field(init=False)
    path: Path | None = None
    line: int | None = None
    #: The field concerned, dotted ("guests[0].bio").
    field: str | None = None
    hint: str | None = None
    #: Reported as a note whatever the rule's severity, where its finding is expected (a moved
    #: feed keeps the ``podcast:guid`` that published.yaml pinned).
    as_note: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", "info" if self.as_note else rule(self.rule).severity)

    def location(self, root: Path | None = None) -> str:
        """``file:line`` relative to root when possible, or ``""``."""
        if self.path is None:
            return ""
        path = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = path.relative_to(root)
        return f"{path}:{self.line}" if self.line else str(path)

    def format(self, root: Path | None = None) -> str:
        """One line for people: ``file:line: field: message (hint)``."""
        parts = []
        where = self.location(root)
        if where:
            parts.append(where)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        text = ": ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


class EntretiensError(Exception):
    """Base of every error we report to users; ``str(e)`` is a complete sentence."""


class ProblemsError(EntretiensError):
    """The show has errors; ``problems`` lists them all (and any warnings met on the way)."""

    def __init__(self, problems: Iterable[Problem], root: Path | None = None) -> None:
        self.problems = tuple(problems)
        self.root = root
        errors = [p for p in self.problems if p.severity == "error"]
        count = len(errors)
        lines = [p.format(root) for p in errors]
        noun = "error" if count == 1 else "errors"
        super().__init__(f"{count} {noun} in the show:\n" + "\n".join(f"  {line}" for line in lines))


class StrictError(ProblemsError):
    """Only warnings were found, but the user asked for them to count as errors."""

    def __init__(self, problems: Iterable[Problem], root: Path | None = None) -> None:
        super().__init__(problems, root)
        count = sum(1 for p in self.problems if p.severity == "warning")
        self.args = (f"{count} warning{'s' if count != 1 else ''} and --strict given",)


class ConfigError(ProblemsError):
    """feed.yaml or an episode file is invalid."""


class AudioError(EntretiensError):
    """An audio file is missing, unreadable or not what it claims to be."""

    def __init__(self, path: Path | str, message: str, hint: str | None = None) -> None:
        self.path = path
        self.message = message
        self.hint = hint
        text = f"{path}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class TemplateError(EntretiensError):
    """A page template cannot be rendered: usually an override in the show's templates/.

    ``problem`` says where (the template's file and line) when that is known.
    """

    def __init__(self, message: str, *, problem: Problem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class FeedError(EntretiensError):
    """feedgen refused our data: a bug in entretiens, which the message says."""


class OutputError(EntretiensError):
    """The output folder cannot be written safely."""


class NetworkError(EntretiensError):
    """A remote file could not be fetched."""


class DeployError(EntretiensError):
    """Uploading the show failed or was refused; what is live stays consistent."""
