"""The pipeline: load -> probe -> build -> write. The one place that runs the stages in order."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from . import audio, chapters, checks, feed, feedlint, layout, site, state, tagging, transcripts
from .errors import AudioError, EntretiensError, NetworkError, OutputError, Problem, ProblemsError, StrictError
from .loading import EPISODES_DIR, load_project
from .model import AudioInfo, Episode, Project, Release
from .output import Content, WriteReport, check_target, write_file, write_tree

#: Called after each audio file is probed: (done, total, file name).
Progress = Callable[[int, int, str], None]

CACHE_DIR = Path(".entretiens") / "cache"


@dataclass(slots=True)
class PublishResult:
    """What a publish did, for the summary the CLI prints."""

    project: Project
    out_dir: Path
    releases: tuple[Release, ...]
    drafts: tuple[Episode, ...]
    scheduled: tuple[Episode, ...]
    warnings: list[Problem]
    files: dict[PurePosixPath, Content] = field(default_factory=dict)
    report: WriteReport | None = None
    state_written: bool = False

    @property
    def total_duration(self) -> timedelta:
        """The published episodes' total length."""
        return sum((r.audio.duration for r in self.releases), timedelta())


def select(
    project: Project, now: datetime, *, include_future: bool = False
) -> tuple[list[Episode], list[Episode], list[Episode]]:
    """Split episodes into (to publish, drafts, scheduled for later)."""
    published, drafts, scheduled = [], [], []
    for episode in project.episodes:
        if episode.draft:
            drafts.append(episode)
        elif episode.date > now and not include_future:
            scheduled.append(episode)
        else:
            published.append(episode)
    return published, drafts, scheduled


def nothing_to_publish(root: Path) -> Problem:
    """The error of a show whose every episode is a draft or scheduled."""
    return Problem(
        rule="no-episodes",
        path=root / EPISODES_DIR,
        message="no episode to publish: every episode is a draft or dated in the future",
        hint="set `draft: false`, or use publish --include-future to publish scheduled episodes now",
    )


def probe_each(
    project: Project, episodes: list[Episode], *, progress: Progress | None = None, use_cache: bool = True
) -> tuple[dict[str, AudioInfo], list[Problem]]:
    """Measure every episode's audio: what was measured, and a problem per file that could not be.

    An unwritable probe cache costs time on the next run, never this run.
    """
    root = project.show.root
    cache = audio.ProbeCache(root / CACHE_DIR / "probe.json") if use_cache else None
    results: dict[str, AudioInfo] = {}
    problems: list[Problem] = []
    for done, episode in enumerate(episodes, start=1):
        try:
            results[episode.slug] = audio.probe(_local_audio(project, episode), cache=cache)
        except AudioError as exc:
            # Named as the YAML names it (a show-relative path or the URL), not as a cache file.
            problems.append(_audio_problem(episode, f"{episode.audio}: {exc.message}", exc.hint))
        except NetworkError as exc:
            problems.append(_audio_problem(episode, str(exc), "check the address, or publish the file from audio/"))
        if progress:
            progress(done, len(episodes), Path(episode.audio).name)
    if cache:
        with contextlib.suppress(OutputError):
            cache.save()
    return results, problems


def probe_all(
    project: Project, episodes: list[Episode], *, progress: Progress | None = None, use_cache: bool = True
) -> dict[str, AudioInfo]:
    """Measure every episode's audio; all failures are gathered into one error.

    :raises ProblemsError: one problem per unreadable, missing or unreachable file.
    """
    results, problems = probe_each(project, episodes, progress=progress, use_cache=use_cache)
    if problems:
        raise ProblemsError(problems, project.show.root)
    return results


def _audio_problem(episode: Episode, message: str, hint: str | None) -> Problem:
    return Problem(
        rule="audio-invalid",
        path=episode.path,
        line=episode.line_of("audio"),
        field="audio",
        message=message,
        hint=hint,
    )


def _local_audio(project: Project, episode: Episode) -> Path:
    if "://" in episode.audio:
        from . import remote

        return remote.fetch_audio(episode.audio, project.show.root / CACHE_DIR / "remote")
    return project.show.root / episode.audio


def prepare(
    project: Project, episodes: list[Episode], infos: Mapping[str, AudioInfo], *, tag_audio: bool = False
) -> tuple[tuple[Release, ...], list[Problem]]:
    """Combine each episode with its audio: chapters, transcripts, timing checks, tagged copies.

    :raises ProblemsError: chapters, soundbites or transcripts do not fit the audio.
    """
    problems: list[Problem] = []
    releases = []
    ordered = sorted(episodes, key=lambda e: (e.date, e.slug))
    for index, episode in enumerate(ordered):
        info = infos[episode.slug]
        found, warnings = chapters.chapters_for(episode, info)
        problems += warnings
        problems += chapters.timing_problems(episode, found, info)
        published_transcripts, transcript_problems = transcripts.plan(episode, info)
        problems += transcript_problems
        audio_file = None if "://" in episode.audio else project.show.root / episode.audio
        release = Release(
            episode=episode,
            audio=info,
            chapters=found,
            transcripts=published_transcripts,
            audio_file=audio_file,
            enclosure_length=info.size,
            previous=ordered[index - 1].slug if index > 0 else None,
            next=ordered[index + 1].slug if index + 1 < len(ordered) else None,
        )
        releases.append(release)
    if any(p.severity == "error" for p in problems):
        raise ProblemsError(problems, project.show.root)
    if tag_audio:
        # Tagging needs the final chapters; the enclosure length becomes the tagged copy's size.
        releases = [
            tagging.tag_release(project.show, release, project.show.root / CACHE_DIR / "tagged") for release in releases
        ]
    return tuple(releases), problems


def build_date(releases: tuple[Release, ...]) -> datetime:
    """The feed's lastBuildDate: its newest episode, so that the same show builds the same bytes."""
    return max(r.episode.date for r in releases)


def build_files(project: Project, releases: tuple[Release, ...]) -> dict[PurePosixPath, Content]:
    """Every file of public/, by path."""
    show = project.show
    files: dict[PurePosixPath, Content] = {}

    def add(path: PurePosixPath, content: Content) -> None:
        if path in files and files[path] != content:
            msg = f"two different files would be published as {path}"
            raise EntretiensError(msg + "; rename one of them")
        files[path] = content

    add(layout.FEED, feed.build_feed(show, releases, build_date=build_date(releases)))
    for reference in _copied_media(project, releases):
        add(PurePosixPath(reference), show.root / reference)
    for release in releases:
        episode = release.episode
        if release.audio_file is not None:
            add(PurePosixPath(episode.audio), release.audio_file)
        if release.chapters:
            add(layout.chapters_file(episode), chapters.json_chapters(show, release.chapters, release.audio))
        for path, content in transcripts.files(show, release).items():
            add(path, content)
    for path, content in site.build_site(project, releases).items():
        add(path, content)
    return files


def _copied_media(project: Project, releases: tuple[Release, ...]) -> list[str]:
    """Show files published as they are: audio, artwork, photos, chapter images."""
    references: list[str | None] = [project.show.cover_image]
    references += [person.image for person in project.show.hosts]
    for release in releases:
        episode = release.episode
        references += [episode.cover_image]
        references += [guest.image for guest in episode.guests]
        references += [chapter.image for chapter in release.chapters]
    return sorted({ref for ref in references if ref and "://" not in ref})


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
) -> PublishResult:
    """Publish a show folder into ``out_dir`` (default: ``show_dir/public``).

    :param now: the moment that decides which scheduled episodes are out (default: the clock).
    :param dry_run: run every stage but write nothing.
    :param strict: treat warnings as errors: write nothing when there is any.
    :param tag_audio: write tags into the published audio copies; None follows feed.yaml.
    :raises ProblemsError: the show, its audio or the feed has errors; nothing is written.
    :raises StrictError: ``strict`` and there are warnings; nothing is written.
    :raises OutputError: the output cannot be written; the previous output is untouched.
    """
    project = load_project(show_dir)
    show = project.show
    target = out_dir if out_dir is not None else show.root / "public"
    check_target(target, show.root)
    moment = now or datetime.now(timezone.utc)
    episodes, drafts, scheduled = select(project, moment, include_future=include_future)
    if not episodes:
        raise ProblemsError([nothing_to_publish(show.root)], show.root)
    infos = probe_all(project, episodes, progress=progress)
    releases, warnings = prepare(project, episodes, infos, tag_audio=show.tag_audio if tag_audio is None else tag_audio)
    # The same rules as `entretiens check`: publish refuses what check calls an error.
    warnings += checks.run_checks(project, releases, now=moment)
    if any(p.severity == "error" for p in warnings):
        raise ProblemsError(warnings, show.root)
    files = build_files(project, releases)
    feed_bytes = _bytes(files[layout.FEED])
    feed_path = target / layout.FEED
    lint = feedlint.lint_feed(feed_bytes, base_dir=None, feed_url=show.feed_url, now=moment)
    feed_problems = checks.feed_problems(feed_bytes, len(releases), path=feed_path)
    guid_pinned = project.state.podcast_guid == show.podcast_guid
    feed_problems += checks.merge_feed_lint(warnings, lint, feed_path, guid_pinned=guid_pinned)
    if any(p.severity == "error" for p in feed_problems):
        raise ProblemsError(feed_problems, show.root)
    all_warnings = [*project.warnings, *warnings, *feed_problems]
    if strict and any(p.severity == "warning" for p in all_warnings):
        raise StrictError(all_warnings, show.root)
    result = PublishResult(
        project=project,
        out_dir=target,
        releases=releases,
        drafts=tuple(drafts),
        scheduled=tuple(scheduled),
        warnings=all_warnings,
        files=files,
    )
    if dry_run:
        return result
    # GUIDs are pinned before the feed that carries them goes out: pins for a build that then
    # fails to be written are harmless, a live feed whose GUIDs were never saved is not.
    pinned = state.merged_guids(project.state, ((r.episode.slug, r.episode.guid) for r in releases))
    result.state_written = write_file(show.root / state.STATE_FILE, state.render_state(show.podcast_guid, pinned))
    result.report = write_tree(target, files)
    return result


def _bytes(content: Content) -> bytes:
    return content if isinstance(content, bytes) else content.read_bytes()
