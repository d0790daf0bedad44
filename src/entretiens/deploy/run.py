"""Carry out a plan: media, then pages, then (once every file it names checks out) the feed, then deletions.

Killed at any moment, the target still serves the previous feed, and every file that feed
names is still there (nothing is deleted before the new feed is live). The manifest is saved
as uploads go, so a rerun sends only what is still missing or different.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import DeployError
from . import gate
from .headers import NO_CACHE, Headers
from .manifest import MANIFEST_KEY, Entry, render_manifest
from .plan import FEED, Plan, Upload
from .targets import Target

#: Called as bytes go up: (key, bytes sent since the last call).
Progress = Callable[[str, int], None]

#: Save the manifest at least this often, so that an interrupted deploy loses little.
_SAVE_EVERY_FILES = 50
_SAVE_EVERY_BYTES = 64 * 1024 * 1024
_MANIFEST_HEADERS = Headers("application/json; charset=utf-8", NO_CACHE)


@dataclass(slots=True)
class Outcome:
    """What a deploy did."""

    uploaded: list[Upload] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Enclosure keys checked with HEAD and a ranged GET (or their folder equivalent).
    verified: list[str] = field(default_factory=list)


def execute(plan: Plan, target: Target, *, progress: Progress | None = None) -> Outcome:
    """Upload in order, verify, publish the feed, then delete what --delete allows.

    :raises DeployError: an upload failed, or an enclosure does not check out (the new feed is
        then not uploaded, and the live one still points only at files that exist).
    """
    outcome = Outcome()
    entries = dict(plan.manifest)
    pending_files = pending_bytes = 0

    def save() -> None:
        nonlocal pending_files, pending_bytes
        target.put(MANIFEST_KEY, render_manifest(entries), _MANIFEST_HEADERS)
        pending_files = pending_bytes = 0

    phase = None
    for upload in plan.uploads:
        if upload.phase != phase and pending_files:
            save()
        if upload.phase == FEED:
            _verify_before_feed(plan, target, entries, outcome)
        phase = upload.phase
        sent = (lambda count, key=upload.key: progress(key, count)) if progress else None
        stored = target.put(upload.key, upload.content, upload.headers, sent)
        if stored.size != upload.size:
            msg = f"{plan.target}: {upload.key} was stored with {stored.size} bytes instead of {upload.size}"
            raise DeployError(msg)
        entries[upload.key] = Entry(upload.sha256, stored.size, stored.tag)
        outcome.uploaded.append(upload)
        pending_files += 1
        pending_bytes += upload.size
        if pending_files >= _SAVE_EVERY_FILES or pending_bytes >= _SAVE_EVERY_BYTES:
            save()
    if pending_files:
        save()
    # Deletions come after the new feed is live, so no feed ever names a deleted file.
    if plan.delete and plan.removable:
        for key in plan.removable:
            target.delete(key)
            entries.pop(key, None)
            outcome.deleted.append(key)
        save()
    return outcome


def _verify_before_feed(plan: Plan, target: Target, entries: dict[str, Entry], outcome: Outcome) -> None:
    """Check, through the target, that every file the new feed names is there, and its enclosures serve."""
    listing = target.list()
    sizes = {upload.key: upload.size for upload in plan.uploads}
    sizes.update({key: entry.size for key, entry in entries.items() if key not in sizes})
    problems = []
    for url in sorted(plan.feed.urls):
        key = gate.key_of(url, plan.base_url)
        if key is None or key == "feed.xml":
            continue
        stored = listing.get(key)
        if stored is None:
            problems.append(f"{url}: is missing on the target")
        elif key in sizes and stored.size != sizes[key]:
            problems.append(f"{url}: is {stored.size} bytes on the target, {sizes[key]} in the build")
    sent = {upload.key for upload in outcome.uploaded}
    for url, length, _ in plan.feed.enclosures:
        key = gate.key_of(url, plan.base_url)
        # Enclosures sent now get the full check; unchanged ones were checked when they were sent.
        if key is None or length is None or key not in sent:
            continue
        problem = target.check_enclosure(key, length)
        if problem:
            problems.append(f"{url}: {problem}")
        else:
            outcome.verified.append(key)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise DeployError(
            f"{plan.target}: the new feed was not uploaded, because these files do not check out:\n{lines}\n"
            "The live feed is unchanged. Run deploy again; if this persists, check the storage."
        )
