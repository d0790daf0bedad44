"""Editorial rules on episodes: titles, summaries, guests, numbering and dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import pairwise

from entretiens.errors import Problem
from entretiens.model import Episode, FieldLines, Release, Show
from entretiens.notes import description_parts
from entretiens.podcast_spec import DESCRIPTION_LIMIT

#: "One or two sentences": apps show two or three lines of it under the title.
SUMMARY_LIMIT = 600
#: Scheduling reaches a few weeks ahead; a date further out is most likely a typo in the year.
SCHEDULE_LIMIT = timedelta(days=90)

# Apple's guideline: no episode number in the title, apps show it from <itunes:episode>.
_NUMBER_IN_TITLE = (
    re.compile(r"(?<!\w)(?:[eé]pisode|[eé]p|eps)\s*\.?\s*(?:n[°º]\s*)?#?\s*\d+"),
    re.compile(r"(?<![\w&])#\s*\d+"),
    re.compile(r"(?<!\w)s\d{1,2}\s*[-:.]?\s*e\d{1,3}(?!\w)"),
)


def episode_problems(show: Show, episode: Episode, lines: FieldLines) -> list[Problem]:
    """The rules on one episode's own fields."""
    problems: list[Problem] = []

    def report(rule: str, field: str, line: int | None, message: str, hint: str) -> None:
        problems.append(Problem(rule=rule, path=episode.path, line=line, field=field, message=message, hint=hint))

    title_line = episode.line_of("title")
    if _names_show(show.title, episode.title):
        report(
            "episode-title-show-name",
            "title",
            title_line,
            f"the title repeats the show's name, '{show.title}'",
            "Apple asks for titles without the show's name: apps show it beside every episode",
        )
    if _numbers_itself(episode.title, episode.number):
        report(
            "episode-title-number",
            "title",
            title_line,
            f"the title '{episode.title}' carries an episode number",
            "remove it and set `number:` instead: apps show the number themselves (Apple's guideline)",
        )
    top = _first_line(episode)
    if not episode.summary and not episode.notes:
        report(
            "episode-description-missing",
            "summary",
            top,
            "the episode has neither summary nor notes: apps show nothing but its title",
            "add `summary:` (one or two sentences) and `notes:` (Markdown)",
        )
    elif not episode.summary:
        report(
            "episode-summary-missing",
            "summary",
            top,
            "the episode has no summary: apps show the start of the notes under its title",
            "add `summary:` with one or two sentences",
        )
    elif len(episode.summary) > SUMMARY_LIMIT:
        report(
            "episode-summary-long",
            "summary",
            episode.line_of("summary"),
            f"the summary is {len(episode.summary)} characters long; apps show two or three lines of it",
            f"keep it under {SUMMARY_LIMIT} characters and move the rest to `notes:`",
        )
    for index, guest in enumerate(episode.guests):
        if not guest.bio.strip():
            where = f"guests/{guest.id}.yaml or " if guest.id else ""
            report(
                "guest-bio-missing",
                f"guests[{index}].bio",
                lines.line(episode.path, f"guests[{index}]"),
                f"guest {guest.name} has no bio",
                f"add `bio:` to {where}the guest in this episode: one or two sentences on who they are",
            )
    if show.show_type == "serial" and episode.episode_type == "full" and episode.number is None:
        report(
            "serial-number-missing",
            "number",
            top,
            "the show is serial, but this full episode has no number",
            "add `number:`: Apple Podcasts lists the episodes of a serial show by number",
        )
    return problems


def _names_show(show_title: str, title: str) -> bool:
    name = show_title.strip().casefold()
    if sum(ch.isalnum() for ch in name) < 3:
        return False  # A name that short appears in ordinary words.
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", title.casefold()) is not None


#: "12 - Title", "012. Title", "[12] Title" or "Title (12)": a number at either end, which is
#: the episode's own when it has that value (compiled once, not per episode's number).
_LEADING_NUMBER = re.compile(r"^\s*[\[(]?([0-9]+)[\])]?\s*(?:[-–—.:|/)]|$)")
_TRAILING_NUMBER = re.compile(r"[(\[]\s*([0-9]+)\s*[)\]]\s*$")


def _numbers_itself(title: str, number: int | None) -> bool:
    text = title.casefold()
    if any(pattern.search(text) for pattern in _NUMBER_IN_TITLE):
        return True
    if number is None:
        return False
    # Leading zeros allowed: "007" is episode 7.
    return any(
        (found := pattern.search(text)) is not None and int(found[1]) == number
        for pattern in (_LEADING_NUMBER, _TRAILING_NUMBER)
    )


def _first_line(episode: Episode) -> int | None:
    """The line of the episode file's first field: where a missing field is reported, as the loader does."""
    return min((line for _, line in episode.lines), default=None)


def numbering_problems(episodes: Iterable[Episode]) -> list[Problem]:
    """Notes on gaps in the numbers of each season (drafts count: their number is taken)."""
    seasons: dict[int | None, dict[int, Episode]] = {}
    for episode in episodes:
        if episode.number is not None and episode.episode_type == "full":
            seasons.setdefault(episode.season, {}).setdefault(episode.number, episode)
    problems = []
    previous_end = 0
    for season in sorted(seasons, key=lambda s: -1 if s is None else s):
        numbered = seasons[season]
        numbers = sorted(numbered)
        # A season may go on from the last number of the one before, or start again at 1.
        expected = [1, previous_end + 1]
        steps: list[tuple[int | None, int]] = [(None, numbers[0]), *pairwise(numbers)]
        for before, number in steps:
            if (before is None and number in expected) or (before is not None and number == before + 1):
                continue
            first = 1 if before is None else before + 1
            missing = f"{first}" if number - first == 1 else f"{first} to {number - 1}"
            of_season = f" of season {season}" if season is not None else ""
            message = (
                f"the episode numbers{of_season} start at {number}: {missing} missing"
                if before is None
                else f"episode {number}{of_season} comes after episode {before}: {missing} missing"
            )
            episode = numbered[number]
            problems.append(
                Problem(
                    rule="number-gap",
                    path=episode.path,
                    line=episode.line_of("number"),
                    field="number",
                    message=message,
                    hint="listeners may think an episode is missing: check the numbers",
                )
            )
        previous_end = numbers[-1]
    return problems


def date_problems(episodes: Iterable[Episode], now: datetime) -> list[Problem]:
    """Episodes dated in the future: a note when scheduled soon, a warning when far off."""
    problems = []
    for episode in episodes:
        if episode.draft or episode.date <= now:
            continue
        ahead = episode.date - now
        when = episode.date.strftime("%Y-%m-%d %H:%M %z")
        if ahead > SCHEDULE_LIMIT:
            problems.append(
                Problem(
                    rule="episode-date-future",
                    path=episode.path,
                    line=episode.line_of("date"),
                    field="date",
                    message=f"the episode is dated {when}, {ahead.days} days ahead; publish leaves it out until then",
                    hint="check the year; to keep an episode out on purpose, set `draft: true`",
                )
            )
        else:
            problems.append(
                Problem(
                    rule="episode-scheduled",
                    path=episode.path,
                    line=episode.line_of("date"),
                    field="date",
                    message=f"scheduled: publish leaves the episode out until {when}",
                    hint="run publish again after that date (or publish --include-future)",
                )
            )
    return problems


def description_problems(show: Show, release: Release) -> list[Problem]:
    """Warn when the feed's ``<description>`` had to leave the notes out to stay within Apple's limit."""
    _, dropped = description_parts(show, release)
    # A summary too long on its own is episode-summary-long's business, not the notes'.
    if "notes" not in dropped or "summary" in dropped:
        return []
    episode = release.episode
    return [
        Problem(
            rule="episode-notes-long",
            path=episode.path,
            line=episode.line_of("notes"),
            field="notes",
            message=f"summary, notes and chapters make more than the {DESCRIPTION_LIMIT} bytes Apple takes in an "
            "episode's description, so the feed's <description> leaves the notes out",
            hint="shorten the notes, or accept that apps reading <description> show the summary and chapters "
            "only (the full notes stay in content:encoded and on the page)",
        )
    ]
