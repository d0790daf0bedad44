"""Positions in the audio written for people and for each format: one place for every form."""

from __future__ import annotations


def timecode(seconds: float) -> str:
    """``MM:SS``, or ``H:MM:SS`` from an hour: the form apps turn into seek links in descriptions."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def clock(seconds: float) -> str:
    """``HH:MM:SS.mmm``: WebVTT's form, and Podlove's Normal Play Time (SubRip writes a comma)."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def json_seconds(seconds: float) -> float | int:
    """Seconds for JSON documents: milliseconds at most, and no ``.0`` on whole values."""
    rounded = round(seconds, 3)
    return int(rounded) if rounded == int(rounded) else rounded
