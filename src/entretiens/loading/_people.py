"""People: the guests' registry (``guests/*.yaml``) and the people an episode or the show lists.

Kept apart because the registry is read before the show and the episodes, which both refer
to it by id, and because registry files hold contact details that are read by nobody else.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path

from .. import podcast_spec
from ..errors import Problem
from ..fieldreader import FieldReader
from ..model import Person, Source
from ..yamlfile import YamlMap, field_lines
from ._files import GUESTS_DIR, Reader, image_file, read_mapping, yaml_files

_PERSON_KEYS = {"name", "bio", "url", "image", "role", "group"}


#: Registry files may also hold contact details, which are read by nobody and never published.
_REGISTRY_KEYS = _PERSON_KEYS | {"social", "email", "phone", "notes"}


_REFERENCE_KEYS = {"id", "bio", "role", "group"}


def load_registry(root: Path, problems: list[Problem], read: Reader) -> dict[str, tuple[Person, Path]]:
    registry: dict[str, tuple[Person, Path]] = {}
    for path in yaml_files(root / GUESTS_DIR, problems):
        data = read_mapping(path, problems, read)
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
        image=image_file(reader, data, "image", prefix),
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


def read_people(
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
