"""The show file, ``feed.yaml``: its keys, each checked and located, into a :class:`~entretiens.model.Show`."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import podcast_spec
from ..errors import Problem
from ..fieldreader import FieldReader
from ..model import (
    Category,
    DeploySettings,
    Funding,
    License,
    Location,
    Owner,
    Person,
    RemoteAudioSettings,
    Show,
    Source,
)
from ..podcast_spec import PODCAST_TEXT_LIMIT
from ..state import is_uuid
from ..yamlfile import YamlMap, field_lines
from ._files import FEED_FILE, Reader, image_file, read_mapping, unsafe_file, unsafe_problem
from ._guids import read_guid
from ._people import read_people

_SHOW_KEYS = {
    "title", "subtitle", "description", "language", "base_url", "link", "timezone", "author",
    "owner", "image", "categories", "explicit", "type", "copyright", "hosts", "funding", "locked",
    "guid", "medium", "license", "location", "block", "complete", "new_feed_url", "subscribe",
    "tag_audio", "websub_hub", "deploy", "feed_limit", "remote_audio", "feed_stylesheet",
}  # fmt: skip


def load_show(
    root: Path, registry: dict[str, tuple[Person, Path]], problems: list[Problem], read: Reader
) -> Show | None:
    path = root / FEED_FILE
    if (path.is_symlink() or (path.exists() and not path.is_file())) and (why := unsafe_file(path, root)):
        problems.append(unsafe_problem(path, why))
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
    data = read_mapping(path, problems, read)
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
    guid = read_guid(reader, data)
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
        cover_image=image_file(reader, data, "image", "", required=True) or "",
        categories=_categories(reader, data),
        explicit=reader.boolean(data, "explicit"),
        show_type=show_type,
        copyright=reader.text(data, "copyright"),
        hosts=read_people(reader, data, "hosts", registry, "host"),
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
