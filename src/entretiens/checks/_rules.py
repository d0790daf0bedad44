"""The rules over a loaded show and its measured audio, and over the feed built from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from entretiens import markup
from entretiens.checks._episodes import date_problems, description_problems, episode_problems, numbering_problems
from entretiens.checks._media import (
    KeptFacts,
    artwork_problems,
    audio_problems,
    channel_problems,
    forget_images,
    image_problems,
)
from entretiens.checks._remote import episode_remote_problems, names_remote_image, show_remote_problems
from entretiens.errors import Problem
from entretiens.loading import FEED_FILE, GUESTS_DIR
from entretiens.markup import to_plain_text
from entretiens.model import FieldLines, Person, Project, Release, Show
from entretiens.podcast_spec import DESCRIPTION_LIMIT
from entretiens.remote_images import forget
from entretiens.show_templates import template_problems

#: Apps download the whole feed at every refresh, often hourly; FeedBurner stopped reading
#: feeds over 1 MB, and other services cut them too.
FEED_SIZE_LIMIT = 1024 * 1024
#: Apple Podcasts long listed only the newest 300 episodes of a feed.
FEED_EPISODE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class EpisodeChecks:
    """What the per-episode rules found in one episode, kept apart so a build can reuse it.

    A function of the episode (its YAML, its guests' registry files), its measured audio, the
    show's settings, and the files it names (artwork, photos, chapter images, HTML transcripts).
    """

    #: Images from other hosts (reported, for every episode, before the other rules' findings).
    remote: tuple[Problem, ...]
    #: Everything else the per-episode rules found.
    own: tuple[Problem, ...]
    #: False when the episode names an image by URL: fetching it may succeed or fail from one
    #: build to the next with no file changed, so the result must not be reused.
    reusable: bool


def run_checks(project: Project, releases: Sequence[Release], *, now: datetime | None = None) -> list[Problem]:
    """Every problem the rules find in the show and in the episodes of ``releases``.

    Never raises for a defect: each becomes a Problem. Errors are what directories refuse;
    warnings are what they accept but listeners or apps suffer from; info is for the record.
    The same as :func:`show_checks` over :func:`episode_checks` of each release.

    :param releases: the episodes to check, with their measured audio.
    :param now: the moment that decides which dates are in the future (default: the clock).
    :returns: the problems, in no particular order, each once.
    """
    start_checks()
    lines = FieldLines(project)
    each = [episode_checks(project.show, release, lines) for release in releases]
    return show_checks(project, releases, each, lines=lines, now=now)


def start_checks(images: KeptFacts | None = None) -> None:
    """Begin a build's checks: images named by URL are tried afresh (``serve`` builds many times),
    and the Markdown rendered and the images opened by the last build are let go.

    :param images: what gives the facts of an image kept by an earlier build (see
        :func:`~entretiens.checks._media.forget_images`); None reads every image.
    """
    forget()
    markup.forget()
    forget_images(images)


def episode_checks(show: Show, release: Release, lines: FieldLines) -> EpisodeChecks:
    """The rules on one episode alone (see :class:`EpisodeChecks` for what the result depends on).

    Call :func:`start_checks` once per build first.
    """
    episode = release.episode
    own = episode_problems(show, episode, lines)
    own += description_problems(show, release)
    if episode.cover_image:
        own += artwork_problems(
            show.root,
            episode.cover_image,
            path=episode.path,
            line=episode.line_of("image"),
            field="image",
            whose="the episode's artwork",
        )
    own += audio_problems(release, path=episode.path, line=episode.line_of("audio"))
    own += _photo_problems(show.root, episode.guests, episode.path, "guests", lines)
    for index, chapter in enumerate(episode.chapters):
        own += image_problems(
            show.root,
            chapter.image,
            path=episode.path,
            line=lines.line(episode.path, f"chapters[{index}].image"),
            field=f"chapters[{index}].image",
            whose=f"the image of chapter '{chapter.title}'",
        )
    remote = episode_remote_problems(show, release, lines)
    return EpisodeChecks(remote=tuple(remote), own=tuple(own), reusable=not names_remote_image(show, release))


def show_checks(
    project: Project,
    releases: Sequence[Release],
    each: Sequence[EpisodeChecks],
    *,
    lines: FieldLines,
    now: datetime | None = None,
) -> list[Problem]:
    """The show-wide rules (feed.yaml, templates, numbering, dates, channels), merged with the
    per-episode findings ``each`` (one per release, in the same order) into one list, each once.

    Call :func:`start_checks` once per build first.
    """
    moment = now or datetime.now(timezone.utc)
    show = project.show
    problems = show_problems(show, lines)
    problems += template_problems(show)
    # A guest of several episodes, or a host, has an image from elsewhere reported once.
    problems += dict.fromkeys([*show_remote_problems(show, lines), *(p for e in each for p in e.remote)])
    for checked in each:
        problems += checked.own
    problems += channel_problems(releases)
    problems += numbering_problems(project.episodes)
    problems += date_problems(project.episodes, moment)
    return list(dict.fromkeys(problems))


def show_problems(show: Show, lines: FieldLines) -> list[Problem]:
    """The rules on feed.yaml: artwork, description, hosts' photos."""
    feed = show.root / FEED_FILE
    problems = artwork_problems(
        show.root,
        show.cover_image,
        path=feed,
        line=lines.line(feed, "image"),
        field="image",
        whose="the show's artwork",
    )
    size = len(to_plain_text(show.description).encode("utf-8"))
    if size > DESCRIPTION_LIMIT:
        problems.append(
            Problem(
                rule="show-description-length",
                path=feed,
                line=lines.line(feed, "description"),
                field="description",
                message=f"the description is {size} bytes once rendered; Apple accepts {DESCRIPTION_LIMIT} at most",
                hint="shorten it: say what the show is about, and leave the rest to the website",
            )
        )
    problems += _photo_problems(show.root, show.hosts, feed, "hosts", lines)
    return problems


def _photo_problems(root: Path, people: Sequence[Person], path: Path, key: str, lines: FieldLines) -> list[Problem]:
    problems = []
    for index, person in enumerate(people):
        where, field = path, f"{key}[{index}].image"
        if person.id is not None:
            where, field = root / GUESTS_DIR / f"{person.id}.yaml", "image"
        problems += image_problems(
            root,
            person.image,
            path=where,
            line=lines.line(where, field),
            field=field,
            whose=f"the photo of {person.name}",
        )
    return problems


def feed_problems(size: int, episodes: int, *, path: Path) -> list[Problem]:
    """Rules on the generated feed as a whole: its size and its number of episodes.

    :param size: the feed's size in bytes (a feed handed on as a file is not read for it).
    :param episodes: how many episodes it lists.
    :param path: where the feed is written, to name it in messages.
    """
    problems = []
    if size > FEED_SIZE_LIMIT:
        problems.append(
            Problem(
                rule="feed-size",
                path=path,
                message=f"the feed weighs {size / 1024 / 1024:.1f} MB; apps download all of it at every refresh",
                hint=f"keep it under {FEED_SIZE_LIMIT // 1024 // 1024} MB: add `feed_limit: "
                f"{max(1, episodes * FEED_SIZE_LIMIT * 9 // (size * 10))}` to feed.yaml (the newest "
                "episodes in feed.xml, the older ones in archive pages), or shorten the notes of old episodes",
            )
        )
    if episodes > FEED_EPISODE_LIMIT:
        problems.append(
            Problem(
                rule="feed-episode-count",
                path=path,
                message=f"the feed lists {episodes} episodes; some directories show the last {FEED_EPISODE_LIMIT} only",
                hint="nothing to fix: listeners still reach older episodes from the website",
            )
        )
    return problems
