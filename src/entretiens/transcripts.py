"""Transcripts: which files an episode publishes, their checks against the audio, and the converted copies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from . import buildrecord, layout, unitcache
from .captions import WRITERS, Cue, TranscriptError, clock, decode, parse, parse_text, segment_lines
from .errors import Problem, ProblemsError
from .loading import show_root
from .markup import sanitize_document
from .model import AudioInfo, Episode, PublishedTranscript, Release, Show, Transcript
from .output import Content

#: Timed formats that apps can show as captions (podcast:transcript rel="captions").
CAPTION_SUFFIXES = frozenset({".vtt", ".srt"})
#: How far (seconds) a cue may run past the end of the audio: caption tools round cue ends
#: up, and encoders pad the last frame.
TIMING_TOLERANCE = 2.0
#: Timing errors listed per file; a transcript made for another edit of the recording would
#: otherwise bury every other message.
MAX_TIMING_PROBLEMS = 5


def check_file(path: Path, suffix: str, duration: float) -> list[Problem]:
    """Every problem of one transcript file: encoding, syntax, then timing against the audio."""
    try:
        text = decode(path.read_bytes())
        cues = parse_text(suffix, text)
    except TranscriptError as exc:
        return [Problem(rule=exc.rule, path=path, line=exc.line, message=exc.message, hint=exc.hint)]
    except OSError as exc:
        return [Problem(rule="transcript-syntax", path=path, message=f"cannot read the file: {exc.strerror}")]
    if cues is None:
        return []
    problems = check_timing(path, cues, duration)
    if problems and suffix == ".json":
        problems = check_timing(path, cues, duration, segment_lines(text))
    return problems


def kept_check(kept: unitcache.Units | None, path: Path, suffix: str, duration: float) -> list[Problem]:
    """:func:`check_file`, kept between builds under the file's stamp: a show of 10,000
    episodes with transcripts decoded and parsed every one of them at each publish (~6 ms for
    a 45-minute VTT), however few had changed.

    :param kept: the units of kind ``transcripts`` (None: checked afresh).
    """
    if kept is None:
        return check_file(path, suffix, duration)
    stamp = unitcache.file_stamp(path)
    if stamp is None:
        # Not readable: the problem says why, and nothing is kept of it.
        return check_file(path, suffix, duration)

    def made() -> dict[str, bytes]:
        found = check_file(path, suffix, duration)
        return {"problems": json.dumps([buildrecord.problem_to_json(p) for p in found]).encode()}

    unit = kept.get((str(path), suffix, duration), made, stamps=[stamp])
    try:
        return [buildrecord.problem_from_json(data) for data in json.loads(unit["problems"])]
    except (KeyError, TypeError, ValueError, LookupError):
        return check_file(path, suffix, duration)


# -- timing ----------------------------------------------------------------------------------------


def _timing_messages(cues: Sequence[Cue], duration: float) -> list[tuple[int, str]]:
    """(cue index, message) for cues whose times are backwards, out of order or past the audio."""
    found: list[tuple[int, str]] = []
    for index, cue in enumerate(cues):
        if cue.end < cue.start:
            found.append((index, f"the cue ends ({clock(cue.end)}) before it starts ({clock(cue.start)})"))
        if index and cue.start < cues[index - 1].start:
            previous = cues[index - 1].start
            found.append((index, f"the cue starts at {clock(cue.start)}, before the previous one ({clock(previous)})"))
        if cue.end > duration + TIMING_TOLERANCE:
            found.append((index, f"the cue ends at {clock(cue.end)}, after the end of the audio ({clock(duration)})"))
    return found


def check_timing(
    path: Path, cues: Sequence[Cue], duration: float, lines: dict[int, int] | None = None
) -> list[Problem]:
    """``transcript-timing`` errors: cues must start before they end, in order, inside the audio.

    :param lines: the line of each cue by index, when the cues do not carry it (JSON).
    """
    found = _timing_messages(cues, duration)
    problems = [
        Problem(
            rule="transcript-timing",
            path=path,
            line=lines.get(index) if lines is not None else cues[index].line,
            message=message,
            hint="cues are listed in time order, each within the recording",
        )
        for index, message in found[:MAX_TIMING_PROBLEMS]
    ]
    if len(found) > MAX_TIMING_PROBLEMS:
        problems.append(
            Problem(
                rule="transcript-timing",
                path=path,
                message=f"{len(found) - MAX_TIMING_PROBLEMS} more timing errors in this file",
                hint="is the transcript made for this version of the recording?",
            )
        )
    return problems


# -- publishing ------------------------------------------------------------------------------------


def _suffix(transcript: Transcript) -> str:
    suffix = transcript.path.suffix.lower()
    return ".html" if suffix == ".htm" else suffix


def _outputs(episode: Episode) -> list[tuple[Transcript, str]]:
    """Every file published for the episode's transcripts: (source, suffix), originals first.

    A caption file also goes out in the other caption format and as JSON, unless the episode
    gives that format itself in the same language.
    """
    given = {(t.language, _suffix(t)) for t in episode.transcripts}
    outputs = [(t, _suffix(t)) for t in episode.transcripts]
    for transcript in episode.transcripts:
        suffix = _suffix(transcript)
        if suffix in CAPTION_SUFFIXES:
            other = ".srt" if suffix == ".vtt" else ".vtt"
            outputs += [(transcript, s) for s in (other, ".json") if (transcript.language, s) not in given]
    return outputs


def plan(
    episode: Episode, audio: AudioInfo, kept: unitcache.Units | None = None
) -> tuple[tuple[PublishedTranscript, ...], list[Problem]]:
    """The transcripts an episode publishes, and the problems found in their files.

    :param kept: the checks of the files kept between builds (see :func:`kept_check`).

    :returns: one entry per published file, originals first, then the conversions; and the
        errors (``transcript-encoding``, ``transcript-syntax``, ``transcript-timing``,
        ``transcript-duplicate``) that stop the publish.
    """
    if not episode.transcripts:
        # Most episodes of a large show: nothing to plan, and no path to work out.
        return (), []
    root = show_root(episode.path)
    problems: list[Problem] = []
    invalid: set[Path] = set()
    for transcript in episode.transcripts:
        found = kept_check(kept, root / transcript.path, _suffix(transcript), audio.duration.total_seconds())
        if any(p.rule != "transcript-timing" for p in found):
            invalid.add(transcript.path)
        problems += found
    published: dict[str, PublishedTranscript] = {}
    for transcript, suffix in _outputs(episode):
        target = str(layout.transcript_file(episode, transcript, suffix))
        if target in published:
            if suffix == _suffix(transcript):
                problems.append(
                    Problem(
                        rule="transcript-duplicate",
                        path=episode.path,
                        line=transcript.source.line if transcript.source else episode.line_of("transcript"),
                        field="transcript",
                        message=f"two {suffix} transcripts in '{transcript.language}'",
                        hint="give each transcript of the same format its own `language:`",
                    )
                )
            continue
        if transcript.path in invalid:
            continue
        published[target] = PublishedTranscript(
            path=target,
            mime_type=layout.TRANSCRIPT_TYPES[suffix],
            language=transcript.language,
            rel="captions" if suffix in CAPTION_SUFFIXES else None,
        )
    return tuple(published.values()), problems


def files(show: Show, release: Release) -> dict[PurePosixPath, bytes]:
    """The transcript files of a release, by path in public/: originals as written, conversions generated.

    :raises ProblemsError: a transcript file changed into an invalid one since :func:`plan`.
    """
    return {PurePosixPath(target): content for target, content in _each_made(show, release).items()}


def published(
    show: Show, releases: Sequence[Release], kept: unitcache.Units | None
) -> list[dict[PurePosixPath, Content]]:
    """:func:`files` of each release, in order; each transcript's files kept between builds
    under its stamp (``kept``, a stored kind: handed on as files, proven by their digests), so
    that an unchanged transcript is not read, parsed and converted again at each build.

    :raises ProblemsError: a transcript file changed into an invalid one since :func:`plan`.
    """
    if kept is None:
        return [dict(files(show, release)) for release in releases]
    requests: list[unitcache.Request] = []
    owners: list[int] = []
    for index, release in enumerate(releases):
        if not release.transcripts:
            continue  # nothing published: no look for its targets (most episodes of most shows)
        for transcript, targets in _targets(release):
            source = show.root / transcript.path
            stamp = unitcache.file_stamp(source)
            if stamp is None:
                # Not to be read: made (and its error raised) as without a cache.
                return [dict(files(show, release)) for release in releases]

            def make(transcript: Transcript = transcript, targets: list[tuple[str, str]] = targets) -> dict[str, bytes]:
                return _made(show, transcript, targets)

            requests.append(((str(source), _suffix(transcript), targets), make, [stamp]))
            owners.append(index)
    found: dict[int, dict[str, Content]] = {}
    for index, unit in zip(owners, kept.get_files(requests), strict=True):
        found.setdefault(index, {}).update(unit)
    # In the order of files() (originals first), not of the units (one per transcript file).
    return [
        {PurePosixPath(target): made[target] for target in _order(release)} if (made := found.get(index)) else {}
        for index, release in enumerate(releases)
    ]


def _targets(release: Release) -> list[tuple[Transcript, list[tuple[str, str]]]]:
    """Each transcript file of a release published (the first entry naming it) with the files
    made of it: (path in public/, suffix), in the order of :func:`_outputs`."""
    wanted = {transcript.path for transcript in release.transcripts}
    by_source: dict[Path, tuple[Transcript, list[tuple[str, str]]]] = {}
    seen: set[str] = set()
    for transcript, suffix in _outputs(release.episode):
        target = str(layout.transcript_file(release.episode, transcript, suffix))
        if target not in wanted or target in seen:
            continue
        seen.add(target)
        by_source.setdefault(transcript.path, (transcript, []))[1].append((target, suffix))
    return list(by_source.values())


def _order(release: Release) -> list[str]:
    """The paths of :func:`_targets`, in the order of :func:`_outputs`."""
    wanted = {transcript.path for transcript in release.transcripts}
    order = [str(layout.transcript_file(release.episode, t, suffix)) for t, suffix in _outputs(release.episode)]
    return list(dict.fromkeys(target for target in order if target in wanted))


def _each_made(show: Show, release: Release) -> dict[str, bytes]:
    made: dict[str, bytes] = {}
    for transcript, targets in _targets(release):
        made.update(_made(show, transcript, targets))
    return {target: made[target] for target in _order(release)}


def _made(show: Show, transcript: Transcript, targets: list[tuple[str, str]]) -> dict[str, bytes]:
    """The files made of one transcript file, by path in public/.

    :raises ProblemsError: the file is not a valid transcript (it changed since :func:`plan`).
    """
    source = show.root / transcript.path
    data = source.read_bytes()
    try:
        cues = parse(_suffix(transcript), data)
    except TranscriptError as exc:
        problem = Problem(rule=exc.rule, path=source, line=exc.line, message=exc.message, hint=exc.hint)
        raise ProblemsError([problem], show.root) from None
    made: dict[str, bytes] = {}
    for target, suffix in targets:
        if suffix in (".html", ".htm"):
            # Served from the show's own site: no script may ride along in a transcript page.
            made[target] = sanitize_document(data.decode("utf-8")).encode("utf-8")
        elif suffix == _suffix(transcript) or cues is None:
            made[target] = data
        else:
            made[target] = WRITERS[suffix](cues)
    return made
