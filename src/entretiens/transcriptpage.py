"""A transcript as the episode page shows it: timed cues joined into paragraphs, or sanitized HTML.

Apart from the pages because it reads the transcript file again and turns cues into prose,
a job of its own (the checks and the published copies are made in transcripts.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from . import captions
from .markup import sanitize
from .model import Release, Show

#: A pause this long (seconds) between two transcript cues starts a new paragraph.
PARAGRAPH_PAUSE = 1.0
PARAGRAPH_LENGTH = 400


@dataclass(frozen=True, slots=True, kw_only=True)
class Paragraph:
    """A paragraph of a transcript, with the moment it starts when the format tells it."""

    start: float | None
    speaker: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptText:
    """A transcript as a page shows it: timed paragraphs, or sanitized HTML."""

    paragraphs: tuple[Paragraph, ...] = ()
    #: An HTML transcript, sanitized.
    html: Markup | None = None


def transcript_text(show: Show, release: Release) -> TranscriptText | None:
    """The transcript shown on the episode page: the show's language first; None without one."""
    transcripts = release.episode.transcripts
    if not transcripts:
        return None
    language = show.language.split("-")[0].lower()
    chosen = next((t for t in transcripts if t.language.lower().startswith(language)), transcripts[0])
    try:
        data = (show.root / chosen.path).read_bytes()
    except OSError:
        return TranscriptText()
    suffix = chosen.path.suffix.lower()
    try:
        # publish validated the file already; the same parser reads it for the page.
        cues = captions.parse(suffix, data)
    except captions.TranscriptError:
        return TranscriptText()
    if cues is not None:
        return TranscriptText(
            paragraphs=paragraphs(
                (cue.start, cue.end, run.speaker or "", " ".join(run.text.split()))
                for cue in cues
                for run in cue.runs
                if run.text.strip()
            )
        )
    text = data.decode("utf-8", errors="replace")
    if suffix in (".html", ".htm"):
        return TranscriptText(html=Markup(sanitize(text)))  # noqa: S704  (sanitized)
    blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return TranscriptText(paragraphs=tuple(Paragraph(start=None, speaker="", text=b) for b in blocks if b))


Cue = tuple[float, float, str, str]


def paragraphs(cues: Iterable[Cue]) -> tuple[Paragraph, ...]:
    """Join timed cues (start, end, speaker, text) into paragraphs.

    A paragraph ends when the speaker changes, after a pause, or once it is long enough.
    """
    result: list[Paragraph] = []
    current: list[str] = []
    start = end = 0.0
    speaker = ""
    for cue_start, cue_end, cue_speaker, text in cues:
        if current and (
            (cue_speaker and cue_speaker != speaker)
            or cue_start - end >= PARAGRAPH_PAUSE
            or sum(len(part) for part in current) >= PARAGRAPH_LENGTH
        ):
            result.append(Paragraph(start=start, speaker=speaker, text=" ".join(current)))
            current = []
        if not current:
            start, speaker = cue_start, cue_speaker or speaker
        current.append(text)
        end = cue_end
    if current:
        result.append(Paragraph(start=start, speaker=speaker, text=" ".join(current)))
    return tuple(result)
