"""``check`` = build (+ links): every problem of a show, as publish would meet it, with nothing published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import links as linkcheck
from . import pipeline
from .errors import EXIT_OK, EXIT_PROBLEMS, Problem, Severity
from .model import Project, Release


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
    links: linkcheck.LinkReport | None = None

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
    links: linkcheck.LinkOptions | None = None,
    link_progress: linkcheck.Progress | None = None,
) -> CheckReport:
    """Run every check on a show folder, writing nothing but the caches.

    One build, as publish runs it (the scheduled episodes measured and checked too, but kept
    out of the feed); then the links, if asked.

    :param now: the moment that decides which episodes are scheduled (default: the clock).
    :param use_cache: read the cached audio measures and link results (fresh ones are saved).
    :param links: how to check the links, or None not to check them.
    :param link_progress: called as ``(done, total, url)`` while links are checked.
    :returns: the report; ``project`` is None when the show could not be loaded.
    """
    built = pipeline.build(show_dir, now=now, check_scheduled=True, tag_audio=False, use_cache=use_cache)
    feed = built.feed
    report = CheckReport(
        root=built.root,
        problems=built.problems,
        project=built.project,
        releases=built.checked,
        drafts=len(built.drafts),
        scheduled=len(built.scheduled),
        feed_size=None if feed is None else len(feed),
        feed_episodes=len(built.releases) if feed is not None else 0,
    )
    if links is not None and built.project is not None:
        report.links = linkcheck.check_links(
            linkcheck.collect_places(built.project),
            options=links,
            cache_path=built.root / linkcheck.CACHE_FILE,
            read_cache=use_cache,
            progress=link_progress,
        )
        report.problems += report.links.problems
    return report
