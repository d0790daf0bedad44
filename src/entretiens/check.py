"""``check`` = build (+ links): every problem of a show, as publish would meet it, with nothing published.

``check --feed`` validates any podcast feed, a file or a URL, with the same feed validator,
and with ``--files`` the files it points to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from lxml import etree

from . import declared, feedlint, feedsource, pipeline
from . import links as linkcheck
from .errors import EXIT_OK, EXIT_PROBLEMS, Problem, Severity
from .model import Project, Release


@dataclass(slots=True, kw_only=True)
class _Findings:
    problems: list[Problem]

    def count(self, severity: Severity) -> int:
        """How many problems of a severity."""
        return sum(1 for problem in self.problems if problem.severity == severity)

    def exit_status(self, *, strict: bool = False) -> int:
        """1 with errors, or with warnings under ``strict``; info never fails."""
        failing = self.count("error") + (self.count("warning") if strict else 0)
        return EXIT_PROBLEMS if failing else EXIT_OK


@dataclass(slots=True, kw_only=True)
class CheckReport(_Findings):
    """What `check` found: every problem, and the facts it measured on the way."""

    root: Path
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


def check_show(
    show_dir: Path,
    *,
    now: datetime | None = None,
    use_cache: bool = True,
    links: linkcheck.LinkOptions | None = None,
    link_progress: linkcheck.Progress | None = None,
    remote_audio: bool = False,
) -> CheckReport:
    """Run every check on a show folder, writing nothing but the caches.

    One build, as publish runs it (the scheduled episodes measured and checked too, but kept
    out of the feed); then the links, if asked.

    :param now: the moment that decides which episodes are scheduled (default: the clock).
    :param use_cache: read the cached audio measures and link results (fresh ones are saved).
    :param links: how to check the links, or None not to check them.
    :param link_progress: called as ``(done, total, url)`` while links are checked.
    :param remote_audio: also verify the recordings left at another host (imported shows).
    :returns: the report; ``project`` is None when the show could not be loaded.
    """
    built = pipeline.build(show_dir, now=now, check_scheduled=True, tag_audio=False, use_cache=use_cache)
    # Nothing of a check is written: the documents it built go at once (their sizes are known).
    built.close()
    feed = built.feed_size
    report = CheckReport(
        root=built.root,
        problems=built.problems,
        project=built.project,
        releases=built.checked,
        drafts=len(built.drafts),
        scheduled=len(built.scheduled),
        feed_size=feed,
        feed_episodes=len(built.releases) if feed is not None else 0,
    )
    if remote_audio and built.project is not None:
        report.problems += declared.verify(built.project)
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


@dataclass(slots=True, kw_only=True)
class FeedReport(_Findings):
    """What ``check --feed`` found in a feed read from a file or a URL."""

    #: The feed as given: a path or a URL.
    source: str
    #: Where it was finally served from, after redirects; None for a file.
    url: str | None
    size: int
    #: How many ``<item>`` the feed has.
    episodes: int
    #: The folder its files were looked up in, if any.
    files: Path | None = None


def check_feed(source: str, *, files: Path | None = None, now: datetime | None = None) -> FeedReport:
    """Validate any podcast feed with the rules the feed of a show is held to.

    :param source: a file, or an http(s) URL fetched within :data:`feedsource.FEED_LIMITS`.
    :param files: the folder the feed's files are published from: each URL of the feed is
        looked up there by the longest suffix of its path, and the files found are checked
        (sizes, types, durations, artwork, chapters, transcripts).
    :param now: the moment after which dates count as future (default: the clock).
    :raises EntretiensError: the feed cannot be read (see :func:`feedsource.read_feed`).
    """
    fetched = feedsource.read_feed(source)
    data, url = fetched.data, fetched.url
    problems = feedlint.lint_feed(data, base_dir=files, feed_url=url, now=now)
    if url is None:
        # Findings in the XML are about the file given; a URL's are named when printed.
        problems = [replace(p, path=Path(source)) if p.path is None else p for p in problems]
    return FeedReport(problems=problems, source=source, url=url, size=len(data), episodes=_items(data), files=files)


def _items(data: bytes) -> int:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return 0
    return len(root.findall("channel/item"))
