"""``publish`` = build + commit: the show's feed and site written into public/, GUIDs pinned."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from . import buildrecord, gcpause, layout, output, pipeline, state, unitcache
from .errors import ConfigError, Problem, ProblemsError, StrictError
from .model import Episode, Project, Release, is_remote
from .output import Content, WriteReport
from .releases import Progress


@dataclass(slots=True)
class PublishResult:
    """What a publish did, for the summary the CLI prints."""

    project: Project
    out_dir: Path
    releases: tuple[Release, ...]
    drafts: tuple[Episode, ...]
    scheduled: tuple[Episode, ...]
    warnings: list[Problem]
    #: The files of the build. Its feed documents (see :mod:`entretiens.feedfile`) can be read
    #: only while the result holds the build (:func:`publish`'s ``hold``).
    files: dict[PurePosixPath, Content] = field(default_factory=dict)
    report: WriteReport | None = None
    state_written: bool = False
    #: The build whose documents ``files`` names, kept for the caller to read: closed by :meth:`close`.
    held: pipeline.Build | None = None

    def __enter__(self) -> PublishResult:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the documents of the build held, if any (see :meth:`pipeline.Build.close`)."""
        built, self.held = self.held, None
        if built is not None:
            built.close()

    @property
    def total_duration(self) -> timedelta:
        """The published episodes' total length."""
        return sum((r.audio.duration for r in self.releases), timedelta())


# What the build held out of the cycle collector stays so through the commit (gcpause).
@gcpause.thawed
def publish(
    show_dir: Path,
    out_dir: Path | None = None,
    *,
    now: datetime | None = None,
    include_future: bool = False,
    dry_run: bool = False,
    strict: bool = False,
    tag_audio: bool | None = None,
    progress: Progress | None = None,
    walked: buildrecord.Walked | None = None,
    hold: bool = False,
) -> PublishResult:
    """Publish a show folder into ``out_dir`` (default: ``show_dir/public``).

    :param now: the moment that decides which scheduled episodes are out (default: the clock).
    :param dry_run: run every stage but write nothing.
    :param strict: treat warnings as errors: write nothing when there is any.
    :param tag_audio: write tags into the published audio copies; None follows feed.yaml.
    :param walked: the inputs as :func:`buildrecord.look` just walked them for this show and
        output (before anything is built): recorded instead of walking the show again.
    :param hold: keep the build's feed documents for the caller to read in ``files`` (deploy
        uploads them), until it closes the result (``with publish(...) as result:``). Else they
        are removed before this returns or raises (written into ``out_dir``, refused, or a dry
        run): a publish leaves no document behind.
    :raises ProblemsError: the show, its audio or the feed has errors; nothing is written.
    :raises StrictError: ``strict`` and there are warnings; nothing is written.
    :raises OutputError: the output cannot be written; the previous output is untouched.
    """
    # The code as the check before took it (it walked the package once): for the whole publish.
    with buildrecord.one_code(walked.code if walked is not None else None):
        root = show_dir.resolve()
        target = out_dir if out_dir is not None else root / "public"
        # Before the build: a wrong output folder is said at once, not after measuring every file.
        output.check_target(target, root)
        # The inputs as they are before anything is read: a file changed during the build has a
        # newer mtime than recorded, so the next run rebuilds.
        # The ledger of the output is read once built (below): not held through the build.
        if walked is not None and (walked.root, walked.out_dir) == (root, target.resolve()):
            taken, read, named = walked.taken_ns, None if dry_run else walked.read, walked.ledger
        else:
            taken = buildrecord.now_ns()
            read = None if dry_run else buildrecord.inputs(root, target)
            named = None
        if read is not None:
            # An input saved a moment ago is waited for (a tick, at most 0.1 s) and stamped again
            # before the build reads it: the record then holds, and the next publish stops at once.
            taken = buildrecord.settle(root, read, taken)
        built = pipeline.build(
            show_dir,
            now=now,
            include_future=include_future,
            tag_audio=tag_audio,
            feed_path=target / layout.FEED,
            previous=target,
            progress=progress,
        )
        try:
            try:
                result = accept(built, target, strict=strict)
            except (ConfigError, ProblemsError, StrictError):
                if not dry_run:
                    buildrecord.forget(root)
                raise
            if read is not None:
                # The output as the last publish left it (none known: an empty ledger), so that the files
                # it proves unchanged are not read back, and the new one is recorded without a walk.
                # Read with the collector paused, and held out of its passes: 80,000 stamps and 60,000
                # digests at 10,000 episodes, no cycle among them, set off a pass every few hundred.
                with gcpause.paused(hold=True):
                    kept = buildrecord.ledger(root, named) if named is not None else buildrecord.kept(root, target)
                buildrecord.forget(root)
                known = kept or buildrecord.Ledger(stats={}, digests={})
                written = pipeline.commit(built, target, pin_guids=True, kept=known)
                result.report = written.report
                result.state_written = written.state_written
                options = buildrecord.options(target, include_future=include_future, tag_audio=tag_audio)
                _record(built, result, read, taken, options=options, kept=kept, known=known)
                # The caches' stores this build wrote have had the output's write to settle: proven
                # whole now, the next build reads their entries without a check of each.
                unitcache.prove(root)
        except BaseException:
            # Refused, or the write failed: nothing reads the build's documents.
            built.close()
            raise
        if hold:
            result.held = built
        else:
            built.close()
        return result


def _record(
    built: pipeline.Build,
    result: PublishResult,
    read: buildrecord.Stats,
    taken: int,
    *,
    options: dict[str, object],
    kept: buildrecord.Ledger | None,
    known: buildrecord.Ledger | None = None,
) -> None:
    """Save what this publish read and wrote, so that an identical next run can stop at once.

    Not for shows with remote audio: what a URL serves can change with no file changing here.
    What a publish killed as it saved a record left in ``.entretiens`` still goes (the show
    had local audio then): no save comes to remove it.
    """
    project = result.project
    root = project.show.root
    if any(is_remote(release.episode.audio) for release in result.releases):
        buildrecord.tidy(root)
        return
    pinned = root / state.STATE_FILE
    own: tuple[str, ...] = ()
    if result.state_written and pinned.exists():
        # Written by this publish, after the inputs were taken.
        stat = pinned.stat()
        read[state.STATE_FILE] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        own = (state.STATE_FILE,)
    later = [e.date for e in project.episodes if not e.draft and e.date > built.now]
    # Out by its date (not by --include-future): a clock moved back before it would leave it out.
    out = [r.episode.date for r in result.releases if r.episode.date <= built.now]
    latest = None if options.get("include_future") else max(out, default=None)
    # The output as the write left it (from its one walk and what it wrote): not walked again.
    ledger = result.report.ledger if result.report is not None else None
    # What the write changed from the ledger it began with (``known``, read from the journals as
    # ``kept``): only those names are compared as the journals are appended to.
    changes = ledger.changes if ledger is not None else None
    changed = changes[1] if changes is not None and kept is not None and changes[0] is known else None
    summary = buildrecord.Summary(
        episodes=len(result.releases),
        seconds=result.total_duration.total_seconds(),
        drafts=len(result.drafts),
        scheduled=tuple(e.date.strftime("%Y-%m-%d") for e in result.scheduled),
        feed_url=project.show.feed_url,
        problems=result.warnings,
    )
    buildrecord.save(
        root,
        options=options,
        taken_ns=taken,
        read=read,
        own=own,
        written=ledger.stats if ledger is not None else buildrecord.outputs(result.out_dir),
        written_since=ledger.since if ledger is not None else None,
        digests=ledger.digests if ledger is not None else None,
        kept=kept,
        changed=changed,
        valid_until=min(later, default=None),
        valid_from=latest,
        summary=summary,
    )


def accept(built: pipeline.Build, out_dir: Path, *, strict: bool = False) -> PublishResult:
    """What a build would publish into ``out_dir``, or the error that refuses it.

    :raises ConfigError: the show could not be loaded.
    :raises ProblemsError: the build has errors (every one, with the warnings met on the way).
    :raises StrictError: ``strict`` and the build has warnings.
    """
    project = built.project
    if project is None:
        raise ConfigError(built.problems, built.root)
    if built.errors:
        raise ProblemsError(built.problems, built.root)
    if strict and any(p.severity == "warning" for p in built.problems):
        raise StrictError(built.problems, built.root)
    return PublishResult(
        project=project,
        out_dir=out_dir,
        releases=built.releases,
        drafts=built.drafts,
        scheduled=built.scheduled,
        warnings=built.problems,
        files=built.files,
    )
