"""What a deploy will do, decided before anything is sent: the gate, the changes, the order.

Reading only: the target's listing, deploy's manifest and the live feed. Nothing is uploaded
when the plan is refused, and ``--dry-run`` is exactly this step.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .. import layout
from ..errors import DeployError, NetworkError
from ..net import Limits, Response, fetch
from ..output import Content
from . import gate
from .headers import Headers, headers_for
from .manifest import MANIFEST_KEY, MAX_MANIFEST_BYTES, Entry, digest, parse_manifest
from .targets import Stored, Target

#: A live feed larger than this is not a podcast feed any app would read.
MAX_FEED_BYTES = 64 * 1024 * 1024
FEED_KEY = str(layout.FEED)

#: Upload order: what the feed names (audio, artwork, chapters, transcripts), then the rest of
#: the site with pages last, then the feed. A reader who follows any link of a live page or
#: feed finds the file already there.
MEDIA, ASSETS, PAGES, FEED = 0, 1, 2, 3
PHASE_NAMES = {MEDIA: "media", ASSETS: "assets", PAGES: "pages", FEED: "feed"}

Fetch = Callable[..., Response]


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """What deploy needs to know of the show: plain values, no model."""

    base_url: str
    feed_url: str
    #: GUID -> slug, to name episodes in the gate's report.
    slugs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """What the host asked for."""

    delete: bool = False
    allow_removal: frozenset[str] = frozenset()
    force: bool = False
    #: Where the live feed is read from when the target holds none (default: the show's feed URL).
    live_feed_url: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """One file to send."""

    key: str
    content: Content
    sha256: str
    size: int
    phase: int
    headers: Headers


@dataclass(slots=True, kw_only=True)
class Plan:
    """Everything a deploy will do, in order."""

    target: str
    uploads: list[Upload]
    unchanged: list[str]
    #: Keys deploy put there that the show no longer has: deleted after the feed with --delete.
    removable: list[str]
    delete: bool
    manifest: dict[str, Entry]
    listing: dict[str, Stored]
    feed: gate.FeedFacts
    base_url: str
    notes: list[str] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        """The bytes to send."""
        return sum(upload.size for upload in self.uploads)


def prepare(
    files: Mapping[PurePosixPath, Content],
    target: Target,
    site: Site,
    options: Options,
    *,
    http: Fetch = fetch,
) -> Plan:
    """Decide what to send, after checking the new feed against the live one.

    :raises DeployError: the target cannot be read, or the GUID gate refuses the new feed.
    """
    if layout.FEED not in files:
        raise DeployError("nothing to deploy: the build has no feed.xml")
    listing = target.list()
    notes: list[str] = []
    entries, readable = parse_manifest(target.read(MANIFEST_KEY, max_bytes=MAX_MANIFEST_BYTES))
    if not readable:
        notes.append(f"{MANIFEST_KEY} on the target is damaged: every file is sent again, none deleted")
    new_feed = _bytes(files[layout.FEED])
    new = gate.read_feed(new_feed, "the new feed")
    _check_gate(target, listing, new, site, options, notes, http)

    named = {key for url in new.urls if (key := gate.key_of(url, site.base_url))} - {FEED_KEY}
    enclosure_types = {
        key: kind for url, _, kind in new.enclosures if kind and (key := gate.key_of(url, site.base_url))
    }
    uploads: list[Upload] = []
    unchanged: list[str] = []
    for path, content in files.items():
        key = str(path)
        if key == MANIFEST_KEY:
            raise DeployError(f"{key}: this name is reserved for deploy's manifest")
        sha, size = digest(content)
        entry = entries.get(key)
        if entry is not None and entry.sha256 == sha and entry.matches(listing.get(key)):
            unchanged.append(key)
            continue
        headers = headers_for(key, enclosure_type=enclosure_types.get(key))
        uploads.append(Upload(key, content, sha, size, _phase(key, named), headers))
    missing = sorted(key for key in named if PurePosixPath(key) not in files and key not in listing)
    if missing:
        raise DeployError(
            "the new feed names files that are neither in the build nor on the target: " + ", ".join(missing[:10])
        )
    wanted = {str(path) for path in files}
    removable = sorted(key for key in entries if key not in wanted)
    uploads.sort(key=lambda upload: (upload.phase, upload.key))
    return Plan(
        target=target.description,
        uploads=uploads,
        unchanged=sorted(unchanged),
        removable=removable,
        delete=options.delete,
        manifest=entries,
        listing=listing,
        feed=new,
        base_url=site.base_url,
        notes=notes,
    )


def _phase(key: str, named: Collection[str]) -> int:
    if key == FEED_KEY:
        return FEED
    is_page = key.endswith((".html", ".htm")) and not PurePosixPath(key).name.startswith("transcript")
    if key in named and not is_page:
        return MEDIA
    return PAGES if is_page else ASSETS


def _check_gate(
    target: Target,
    listing: Mapping[str, Stored],
    new: gate.FeedFacts,
    site: Site,
    options: Options,
    notes: list[str],
    http: Fetch,
) -> None:
    live_bytes, where = None, f"{target.description.rstrip('/')}/{FEED_KEY}"
    if FEED_KEY in listing:
        live_bytes = target.read(FEED_KEY, max_bytes=MAX_FEED_BYTES)
    if live_bytes is None:
        url = options.live_feed_url or site.feed_url
        where = url
        live_bytes = _read_live(url, options, notes, http)
    if live_bytes is None:
        return
    try:
        live = gate.read_feed(live_bytes, f"the live feed ({where})")
    except DeployError:
        if not options.force:
            raise
        notes.append(f"the live feed at {where} is unreadable; deploying anyway (--force)")
        return
    verdict = gate.compare(live, new, slugs=site.slugs, base_url=site.base_url, allow_removal=options.allow_removal)
    if not verdict.refusals:
        return
    if options.force:
        notes += [f"forced (--force): {refusal}" for refusal in verdict.refusals]
        return
    lines = "\n".join(f"  - {refusal}" for refusal in verdict.refusals)
    raise DeployError(
        f"refusing to deploy: the new feed would break what listeners have from {where}:\n{lines}\n"
        "Nothing was uploaded. Fix the show, or say it is on purpose: --allow-removal SLUG for an "
        "episode you withdraw, --force to replace the live feed as it is (e.g. a show you move)."
    )


def _read_live(url: str, options: Options, notes: list[str], http: Fetch) -> bytes | None:
    """The live feed over HTTP, when the target has none yet (the show is moving in)."""
    try:
        answer = http(url, limits=Limits(max_bytes=MAX_FEED_BYTES, deadline=60.0))
    except NetworkError as exc:
        if options.force:
            notes.append(f"could not read the live feed ({exc}); deploying anyway (--force)")
            return None
        msg = (
            f"could not read the live feed to compare with: {exc}. If the show has never been online, "
            "deploy with --force (or --live-feed URL to read it elsewhere)"
        )
        raise DeployError(msg) from None
    if answer.status in (404, 410):
        notes.append(f"no live feed at {url}: first deploy, nothing to compare")
        return None
    if answer.status != 200:
        if options.force:
            notes.append(f"the live feed at {url} answered {answer.status}; deploying anyway (--force)")
            return None
        raise DeployError(
            f"the live feed at {url} answered {answer.status}, so deploy cannot tell what listeners have "
            "(try again later, or --force)"
        )
    return answer.body


def _bytes(content: Content) -> bytes:
    return content if isinstance(content, bytes) else content.read_bytes()
