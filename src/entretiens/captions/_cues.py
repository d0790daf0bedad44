"""What every caption format reads into and is written from: cues, runs of one speaker, styled spans.

The model apart from the formats, so that each format's reader and the writers share it, and
the one error a transcript file raises (``transcript-syntax``, ``transcript-encoding``).
"""

from __future__ import annotations

from dataclasses import dataclass

STYLES = ("b", "i", "u")


class TranscriptError(Exception):
    """A transcript file breaks its format's rules (``transcript-syntax``, ``transcript-encoding``)."""

    def __init__(self, rule: str, line: int | None, message: str, hint: str | None = None) -> None:
        self.rule = rule
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True, slots=True)
class Span:
    """Plain text and the styles (``b``, ``i``, ``u``) it is shown with."""

    text: str
    styles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Run:
    """Part of a cue said by one speaker (None: not named)."""

    speaker: str | None
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        """The run as plain text."""
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One timed piece of a transcript, whatever its format."""

    start: float
    end: float
    runs: tuple[Run, ...]
    #: Line of the file where the cue (its timing line, or its JSON object) is written.
    line: int | None = None

    @property
    def text(self) -> str:
        """The cue as plain text, on one line."""
        return " ".join(" ".join(run.text.split()) for run in self.runs if run.text.strip())
