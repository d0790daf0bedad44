"""The orchestrator: the one place that runs the stages, in order, once each.

``build`` runs load -> probe -> prepare -> rules -> files -> feed lint and gathers every
problem on the way without stopping; ``commit`` writes a build. Every command is a thin
composition of the two: ``publish`` = build + commit, ``check`` = build (+ links), ``serve`` =
build + commit without pinning GUIDs. Each command closes its build once done with it: the
feed documents the build wrote go with it (see :class:`Build`). Stages take plain values and
return plain values; none of them imports this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from . import (
    buildrecord,
    checks,
    dates,
    feedfile,
    feedlint,
    files,
    gcpause,
    heap,
    layout,
    loading,
    output,
    releases,
    state,
    unitcache,
    unitkeys,
)
from .atomicfile import write_file
from .content import content_bytes
from .errors import ConfigError, EntretiensError, Problem, ProblemsError
from .model import AudioInfo, Change, Episode, FieldLines, Project, PublishState, Release, Show
from .output import Content, Stored, WriteReport
from .releases import Progress

#: Where the findings of each feed item are kept between builds (see feedlint.KeptItems).
LINT_CACHE = releases.CACHE_DIR / "lint" / "feed-items"
#: Where the large documents (the feeds, the home page) are written while they are built, each
#: build in a folder of its own, removed once its command is done with it (see feedfile).
DOCUMENTS = releases.CACHE_DIR / "documents"


@dataclass(slots=True, kw_only=True)
class Build:
    """One run of the stages over a show: what they made, and every problem they met.

    The feed documents among its files are files of a folder of its own (see
    :mod:`entretiens.feedfile`): the command that made it closes it once done with its files
    (``with build(...) as built:``, or :meth:`close`), and they are gone.
    """

    root: Path
    #: The moment that decided which episodes are out.
    now: datetime
    problems: list[Problem]
    #: None when the show could not be loaded (``problems`` says why).
    project: Project | None = None
    #: Every measured episode, oldest first, those in error and (with ``check_scheduled``) the
    #: scheduled ones included: what the rules looked at.
    checked: tuple[Release, ...] = ()
    #: The episodes the feed carries, oldest first, tagged when asked.
    releases: tuple[Release, ...] = ()
    drafts: tuple[Episode, ...] = ()
    scheduled: tuple[Episode, ...] = ()
    #: Every file of public/ by path; empty when no episode could be built.
    files: dict[PurePosixPath, Content] = field(default_factory=dict)
    #: When the show and each episode last changed, to record in published.yaml.
    changes: dates.Changes | None = None
    #: How many per-episode units of each kind were computed rather than read from the cache.
    computed: dict[str, int] = field(default_factory=dict)
    #: The folder the feed documents among ``files`` are in, this build's own; None when there
    #: is none (no cache, none could be made, or closed).
    documents: Path | None = None

    def __enter__(self) -> Build:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove this build's folder of documents: its feed files can no longer be read,
        written or committed. Once its command is done with it (the commit made, or none to
        make); closing twice does nothing."""
        folder, self.documents = self.documents, None
        if folder is not None:
            feedfile.remove(folder)

    def __del__(self) -> None:
        # A build dropped without being closed lets its folder go: a later build removes it.
        if self.documents is not None:
            feedfile.release(self.documents)

    @property
    def errors(self) -> list[Problem]:
        """The problems that forbid publishing."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def feed_size(self) -> int | None:
        """The size of the feed as it would be published (not read), or None when none could be built."""
        content = self.files.get(layout.FEED)
        return None if content is None else _size(content)


def _size(content: Content) -> int:
    if isinstance(content, bytes):
        return len(content)
    return content.size if isinstance(content, Stored) else content.stat().st_size


@gcpause.thawed
@buildrecord.under_one_code
def build(
    show_dir: Path,
    *,
    now: datetime | None = None,
    include_future: bool = False,
    check_scheduled: bool = False,
    tag_audio: bool | None = None,
    use_cache: bool = True,
    feed_path: Path | None = None,
    previous: Path | None = None,
    progress: Progress | None = None,
    preview_url: str | None = None,
) -> Build:
    """Run every stage on a show folder and gather every problem; write nothing but the caches.

    A bad episode does not stop the others from being measured, prepared and checked; the
    files are built from the episodes that prepared without error.

    :param now: the moment that decides which scheduled episodes are out (default: the clock).
    :param include_future: publish the episodes dated after ``now`` too.
    :param check_scheduled: measure and check the scheduled episodes as well, without
        publishing them (what ``check`` reports).
    :param tag_audio: tag the published audio copies; None follows feed.yaml. Skipped when
        there are errors, since such a build is never committed.
    :param use_cache: read the cached audio measures (fresh ones are saved).
    :param feed_path: where the feed is said to be in its problems (default: public/feed.xml).
    :param previous: the output folder about to be replaced (default: public/): the GUIDs
        published.yaml lost are recovered from its feed, never derived anew.
    :param progress: called after each audio file is measured.
    :param preview_url: a preview's address (``serve``): once checked as published, the feeds
        and sitemap carry it in place of base_url, so that a podcast app can subscribe to the
        preview. Never for publish.
    :returns: the build, to be closed by the caller once done with its files (see :class:`Build`).
    :raises OutputError: a cache folder cannot be written (the machine's problem, not the show's).
    """
    # Large buffers freed during the build go back to the system at once (see heap).
    heap.fix_threshold()
    root = show_dir.resolve()
    moment = now or datetime.now(timezone.utc)
    try:
        project = loading.load_project(root, previous=previous)
    except ConfigError as exc:
        return Build(root=root, now=moment, problems=list(exc.problems))
    # The loaded show lives as long as the build: out of the collector's full passes (gcpause),
    # and so does what each stage makes.
    gcpause.hold()
    problems = list(project.warnings)
    published, drafts, scheduled = releases.select(project, moment, include_future=include_future)
    result = Build(root=root, now=moment, problems=problems, project=project, drafts=tuple(drafts))
    result.scheduled = tuple(scheduled)
    measured = [*published, *scheduled] if check_scheduled else published
    # The loader sorts episodes by date: keep that order for everything reported.
    measured.sort(key=lambda e: (e.date, e.slug))
    # Each audio file stat'ed once: prepare takes the stamps its measure was taken or checked at.
    stamps: dict[str, releases.Stamp] = {}
    audio_files: dict[str, Path] = {}
    # Each measure read back from the probe cache with the name the cache knows it by (see Digests).
    named: list[tuple[AudioInfo, str]] = []
    infos, failures = releases.probe_each(
        project, measured, progress=progress, use_cache=use_cache, stamps=stamps, files=audio_files, named=named
    )
    problems += failures
    version = buildrecord.code()
    # Each transcript file's checks kept under its stamp: an unchanged one is not read again.
    transcribed = unitcache.Units(root if use_cache else None, "transcripts", version=version)
    prepared = releases.prepare(project, measured, infos, stamps, audio_files, transcribed)
    # Every transcript measured was asked for: kept now, the others' units dropped.
    transcribed.close()
    problems += prepared.problems
    result.checked = prepared.releases
    gcpause.hold()
    kept = unitcache.Units(root if use_cache else None, "checks", version=version)
    # What each image the checks read was found to be, kept under the file's stamp: the show's
    # artwork is checked at every build, and decoding it cost 10 to 60 ms of an edit.
    images = kept.sibling("image-facts")
    checks.start_checks(_kept_images(images))
    lines = FieldLines(project)
    # The show's settings digested once: their repr is long, and every unit's key holds them.
    settings = unitcache.digest(project.show)
    # Each release digested once for the three kinds of units that key on it; an episode by the
    # digest the loader took of it (its repr, taken for each of 10,000 episodes, cost ~1 s), a
    # measure by the name the probe cache gave it.
    digests = unitcache.Digests([*unitkeys.episode_digests(project), *named])
    each = _episode_checks(kept, project.show, settings, prepared.releases, lines, digests)
    problems += checks.show_checks(project, prepared.releases, each, lines=lines, now=moment)
    # Those of the images read by this build's checks kept, the others dropped.
    images.close()
    result.computed["checks"] = kept.computed
    gcpause.hold()
    if not published:
        problems.append(releases.nothing_to_publish(root))
    out = {episode.slug for episode in published}
    # Kept in prepare's order (oldest first): only the neighbours of those left out move.
    result.releases = releases.link(
        (r for r in prepared.releases if r.episode.slug in prepared.ready and r.episode.slug in out), ordered=True
    )
    if not result.releases:
        return result
    if (project.show.tag_audio if tag_audio is None else tag_audio) and not result.errors:
        result.releases, tag_problems = releases.tag(project, result.releases)
        problems += tag_problems
    # The feed documents are written to files as they are built, never held whole (see feedfile),
    # in a folder of this build's own that its command removes (see Build).
    result.documents = feedfile.build_folder(root / DOCUMENTS) if use_cache else None
    try:
        _make_files(
            result,
            project,
            digests,
            kept,
            version=version,
            use_cache=use_cache,
            feed_path=feed_path,
            preview_url=preview_url,
        )
    except BaseException:
        # A build that stops here is handed to no command to close: its documents go now.
        result.close()
        raise
    return result


def _make_files(
    result: Build,
    project: Project,
    digests: unitcache.Digests,
    kept: unitcache.Units,
    *,
    version: str,
    use_cache: bool,
    feed_path: Path | None,
    preview_url: str | None,
) -> None:
    """Build the files of ``result``, date them and lint its feed (the end of :func:`build`).

    :param kept: the episodes' checks, pruned once the files are built.
    """
    root, moment, problems = result.root, result.now, result.problems
    # Pages are kept as files of their own and handed on as paths: a build of 10,000 episodes
    # held every page's bytes otherwise. dates finds what it hashes of them in their marks.
    pages = unitcache.Units(
        root if use_cache else None, "pages", version=version, stored=True, marks=dates.fingerprints
    )
    items = unitcache.Units(root if use_cache else None, "items", version=version)
    # Each transcript's published files (the original, its conversions) kept as pages are.
    texts = unitcache.Units(
        root if use_cache else None, "transcript-files", version=version, stored=True, marks=dates.fingerprints
    )
    # The feed dated as dates.stamp will most likely date it: a build that follows a recorded
    # date follows a change, dated now (else the feed of a 10,000-episode show, 56 MB, was
    # copied once more to be dated, the peak of an edit). stamp checks it either way.
    guess = moment if project.state.show_change is not None and moment.tzinfo is not None else None
    try:
        result.files = files.build_files(
            project, result.releases, pages, items, digests, last_build=guess, texts=texts, documents=result.documents
        )
        result.changes = dates.stamp(project.show, project.state, result.releases, result.files, moment)
        gcpause.hold()
    except EntretiensError as exc:
        problems.append(getattr(exc, "problem", None) or Problem(rule="build-error", message=str(exc)))
        # The units made so far are kept (not pruned: the others may still be in use).
        pages.keep()
        items.keep()
        texts.keep()
        return
    result.computed["pages"] = pages.computed
    result.computed["items"] = items.computed
    pages.prune()
    items.prune()
    texts.prune()
    kept.prune()
    linted = feedlint.KeptItems(root / LINT_CACHE if use_cache else None, version=f"{version} {unitcache.libraries()}")
    _lint(result, project, feed_path or root / checks.FEED_PATH, linted)
    if preview_url is not None and not result.errors:
        # The checks saw the show as it will be published; only the feeds' addresses move to the
        # preview. Rewritten as text: an http preview address is refused by the feed builder,
        # which holds published feeds to https.
        old, new = project.show.base_url.encode(), preview_url.encode()
        feeds = dict(_feed_documents(result.files))
        for path, content in result.files.items():
            if path.suffix == ".xml" and (isinstance(content, bytes) or path in feeds):
                # A feed handed on as a file is read whole here: a preview is of a show being written.
                result.files[path] = content_bytes(content).replace(old, new)


def _feed_documents(built: dict[PurePosixPath, Content]) -> Iterator[tuple[PurePosixPath, Content]]:
    """feed.xml and its archive pages, as the build made them."""
    path, number = layout.FEED, 0
    while (content := built.get(path)) is not None:
        yield path, content
        number += 1
        path = layout.feed_archive(number)


def _episode_checks(
    units: unitcache.Units,
    show: Show,
    settings: str,
    releases: tuple[Release, ...],
    lines: FieldLines,
    digests: unitcache.Digests,
) -> list[checks.EpisodeChecks]:
    """Each episode's own problems, kept between builds under a digest of what they depend on."""
    # Each file stamped once, however many episodes name it (a show's one cover, a host's picture).
    stamped: dict[str, object] = {}
    # The requests (a few containers an episode, none in a cycle) made with the collector off and
    # held out of its passes: else they set off full passes over the build (~60 ms at 10,000
    # episodes). Not around get_many, which may fork workers (see gcpause).
    with gcpause.paused(hold=True):
        requests = [_checks_request(show, settings, release, lines, digests, stamped) for release in releases]
    kept = iter(units.get_many([request for request in requests if request is not None]))
    # Every unit of the kind was asked for: kept now, even if the build stops before its end.
    units.close()
    # Each text of problems read back once: the episodes with none (most of them) share "[]",
    # so an unchanged episode's problems cost a lookup, not two JSON decodes.
    read: dict[bytes, tuple[Problem, ...]] = {}

    def problems(text: bytes) -> tuple[Problem, ...]:
        found = read.get(text)
        if found is None:
            found = read[text] = tuple([buildrecord.problem_from_json(data) for data in json.loads(text)])
        return found

    each = []
    with gcpause.paused(hold=True):
        for release, request in zip(releases, requests, strict=True):
            if request is None:
                # An image fetched from another host may be found or not from one build to the next.
                each.append(checks.episode_checks(show, release, lines))
                continue
            unit = next(kept)
            try:
                each.append(
                    checks.EpisodeChecks(remote=problems(unit["remote"]), own=problems(unit["own"]), reusable=True)
                )
            except (KeyError, TypeError, ValueError, LookupError):
                each.append(checks.episode_checks(show, release, lines))
    return each


def _kept_images(units: unitcache.Units) -> checks.KeptFacts:
    """What gives an image's facts from ``units``, kept under the file's stamp (see
    :func:`checks.start_checks`); read, and kept, when there are none.

    Only in this process: a worker forked to make checks units (a cold build) reads the
    image, since what it kept in a store would be lost with it (and leave a temporary file).
    """
    here = os.getpid()

    def facts(file: Path, read: Callable[[Path], checks.Facts]) -> checks.Facts:
        stamp = unitcache.file_stamp(file)
        if stamp is None or os.getpid() != here:
            return read(file)
        unit = units.get((str(file),), lambda: {"facts": checks.facts_to_json(read(file))}, stamps=[stamp])
        found = checks.facts_from_json(unit["facts"]) if "facts" in unit else None
        return read(file) if found is None else found

    return facts


def _checks_request(
    show: Show,
    settings: str,
    release: Release,
    lines: FieldLines,
    digests: unitcache.Digests,
    stamped: dict[str, object] | None = None,
) -> unitcache.Request | None:
    """What one episode's own problems are made from, or None when they must be made afresh.

    :param stamped: the stamps of the files taken so far in this build, by name (filled).
    """
    episode = release.episode
    # Loops and tests spelt out (is_remote, is_local), not generators: run for every episode.
    named = [episode.cover_image]
    guests = []
    for person in episode.guests:
        named.append(person.image)
        # The lines of a guest's registry file are out of the person's repr (they name private
        # keys); the neighbours are not the episode's business (adding one does not check it
        # again). The file as its path and line, not the Source's repr (~2 us a guest).
        source = person.source
        guests.append((None if source is None else (str(source.path), source.line), person.lines))
    for chapter in episode.chapters:
        named.append(chapter.image)
    for transcript in episode.transcripts:
        named.append(str(transcript.path))
    if stamped is None:
        stamped = {}
    stamps = []
    for ref in named:
        # None and "" name no file; a URL names another host's (see model.is_local).
        if not ref:
            continue
        if "://" in ref:
            return None
        stamp = stamped.get(ref)
        if stamp is None and ref not in stamped:
            stamp = stamped[ref] = unitcache.file_stamp(show.root / ref)
        stamps.append(stamp)
    inputs = (settings, digests.release(release), guests)

    def made() -> dict[str, bytes]:
        found = checks.episode_checks(show, release, lines)
        return {
            "remote": json.dumps([buildrecord.problem_to_json(p) for p in found.remote]).encode(),
            "own": json.dumps([buildrecord.problem_to_json(p) for p in found.own]).encode(),
        }

    return (inputs, made, stamps)


def _lint(result: Build, project: Project, path: Path, kept: feedlint.KeptItems) -> None:
    """Validate the built feed with the rules of any feed, minus what a located rule already said.

    Only the items not seen by an earlier build are checked: the others' findings are in ``kept``.
    """
    feed = result.files.get(layout.FEED)
    if feed is None:
        return
    limit = project.show.feed_limit
    listed = len(result.releases) if limit is None else min(limit, len(result.releases))
    result.problems += checks.feed_problems(_size(feed), listed, path=path)
    try:
        # A feed handed on as a file is read from it a piece at a time (see feedlint).
        # A feed this build wrote comes with where its items are and their digests: not cut again.
        items = feedfile.items_of(feed) if isinstance(feed, Stored) else None
        lint = feedlint.lint_feed(
            feed, base_dir=None, feed_url=project.show.feed_url, now=result.now, kept=kept, items=items
        )
    except OSError as exc:
        # The file written a moment ago is gone (removed under the build): the next build makes it anew.
        name = layout.FEED if isinstance(feed, bytes) else feed
        message = f"{name}: the feed just built cannot be read ({exc.strerror}); publish again"
        result.problems.append(Problem(rule="build-error", message=message))
        return
    result.computed["lint"] = kept.checked
    pinned = project.state.podcast_guid == project.show.podcast_guid
    result.problems += checks.merge_feed_lint(result.problems, lint, path, guid_pinned=pinned)


@dataclass(frozen=True, slots=True)
class Commit:
    """What writing a build changed."""

    report: WriteReport
    #: Whether published.yaml was written (new GUIDs pinned).
    state_written: bool


@gcpause.thawed
def commit(result: Build, out_dir: Path, *, pin_guids: bool, kept: buildrecord.Ledger | None = None) -> Commit:
    """Write a build into ``out_dir``: only changed files, old ones removed, in one step.

    :param pin_guids: save the GUIDs of the published episodes in published.yaml first, as a
        publish does; a preview does not.
    :param kept: the output as the last publish left it (see :func:`output.write_tree`): the
        report then carries it as this write leaves it.
    :raises EntretiensError: the build has errors (a bug in the caller: commit only clean builds).
    :raises OutputError: the output cannot be written; the previous output is untouched.
    """
    project = result.project
    if project is None or result.errors or not result.files:
        msg = "a build with errors cannot be written"
        raise EntretiensError(msg)
    # What exists now is held out of the collector's full passes while the build is written (a
    # stamp per output file set them off, each over the whole build): see gcpause.
    gcpause.hold()
    return _commit(result, project, out_dir, pin_guids=pin_guids, kept=kept)


def _commit(
    result: Build, project: Project, out_dir: Path, *, pin_guids: bool, kept: buildrecord.Ledger | None
) -> Commit:
    # The audio measured must be the audio copied: an export still writing it would make the
    # enclosure length lie. Checked on the sources, before anything is written.
    if changed := releases.changed_audio(result.releases):
        raise ProblemsError(changed, project.show.root)
    state_written = False
    if pin_guids:
        # GUIDs are pinned before the feed that carries them goes out: pins for a build that then
        # fails to be written are harmless, a live feed whose GUIDs were never saved is not.
        pinned = state.merged_guids(project.state, ((r.episode.slug, r.episode.guid) for r in result.releases))
        changes = result.changes
        text = state.render_state(
            project.show.podcast_guid,
            pinned,
            show_change=changes.show if changes else None,
            episode_changes=_kept_changes(project.state, changes),
        )
        state_written = write_file(project.show.root / state.STATE_FILE, text)
    # The audio just checked against its measure: the write does not stat it again.
    checked = {str(r.audio_file): r.audio_stamp for r in result.releases if r.audio_file and r.audio_stamp}
    return Commit(report=output.write_tree(out_dir, result.files, kept, sources=checked), state_written=state_written)


def _kept_changes(recorded: PublishState, changes: dates.Changes | None) -> dict[str, Change]:
    """This build's changes, plus those recorded for episodes not out now (kept like their GUIDs)."""
    return {**dict(recorded.episode_changes), **(changes.episodes if changes else {})}
