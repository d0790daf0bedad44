"""The guests page, joined from each guest's entry kept between builds.

The page lists every guest with their bio (Markdown), links and appearances. It is a unit of
the site, made again whenever a guest or what it says of their episodes changes, which every
added episode does (its guest is new). Rendered whole, that was every guest's bio through
Markdown and every entry through Jinja again: at 1,000 episodes a fifth of the rebuild after
one episode was added, ten times that at 10,000. Each guest's entry is now a unit of its own,
asked for only when the page is made, so that only a new or changed guest's entry is
rendered, and the page is joined around them (:mod:`entretiens.pagejoin`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from markupsafe import Markup

from . import layout, pagejoin, unitcache
from .guestlist import Guest
from .pagemeta import PageMeta
from .unitcache import Units

#: The units of each guest's entry, kept beside the pages' (see :meth:`Units.sibling`).
ENTRIES: Final = "guest-entries"
#: The name of an entry's bytes in its unit.
_ENTRY: Final = "#guest entry"
#: Stands for the list while the rest of the page is rendered (no entry holds a NUL).
_LIST_MARK: Final = "\x00entretiens-guest-list\x00"

#: ``rendered(template, page path, page meta, **context)``: a page of the site as text.
Rendered = Callable[..., str]


def request(
    units: Units,
    shared: str,
    guests: Sequence[Guest],
    rendered: Rendered,
    meta: Callable[[], PageMeta],
    *,
    joined: bool,
    stamps: Sequence[object],
) -> unitcache.Request:
    """The guests page's unit: what it is made from, and how.

    :param shared: the digest of what every page depends on beyond its own items.
    :param meta: the page's head, made only with the page (the structured data of every guest).
    :param joined: join the page from the kept entries (the shipped templates); a show's own
        templates may read anything of the site in an entry: their page is rendered whole.
    :param stamps: the stamps of the show's template overrides.
    """
    listed = [_listed(guest) for guest in guests]

    def make() -> dict[str, bytes]:
        page = meta()

        def entry(guest: Guest) -> str:
            return rendered("guest_entry.html.j2", layout.GUESTS_PAGE, page, guest=guest)

        def guest_list(chosen: Iterable[Guest]) -> Markup:
            """Every entry, rendered (a loop in the template cost a sandboxed call per guest)."""
            return Markup("".join(map(entry, chosen)))  # noqa: S704  (rendered by Jinja)

        context: dict[str, Any] = {"guest_entry": lambda guest: Markup(entry(guest)), "guest_list": guest_list}  # noqa: S704
        text = _joined(units, shared, guests, listed, rendered, page, entry, context, stamps) if joined else None
        if text is None:
            text = rendered("guests.html.j2", layout.GUESTS_PAGE, page, **context).encode("utf-8")
        return {str(layout.GUESTS_PAGE): text}

    return ((shared, "guests page", listed), make, stamps)


def _listed(guest: Guest) -> tuple[object, ...]:
    """What the page says of a guest: the person, the entry's anchor and photo, and the title,
    date and address of each appearance."""
    appearances = [(r.episode.title, r.episode.date, r.episode.slug) for r in guest.releases]
    return (guest.person, guest.anchor, guest.photo, appearances)


def _joined(
    units: Units,
    shared: str,
    guests: Sequence[Guest],
    listed: Sequence[tuple[object, ...]],
    rendered: Rendered,
    page: PageMeta,
    entry: Callable[[Guest], str],
    context: dict[str, Any],
    stamps: Sequence[object],
) -> bytes | None:
    """The page joined from every guest's kept entry, or None when the template does not ask
    for the list once, where it goes."""
    asked: list[object] = []

    def guest_list(chosen: object) -> Markup:
        """The list, as a mark in its place."""
        asked.append(chosen)
        return Markup(_LIST_MARK)  # noqa: S704  (no markup: replaced below)

    text = rendered("guests.html.j2", layout.GUESTS_PAGE, page, **{**context, "guest_list": guest_list})
    if len(asked) != 1 or asked[0] is not guests:
        return None

    def made(guest: Guest) -> Callable[[], dict[str, bytes]]:
        return lambda: {_ENTRY: entry(guest).encode("utf-8")}

    kept = units.sibling(ENTRIES)
    requests: list[unitcache.Request] = [
        ((shared, "guest entry", *item), made(guest), stamps) for guest, item in zip(guests, listed, strict=True)
    ]
    found = kept.get_many(requests)
    # Every guest's entry asked for: those of guests no longer listed (or changed) are dropped.
    kept.close()
    return pagejoin.join(text, _LIST_MARK, (unit.get(_ENTRY) for unit in found))
