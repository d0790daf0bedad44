"""Publishing end to end: what listeners' apps see, atomic output, reproducible bytes, stable GUIDs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from audiogen import write_mp3
from entretiens.errors import ProblemsError
from entretiens.publish import publish
from podcast_clients import normalized, parse_with_podcastparser
from showbuilder import BASE_URL, episode, make_show, tree, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def _feed(out: Path) -> bytes:
    return (out / "feed.xml").read_bytes()


def test_podcast_apps_see_every_episode_as_published(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {
            "001-cbr": episode(1),
            "002-vbr": episode(2, audio="audio/vbr file.mp3"),
            "003-mpeg2": episode(3),
        },
    )
    write_mp3(root / "audio" / "vbr file.mp3", seconds=7.0, vbr=True)
    write_mp3(root / "audio" / "003.mp3", seconds=5.0, mpeg_version=2, sample_rate=22050, bitrate=32)
    out = tmp_path / "public"
    publish(root, out, now=NOW)
    xml = _feed(out)
    expected_urls = {
        "001-cbr": BASE_URL + "audio/001.mp3",
        "002-vbr": BASE_URL + "audio/vbr%20file.mp3",
        "003-mpeg2": BASE_URL + "audio/003.mp3",
    }
    sizes = {
        slug: (root / "audio" / name).stat().st_size
        for slug, name in (("001-cbr", "001.mp3"), ("002-vbr", "vbr file.mp3"), ("003-mpeg2", "003.mp3"))
    }
    durations = {"001-cbr": 3, "002-vbr": 7, "003-mpeg2": 5}
    guids = yaml.safe_load((root / "published.yaml").read_text())["episodes"]
    views = normalized(xml, BASE_URL + "feed.xml")
    assert set(views) >= {"podcastparser", "feedparser"}
    expected_dates = [int(datetime.fromisoformat(f"2024-03-0{n}T10:00:00+01:00").timestamp()) for n in (1, 2, 3)]
    for client, view in views.items():
        episodes = view.episodes
        assert [e.title for e in episodes] == ["Conversation 1", "Conversation 2", "Conversation 3"], client
        for slug, seen in zip(("001-cbr", "002-vbr", "003-mpeg2"), episodes, strict=False):
            assert seen.guid == guids[slug], client
            assert seen.enclosure is not None, client
            assert seen.enclosure.url == expected_urls[slug], client
            assert seen.enclosure.length == sizes[slug], client
            assert seen.enclosure.type == "audio/mpeg", client
            assert seen.duration == durations[slug], (client, slug)
        assert [e.published for e in episodes] == expected_dates, client
    # Every client read the same thing.
    assert len(set(views.values())) == 1
    # The audio is published unchanged, at the URL the feed names.
    assert (out / "audio" / "vbr file.mp3").read_bytes() == (root / "audio" / "vbr file.mp3").read_bytes()
    assert (out / "artwork.png").read_bytes() == (root / "artwork.png").read_bytes()


def test_drafts_and_future_episodes_are_left_out(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {
            "001-a": episode(1),
            "002-draft": episode(2, draft=True),
            "003-later": episode(3, date="2030-01-01T09:00:00+01:00"),
        },
    )
    result = publish(root, tmp_path / "out", now=NOW)
    assert [r.episode.slug for r in result.releases] == ["001-a"]
    assert [e.slug for e in result.drafts] == ["002-draft"]
    assert [e.slug for e in result.scheduled] == ["003-later"]
    feed = parse_with_podcastparser(_feed(tmp_path / "out"), BASE_URL + "feed.xml")
    assert [e["title"] for e in feed["episodes"]] == ["Conversation 1"]
    assert not (tmp_path / "out" / "002-draft").exists()
    assert not (tmp_path / "out" / "audio" / "002.mp3").exists()
    # Not pinned either: a GUID is fixed when listeners first get it.
    pinned = yaml.safe_load((root / "published.yaml").read_text())["episodes"]
    assert list(pinned) == ["001-a"]

    result = publish(root, tmp_path / "out", now=NOW, include_future=True)
    assert [r.episode.slug for r in result.releases] == ["001-a", "003-later"]


def test_same_input_same_bytes_and_nothing_rewritten(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    before = tree(out)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (copy / "published.yaml").unlink()
    publish(copy, tmp_path / "out2", now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    # A fresh clone without published.yaml builds byte-identical output (GUIDs are derived, not random).
    assert {k: v[2] for k, v in tree(tmp_path / "out2").items()} == {k: v[2] for k, v in before.items()}
    result = publish(root, out, now=NOW)
    assert result.report is not None and not result.report.changed
    assert tree(out) == before  # same inodes and mtimes: nothing was rewritten


def test_an_input_dated_in_the_future_never_holds_a_publish_up(tmp_path: Path) -> None:
    """A file dated ahead of the clock (copied with its time from a machine whose clock runs
    ahead, a recorder set to the wrong year) is published at once, every time: a publish may
    wait for a file saved a moment ago to settle, never for a date that has not come."""
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    ahead = time.time_ns() + 365 * 24 * 3600 * 10**9
    first = sorted((root / "episodes").glob("*.yaml"))[0]
    os.utime(first, ns=(ahead, ahead))
    command = [sys.executable, "-m", "entretiens", "publish", "--show", str(root), "--output", str(out), "--quiet"]
    outputs = []
    for _ in range(2):
        # A hang (a wait until next year) ends the run after two minutes, and fails the test.
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        outputs.append({name: stat[2] for name, stat in tree(out).items()})
    assert outputs[0] == outputs[1]
    assert any(name.endswith("feed.xml") for name in outputs[0])


def test_removed_episode_leaves_no_stale_file(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    assert (out / "audio" / "002.mp3").exists()
    (root / "episodes" / "002-second.yaml").unlink()
    result = publish(root, out, now=NOW)
    assert not (out / "audio" / "002.mp3").exists()
    assert result.report is not None and "audio/002.mp3" in {str(p) for p in result.report.removed}
    assert b"Conversation 2" not in _feed(out)


def test_failed_publish_leaves_previous_output_untouched(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    before = tree(out)
    (root / "audio" / "001.mp3").write_bytes(b"this is not audio at all\n" * 10)
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    (problem,) = caught.value.problems
    assert problem.path == root / "episodes" / "001-first.yaml"
    assert problem.field == "audio"
    assert "001.mp3" in problem.message
    assert tree(out) == before


def test_output_folder_must_not_be_the_show_or_a_foreign_folder(tmp_path: Path) -> None:
    from entretiens.errors import OutputError

    root = make_show(tmp_path / "show")
    with pytest.raises(OutputError, match="cannot be the show folder"):
        publish(root, root, now=NOW)
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.odt").write_bytes(b"precious")
    with pytest.raises(OutputError, match="entretiens did not write"):
        publish(root, foreign, now=NOW)
    assert (foreign / "thesis.odt").read_bytes() == b"precious"
    # Another tool's feed.xml does not make a folder ours either (a static site's output).
    site = tmp_path / "site"
    (site / "blog").mkdir(parents=True)
    (site / "feed.xml").write_text("<rss/>")
    (site / "blog" / "post.html").write_text("post")
    with pytest.raises(OutputError, match="entretiens did not write"):
        publish(root, site, now=NOW)
    assert (site / "blog" / "post.html").read_text() == "post"


def _guids(root: Path, out: Path) -> dict[str, str]:
    feed = parse_with_podcastparser(_feed(out), BASE_URL + "feed.xml")
    return {e["title"]: e["guid"] for e in feed["episodes"]}


def test_guids_survive_every_edit_but_the_slug(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    first = yaml.safe_load((root / "published.yaml").read_text())
    original = dict(first["episodes"].items())

    # Title, date, notes, audio file name and the show's base_url all change.
    path = root / "episodes" / "001-first.yaml"
    data = yaml.safe_load(path.read_text())
    (root / "audio" / "001.mp3").rename(root / "audio" / "renamed.mp3")
    data.update(title="A new title", date="2024-02-01T08:00:00+01:00", notes="New notes.", audio="audio/renamed.mp3")
    write_yaml(path, data)
    show = yaml.safe_load((root / "feed.yaml").read_text())
    show["base_url"] = "https://elsewhere.example.net/podcast/"
    write_yaml(root / "feed.yaml", show)
    publish(root, out, now=NOW)

    xml = _feed(out)
    feed = parse_with_podcastparser(xml, "https://elsewhere.example.net/podcast/feed.xml")
    guids = {e["title"]: e["guid"] for e in feed["episodes"]}
    assert guids == {"A new title": original["001-first"], "Conversation 2": original["002-second"]}
    state = yaml.safe_load((root / "published.yaml").read_text())
    assert state["podcast_guid"] == first["podcast_guid"]
    # The moved feed's URL no longer gives this GUID: expected, so a note, not a warning.
    result = publish(root, out, now=NOW, strict=True)
    assert [p.severity for p in result.warnings if p.rule == "pc20.guid.mismatch"] == ["info"]
    assert f"<podcast:guid>{first['podcast_guid']}</podcast:guid>".encode() in xml


def test_a_renamed_file_keeps_its_guid_when_told(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    old = yaml.safe_load((root / "published.yaml").read_text())["episodes"]["001-first"]
    data = yaml.safe_load((root / "episodes" / "001-first.yaml").read_text())
    (root / "episodes" / "001-first.yaml").unlink()
    write_yaml(root / "episodes" / "001-renamed.yaml", data)
    # Renamed without its GUID: published, but with a warning naming the lost one.
    result = publish(root, out, now=NOW, dry_run=True)
    (warning,) = [p for p in result.warnings if p.rule == "guid-orphaned"]
    assert warning.path == root / "episodes" / "001-renamed.yaml"
    assert "001-first" in warning.message

    write_yaml(root / "episodes" / "001-renamed.yaml", {**data, "guid": old})
    result = publish(root, out, now=NOW)
    assert not [p for p in result.warnings if p.rule == "guid-orphaned"]
    assert _guids(root, out)["Conversation 1"] == old


def test_an_explicit_guid_is_used_but_never_replaces_a_published_one(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, guid="urn:example:episode-one")})
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    assert _guids(root, out)["Conversation 1"] == "urn:example:episode-one"
    before = tree(out)

    write_yaml(root / "episodes" / "001-a.yaml", episode(1, guid="urn:example:something-else"))
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.rule, problem.field) == ("guid-changed", "guid")
    assert problem.line is not None and "urn:example:episode-one" in problem.message
    assert tree(out) == before


def test_the_show_guid_cannot_change_once_published(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    publish(root, tmp_path / "out", now=NOW)
    show = yaml.safe_load((root / "feed.yaml").read_text())
    write_yaml(root / "feed.yaml", {**show, "guid": "c2a54c0a-4d34-5b2c-8a4b-0d3b6f4e2f11"})
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    assert [(p.rule, p.path) for p in caught.value.problems] == [("guid-changed", root / "feed.yaml")]


def test_guids_are_pinned_before_the_output_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from entretiens import output
    from entretiens.errors import OutputError

    root = make_show(tmp_path / "show")

    def failing(out_dir: Path, files: object, kept: object = None, sources: object = None) -> None:
        assert (root / "published.yaml").is_file(), "the GUIDs must be saved before the feed goes out"
        raise OutputError("disk full")

    monkeypatch.setattr(output, "write_tree", failing)
    with pytest.raises(OutputError):
        publish(root, tmp_path / "out", now=NOW)


def test_strict_builds_once_and_writes_nothing_on_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from entretiens import loading
    from entretiens.errors import StrictError
    from entretiens.loading import load_project
    from entretiens.model import Project

    root = make_show(tmp_path / "show", {"001-a": episode(1, guests=[{"name": "No Bio"}])})
    calls: list[Path] = []

    def counting_load(path: Path, previous: Path | None = None) -> Project:
        calls.append(path)
        return load_project(path, previous=previous)

    monkeypatch.setattr(loading, "load_project", counting_load)
    with pytest.raises(StrictError) as caught:
        publish(root, tmp_path / "out", now=NOW, strict=True)
    assert [p.rule for p in caught.value.problems if p.severity == "warning"] == ["guest-bio-missing"]
    assert len(calls) == 1
    assert not (tmp_path / "out").exists()
    assert not (root / "published.yaml").exists()


def test_nothing_to_publish_is_an_error(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, draft=True)})
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    assert [p.rule for p in caught.value.problems] == ["no-episodes"]
    assert not (tmp_path / "out").exists()


def test_chapter_after_the_end_of_the_audio(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {"001-a": episode(1, chapters=[{"start": 0, "title": "A"}, {"start": "00:10", "title": "Late"}])},
    )
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    (problem,) = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.rule == "chapter-after-end"
    assert problem.field == "chapters[1].start"
    lines = (root / "episodes" / "001-a.yaml").read_text().splitlines()
    assert problem.line is not None and "Late" in "\n".join(lines[problem.line - 1 : problem.line + 1])


def test_every_supported_format_publishes_with_its_real_duration(tmp_path: Path) -> None:
    from audiogen import ffprobe_duration, write_flac, write_m4a, write_ogg_vorbis, write_opus, write_wav

    root = make_show(
        tmp_path / "show",
        {
            "001-m4a": episode(1, audio="audio/a.m4a"),
            "002-mp4": episode(2, audio="audio/b.mp4"),
            "003-vorbis": episode(3, audio="audio/c.ogg"),
            "004-opus": episode(4, audio="audio/d.opus"),
            "005-flac": episode(5, audio="audio/e.flac"),
            "006-wav": episode(6, audio="audio/f.wav"),
        },
        seconds=0,
    )
    (root / "audio").mkdir()
    write_m4a(root / "audio" / "a.m4a", 6.0)
    write_m4a(root / "audio" / "b.mp4", 7.0)
    write_ogg_vorbis(root / "audio" / "c.ogg", 8.0)
    write_opus(root / "audio" / "d.opus", 9.0)
    write_flac(root / "audio" / "e.flac", 10.0)
    write_wav(root / "audio" / "f.wav", 11.0)
    result = publish(root, tmp_path / "out", now=NOW)
    # Apple plays only MP3 and AAC: the others publish, with a warning located at the episode.
    warned = sorted(p.path.name for p in result.warnings if p.rule == "audio-format" and p.path)
    assert warned == ["003-vorbis.yaml", "004-opus.yaml", "005-flac.yaml", "006-wav.yaml"]
    assert not [p for p in result.warnings if p.rule.startswith("apple.enclosure")]
    feed = parse_with_podcastparser(_feed(tmp_path / "out"), BASE_URL + "feed.xml")
    seen = {e["title"]: e for e in feed["episodes"]}
    expected = {
        1: ("a.m4a", "audio/x-m4a"),
        2: ("b.mp4", "audio/mp4"),
        3: ("c.ogg", "audio/ogg"),
        4: ("d.opus", "audio/ogg"),
        5: ("e.flac", "audio/flac"),
        6: ("f.wav", "audio/wav"),
    }
    for number, (name, mime) in expected.items():
        item = seen[f"Conversation {number}"]
        (enclosure,) = item["enclosures"]
        source = root / "audio" / name
        assert enclosure["mime_type"] == mime
        assert enclosure["file_size"] == source.stat().st_size
        real = ffprobe_duration(source)
        assert real is not None
        assert abs(item["total_time"] - real) <= 1, (name, item["total_time"], real)
