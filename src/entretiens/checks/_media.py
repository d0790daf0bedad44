"""Rules on the files a show publishes as they are: artwork, photos and the audio's measured format."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import UnidentifiedImageError

from entretiens.errors import Problem
from entretiens.images import HINT as IMAGE_HINT
from entretiens.images import ImageTooLarge, open_image
from entretiens.model import Release, is_local, is_remote
from entretiens.podcast_spec import (
    ARTWORK_ALPHA_MODES,
    ARTWORK_FORMATS,
    ARTWORK_MAX_SIDE,
    ARTWORK_MIN_SIDE,
    ARTWORK_NOT_RGB_MODES,
    ENCLOSURE_TYPES,
)
from entretiens.timecodes import timecode

#: What an image is found to be: (format, width, height, mode), or why it cannot be read.
Facts = tuple[str, int, int, str] | str | ImageTooLarge
#: Gives an image's facts, kept by an earlier build or read with the function it is handed.
KeptFacts = Callable[[Path, Callable[[Path], Facts]], Facts]

#: Apple states no limit; hosts, Spotify and NPR One ask for 512 KB at most, and apps download
#: the artwork again and again.
ARTWORK_MAX_BYTES = 512 * 1024

#: Non-audio bytes after the audio worth a warning (also when over a tenth of the file).
TRAILING_BYTES = 1024 * 1024
#: Shorter audio is a failed or wrong export (a click, a cut file), not even a teaser.
MIN_DURATION = 2.0
#: Kilobits per second below which speech sounds poor: (mono, stereo), for MP3 and for the
#: codecs that do more with fewer bits (AAC, Opus, Vorbis).
LOW_BITRATE = {"MP3": (24, 48), "efficient": (16, 32)}
#: Above these, a spoken show only makes the downloads bigger: (mono, stereo).
HIGH_BITRATE = (128, 192)
#: Measured averages wander a little around the encoder's nominal rate.
_BITRATE_TOLERANCE = 0.05
MIN_SAMPLE_RATE = 22050
MAX_SAMPLE_RATE = 48000
_EFFICIENT_CODECS = frozenset({"AAC", "Opus", "Vorbis"})
_LOSSLESS_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/flac", "audio/x-flac"})


def artwork_problems(
    root: Path, reference: str, *, path: Path, line: int | None, field: str, whose: str
) -> list[Problem]:
    """Apple's artwork rules on a show file: JPEG or PNG, square, 1400-3000 px, RGB, not too heavy.

    :param reference: the show-relative file; URLs are left to the link check.
    :param path: the YAML file that names the artwork, and ``line``, ``field`` where.
    :param whose: "the show's artwork", "the episode's artwork".
    """
    if is_remote(reference):
        return []
    problems: list[Problem] = []

    def report(rule: str, message: str, hint: str) -> None:
        problems.append(Problem(rule=rule, path=path, line=line, field=field, message=f"{whose} {message}", hint=hint))

    file = root / reference
    opened = _open_image(file)
    if too_large := _too_large(reference, opened, path=path, line=line, field=field, whose=whose):
        return too_large
    if isinstance(opened, (str, ImageTooLarge)):
        report("artwork-format", f"{reference} {opened}", "export it again as JPEG (.jpg) or PNG (.png)")
        return problems
    kind, width, height, mode = opened
    expected = ARTWORK_FORMATS.get(file.suffix.lower())
    if kind not in ("JPEG", "PNG"):
        report(
            "artwork-format",
            f"{reference} is a {kind} image; Apple Podcasts takes JPEG or PNG only",
            "save it as JPEG (.jpg) or PNG (.png)",
        )
    elif expected is not None and kind != expected:
        report(
            "artwork-format",
            f"{reference} is a {kind} image with a {file.suffix} name; Apple wants the extension to match",
            f"rename it to {file.with_suffix('.png' if kind == 'PNG' else '.jpg').name}, or convert it",
        )
    if width != height:
        report("artwork-square", f"{reference} is {width}×{height} pixels, not square", "crop it to a square")
    low, high = ARTWORK_MIN_SIDE, ARTWORK_MAX_SIDE
    if not (low <= width <= high and low <= height <= high):
        report(
            "artwork-size",
            f"{reference} is {width}×{height} pixels; Apple needs {low} to {high} pixels a side",
            "export it at 3000×3000 pixels (Apple's preferred size) or at least 1400×1400",
        )
    if mode in ARTWORK_NOT_RGB_MODES:
        report(
            "artwork-colorspace",
            f"{reference} is in the {mode} colour mode; Apple Podcasts needs RGB",
            "convert it to RGB",
        )
    elif mode in ARTWORK_ALPHA_MODES:
        what = "a colour palette" if mode.startswith("P") else "an alpha channel (transparency)"
        report(
            "artwork-alpha",
            f"{reference} has {what}; Apple asks for plain RGB",
            "flatten it and save it as RGB without transparency",
        )
    size = file.stat().st_size
    if size > ARTWORK_MAX_BYTES:
        report(
            "artwork-file-size",
            f"{reference} weighs {size / 1024:.0f} KB; keep it under {ARTWORK_MAX_BYTES // 1024} KB",
            "save it as JPEG at quality 80 to 90: apps download the artwork often",
        )
    return problems


def image_problems(
    root: Path, reference: str | None, *, path: Path, line: int | None, field: str, whose: str
) -> list[Problem]:
    """A warning when a photo or chapter image of the show folder is not a readable JPEG or PNG."""
    if not is_local(reference):
        return []
    opened = _open_image(root / reference)
    if too_large := _too_large(reference, opened, path=path, line=line, field=field, whose=whose):
        return too_large
    if opened == "is not an image":
        # Whatever it holds (a page, notes, a copy of a guest file), it is not published under
        # an image's name: only what is the type its name says leaves the show folder.
        return [
            Problem(
                rule="image-not-image",
                path=path,
                line=line,
                field=field,
                message=f"{whose}: {reference} is not an image: its content is no image format",
                hint="put the photo itself there (JPEG or PNG), or remove the `image:` line",
            )
        ]
    if isinstance(opened, (str, ImageTooLarge)):
        reason = str(opened)
    elif opened[0] not in ("JPEG", "PNG"):
        reason = f"is a {opened[0]} image, which some apps do not show"
    else:
        return []
    return [
        Problem(
            rule="image-invalid",
            path=path,
            line=line,
            field=field,
            message=f"{whose}: {reference} {reason}",
            hint="export it again as JPEG or PNG",
        )
    ]


#: What :func:`_open_image` found in this build, by file and its size and time: a cover shared by
#: many episodes is decoded once. Emptied when a build's checks start (:func:`forget_images`).
_opened: dict[tuple[Path, int, int], Facts] = {}
_OPENED_ENTRIES = 10_000
#: Where an image's facts found by an earlier build are asked first (see :func:`forget_images`).
_kept: KeptFacts | None = None


def forget_images(kept: KeptFacts | None = None) -> None:
    """Start a new build: images are looked at again (``serve`` builds many times).

    :param kept: asked for each image's facts first, with what reads them when it has none:
        the facts of an image an earlier build read, kept under the file's stamp (decoding the
        show's artwork, done at each build, cost 10 to 60 ms of an edit). None reads each image.
    """
    global _kept
    _opened.clear()
    _kept = kept


def _open_image(file: Path) -> Facts:
    """(format, width, height, mode) of an image, or why it cannot be read."""
    try:
        stat = file.stat()
    except OSError:
        return _read_image(file)  # missing or unreadable: said by the attempt to open it
    key = (file, stat.st_size, stat.st_mtime_ns)
    found = _opened.get(key)
    if found is None:
        if len(_opened) >= _OPENED_ENTRIES:
            _opened.clear()
        found = _opened[key] = _read_image(file) if _kept is None else _kept(file, _read_image)
    return found


def facts_to_json(facts: Facts) -> bytes:
    """``facts`` as a JSON text, to keep (see :func:`facts_from_json`)."""
    if isinstance(facts, ImageTooLarge):
        return json.dumps(["too large", facts.width, facts.height]).encode()
    if isinstance(facts, str):
        return json.dumps(["cannot be read", facts]).encode()
    return json.dumps(["read", *facts]).encode()


def facts_from_json(text: bytes) -> Facts | None:
    """What :func:`facts_to_json` was given, or None when ``text`` is not such a JSON text."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list) or not data:
        return None
    match data:
        case ["too large", int() | None as width, int() | None as height]:
            return ImageTooLarge(width, height)
        case ["cannot be read", str() as reason]:
            return reason
        case ["read", str() as kind, int() as width, int() as height, str() as mode]:
            return kind, width, height, mode
    return None


def _read_image(file: Path) -> Facts:
    try:
        with open_image(file) as image:
            kind, (width, height), mode = str(image.format), image.size, image.mode
            if max(width, height) <= ARTWORK_MAX_SIDE:
                image.load()  # Decode it: a cut file opens fine but fails here.
    except FileNotFoundError:
        return "is missing"
    except UnidentifiedImageError:
        return "is not an image"
    except ImageTooLarge as exc:
        return exc
    except (OSError, SyntaxError, ValueError) as exc:
        return f"is damaged ({exc})"
    return kind, width, height, mode


def _too_large(
    reference: str, opened: object, *, path: Path, line: int | None, field: str, whose: str
) -> list[Problem]:
    """An error for an image bomb: publishing would decode it (gigabytes) or link it as it is."""
    if not isinstance(opened, ImageTooLarge):
        return []
    return [
        Problem(
            rule="image-too-large",
            path=path,
            line=line,
            field=field,
            message=f"{whose}: {reference} {opened}",
            hint=IMAGE_HINT,
        )
    ]


def audio_problems(release: Release, *, path: Path, line: int | None) -> list[Problem]:
    """Warnings on the recording as measured: length, format, bit rate, sample rate, channels."""
    info = release.audio
    problems: list[Problem] = []
    name = release.episode.audio

    def report(rule: str, message: str, hint: str) -> None:
        problems.append(
            Problem(
                rule=rule,
                path=path,
                line=line,
                field="audio",
                message=f"{name}: {message}",
                hint=hint,
            )
        )

    seconds = info.duration.total_seconds()
    if seconds < MIN_DURATION:
        report("audio-too-short", f"the audio lasts {seconds:.1f} s", "is it the right file? export the episode again")
    if info.announced is not None:
        announced = info.announced.total_seconds()
        if announced - seconds > max(1.0, 0.01 * announced):
            report(
                "audio-truncated",
                f"the file's header announces {timecode(announced)} of audio but it holds {timecode(seconds)}: "
                "it was probably cut while copied or uploaded (the feed gives the length really present)",
                "copy or export the file again",
            )
    if info.trailing > max(TRAILING_BYTES, info.size // 10):
        report(
            "audio-trailing-data",
            f"{info.trailing:,} bytes after the end of the audio are not audio (zeros or junk): "
            "every listener downloads them for nothing",
            "export the file again, or cut the end: ffmpeg -i FILE -c copy clean.mp3",
        )
    codec = info.codec or info.mime_type
    if info.mime_type not in ENCLOSURE_TYPES:
        report(
            "audio-format",
            f"{codec} audio ({info.mime_type}) does not play in Apple Podcasts",
            "publish MP3 or AAC (M4A), e.g. ffmpeg -i FILE -c:a libmp3lame -b:a 96k episode.mp3",
        )
    channels = info.channels or 1
    stereo = 1 if channels >= 2 else 0
    lossless = info.mime_type in _LOSSLESS_TYPES or codec.startswith("PCM") or codec == "FLAC"
    if info.bitrate and not lossless:
        kbps = info.bitrate / 1000
        low = LOW_BITRATE["efficient" if codec in _EFFICIENT_CODECS else "MP3"][stereo]
        high = HIGH_BITRATE[stereo]
        layout = "stereo" if stereo else "mono"
        if kbps < low * (1 - _BITRATE_TOLERANCE):
            report(
                "audio-bitrate-low",
                f"{kbps:.0f} kbps is very low for {layout} {codec}: voices will sound poor",
                f"encode at {low} kbps or more",
            )
        elif kbps > high * (1 + _BITRATE_TOLERANCE):
            report(
                "audio-bitrate-high",
                f"{kbps:.0f} kbps is more than speech needs in {layout}",
                f"{high} kbps or less sounds the same and downloads faster",
            )
    rate = info.sample_rate
    if rate and rate < MIN_SAMPLE_RATE:
        report(
            "audio-sample-rate-low",
            f"a sample rate of {rate} Hz muffles voices",
            f"resample to 44100 Hz (at least {MIN_SAMPLE_RATE})",
        )
    elif rate and rate > MAX_SAMPLE_RATE:
        report(
            "audio-sample-rate-high",
            f"a sample rate of {rate} Hz only makes the file bigger",
            "resample to 44100 or 48000 Hz",
        )
    if channels > 2:
        report(
            "audio-channels", f"{channels} channels; podcast apps play mono or stereo", "mix it down to stereo or mono"
        )
    return problems


def channel_problems(releases: Sequence[Release]) -> list[Problem]:
    """Notes on episodes whose channel count (mono, stereo) differs from most of the show's.

    The line of an episode's ``audio`` is looked up for those noted only (a dict of every
    episode's lines, made at every build, cost ~1 us an episode)."""
    counts = Counter(r.audio.channels for r in releases if r.audio.channels in (1, 2))
    if len(counts) < 2:
        return []
    usual = counts.most_common(1)[0][0]
    names = {1: "mono", 2: "stereo"}
    return [
        Problem(
            rule="audio-channels-mixed",
            path=release.episode.path,
            line=release.episode.line_of("audio"),
            field="audio",
            message=f"{release.episode.audio} is {names[channels]}, while most episodes are {names[usual]}",
            hint="speech needs no stereo: mono halves the file size at the same quality"
            if usual == 1
            else "listeners hear a jump in loudness and width between episodes",
        )
        for release in releases
        if (channels := release.audio.channels) in (1, 2) and channels != usual
    ]
