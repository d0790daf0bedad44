"""The guests page's list: every guest once, alphabetically by family name, with an anchor,
a photo and their appearances.

Apart from the pages themselves because it is one job with its own rules (who is the same
person, how names sort and fold, which anchor each one gets), asked by every episode's page
and unit key through the lookup it returns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from . import layout
from .model import Person, Release
from .thumbnails import Images, Picture

#: Pixel size of a guest's photo: twice its size on the pages, for sharp screens.
PHOTO_SIZE = 192
#: Where guests' photos are published, as pages show them.
_PHOTOS = layout.ASSETS / "people"


@dataclass(frozen=True, slots=True, kw_only=True)
class Guest:
    """A guest as the guests page lists them: newest details, every appearance newest first."""

    person: Person
    #: The id of the guest's entry on the guests page.
    anchor: str
    photo: Picture | None
    releases: tuple[Release, ...]


def guest_list(ordered: tuple[Release, ...], images: Images) -> tuple[tuple[Guest, ...], Callable[[Person], Guest]]:
    """Every guest, alphabetically, and a lookup from an episode's person to their entry."""

    def key(person: Person) -> str:
        return f"id:{person.id}" if person.id else f"name:{fold(' '.join(person.name.split()))}"

    #: Each person met, by identity (held here, so that no identity is reused while the build
    #: runs), with their entry's key: every episode's unit key and pages ask for their guests'
    #: entries again, which then folds no name a second time.
    keys: dict[int, tuple[Person, str]] = {}
    appearances: dict[str, list[tuple[Release, Person]]] = {}
    for release in ordered:
        for person in release.episode.guests:
            known = keys.get(id(person))
            if known is None:
                known = keys[id(person)] = (person, key(person))
            entries = appearances.setdefault(known[1], [])
            if not entries or entries[-1][0] is not release:
                entries.append((release, person))
    by_key: dict[str, Guest] = {}
    used: set[str] = set()
    for guest_key, entries in sorted(appearances.items(), key=lambda item: (family_first(item[1][0][1].name), item[0])):
        person = entries[0][1]
        anchor = base = layout.slugify(person.id or person.name) or "guest"
        counter = 2
        while anchor in used:
            anchor, counter = f"{base}-{counter}", counter + 1
        used.add(anchor)
        releases: tuple[Release, ...]
        if len(entries) == 1:
            # Most guests of a large show appear once: no generator made for each of them.
            photo_ref, releases = person.image, (entries[0][0],)
        else:
            photo_ref = next((p.image for _, p in entries if p.image), None)
            releases = tuple(r for r, _ in entries)
        photo = None
        if photo_ref:
            photo = images.thumbnail(photo_ref, _PHOTOS / f"{anchor}.jpg", PHOTO_SIZE, square=True)
        by_key[guest_key] = Guest(person=person, anchor=anchor, photo=photo, releases=releases)

    def guest_of(person: Person) -> Guest:
        known = keys.get(id(person))
        if known is None:
            known = keys[id(person)] = (person, key(person))
        return by_key[known[1]]

    return tuple(by_key.values()), guest_of


def fold(text: str) -> str:
    """Lower case without accents, for sorting and anchors."""
    if text.isascii():
        # Nothing to decompose nor drop (every guest of a large show, twice per build).
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def family_first(name: str) -> str:
    """A sort key that orders people by family name (the last word), then given names, ignoring case and accents."""
    if name.isascii():
        # Folded whole, then split: the same words (casefold keeps ASCII letters apart from
        # spaces), at one call rather than three for every guest of a large show.
        words = name.casefold().split()
        if len(words) >= 2:
            return words[-1] + "\x00" + " ".join(words[:-1])
    words = name.split()
    if len(words) < 2:
        return fold(name)
    return fold(words[-1]) + "\x00" + fold(" ".join(words[:-1]))
