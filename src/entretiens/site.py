"""The show's website: home, episode and guests pages, feed stylesheet, sitemap, Markdown notes and JSON chapters."""

from __future__ import annotations

import contextlib
import html
import io
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape
from PIL import Image

from . import (
    cards,
    chapters,
    feedfile,
    gcpause,
    guestlist,
    guestspage,
    layout,
    notes,
    pagejoin,
    pagemeta,
    show_templates,
    templating,
    thumbnails,
    transcriptpage,
    unitcache,
)
from .content import PIECE
from .guestlist import Guest
from .markup import safe_url
from .model import Episode, Person, Project, Release, Show, is_remote
from .output import Content, content_bytes
from .pagemeta import PageMeta
from .podcast_spec import ATOM_NS, ITUNES_NS
from .thumbnails import Images, Picture
from .unitcache import Digests, Units
from .wording import strings, subscribe_apps

SITEMAP = PurePosixPath("sitemap.xml")
ROBOTS = PurePosixPath("robots.txt")
STYLESHEET = layout.ASSETS / "site.css"
SCRIPT = layout.ASSETS / "player.js"
#: Pixel sizes of the generated images: twice their largest size on the pages, for sharp screens.
COVER_SIZE = 480
ICON_SIZE = 180


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """What every page shares."""

    releases: tuple[Release, ...]
    guests: tuple[Guest, ...]
    cover: Picture
    icon: Picture | None
    feed: str = str(layout.FEED)
    stylesheet: str = str(STYLESHEET)
    script: str = str(SCRIPT)
    guests_page: str = str(layout.GUESTS_PAGE.parent) + "/"
    subscribe_page: str = str(layout.SUBSCRIBE_PAGE.parent) + "/"


def build_site(
    project: Project,
    releases: tuple[Release, ...],
    units: Units | None = None,
    digests: Digests | None = None,
    *,
    folder: Path | None = None,
) -> dict[PurePosixPath, Content]:
    """Every page and asset of the site, by path in public/.

    :param units: where each episode's own files (page, embed page, Markdown notes, chapters) are kept
        between builds, under a digest of what they are made from; None renders them all.
    :param digests: the releases' digests of this build (shared with the feed items and checks).
    :param folder: where the home page joined from kept entries is written as it is joined, and
        handed on as that file (see :mod:`entretiens.feedfile`); None: as bytes.
    """
    show = project.show
    units = units or Units(None, "pages", version="")
    digests = digests or Digests()
    files: dict[PurePosixPath, Content] = {}
    images = Images(show, files)
    # The collector paused over the loops that visit every episode (nothing in them forks): at
    # 10,000 episodes its passes over a heap that only grows were a share of every step. What
    # each loop made is held out of its passes as it ends (gcpause): it lives as long as the build.
    with gcpause.paused(hold=True):
        ordered = tuple(sorted(releases, key=lambda r: (r.episode.date, r.episode.slug), reverse=True))
        guests, guest_of = guestlist.guest_list(ordered, images)
    site = Site(
        releases=ordered,
        guests=guests,
        cover=images.thumbnail(show.cover_image, layout.ASSETS / "artwork.jpg", COVER_SIZE)
        or _unfetched_cover(show, files),
        icon=images.thumbnail(show.cover_image, layout.ASSETS / "icon.png", ICON_SIZE, local_only=True),
    )
    files.update(assets(show))
    cards.prepare(show)

    def rendered(name: str, page: PurePosixPath, meta: PageMeta, *, from_root: bool = False, **context: Any) -> str:
        # A 404 page is served at any address: its links start from the site's root instead.
        root = urlsplit(show.base_url).path
        href = (lambda target: root + target) if from_root else _linker(page)
        return templating.render(
            show, name, site=site, page=meta, href=href, guest_of=guest_of,
            episode_href=lambda episode: href(str(layout.episode_dir(episode)) + "/"), **context,
        )  # fmt: skip

    def text(name: str, page: PurePosixPath, meta: PageMeta, *, from_root: bool = False, **context: Any) -> bytes:
        return rendered(name, page, meta, from_root=from_root, **context).encode("utf-8")

    def render(name: str, page: PurePosixPath, meta: PageMeta, *, from_root: bool = False, **context: Any) -> None:
        files[page] = text(name, page, meta, from_root=from_root, **context)

    overrides = unitcache.tree_stamps(show.root / show_templates.TEMPLATES_DIR)
    # Taken once: the repr of the show's settings is long, and every unit's key holds it.
    shared = unitcache.digest(*_shared_inputs(show, site, overrides))
    home = pagemeta.home_meta(show)

    def entry(release: Release, first: bool) -> str:
        """The release's entry in the home page's list."""
        return rendered("episode_entry.html.j2", layout.INDEX, home, item=release, first=first, audio_src=audio_src)

    def audio_src(episode: Episode) -> str:
        return _media(show, episode.audio)

    #: Each episode's entry as its page unit kept it (UTF-8), by slug.
    entries: dict[str, bytes] = {}

    def episode_entry(release: Release, first: bool) -> Markup:
        kept = None if first else entries.get(release.episode.slug)
        return Markup(entry(release, first) if kept is None else kept.decode("utf-8"))  # noqa: S704  (rendered by Jinja)

    def episode_list(releases: Iterable[Release]) -> Markup:
        """Every release's entry, joined: a loop in the template cost a sandboxed call per episode."""
        return Markup("".join(episode_entry(release, index == 0) for index, release in enumerate(releases)))  # noqa: S704

    lists: dict[str, Any] = {"episode_entry": episode_entry, "episode_list": episode_list}
    # A show's own templates may read anything of the site in an entry (and every unit is made
    # again at any change then): their home page is rendered whole, as they write it, first.
    entries_kept = not overrides
    if not entries_kept:
        render("index.html.j2", layout.INDEX, home, audio_src=audio_src, **lists)
    if guests:
        # A unit too, joined from each guest's kept entry when it is made (see guestspage).
        request = guestspage.request(
            units,
            shared,
            site.guests,
            rendered,
            lambda: pagemeta.guests_meta(show, site.guests_page, site.guests),
            joined=entries_kept,
            stamps=[stamp for _, stamp in overrides],
        )
        for name, content in units.get_files([request])[0].items():
            files[layout.path_of(name)] = content
    subscribe = pagemeta.plain_meta(show, "subscribe")
    render("subscribe.html.j2", layout.SUBSCRIBE_PAGE, subscribe, apps=subscribe_apps(show.feed_url))
    render("404.html.j2", layout.NOT_FOUND_PAGE, pagemeta.plain_meta(show, "not-found"), from_root=True)
    by_slug = {release.episode.slug: release for release in ordered}
    requests: list[unitcache.Request] = []
    #: Each episode's card, by slug (those with a cover of their own drawn with it, first).
    drawn: dict[str, Content] = {}
    #: The cards of this build: what they share (every card without its own cover shares the show's artwork) taken once.
    deck = cards.Deck(show)
    override_stamps = [stamp for _, stamp in overrides]
    # A cover that several episodes share (a season's) is fitted once per process for all their
    # cards: those are drawn with the others, on every core in a cold build, not here one by one.
    covers = Counter(release.episode.cover_image for release in ordered)
    # The episodes' own covers made on every core when many are missing (a cold build of a show
    # whose episodes each have one), not here one by one: each cover's card, when no other
    # episode shares the cover, by the same job from the same decode.
    own = {
        release.episode.cover_image: release.episode
        for release in ordered
        if release.episode.cover_image and covers[release.episode.cover_image] == 1
    }
    made = images.prefetch(
        [cover for cover in covers if cover],
        COVER_SIZE,
        ".jpg",
        lambda cover: deck.missing(own[cover]) if cover in own else None,
    )
    drawn.update((own[cover].slug, card) for cover, card in made.items())
    with gcpause.paused(hold=True):
        for release in ordered:
            episode = release.episode
            cover = None
            if episode.cover_image:
                # Its target joined only for an episode with a cover of its own (a few of 10,000).
                cover = images.thumbnail(episode.cover_image, _COVERS / f"{episode.slug}.jpg", COVER_SIZE)
                if (
                    covers[episode.cover_image] == 1
                    and episode.slug not in drawn
                    and cards.shares_decode(show, episode)
                ):
                    # Its own cover, just decoded here for the thumbnail: the card shares that decode.
                    drawn[episode.slug] = deck.card(episode)
            previous = by_slug.get(release.previous or "")
            following = by_slug.get(release.next or "")

            def make(
                release: Release = release,
                cover: Picture | None = cover,
                previous: Release | None = previous,
                following: Release | None = following,
            ) -> dict[str, bytes]:
                made = _episode_pages(text, show, site, release, cover, guest_of, previous, following)
                if entries_kept:
                    # Rendered as any entry but the first: the newest one's is rendered anew below.
                    made[_ENTRY] = entry(release, False).encode("utf-8")
                return made

            stamps = [unitcache.file_stamp(show.root / t.path) for t in episode.transcripts] + override_stamps
            inputs = (
                shared,
                digests.release(release),
                (release.previous, release.next),
                cover,
                # The guests themselves are in the release's digest: their entries' anchors and photos.
                [(guest.anchor, guest.photo) for guest in map(guest_of, episode.guests)],
                # A neighbour's link is made from its slug (layout's code is in every key).
                [(other.episode.slug, other.episode.title) if other else None for other in (previous, following)],
            )  # fmt: skip
            requests.append((inputs, make, stamps))
    # Made on every core when many are missing (a cold build), read back otherwise.
    found = units.get_files(requests)
    # Not held past here (each holds its release, key and closure: about 1 KB an episode, at
    # the site's peak, the home page, otherwise), nor the units once their files are placed.
    requests.clear()
    # The other cards: drawn on every core when many are missing (a cold build), read back otherwise.
    rest = [release.episode for release in ordered if release.episode.slug not in drawn]
    try:
        drawn.update(zip([episode.slug for episode in rest], deck.cards(rest), strict=True))
    finally:
        # Every picture of the build asked for: what the image cache checked or made is kept for
        # the next, even when a card failed (the index is the only check of those made).
        thumbnails.keep_index(show.root)
    with gcpause.paused(hold=True):
        for release, unit in zip(ordered, found, strict=True):
            episode = release.episode
            for name, content in unit.items():
                if name == _ENTRY:
                    entries[episode.slug] = content_bytes(content)
                elif name == _CHAPTERS:
                    files[layout.chapters_file(episode)] = content
                else:
                    files[layout.episode_file(episode, name)] = content
            files[cards.card_path(episode)] = drawn.pop(episode.slug)
    found.clear()
    if entries_kept:
        # From the entries kept with each episode's pages (the newest one's rendered anew).
        files[layout.INDEX] = _home_page(rendered, home, audio_src, ordered, entries, episode_entry, lists, folder)
    entries.clear()
    if show.feed_stylesheet:
        files[layout.FEED_STYLESHEET] = templating.render(
            show, "feed.xsl.j2", site=site, href=_linker(layout.FEED_STYLESHEET), itunes_ns=ITUNES_NS, atom_ns=ATOM_NS
        ).encode("utf-8")
    # Rendered once, by dates.stamp, with the dates it finds (rendering it here as well cost a
    # second render of every entry): reserved here, so that no other file takes its name.
    files[SITEMAP] = b""
    files[ROBOTS] = templating.render(show, "robots.txt.j2", sitemap_url=layout.url_for(show, SITEMAP)).encode("utf-8")
    return files


#: Where episodes' own covers are published, as pages show them.
_COVERS = layout.ASSETS / "episodes"
#: The name of a page unit's home page entry (no path of public/ starts with "#").
_ENTRY = "#home entry"
#: The name of a page unit's JSON chapters, kept in the unit's entry (see :func:`_episode_pages`).
_CHAPTERS = "#chapters"


#: Stands for the list of entries while the rest of the home page is rendered (no entry holds a NUL).
_LIST_MARK = "\x00entretiens-episode-list\x00"


def _home_page(
    rendered: Callable[..., str],
    home: PageMeta,
    audio_src: Callable[[Episode], str],
    ordered: tuple[Release, ...],
    entries: Mapping[str, bytes],
    episode_entry: Callable[[Release, bool], Markup],
    lists: dict[str, Any],
    folder: Path | None,
) -> Content:
    """The home page of the shipped templates, its list joined from the entries' kept bytes
    (see :mod:`entretiens.pagejoin`); rendered whole as before when that cannot be done.

    With ``folder``, the pieces are written to a file there, never joined in memory (6 MB at
    10,000 episodes, held until the build is written): see :mod:`entretiens.feedfile`.
    """
    asked: list[object] = []

    def episode_list(releases: object) -> Markup:
        """The list, as a mark in its place."""
        asked.append(releases)
        return Markup(_LIST_MARK)  # noqa: S704  (no markup: replaced below)

    text = rendered("index.html.j2", layout.INDEX, home, audio_src=audio_src, **{**lists, "episode_list": episode_list})
    if len(asked) == 1 and asked[0] is ordered and ordered:
        newest = episode_entry(ordered[0], True).encode("utf-8")
        kept = (entries.get(release.episode.slug) for release in ordered[1:])
        parts = pagejoin.pieces(text, _LIST_MARK, itertools.chain([newest], kept))
        if parts is not None:
            # Each piece whole HTML (the head up to the list, whole entries, the rest).
            out = feedfile.Writer(folder, suffix=".html")
            # A writer's call hashes its piece twice and looks in it: once per 256 KiB, not per entry.
            for batch in pagejoin.batches(parts, PIECE):
                out.write(batch)
            return out.finish()
    return rendered("index.html.j2", layout.INDEX, home, audio_src=audio_src, **lists).encode("utf-8")


def _shared_inputs(show: Show, site: Site, overrides: tuple[object, ...]) -> tuple[object, ...]:
    """What every episode's pages depend on beyond the episode, its neighbours and guests.

    A show with its own templates may use anything in them (every episode from ``site``): its
    units then depend on the whole site, and any change renders every page again.
    """
    everything = unitcache.digest(site) if overrides else None
    return (show, site.cover, site.icon, bool(site.guests), overrides, everything)


def _episode_pages(
    text: Callable[..., bytes],
    show: Show,
    site: Site,
    release: Release,
    cover: Picture | None,
    guest_of: Callable[[Person], Guest],
    previous: Release | None,
    following: Release | None,
) -> dict[str, bytes]:
    """One episode's own files: its page, its embeddable player, its Markdown notes and its
    JSON chapters (made from the release and the show alone, as the page: kept with it rather
    than written again for every episode at each build)."""
    episode = release.episode
    embed_url = layout.url_for(show, layout.embed_page(episode).parent) + "/"
    meta = pagemeta.episode_meta(show, release)
    own = {
        str(layout.episode_page(episode)): text(
            "episode.html.j2",
            layout.episode_page(episode),
            meta,
            release=release,
            episode=episode,
            cover=cover or site.cover,
            audio_src=_media(show, episode.audio),
            embed_code=_embed_code(embed_url, strings(show.language)["embed_title"].format(title=episode.title)),
            guests=[(person, guest_of(person)) for person in episode.guests],
            transcript=transcriptpage.transcript_text(show, release),
            previous=previous,
            next=following,
        ),
        str(layout.embed_page(episode)): text(
            "embed.html.j2",
            layout.embed_page(episode),
            meta,
            release=release,
            episode=episode,
            cover=cover or site.cover,
            audio_src=_media(show, episode.audio),
        ),
        str(layout.notes_markdown(episode)): notes.notes_markdown(show, release).encode("utf-8"),
    }
    if release.chapters:
        # Kept in the unit's entry, handed on as bytes (a few hundred): a file of its own cost a
        # stat and a path per episode at every build, more than its bytes in memory.
        own[_CHAPTERS] = chapters.json_chapters(show, release.chapters, release.audio)
    return own


def _embed_code(url: str, title: str) -> str:
    """The <iframe> a guest pastes into their own site to play the episode there."""
    return (
        f'<iframe src="{html.escape(url)}" title="{html.escape(title)}" width="100%" height="200"'
        ' loading="lazy"></iframe>'
    )


def _unfetched_cover(show: Show, files: dict[PurePosixPath, Content]) -> Picture:
    """The cover when no copy could be made: the file as published, or for artwork on another
    host that could not be fetched (the checks say why), a plain grey square served from the
    site rather than a link to that host."""
    if not is_remote(show.cover_image):
        return Picture(src=show.cover_image)
    buffer = io.BytesIO()
    Image.new("RGB", (COVER_SIZE, COVER_SIZE), (221, 221, 221)).save(buffer, format="JPEG", quality=60)
    files[layout.ASSETS / "artwork.jpg"] = buffer.getvalue()
    return Picture(src=str(layout.ASSETS / "artwork.jpg"))


def assets(show: Show) -> dict[PurePosixPath, bytes]:
    """The stylesheet and script shipped with the package, then the show's ``templates/assets/``.

    A show file of the same name replaces the shipped one; other files are added.
    """
    found: dict[PurePosixPath, bytes] = {}
    shipped = resources.files("entretiens").joinpath("assets")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.is_file() and not entry.name.startswith("."):
            found[layout.ASSETS / entry.name] = entry.read_bytes()
    # Only files that stay in the show and are small enough (checked before reading); the
    # checks report the others.
    for target, path in show_templates.assets(show)[0].items():
        with contextlib.suppress(OSError):
            found[target] = path.read_bytes()
    return found


def _linker(page: PurePosixPath) -> Callable[[str], str]:
    """A function giving each public/ path as a link relative to ``page``, which keeps the site
    working wherever it is served (a preview server, a sub-folder)."""
    root = "../" * (len(page.parts) - 1)

    def href(target: str) -> str:
        if "://" in target:
            # Remote files (audio, artwork) stay absolute; only web schemes may reach a page.
            return safe_url(target) or ""
        # Every character of a file name is data: a "#" or "?" in it must not start a fragment.
        return (root + quote(target, safe="/")) or "./"

    return href


def _media(show: Show, reference: str) -> str:
    """A show file as published (a path of public/), or a remote file's absolute URL."""
    copied = layout.copied_file(reference)
    return str(copied) if copied is not None else layout.absolute(show, reference)


def sitemap(
    show: Show,
    releases: Iterable[Release],
    *,
    guests: bool,
    show_date: datetime | None = None,
    episode_dates: Mapping[str, datetime] | None = None,
) -> bytes:
    """sitemap.xml: the home and guests pages dated by the show's last change, each episode's
    page by its own (default: the newest episode's date, and each episode's)."""
    ordered = sorted(releases, key=lambda r: (r.episode.date, r.episode.slug), reverse=True)
    if not ordered:
        return templating.render(show, "sitemap.xml.j2", entries=[]).encode("utf-8")
    newest = (show_date or ordered[0].episode.date).date().isoformat()
    entries = [(show.base_url, newest)]
    if guests:
        entries.append((layout.url_for(show, str(layout.GUESTS_PAGE.parent) + "/"), newest))
    dates = episode_dates or {}
    joined = _sitemap_joined(show, entries, ordered, dates)
    if joined is not None:
        return joined
    for release in ordered:
        episode = release.episode
        entries.append((layout.episode_url(show, episode), dates.get(episode.slug, episode.date).date().isoformat()))
    return templating.render(show, "sitemap.xml.j2", entries=entries).encode("utf-8")


#: Stand for a URL and its date while the sitemap's rows are cut (see :func:`pagejoin.uniform_loop`).
_SITEMAP_MARKS = ("\x00entretiens-loc\x00", "\x00entretiens-lastmod\x00")


def _sitemap_joined(
    show: Show, entries: list[tuple[str, str]], ordered: list[Release], dates: Mapping[str, datetime]
) -> bytes | None:
    """The shipped sitemap, its rows written from the pieces of one row (see
    :func:`pagejoin.uniform_loop`) rather than by the template's loop, each episode's URL
    without a path made and printed for it, nor a value escaped (a third of a second of every
    build at 10,000 episodes). None with a show's own sitemap template (anything may be in its loop)."""
    if templating.overridden(show, "sitemap.xml.j2"):
        return None
    cut = pagejoin.uniform_loop(lambda rows: templating.render(show, "sitemap.xml.j2", entries=rows), _SITEMAP_MARKS)
    if cut is None:
        return None
    head, (before, between, after), tail = cut
    rows = [before + _escaped(url) + between + _escaped(date) + after for url, date in entries]
    # The base escaped once: what quote() writes of a path needs no escaping in XML, nor does an
    # ISO date (digits and dashes).
    base = _escaped(show.base_url)
    for release in ordered:
        episode = release.episode
        lastmod = dates.get(episode.slug, episode.date).date().isoformat()
        rows.append(before + base + layout.episode_address(episode) + between + lastmod + after)
    text = head + "".join(rows) + tail
    if len(text) > templating.MAX_OUTPUT:
        return None  # rendered whole, which says why it is refused
    return text.encode("utf-8")


def _escaped(text: str) -> str:
    """``text`` as the template's autoescaping writes it, as a plain str (Markup would escape
    whatever it is joined to)."""
    return str(escape(text))
