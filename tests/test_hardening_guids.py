"""Hardening (issue 13), GUIDs: what is live is history, even when published.yaml is lost.

The README's promise "GUIDs never change" is backed by these tests, and by
test_publish.py::test_guids_survive_every_edit_but_the_slug.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from audiogen import write_mp3
from entretiens.errors import ProblemsError
from entretiens.publish import publish
from podcast_clients import parse_with_podcastparser
from showbuilder import episode, make_show, tree, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
MOVED = "https://moved.example.net/talks/"


def _live_guids(out: Path, base: str) -> dict[str, str]:
    feed = parse_with_podcastparser((out / "feed.xml").read_bytes(), base + "feed.xml")
    return {e["title"]: e["guid"] for e in feed["episodes"]}


def _move(root: Path, base_url: str = MOVED) -> None:
    show = yaml.safe_load((root / "feed.yaml").read_text())
    write_yaml(root / "feed.yaml", {**show, "base_url": base_url})


def _new_episode(root: Path, slug: str, index: int, **fields: object) -> None:
    write_yaml(root / "episodes" / f"{slug}.yaml", episode(index, **fields))
    write_mp3(root / f"audio/{index:03d}.mp3", seconds=2, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1)


def _published(tmp_path: Path) -> tuple[Path, Path, dict[str, object]]:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    return root, out, yaml.safe_load((root / "published.yaml").read_text())


@pytest.mark.parametrize("damage", ["lost", "emptied", "truncated"])
def test_a_lost_state_file_and_a_moved_feed_keep_every_live_guid(tmp_path: Path, damage: str) -> None:
    """GUIDs never change: a lost, emptied or truncated published.yaml is completed from the live feed."""
    root, out, state = _published(tmp_path)
    live = _live_guids(out, "https://podcast.example.org/show/")
    state_file = root / "published.yaml"
    if damage == "lost":
        state_file.unlink()
    elif damage == "emptied":
        state_file.write_bytes(b"")
    else:
        text = state_file.read_text()
        state_file.write_text(text[: text.index("  002-second")])  # cut at a line: still valid YAML
    _move(root)

    result = publish(root, out, now=NOW)
    assert _live_guids(out, MOVED) == live
    (warning,) = [p for p in result.warnings if p.rule == "guid-recovered"]
    assert warning.severity == "warning" and warning.path == state_file
    assert "out/feed.xml" in warning.message or str(out / "feed.xml") in warning.message
    # published.yaml is whole again: the next publish needs the live feed no more.
    assert _guids(state_file) == _without_dates(state)
    assert f"<podcast:guid>{state['podcast_guid']}</podcast:guid>".encode() in (out / "feed.xml").read_bytes()
    again = publish(root, out, now=NOW)
    assert not [p for p in again.warnings if p.rule == "guid-recovered"]


def test_a_renamed_episode_file_is_recognised_by_its_audio(tmp_path: Path) -> None:
    root, out, state = _published(tmp_path)
    (root / "published.yaml").unlink()
    (root / "episodes" / "001-first.yaml").rename(root / "episodes" / "001-renamed.yaml")
    _move(root)
    publish(root, out, now=NOW)
    episodes = state["episodes"]
    assert isinstance(episodes, dict)
    assert _live_guids(out, MOVED)["Conversation 1"] == episodes["001-first"]


def test_check_recovers_from_the_default_public_folder(tmp_path: Path) -> None:
    from entretiens.check import check_show

    root = make_show(tmp_path / "show")
    publish(root, now=NOW)
    (root / "published.yaml").unlink()
    _move(root)
    report = check_show(root, now=NOW)
    assert [p.rule for p in report.problems if p.rule.startswith("guid")] == ["guid-recovered"]


def test_an_explicit_guid_over_a_recovered_one_is_said(tmp_path: Path) -> None:
    root, out, _ = _published(tmp_path)
    (root / "published.yaml").unlink()
    write_yaml(root / "episodes" / "001-first.yaml", episode(1, guid="urn:example:new-one"))
    result = publish(root, out, now=NOW)
    (warning,) = [p for p in result.warnings if p.rule == "guid-replaced"]
    assert warning.path == root / "episodes" / "001-first.yaml" and warning.line is not None
    assert _live_guids(out, "https://podcast.example.org/show/")["Conversation 1"] == "urn:example:new-one"
    episodes = yaml.safe_load((root / "published.yaml").read_text())["episodes"]
    assert episodes["001-first"] == "urn:example:new-one"


def test_an_unreadable_live_feed_with_a_lost_state_refuses_with_the_fix(tmp_path: Path) -> None:
    root, out, _ = _published(tmp_path)
    (root / "published.yaml").unlink()
    (out / "feed.xml").write_bytes(b"<rss><channel><item><guid>cut in the mid")
    _move(root)
    before = tree(out)
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    (problem,) = caught.value.problems
    assert problem.rule == "guid-unrecoverable" and problem.path == out / "feed.xml"
    assert problem.hint is not None and "published.yaml" in problem.hint
    assert tree(out) == before
    assert not (root / "published.yaml").exists()


def test_the_live_feed_is_parsed_without_entities(tmp_path: Path) -> None:
    """A damaged or hostile feed.xml cannot make a GUID out of a local file."""
    root, out, _ = _published(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret")
    (root / "published.yaml").unlink()
    xml = (out / "feed.xml").read_text()
    xml = xml.replace("<rss", f'<!DOCTYPE rss [<!ENTITY s SYSTEM "file://{secret}">]>\n<rss', 1)
    start = xml.index("<guid")
    end = xml.index("</guid>", start)
    xml = xml[:start] + '<guid isPermaLink="false">&s;' + xml[end:]
    (out / "feed.xml").write_text(xml)
    result = publish(root, out, now=NOW)
    assert all("top-secret" not in guid for guid in _live_guids(out, "https://podcast.example.org/show/").values())
    assert "top-secret" not in (root / "published.yaml").read_text()
    assert any(p.rule == "guid-recovered" for p in result.warnings)


def test_the_duplicate_guid_hint_names_the_copy_not_the_live_one(tmp_path: Path) -> None:
    root, out, state = _published(tmp_path)
    episodes = state["episodes"]
    assert isinstance(episodes, dict)
    # A new file copied from a live one, GUID line included.
    _new_episode(root, "000-copy", 3, guid=episodes["001-first"])
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    (problem,) = [p for p in caught.value.problems if p.rule == "duplicate-guid"]
    # The copy is the one to change, whichever file name sorts first: 001-first's GUID is live.
    assert problem.path == root / "episodes" / "000-copy.yaml"
    assert problem.line is not None and "001-first.yaml" in problem.message
    assert problem.hint is not None and "remove this `guid:` line" in problem.hint


def test_an_error_in_one_episode_adds_no_orphaned_guid_warning_on_another(tmp_path: Path) -> None:
    root, out, _ = _published(tmp_path)
    write_yaml(root / "episodes" / "002-second.yaml", {**episode(2), "number": "two"})
    _new_episode(root, "003-third", 3)
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    assert [p.rule for p in caught.value.problems] == ["field-type"]


def test_guids_of_episodes_only_in_archive_pages_are_recovered_too(tmp_path: Path) -> None:
    """A capped feed (feed_limit) lists the newest episodes: the older GUIDs live in feed-archive/."""
    root = make_show(
        tmp_path / "show",
        {f"00{i}-e{i}": episode(i) for i in range(1, 5)},
        show={"feed_limit": 1},
    )
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    assert (out / "feed-archive" / "1.xml").is_file()
    state = yaml.safe_load((root / "published.yaml").read_text())
    (root / "published.yaml").unlink()
    _move(root)
    result = publish(root, out, now=NOW)
    (warning,) = [p for p in result.warnings if p.rule == "guid-recovered"]
    assert "4 published episodes" in warning.message
    assert _guids(root / "published.yaml") == _without_dates(state)


def _without_dates(state: dict[str, Any]) -> dict[str, Any]:
    """published.yaml's GUIDs; its record of when each part changed follows the moved URLs."""
    return {key: value for key, value in state.items() if key != "changes"}


def _guids(path: Path) -> dict[str, Any]:
    return _without_dates(yaml.safe_load(path.read_text()))
