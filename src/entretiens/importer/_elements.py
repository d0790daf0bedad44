"""What a feed's channel and its items share: the namespaced tag names, and the elements read alike.

An image, an explicit flag and a ``podcast:person`` are read the same way on the show and on
each episode; the channel's reader and the items' reader both take them from here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

from .. import podcast_spec
from ..podcast_spec import ATOM_NS, CONTENT_NS, ITUNES_NS, PODCAST_NS, PSC_NS
from . import _values as values
from ._report import Report

IT = "{" + ITUNES_NS + "}"


PC = "{" + PODCAST_NS + "}"


ATOM = "{" + ATOM_NS + "}"


PSC = "{" + PSC_NS + "}"


CONTENT = "{" + CONTENT_NS + "}encoded"


DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"


def image_url(element: ElementTree.Element) -> str | None:
    itunes = element.find(IT + "image")
    candidates = [values.text_of(itunes.get("href")) if itunes is not None else ""]
    candidates.append(values.text_of(element.findtext("image/url")))
    for url in candidates:
        if url and podcast_spec.is_web_url(url, https_only=True):
            return url
    return None


def boolean(text: str) -> bool | None:
    text = text.strip().lower()
    if text in ("yes", "true", "explicit"):
        return True
    if text in ("no", "false", "clean"):
        return False
    return None


def read_person(element: ElementTree.Element, report: Report, where: str) -> dict[str, Any] | None:
    name = values.text_of(element.text)
    if not name:
        return None
    person: dict[str, Any] = {"name": name}
    role = values.text_of(element.get("role")).lower() or None
    group = values.text_of(element.get("group")).lower() or None
    if role or group:
        problem = podcast_spec.person_role_problem(role, group)
        if problem is None:
            if role:
                person["role"] = role
            if group:
                person["group"] = group
        else:
            report.add("approx", where, "person", f"{name}: {problem[1]}: role and group left to their defaults")
    for key, attribute in (("url", "href"), ("image", "img")):
        url = values.text_of(element.get(attribute))
        if url and podcast_spec.is_web_url(url, https_only=key == "image"):
            person[key] = url
        elif url:
            report.add("dropped", where, f"person.{key}", f"{name}: '{url}' is not an https address")
    return person
