"""feed.yaml, guests/ and episodes/ into a validated Project, with every error located.

This package is the only place that sees raw YAML. :func:`load_project` drives it: the
registry of people, then the show, then each episode (or the one the parse cache kept), then
the GUIDs and the rules across episodes. Each step lives in its own module so that each stays
readable on its own: ``_files`` (which files are read, and which a show may name),
``_people``, ``_show``, ``_episode``, ``_guids`` (pinning and live-feed recovery) and
``_episode_set``. The rest of the package imports what ``__all__`` lists; the ``_`` modules are
this package's own.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import episodecache, gcpause, modeljson, yamlcache
from ..errors import ConfigError, Problem
from ..model import Episode, Person, Project
from ..output import MARKER
from ..state import STATE_FILE, read_state
from ..yamlcache import ParseCache, Stamp
from ..yamlfile import read_yaml
from ._episode import RESERVED_SLUGS, load_episode
from ._episode_set import check_episode_set
from ._files import EPISODES_DIR, FEED_FILE, GUESTS_DIR, Reader, plain_media, show_root, unsafe_file, yaml_files
from ._guids import all_pinned, pin_guids, pinned_live_feeds, read_live_feeds, recover_live_guids
from ._people import load_registry
from ._show import load_show

__all__ = [
    "EPISODES_DIR",
    "FEED_FILE",
    "GUESTS_DIR",
    "RESERVED_SLUGS",
    "Reader",
    "load_project",
    "show_root",
    "unsafe_file",
    "yaml_files",
]


def load_project(root: Path, *, previous: Path | None = None, cache: bool = True) -> Project:
    """Read and validate a show folder.

    :param root: the folder holding ``feed.yaml``.
    :param previous: the output folder publish writes (default ``root/public``): GUIDs that
        ``published.yaml`` lost are recovered from the feed.xml there, never derived anew.
    :param cache: take the parses of unchanged YAML files from the show's parse cache
        (:mod:`entretiens.yamlcache`) and keep the new ones; False parses every file.
    :returns: the show and all its episodes (drafts included), oldest first.
    :raises ConfigError: listing every error found in every file.
    """
    # The cycle collector paused: what is read back (tens of thousands of episodes) has no cycle.
    # Held at the end in a build (it lives as long as the build): not then walked by a pass.
    with gcpause.paused(hold=True):
        return _load_project(root.resolve(), previous, cache)


def _load_project(root: Path, previous: Path | None, cache: bool) -> Project:
    problems: list[Problem] = []
    parses = ParseCache(root) if cache else None
    # slug -> what each episode was decoded from (or written as): its entry's key and digest.
    entries: dict[str, tuple[str, str]] = {}
    read: Reader = parses.read_yaml if parses is not None else read_yaml
    # published.yaml read first: an episode read back takes its pinned GUID as it is decoded
    # (pin_guids then replaces none of them). Its problems are reported where they were.
    state_problems: list[Problem] = []
    state = read_state(root / STATE_FILE, state_problems)
    pinned = dict(state.guids)
    try:
        registry = load_registry(root, problems, read)
        show = load_show(root, registry, problems, read)
        zone = _zone(show.timezone) if show else ZoneInfo("UTC")
        language = show.language if show else "en"
        # Each episode file stat'ed once: the listing's status is the parse cache's stamp.
        stats: dict[str, os.stat_result] = {}
        episode_files = yaml_files(root / EPISODES_DIR, problems, stats=stats)
        if parses is not None:
            context = _episode_context(zone, language, registry)
            kept = _Kept(parses, context, root, zone, language, registry, problems, pinned, entries)
            found = (kept.episode(path, stats.get(path.name)) for path in episode_files)
        else:
            found = (load_episode(path, zone, language, registry, problems, read) for path in episode_files)
        episodes = [episode for episode in found if episode is not None]
    finally:
        if parses is not None:
            parses.close()
    problems += state_problems
    if show is not None and not any(p.severity == "error" for p in state_problems):
        output = previous if previous is not None else root / "public"
        # Only a folder publish wrote holds our live feed (a static site's feed.xml is not ours).
        # When published.yaml pins the show's GUID and every episode's, or every GUID the feed
        # holds, the feed has nothing to give back: it is not parsed (megabytes at thousands of
        # episodes, on every rebuild).
        if not all_pinned(state, episodes) and (output / MARKER).is_file() and not pinned_live_feeds(state, output):
            live = read_live_feeds(output)
            state = recover_live_guids(root, show, episodes, state, live, problems)
    if show is not None:
        # A file that failed to load is there all the same: its GUID is not orphaned.
        show, episodes = pin_guids(show, episodes, state, problems, {path.stem for path in episode_files})
    check_episode_set(episodes, state, problems)
    if show is not None and not episodes and not any(p.severity == "error" for p in problems):
        problems.append(
            Problem(
                rule="no-episodes",
                path=root / EPISODES_DIR,
                message="the show has no episode",
                hint="create one with `entretiens new`",
            )
        )
    if show is None or any(p.severity == "error" for p in problems):
        raise ConfigError(problems, root)
    episodes.sort(key=lambda e: (e.date, e.slug))
    return Project(
        show=show,
        episodes=tuple(episodes),
        state=state,
        warnings=tuple(problems),
        entry_digests=_entry_digests(episodes, entries),
        people=tuple([person for person, _ in registry.values()]),
    )


def _entry_digests(episodes: list[Episode], entries: dict[str, tuple[str, str]]) -> dict[str, str]:
    """:meth:`Project.entry_digest` of each episode decoded from (or written as) an entry: its
    path, its body's digest and the GUID :func:`pin_guids` gave it (the one field it replaces)."""
    digests = {}
    for episode in episodes:
        found = entries.get(episode.slug)
        if found is not None:
            # The episode's path, not the entry's key: the key holds the whole guests' registry,
            # which would move every episode's digest when one guest is edited. A registry guest
            # is named in the entry by its id: the digest's users digest that person apart.
            text = f"{episode.path}\0{found[1]}\0{episode.guid}"
            digests[episode.slug] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return digests


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _episode_context(zone: tzinfo, language: str, registry: dict[str, tuple[Person, Path]]) -> str:
    """A digest of what an episode is built from besides its file: the show's time zone and
    language, and the guests' registry (people, their files and lines)."""
    hashed = hashlib.sha256(repr((str(zone), language)).encode("utf-8", "surrogatepass"))
    for person_id, (person, path) in sorted(registry.items()):
        hashed.update(repr((person_id, person, person.source, person.lines, path)).encode("utf-8", "surrogatepass"))
    return hashed.hexdigest()[:32]


@dataclass(slots=True)
class _Kept:
    """What an episode is read back from, or built and kept from, for one load."""

    parses: ParseCache
    #: :func:`_episode_context`.
    context: str
    root: Path
    zone: tzinfo
    language: str
    registry: dict[str, tuple[Person, Path]]
    problems: list[Problem]
    #: The GUIDs published.yaml pins, by slug: an episode read back whose file writes no
    #: ``guid:`` takes its own as it is decoded, as :func:`pin_guids` would give it.
    pinned: Mapping[str, str]
    #: Filled with the key and digest of the entry each episode was decoded from or written
    #: as, by slug (see :meth:`Project.entry_digest`).
    entries: dict[str, tuple[str, str]]
    #: What this load found of the files and folders episodes name (see :func:`plain_media`):
    #: the media files of a show share their folders (audio/), and many share a cover.
    media: dict[str, bool] = field(default_factory=dict)
    asked: dict[str, int] = field(default_factory=dict)

    def episode(self, path: Path, status: os.stat_result | None = None) -> Episode | None:
        """:func:`load_episode`, or the episode it built from the same file last time.

        Kept with the files it names: they are checked again (one ``lstat`` per part, or a
        folder's listing) before the episode is used. Only an episode whose file raised no
        problem at all is kept, and only when every file it names went through that quick
        check; anything else is built as usual.

        :param status: the file's status, when the listing took it already (before any reading).
        """
        parses, registry = self.parses, self.registry
        stamp = yamlcache.stamp_of(status) if status is not None else parses.stamp(path)
        key = f"episode {self.context} {path}"
        if stamp is not None and (body := parses.body(key, stamp)) is not None:
            try:
                named, episode = episodecache.decode_entry(body.decode("utf-8"), path, registry, self.pinned)
                if not isinstance(named, list):
                    raise ValueError("not an entry")
                root, media, asked = self.root, self.media, self.asked
                if type(episode) is Episode and all(
                    type(text) is str and plain_media(root, text, media, asked) for text in named
                ):
                    # Its parse stays in the store: a change of the show's settings needs it again.
                    parses.touch(str(path), stamp)
                    if (digest := parses.digest(key)) is not None:
                        self.entries[episode.slug] = (key, digest)
                    return episode
            except (ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError):
                pass
            parses.forget(key)
        problems = self.problems
        before = len(problems)
        checked: list[str | None] = []
        episode = load_episode(
            path,
            self.zone,
            self.language,
            registry,
            problems,
            lambda file: parses.read_yaml(file, stamp),
            named=checked,
        )
        if episode is None:
            return episode
        # Kept only when it can be read back whole next time: no problem to report again, every
        # named file checked the quick way, a file whose stamp has settled (walks.settled).
        keep = stamp is not None and len(problems) == before and None not in checked and parses.keeps(stamp)
        digest = _keep_episode(parses, key, stamp if keep else None, episode, checked, registry)
        if digest is not None:
            self.entries[episode.slug] = (key, digest)
        return episode


def _keep_episode(
    parses: ParseCache,
    key: str,
    stamp: Stamp | None,
    episode: Episode,
    named: list[str | None],
    registry: dict[str, tuple[Person, Path]],
) -> str | None:
    """Keep an episode (``stamp`` None: do not) when what would be read back is exactly it;
    the digest of that entry, kept or not, or None when it cannot be written as one."""
    try:
        text = episodecache.encode_entry(named, episode, registry)
        body = text.encode("utf-8")
        _, again = episodecache.decode_entry(text, episode.path, registry)
    except (modeljson.Unsupported, ValueError, TypeError, IndexError, KeyError, RecursionError):
        return None
    if not modeljson.same(again, episode):
        return None
    if stamp is not None:
        parses.put_json(key, stamp, text)
    return yamlcache.FORMAT.digest(body)
