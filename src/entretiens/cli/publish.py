"""``entretiens publish``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import StrictError
from ._base import cli, length_for_people, say, with_errors_reported
from ._options import include_future_option, output_option, quiet_option, show_option, strict_option
from ._report import print_problems, progress_bar

if TYPE_CHECKING:
    from ..buildrecord import Summary
    from ..publish import PublishResult

#: Below this many episodes, probing is too quick for a progress bar to help.
PROGRESS_THRESHOLD = 8


@cli.command("publish")
@show_option
@output_option("Where to write the site and feed.  [default: public/ in the show folder]")
@include_future_option("Also publish episodes dated in the future.")
@click.option("--dry-run", is_flag=True, help="Check and build everything, write nothing.")
@strict_option("Treat warnings as errors (exit 1, nothing written).")
@click.option(
    "--tag-audio/--no-tag-audio",
    default=None,
    help="Write tags, artwork and chapters into the published MP3/M4A copies (never into audio/).  "
    "[default: feed.yaml's tag_audio]",
)
@quiet_option("Print errors only.")
@with_errors_reported
def publish_command(
    show_dir: Path,
    out_dir: Path | None,
    include_future: bool,
    dry_run: bool,
    strict: bool,
    tag_audio: bool | None,
    quiet: bool,
) -> None:
    """Build the feed and the site of a show into public/.

    Reads feed.yaml and episodes/*.yaml, measures every audio file, and replaces the output
    folder in one step: if anything is wrong, nothing is written and the previous output stays.

    \b
    Example:
        entretiens publish
        entretiens publish --show ~/shows/entretiens --output /srv/www/podcast
    """
    # An unchanged show is answered from the build record, before the stages are even imported.
    # A show that changed is walked once: the publish records the inputs this check walked.
    from ..buildrecord import look

    summary, walked = (
        (None, None) if dry_run else look(show_dir, out_dir, include_future=include_future, tag_audio=tag_audio)
    )
    if summary is not None:
        _unchanged(summary, show_dir.resolve(), out_dir or show_dir.resolve() / "public", strict=strict, quiet=quiet)
        return
    from ..publish import publish

    enabled = sys.stderr.isatty() and not quiet
    with progress_bar("Measuring audio", enabled=enabled, threshold=PROGRESS_THRESHOLD) as progress:
        result = publish(
            show_dir,
            out_dir,
            include_future=include_future,
            dry_run=dry_run,
            strict=strict,
            tag_audio=tag_audio,
            progress=progress,
            walked=walked,
        )
    if result.warnings and not quiet:
        print_problems(result.warnings, result.project.show.root)
    if not quiet:
        _summary(result, dry_run=dry_run)


def _unchanged(summary: Summary, root: Path, out_dir: Path, *, strict: bool, quiet: bool) -> None:
    """What a publish says when nothing changed since the last one: the same warnings, the same line."""
    if strict and any(p.severity == "warning" for p in summary.problems):
        raise StrictError(summary.problems, root)
    if quiet:
        return
    if summary.problems:
        print_problems(summary.problems, root)
    line = f"{summary.episodes} episode{'s' if summary.episodes != 1 else ''} ({length_for_people(summary.seconds)})"
    skipped = []
    if summary.drafts:
        skipped.append(f"{summary.drafts} draft{'s' if summary.drafts != 1 else ''}")
    if summary.scheduled:
        skipped.append(f"{len(summary.scheduled)} scheduled ({', '.join(summary.scheduled)})")
    left_out = f" Left out: {', '.join(skipped)}." if skipped else ""
    say(f"Up to date: {line} in {out_dir} (nothing changed).{left_out}", fg="green")


def _summary(result: PublishResult, *, dry_run: bool) -> None:
    count = len(result.releases)
    line = f"{count} episode{'s' if count != 1 else ''} ({length_for_people(result.total_duration.total_seconds())})"
    skipped = []
    if result.drafts:
        skipped.append(f"{len(result.drafts)} draft{'s' if len(result.drafts) != 1 else ''}")
    if result.scheduled:
        dates = ", ".join(e.date.strftime("%Y-%m-%d") for e in result.scheduled)
        skipped.append(f"{len(result.scheduled)} scheduled ({dates})")
    left_out = f" Left out: {', '.join(skipped)}." if skipped else ""
    if dry_run:
        say(f"Dry run: {line}; {len(result.files)} files would be written to {result.out_dir}.{left_out}")
        return
    report = result.report
    if report is not None and not report.changed:
        say(f"Up to date: {line} in {result.out_dir} (nothing changed).{left_out}", fg="green")
        return
    changes = ""
    if report is not None:
        changes = f" ({len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed)"
    say(f"Published {line} to {result.out_dir}{changes}.{left_out}", fg="green", bold=True)
    if report is not None and report.removed:
        # By name: a CNAME or .htaccess the host put there would otherwise vanish unnoticed.
        names = [str(path) for path in report.removed]
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        say(f"Removed: {', '.join(names[:10])}{more} (to keep a file of your own in the output, put it in static/).")
    say(f"Feed: {result.project.show.feed_url}")
    if result.state_written:
        say("GUIDs pinned in published.yaml: commit it with the show.")
