"""The episode stages: which episodes go out, their measured audio, and each one combined with it.

Each stage gathers a problem per episode and goes on with the others: a bad episode never
stops the rest of the show from being checked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from . import audio, chapters, gcpause, remote, tagging, transcripts, unitcache
from .errors import AudioError, NetworkError, OutputError, Problem, ProblemsError
from .loading import EPISODES_DIR
from .model import AudioInfo, DeclaredAudio, Episode, Project, Release, is_remote
from .output import child
from .slotmaker import maker

#: Called after each audio file is probed: (done, total, file name).
Progress = Callable[[int, int, str], None]

#: The show's caches (probes, remote audio, tagged copies), never published.
CACHE_DIR = Path(".entretiens") / "cache"


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
    project: Project,
    episodes: list[Episode],
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    stamps: dict[str, Stamp] | None = None,
    files: dict[str, Path] | None = None,
    named: list[tuple[AudioInfo, str]] | None = None,
) -> tuple[dict[str, AudioInfo], list[Problem]]:
    """Measure every episode's audio: what was measured, and a problem per file that could not be.

    The show's files the cache does not answer for are measured on every core when they are
    many (:func:`audio.pool_size`), in this process otherwise; the results, the problems, the
    order of the progress calls and the cache are the same either way. An unwritable probe
    cache costs time on the next run, never this run.

    :param workers: processes measuring the show's files (1: this one); by default as many as
        the work is worth.
    :param stamps: filled with the :func:`stamp_of` of each show audio file (by slug) as it
        was when measured or found in the cache, for :func:`prepare`: one ``stat`` a file.
    :param files: filled with each show audio file's path, by the name the YAML gives it, for
        :func:`prepare`: one path made a file (three before, 30,000 at 10,000 episodes).
    :param named: filled with each measure read back from the cache and the name the cache
        gave it (:meth:`audio.ProbeCache.name_of`), for :class:`unitcache.Digests`: a
        release's key names its measure so, not by the measure's values (~4 us each).
    """
    root = project.show.root
    if files is None:
        files = {}
    # By the name the YAML gives (one text per file: the loader writes each the one way):
    # hashing a Path costs more than making it.
    cached: dict[str, tuple[AudioInfo, Stamp]] = {}
    unmeasured: dict[str, Path] = {}
    folders: dict[str, Path] = {}
    # The cycle collector paused while the cache is read back (no cycle there); not while
    # measuring, whose workers are forked. What it read is held at the end, in a build (the
    # measures live as long as the build): not then walked by a pass.
    with gcpause.paused(hold=True):
        cache = audio.ProbeCache(root / CACHE_DIR / "probe.json") if use_cache else None
        # The loader names each show file by its real path inside the real show folder.
        real = cache is not None and root == root.resolve()
        for episode in episodes:
            text = episode.audio
            if episode.declared_audio is None and not is_remote(text):
                if text in cached or text in unmeasured:
                    continue
                path = files.get(text)
                if path is None:
                    path = files[text] = _show_path(root, text, folders)
                known = cache.get_checked(path, real=real) if cache is not None else None
                if known is not None:
                    cached[text] = (known[0], (known[1].st_size, known[1].st_mtime_ns, known[1].st_ctime_ns))
                    if named is not None and cache is not None:
                        named.append((known[0], cache.name_of(path, known[1])))
                else:
                    unmeasured[text] = path
    pending = list(unmeasured.values())
    if workers is None:
        workers = audio.pool_size(len(pending), sum(_size(path) for path in pending) if len(pending) > 1 else 0)
    measuring = audio.measure_each(pending, workers=workers)
    answers = zip(pending, measuring, strict=True)
    measured: dict[Path, audio.Measured] = {}
    results: dict[str, AudioInfo] = {}
    problems: list[Problem] = []
    try:
        for done, episode in enumerate(episodes, start=1):
            try:
                if episode.declared_audio is not None:
                    # Left at the old host: published as its feed declared it, without a download.
                    results[episode.slug] = declared_info(episode.declared_audio)
                elif is_remote(episode.audio):
                    results[episode.slug] = audio.probe(_local_audio(project, episode), cache=cache)
                else:
                    results[episode.slug], stamp = _answer(
                        episode.audio, files, cached, measured, answers, cache, named
                    )
                    if stamps is not None:
                        stamps[episode.slug] = stamp
            except AudioError as exc:
                # Named as the YAML names it (a show-relative path or the URL), not as a cache file.
                problems.append(_audio_problem(episode, f"{episode.audio}: {exc.message}", exc.hint))
            except NetworkError as exc:
                problems.append(_audio_problem(episode, str(exc), "check the address, or publish the file from audio/"))
            if progress:
                progress(done, len(episodes), Path(episode.audio).name)
    finally:
        measuring.close()  # Stops the workers now, not when the generator is collected.
    if cache:
        with contextlib.suppress(OutputError):
            cache.save()
    return results, problems


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _show_path(root: Path, text: str, folders: dict[str, Path]) -> Path:
    """``root / text`` for a show file's name, made as a child of its folder's path (made
    once per folder): a large show names 10,000 files of ``audio/``."""
    folder_text, _, name = text.rpartition("/")
    if name in ("", ".", "..") or text.startswith("/"):
        return root / text
    folder = folders.get(folder_text)
    if folder is None:
        folder = folders[folder_text] = root / folder_text if folder_text else root
    return child(folder, name)


def _answer(
    text: str,
    files: Mapping[str, Path],
    cached: dict[str, tuple[AudioInfo, Stamp]],
    measured: dict[Path, audio.Measured],
    answers: Iterator[tuple[Path, audio.Measured]],
    cache: audio.ProbeCache | None,
    named: list[tuple[AudioInfo, str]] | None = None,
) -> tuple[AudioInfo, Stamp]:
    """A show file's measure and the stamp it was taken at: from the cache, or from the
    measuring, whose answers come in the order the episodes first name the files (so the one
    wanted is at most the next one); remembered in the cache as :func:`audio.probe` would
    (and, when measured and kept, added to ``named`` with the name the cache will give it back
    under).

    :raises AudioError: the file could not be measured.
    """
    found = cached.get(text)
    if found is not None:
        return found
    path = files[text]
    while path not in measured:
        done, answer = next(answers)
        measured[done] = answer
        # Named as the cache will give it back: a cold build keys its units as the next does.
        # A measure the cache does not keep (the file changed within a tick of its read) is not
        # named: its stamp may come back with other bytes, and its units key on its values.
        if cache is not None and not isinstance(answer, AudioError):
            kept = cache.put(done, answer[0], stat=answer[1])
            if kept and named is not None:
                named.append((answer[0], cache.name_of(done, answer[1])))
    answer = measured[path]
    if isinstance(answer, AudioError):
        raise answer
    return answer[0], (answer[1].st_size, answer[1].st_mtime_ns, answer[1].st_ctime_ns)


def declared_info(declared: DeclaredAudio) -> AudioInfo:
    """What a remote recording is, as the feed that first published it declared."""
    return AudioInfo(
        size=declared.length, duration=declared.duration, mime_type=declared.mime_type, duration_method="declared"
    )


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
    if is_remote(episode.audio):
        settings = project.show.remote_audio
        bounds = remote.limits(settings.max_size, settings.deadline)
        return remote.fetch_audio(episode.audio, project.show.root / CACHE_DIR / "remote", bounds=bounds)
    return project.show.root / episode.audio


@dataclass(frozen=True, slots=True)
class Prepared:
    """Every measured episode combined with its audio, and what did not fit."""

    #: One release per measured episode, oldest first (those in error too: the rules read them).
    releases: tuple[Release, ...]
    #: Slugs of the episodes that prepared without an error: those a feed can carry.
    ready: frozenset[str]
    problems: list[Problem]


def prepare(
    project: Project,
    episodes: Iterable[Episode],
    infos: Mapping[str, AudioInfo],
    stamps: Mapping[str, Stamp] | None = None,
    files: Mapping[str, Path] | None = None,
    kept: unitcache.Units | None = None,
) -> Prepared:
    """Combine each measured episode with its audio: chapters, transcripts, timing checks.

    An episode whose chapters, soundbites or transcripts do not fit its audio is reported and
    kept out of :attr:`Prepared.ready`; the others are prepared all the same.

    :param stamps: each show audio file's stamp when it was measured (``probe_each``'s): a
        change since is caught here (size) or before writing (:func:`changed_audio`). Files
        without one are stamped now.
    :param files: each show audio file's path by its name in the YAML (``probe_each``'s).
    :param kept: the checks of the transcript files kept between builds (kind ``transcripts``).
    """
    ordered = sorted((e for e in episodes if e.slug in infos), key=lambda e: (e.date, e.slug))
    problems: list[Problem] = []
    releases = []
    ready = set()
    # Each release made with its neighbours, as link() would give them when none is left out
    # (an audio file that changed since it was measured): link() then replaces none.
    slugs = [None, *(episode.slug for episode in ordered), None]
    for position, episode in enumerate(ordered, start=1):
        previous, following = slugs[position - 1], slugs[position + 1]
        info = infos[episode.slug]
        found, found_problems = chapters.chapters_for(episode, info)
        found_problems += chapters.timing_problems(episode, found, info)
        published_transcripts, transcript_problems = transcripts.plan(episode, info, kept)
        found_problems += transcript_problems
        problems += found_problems
        if any(p.severity == "error" for p in found_problems):
            # What the YAML says, for the rules; no feed or page is built from it.
            releases.append(_RELEASE(episode, info, episode.chapters, (), None, info.size, None, previous, following))
            continue
        audio_file = None
        if not is_remote(episode.audio):
            audio_file = files.get(episode.audio) if files is not None else None
            if audio_file is None:
                audio_file = project.show.root / episode.audio
        stamp = None
        if audio_file is not None:
            stamp = stamps.get(episode.slug) if stamps is not None else None
            if stamp is None:
                stamp = stamp_of(audio_file)
        if stamp is not None and stamp[0] != info.size:
            problems.append(_changed(episode))
            continue
        ready.add(episode.slug)
        releases.append(
            _RELEASE(episode, info, found, published_transcripts, audio_file, info.size, stamp, previous, following)
        )
    # Made in order: only the neighbours of one left out are replaced.
    return Prepared(releases=link(releases, ordered=True), ready=frozenset(ready), problems=problems)


#: A Release made from its fields in their order (episode, audio, chapters, transcripts,
#: audio_file, enclosure_length, audio_stamp, previous, next): one for every episode measured,
#: on every build (see :func:`~entretiens.slotmaker.maker`; the class's own ``__init__`` took
#: about twice as long).
_RELEASE: Final = maker(Release)


#: A file's (size, mtime, ctime in ns): see :func:`stamp_of`.
Stamp = tuple[int, int, int]


def stamp_of(path: Path) -> Stamp | None:
    """A file's (size, mtime, ctime in ns), or None when it cannot be read.

    The ctime is there for a file rewritten in place at the same size with its mtime put
    back (a tag editor told to keep the file's date, ``cp -p`` over it): only the ctime moves,
    and nothing but root can set it back."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def changed_audio(releases: Iterable[Release]) -> list[Problem]:
    """A problem per published audio file that changed since it was measured (an export still writing).

    Checked just before the output is written, on the source itself, so it holds however the
    file is then copied, cloned or linked.
    """
    return [
        _changed(release.episode)
        for release in releases
        if release.audio_file is not None
        and release.audio_stamp is not None
        and stamp_of(release.audio_file) != release.audio_stamp
    ]


def _changed(episode: Episode) -> Problem:
    return _audio_problem(
        episode,
        f"{episode.audio} changed after it was measured (is an export still writing it?): the feed would "
        "announce a wrong length",
        "publish again once the file is finished",
    )


def link(releases: Iterable[Release], *, ordered: bool = False) -> tuple[Release, ...]:
    """The releases oldest first, each knowing its previous and next one (the pages' pager).

    :param ordered: they are oldest first already (by date, then slug): not sorted again.
    """
    listed = list(releases) if ordered else sorted(releases, key=lambda r: (r.episode.date, r.episode.slug))
    linked = []
    for index, release in enumerate(listed):
        previous = listed[index - 1].episode.slug if index > 0 else None
        following = listed[index + 1].episode.slug if index + 1 < len(listed) else None
        # Replaced only where they differ: a release is a large value, and most already know them.
        if release.previous != previous or release.next != following:
            release = replace(release, previous=previous, next=following)
        linked.append(release)
    return tuple(linked)


def tag(project: Project, releases: tuple[Release, ...]) -> tuple[tuple[Release, ...], list[Problem]]:
    """The releases with their audio replaced by tagged copies, and a problem per copy that failed.

    Tagging needs the final chapters, so it comes after :func:`prepare`. A copy's size becomes
    its enclosure length; a copy that cannot be tagged is reported and its release kept as it was.

    :raises OutputError: the cache folder cannot be written.
    """
    folder = project.show.root / CACHE_DIR / "tagged"
    tagged: list[Release] = []
    problems: list[Problem] = []
    for release in releases:
        if limit := tagging.chapter_limit(release):
            problems.append(limit)
        try:
            copy = tagging.tag_release(project.show, release, folder)
            if copy.audio_file is not None and copy.audio_file != release.audio_file:
                copy = replace(copy, audio_stamp=stamp_of(copy.audio_file))
            tagged.append(copy)
        except ProblemsError as exc:
            problems += exc.problems
            tagged.append(release)
    return tuple(tagged), problems


def build_date(releases: tuple[Release, ...]) -> datetime:
    """The feed's lastBuildDate: its newest episode, so that the same show builds the same bytes."""
    return max(r.episode.date for r in releases)
