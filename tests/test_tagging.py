"""Tests of tagged audio copies: ID3v2.4 and MP4 tags, chapters apps and ffmpeg read, a cache that never rewrites."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from lxml import etree
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp4 import MP4

from audiogen import ChapterSpec, require_tool, write_m4a, write_mp3, write_wav
from entretiens import audio, chapters, tagging
from entretiens.cli import cli
from entretiens.loading import load_project
from entretiens.model import Release, Show
from entretiens.publish import publish
from showbuilder import episode, make_show, tree, write_artwork, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
CHAPTERS = [
    {"start": "00:00", "title": "Welcome"},
    {"start": "00:02.5", "title": "Guest story", "url": "https://example.org/story", "image": "images/story.png"},
    {"start": 4, "title": "Closing — merci"},
]
TITLES = ["Welcome", "Guest story", "Closing — merci"]
#: mutagen's readers; mutagen has no type hints.
read_id3: Callable[..., Any] = ID3
read_mp4: Callable[..., Any] = MP4


def _show(tmp_path: Path, audio_name: str = "audio/001.mp3", **fields: Any) -> Path:
    root = tmp_path / "show"
    write_artwork(root / "images" / "story.png", size=64)
    data = episode(1, audio=audio_name, chapters=CHAPTERS, **fields)
    return make_show(root, {"001-first": data}, seconds=6.0)


def _release(root: Path) -> tuple[Show, Release]:
    project = load_project(root)
    first = project.episodes[0]
    info = audio.probe(root / first.audio)
    found, _ = chapters.chapters_for(first, info)
    release = Release(
        episode=first, audio=info, chapters=found, audio_file=root / first.audio, enclosure_length=info.size
    )
    return project.show, release


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ffprobe_chapters(path: Path) -> list[tuple[float, float, str]]:
    ffprobe = require_tool("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-show_chapters", "-of", "json", str(path)], check=True, capture_output=True
    )
    found = json.loads(result.stdout)["chapters"]
    return [(float(c["start_time"]), float(c["end_time"]), c["tags"]["title"]) for c in found]


def _pcm(path: Path) -> bytes:
    ffmpeg = require_tool("ffmpeg")
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-"]
    return subprocess.run(command, check=True, capture_output=True).stdout


def test_mp3_copy_gets_an_id3v24_podcast_tag(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None and tagged.audio_file.parent == tmp_path / "cache"
    assert tagged.enclosure_length == tagged.audio_file.stat().st_size > release.audio.size
    tags = read_id3(tagged.audio_file)
    assert tags.version == (2, 4, 0)
    assert tags["TIT2"].text == ["Conversation 1"]
    assert tags["TALB"].text == ["Test Talks"]
    assert tags["TPE1"].text == ["Alex Host", "Guest 1"]
    assert tags["TPE2"].text == ["Alex Host"]
    assert str(tags["TDRC"].text[0]) == "2024-03-01 10:00:00"
    assert tags["TRCK"].text == ["1"]
    assert tags["TCON"].text == ["Podcast"]
    assert tags["PCST"].value == 1
    assert tags["TGID"].text == [release.episode.guid]
    assert tags["WFED"].url == "https://podcast.example.org/show/feed.xml"
    assert tags["COMM::eng"].text == ["Summary of conversation 1."]
    cover = tags.getall("APIC")
    assert [(c.type, c.mime, c.data) for c in cover] == [(3, "image/png", (show.root / "artwork.png").read_bytes())]


def test_mp3_chapters_round_trip_through_mutagen(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    tags = read_id3(tagged.audio_file)
    (toc,) = tags.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    ends = round(release.audio.duration.total_seconds() * 1000)
    found = []
    for element_id in toc.child_element_ids:
        chap = tags[f"CHAP:{element_id}"]
        urls = [frame.url for frame in chap.sub_frames.getall("WXXX")]
        images = [frame.data for frame in chap.sub_frames.getall("APIC")]
        found.append((chap.start_time, chap.end_time, chap.sub_frames["TIT2"].text[0], urls, len(images)))
    assert found == [
        (0, 2500, "Welcome", [], 0),
        (2500, 4000, "Guest story", ["https://example.org/story"], 0),
        (4000, ends, "Closing — merci", [], 0),
    ]
    # The probe reads them back as the chapters of the copy.
    assert [(c.start, c.title, c.url) for c in audio.probe(tagged.audio_file).chapters] == [
        (0.0, "Welcome", None),
        (2.5, "Guest story", "https://example.org/story"),
        (4.0, "Closing — merci", None),
    ]


def test_mp3_chapters_round_trip_through_ffprobe_in_order(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    end = round(release.audio.duration.total_seconds(), 3)
    assert _ffprobe_chapters(tagged.audio_file) == [
        (0.0, 2.5, "Welcome"),
        (2.5, 4.0, "Guest story"),
        (4.0, end, "Closing — merci"),
    ]
    assert _pcm(tagged.audio_file) == _pcm(release.audio_file)  # type: ignore[arg-type]


def test_the_original_is_never_modified(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)
    assert release.audio_file is not None
    before = (_sha256(release.audio_file), release.audio_file.stat().st_mtime_ns)

    tagging.tag_release(show, release, tmp_path / "cache")

    assert (_sha256(release.audio_file), release.audio_file.stat().st_mtime_ns) == before
    assert release.audio_file.stat().st_nlink == 1


def test_the_copy_is_reused_while_nothing_changes(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)
    first = tagging.tag_release(show, release, tmp_path / "cache")
    assert first.audio_file is not None
    stat = first.audio_file.stat()

    again = tagging.tag_release(show, release, tmp_path / "cache")

    assert again.audio_file == first.audio_file
    assert (again.audio_file.stat().st_ino, again.audio_file.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_the_copy_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)
    first = tagging.tag_release(show, release, tmp_path / "cache")
    assert first.audio_file is not None
    data = first.audio_file.read_bytes()
    first.audio_file.unlink()

    again = tagging.tag_release(show, release, tmp_path / "cache")

    assert again.audio_file == first.audio_file
    assert again.audio_file.read_bytes() == data


def test_changed_tags_make_a_new_copy_and_the_old_one_goes(tmp_path: Path) -> None:
    show, release = _show_and_release(tmp_path)
    first = tagging.tag_release(show, release, tmp_path / "cache")
    renamed = Release(
        episode=release.episode.__class__(**{**_fields(release.episode), "title": "Renamed"}),
        audio=release.audio,
        chapters=release.chapters,
        audio_file=release.audio_file,
        enclosure_length=release.enclosure_length,
    )

    second = tagging.tag_release(show, renamed, tmp_path / "cache")

    assert second.audio_file is not None and second.audio_file != first.audio_file
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [second.audio_file.name]
    assert read_id3(second.audio_file)["TIT2"].text == ["Renamed"]


def test_existing_tags_are_kept_and_old_chapters_replaced(tmp_path: Path) -> None:
    root = _show(tmp_path)
    write_mp3(
        root / "audio" / "001.mp3",
        seconds=6.0,
        id3_tags={"title": "Raw export", "artist": "Recorder"},
        id3_chapters=[ChapterSpec(start=0, end=1, title="Old"), ChapterSpec(start=1, end=6, title="Older")],
    )
    show, release = _release(root)
    assert release.chapters[0].title == "Welcome"  # The YAML's chapters win over the embedded ones.

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    tags = read_id3(tagged.audio_file)
    assert tags["TIT2"].text == ["Conversation 1"]
    assert [f.sub_frames["TIT2"].text[0] for f in tags.getall("CHAP")] == TITLES
    assert len(tags.getall("CTOC")) == 1
    assert read_id3(release.audio_file)["TIT2"].text == ["Raw export"]


def test_m4a_copy_gets_podcast_atoms_and_nero_chapters(tmp_path: Path) -> None:
    root = _show(tmp_path, "audio/001.m4a")
    write_m4a(root / "audio" / "001.m4a", 6.0)
    show, release = _release(root)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None and tagged.audio_file.suffix == ".m4a"
    mp4 = read_mp4(tagged.audio_file)
    assert mp4.tags is not None
    assert mp4.tags["\xa9nam"] == ["Conversation 1"]
    assert mp4.tags["\xa9alb"] == ["Test Talks"]
    assert mp4.tags["\xa9ART"] == ["Alex Host", "Guest 1"]
    assert mp4.tags["\xa9gen"] == ["Podcast"]
    assert mp4.tags["pcst"] is True
    assert mp4.tags["stik"] == [21]
    assert mp4.tags["egid"] == [release.episode.guid]
    assert mp4.tags["trkn"] == [(1, 0)]
    assert bytes(mp4.tags["covr"][0]) == (show.root / "artwork.png").read_bytes()
    assert [(c.start, c.title) for c in mp4.chapters] == [(0.0, TITLES[0]), (2.5, TITLES[1]), (4.0, TITLES[2])]
    assert [title for _, _, title in _ffprobe_chapters(tagged.audio_file)] == TITLES
    assert _pcm(tagged.audio_file) == _pcm(root / "audio" / "001.m4a")
    probed = audio.probe(tagged.audio_file)
    assert (probed.duration, probed.mime_type) == (release.audio.duration, "audio/x-m4a")
    assert [c.title for c in probed.chapters] == TITLES


def test_m4a_with_audio_after_moov_keeps_playing(tmp_path: Path) -> None:
    root = _show(tmp_path, "audio/001.m4a")
    plain = write_m4a(tmp_path / "plain.m4a", 6.0)
    ffmpeg = require_tool("ffmpeg")
    target = root / "audio" / "001.m4a"
    # moov first, as web-optimised exports do: the audio offsets must move with the new boxes.
    command = [ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(plain), "-c", "copy", "-movflags", "+faststart"]
    subprocess.run([*command, str(target)], check=True)
    show, release = _release(root)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    assert [c.title for c in read_mp4(tagged.audio_file).chapters] == TITLES
    assert _pcm(tagged.audio_file) == _pcm(target)


def test_m4a_chapter_track_of_the_file_gives_way_to_the_yaml(tmp_path: Path) -> None:
    root = _show(tmp_path, "audio/001.m4a")
    old = [ChapterSpec(start=0, end=3, title="Old one"), ChapterSpec(start=3, end=6, title="Old two")]
    write_m4a(root / "audio" / "001.m4a", 6.0, chapters=old)
    show, release = _release(root)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    assert [title for _, _, title in _ffprobe_chapters(tagged.audio_file)] == TITLES
    assert b"\x00\x00\x00\x0cchap" not in tagged.audio_file.read_bytes()
    assert _pcm(tagged.audio_file) == _pcm(root / "audio" / "001.m4a")


def test_m4a_chapters_from_the_file_itself_are_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "show"
    make_show(root, {"001-first": episode(1, audio="audio/001.m4a")})
    old = [ChapterSpec(start=0, end=2, title="Own one"), ChapterSpec(start=2, end=4, title="Own two")]
    write_m4a(root / "audio" / "001.m4a", 4.0, chapters=old)
    show, release = _release(root)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    assert [title for _, _, title in _ffprobe_chapters(tagged.audio_file)] == ["Own one", "Own two"]


def test_m4a_chapter_track_agreeing_with_the_yaml_is_kept(tmp_path: Path) -> None:
    root = _show(tmp_path, "audio/001.m4a")
    same = [ChapterSpec(start=0, end=2.5, title=TITLES[0]), ChapterSpec(start=2.5, end=4, title=TITLES[1])]
    write_m4a(root / "audio" / "001.m4a", 6.0, chapters=[*same, ChapterSpec(start=4, end=6, title=TITLES[2])])
    show, release = _release(root)

    tagged = tagging.tag_release(show, release, tmp_path / "cache")

    assert tagged.audio_file is not None
    # The QuickTime chapter track (Apple's) is still referenced: its 12-byte 'chap' box is there.
    assert b"\x00\x00\x00\x0cchap" in tagged.audio_file.read_bytes()
    assert [title for _, _, title in _ffprobe_chapters(tagged.audio_file)] == TITLES


def test_other_formats_are_published_untagged(tmp_path: Path) -> None:
    root = tmp_path / "show"
    make_show(root, {"001-first": episode(1, audio="audio/001.wav")})
    write_wav(root / "audio" / "001.wav", 2.0)
    show, release = _release(root)

    assert tagging.tag_release(show, release, tmp_path / "cache") is release
    assert not (tmp_path / "cache").exists()


def test_publish_with_tagging_links_the_tagged_copy(tmp_path: Path) -> None:
    root = _show(tmp_path)
    feed = load_project(root).show
    write_yaml(root / "feed.yaml", {**_feed_yaml(root), "tag_audio": True})
    original = root / "audio" / "001.mp3"
    before = _sha256(original)
    out = tmp_path / "public"

    result = publish(root, out, now=NOW)

    copy = out / "audio" / "001.mp3"
    enclosure = etree.fromstring((out / "feed.xml").read_bytes()).find("channel/item/enclosure")
    assert enclosure is not None
    assert int(enclosure.get("length", "0")) == copy.stat().st_size != original.stat().st_size
    assert read_id3(copy)["TALB"].text == [feed.title]
    assert _sha256(original) == before
    assert result.releases[0].enclosure_length == copy.stat().st_size


def test_a_second_publish_does_not_rewrite_the_copy(tmp_path: Path) -> None:
    root = _show(tmp_path)
    out = tmp_path / "public"
    publish(root, out, now=NOW, tag_audio=True)
    before = tree(out)

    result = publish(root, out, now=NOW, tag_audio=True)

    assert result.report is not None and not result.report.changed
    assert tree(out) == before


def test_cli_option_overrides_the_show_setting(tmp_path: Path) -> None:
    root = _show(tmp_path)
    write_yaml(root / "feed.yaml", {**_feed_yaml(root), "tag_audio": True})
    runner = CliRunner()

    plain = runner.invoke(cli, ["publish", "--show", str(root), "-o", str(tmp_path / "a"), "--no-tag-audio"])
    tagged = runner.invoke(cli, ["publish", "--show", str(root), "-o", str(tmp_path / "b"), "-q"])

    assert plain.exit_code == 0, plain.output
    assert tagged.exit_code == 0, tagged.output
    assert (tmp_path / "a" / "audio" / "001.mp3").read_bytes() == (root / "audio" / "001.mp3").read_bytes()
    assert read_id3(tmp_path / "b" / "audio" / "001.mp3").getall("CHAP")


def test_cli_option_turns_tagging_on(tmp_path: Path) -> None:
    root = _show(tmp_path)

    result = CliRunner().invoke(cli, ["publish", "--show", str(root), "-o", str(tmp_path / "out"), "--tag-audio"])

    assert result.exit_code == 0, result.output
    assert len(read_id3(tmp_path / "out" / "audio" / "001.mp3").getall("CHAP")) == 3


# -- helpers ---------------------------------------------------------------------------------------


def _show_and_release(tmp_path: Path) -> tuple[Show, Release]:
    return _release(_show(tmp_path))


def _fields(value: object) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}  # type: ignore[attr-defined]


def _feed_yaml(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / "feed.yaml").read_text(encoding="utf-8"))
    return data
