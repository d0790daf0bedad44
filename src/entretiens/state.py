"""published.yaml: the GUIDs publish pinned, so that they never change once listeners have them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from .errors import Problem
from .model import PublishState
from .yamlfile import YamlMap, YamlSyntaxError, read_yaml

STATE_FILE = "published.yaml"
#: The keys publish writes, in order: anything else is damage.
_KEYS = ("podcast_guid", "episodes")

_HEADER = """\
# Written by `entretiens publish`. Keep this file under version control, beside feed.yaml.
# An episode's GUID is how podcast apps recognise it: once published, it must never change.
# The podcast_guid identifies the show itself in the Podcasting 2.0 index, even after a move.
"""


def read_state(path: Path, problems: list[Problem]) -> PublishState:
    """Read published.yaml; a missing file is an empty state.

    Defects are appended to ``problems`` as errors: a damaged state file could make GUIDs
    change, so it is never silently ignored.
    """
    if not path.exists():
        return PublishState()
    try:
        data = read_yaml(path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return PublishState()
    if data is None:
        return PublishState()
    if not isinstance(data, YamlMap):
        problems.append(
            Problem(
                rule="state-file",
                path=path,
                line=1,
                message="must be a mapping",
                hint="restore it from version control",
            )
        )
        return PublishState()
    for key in data:
        if key not in _KEYS:
            # publish writes no other key: a misspelt `episodes:` would lose every pinned GUID.
            problems.append(
                Problem(
                    rule="state-file",
                    path=path,
                    line=data.key_lines.get(key),
                    field=str(key),
                    message=f"unknown key '{key}': this file holds only {' and '.join(_KEYS)}",
                    hint="restore the file from version control",
                )
            )
    if _cut_short(path):
        problems.append(
            Problem(
                rule="state-file",
                path=path,
                line=_line_count(path),
                message="the file does not end with a line break, as publish writes it: it may have been cut "
                "short, and the last GUID with it",
                hint="restore the file from version control; if you edited it by hand and its last GUID is "
                "whole, add the final line break",
            )
        )
    show_guid = data.get("podcast_guid")
    if show_guid is not None and not (isinstance(show_guid, str) and is_uuid(show_guid)):
        problems.append(
            Problem(
                rule="state-file",
                path=path,
                line=data.key_lines.get("podcast_guid"),
                field="podcast_guid",
                message=f"'{show_guid}' is not a UUID",
                hint="restore the file from version control",
            )
        )
        show_guid = None
    guids: list[tuple[str, str]] = []
    episodes = data.get("episodes")
    if not isinstance(episodes, YamlMap):
        problems.append(
            Problem(
                rule="state-file",
                path=path,
                line=data.key_lines.get("episodes"),
                field="episodes",
                message="must map episode slugs to GUIDs"
                if "episodes" in data
                else "missing: publish always writes the episodes' GUIDs here",
                hint="restore the file from version control",
            )
        )
        episodes = YamlMap()
    for slug, guid in episodes.items():
        if not isinstance(guid, str) or not guid.strip():
            problems.append(
                Problem(
                    rule="state-file",
                    path=path,
                    line=episodes.key_lines.get(slug),
                    field=f"episodes.{slug}",
                    message="the GUID must be text",
                    hint="restore the file from version control",
                )
            )
            continue
        guids.append((str(slug), guid.strip()))
    return PublishState(podcast_guid=show_guid, guids=tuple(guids))


def _cut_short(path: Path) -> bool:
    """Whether a file that parsed to a mapping (so is not empty) lacks its final line break.

    publish always ends the file with one: without it, the last GUID may have been cut.
    """
    with path.open("rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1) != b"\n"


def _line_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in stream)


def render_state(podcast_guid: str, guids: Mapping[str, str]) -> bytes:
    """The text of published.yaml, in a stable order so that it diffs well."""
    body = yaml.safe_dump(
        {"podcast_guid": podcast_guid, "episodes": dict(sorted(guids.items()))},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )
    return (_HEADER + body).encode("utf-8")


def merged_guids(state: PublishState, published: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The state's GUIDs plus those of the episodes published now.

    Entries of episodes that disappeared are kept: if the file comes back, so does its GUID.
    A pinned GUID is never replaced.
    """
    return {**dict(published), **dict(state.guids)}


def episode_guid_for(podcast_guid: str, slug: str) -> str:
    """A new episode's GUID: stable for a given show and slug, so rebuilds agree until it is pinned."""
    return str(uuid.uuid5(uuid.UUID(podcast_guid), slug))


def is_uuid(text: str, *, version: int | None = None) -> bool:
    """Whether a text is a UUID in any of its usual spellings (of the given version, if any)."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return False
    return version is None or value.version == version
