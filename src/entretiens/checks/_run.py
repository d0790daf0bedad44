"""`entretiens check`: every stage of publish but the writing, gathering all problems instead of stopping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from entretiens.checks._rules import feed_problems, run_checks
from entretiens.errors import EXIT_OK, EXIT_PROBLEMS, ConfigError, EntretiensError, Problem, ProblemsError, Severity
from entretiens.loading import load_project
from entretiens.model import AudioInfo, Episode, Project, Release

if TYPE_CHECKING:
    from entretiens.links import LinkOptions, LinkReport

#: Where `check` says feed problems are: the feed as publish would write it by default.
FEED_PATH = Path("public") / "feed.xml"

#: Findings of the feed validator that a located rule of ours already reports, at its line in
#: the YAML; the validator's copy, located in the generated XML, would only repeat it.
_LOCATED_ELSEWHERE = {
    "apple.serial.episode": "serial-number-missing",
    "apple.description.length": "show-description-length",
    "apple.enclosure.unsupported": "audio-format",
}


def merge_feed_lint(
    problems: list[Problem], lint: list[Problem], path: Path, *, guid_pinned: bool = False
) -> list[Problem]:
    """The feed validator's findings, minus those a rule already reported at their source line.

    :param problems: what the show's own rules found.
    :param lint: what :func:`feedlint.lint_feed` found in the built feed.
    :param path: the feed's file, named in the findings that remain.
    :param guid_pinned: the show's podcast:guid comes from published.yaml: after a move of
        base_url it no longer matches the feed URL, which is the point of pinning it (a note).
    """
    located = {rule for rule in _LOCATED_ELSEWHERE.values() if any(p.rule == rule for p in problems)}
    merged = []
    for problem in lint:
        if _LOCATED_ELSEWHERE.get(problem.rule) in located:
            continue
        if guid_pinned and problem.rule == "pc20.guid.mismatch":
            problem = replace(
                problem,
                severity="info",
                hint="expected after a move: the GUID pinned in published.yaml keeps the show's identity",
            )
        merged.append(replace(problem, path=path) if problem.path is None else problem)
    return merged


@dataclass(slots=True, kw_only=True)
class CheckReport:
    """What `check` found: every problem, and the facts it measured on the way."""

    root: Path
    problems: list[Problem]
    #: None when the show could not be loaded.
    project: Project | None = None
    #: Every checked episode with its measured audio (scheduled ones included, drafts not).
    releases: tuple[Release, ...] = ()
    drafts: int = 0
    scheduled: int = 0
    #: The generated feed, when one could be built.
    feed_size: int | None = None
    feed_episodes: int = 0
    #: The link check, when asked for.
    links: LinkReport | None = None

    def count(self, severity: Severity) -> int:
        """How many problems of a severity."""
        return sum(1 for problem in self.problems if problem.severity == severity)

    def exit_status(self, *, strict: bool = False) -> int:
        """1 with errors, or with warnings under ``strict``; info never fails."""
        failing = self.count("error") + (self.count("warning") if strict else 0)
        return EXIT_PROBLEMS if failing else EXIT_OK


def check_show(
    show_dir: Path,
    *,
    now: datetime | None = None,
    use_cache: bool = True,
    links: LinkOptions | None = None,
    link_progress: Callable[[int, int, str], None] | None = None,
) -> CheckReport:
    """Run every check on a show folder, writing nothing but the caches.

    Loads the show, measures the audio, prepares the episodes, runs the rules, builds the
    feed in memory and validates it, as publish does; then checks the links if asked.

    :param now: the moment that decides which episodes are scheduled (default: the clock).
    :param use_cache: read the cached audio measures and link results (fresh ones are saved).
    :param links: how to check the links, or None not to check them.
    :param link_progress: called as ``(done, total, url)`` while links are checked.
    :returns: the report; loader errors end it early (``project`` is None then).
    """
    # Imported here: publish imports this package, so the import must wait until it is used.
    from entretiens import publish

    root = show_dir.resolve()
    try:
        project = load_project(root)
    except ConfigError as exc:
        return CheckReport(root=root, problems=list(exc.problems))
    moment = now or datetime.now(timezone.utc)
    problems = list(project.warnings)
    episodes, drafts, _ = publish.select(project, moment, include_future=True)
    report = CheckReport(
        root=root,
        problems=problems,
        project=project,
        drafts=len(drafts),
        scheduled=sum(1 for e in episodes if e.date > moment),
    )
    infos = _probe(project, episodes, problems, use_cache=use_cache)
    releases, ready = _prepare(project, [e for e in episodes if e.slug in infos], infos, problems)
    report.releases = releases
    problems += run_checks(project, releases, now=moment)
    if not any(episode.date <= moment for episode in episodes):
        problems.append(publish.nothing_to_publish(root))
    current = tuple(release for release in ready if release.episode.date <= moment)
    if current:
        _check_feed(project, current, moment, report)
    if links is not None:
        from entretiens.links import CACHE_FILE, check_links, collect_places

        link_report = check_links(
            collect_places(project),
            options=links,
            cache_path=root / CACHE_FILE,
            read_cache=use_cache,
            progress=link_progress,
        )
        report.links = link_report
        problems += link_report.problems
    return report


def _probe(
    project: Project, episodes: list[Episode], problems: list[Problem], *, use_cache: bool
) -> dict[str, AudioInfo]:
    """Measure the audio; a file that fails is reported and the others are measured all the same."""
    from entretiens import publish

    infos, failures = publish.probe_each(project, episodes, use_cache=use_cache)
    problems += failures
    return infos


def _prepare(
    project: Project, episodes: list[Episode], infos: dict[str, AudioInfo], problems: list[Problem]
) -> tuple[tuple[Release, ...], tuple[Release, ...]]:
    """Releases for every probed episode, and those that prepared without error (the feed's).

    prepare stops at the first episode in error; here each episode is prepared alone then, so
    that the others are still checked and the feed still built.
    """
    from entretiens import publish

    try:
        releases, warnings = publish.prepare(project, episodes, infos)
    except ProblemsError:
        pass
    else:
        problems += warnings
        return releases, releases
    everything: list[Release] = []
    ready: list[Episode] = []
    for episode in episodes:
        try:
            (release,), warnings = publish.prepare(project, [episode], infos)
        except ProblemsError as exc:
            problems += exc.problems
            info = infos[episode.slug]
            release = Release(episode=episode, audio=info, chapters=episode.chapters, enclosure_length=info.size)
        else:
            problems += warnings
            ready.append(episode)
        everything.append(release)
    together = publish.prepare(project, ready, infos)[0] if ready else ()
    return tuple(everything), together


def _check_feed(project: Project, releases: tuple[Release, ...], now: datetime, report: CheckReport) -> None:
    """Build the feed in memory as publish would, and validate it with the same rules."""
    from entretiens import feed as feeds
    from entretiens import feedlint, publish

    root = project.show.root
    try:
        # The feed alone: the pages and their images add nothing to what is checked here.
        feed = feeds.build_feed(project.show, releases, build_date=publish.build_date(releases))
    except EntretiensError as exc:
        report.problems.append(Problem(rule="build-error", path=root, message=str(exc)))
        return
    report.feed_size = len(feed)
    report.feed_episodes = len(releases)
    path = root / FEED_PATH
    report.problems += feed_problems(feed, len(releases), path=path)
    lint = feedlint.lint_feed(feed, base_dir=None, feed_url=project.show.feed_url, now=now)
    pinned = project.state.podcast_guid == project.show.podcast_guid
    report.problems += merge_feed_lint(report.problems, lint, path, guid_pinned=pinned)
