"""Tests for the audio probe: formats, real durations, broken files, MIME types, chapters, cache."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import mutagen
import mutagen.mp3
import pytest

from audiogen import (
    ChapterSpec,
    ffprobe_duration,
    flac_clear_total_samples,
    mp3_duration,
    mpeg_frame,
    require_tool,
    truncate,
    write_m4a,
    write_mp3,
    write_ogg_vorbis,
    write_opus,
    write_wav,
)
from audiogen import write_flac as _write_flac
from entretiens import audio, walks
from entretiens.audio import ProbeCache, mime_type_for, probe
from entretiens.errors import AudioError, OutputError
from entretiens.model import AudioInfo, EmbeddedChapter

CHAPTERS = (
    ChapterSpec(start=0, end=1.5, title="Introduction", url="https://example.org/intro"),
    ChapterSpec(start=1.5, end=3, title="Parcours"),
    ChapterSpec(start=3, end=4, title="Conclusion"),
)


def seconds(info: AudioInfo) -> float:
    return info.duration.total_seconds()


def assert_real_duration(path: Path, info: AudioInfo, expected: float, *, precision: float = 0.05) -> None:
    """Within ``precision`` of the duration known by construction, within 1 s of ffmpeg's decoding."""
    assert seconds(info) == pytest.approx(expected, abs=precision)
    decoded = ffprobe_duration(path)
    if decoded is not None:
        assert abs(seconds(info) - decoded) < 1
        assert round(seconds(info)) in (int(decoded), int(decoded) + 1)


# --- MP3 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "method"),
    [
        pytest.param({}, "measured", id="cbr-128"),
        pytest.param({"bitrate": 64, "channels": 1}, "measured", id="cbr-mono"),
        pytest.param({"vbr": True}, "measured", id="vbr-no-header"),
        pytest.param({"vbr": True, "xing": "xing"}, "header", id="vbr-xing"),
        pytest.param({"xing": "info"}, "header", id="cbr-info"),
        pytest.param({"vbr": True, "xing": "vbri"}, "header", id="vbr-vbri"),
        pytest.param({"mpeg_version": 2, "sample_rate": 22050, "bitrate": 64}, "measured", id="mpeg2-22050"),
        pytest.param({"mpeg_version": 2, "sample_rate": 16000, "vbr": True}, "measured", id="mpeg2-vbr"),
        pytest.param({"mpeg_version": 2, "sample_rate": 24000, "xing": "xing", "vbr": True}, "header", id="mpeg2-xing"),
        pytest.param({"mpeg_version": 2.5, "sample_rate": 8000, "bitrate": 16, "channels": 1}, "measured", id="mpeg25"),
        pytest.param({"mpeg_version": 2.5, "sample_rate": 11025, "vbr": True}, "measured", id="mpeg25-vbr"),
        pytest.param(
            {"mpeg_version": 2.5, "sample_rate": 12000, "xing": "vbri", "vbr": True}, "header", id="mpeg25-vbri"
        ),
        pytest.param({"sample_rate": 48000, "id3": True, "id3v1": True}, "measured", id="id3v2-id3v1"),
        pytest.param({"sample_rate": 32000, "apev2": True, "id3v1": True}, "measured", id="apev2-id3v1"),
        pytest.param({"leading": b"\0\xff\xfb" * 40, "trailing": b"junk" * 100}, "measured", id="junk-around"),
    ],
)
def test_mp3_duration_is_measured_frame_by_frame(tmp_path: Path, options: dict[str, Any], method: str) -> None:
    path = write_mp3(tmp_path / "episode.mp3", seconds=6, **options)
    info = probe(path)
    rate, version = options.get("sample_rate", 44100), options.get("mpeg_version", 1)
    assert_real_duration(path, info, mp3_duration(6, sample_rate=rate, mpeg_version=version), precision=0.001)
    assert info.duration_method == method
    assert (info.mime_type, info.codec, info.sample_rate) == ("audio/mpeg", "MP3", rate)
    assert info.channels == options.get("channels", 2)


def test_vbr_mp3_without_header_is_not_estimated_from_the_first_frame(tmp_path: Path) -> None:
    path = write_mp3(tmp_path / "vbr.mp3", seconds=20, vbr=True)
    # The estimate this guards against: the first frame's bitrate applied to the whole file.
    mutagen_mp3: Any = mutagen.mp3
    assert mutagen_mp3.MP3(path).info.length > 60
    info = probe(path)
    assert seconds(info) == pytest.approx(mp3_duration(20), abs=0.001)
    assert info.bitrate == pytest.approx(path.stat().st_size * 8 / seconds(info), rel=0.001)


def test_lame_delay_and_padding_are_trimmed(tmp_path: Path) -> None:
    path = write_mp3(tmp_path / "lame.mp3", seconds=6, vbr=True, xing="xing", lame=(576, 1200))
    info = probe(path)
    assert info.duration_method == "header"
    assert_real_duration(path, info, mp3_duration(6) - (576 + 1200) / 44100, precision=0.001)


@pytest.mark.parametrize("claimed", [10, 5000])
def test_lying_xing_frame_count_is_replaced_by_the_measure(tmp_path: Path, claimed: int) -> None:
    path = write_mp3(tmp_path / "lying.mp3", seconds=6, vbr=True, xing="xing", xing_frames=claimed)
    info = probe(path)
    assert info.duration_method == "measured"
    assert_real_duration(path, info, mp3_duration(6), precision=0.001)


def test_truncated_vbr_upload_is_measured(tmp_path: Path) -> None:
    path = truncate(write_mp3(tmp_path / "cut.mp3", seconds=10, vbr=True, xing="xing"), 0.5)
    info = probe(path)
    assert info.duration_method == "measured"
    assert_real_duration(path, info, 5, precision=0.5)


def test_mp3_files_joined_with_cat_are_measured_whole(tmp_path: Path) -> None:
    first = write_mp3(tmp_path / "a.mp3", seconds=4, vbr=True, xing="xing", id3_tags={"title": "A"})
    second = write_mp3(tmp_path / "b.mp3", seconds=3, xing="info", id3_tags={"title": "B"}, id3v1=True)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    info = probe(joined)
    assert info.duration_method == "measured"
    assert_real_duration(joined, info, mp3_duration(4) + mp3_duration(3), precision=0.05)
    assert info.tags == (("title", "A"),)


def _no_walk(*_args: object) -> tuple[int, int]:
    raise AssertionError("the frames were walked")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"vbr": True, "xing": "xing"}, id="vbr-xing"),
        pytest.param({"xing": "info", "id3": True, "id3v1": True}, id="cbr-info-tags"),
        pytest.param({"vbr": True, "xing": "vbri"}, id="vbr-vbri"),
        pytest.param({"mpeg_version": 2, "sample_rate": 24000, "xing": "xing", "vbr": True}, id="mpeg2-xing"),
    ],
)
def test_a_header_the_file_agrees_with_is_trusted_without_walking_the_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    path = write_mp3(tmp_path / "episode.mp3", seconds=6, **options)
    monkeypatch.setattr(audio._mpeg, "_walk_mpeg", _no_walk)
    info = probe(path)
    rate, version = options.get("sample_rate", 44100), options.get("mpeg_version", 1)
    assert_real_duration(path, info, mp3_duration(6, sample_rate=rate, mpeg_version=version), precision=0.001)
    assert info.duration_method == "header"


@pytest.mark.parametrize("args", [["-b:a", "128k"], ["-q:a", "4"]], ids=["cbr", "vbr"])
def test_ffmpeg_mp3_headers_are_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    ffmpeg = require_tool("ffmpeg")
    path = tmp_path / "encoded.mp3"
    source = ["-f", "lavfi", "-i", "sine=frequency=440:duration=7"]
    subprocess.run([ffmpeg, "-loglevel", "error", *source, "-metadata", "title=T", *args, str(path)], check=True)
    monkeypatch.setattr(audio._mpeg, "_walk_mpeg", _no_walk)
    info = probe(path)
    assert info.duration_method == "header"
    assert seconds(info) == pytest.approx(7, abs=0.03)


def test_a_full_size_file_without_its_last_frames_is_walked(tmp_path: Path) -> None:
    # A download written into a preallocated file that never finished: the size the header
    # gives, but zeros where the last 30 % of the frames should be.
    path = write_mp3(tmp_path / "partial.mp3", seconds=10, vbr=True, xing="xing")
    size = path.stat().st_size
    with path.open("r+b") as stream:
        stream.seek(int(size * 0.7))
        stream.write(bytes(size - int(size * 0.7)))
    info = probe(path)
    assert info.duration_method == "measured"
    assert seconds(info) == pytest.approx(7, abs=0.5)
    assert info.announced is not None


def test_a_few_frames_are_enough_when_they_fill_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short.mp3"
    frame = mpeg_frame(mpeg_version=1, bitrate=128, sample_rate=44100, channels=2)
    path.write_bytes(bytes(frame) * 2)
    assert seconds(probe(path)) == pytest.approx(2 * 1152 / 44100, abs=1e-6)


def test_mp3_tags_and_size(tmp_path: Path) -> None:
    tags = {"title": "Entretien avec Jérémi", "artist": "Entretiens", "album": "Saison 1"}
    path = write_mp3(tmp_path / "tagged.mp3", seconds=2, id3_tags=tags)
    info = probe(path)
    assert info.tags == tuple(tags.items())
    assert info.size == path.stat().st_size


# --- Chapters --------------------------------------------------------------------------------


def test_mp3_chapters_follow_the_ctoc(tmp_path: Path) -> None:
    path = write_mp3(tmp_path / "chapters.mp3", seconds=4, id3_chapters=CHAPTERS, ctoc_order=["chp1", "chp0", "chp2"])
    titles = [chapter.title for chapter in probe(path).chapters]
    assert titles == ["Parcours", "Introduction", "Conclusion"]


def test_mp3_chapters_without_ctoc_are_sorted_by_start(tmp_path: Path) -> None:
    shuffled = (CHAPTERS[2], CHAPTERS[0], CHAPTERS[1])
    path = write_mp3(tmp_path / "chapters.mp3", seconds=4, id3_chapters=shuffled, ctoc_order=[])
    assert probe(path).chapters == (
        EmbeddedChapter(start=0, title="Introduction", url="https://example.org/intro"),
        EmbeddedChapter(start=1.5, title="Parcours"),
        EmbeddedChapter(start=3, title="Conclusion"),
    )


def test_m4a_chapters_and_tags(tmp_path: Path) -> None:
    tags = {"title": "Titre", "artist": "Artiste", "album": "Album"}
    path = write_m4a(tmp_path / "chapters.m4a", 4, chapters=CHAPTERS, tags=tags)
    info = probe(path)
    assert [(c.start, c.title) for c in info.chapters] == [(c.start, c.title) for c in CHAPTERS]
    assert info.tags == tuple(tags.items())


# --- Other formats ---------------------------------------------------------------------------


def write_flac(path: Path, duration: float) -> Path:
    return _write_flac(path, duration, tags={"title": "Titre"})


@pytest.mark.parametrize(
    ("name", "writer", "mime_type", "codec"),
    [
        ("episode.m4a", write_m4a, "audio/x-m4a", "AAC"),
        ("episode.mp4", write_m4a, "audio/mp4", "AAC"),
        ("episode.ogg", write_ogg_vorbis, "audio/ogg", "Vorbis"),
        ("episode.opus", write_opus, "audio/ogg", "Opus"),
        ("episode.ogg", write_opus, "audio/ogg", "Opus"),
        ("episode.flac", write_flac, "audio/flac", "FLAC"),
    ],
)
def test_encoded_formats(
    tmp_path: Path, name: str, writer: Callable[[Path, float], Path], mime_type: str, codec: str
) -> None:
    path = writer(tmp_path / name, 5)
    info = probe(path)
    assert (info.mime_type, info.codec, info.duration_method) == (mime_type, codec, "header")
    assert_real_duration(path, info, 5)
    assert info.sample_rate in (44100, 48000)
    assert info.bitrate
    # mutagen leaves an AAC mono stream that might carry parametric stereo to its sample entry,
    # where ffmpeg writes 2.
    assert info.channels in ((1, 2) if codec == "AAC" else (1,))


def test_flac_without_total_samples_is_measured(tmp_path: Path) -> None:
    path = flac_clear_total_samples(write_flac(tmp_path / "streamed.flac", 5))
    info = probe(path)
    assert info.duration_method == "measured"
    assert_real_duration(path, info, 5, precision=0.001)
    assert info.tags == (("title", "Titre"),)


@pytest.mark.parametrize("total_samples_known", [True, False])
def test_truncated_flac_is_measured(tmp_path: Path, total_samples_known: bool) -> None:
    path = truncate(write_flac(tmp_path / "cut.flac", 6), 0.5)
    if not total_samples_known:
        flac_clear_total_samples(path)
    info = probe(path)
    assert info.duration_method == "measured"
    decoded = ffprobe_duration(path)
    assert 2 < seconds(info) < 4
    if decoded is not None:
        assert seconds(info) == pytest.approx(decoded, abs=0.01)


@pytest.mark.parametrize("writer", [write_ogg_vorbis, write_opus])
def test_truncated_ogg_ends_at_its_last_whole_page(tmp_path: Path, writer: Callable[[Path, float], Path]) -> None:
    path = truncate(writer(tmp_path / "cut.ogg", 6), 0.7)
    info = probe(path)
    decoded = ffprobe_duration(path)
    assert 1 < seconds(info) < 5
    if decoded is not None:
        assert abs(seconds(info) - decoded) < 1


def test_chained_ogg_counts_every_link(tmp_path: Path) -> None:
    one = write_ogg_vorbis(tmp_path / "one.ogg", 3)
    two = write_opus(tmp_path / "two.opus", 2)
    chain = tmp_path / "chain.ogg"
    chain.write_bytes(one.read_bytes() + two.read_bytes())
    info = probe(chain)
    assert info.duration_method == "measured"
    assert seconds(info) == pytest.approx(5, abs=0.05)


@pytest.mark.parametrize(
    ("header_size", "method"),
    [(None, "header"), (0xFFFFFFFF, "measured"), (0, "measured"), (10**7, "measured")],
    ids=["exact", "streamed-ffffffff", "streamed-0", "truncated"],
)
def test_wav(tmp_path: Path, header_size: int | None, method: str) -> None:
    path = write_wav(tmp_path / "episode.wav", 3, header_size=header_size)
    info = probe(path)
    assert (info.mime_type, info.codec, info.duration_method) == ("audio/wav", "PCM", method)
    assert (info.sample_rate, info.channels, info.bitrate) == (8000, 1, 128000)
    assert_real_duration(path, info, 3, precision=0.001)


def test_wav_info_tags_after_the_data(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "tagged.wav", 1, sample_width=1, channels=2, info={"INAM": "Titre", "IART": "Moi"})
    info = probe(path)
    assert info.tags == (("title", "Titre"), ("artist", "Moi"))
    assert seconds(info) == pytest.approx(1)


def test_truncated_m4a_is_refused(tmp_path: Path) -> None:
    path = truncate(write_m4a(tmp_path / "cut.m4a", 5), 0.6)
    with pytest.raises(AudioError, match="truncated: its 'mdat' box needs"):
        probe(path)


# --- Broken inputs ---------------------------------------------------------------------------


def _noise(seed: int, count: int) -> bytes:
    return random.Random(seed).randbytes(count)  # noqa: S311 - reproducible noise, not secrets


def _ogg_page(body: bytes) -> bytes:
    return b"OggS\0\x02" + bytes(20) + bytes([1, len(body)]) + body


def _mp3_bytes(tmp_path: Path) -> bytes:
    return write_mp3(tmp_path / "source.mp3", seconds=1).read_bytes()


def _id3_only(tmp_path: Path) -> bytes:
    source = write_mp3(tmp_path / "tag.mp3", seconds=1, id3_tags={"title": "x"})
    data = source.read_bytes()
    return data[: 10 + int.from_bytes(data[6:10], "big")]


BROKEN: list[tuple[str, Callable[[Path], bytes], str]] = [
    ("empty.mp3", lambda _: b"", "the file is empty (0 bytes)"),
    ("notes.mp3", lambda _: "Bonjour, ceci n'est pas un épisode.\n".encode() * 20, "this is a text file, not audio"),
    ("page.mp3", lambda _: b"<!DOCTYPE html><html><body>404</body></html>", "this is an HTML page, not audio"),
    ("tag-only.mp3", _id3_only, "the file has an ID3 tag but no MPEG audio frames after it"),
    ("noise.mp3", lambda _: _noise(3, 200_000), "not audio in a format entretiens reads"),
    (
        "one-frame-then-noise.mp3",
        lambda _: bytes(mpeg_frame(mpeg_version=1, bitrate=128, sample_rate=44100, channels=2)) + _noise(4, 20_000),
        "not audio in a format entretiens reads",
    ),
    ("flac.mp3", lambda _: b"fLaC" + bytes(100), "the file is FLAC, but its name ends in '.mp3'"),
    ("mp3.wav", _mp3_bytes, "the file is MP3, but its name ends in '.wav'"),
    ("episode", _mp3_bytes, "the file is MP3, but its name has no extension"),
    ("vorbis.opus", lambda _: _ogg_page(b"\x01vorbis" + bytes(23)), "the file is Ogg Vorbis, but its name ends in"),
    ("speex.ogg", lambda _: _ogg_page(b"Speex   " + bytes(72)), "this Ogg file holds neither Vorbis nor Opus audio"),
    ("broken.flac", lambda _: b"fLaC" + _noise(5, 500), "cannot read the FLAC data"),
    ("broken.m4a", lambda _: b"\0\0\0\x18ftypM4A \0\0\0\0M4A mp42" + bytes(16), "has no 'moov' box"),
    ("song.aiff", lambda _: b"FORM\0\0\0\x04AIFF", "this is AIFF audio"),
    ("raw.aac", lambda _: b"\xff\xf1\x50\x80" + bytes(300), "this is raw AAC (ADTS)"),
    (
        "no-data.wav",
        lambda _: b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0" + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16),
        "no 'data' chunk",
    ),
    (
        "silent.wav",
        lambda p: write_wav(p / "silent-source.wav", 0).read_bytes(),
        "the file holds no audio: its duration is zero",
    ),
    (
        "xing-only.mp3",
        lambda p: write_mp3(p / "xing-source.mp3", seconds=0, xing="xing").read_bytes(),
        "the file holds no audio: its duration is zero",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_inputs_raise_a_clear_audio_error(
    tmp_path: Path, name: str, content: Callable[[Path], bytes], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content(tmp_path))
    with pytest.raises(AudioError) as caught:
        probe(path)
    error = caught.value
    assert error.path == path
    assert str(error).startswith(f"{path}: ")
    assert message in error.message
    assert error.hint


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="file not found") as caught:
        probe(tmp_path / "absent.mp3")
    assert str(caught.value).startswith(str(tmp_path / "absent.mp3"))
    (tmp_path / "folder.mp3").mkdir()
    with pytest.raises(AudioError, match="not an audio file"):
        probe(tmp_path / "folder.mp3")


def test_wrong_extension_hint_names_the_right_file(tmp_path: Path) -> None:
    path = tmp_path / "episode.MP3"
    path.write_bytes(b"RIFF\0\0\0\0WAVE")
    with pytest.raises(AudioError) as caught:
        probe(path)
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("rename it to episode.wav")


@pytest.mark.parametrize(
    ("name", "container", "expected"),
    [
        ("a.mp3", "mp3", "audio/mpeg"),
        ("a.M4A", "mp4", "audio/x-m4a"),
        ("a.mp4", "mp4", "audio/mp4"),
        ("a.ogg", "vorbis", "audio/ogg"),
        ("a.oga", "opus", "audio/ogg"),
        ("a.opus", "opus", "audio/ogg"),
        ("a.flac", "flac", "audio/flac"),
        ("a.wav", "wav", "audio/wav"),
    ],
)
def test_mime_type_for(name: str, container: audio.Container, expected: str) -> None:
    assert mime_type_for(Path(name), container) == expected


@pytest.mark.parametrize(("name", "container"), [("a.mp3", "flac"), ("a.m4a", "mp3"), ("a.opus", "vorbis")])
def test_mime_type_for_refuses_a_contradicting_extension(name: str, container: audio.Container) -> None:
    with pytest.raises(AudioError, match="rename it to a\\."):
        mime_type_for(Path(name), container)


# --- Cache -----------------------------------------------------------------------------------


def _settle(*paths: Path) -> None:
    """Wait until the files' last change has settled (:func:`walks.settled`), as a show's audio
    has by the time a build measures it: the cache keeps no measure of a file changed within a
    timestamp tick of its read."""
    stamps = [(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino) for s in (path.stat() for path in paths)]
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)


@pytest.fixture
def episode(tmp_path: Path) -> Path:
    made = write_mp3(tmp_path / "episode.mp3", seconds=2, id3_chapters=CHAPTERS[:1], id3_tags={"title": "T"})
    _settle(made)
    return made


def test_a_measure_of_a_file_changed_within_a_tick_of_its_read_is_used_but_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tick of 1 s (ten times the real one): the read falls within it however busy the machine.
    # A file changed again in that tick at the same size could keep its stamp (whole-second
    # times, an exporter rewriting its header): a measure kept would be handed on for new bytes.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 10**9)
    store = tmp_path / "probe.json"
    fresh = write_mp3(tmp_path / "fresh.mp3", seconds=2, id3_tags={"title": "T"})
    cache = ProbeCache(store)
    info = probe(fresh, cache=cache)
    assert info == probe(fresh) and info.duration.seconds == 2
    assert cache.get(fresh) is None
    assert not cache.put(fresh, info)
    cache.save()
    assert ProbeCache(store).get(fresh) is None
    # Once settled, the next build's measure is kept.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    _settle(fresh)
    cache = ProbeCache(store)
    assert probe(fresh, cache=cache) == info
    cache.save()
    assert ProbeCache(store).get(fresh) == info


def test_cache_round_trip(tmp_path: Path, episode: Path) -> None:
    store = tmp_path / "show" / ".entretiens" / "cache" / "probe.json"
    cache = ProbeCache(store)
    assert cache.get(episode) is None
    info = probe(episode)
    cache.put(episode, info)
    cache.save()
    assert ProbeCache(store).get(episode) == info
    assert [p.name for p in store.parent.iterdir()] == ["probe.json"]
    assert _cache_document(store)["version"] == audio.CACHE_VERSION


def _cache_document(store: Path) -> Any:
    """The probe cache's document, once its digest line is checked."""
    body, _, digest = store.read_bytes().rpartition(b"\n")
    assert hashlib.sha256(body).hexdigest().encode() == digest
    return json.loads(body)


def _write_cache_document(store: Path, document: object) -> None:
    """A probe cache holding ``document``, with the digest line that makes it trusted."""
    body = json.dumps(document).encode()
    store.write_bytes(body + b"\n" + hashlib.sha256(body).hexdigest().encode())


def test_probe_uses_and_fills_the_cache(tmp_path: Path, episode: Path) -> None:
    cache = ProbeCache(tmp_path / "probe.json")
    info = probe(episode, cache=cache)
    assert cache.get(episode) == info
    planted = replace(info, codec="planted")
    cache.put(episode, planted)
    assert probe(episode, cache=cache) == planted


def test_cache_misses_when_size_or_mtime_change(tmp_path: Path, episode: Path) -> None:
    cache = ProbeCache(tmp_path / "probe.json")
    cache.put(episode, probe(episode))
    stat = episode.stat()
    os.utime(episode, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache.get(episode) is None
    _settle(episode)
    cache = ProbeCache(tmp_path / "probe.json")
    assert cache.put(episode, probe(episode))
    assert cache.get(episode) is not None
    mtime = episode.stat().st_mtime_ns
    with episode.open("ab") as stream:
        stream.write(b"TAG" + bytes(125))
    os.utime(episode, ns=(mtime, mtime))
    assert cache.get(episode) is None


def test_a_save_looks_only_at_the_files_this_run_did_not_find(
    tmp_path: Path, episode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One file measured in a show of 10,000: the others' entries were each looked at again.
    store = tmp_path / "probe.json"
    files = [episode, *(shutil.copy(episode, tmp_path / f"copy-{n}.mp3") for n in range(4))]
    _settle(*map(Path, files))
    cache = ProbeCache(store)
    for file in files:
        cache.put(Path(file), probe(Path(file)))
    cache.save()
    Path(files[1]).unlink()
    cache = ProbeCache(store)
    assert cache.get(Path(files[2])) is not None
    cache.put(episode, probe(episode))
    looked: list[str] = []
    exists = os.path.exists

    def counted(path: str) -> bool:
        looked.append(str(path))
        return exists(path)

    monkeypatch.setattr(os.path, "exists", counted)
    cache.save()
    monkeypatch.undo()
    # Not found by this run: the removed file (dropped) and two not asked for (kept).
    assert sorted(looked) == sorted(str(Path(file).resolve()) for file in (files[1], files[3], files[4]))
    again = ProbeCache(store)
    assert [again.get(Path(file)) is not None for file in files] == [True, False, True, True, True]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 1, "entries": []}',
        "\0\0\0",
    ],
)
def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path, episode: Path, content: str) -> None:
    store = tmp_path / "probe.json"
    store.write_text(content)
    cache = ProbeCache(store)
    assert cache.get(episode) is None
    cache.put(episode, probe(episode))
    cache.save()
    assert ProbeCache(store).get(episode) is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_us", "long"),
        ("duration_us", 1.5),
        ("size", True),
        ("size", None),
        ("trailing", "0"),
        ("announced_us", 2.0),
        ("mime_type", 3),
        ("codec", None),
        ("bitrate", "128"),
        ("sample_rate", False),
        ("channels", 1.0),
        ("duration_method", "guessed"),
        ("duration_method", None),
        ("tags", ["title"]),
        ("tags", ["title", 3]),
        ("tags", [["title", "T"]]),
        ("tags", "title"),
        ("tags", {"title": "T"}),
        ("chapters", ["0", "A", None]),
        ("chapters", [True, "A", None]),
        ("chapters", [0, None, None]),
        ("chapters", [0, "A", 5]),
        ("chapters", [0, "A"]),
        ("chapters", [[0, "A", None]]),
        ("chapters", [{"start": 0, "title": "A", "url": None}]),
    ],
)
def test_malformed_cache_entry_is_a_miss(tmp_path: Path, episode: Path, field: str, value: object) -> None:
    store = tmp_path / "probe.json"
    cache = ProbeCache(store)
    cache.put(episode, probe(episode))
    cache.save()
    document = _cache_document(store)
    (entry,) = document["entries"].values()
    entry[4][audio.cache.INFO_FIELDS.index(field)] = value
    _write_cache_document(store, document)
    assert ProbeCache(store).get(episode) is None


@pytest.mark.parametrize(
    "entry",
    [
        # Cut, or longer than written, or the stamp's parts in another order.
        lambda entry: entry[:4],
        lambda entry: [*entry, 0],
        lambda entry: [*entry[:4], entry[4][:-1]],
        lambda entry: [*entry[:4], [*entry[4], []]],
        lambda entry: [entry[1], entry[0], *entry[2:]],
        lambda entry: [*entry[:4], dict(zip(audio.cache.INFO_FIELDS, entry[4], strict=True))],
        # The form of version 5: a mapping.
        lambda entry: dict(zip(("size", "mtime_ns", "ctime_ns", "inode", "info"), entry, strict=True)),
    ],
)
def test_a_cache_entry_of_another_shape_is_a_miss(tmp_path: Path, episode: Path, entry: Any) -> None:
    store = tmp_path / "probe.json"
    cache = ProbeCache(store)
    cache.put(episode, probe(episode))
    cache.save()
    document = _cache_document(store)
    ((key, written),) = document["entries"].items()
    document["entries"][key] = entry(written)
    _write_cache_document(store, document)
    assert ProbeCache(store).get(episode) is None
    # As written, it is a hit: only the change makes the miss.
    document["entries"][key] = written
    _write_cache_document(store, document)
    assert ProbeCache(store).get(episode) == probe(episode)


def test_a_cache_entry_reads_back_every_field(tmp_path: Path, episode: Path) -> None:
    """Each field of a measure, none at its default, read back as it was put (a field written
    at another's place would read back as its neighbour)."""
    info = AudioInfo(
        size=123456,
        duration=timedelta(seconds=61, microseconds=7),
        mime_type="audio/mpeg",
        codec="MP3",
        bitrate=128000,
        sample_rate=44100,
        channels=2,
        duration_method="measured",
        announced=timedelta(seconds=90, microseconds=3),
        trailing=17,
        tags=(("title", "T"), ("artist", "A")),
        chapters=(
            EmbeddedChapter(start=0.0, title="One", url=None),
            EmbeddedChapter(start=1.5, title="Two", url="https://example.com/"),
        ),
    )
    for field in dataclasses.fields(AudioInfo):
        assert getattr(info, field.name) != field.default, field.name
    store = tmp_path / "probe.json"
    cache = ProbeCache(store)
    cache.put(episode, info)
    cache.save()
    again = ProbeCache(store).get(episode)
    assert again == info
    assert again is not None and again.tags == info.tags and again.chapters == info.chapters


def test_cache_version_or_mutagen_change_drops_entries(
    tmp_path: Path, episode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "probe.json"
    cache = ProbeCache(store)
    cache.put(episode, probe(episode))
    cache.save()
    monkeypatch.setattr(audio.cache, "CACHE_VERSION", audio.CACHE_VERSION + 1)
    assert ProbeCache(store).get(episode) is None
    monkeypatch.undo()
    assert ProbeCache(store).get(episode) is not None
    monkeypatch.setattr(mutagen, "version_string", "0.0")
    assert ProbeCache(store).get(episode) is None


def test_unwritable_cache_is_an_output_error(tmp_path: Path, episode: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ProbeCache(blocker / "probe.json")
    cache.put(episode, probe(episode))
    with pytest.raises(OutputError, match="cannot write the audio cache"):
        cache.save()


def test_cached_duration_keeps_microseconds(tmp_path: Path, episode: Path) -> None:
    info = replace(probe(episode), duration=timedelta(seconds=1, microseconds=7))
    cache = ProbeCache(tmp_path / "probe.json")
    cache.put(episode, info)
    cache.save()
    cached = ProbeCache(tmp_path / "probe.json").get(episode)
    assert cached is not None
    assert cached.duration == timedelta(seconds=1, microseconds=7)


@pytest.mark.parametrize("channels", [1, 2])
def test_aac_channel_count_comes_from_the_track_configuration(tmp_path: Path, channels: int) -> None:
    require_tool("ffmpeg")
    path = tmp_path / "voice.m4a"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-ac",
            str(channels),
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            str(path),
        ],
        check=True,
    )
    assert probe(path).channels == channels


def test_equal_texts_of_cached_measures_are_one_object(tmp_path: Path, episode: Path) -> None:
    # A show's files share their MIME type, codec, method, tags (artist, album) and often
    # chapter titles: read back from the cache, each equal text is held once.
    copy = Path(shutil.copy(episode, tmp_path / "copy.mp3"))
    _settle(copy)
    store = tmp_path / "probe.json"
    cache = ProbeCache(store)
    for file in (episode, copy):
        cache.put(file, probe(file))
    cache.save()
    again = ProbeCache(store)
    one, two = again.get(episode), again.get(copy)
    assert one is not None and two is not None and one == two and one.tags and one.chapters
    assert one.mime_type is two.mime_type and one.codec is two.codec
    assert one.duration_method is two.duration_method
    assert all(a is b for pair, other in zip(one.tags, two.tags, strict=True) for a, b in zip(pair, other, strict=True))
    assert one.chapters[0].title is two.chapters[0].title
