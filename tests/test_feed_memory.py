"""A long feed is written one item at a time: never one tree of every item, never copied whole.

At 10,000 episodes the feed is about 60 MB; held as one lxml tree it took hundreds of MiB (issue
11). These tests count and trace instead of timing: how many ``<item>`` elements any document
lxml serialises holds, and how much Python memory building the feed needs beyond the bytes it
returns.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entretiens import feed
from entretiens.model import Project, Release
from entretiens.unitcache import Units
from site_fixtures import feedable, hostile_project

COUNT = 2_000


def _show(root: Path) -> tuple[Project, tuple[Release, ...]]:
    """COUNT episodes made from the fixture's first one; one of them has notes 20 times longer."""
    project, releases = feedable(*hostile_project(root))
    first = releases[0]
    made = []
    for n in range(1, COUNT + 1):
        episode = replace(
            first.episode,
            slug=f"{n:05d}-guest",
            title=f"Conversation {n}",
            guid=f"urn:test:{n}",
            number=n,
            date=first.episode.date + timedelta(days=n),
            notes=first.episode.notes * (20 if n == COUNT // 3 else 1),
        )
        made.append(replace(first, episode=episode, previous=None, next=None))
    return project, tuple(made)


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, tuple[Release, ...]]:
    return _show(tmp_path_factory.mktemp("long") / "show")


def _build(project: Project, releases: tuple[Release, ...], items: Units) -> bytes:
    made = feed.build_feed(project.show, releases, build_date=releases[-1].episode.date, items=items)
    assert isinstance(made, bytes)
    return made


def test_no_document_serialised_holds_more_than_one_item(
    show: tuple[Project, tuple[Release, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, releases = show
    items = Units(project.show.root, "items", version="test")
    expected = _build(project, releases, items)
    assert expected.count(b"<item>") == COUNT

    largest = 0
    serialise = etree.tostring

    def counting(node: Any, *args: Any, **kwargs: Any) -> bytes:
        nonlocal largest
        tree = node if isinstance(node, etree._ElementTree) else node.getroottree()
        largest = max(largest, sum(1 for _ in tree.iter("item")))
        return bytes(serialise(node, *args, **kwargs))

    monkeypatch.setattr(etree, "tostring", counting)
    # Every item made in this process (no cache): each is placed in its channel alone.
    assert _build(project, releases, Units(None, "items", version="test")) == expected
    assert largest == 1
    # A rebuild (every item read back from the cache) copies the kept items as they are.
    largest = 0
    assert _build(project, releases, items) == expected
    assert largest <= 1


def test_memory_beyond_the_feed_grows_with_the_largest_item_not_the_count(
    show: tuple[Project, tuple[Release, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, releases = show
    items = Units(project.show.root, "items", version="test")
    expected = _build(project, releases, items)
    document = etree.fromstring(expected)
    largest = max(len(etree.tostring(item)) for item in document.iter("item"))
    # The items read back from the cache at a time (made smaller here, so that the bound is far
    # below what every item at once would take).
    monkeypatch.setattr(feed, "_BATCH", 16, raising=False)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        built = _build(project, releases, items)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert built == expected
    # The returned bytes (the growing buffer may be over-allocated by an eighth), one batch of
    # kept items with their namespace declarations, the channel and the interpreter's noise.
    bound = len(built) * 9 // 8 + 16 * 4 * largest + 2 * 1024 * 1024
    assert peak < bound, (peak, len(built), largest)
