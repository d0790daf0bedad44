"""Truthful dates: lastBuildDate and sitemap lastmod move with what was published, and only then."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import NOW
from entretiens.errors import Problem
from entretiens.publish import publish
from entretiens.state import STATE_FILE, read_state
from showbuilder import episode, make_show

SLUGS = ("001-first", "002-second", "003-third")


def _show(tmp_path: Path) -> tuple[Path, Path]:
    root = make_show(tmp_path / "show", {slug: episode(i + 1, notes="First notes.") for i, slug in enumerate(SLUGS)})
    return root, tmp_path / "out"


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _last_build(out: Path) -> str:
    found = re.findall(r"<lastBuildDate>([^<]*)</lastBuildDate>", (out / "feed.xml").read_text(encoding="utf-8"))
    assert len(found) == 1
    return str(found[0])


def _lastmods(out: Path) -> dict[str, str]:
    text = (out / "sitemap.xml").read_text(encoding="utf-8")
    return dict(re.findall(r"<loc>([^<]*)</loc>\s*<lastmod>([^<]*)</lastmod>", text))


def _url(slug: str) -> str:
    return f"https://podcast.example.org/show/{slug}/"


def test_an_edit_moves_that_episode_and_the_feed_and_nothing_else(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    # Never recorded before: the dates the feed always gave (each episode's, the newest one's).
    assert _last_build(out) == "Sun, 03 Mar 2024 10:00:00 +0100"
    first = _lastmods(out)
    assert first[_url("002-second")] == "2024-03-02"
    state = (root / STATE_FILE).read_bytes()

    # A rebuild later, nothing changed: not one byte moves, published.yaml included.
    before = _snapshot(out)
    publish(root, out, now=NOW + timedelta(days=30))
    assert _snapshot(out) == before
    assert (root / STATE_FILE).read_bytes() == state

    # The notes of one episode corrected.
    path = root / "episodes" / "002-second.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("First notes.", "Corrected notes."), encoding="utf-8")
    edited = datetime(2024, 7, 14, 8, 30, tzinfo=NOW.tzinfo)
    publish(root, out, now=edited)
    assert _last_build(out) == "Sun, 14 Jul 2024 08:30:00 +0000"
    after = _lastmods(out)
    assert after[_url("002-second")] == "2024-07-14"
    assert after[_url("001-first")] == first[_url("001-first")] == "2024-03-01"
    assert after[_url("003-third")] == first[_url("003-third")] == "2024-03-03"
    assert after["https://podcast.example.org/show/"] == "2024-07-14"

    # And that is remembered: a later rebuild keeps the July dates, byte for byte.
    before = _snapshot(out)
    publish(root, out, now=edited + timedelta(days=3))
    assert _snapshot(out) == before


def test_a_show_wide_change_moves_every_page_that_shows_it(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    feed_yaml = root / "feed.yaml"
    feed_yaml.write_text(feed_yaml.read_text(encoding="utf-8") + "copyright: © 2024 Someone\n", encoding="utf-8")
    publish(root, out, now=NOW + timedelta(days=1))
    assert _last_build(out) == "Sun, 02 Jun 2024 00:00:00 +0000"
    # Every episode page carries the copyright line, so every one of them changed.
    assert "© 2024 Someone" in (out / "002-second" / "index.html").read_text(encoding="utf-8")
    assert set(_lastmods(out).values()) == {"2024-06-02"}


def test_a_new_episode_keeps_its_own_date_and_moves_the_feed(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    make_show(root, {"004-fourth": episode(4, date="2024-06-10T09:00:00+00:00")})
    publish(root, out, now=datetime(2024, 6, 10, 9, 5, tzinfo=NOW.tzinfo))
    assert _lastmods(out)[_url("004-fourth")] == "2024-06-10"
    assert _last_build(out) == "Mon, 10 Jun 2024 09:05:00 +0000"


@pytest.mark.parametrize(
    "changes",
    ["changes: [1, 2]\n", "changes:\n  show: yesterday\n", "changes:\n  episodes:\n    001-first:\n      hash: 1\n"],
)
def test_a_damaged_date_record_is_a_warning_and_is_written_anew(tmp_path: Path, changes: str) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    path = root / STATE_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("changes:")] + changes, encoding="utf-8")
    problems: list[Problem] = []
    read_state(path, problems)
    assert [(p.rule, p.severity) for p in problems] == [("state-dates", "warning")]
    publish(root, out, now=NOW + timedelta(days=1))
    problems = []
    state = read_state(path, problems)
    assert problems == []
    assert state.show_change is not None
    assert {slug for slug, _ in state.episode_changes} == set(SLUGS)
