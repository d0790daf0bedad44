"""A feed's ``<channel>`` into feed.yaml's data: title, owner, artwork, categories, and the rest.

The show's own fields, apart from its episodes': what a show folder needs that a feed may
lack (an owner's e-mail, artwork, a category Apple still knows) is written as a placeholder
or mapped, and said in the report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

from .. import podcast_spec
from . import _values as values
from ._elements import ATOM, DC_CREATOR, IT, PC, boolean, image_url, read_person
from ._report import Report

#: What feed.yaml says until the host gives the show's new address: not a URL, so `publish`
#: refuses it with a located error that says what to write.
BASE_URL_PLACEHOLDER = "SET-ME: the https address where public/ will be served (then run publish)"


def self_link(channel: ElementTree.Element) -> str | None:
    for link in channel.findall(ATOM + "link"):
        if link.get("rel") == "self" and podcast_spec.is_web_url(link.get("href") or ""):
            return (link.get("href") or "").strip()
    return None


def read_show(
    channel: ElementTree.Element, *, base_url: str | None, feed_url: str | None, report: Report
) -> dict[str, Any]:
    def text(tag: str) -> str:
        return values.text_of(channel.findtext(tag))

    title = text("title") or text(IT + "title")
    if not title:
        title = "Untitled show"
        report.add("approx", "show", "title", "the feed has no title: 'Untitled show' written")
    feed: dict[str, Any] = {"title": title}
    if subtitle := values.plain_text(text(IT + "subtitle")):
        feed["subtitle"] = subtitle
    description = text("description") or text(IT + "summary")
    feed["description"] = values.markdown_notes(description) or title
    if not description:
        report.add("approx", "show", "description", "the feed has no description: the title stands in for it")
    language = text("language")
    code = language.replace("_", "-")
    if code and podcast_spec.is_valid_language(code):
        feed["language"] = code
    else:
        feed["language"] = "en"
        report.add("approx", "show", "language", f"'{language}' is not a language code: 'en' written, correct it")
    if base_url:
        feed["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    else:
        feed["base_url"] = BASE_URL_PLACEHOLDER
        report.base_url_missing = True
    link = text("link")
    if podcast_spec.is_web_url(link, https_only=True):
        feed["link"] = link
    elif link:
        report.add("dropped", "show", "link", f"'{link}' is not an https address: the new home page stands in for it")
    author = text(IT + "author") or text(DC_CREATOR) or text("managingEditor")
    owner = channel.find(IT + "owner")
    owner_name = values.text_of(owner.findtext(IT + "name")) if owner is not None else ""
    owner_email = values.text_of(owner.findtext(IT + "email")) if owner is not None else ""
    feed["author"] = author or owner_name or title
    if not author:
        report.add("approx", "show", "author", f"no itunes:author: '{feed['author']}' written")
    feed["owner"] = {"name": owner_name or feed["author"], "email": owner_email or "SET-ME@example.invalid"}
    if not owner_email:
        report.add("dropped", "show", "owner.email", "no itunes:owner e-mail: set the address Apple may write to")
    image = image_url(channel)
    if image:
        feed["image"] = image
    else:
        feed["image"] = "SET-ME.jpg"
        report.add("dropped", "show", "image", "no https artwork in the feed: put the show's artwork in the folder")
    feed["categories"] = _categories(channel, report)
    explicit = boolean(text(IT + "explicit"))
    if explicit is not None:
        feed["explicit"] = explicit
    kind = text(IT + "type").lower()
    if kind in ("episodic", "serial"):
        feed["type"] = kind
    if copyright_ := text("copyright"):
        feed["copyright"] = copyright_
    hosts = [read_person(p, report, "show") for p in channel.findall(PC + "person")]
    if hosts := [h for h in hosts if h]:
        feed["hosts"] = hosts
    funding = []
    for element in channel.findall(PC + "funding"):
        url = values.text_of(element.get("url"))
        label = values.text_of(element.text) or "Support the show"
        if podcast_spec.is_web_url(url, https_only=True):
            funding.append({"url": url, "text": label[: podcast_spec.PODCAST_TEXT_LIMIT]})
        else:
            report.add("dropped", "show", "funding", f"'{url}' is not an https address")
    if funding:
        feed["funding"] = funding
    locked = values.text_of(channel.findtext(PC + "locked")).lower()
    if locked in ("yes", "no"):
        feed["locked"] = locked == "yes"
    if license_ := values.text_of(channel.findtext(PC + "license")):
        license_element = channel.find(PC + "license")
        license_url = values.text_of(license_element.get("url")) if license_element is not None else ""
        feed["license"] = {"id": license_, "url": license_url} if license_url else license_
    location = channel.find(PC + "location")
    if location is not None and values.text_of(location.text):
        place: dict[str, str] = {"name": values.text_of(location.text)}
        for key in ("geo", "osm"):
            if location.get(key):
                place[key] = values.text_of(location.get(key))
        feed["location"] = place
    for flag in ("block", "complete"):
        if text(IT + flag).lower() == "yes":
            feed[flag] = True
    medium = text(PC + "medium")
    if medium and medium != "podcast":
        feed["medium"] = medium
    return feed


def _categories(channel: ElementTree.Element, report: Report) -> list[Any]:
    found: list[tuple[str, str | None]] = []
    for top in channel.findall(IT + "category"):
        name = values.text_of(top.get("text"))
        subs: list[str | None] = [values.text_of(s.get("text")) for s in top.findall(IT + "category")] or [None]
        for sub in subs:
            mapped = _category(name, sub, report)
            if mapped and mapped not in found:
                found.append(mapped)
    if not found:
        report.add("dropped", "show", "categories", "no Apple category could be carried over: add one")
    result: list[Any] = []
    for name, sub in found:
        if sub is None:
            if name not in result and not any(isinstance(r, dict) and name in r for r in result):
                result.append(name)
            continue
        for entry in result:
            if isinstance(entry, dict) and name in entry:
                entry[name].append(sub)
                break
        else:
            if name in result:
                result.remove(name)
            result.append({name: [sub]})
    return result


def _category(name: str, sub: str | None, report: Report) -> tuple[str, str | None] | None:
    apple = podcast_spec.APPLE_CATEGORIES
    if name in apple and (sub is None or sub in apple[name]):
        return name, sub
    old = values.OLD_CATEGORIES.get((name, sub)) or values.OLD_CATEGORIES.get((name, None))
    if old:
        shown = f"{name} > {sub}" if sub else name
        new = f"{old[0]} > {old[1]}" if old[1] else old[0]
        report.add("approx", "show", "categories", f"'{shown}' is an old Apple category: mapped to '{new}'")
        return old
    if name in apple:
        report.add("approx", "show", "categories", f"'{sub}' is not a subcategory of '{name}': '{name}' kept")
        return name, None
    report.add("dropped", "show", "categories", f"'{name}' is not an Apple Podcasts category")
    return None
