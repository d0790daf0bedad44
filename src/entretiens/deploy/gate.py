"""The GUID gate: what listeners already have must survive a deploy, unless the host says otherwise.

Podcast apps know an episode by its GUID and fetch it from its enclosure URL. Before a new feed
replaces the live one, both are read and compared: a live episode that would disappear, change
its GUID or its enclosure URL, or a show whose ``podcast:guid`` would change, stops the deploy
with a report, unless the host names the removal (``--allow-removal SLUG``) or forces it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..errors import DeployError
from ..podcast_spec import ATOM_NS, PODCAST_NS

#: Never resolve entities, load a DTD or touch the network while reading a feed from elsewhere.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
#: Attributes that hold URLs of files a feed points to.
_URL_ATTRIBUTES = ("url", "href", "img", "image", "src")


@dataclass(frozen=True, slots=True)
class Item:
    """What identifies a live episode for its listeners."""

    guid: str
    title: str
    enclosure: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class FeedFacts:
    """The parts of a feed the gate compares, and the files it names."""

    self_url: str | None
    podcast_guid: str | None
    items: dict[str, Item]
    #: (url, length, type) of every enclosure.
    enclosures: tuple[tuple[str, int | None, str | None], ...] = ()
    #: Every URL the feed names (enclosures, artwork, chapters, transcripts, pages).
    urls: frozenset[str] = field(default_factory=frozenset)


def read_feed(data: bytes, where: str) -> FeedFacts:
    """Read a feed with a parser that resolves no entity and loads nothing.

    :raises DeployError: not a well-formed RSS feed.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"{where}: not a well-formed feed ({exc.msg}), so it cannot be compared") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise DeployError(f"{where}: not an RSS feed (no <rss><channel>), so it cannot be compared")
    own = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
    items: dict[str, Item] = {}
    enclosures = []
    for node in channel.iterfind("item"):
        guid = (node.findtext("guid") or "").strip()
        enclosure = node.find("enclosure")
        url = enclosure.get("url") if enclosure is not None else None
        if enclosure is not None and url:
            length = enclosure.get("length", "")
            enclosures.append((url, int(length) if length.isdigit() else None, enclosure.get("type")))
        if guid:
            title = (node.findtext("title") or "").strip()
            items[guid] = Item(guid, title, url, (node.findtext("link") or "").strip() or None)
    urls = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in _URL_ATTRIBUTES:
            if value := element.get(name):
                urls.add(value.strip())
        if etree.QName(element).localname in ("url", "link") and element.text:
            urls.add(element.text.strip())
    podcast_guid = channel.findtext(f"{{{PODCAST_NS}}}guid")
    return FeedFacts(
        self_url=own.get("href") if own is not None else None,
        podcast_guid=podcast_guid.strip() if podcast_guid else None,
        items=items,
        enclosures=tuple(enclosures),
        urls=frozenset(urls),
    )


def key_of(url: str, base_url: str) -> str | None:
    """The key under the target of a URL below ``base_url`` (a folder URL means its index.html)."""
    if not url.startswith(base_url):
        return None
    path = unquote(urlsplit(url[len(base_url) :]).path)
    if path == "" or path.endswith("/"):
        path += "index.html"
    return path


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the gate found: refusals stop the deploy unless forced."""

    refusals: tuple[str, ...] = ()


def compare(
    live: FeedFacts,
    new: FeedFacts,
    *,
    slugs: Mapping[str, str],
    base_url: str,
    allow_removal: Collection[str] = (),
) -> Verdict:
    """Compare the live feed with the one about to replace it.

    :param slugs: GUID -> episode slug, as published.yaml pinned them, to name episodes.
    :param allow_removal: slugs (or GUIDs) of live episodes the host removes on purpose.
    """
    refusals: list[str] = []
    if live.podcast_guid and new.podcast_guid != live.podcast_guid:
        refusals.append(
            f"the show's podcast:guid would change from {live.podcast_guid} to {new.podcast_guid or 'nothing'}: "
            "directories would take it for another show (keep `guid:` in feed.yaml as published)"
        )
    if live.self_url and new.self_url and live.self_url != new.self_url:
        refusals.append(
            f"the feed's own URL would change from {live.self_url} to {new.self_url} (base_url changed): "
            "every subscriber still fetches the old one"
        )
    by_enclosure = {item.enclosure: item for item in new.items.values() if item.enclosure}
    by_link = {item.link: item for item in new.items.values() if item.link}
    for guid, item in live.items.items():
        name = _name(item, slugs, base_url)
        if guid in new.items:
            moved = new.items[guid].enclosure
            if item.enclosure and moved != item.enclosure:
                refusals.append(f"{name}: its enclosure URL would change from {item.enclosure} to {moved}")
            continue
        twin = (by_enclosure.get(item.enclosure) if item.enclosure else None) or (
            by_link.get(item.link) if item.link else None
        )
        if twin is not None:
            refusals.append(
                f"{name}: its GUID would change from {guid} to {twin.guid}; every app would download it again as new "
                "(put the old GUID back as `guid:` in the episode file)"
            )
            continue
        slug = slugs.get(guid) or _slug_from_link(item.link, base_url)
        if guid in allow_removal or (slug and slug in allow_removal):
            continue
        refusals.append(
            f"{name} is live and would disappear from the feed "
            f"(to remove it on purpose: --allow-removal {slug or guid})"
        )
    return Verdict(tuple(refusals))


def _slug_from_link(link: str | None, base_url: str) -> str | None:
    if not link:
        return None
    key = key_of(link, base_url)
    if key and key.endswith("/index.html") and key.count("/") == 1:
        return key.split("/", 1)[0]
    return None


def _name(item: Item, slugs: Mapping[str, str], base_url: str) -> str:
    slug = slugs.get(item.guid) or _slug_from_link(item.link, base_url)
    return f"episode '{slug}' ({item.title})" if slug else f"episode '{item.title}' (GUID {item.guid})"
