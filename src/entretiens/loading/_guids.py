"""GUIDs: the one written in the YAML, pinning them for good, and recovering lost ones from the live feed.

Kept apart because a GUID is a promise: once published it never changes, whatever the
YAML or a lost ``published.yaml`` says. Every rule that protects that promise (pinned wins,
a contradicting ``guid:`` is an error, a lost record is completed from the live feed) is here.
"""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Final

from .. import podcast_spec
from ..errors import Problem
from ..fieldreader import FieldReader
from ..layout import FEED, FEED_ARCHIVE
from ..model import Episode, PublishState, Show
from ..state import MAX_LIVE_FEED_BYTES, STATE_FILE, LiveFeed, episode_guid_for, read_live_feed, recover_guids
from ..yamlfile import YamlMap
from ._files import FEED_FILE


def read_guid(reader: FieldReader, data: YamlMap) -> str | None:
    """A GUID written in the YAML: text only, as YAML would turn `guid: 0123` into the number 83."""
    value = data.get("guid")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        reader.wrong_type("guid", reader.line(data, "guid"), value, "text", 'quote it: guid: "..."')
        return None
    return value.strip()


def recover_live_guids(
    root: Path,
    show: Show,
    episodes: list[Episode],
    state: PublishState,
    live: LiveFeed | Problem | None,
    problems: list[Problem],
) -> PublishState:
    """Complete a lost, emptied or truncated published.yaml from the feed that is live now.

    Without this, a lost published.yaml and a changed base_url give every episode a new GUID:
    every app would list the whole show again. A YAML ``guid:`` still wins over a recovered
    GUID (that is how a host changes one), with a warning; the live feed never silently loses.
    """
    if isinstance(live, Problem):
        # Only dangerous when the show's GUID is lost too: the episodes' are derived from it.
        if state.podcast_guid is None and not show.podcast_guid:
            problems.append(live)
        return state
    if live is None:
        return state
    completed, recovered, show_recovered = recover_guids(state, live, episodes)
    by_slug = {episode.slug: episode for episode in episodes}
    shown = _display(live.path, root)
    for slug, guid in list(recovered.items()):
        episode = by_slug[slug]
        if episode.guid and episode.guid != guid:
            del recovered[slug]
            problems.append(_guid_replaced(episode.path, episode.line_of("guid"), shown, guid))
    if show_recovered and show.podcast_guid and show.podcast_guid != completed.podcast_guid:
        problems.append(_guid_replaced(root / FEED_FILE, show.line_of("guid"), shown, str(completed.podcast_guid)))
        show_recovered = False
    if not recovered and not show_recovered:
        return state
    what = [f"the show's podcast:guid ({completed.podcast_guid})"] if show_recovered else []
    names = sorted(recovered)
    if names:
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what.append(f"the GUIDs of {len(names)} published episode{'s' if len(names) > 1 else ''} ({listed})")
    problems.append(
        Problem(
            rule="guid-recovered",
            path=root / STATE_FILE,
            message=f"lacks {' and '.join(what)}: they were recovered from the live feed {shown}, "
            "so that apps do not list these episodes again",
            hint=f"publish writes them into {STATE_FILE}: commit it. If it was lost, restoring it from version "
            "control is safer",
        )
    )
    return PublishState(
        podcast_guid=completed.podcast_guid if show_recovered else state.podcast_guid,
        guids=(*state.guids, *sorted(recovered.items())),
    )


def all_pinned(state: PublishState, episodes: list[Episode]) -> bool:
    """Whether published.yaml holds the show's GUID and that of each episode: then
    :func:`recover_live_guids` returns ``state`` as it is, whatever the live feed holds."""
    if state.podcast_guid is None:
        return False
    pinned = {slug for slug, read_guid in state.guids}
    return all(episode.slug in pinned for episode in episodes)


# What a guid element of the live feed looks like when its text is what a parser gives: no
# entity, no CDATA, no comment, no carriage return (a parser turns it into a line feed), and
# attributes without markup in them. Every ``<guid`` must look like that, or the feed is parsed.
_GUID_ELEMENT: Final = re.compile(
    rb"""<guid(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>&]*"|'[^'<>&]*'))*\s*>([^<&\r]*)</guid>"""
)
_GUID_OPENING: Final = re.compile(rb"<guid[\s/>]")
_UTF8_DECLARATION: Final = re.compile(
    rb"""<\?xml version=["']1\.[0-9]["'] encoding=["'](?i:utf-8)["'](?: standalone=["'](?:yes|no)["'])?\s*\?>"""
)


def live_guids(path: Path) -> set[str] | None:
    """Every GUID :func:`read_live_feed` would read from ``path`` (and maybe more: a guid in a
    comment or in a description counts too), found without parsing the XML; None when that
    cannot be told so (another encoding, a guid written with an entity, CDATA, a comment or a
    carriage return, an unreadable or oversized file): then the feed must be parsed."""
    try:
        if not stat.S_ISREG((info := path.stat()).st_mode) or info.st_size > MAX_LIVE_FEED_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if not _UTF8_DECLARATION.match(data):
        return None
    found = _GUID_ELEMENT.findall(data)
    if len(found) != len(_GUID_OPENING.findall(data)):
        return None
    try:
        return {guid.decode("utf-8").strip() for guid in found}
    except UnicodeDecodeError:
        return None


def pinned_live_feeds(state: PublishState, output: Path) -> bool:
    """Whether published.yaml pins the show's GUID and every GUID the live feed and its archive
    pages hold: then :func:`recover_live_guids` returns ``state`` as it is, whatever else they
    hold, and they need not be parsed (tens of megabytes at 10,000 episodes). A show with a
    draft or a scheduled episode (never pinned) met :func:`all_pinned` too seldom for that."""
    if state.podcast_guid is None:
        return False
    pinned = {guid for _slug, guid in state.guids}
    pages = [output / FEED, *sorted((output / FEED_ARCHIVE).glob("*.xml"))]
    for page in pages:
        guids = live_guids(page)
        if guids is None or not guids <= pinned:
            return False
    return True


def read_live_feeds(output: Path) -> LiveFeed | Problem | None:
    """The live feed.xml with the items of its RFC 5005 archive pages (a capped feed lists only the newest)."""
    live = read_live_feed(output / FEED)
    if not isinstance(live, LiveFeed):
        return live
    items = list(live.items)
    for page in sorted((output / FEED_ARCHIVE).glob("*.xml")):
        archived = read_live_feed(page)
        if isinstance(archived, Problem):
            return archived
        if archived is not None:
            items += archived.items
    return replace(live, items=tuple(items))


def _display(path: Path, root: Path) -> str:
    """A path as the host knows it: relative to the show when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _guid_replaced(path: Path, line: int | None, live_feed: str, live_guid: str) -> Problem:
    return Problem(
        rule="guid-replaced",
        path=path,
        line=line,
        field="guid",
        message=f"replaces the GUID the live feed {live_feed} publishes ({live_guid}): apps will take it "
        "for something new",
        hint=f"to keep the live GUID, remove this `guid:` line ({STATE_FILE} lost it, so nothing else remembers it)",
    )


def pin_guids(
    show: Show, episodes: list[Episode], state: PublishState, problems: list[Problem], present: set[str]
) -> tuple[Show, list[Episode]]:
    """Give the show and every episode their GUID, refusing to change one that was published.

    Order of precedence: what published.yaml pinned at the first publish, else the YAML's
    ``guid:``, else a new one derived from the show's GUID and the slug. A YAML ``guid:``
    that contradicts the pinned one is an error: apps would take the episode for a new one.
    """
    pinned_show = state.podcast_guid
    if show.podcast_guid and pinned_show and show.podcast_guid != pinned_show:
        problems.append(
            _guid_changed(
                show.root / FEED_FILE,
                show.line_of("guid"),
                "the show",
                pinned_show,
                "remove this `guid:` line; a new podcast:guid makes the show another show for the Podcast Index. "
                f"To change it all the same, delete podcast_guid from {STATE_FILE}",
            )
        )
    podcast_guid = pinned_show or show.podcast_guid or podcast_spec.podcast_guid_for(show.feed_url)
    show = replace(show, podcast_guid=podcast_guid)
    pinned = dict(state.guids)
    gone = sorted(slug for slug in pinned if slug not in present)
    result = []
    for episode in episodes:
        known = pinned.get(episode.slug)
        if episode.guid and known and episode.guid != known:
            problems.append(_guid_changed(episode.path, episode.line_of("guid"), f"'{episode.slug}'", known))
        if gone and not known and not episode.guid:
            problems.append(
                Problem(
                    rule="guid-orphaned",
                    path=episode.path,
                    field="guid",
                    message=f"this episode is new, and {STATE_FILE} holds the GUIDs of episodes whose file is gone "
                    f"({', '.join(gone)})",
                    hint="if this file is one of them renamed, copy its GUID from "
                    f"{STATE_FILE} here as `guid:`, or apps will show it again as a new episode",
                )
            )
        guid = known or episode.guid or episode_guid_for(podcast_guid, episode.slug)
        # Replaced only when it differs: an episode read back has its pinned GUID already.
        result.append(episode if guid == episode.guid else replace(episode, guid=guid))
    return show, result


def _guid_changed(path: Path, line: int | None, what: str, pinned: str, hint: str | None = None) -> Problem:
    return Problem(
        rule="guid-changed",
        path=path,
        line=line,
        field="guid",
        message=f"differs from the GUID {what} was published with ({pinned})",
        hint=hint
        or "remove this `guid:` line; a new GUID makes every app show the episode again. To change it "
        f"all the same, delete its entry from {STATE_FILE}",
    )
