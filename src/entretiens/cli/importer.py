"""``entretiens import``: bring a podcast over from another host, then say what to do next."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._base import cli, say, with_errors_reported
from ._report import progress_bar

if TYPE_CHECKING:
    from ..importer import Report


@cli.command("import")
@click.argument("source")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", metavar="URL", help="Where the new show will be served (https://.../).")
@click.option("--download-audio", is_flag=True, help="Download every recording into audio/ (resumable).")
@click.option("--force", is_flag=True, help="Write into FOLDER even if it is not empty.")
@click.option("--quiet", "-q", is_flag=True, help="Print the summary and the next steps only.")
@with_errors_reported
def import_command(
    source: str, folder: Path | None, base_url: str | None, download_audio: bool, force: bool, quiet: bool
) -> None:
    """Import the podcast feed SOURCE (a URL or a file) into a new show folder.

    GUIDs, publication dates, titles, numbers and enclosure URLs are kept exactly as they are
    live, so that no subscriber gets an episode twice. By default the recordings stay at the
    old host, published with the length, type and duration the feed declared.
    """
    # Imported here: every command's module is loaded at start-up (requests, lxml).
    from .. import importer

    if base_url is not None and not base_url.startswith("https://"):
        raise click.BadParameter("must be an https:// address", param_hint="--base-url")
    with progress_bar("Downloading audio", enabled=download_audio and sys.stderr.isatty() and not quiet) as bar:

        def progress(done: int, total: int | None) -> None:
            if bar is not None:
                bar(done, total or max(done, 1), "")

        report = importer.import_show(
            source, folder, base_url=base_url, download_audio=download_audio, force=force, progress=progress
        )
    _print(report, quiet=quiet)


def _print(report: Report, *, quiet: bool) -> None:
    if not quiet:
        for kind, label, colour in (("skipped", "Skipped", "red"), ("dropped", "Not carried", "yellow"),
                                    ("approx", "Approximated", "yellow"), ("note", "Note", None)):  # fmt: skip
            for finding in report.of(kind):  # type: ignore[arg-type]
                where = "show" if finding.where == "show" else f"'{finding.where}'"
                say(f"{label}: {where}: {finding.field}: {finding.message}", fg=colour)
    skipped = f", {report.skipped} skipped" if report.skipped else ""
    downloaded = f", {report.downloaded} recordings downloaded" if report.downloaded else ""
    say(f"Imported '{report.title}': {report.imported} episodes{skipped}{downloaded} into {report.folder}/.", bold=True)
    folder = report.folder
    say("Next steps, to move the feed without losing a subscriber:")
    step = 1
    if report.base_url_missing:
        say(f"  {step}. Set base_url in {folder / 'feed.yaml'} to where the show will be served.")
        step += 1
    say(f"  {step}. cd {folder} && entretiens check, then entretiens publish (and commit published.yaml).")
    say(f"  {step + 1}. Put public/ online (entretiens deploy), then check it: entretiens check --feed URL.")
    say(
        f"  {step + 2}. At the old host, redirect the old feed address to the new one with a 301, or set its "
        "new feed URL (itunes:new-feed-url) if it offers that; keep it until the apps have followed."
    )
