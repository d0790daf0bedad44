"""Rules across episodes, which no single episode file can break alone: shared numbers, audio and GUIDs."""

from __future__ import annotations

from ..errors import Problem
from ..model import Episode, PublishState
from ..state import STATE_FILE


def check_episode_set(episodes: list[Episode], state: PublishState, problems: list[Problem]) -> None:
    """Rules across episodes: numbers unique per season, GUIDs unique."""
    numbers: dict[tuple[int | None, int], Episode] = {}
    pinned = dict(state.guids)
    guids: dict[str, Episode] = {}
    audio: dict[str, Episode] = {}
    for episode in episodes:
        if episode.number is not None and episode.episode_type == "full":
            key = (episode.season, episode.number)
            if key in numbers:
                other = numbers[key]
                season = f" of season {episode.season}" if episode.season else ""
                # Both imported and live: the old host let them share it, and what is live is history.
                live = all(e.imported and pinned.get(e.slug) == e.guid for e in (episode, other))
                problems.append(
                    Problem(
                        rule="number-shared" if live else "duplicate-number",
                        path=episode.path,
                        line=episode.line_of("number"),
                        field="number",
                        message=f"episode number {episode.number}{season} is also used by {other.path.name}",
                        hint="kept as it is: both are live, and apps would show a changed number"
                        if live
                        else "give each episode of a season its own number",
                    )
                )
            else:
                numbers[key] = episode
        if not episode.draft and episode.audio in audio:
            problems.append(
                Problem(
                    rule="duplicate-audio",
                    path=episode.path,
                    line=episode.line_of("audio"),
                    field="audio",
                    message=f"{episode.audio} is also the audio of {audio[episode.audio].path.name}",
                    hint="apps ignore an episode whose enclosure another one already has: give each its own file",
                )
            )
        elif not episode.draft:
            audio[episode.audio] = episode
    # A live (pinned) GUID belongs to its episode: the duplicate to change is the other one,
    # whichever file name sorts first.
    for episode in sorted(episodes, key=lambda e: pinned.get(e.slug) != e.guid):
        if not episode.guid:
            continue
        if episode.guid in guids:
            other = guids[episode.guid]
            explicit = episode.line_of("guid") is not None
            problems.append(
                Problem(
                    rule="duplicate-guid",
                    path=episode.path,
                    line=episode.line_of("guid"),
                    field="guid",
                    message=f"GUID '{episode.guid}' is also the GUID of {other.path.name}",
                    hint="every episode needs its own GUID; remove this `guid:` line to get a new one"
                    if explicit
                    else f"{STATE_FILE} pinned it for '{episode.slug}'; give {other.path.name} its own GUID",
                )
            )
        else:
            guids[episode.guid] = episode
