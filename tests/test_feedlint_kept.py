"""Each feed item's findings kept between lints: the same findings as a cold lint, only new items checked.

Every lint here is compared with the cold lint of the same bytes (`lint_feed` without a store,
itself compared with the whole tree in test_feedlint_stream.py): rule ids, messages, lines,
fields, hints and order. The counts say how many items were parsed and checked again.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from entretiens import feedlint, pipeline
from entretiens.errors import Problem
from entretiens.feedlint import _pieces, _rss, lint_feed
from showbuilder import episode, make_show
from test_feedlint import FEED_URL, NOW
from test_feedlint_stream import GOLDEN_FEED, REAL_FEEDS, document, items

#: Twelve items with findings of their own (raw markup, a bad duration in some), so that
#: findings kept for one place have to be written for another.
FEED = document(
    body=items(12, "<p>raw</p>").replace(
        "<itunes:duration>10</itunes:duration>", "<itunes:duration>1:99</itunes:duration>", 5
    )
)


def cold(xml: bytes, feed_url: str | None = FEED_URL, now: datetime = NOW) -> list[Problem]:
    return lint_feed(xml, now=now, feed_url=feed_url)


def warm(xml: bytes, kept: feedlint.KeptItems, feed_url: str | None = FEED_URL, now: datetime = NOW) -> int:
    """Lint with the store, assert the cold lint's findings, and say how many items were checked."""
    got = lint_feed(xml, now=now, feed_url=feed_url, kept=kept)
    assert got == cold(xml, feed_url, now)
    assert _pieces.lint_pieces(xml, feed_url=feed_url, now=now, kept=feedlint.KeptItems(None, version="")) is not None
    return kept.checked


@pytest.fixture
def kept(tmp_path: Path) -> feedlint.KeptItems:
    return feedlint.KeptItems(tmp_path / "lint" / "items", version="test")


def _item(xml: bytes, number: int) -> bytes:
    """The bytes of the item ``number`` (from 1) as written."""
    starts = [m.start() for m in re.finditer(rb"<item>", xml)]
    return xml[starts[number - 1] : xml.index(b"</item>", starts[number - 1]) + len(b"</item>")]


def test_the_feed_has_findings_on_many_items() -> None:
    found = cold(FEED)
    assert len({p.field.split("/")[1] for p in found if p.field and p.field.startswith("channel/item[")}) == 12
    assert any(p.rule == "apple.duration.invalid" for p in found)


def test_an_unchanged_feed_checks_no_item(kept: feedlint.KeptItems) -> None:
    assert warm(FEED, kept) == 12
    assert warm(FEED, kept) == 0
    assert warm(FEED, kept) == 0


def test_an_edited_item_alone_is_checked(kept: feedlint.KeptItems) -> None:
    warm(FEED, kept)
    seventh = _item(FEED, 7)
    # A new title (the item's name in every message) and two more lines (every later finding moves).
    edited = seventh.replace("invité 7".encode(), b"a guest renamed").replace(b"</title>", b"</title>\n\n", 1)
    assert warm(FEED.replace(seventh, edited), kept) == 1
    assert warm(FEED.replace(seventh, edited.replace(b"</item>", b"<bogus/></item>")), kept) == 1
    # Only the items of the last lint are kept: going back checks the seventh again.
    assert warm(FEED, kept) == 1


def test_an_added_item_alone_is_checked(kept: feedlint.KeptItems) -> None:
    warm(FEED, kept)
    newest = items(1, "<ttl>x</ttl>", first=13)
    # First in the feed: every other item gets a new number and new lines.
    assert warm(FEED.replace(b"<item>", newest.encode() + b"<item>", 1), kept) == 1
    # Last, and a removed one: nothing new to check.
    assert warm(FEED.replace(b"</channel>", newest.encode() + b"</channel>"), kept) == 0
    assert warm(FEED.replace(_item(FEED, 4) + b"\n", b""), kept) == 0


def test_a_changed_feed_url_checks_every_item_again(kept: feedlint.KeptItems) -> None:
    warm(FEED, kept)
    assert warm(FEED, kept, feed_url="https://example.net/elsewhere.xml") == 12
    assert warm(FEED, kept, feed_url="https://example.net/elsewhere.xml") == 0
    moved = FEED.replace(b'href="https://example.org/podcast/feed.xml"', b'href="https://example.net/feed.xml"')
    assert warm(moved, kept) == 12


def test_another_show_type_or_namespace_binding_checks_every_item_again(kept: feedlint.KeptItems) -> None:
    warm(FEED, kept)
    assert warm(FEED.replace(b"<itunes:type>episodic", b"<itunes:type>serial"), kept) == 12
    bound = FEED.replace(b"<rss ", b'<rss xmlns:x="urn:x" ', 1)
    assert warm(bound, kept) == 12


def test_another_version_of_the_rules_checks_every_item_again(tmp_path: Path) -> None:
    warm(FEED, feedlint.KeptItems(tmp_path / "items", version="1"))
    assert warm(FEED, feedlint.KeptItems(tmp_path / "items", version="2")) == 12


def test_dates_are_reused_only_on_the_same_side_of_now(kept: feedlint.KeptItems) -> None:
    soon = FEED.replace(b"Mon, 21 Feb 2011 09:00:00 +0100", b"Tue, 05 Mar 2024 10:00:00 +0100", 1)
    before = datetime(2024, 3, 5, 8, 59, 59, 999_999, tzinfo=timezone.utc)
    after = datetime(2024, 3, 5, 9, 0, 0, 1, tzinfo=timezone.utc)
    assert warm(soon, kept, now=before) == 12
    assert any(p.rule == "rss.date.future" for p in cold(soon, now=before))
    # Another moment with every date on the same side: nothing to check again.
    assert warm(soon, kept, now=datetime(2024, 3, 1, tzinfo=timezone.utc)) == 0
    # The first item's date is now past: that item only is checked again.
    assert warm(soon, kept, now=after) == 1
    assert not any(p.rule == "rss.date.future" for p in cold(soon, now=after))
    assert warm(soon, kept, now=after) == 0


def test_duplicates_across_items_name_the_earlier_item(kept: feedlint.KeptItems) -> None:
    warm(FEED, kept)
    guid = re.search(rb"<guid[^>]*>([^<]+)</guid>", _item(FEED, 2))
    url = re.search(rb'<enclosure url="([^"]+)"', _item(FEED, 3))
    assert guid is not None and url is not None
    ninth, tenth = _item(FEED, 9), _item(FEED, 10)
    twice = FEED.replace(ninth, re.sub(rb"(<guid[^>]*>)[^<]+", rb"\g<1>" + guid[1], ninth))
    twice = twice.replace(tenth, re.sub(rb'<enclosure url="[^"]+"', b'<enclosure url="' + url[1] + b'"', tenth))
    found = cold(twice)
    assert any(p.rule == "rss.guid.duplicate" and "item 2" in p.message for p in found)
    assert any(p.rule == "apple.enclosure.duplicate" and "item 3" in p.message for p in found)
    assert warm(twice, kept) == 2
    # The repeated items are checked at each lint: their findings name another item.
    assert warm(twice, kept) == 2
    # An item added before the originals: the duplicates now name items 3 and 4.
    assert warm(twice.replace(b"<item>", items(1, first=13).encode() + b"<item>", 1), kept) == 3
    # The two items as they were: not kept since the last lint did not have them.
    assert warm(FEED, kept) == 2
    assert warm(FEED, kept) == 0


def test_items_declaring_namespaces_are_checked_at_each_lint(kept: feedlint.KeptItems) -> None:
    binding = '<i:x xmlns:i="http://www.itunes.com/DTDs/Podcast-1.0.dtd"/>'
    xml = document(body=items(3) + items(2, binding, first=4) + items(2, first=6))
    assert any(p.rule == "rss.namespace.uri" for p in cold(xml))
    assert warm(xml, kept) == 7
    assert warm(xml, kept) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-10],
        lambda data: data.replace(b'"', b"'", 3),
        lambda data: b"not ours\n" + data,
        lambda data: data[: data.index(b"\n") + 1] + b"{}",
        lambda data: b"",
    ],
    ids=["truncated", "altered", "foreign", "body replaced", "empty"],
)
def test_a_damaged_file_is_ignored(kept: feedlint.KeptItems, damage: object) -> None:
    warm(FEED, kept)
    assert kept.path is not None
    kept.path.write_bytes(damage(kept.path.read_bytes()))  # type: ignore[operator]
    assert warm(FEED, kept) == 12
    assert warm(FEED, kept) == 0


def test_a_fifo_in_place_of_the_file_is_ignored(kept: feedlint.KeptItems) -> None:
    assert kept.path is not None
    kept.path.parent.mkdir(parents=True)
    os.mkfifo(kept.path)
    assert warm(FEED, kept) == 12


def _rewrite(path: Path, change: object) -> None:
    """Change the entries and write them back with a matching digest (a damage the digest misses)."""
    import hashlib

    data = path.read_bytes()
    end = data.index(b"\n", data.index(b"\n") + 1)
    header = json.loads(data[data.index(b"\n") + 1 : end])
    entries = json.loads(data[end + 1 :])
    change(entries)  # type: ignore[operator]
    body = json.dumps(entries).encode()
    header["sha256"] = hashlib.sha256(body).hexdigest()
    path.write_bytes(data[: data.index(b"\n") + 1] + json.dumps(header).encode() + b"\n" + body)


@pytest.mark.parametrize(
    "change",
    [
        lambda entry: entry.clear(),
        lambda entry: entry.__setitem__(0, "many"),
        lambda entry: entry.__setitem__(2, 7),
        lambda entry: entry.__setitem__(4, [[1, "yes"]]),
        lambda entry: entry.__setitem__(5, [["no.such.rule", " x", 0, "", None]]),
        lambda entry: entry.__setitem__(5, [["rss.markup_in_text", " x", "one", "", None]]),
        lambda entry: entry.__setitem__(5, "x"),
    ],
    ids=["empty", "lines", "guid", "dates", "unknown rule", "line", "findings"],
)
def test_a_damaged_entry_is_checked_again(kept: feedlint.KeptItems, change: object) -> None:
    warm(FEED, kept)
    assert kept.path is not None
    _rewrite(kept.path, lambda entries: change(entries[next(iter(entries))]))  # type: ignore[operator]
    assert warm(FEED, kept) == 1
    assert warm(FEED, kept) == 0


@pytest.mark.parametrize("path", [p for p in REAL_FEEDS if not p.name.startswith("acast")] + [GOLDEN_FEED], ids=str)
def test_real_feeds_edited_and_grown(path: Path, kept: feedlint.KeptItems) -> None:
    xml = path.read_bytes()
    count = warm(xml, kept)
    assert count == len(re.findall(rb"<item[ >]", xml))
    assert warm(xml, kept) == 0
    second = _item(xml, 2)
    edited = xml.replace(second, second.replace(b"<title>", b"<title>Edited: ", 1), 1)
    assert warm(edited, kept) == 1
    # The first item again, first: its guid and audio URL are now the second's.
    first = _item(xml, 1)
    assert warm(edited.replace(first, first + b"\n" + first, 1), kept) == 1
    for url in (None, "https://example.org/feed.xml"):
        warm(xml, kept, feed_url=url)


def test_a_one_episode_edit_checks_one_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_show(tmp_path / "show", {f"{n:03d}-talk": episode(n) for n in range(1, 9)}, seconds=1.0)
    first = pipeline.build(root)
    assert not first.errors and len(first.releases) == 8
    path = root / "episodes" / "005-talk.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    checked: list[object] = []
    check = _rss.check_item

    def counting(*args: object) -> None:
        checked.append(args)
        check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_rss, "check_item", counting)
    again = pipeline.build(root, now=first.now)
    assert len(checked) == 1
    assert again.computed["lint"] == 1
    monkeypatch.setattr(_rss, "check_item", check)
    assert again.problems == pipeline.build(root, now=first.now, use_cache=False).problems


# --- What a lint writes and reads ---------------------------------------------------------------


def _delta(kept: feedlint.KeptItems) -> Path:
    assert kept.path is not None
    return kept.path.with_name(kept.path.name + ".delta")


#: Forty items: the one an edit changes is well under an eighth of the file.
LONG = document(body=items(40, "<p>raw</p>"))


def _edited(*numbers: int, xml: bytes = LONG) -> bytes:
    for number in numbers:
        item = _item(xml, number)
        xml = xml.replace(item, item.replace(f"invité {number}<".encode(), b"someone else<"))
    return xml


def test_an_edit_writes_a_delta_and_leaves_the_file(kept: feedlint.KeptItems) -> None:
    assert warm(LONG, kept) == 40
    assert kept.path is not None
    whole = kept.path.read_bytes()
    assert warm(_edited(7), kept) == 1
    # The file as it was (not written whole for one item), the change beside it.
    assert kept.path.read_bytes() == whole and _delta(kept).is_file()
    assert warm(_edited(7), kept) == 0
    # The delta holds what the last lint used: the old seventh item is no longer kept.
    assert warm(LONG, kept) == 1
    assert kept.path.read_bytes() == whole
    assert warm(LONG, kept) == 0


def test_many_changes_write_the_file_whole_and_drop_the_delta(kept: feedlint.KeptItems) -> None:
    warm(LONG, kept)
    assert kept.path is not None
    whole = kept.path.read_bytes()
    changed = _edited(2, 9, 30)
    # Three items of forty: an added and a dropped entry each, more than an eighth of the file.
    assert warm(changed, kept) == 3
    assert kept.path.read_bytes() != whole and not _delta(kept).exists()
    assert warm(changed, kept) == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-10],
        lambda data: data.replace(b'"dropped"', b'"dropped" ', 1),
        lambda data: data.replace(b'"base": "', b'"base": "0', 1),
        lambda data: data.replace(b"entretiens-lint-delta 1", b"entretiens-lint 1", 1),
        lambda data: b"",
    ],
    ids=["truncated", "altered", "another base", "not a delta", "empty"],
)
def test_a_damaged_delta_is_ignored(kept: feedlint.KeptItems, damage: object) -> None:
    warm(LONG, kept)
    assert warm(_edited(7), kept) == 1
    _delta(kept).write_bytes(damage(_delta(kept).read_bytes()))  # type: ignore[operator]
    # The file alone: the edited item is checked again, the findings are the cold lint's.
    assert warm(_edited(7), kept) == 1
    assert warm(_edited(7), kept) == 0


def test_a_delta_of_an_earlier_file_is_ignored(kept: feedlint.KeptItems) -> None:
    warm(LONG, kept)
    warm(_edited(7), kept)
    earlier = _delta(kept).read_bytes()
    # The file written whole since (two items changed): the old delta put back beside it.
    changed = _edited(2, 9, 30)
    warm(changed, kept)
    _delta(kept).write_bytes(earlier)
    assert warm(changed, kept) == 0
    assert warm(_edited(7), kept) == 4


def test_a_file_lint_reads_again_only_the_items_it_checks(
    kept: feedlint.KeptItems, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The items are cut and digested in one forward read; an item is read again (by its place)
    # only when its findings are not kept.
    path = tmp_path / "feed.xml"
    path.write_bytes(LONG)
    feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept)
    reads: list[int] = []
    real = os.pread

    def counting(handle: int, size: int, offset: int) -> bytes:
        reads.append(offset)
        return real(handle, size, offset)

    monkeypatch.setattr(os, "pread", counting)
    path.write_bytes(_edited(7))
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept) == cold(_edited(7))
    assert kept.checked == 1 and reads == [_edited(7).index(_item(_edited(7), 7))]
    reads.clear()
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept) == cold(_edited(7))
    assert kept.checked == 0 and reads == []


def test_a_feed_file_changed_between_its_cut_and_its_check_is_read_whole(
    kept: feedlint.KeptItems, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An item read again must be the bytes whose digest was taken, or the findings kept under
    # that digest would be another item's.
    path = tmp_path / "feed.xml"
    path.write_bytes(LONG)
    real = _pieces._cut_file

    def then_changed(forward: Any) -> Any:
        cut = real(forward)
        path.write_bytes(LONG.replace(b"invit", b"INVIT"))
        return cut

    monkeypatch.setattr(_pieces, "_cut_file", then_changed)
    assert _pieces.lint_file(path, feed_url=FEED_URL, now=NOW, kept=kept) is None
