"""feed.yaml, guests/ and episodes/ into a validated Project, with every error located."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta, tzinfo
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import episodecache, podcast_spec, yamlcache
from .errors import ConfigError, Problem
from .layout import FEED, FEED_ARCHIVE
from .model import (
    Category,
    Chapter,
    DeclaredAudio,
    DeploySettings,
    Episode,
    Funding,
    License,
    Link,
    Location,
    Owner,
    Person,
    Project,
    PublishState,
    RemoteAudioSettings,
    Show,
    Soundbite,
    Source,
    Transcript,
)
from .output import MARKER
from .podcast_spec import ARTWORK_FORMATS, PODCAST_TEXT_LIMIT
from .state import STATE_FILE, LiveFeed, episode_guid_for, is_uuid, read_live_feed, read_state, recover_guids
from .yamlcache import ParseCache, Stamp
from .yamlfile import FieldReader, YamlMap, YamlSyntaxError, field_lines, read_yaml

#: Reads one YAML file as :func:`~entretiens.yamlfile.read_yaml` does (from the parse cache, or not).
Reader = Callable[[Path], object]

FEED_FILE = "feed.yaml"
EPISODES_DIR = "episodes"
GUESTS_DIR = "guests"

#: Folder names of public/ that an episode slug may not take.
RESERVED_SLUGS = frozenset({"assets", "audio", "guests", "images", "transcripts"})

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

_SHOW_KEYS = {
    "title", "subtitle", "description", "language", "base_url", "link", "timezone", "author",
    "owner", "image", "categories", "explicit", "type", "copyright", "hosts", "funding", "locked",
    "guid", "medium", "license", "location", "block", "complete", "new_feed_url", "subscribe",
    "tag_audio", "websub_hub", "deploy", "feed_limit", "remote_audio", "feed_stylesheet",
}  # fmt: skip
_EPISODE_KEYS = {
    "title", "date", "audio", "number", "season", "season_name", "type", "summary", "notes",
    "guests", "links", "quote", "chapters", "soundbites", "transcript", "image", "explicit",
    "guid", "draft", "imported",
}  # fmt: skip
_PERSON_KEYS = {"name", "bio", "url", "image", "role", "group"}
#: Registry files may also hold contact details, which are read by nobody and never published.
_REGISTRY_KEYS = _PERSON_KEYS | {"social", "email", "phone", "notes"}
_REFERENCE_KEYS = {"id", "bio", "role", "group"}

_TRANSCRIPT_SUFFIXES = {".vtt", ".srt", ".json", ".html", ".htm", ".txt"}


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
    root = root.resolve()
    problems: list[Problem] = []
    parses = ParseCache(root) if cache else None
    read: Reader = parses.read_yaml if parses is not None else read_yaml
    try:
        registry = _load_registry(root, problems, read)
        show = _load_show(root, registry, problems, read)
        zone = _zone(show.timezone) if show else ZoneInfo("UTC")
        language = show.language if show else "en"
        episode_files = yaml_files(root / EPISODES_DIR, problems)
        if parses is not None:
            context = _episode_context(zone, language, registry)
            found = (
                _kept_episode(parses, context, root, path, zone, language, registry, problems) for path in episode_files
            )
        else:
            found = (_load_episode(path, zone, language, registry, problems, read) for path in episode_files)
        episodes = [episode for episode in found if episode is not None]
    finally:
        if parses is not None:
            parses.close()
    before = len(problems)
    state = read_state(root / STATE_FILE, problems)
    if show is not None and not any(p.severity == "error" for p in problems[before:]):
        output = previous if previous is not None else root / "public"
        # Only a folder publish wrote holds our live feed (a static site's feed.xml is not ours).
        # When published.yaml pins the show's GUID and every episode's, the feed has nothing to
        # give back: it is not read (megabytes at thousands of episodes, on every rebuild).
        if not _all_pinned(state, episodes) and (output / MARKER).is_file():
            live = _read_live_feeds(output)
            state = _recover_live_guids(root, show, episodes, state, live, problems)
    if show is not None:
        # A file that failed to load is there all the same: its GUID is not orphaned.
        show, episodes = _pin_guids(show, episodes, state, problems, {path.stem for path in episode_files})
    _check_episode_set(episodes, state, problems)
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
    return Project(show=show, episodes=tuple(episodes), state=state, warnings=tuple(problems))


def yaml_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The YAML files of a folder, in name order.

    Hidden files are an editor's (Emacs lock files, swap files), not the show's; a `.yml`
    file is an error rather than silently ignored, and so is a `.yaml` name that cannot be
    read safely (a FIFO, a symlink loop, a link out of the show) and an unreadable folder.
    """
    try:
        with os.scandir(folder) as scan:
            # One folder: name order is the paths' order.
            listed = sorted(scan, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(
            Problem(
                rule="invalid-path",
                path=folder,
                message=f"the folder cannot be read ({exc.strerror})",
                hint="give yourself the right to read it (chmod u+rx)",
            )
        )
        return []
    found = []
    inside: bool | None = None
    for entry in listed:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if path.suffix == ".yaml":
            if inside is None:
                real_folder, real_root = folder.resolve(), folder.parent.resolve()
                inside = real_root == real_folder or real_root in real_folder.parents
            if inside and _plain_entry(entry):
                found.append(path)
            elif (why := unsafe_file(path, folder.parent)) is not None:
                problems.append(_unsafe_problem(path, why))
            else:
                found.append(path)
        elif path.suffix.lower() in (".yml", ".yaml") and path.is_file():
            problems.append(
                Problem(
                    rule="file-extension",
                    path=path,
                    message="this file is not read: show files end in .yaml",
                    hint=f"rename it to {path.stem}.yaml",
                )
            )
    return found


def _plain_entry(entry: os.DirEntry[str]) -> bool:
    """Whether a folder's entry is a regular file and no link: then, in a folder inside the show,
    :func:`unsafe_file` finds nothing to say, without resolving the path part by part."""
    try:
        return not entry.is_symlink() and stat.S_ISREG(os.stat(entry.path).st_mode)
    except OSError:
        return False


def unsafe_file(path: Path, root: Path) -> str | None:
    """Why a show file may not be read or published, or None: it must be a regular file inside the show.

    A FIFO would hang the reader; a symlink loop would raise; a link out of the show would
    publish (or echo in an error message) a file that is not the show's.
    """
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        return "is a symbolic link to nothing" if path.is_symlink() else "does not exist"
    except (OSError, RuntimeError):
        return "is a symbolic link loop"
    return _unsafe_target(resolved, root.resolve())


def _unsafe_target(resolved: Path, real_root: Path) -> str | None:
    """:func:`unsafe_file` for a file whose real path is already known (``resolved``), in the
    show folder ``real_root`` (resolved too)."""
    if real_root not in resolved.parents:
        return "is a symbolic link to a file outside the show folder"
    try:
        mode = resolved.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, a FIFO or a device)"
    return None


def _unsafe_problem(path: Path, why: str, *, field: str | None = None, line: int | None = None) -> Problem:
    return Problem(
        rule="invalid-path",
        path=path,
        line=line,
        field=field,
        message=f"this file {why}, so it is not read",
        hint="make it a plain file inside the show folder",
    )


def _recover_live_guids(
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


def _all_pinned(state: PublishState, episodes: list[Episode]) -> bool:
    """Whether published.yaml holds the show's GUID and that of each episode: then
    :func:`_recover_live_guids` returns ``state`` as it is, whatever the live feed holds."""
    if state.podcast_guid is None:
        return False
    pinned = {slug for slug, _guid in state.guids}
    return all(episode.slug in pinned for episode in episodes)


def _read_live_feeds(output: Path) -> LiveFeed | Problem | None:
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


def _pin_guids(
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
        result.append(replace(episode, guid=guid))
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


def _read_mapping(path: Path, problems: list[Problem], read: Reader = read_yaml) -> YamlMap | None:
    try:
        data = read(path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    if isinstance(data, YamlMap):
        return data
    problems.append(
        Problem(
            rule="field-type",
            path=path,
            line=1,
            message="the file must be a mapping of `key: value` lines",
            hint="see the format in the README",
        )
    )
    return None


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


# -- people ---------------------------------------------------------------------------------------


def _load_registry(root: Path, problems: list[Problem], read: Reader) -> dict[str, tuple[Person, Path]]:
    registry: dict[str, tuple[Person, Path]] = {}
    for path in yaml_files(root / GUESTS_DIR, problems):
        data = _read_mapping(path, problems, read)
        if data is None:
            continue
        reader = FieldReader(path, problems)
        reader.check_keys(data, _REGISTRY_KEYS)
        person = _read_person_fields(reader, data, "", path.stem, default_role="guest")
        if person is not None:
            person = replace(person, source=Source(path=path, line=1), lines=field_lines(data))
            registry[path.stem] = (person, path)
    return registry


def _read_person_fields(
    reader: FieldReader, data: YamlMap, prefix: str, person_id: str | None, *, default_role: str
) -> Person | None:
    name = reader.text(data, "name", prefix, required=True)
    role = reader.text(data, "role", prefix, default=default_role).lower()
    group = reader.text(data, "group", prefix, default=_default_group(role) or "cast").lower()
    _check_taxonomy(reader, data, prefix, role, group)
    social: list[tuple[str, str]] = []
    if data.get("social") is not None:
        links = reader.mapping(data["social"], prefix + "social", reader.line(data, "social"))
        for label in links or {}:
            url = reader.url(links, str(label), f"{prefix}social.", https=False) if links else None
            if url:
                social.append((str(label), url))
    if not name:
        return None
    return Person(
        id=person_id,
        name=name,
        role=role,
        group=group,
        bio=reader.text(data, "bio", prefix),
        url=reader.url(data, "url", prefix),
        image=_image(reader, data, "image", prefix),
        social=tuple(social),
    )


def _default_group(role: str) -> str | None:
    """The taxonomy group a role belongs to (the first, for roles listed twice such as editor)."""
    if role in podcast_spec.PERSON_TAXONOMY["cast"]:
        return "cast"
    return next((group for group, roles in podcast_spec.PERSON_TAXONOMY.items() if role in roles), None)


def _check_taxonomy(reader: FieldReader, data: YamlMap, prefix: str, role: str, group: str) -> None:
    taxonomy = podcast_spec.PERSON_TAXONOMY
    if group not in taxonomy:
        reader.error(
            "person-taxonomy",
            prefix + "group",
            reader.line(data, "group"),
            f"'{group}' is not a group of the Podcasting 2.0 person taxonomy",
            f"use one of: {', '.join(sorted(taxonomy))}",
        )
    elif role not in taxonomy[group]:
        known = any(role in roles for roles in taxonomy.values())
        reader.error(
            "person-taxonomy",
            prefix + ("group" if known and "group" in data else "role"),
            reader.line(data, "role"),
            f"'{role}' is not a role of the group '{group}'"
            if known
            else f"'{role}' is not a role of the Podcasting 2.0 person taxonomy",
            f"set `group:` to the role's group ({_default_group(role)})"
            if known
            else "use host, co-host, guest, producer, editor... (see the README)",
        )


def _read_people(
    reader: FieldReader,
    data: YamlMap,
    key: str,
    registry: dict[str, tuple[Person, Path]],
    default_role: str,
) -> tuple[Person, ...]:
    def read(value: object, field: str, line: int) -> Person | None:
        if isinstance(value, str):
            return _lookup(reader, registry, value.strip(), field, line)
        item = reader.mapping(value, field, line)
        if item is None:
            return None
        if "id" in item:
            reader.check_keys(item, _REFERENCE_KEYS, field + ".")
            person = _lookup(reader, registry, reader.text(item, "id", field + "."), field + ".id", line)
            if person is None:
                return None
            role = reader.text(item, "role", field + ".", default=person.role).lower()
            group = reader.text(item, "group", field + ".", default=_default_group(role) or "cast")
            if "role" in item or "group" in item:
                # Only what this reference changes: the registry file reports its own values.
                _check_taxonomy(reader, item, field + ".", role, group.lower())
            return Person(
                id=person.id,
                name=person.name,
                role=role,
                group=group.lower(),
                bio=reader.text(item, "bio", field + ".", default=person.bio),
                url=person.url,
                image=person.image,
                social=person.social,
                source=person.source,
                lines=person.lines,
            )
        reader.check_keys(item, _PERSON_KEYS, field + ".")
        return _read_person_fields(reader, item, field + ".", None, default_role=default_role)

    return reader.each(data, key, "", read)


def _lookup(
    reader: FieldReader, registry: dict[str, tuple[Person, Path]], person_id: str, field: str, line: int
) -> Person | None:
    if person_id in registry:
        return registry[person_id][0]
    close = difflib.get_close_matches(person_id, list(registry), n=1, cutoff=0.5)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif registry:
        hint = f"known guests: {', '.join(sorted(registry))}"
    else:
        hint = f"create {GUESTS_DIR}/{person_id}.yaml, or write the guest inline with `name:`"
    reader.error("unknown-guest", field, line, f"no guest '{person_id}' in {GUESTS_DIR}/", hint)
    return None


# -- the show -------------------------------------------------------------------------------------


def _load_show(
    root: Path, registry: dict[str, tuple[Person, Path]], problems: list[Problem], read: Reader
) -> Show | None:
    path = root / FEED_FILE
    if (path.is_symlink() or (path.exists() and not path.is_file())) and (why := unsafe_file(path, root)):
        problems.append(_unsafe_problem(path, why))
        return None
    if not path.is_file():
        problems.append(
            Problem(
                rule="missing-file",
                path=path,
                message="no feed.yaml in this folder",
                hint="run the command inside a show folder, give --show DIR, or create one with `entretiens init`",
            )
        )
        return None
    data = _read_mapping(path, problems, read)
    if data is None:
        return None
    reader = FieldReader(path, problems)
    reader.check_keys(data, _SHOW_KEYS)
    base_url = _base_url(reader, data)
    timezone = reader.text(data, "timezone", default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        reader.error(
            "invalid-timezone",
            "timezone",
            reader.line(data, "timezone"),
            f"'{timezone}' is not a time zone name",
            "use an IANA name such as Europe/Paris or UTC",
        )
    language = reader.text(data, "language", required=True)
    if language and not podcast_spec.is_valid_language(language):
        reader.error(
            "invalid-language",
            "language",
            reader.line(data, "language"),
            f"'{language}' is not an ISO 639-1 language code",
            "write two letters, optionally with a region: fr, fr-FR, en-us",
        )
    owner = None
    if "owner" not in data:
        reader.missing(data, "owner")
    elif (owner_data := reader.mapping(data["owner"], "owner", reader.line(data, "owner"))) is not None:
        reader.check_keys(owner_data, {"name", "email"}, "owner.")
        owner = Owner(
            name=reader.text(owner_data, "name", "owner.", required=True),
            email=reader.email(owner_data, "email", "owner.", required=True),
        )
    show_type = reader.choice(data, "type", podcast_spec.SHOW_TYPES, default="episodic")
    medium = reader.choice(data, "medium", podcast_spec.MEDIUMS, default="podcast")
    guid = _guid(reader, data)
    if guid and not is_uuid(guid, version=5):
        reader.error(
            "invalid-value",
            "guid",
            reader.line(data, "guid"),
            f"'{guid}' is not a version 5 UUID, which the Podcasting 2.0 namespace requires",
            "remove the line: the GUID is then computed from the feed URL, as the namespace specifies",
        )
        guid = None
    elif guid:
        guid = str(uuid.UUID(guid))
    show = Show(
        root=root,
        title=reader.text(data, "title", required=True),
        subtitle=reader.text(data, "subtitle"),
        description=reader.text(data, "description", required=True),
        language=language,
        base_url=base_url,
        link=reader.url(data, "link") or base_url,
        timezone=timezone,
        author=reader.text(data, "author", required=True),
        owner=owner or Owner(name="", email=""),
        cover_image=_image(reader, data, "image", "", required=True) or "",
        categories=_categories(reader, data),
        explicit=reader.boolean(data, "explicit"),
        show_type=show_type,
        copyright=reader.text(data, "copyright"),
        hosts=_read_people(reader, data, "hosts", registry, "host"),
        funding=reader.each(data, "funding", "", lambda v, f, line: _funding(reader, v, f, line)),
        locked=reader.boolean(data, "locked", default=True),
        podcast_guid=guid or "",
        medium=medium,
        license=_license(reader, data),
        location=_location(reader, data),
        block=reader.boolean(data, "block"),
        complete=reader.boolean(data, "complete"),
        new_feed_url=reader.url(data, "new_feed_url"),
        subscribe=_subscribe(reader, data),
        tag_audio=reader.boolean(data, "tag_audio"),
        feed_stylesheet=reader.boolean(data, "feed_stylesheet"),
        websub_hub=reader.url(data, "websub_hub", https=False),
        feed_limit=reader.positive_int(data, "feed_limit"),
        deploy=_deploy_settings(reader, data),
        remote_audio=_remote_audio_settings(reader, data),
        source=Source(path=path, line=1),
        lines=field_lines(data),
    )
    if any(p.severity == "error" and p.path == path for p in problems):
        return None if not show.title else show
    return show


def _deploy_settings(reader: FieldReader, data: YamlMap) -> DeploySettings:
    """feed.yaml's ``deploy:``: where to upload. Credentials are not accepted here, on purpose."""
    value = data.get("deploy")
    if value is None:
        return DeploySettings()
    item = reader.mapping(value, "deploy", reader.line(data, "deploy"))
    if item is None:
        return DeploySettings()
    reader.check_keys(item, {"to", "endpoint_url", "region", "podcast_index", "podping"}, "deploy.")
    return DeploySettings(
        to=reader.text(item, "to", "deploy.") or None,
        endpoint_url=reader.url(item, "endpoint_url", "deploy.", https=False),
        region=reader.text(item, "region", "deploy.") or None,
        podcast_index=reader.boolean(item, "podcast_index", "deploy.", default=True),
        podping=reader.url(item, "podping", "deploy."),
    )


def _base_url(reader: FieldReader, data: YamlMap) -> str:
    """The address of the published folder, ending in "/"; every published URL starts with it."""
    base_url = reader.url(data, "base_url", required=True) or ""
    parts = urlsplit(base_url)
    problem = None
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        problem = "has a '?' or '#' part, which would end up in the middle of every published URL"
    elif parts.username or parts.password:
        problem = "holds a user name or password, which the feed would show to every listener"
    if problem:
        reader.error(
            "invalid-url",
            "base_url",
            reader.line(data, "base_url"),
            f"base_url {problem}",
            "write only the folder's address, such as https://example.org/podcast/",
        )
        return ""
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    return base_url


_SIZE = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,6})?)\s*([kmgt]i?b|b|bytes)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})


def _remote_audio_settings(reader: FieldReader, data: YamlMap) -> RemoteAudioSettings:
    """feed.yaml's ``remote_audio:``: how big and how slow a remote recording may be."""
    value = data.get("remote_audio")
    if value is None:
        return RemoteAudioSettings()
    item = reader.mapping(value, "remote_audio", reader.line(data, "remote_audio"))
    if item is None:
        return RemoteAudioSettings()
    reader.check_keys(item, {"max_size", "deadline"}, "remote_audio.")
    max_size: int | None = None
    deadline: float | None = None
    if "max_size" in item:
        raw = item["max_size"]
        match = _SIZE.match(str(raw)) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else None
        if match and float(match.group(1)) > 0:
            max_size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()])
        else:
            reader.error(
                "invalid-value",
                "remote_audio.max_size",
                reader.line(item, "max_size"),
                f"'{raw}' is not a size",
                "write a number of bytes or a size with its unit: 500 MB, 2 GiB",
            )
    if "deadline" in item:
        raw = item["deadline"]
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= 7 * 86400:
            deadline = float(raw)
        else:
            reader.error(
                "invalid-value",
                "remote_audio.deadline",
                reader.line(item, "deadline"),
                f"'{raw}' is not a number of seconds",
                "write the seconds one download may take, e.g. 3600 for an hour",
            )
    return RemoteAudioSettings(max_size=max_size, deadline=deadline)


def _guid(reader: FieldReader, data: YamlMap) -> str | None:
    """A GUID written in the YAML: text only, as YAML would turn `guid: 0123` into the number 83."""
    value = data.get("guid")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        reader.wrong_type("guid", reader.line(data, "guid"), value, "text", 'quote it: guid: "..."')
        return None
    return value.strip()


def _image(reader: FieldReader, data: YamlMap, key: str, prefix: str, *, required: bool = False) -> str | None:
    text = reader.text(data, key, prefix, required=required)
    if not text:
        return None
    line = reader.line(data, key)
    if "://" in text:
        return reader.check_url(text, prefix + key, line)
    if Path(text).suffix.lower() not in ARTWORK_FORMATS:
        reader.error(
            "artwork-format",
            prefix + key,
            line,
            f"'{text}' is not a .jpg, .jpeg or .png file",
            "Apple Podcasts accepts JPEG and PNG artwork only",
        )
        return None
    return _show_file(reader, text, prefix + key, line)


#: Files of the show that are never published, whatever links to them: people's contact
#: details and notes (guests/*.yaml), the show's own records, the caches.
_PRIVATE_SUFFIXES = frozenset({".yaml", ".yml"})
_PRIVATE_FOLDERS = frozenset({".entretiens", ".git"})


def _show_file(reader: FieldReader, text: str, field: str, line: int | None) -> str | None:
    """A file of the show folder, which must exist, stay inside it and be what its name says.

    Everything named here is copied into public/: a symlink must not smuggle in a private
    file (a photo linked to ``guests/x.yaml`` would publish an e-mail address and a phone).
    """
    root = show_root(reader.path)
    if _plain_media(root, text):
        if reader.named is not None:
            reader.named.append(text)
        return text
    if reader.named is not None:
        reader.named.append(None)
    named = root / text
    if not named.exists() and not named.is_symlink():
        reader.error(
            "missing-file", field, line, f"file '{text}' not found in the show folder", "check the path and its case"
        )
        return None
    try:
        target = named.resolve(strict=True)
    except (OSError, RuntimeError):
        target = None
    if target is None or root not in target.parents:
        where = "is a broken symbolic link or a loop" if target is None else "is outside the show folder"
        reader.error("invalid-path", field, line, f"'{text}' {where}", "keep media in the show folder, as plain files")
        return None
    # With the real path found above: every media file was resolved twice (one lstat per part).
    if (why := _unsafe_target(target, root.resolve())) is not None:
        reader.error("invalid-path", field, line, f"'{text}' {why}", "keep media in the show folder, as plain files")
        return None
    relative = target.relative_to(root)
    if target.suffix.lower() != named.suffix.lower():
        reader.error(
            "invalid-path",
            field,
            line,
            f"'{text}' links to {relative.as_posix()}, which is not a {named.suffix or 'such'} file",
            "link to the file itself, or copy it here",
        )
        return None
    if target.suffix.lower() in _PRIVATE_SUFFIXES or _PRIVATE_FOLDERS & set(relative.parts):
        reader.error(
            "invalid-path", field, line, f"'{text}' is a private file of the show, never published", "name a media file"
        )
        return None
    return relative.as_posix()


def _plain_media(root: Path, text: str) -> bool:
    """Whether :func:`_show_file` would take ``text`` as it is, known from one ``lstat`` per part.

    True when it names, by plain parts (no empty part, ``.`` or ``..``), a regular file under
    real folders, none of them a link, and nothing private: then the file is its own real path.
    Anything else goes the long way, which says what is wrong. ``root`` is real (the loader
    resolves it).
    """
    parts = text.split("/")
    if text.lower().endswith((".yaml", ".yml")) or any(
        part in ("", ".", "..") or part in _PRIVATE_FOLDERS for part in parts
    ):
        return False
    path = str(root)
    try:
        for part in parts[:-1]:
            path = f"{path}/{part}"
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return False
        return stat.S_ISREG(os.lstat(f"{path}/{parts[-1]}").st_mode)
    except (OSError, ValueError):
        return False


def show_root(path: Path) -> Path:
    """The show folder of one of its YAML files: feed.yaml sits in it, episodes and guests one level down."""
    return path.parent if path.name == FEED_FILE else path.parent.parent


def _categories(reader: FieldReader, data: YamlMap) -> tuple[Category, ...]:
    found: list[Category] = []
    if "categories" not in data:
        reader.missing(data, "categories")
        return ()

    def read(value: object, field: str, line: int) -> None:
        if isinstance(value, str):
            _category(reader, value, None, field, line, found)
        elif isinstance(value, dict) and len(value) == 1:
            ((name, subs),) = value.items()
            subs = subs if isinstance(subs, list) else [subs]
            if not subs or subs == [None]:
                _category(reader, str(name), None, field, line, found)
            for sub in subs:
                if sub is not None:
                    _category(reader, str(name), str(sub), field, line, found)
        else:
            reader.wrong_type(field, line, value, "a category name, or `{Category: [Subcategory]}`")

    reader.each(data, "categories", "", read)
    if not found and not any(p.rule == "invalid-category" and p.path == reader.path for p in reader.problems):
        reader.error(
            "missing-field",
            "categories",
            reader.line(data, "categories"),
            "at least one Apple Podcasts category is required",
            "add one, e.g. `categories: [Society & Culture]`",
        )
    return tuple(found)


def _category(reader: FieldReader, name: str, sub: str | None, field: str, line: int, found: list[Category]) -> None:
    apple = podcast_spec.APPLE_CATEGORIES
    if name not in apple:
        close = [c for c in apple if c.lower() == name.lower()] or [
            c for c in apple if sub is None and name in apple[c]
        ]
        hint = f"did you mean '{close[0]}'?" if close else "see Apple's list in the README"
        reader.error("invalid-category", field, line, f"'{name}' is not an Apple Podcasts category", hint)
        return
    if sub is not None and sub not in apple[name]:
        close = [s for s in apple[name] if s.lower() == sub.lower()]
        hint = (
            f"did you mean '{close[0]}'?" if close else f"subcategories of {name}: {', '.join(apple[name]) or 'none'}"
        )
        reader.error("invalid-category", field, line, f"'{sub}' is not a subcategory of '{name}'", hint)
        return
    found.append(Category(name=name, subcategory=sub))


def _funding(reader: FieldReader, value: object, field: str, line: int) -> Funding | None:
    item = reader.mapping(value, field, line)
    if item is None:
        return None
    reader.check_keys(item, {"url", "text"}, field + ".")
    url = reader.url(item, "url", field + ".", required=True)
    text = reader.text(item, "text", field + ".", required=True)
    if len(text) > PODCAST_TEXT_LIMIT:
        reader.error("invalid-value", field + ".text", reader.line(item, "text"), "is longer than 128 characters")
    return Funding(url=url, text=text) if url and text else None


def _license(reader: FieldReader, data: YamlMap) -> License | None:
    value = data.get("license")
    line = reader.line(data, "license")
    if value is None:
        return None
    if isinstance(value, str):
        if not podcast_spec.is_known_license(value):
            reader.error(
                "invalid-value",
                "license",
                line,
                f"'{value}' is not a known license identifier",
                "write `license: {id: ..., url: ...}` with the license's URL",
            )
            return None
        return License(identifier=value)
    item = reader.mapping(value, "license", line)
    if item is None:
        return None
    reader.check_keys(item, {"id", "url"}, "license.")
    identifier = reader.text(item, "id", "license.", required=True)
    url = reader.url(item, "url", "license.")
    if identifier and not url and not podcast_spec.is_known_license(identifier):
        reader.error("missing-field", "license.url", reader.line(item, "id"), "an unknown license needs its url")
    return License(identifier=identifier, url=url) if identifier else None


def _location(reader: FieldReader, data: YamlMap) -> Location | None:
    value = data.get("location")
    if value is None:
        return None
    item = reader.mapping(value, "location", reader.line(data, "location"))
    if item is None:
        return None
    reader.check_keys(item, {"name", "geo", "osm", "country"}, "location.")
    rules = {
        "geo": (_is_geo, "is not a geo: URI of a place on Earth", 'write "geo:48.8566,2.3522" (latitude, longitude)'),
        "osm": (
            lambda text: bool(re.fullmatch(r"[NWR]\d+(#\d+)?", text)),
            "is not an OpenStreetMap id",
            "write N, W or R followed by the id: R7444",
        ),
        "country": (
            lambda text: text in podcast_spec.COUNTRY_CODES,
            "is not an ISO 3166-1 alpha-2 country code",
            "write two capital letters: FR",
        ),
    }
    values: dict[str, str | None] = {}
    for key, (valid, message, hint) in rules.items():
        text = reader.text(item, key, "location.") or None
        if text and not valid(text):
            reader.error("invalid-value", f"location.{key}", reader.line(item, key), f"'{text}' {message}", hint)
            text = None
        values[key] = text
    name = reader.text(item, "name", "location.", required=True)
    return Location(name=name, geo=values["geo"], osm=values["osm"], country=values["country"]) if name else None


def _is_geo(text: str) -> bool:
    """A geo: URI (RFC 5870) whose latitude and longitude are on Earth."""
    match = re.fullmatch(r"geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;u=\d+(?:\.\d+)?)?", text)
    return match is not None and abs(float(match[1])) <= 90 and abs(float(match[2])) <= 180


def _subscribe(reader: FieldReader, data: YamlMap) -> tuple[tuple[str, str], ...]:
    value = data.get("subscribe")
    if value is None:
        return ()
    item = reader.mapping(value, "subscribe", reader.line(data, "subscribe"))
    if item is None:
        return ()
    links = []
    for label in item:
        url = reader.url(item, str(label), "subscribe.", https=False)
        if url:
            links.append((str(label), url))
    return tuple(links)


# -- episodes -------------------------------------------------------------------------------------


def _episode_context(zone: tzinfo, language: str, registry: dict[str, tuple[Person, Path]]) -> str:
    """A digest of what an episode is built from besides its file: the show's time zone and
    language, and the guests' registry (people, their files and lines)."""
    hashed = hashlib.sha256(repr((str(zone), language)).encode("utf-8", "surrogatepass"))
    for person_id, (person, path) in sorted(registry.items()):
        hashed.update(repr((person_id, person, person.source, person.lines, path)).encode("utf-8", "surrogatepass"))
    return hashed.hexdigest()[:32]


def _kept_episode(
    parses: ParseCache,
    context: str,
    root: Path,
    path: Path,
    zone: tzinfo,
    language: str,
    registry: dict[str, tuple[Person, Path]],
    problems: list[Problem],
) -> Episode | None:
    """:func:`_load_episode`, or the episode it built from the same file last time.

    Kept with the files it names: they are checked again (one ``lstat`` per part) before the
    episode is used. Only an episode whose file raised no problem at all is kept, and only when
    every file it names went through that quick check; anything else is built as usual.
    """
    stamp = parses.stamp(path)
    key = f"episode {context} {path}"
    if stamp is not None and (found := parses.get(key, stamp)) is not None:
        try:
            entry = found[0]
            if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], list):
                raise ValueError("not an entry")
            episode = episodecache.decode(entry[1], paths=(path,))
            if type(episode) is Episode and all(type(text) is str and _plain_media(root, text) for text in entry[0]):
                # Its parse stays in the store: a change of the show's settings needs it again.
                parses.touch(str(path), stamp)
                return episode
        except (ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError):
            pass
        parses.forget(key)
    before = len(problems)
    checked: list[str | None] = []
    episode = _load_episode(
        path, zone, language, registry, problems, lambda file: parses.read_yaml(file, stamp), named=checked
    )
    if episode is None or stamp is None or len(problems) != before or None in checked or not parses.keeps(stamp):
        return episode
    _keep_episode(parses, key, stamp, episode, checked)
    return episode


def _keep_episode(parses: ParseCache, key: str, stamp: Stamp, episode: Episode, named: list[str | None]) -> None:
    """Keep an episode when what would be read back is exactly it."""
    try:
        text = yamlcache.dumps([named, episodecache.encode(episode)])
        again = episodecache.decode(json.loads(text)[1], paths=(episode.path,))
    except (episodecache.Unsupported, ValueError, TypeError, IndexError, KeyError, RecursionError):
        return
    if episodecache.same(again, episode):
        parses.put_json(key, stamp, text)


def _load_episode(
    path: Path,
    zone: tzinfo,
    language: str,
    registry: dict[str, tuple[Person, Path]],
    problems: list[Problem],
    read: Reader,
    *,
    named: list[str | None] | None = None,
) -> Episode | None:
    data = _read_mapping(path, problems, read)
    if data is None:
        return None
    reader = FieldReader(path, problems, named=named)
    slug = path.stem
    if not _SLUG.match(slug):
        reader.error(
            "invalid-slug",
            "file name",
            None,
            f"'{slug}' cannot name an episode page",
            "rename the file with lower-case letters, digits and dashes only, e.g. 012-jane-doe.yaml",
        )
    elif slug in RESERVED_SLUGS:
        reader.error(
            "invalid-slug", "file name", None, f"'{slug}' is reserved for the site's own pages", "rename the file"
        )
    reader.check_keys(data, _EPISODE_KEYS)
    before = len(problems)
    date = reader.moment(data, "date", zone)
    draft = reader.boolean(data, "draft")
    audio, declared = _audio(reader, data, draft=draft)
    episode_type = reader.choice(data, "type", podcast_spec.EPISODE_TYPES, default="full")
    season_name = reader.text(data, "season_name") or None
    if season_name and len(season_name) > PODCAST_TEXT_LIMIT:
        reader.error("invalid-value", "season_name", reader.line(data, "season_name"), "is longer than 128 characters")
    guid = _guid(reader, data)
    episode = Episode(
        slug=slug,
        path=path,
        title=reader.text(data, "title", required=True),
        date=date,  # type: ignore[arg-type]  # checked below
        audio=audio or "",
        declared_audio=declared,
        number=reader.positive_int(data, "number"),
        season=reader.positive_int(data, "season"),
        season_name=season_name,
        episode_type=episode_type,
        summary=reader.text(data, "summary"),
        notes=reader.text(data, "notes"),
        guests=_read_people(reader, data, "guests", registry, "guest"),
        links=reader.each(data, "links", "", lambda v, f, line: _link(reader, v, f, line)),
        quote=reader.text(data, "quote"),
        chapters=_chapters(reader, data),
        soundbites=reader.each(data, "soundbites", "", lambda v, f, line: _soundbite(reader, v, f, line)),
        transcripts=_transcripts(reader, data, language),
        cover_image=_image(reader, data, "image", ""),
        explicit=reader.optional_boolean(data, "explicit"),
        guid=guid or "",
        draft=draft,
        imported=reader.boolean(data, "imported"),
        lines=field_lines(data),
    )
    if len(problems) > before and any(p.severity == "error" for p in problems[before:]):
        return None
    return episode


def _audio(reader: FieldReader, data: YamlMap, *, draft: bool = False) -> tuple[str | None, DeclaredAudio | None]:
    value = data.get("audio")
    if isinstance(value, dict):
        return _declared_audio(reader, data)
    text = reader.text(data, "audio", required=True)
    if not text:
        return None, None
    line = reader.line(data, "audio")
    if "://" in text:
        return reader.check_url(text, "audio", line), None
    root = show_root(reader.path)
    if draft and not (root / text).exists() and not (root / text).is_symlink():
        # `entretiens new` names the recording before it exists: a draft is not published, so
        # its missing audio must not block the rest of the show.
        reader.problems.append(
            Problem(
                rule="missing-file",
                path=reader.path,
                line=line,
                field="audio",
                message=f"file '{text}' not found in the show folder (yet: this episode is a draft)",
                hint="put the recording there before publishing the episode",
                as_note=True,
            )
        )
        return text, None
    return _show_file(reader, text, "audio", line), None


def _declared_audio(reader: FieldReader, data: YamlMap) -> tuple[str | None, DeclaredAudio | None]:
    """``audio: {url, length, type, duration}``: a recording left at another host, as its feed declared it.

    What is live is history: the URL is kept even when it is plain http (a warning says so).
    """
    item = reader.mapping(data["audio"], "audio", reader.line(data, "audio"))
    if item is None:
        return None, None
    reader.check_keys(item, {"url", "length", "type", "duration"}, "audio.")
    url = reader.url(item, "url", "audio.", required=True, https=False)
    length = reader.positive_int(item, "length", "audio.")
    if length is None and "length" not in item:
        reader.missing(item, "length", "audio.")
    mime = reader.text(item, "type", "audio.", required=True)
    if mime and not re.fullmatch(r"(audio|video)/[\w.+-]+", mime):
        reader.error("invalid-value", "audio.type", reader.line(item, "type"), f"'{mime}' is not an audio type",
                     "write the type the old feed declared, e.g. audio/mpeg")  # fmt: skip
        mime = ""
    seconds = reader.timestamp(item.get("duration"), "audio.duration", reader.line(item, "duration"))
    if "duration" not in item:
        reader.missing(item, "duration", "audio.")
    if url and url.lower().startswith("http://"):
        reader.problems.append(
            Problem(
                rule="audio-http",
                path=reader.path,
                line=reader.line(item, "url"),
                field="audio.url",
                message=f"'{url}' is served over plain http",
                hint="kept as it is, since subscribers' apps know the episode by it; serve the file over https "
                "at the old host, or download it into audio/ and publish it from there",
            )
        )
    if not url or length is None or not mime or seconds is None:
        return url, None
    return url, DeclaredAudio(length=length, mime_type=mime, duration=timedelta(seconds=seconds))


def _link(reader: FieldReader, value: object, field: str, line: int) -> Link | None:
    item = reader.mapping(value, field, line)
    if item is None:
        return None
    reader.check_keys(item, {"title", "url"}, field + ".")
    title = reader.text(item, "title", field + ".", required=True)
    # Cited pages are often older sites: plain http is allowed here.
    url = reader.url(item, "url", field + ".", required=True, https=False)
    return Link(title=title, url=url, source=Source(path=reader.path, line=line)) if title and url else None


def _chapters(reader: FieldReader, data: YamlMap) -> tuple[Chapter, ...]:
    def read(value: object, field: str, line: int) -> Chapter | None:
        item = reader.mapping(value, field, line)
        if item is None:
            return None
        reader.check_keys(item, {"start", "title", "url", "image"}, field + ".")
        if "start" not in item:
            reader.missing(item, "start", field + ".")
            return None
        start = reader.timestamp(item["start"], field + ".start", reader.line(item, "start"))
        title = reader.text(item, "title", field + ".", required=True)
        url = reader.url(item, "url", field + ".", https=False)
        image = _image(reader, item, "image", field + ".")
        if start is None or not title:
            return None
        return Chapter(start=start, title=title, url=url, image=image, source=Source(path=reader.path, line=line))

    chapters = reader.each(data, "chapters", "", read)
    for index, (previous, chapter) in enumerate(itertools.pairwise(chapters), start=1):
        if chapter.start <= previous.start:
            line = chapter.source.line if chapter.source else None
            reader.error(
                "chapter-order",
                f"chapters[{index}].start",
                line,
                f"chapter '{chapter.title}' does not start after '{previous.title}'",
                "list chapters in order, each with its own start time",
            )
    return chapters


def _soundbite(reader: FieldReader, value: object, field: str, line: int) -> Soundbite | None:
    item = reader.mapping(value, field, line)
    if item is None:
        return None
    reader.check_keys(item, {"start", "duration", "title"}, field + ".")
    for key in ("start", "duration"):
        if key not in item:
            reader.missing(item, key, field + ".")
            return None
    start = reader.timestamp(item["start"], field + ".start", reader.line(item, "start"))
    duration = reader.timestamp(item["duration"], field + ".duration", reader.line(item, "duration"))
    title = reader.text(item, "title", field + ".")
    if len(title) > PODCAST_TEXT_LIMIT:
        reader.error("invalid-value", field + ".title", reader.line(item, "title"), "is longer than 128 characters")
    if duration is not None and duration <= 0:
        reader.error("invalid-value", field + ".duration", reader.line(item, "duration"), "must be more than 0 seconds")
        return None
    if start is None or duration is None:
        return None
    return Soundbite(start=start, duration=duration, title=title, source=Source(path=reader.path, line=line))


def _transcripts(reader: FieldReader, data: YamlMap, language: str) -> tuple[Transcript, ...]:
    def read(value: object, field: str, line: int) -> Transcript | None:
        lang = language
        if isinstance(value, str):
            text = value.strip()
        else:
            item = reader.mapping(value, field, line)
            if item is None:
                return None
            reader.check_keys(item, {"file", "language"}, field + ".")
            text = reader.text(item, "file", field + ".", required=True)
            lang = reader.text(item, "language", field + ".", default=language)
            if not podcast_spec.is_valid_language(lang):
                reader.error(
                    "invalid-language",
                    field + ".language",
                    reader.line(item, "language"),
                    f"'{lang}' is not a language code",
                    "write fr, en, fr-FR...",
                )
        if not text:
            return None
        if Path(text).suffix.lower() not in _TRANSCRIPT_SUFFIXES:
            reader.error(
                "transcript-format",
                field,
                line,
                f"'{text}' is not a transcript format podcast apps read",
                "use .vtt, .srt, .json (Podcasting 2.0), .html or .txt",
            )
            return None
        found = _show_file(reader, text, field, line)
        if found is None:
            return None
        if Path(found).suffix.lower() != Path(text).suffix.lower():
            # A link to another kind of file (a show file, with its private fields) is no transcript.
            reader.error(
                "transcript-format",
                field,
                line,
                f"'{text}' is a link to {found}, which is not a {Path(text).suffix} transcript",
                "put the transcript file itself in transcripts/",
            )
            return None
        return Transcript(path=Path(found), language=lang, source=Source(path=reader.path, line=line))

    return reader.each(data, "transcript", "", read)


def _check_episode_set(episodes: list[Episode], state: PublishState, problems: list[Problem]) -> None:
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
