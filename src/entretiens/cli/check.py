"""``entretiens check``."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._base import cli, length_for_people, say, with_errors_reported
from ._options import format_option, quiet_option, show_option, strict_option
from ._report import print_problems, problem_order, progress_bar, relative

if TYPE_CHECKING:
    from entretiens.check import CheckReport, FeedReport
    from entretiens.links import LinkReport

#: Identifies the JSON document; the number changes only when a field changes meaning or goes.
JSON_FORMAT = "entretiens-check"
JSON_VERSION = 1

_NOUNS = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "info": ("note", "notes")}

EPILOG = (
    "Exit status: 0 no errors (warnings and notes may have been printed), 1 errors found "
    "(or warnings, with --strict), or the feed given to --feed could not be read (missing, "
    "unreachable, an error status, a web page), 2 bad usage."
)


def _finite(param: click.Parameter, value: float) -> float:
    """Refuse nan and inf, which click's FloatRange lets through (nan compares false with its bounds)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds.", param=param)
    return value


@cli.command("check", epilog=EPILOG)
@show_option
@format_option("json also writes a report for tools on stdout (its schema is in docs/rules.md).")
@strict_option("Fail on warnings too (notes never fail).")
@click.option("--links", "links", is_flag=True, help="Also check every web address the show cites (uses the network).")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="With --links: requests in flight at most (one at a time per host).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    callback=lambda ctx, param, value: _finite(param, value),
    default=10.0,
    show_default=True,
    help="With --links: seconds to wait for a server to connect or answer.",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0.1),
    callback=lambda ctx, param, value: _finite(param, value),
    default=60.0,
    show_default=True,
    help="With --links: seconds for the whole link check; links not done by then are reported as link-timeout.",
)
@click.option(
    "--remote-audio",
    is_flag=True,
    help="Also check that audio left at another host (an imported show) answers with the declared length and type.",
)
@click.option(
    "--no-cache", is_flag=True, help="Measure the audio and check the links again, ignoring the last day's results."
)
@quiet_option("Print errors only on stderr.")
@click.option(
    "--feed",
    "feed_source",
    metavar="PATH_OR_URL",
    help="Check this feed instead of a show: any podcast feed, a file or an http(s) address.",
)
@click.option(
    "--files",
    "files_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="With --feed: the folder the feed's files are published from; the files it points to are checked too.",
)
@with_errors_reported
def check_command(
    show_dir: Path,
    output_format: str,
    strict: bool,
    links: bool,
    jobs: int,
    timeout: float,
    deadline: float,
    no_cache: bool,
    remote_audio: bool,
    quiet: bool,
    feed_source: str | None,
    files_dir: Path | None,
) -> None:
    """Report every problem of a show, as Apple, Spotify and podcast apps would see it.

    Loads the show, measures the audio, runs the rules on the show, the episodes and the
    audio, then builds the feed in memory and validates it with the rules publish uses.
    Nothing is written to public/. What check calls an error, publish refuses to publish.
    The rules are listed in docs/rules.md.

    With --feed, checks any podcast feed instead, a file or a URL, with the rules of the
    feed validator; --files DIR also checks the files it points to (audio, artwork, chapters,
    transcripts), found in DIR by the end of each URL's path.

    \b
    Example:
        entretiens check
        entretiens check --strict --format json > check.json
        entretiens check --links --jobs 4 --deadline 120
        entretiens check --feed public/feed.xml --files public
        entretiens check --feed https://podcast.example.org/feed.xml
    """
    # Imported here, not at the top: every command's module is loaded at start-up, and an
    # unchanged publish should not pay for the stages it does not run.
    from entretiens.check import check_show
    from entretiens.feedsource import is_url
    from entretiens.links import LinkOptions

    if files_dir is not None and feed_source is None:
        raise click.UsageError("--files needs --feed: it names where the feed's files are")
    if feed_source is not None:
        if links:
            raise click.UsageError("--links checks a show's links; it cannot be used with --feed")
        if not is_url(feed_source) and not Path(feed_source).is_file():
            raise click.BadParameter(f"{feed_source!r}: no such file", param_hint="--feed")
        _check_feed(feed_source, files_dir, output_format=output_format, strict=strict, quiet=quiet)
        return
    options = LinkOptions(jobs=jobs, timeout=timeout, deadline=deadline) if links else None
    with progress_bar("Checking links", enabled=sys.stderr.isatty() and not quiet) as progress:
        report = check_show(
            show_dir, use_cache=not no_cache, links=options, link_progress=progress, remote_audio=remote_audio
        )
    status = report.exit_status(strict=strict)
    shown = [p for p in report.problems if p.severity == "error"] if quiet else report.problems
    print_problems(shown, report.root)
    if not quiet:
        _print_audio(report)
        if report.links is not None:
            _print_links(report.links)
        _print_summary(report, strict=strict, failed=bool(status))
    if output_format == "json":
        click.echo(json.dumps(json_document(report, strict=strict), ensure_ascii=False, indent=2))
    sys.exit(status)


def _check_feed(source: str, files: Path | None, *, output_format: str, strict: bool, quiet: bool) -> None:
    """``check --feed``: report on any feed, as a show's own is reported."""
    from entretiens import net
    from entretiens.check import check_feed

    report = check_feed(source, files=files)
    status = report.exit_status(strict=strict)
    shown = [p for p in report.problems if p.severity == "error"] if quiet else report.problems
    named = net.shown_url(report.url) if report.url else None
    print_problems(shown, None, source=named)
    if not quiet:
        count = report.episodes
        scope = f"Checked the feed {named or source} ({count} episode{'s' if count != 1 else ''}"
        scope += f", files in {files})" if files is not None else ")"
        _print_found(report, scope, strict=strict, failed=bool(status))
    if output_format == "json":
        click.echo(json.dumps(feed_document(report, strict=strict), ensure_ascii=False, indent=2))
    sys.exit(status)


def _feed_path() -> str:
    from entretiens.checks import FEED_PATH

    return FEED_PATH.as_posix()


def _link_rules() -> dict[str, str]:
    from entretiens.links import RULES

    return dict(RULES)


def _print_audio(report: CheckReport) -> None:
    """One line on the audio: the formats met, mono or stereo, and the total length."""
    if not report.releases:
        return
    kinds: Counter[str] = Counter()
    for release in report.releases:
        info = release.audio
        parts = [info.codec or info.mime_type]
        if info.bitrate:
            parts.append(f"{info.bitrate / 1000:.0f} kbps")
        if info.channels:
            parts.append({1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels"))
        if info.sample_rate:
            parts.append(f"{info.sample_rate / 1000:g} kHz")
        kinds[" ".join(parts)] += 1
    total = sum((r.audio.duration for r in report.releases), timedelta()).total_seconds()
    described = ", ".join(f"{kind} ({count})" if len(kinds) > 1 else kind for kind, count in kinds.most_common())
    count = len(report.releases)
    say(f"Audio: {count} file{'s' if count != 1 else ''}, {length_for_people(total)} in all: {described}.")


def _print_links(links: LinkReport) -> None:
    """The summary table of the link check."""
    places = len(links.places)
    cached = f", {links.from_cache} from the cache" if links.from_cache else ""
    say(
        f"Links: {len(links.results)} address{'es' if len(links.results) != 1 else ''} in {places} "
        f"place{'s' if places != 1 else ''}, checked in {links.elapsed:.1f} s{cached}."
    )
    if not links.results:
        return
    say(f"  {'outcome':<14} {'links':>5}  rule")
    for status, count in links.counts().items():
        colour = "green" if status == "ok" else "yellow"
        say(click.style(f"  {status:<14} {count:>5}  {_link_rules().get(status, '')}".rstrip(), fg=colour))


def _print_summary(report: CheckReport, *, strict: bool, failed: bool) -> None:
    if report.project is None:
        say(f"The show could not be loaded: {_found(report)}.", fg="red", bold=True)
        return
    checked = len(report.releases)
    scope = f"Checked {checked} episode{'s' if checked != 1 else ''}"
    if report.drafts:
        scope += f" ({report.drafts} draft{'s' if report.drafts != 1 else ''} left out)"
    _print_found(report, scope, strict=strict, failed=failed)


def _found(report: CheckReport | FeedReport) -> str:
    counts = [(report.count(s), _NOUNS[s]) for s in ("error", "warning", "info")]
    return ", ".join(f"{n} {one if n == 1 else many}" for n, (one, many) in counts if n)


def _print_found(report: CheckReport | FeedReport, scope: str, *, strict: bool, failed: bool) -> None:
    found = _found(report)
    if not found:
        say(f"{scope}: no problems.", fg="green", bold=True)
        return
    tail = " (--strict: warnings fail too)" if strict and report.count("warning") else ""
    colour = "red" if failed else ("yellow" if report.count("warning") else "green")
    say(f"{scope}: {found}{tail}.", fg=colour, bold=True)


def json_document(report: CheckReport, *, strict: bool) -> dict[str, object]:
    """The ``--format json`` report (schema documented in docs/rules.md)."""
    root = report.root
    status = report.exit_status(strict=strict)
    problems = sorted(
        report.problems,
        key=lambda p: problem_order(p, root),
    )
    document: dict[str, object] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "show": str(root),
        "ok": status == 0,
        "exit_status": status,
        "strict": strict,
        "counts": {severity: report.count(severity) for severity in ("error", "warning", "info")},
        "episodes": {
            "checked": len(report.releases),
            "drafts": report.drafts,
            "scheduled": report.scheduled,
        },
        "problems": [
            {
                "rule": p.rule,
                "severity": p.severity,
                "file": relative(p.path, root),
                "line": p.line,
                "field": p.field,
                "message": p.message,
                "hint": p.hint,
            }
            for p in problems
        ],
        "audio": [
            {
                "episode": r.episode.slug,
                "file": r.episode.audio,
                "mime_type": r.audio.mime_type,
                "codec": r.audio.codec,
                "duration": round(r.audio.duration.total_seconds(), 3),
                "bitrate": r.audio.bitrate,
                "sample_rate": r.audio.sample_rate,
                "channels": r.audio.channels,
            }
            for r in report.releases
        ],
        "feed": None
        if report.feed_size is None
        else {"file": _feed_path(), "size": report.feed_size, "episodes": report.feed_episodes},
        "links": None if report.links is None else _links_document(report.links, root),
    }
    return document


def feed_document(report: FeedReport, *, strict: bool) -> dict[str, object]:
    """The ``--format json`` report of ``check --feed``: the show's schema, without a show."""
    from entretiens import net

    status = report.exit_status(strict=strict)
    named = net.shown_url(report.url) if report.url else report.source
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "show": None,
        "ok": status == 0,
        "exit_status": status,
        "strict": strict,
        "counts": {severity: report.count(severity) for severity in ("error", "warning", "info")},
        "episodes": None,
        "problems": [
            {
                "rule": p.rule,
                "severity": p.severity,
                "file": relative(p.path, None) if p.path is not None else named,
                "line": p.line,
                "field": p.field,
                "message": p.message,
                "hint": p.hint,
            }
            for p in sorted(report.problems, key=lambda p: problem_order(p, None))
        ],
        "audio": [],
        "feed": {"file": named, "size": report.size, "episodes": report.episodes},
        "links": None,
    }


def _links_document(links: LinkReport, root: Path) -> dict[str, object]:
    places: dict[str, list[dict[str, object]]] = {}
    for place in links.places:
        places.setdefault(place.url, []).append(
            {"file": relative(place.path, root), "line": place.line, "field": place.field}
        )
    return {
        "elapsed": round(links.elapsed, 3),
        "from_cache": links.from_cache,
        "counts": links.counts(),
        "results": [
            {
                "url": result.url,
                "status": result.status,
                "rule": _link_rules().get(result.status),
                "http_status": result.http_status,
                "final_url": result.final_url,
                "moved_to": result.moved_to,
                "method": result.method,
                "attempts": result.attempts,
                "elapsed": result.elapsed,
                "cached": result.cached,
                "detail": result.detail,
                "places": places.get(result.url, []),
            }
            for result in links.results.values()
        ],
    }
