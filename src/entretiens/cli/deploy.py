"""``entretiens deploy``: publish, then upload to a bucket or a folder, feed last, then ping."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import DeployError
from ._base import cli, say, with_errors_reported
from ._options import format_option, include_future_option, output_option, quiet_option, show_option, strict_option
from ._report import print_problems, progress_bar

if TYPE_CHECKING:
    from .. import deploy as stage
    from ..deploy import pings
    from ..publish import PublishResult


@cli.command("deploy")
@show_option
@output_option("Where publish writes the site first.  [default: public/ in the show folder]")
@click.option("--to", "to", metavar="TARGET", help="s3://BUCKET/PREFIX or a folder.  [default: feed.yaml's deploy.to]")
@click.option("--endpoint-url", metavar="URL", help="The S3-compatible service's URL (R2, B2, MinIO...).")
@click.option("--region", metavar="NAME", help="The bucket's region.")
@click.option("--delete", is_flag=True, help="After the feed, delete what deploy put there and the show lost.")
@click.option(
    "--allow-removal",
    multiple=True,
    metavar="SLUG",
    help="Let a live episode leave the feed (repeatable; its slug, or its GUID).",
)
@click.option("--force", is_flag=True, help="Replace the live feed even if GUIDs, enclosures or the feed URL change.")
@click.option("--live-feed", metavar="URL", help="The live feed, if the target has none.  [default: base_url]")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded, deleted and pinged; change nothing.")
@click.option("--no-ping", is_flag=True, help="Tell no directory and no hub.")
@click.option(
    "--pubnotify-url",
    metavar="URL",
    envvar="ENTRETIENS_PUBNOTIFY_URL",
    help="The Podcast Index's pubnotify endpoint.  [default: the Podcast Index's]",
)
@click.option("--podping-url", metavar="URL", help="A Podping HTTP gateway (token from PODPING_TOKEN).")
@format_option("json: a report on stdout, for CI.")
@include_future_option("Also publish episodes dated in the future.")
@strict_option("Treat warnings as errors (exit 1, nothing published or uploaded).")
@quiet_option("Print errors only.")
@with_errors_reported
def deploy_command(
    show_dir: Path,
    out_dir: Path | None,
    to: str | None,
    endpoint_url: str | None,
    region: str | None,
    delete: bool,
    allow_removal: tuple[str, ...],
    force: bool,
    live_feed: str | None,
    dry_run: bool,
    no_ping: bool,
    pubnotify_url: str | None,
    podping_url: str | None,
    output_format: str,
    include_future: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Publish the show, then upload it where listeners fetch it: media first, feed last.

    Uploads only what changed (a manifest on the target remembers what was sent), refuses a
    feed that would drop a live episode or change its GUID or enclosure URL, checks every new
    enclosure (HEAD and a byte range) before the feed goes up, and pings WebSub, the Podcast
    Index and Podping. Credentials come from the environment or ~/.aws, as for any S3 tool.

    \b
    Example:
        entretiens deploy --to s3://my-bucket/podcast --endpoint-url https://s3.example.net
        entretiens deploy --to /srv/www/podcast --delete
        entretiens deploy --dry-run --format json
    """
    from .. import deploy as stage
    from ..deploy import pings
    from ..publish import publish  # here: the stages are not loaded to start the command line

    # The build's feed documents are uploaded from where it wrote them (dry run or not): held
    # until the upload is done, then removed.
    with publish(show_dir, out_dir, include_future=include_future, dry_run=dry_run, strict=strict, hold=True) as result:
        show = result.project.show
        if result.warnings and not quiet and output_format == "text":
            print_problems(result.warnings, show.root)
        settings = show.deploy
        spec = to or settings.to
        if not spec:
            msg = "nowhere to deploy to: give --to s3://BUCKET/PREFIX (or a folder), or set deploy.to in feed.yaml"
            raise DeployError(msg)
        target = _open_target(spec, result, endpoint_url or settings.endpoint_url, region or settings.region)
        slugs = {guid: slug for slug, guid in result.project.state.guids}
        slugs.update({release.episode.guid: release.episode.slug for release in result.releases})
        site = stage.Site(base_url=show.base_url, feed_url=show.feed_url, slugs=slugs)
        options = stage.Options(
            delete=delete, allow_removal=frozenset(allow_removal), force=force, live_feed_url=live_feed
        )
        plan = stage.prepare(result.files, target, site, options)
        ping_settings = pings.PingSettings(
            websub_hub=show.websub_hub,
            pubnotify_url=(pubnotify_url or pings.PUBNOTIFY_URL) if settings.podcast_index else None,
            podping_url=podping_url or settings.podping,
            podping_token=os.environ.get(pings.PODPING_TOKEN_VARIABLE) or None,
        )
        if no_ping:
            ping_settings = pings.PingSettings(pubnotify_url=None)
        if dry_run:
            _print_plan(plan, ping_settings, output_format, quiet)
            return
        outcome = _execute(plan, target, show_progress=sys.stderr.isatty() and not quiet and output_format == "text")
        ping_results = pings.notify(show.feed_url, ping_settings, medium=show.medium) if outcome.uploaded else []
        _print_outcome(plan, outcome, ping_results, output_format, quiet)


def _open_target(spec: str, result: PublishResult, endpoint_url: str | None, region: str | None) -> stage.Target:
    from .. import deploy as stage

    parsed = stage.parse_target(spec, base=result.project.show.root)
    if isinstance(parsed, Path):
        show_root = result.project.show.root.resolve()
        out = result.out_dir.resolve()
        for protected, what in ((out, "the publish output folder"), (show_root, "the show folder")):
            if parsed == protected or parsed in protected.parents:
                raise DeployError(f"{parsed}: cannot deploy into {what} or one of its parents (choose another folder)")
        return stage.FolderTarget(parsed)
    from ..deploy import s3  # boto3 is imported only for a bucket

    bucket, prefix = parsed
    return s3.S3Target(s3.connect(endpoint_url, region), bucket, prefix)


def _execute(plan: stage.Plan, target: stage.Target, *, show_progress: bool) -> stage.Outcome:
    """Upload, with a bar counting bytes on a terminal."""
    from .. import deploy as stage

    label = f"Uploading {len(plan.uploads)} files, {_size(plan.upload_bytes)}"
    with progress_bar(label, enabled=show_progress and bool(plan.uploads)) as bar:
        if bar is None:
            return stage.execute(plan, target)
        sent = 0

        def progress(key: str, count: int) -> None:
            nonlocal sent
            sent += count
            bar(sent, plan.upload_bytes, key)

        return stage.execute(plan, target, progress=progress)


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return f"{count} B"


def _print_plan(plan: stage.Plan, ping_settings: pings.PingSettings, output_format: str, quiet: bool) -> None:
    from .. import deploy as stage
    from ..deploy import pings

    planned_pings = pings.planned(ping_settings) if plan.uploads else []
    if output_format == "json":
        data = _json_base(plan, dry_run=True)
        data["uploads"] = [_upload_json(upload) for upload in plan.uploads]
        data["deletions"] = plan.removable if plan.delete else []
        data["kept"] = [] if plan.delete else plan.removable
        data["pings"] = [{"name": name, "endpoint": endpoint} for name, endpoint in planned_pings]
        click.echo(json.dumps(data, indent=2))
        return
    if quiet:
        return
    for note in plan.notes:
        say(f"Note: {note}", fg="cyan")
    for upload in plan.uploads:
        click.echo(f"upload  {upload.key}  ({_size(upload.size)}, {stage.plan.PHASE_NAMES[upload.phase]})")
    for key in plan.removable:
        click.echo(f"delete  {key}" if plan.delete else f"keep    {key}  (no longer in the show; --delete removes it)")
    for name, endpoint in planned_pings:
        click.echo(f"ping    {name}  {endpoint}")
    say(
        f"Dry run: {len(plan.uploads)} files ({_size(plan.upload_bytes)}) would be uploaded to {plan.target}, "
        f"{len(plan.unchanged)} unchanged, {len(plan.removable) if plan.delete else 0} deleted."
    )


def _print_outcome(
    plan: stage.Plan,
    outcome: stage.Outcome,
    results: list[pings.PingResult],
    output_format: str,
    quiet: bool,
) -> None:
    if output_format == "json":
        data = _json_base(plan, dry_run=False)
        data["uploaded"] = [_upload_json(upload) for upload in outcome.uploaded]
        data["deleted"] = outcome.deleted
        data["kept"] = [key for key in plan.removable if key not in outcome.deleted]
        data["verified"] = outcome.verified
        data["pings"] = [{"name": r.name, "endpoint": r.endpoint, "ok": r.ok, "detail": r.detail} for r in results]
        click.echo(json.dumps(data, indent=2))
        return
    for result in results:
        if not result.ok:
            say(f"Warning: {result.name} ping to {result.endpoint} failed: {result.detail}", fg="yellow")
    if quiet:
        return
    for note in plan.notes:
        say(f"Note: {note}", fg="cyan")
    if not outcome.uploaded and not outcome.deleted:
        say(f"Up to date: nothing to upload to {plan.target} ({len(plan.unchanged)} files unchanged).", fg="green")
        return
    sent = sum(upload.size for upload in outcome.uploaded)
    say(
        f"Deployed to {plan.target}: {len(outcome.uploaded)} files uploaded ({_size(sent)}), "
        f"{len(plan.unchanged)} unchanged, {len(outcome.deleted)} deleted; "
        f"{len(outcome.verified)} enclosures checked.",
        fg="green",
        bold=True,
    )
    kept = [key for key in plan.removable if key not in outcome.deleted]
    if kept:
        say(f"{len(kept)} files no longer in the show were left in place (--delete removes them).")
    for result in results:
        if result.ok:
            say(f"Pinged {result.name} ({result.endpoint}).")


def _json_base(plan: stage.Plan, *, dry_run: bool) -> dict[str, Any]:
    return {"target": plan.target, "dry_run": dry_run, "unchanged": len(plan.unchanged), "notes": plan.notes}


def _upload_json(upload: stage.Upload) -> dict[str, Any]:
    from .. import deploy as stage

    return {"key": upload.key, "bytes": upload.size, "phase": stage.plan.PHASE_NAMES[upload.phase]}
