"""published.yaml: the GUIDs publish pinned, so that they never change once listeners have them."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from lxml import etree

from . import statetext
from .errors import Problem
from .model import Change, Episode, PublishState
from .podcast_spec import ATOM_NS, PODCAST_NS
from .yamlfile import MAX_FILE_BYTES, YamlMap, YamlSyntaxError, read_yaml

STATE_FILE = "published.yaml"
#: The keys publish writes, in order: anything else is damage.
_KEYS = ("podcast_guid", "episodes", "changes")

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
    if not path.exists() and not path.is_symlink():
        return PublishState()
    # A symlink is followed (the file may be kept elsewhere); what it reaches must be a file:
    # reading a FIFO would hang publish, a loop would raise.
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        regular, why = False, exc.strerror or "cannot be read"
    else:
        # A folder is reported by the YAML reader, which cannot read it without hanging.
        regular, why = stat.S_ISREG(mode) or stat.S_ISDIR(mode), "is not a regular file (a FIFO or a device)"
    if not regular:
        problems.append(
            Problem(
                rule="state-file",
                path=path,
                message=f"{why}, so the GUIDs it pins cannot be read",
                hint="replace it with the published.yaml from version control",
            )
        )
        return PublishState()
    # The file as publish wrote it is read line by line (PyYAML took a second at 10,000
    # episodes); any other text goes through the YAML reader, which says what is wrong.
    text = _text(path)
    if text is not None and (written := statetext.read(text, _HEADER)) is not None:
        found = _state_as_written(written)
        if found is not None:
            return found
    data: object = statetext.parse(text, _HEADER) if text is not None else None
    as_written = data is not None
    if not as_written:
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
    if not as_written and _cut_short(path):
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
    show_change, episode_changes = _read_changes(path, data, problems, guids)
    return PublishState(
        podcast_guid=show_guid, guids=tuple(guids), show_change=show_change, episode_changes=episode_changes
    )


def _text(path: Path) -> str | None:
    """published.yaml's text, or None when it is too large or not UTF-8 (then left to the YAML
    reader, which says what is wrong)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _state_as_written(written: statetext.Written) -> PublishState | None:
    """The state of a file as publish writes it (:func:`statetext.read`), built from its texts
    at once; None when a value would be reported (a show GUID that is not a UUID, a date that
    is not one): the caller then reads the YamlMaps, which locate the problem.

    The same state as the YamlMaps give: every GUID is a non-empty text without spaces (what
    :func:`statetext.read` takes), each slug of ``changes:`` the GUIDs' own text.
    """
    podcast_guid, guids, show, changes = written
    if not is_uuid(podcast_guid):
        return None
    show_change = episode_changes = None
    dates: dict[str, datetime] = {}
    if show is not None and (show_change := _written_change(show, dates)) is None:
        return None
    if changes is not None:
        names = {slug: slug for slug in guids}
        episode_changes = []
        for slug, record in changes.items():
            change = _written_change(record, dates)
            if change is None:
                return None
            episode_changes.append((names.get(slug, slug), change))
    return PublishState(
        podcast_guid=podcast_guid,
        guids=tuple(guids.items()),
        show_change=show_change,
        episode_changes=tuple(episode_changes) if episode_changes is not None else (),
    )


def _written_change(record: tuple[str, str], dates: dict[str, datetime]) -> Change | None:
    """:func:`_change` of a (hash, date) pair of texts; one date object per moment."""
    digest, text = record
    date = dates.get(text)
    if date is None:
        try:
            date = datetime.fromisoformat(text)
        except ValueError:
            return None
        if date.tzinfo is None:
            return None
        dates[text] = date
    return Change(hash=digest, date=date)


def _read_changes(
    path: Path, data: YamlMap, problems: list[Problem], guids: Iterable[tuple[str, str]]
) -> tuple[Change | None, tuple[tuple[str, Change], ...]]:
    """The ``changes:`` record. Unlike GUIDs, a damaged entry costs no listener anything: it is a
    warning, and the next publish records that part anew (its date becomes the publish's).

    :param guids: the GUIDs read (slug, GUID): a slug is kept as the one text both records name.
    """
    changes = data.get("changes")
    if changes is None:
        return None, ()

    def damaged(field: str, line: int | None) -> None:
        problems.append(
            Problem(
                rule="state-dates",
                path=path,
                line=line,
                field=field,
                message="not a record of what publish wrote (hash and date): the next publish records it anew",
                hint="restore the file from version control, or leave it to publish",
            )
        )

    if not isinstance(changes, YamlMap):
        damaged("changes", data.key_lines.get("changes"))
        return None, ()
    show_change = None
    if "show" in changes:
        show_change = _change(changes["show"])
        if show_change is None:
            damaged("changes.show", changes.key_lines.get("show"))
    episodes = changes.get("episodes", YamlMap())
    if not isinstance(episodes, YamlMap):
        damaged("changes.episodes", changes.key_lines.get("episodes"))
        return show_change, ()
    found: list[tuple[str, Change]] = []
    # One date object per moment: a publish dates every part it changed with its own moment
    # (10,000 equal dates after a first publish).
    dates: dict[str, datetime] = {}
    names = {slug: slug for slug, _guid in guids}
    for slug, value in episodes.items():
        change = _change(value, dates)
        if change is None:
            damaged(f"changes.episodes.{slug}", episodes.key_lines.get(slug))
        else:
            text = str(slug)
            found.append((names.get(text, text), change))
    return show_change, tuple(found)


def _change(value: object, dates: dict[str, datetime] | None = None) -> Change | None:
    if not isinstance(value, YamlMap):
        return None
    digest, date = value.get("hash"), value.get("date")
    if not isinstance(digest, str):
        return None
    if isinstance(date, str):
        text = date
        date = dates.get(text) if dates is not None else None
        if date is None:
            try:
                date = datetime.fromisoformat(text)
            except ValueError:
                return None
            if dates is not None:
                dates[text] = date
    if not isinstance(date, datetime) or date.tzinfo is None:
        return None
    return Change(hash=digest, date=date)


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


#: The largest previous feed.xml read to recover GUIDs (a 10,000-episode feed is far below).
MAX_LIVE_FEED_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One item of the feed that is live now: its GUID and what tells which episode it is."""

    guid: str
    link: str
    enclosure: str


@dataclass(frozen=True, slots=True)
class LiveFeed:
    """What the previous ``feed.xml`` promised listeners: the GUIDs that must not change."""

    path: Path
    podcast_guid: str | None
    #: The URL the feed was published under, minus ``feed.xml`` ("" when it does not say).
    base_url: str
    items: tuple[LiveItem, ...]


def read_live_feed(path: Path) -> LiveFeed | Problem | None:
    """Read the feed that publish is about to replace, to recover GUIDs ``published.yaml`` lost.

    It was written by us, but may have been damaged since: parsed with entities, network and
    huge trees off, size capped. Nothing there is None; a file that cannot be read is a Problem.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _live_problem(path, f"cannot be read ({exc.strerror})")
    if not stat.S_ISREG(info.st_mode):
        return _live_problem(path, "is not a regular file")
    if info.st_size > MAX_LIVE_FEED_BYTES:
        return _live_problem(path, f"is larger than {MAX_LIVE_FEED_BYTES // 2**20} MB")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(path.read_bytes(), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        return _live_problem(path, f"cannot be read as a feed ({exc})")
    channel = root.find("channel")
    if channel is None:
        return _live_problem(path, "has no <channel>")
    self_url = ""
    for link in channel.iterfind(f"{{{ATOM_NS}}}link"):
        if link.get("rel") == "self":
            self_url = link.get("href") or ""
    base = self_url.rsplit("/", 1)[0] + "/" if "/" in self_url else ""
    podcast_guid = (channel.findtext(f"{{{PODCAST_NS}}}guid") or "").strip() or None
    items = []
    for item in channel.iterfind("item"):
        guid = (item.findtext("guid") or "").strip()
        enclosure = item.find("enclosure")
        if guid:
            link = (item.findtext("link") or "").strip()
            url = (enclosure.get("url") or "").strip() if enclosure is not None else ""
            items.append(LiveItem(guid=guid, link=link, enclosure=url))
    return LiveFeed(path=path, podcast_guid=podcast_guid, base_url=base, items=tuple(items))


def _live_problem(path: Path, what: str) -> Problem:
    return Problem(
        rule="guid-unrecoverable",
        path=path,
        message=f"{STATE_FILE} holds no podcast_guid and the live feed {what}, so the GUIDs already "
        "published cannot be recovered from it",
        hint=f"restore {STATE_FILE} from version control (or restore this feed.xml); if this show was never "
        "published from here, delete this file",
    )


def recover_guids(
    state: PublishState, live: LiveFeed, episodes: Iterable[Episode]
) -> tuple[PublishState, dict[str, str], bool]:
    """Add to ``state`` the GUIDs that the live feed publishes and ``published.yaml`` lost.

    An item is an episode when its page link or its enclosure URL is the episode's, under the
    base URL the live feed was published with (which may differ from today's ``base_url``).
    What ``published.yaml`` pinned always wins: editing it is how a host changes a GUID.

    :returns: the completed state, the recovered slug -> GUID, and whether the show's
        podcast:guid was recovered.
    """
    by_slug = {episode.slug: episode for episode in episodes}
    by_audio = {episode.audio: episode for episode in by_slug.values()}
    pinned = dict(state.guids)
    pinned_values = set(pinned.values())
    recovered: dict[str, str] = {}
    for item in live.items:
        if item.guid in pinned_values:
            continue
        episode = by_slug.get(_under(item.link, live.base_url).strip("/")) or _by_enclosure(
            item.enclosure, live.base_url, by_audio
        )
        if episode is not None and episode.slug not in pinned and episode.slug not in recovered:
            recovered[episode.slug] = item.guid
    show_guid = state.podcast_guid
    show_recovered = False
    if show_guid is None and live.podcast_guid and is_uuid(live.podcast_guid):
        show_guid, show_recovered = live.podcast_guid, True
    completed = PublishState(podcast_guid=show_guid, guids=(*state.guids, *sorted(recovered.items())))
    return completed, recovered, show_recovered


def _under(url: str, base: str) -> str:
    """A URL's path under ``base``; under another base (a moved feed), its path's last part."""
    if base and url.startswith(base):
        return url[len(base) :]
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _by_enclosure(url: str, base: str, by_audio: Mapping[str, Episode]) -> Episode | None:
    """The episode whose audio the enclosure URL serves, under the live base URL or any other."""
    if not url:
        return None
    if url in by_audio:  # remote audio: the URL itself
        return by_audio[url]
    parts = unquote(url[len(base) :] if base and url.startswith(base) else urlsplit(url).path).split("/")
    # The longest tail of the path that is an episode's audio: the base URL may have moved.
    for start in range(len(parts)):
        if (episode := by_audio.get("/".join(parts[start:]))) is not None:
            return episode
    return None


def render_state(
    podcast_guid: str,
    guids: Mapping[str, str],
    *,
    show_change: Change | None = None,
    episode_changes: Mapping[str, Change] | None = None,
) -> bytes:
    """The text of published.yaml, in a stable order so that it diffs well."""
    ordered = dict(sorted(guids.items()))
    recorded = show_change is not None or bool(episode_changes)
    written = statetext.render(
        podcast_guid,
        ordered,
        (show_change.hash, show_change.date.isoformat()) if show_change is not None else None,
        {slug: (c.hash, c.date.isoformat()) for slug, c in sorted((episode_changes or {}).items())}
        if recorded
        else None,
    )
    if written is not None:
        return (_HEADER + written).encode("utf-8")
    # A value statetext does not spell (a slug with a dot, a GUID that reads as a number):
    # PyYAML writes the whole file.
    data: dict[str, object] = {"podcast_guid": podcast_guid, "episodes": ordered}
    if recorded:
        changes: dict[str, object] = {}
        if show_change is not None:
            changes["show"] = _changed(show_change)
        changes["episodes"] = {slug: _changed(c) for slug, c in sorted((episode_changes or {}).items())}
        data["changes"] = changes
    # libyaml's emitter (CSafeDumper) where PyYAML was built with it: the same text as the
    # pure-Python one for every key a state can hold, about six times faster (a tenth of a
    # rebuild after one edit at 1,000 episodes went to yaml.safe_dump).
    body = yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )
    return (_HEADER + body).encode("utf-8")


def _changed(change: Change) -> dict[str, str]:
    return {"hash": change.hash, "date": change.date.isoformat()}


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
