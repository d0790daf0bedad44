"""The lint of a feed whose items the writer placed (feedfile.items_of): the file is not cut and
no kept item is hashed again, with the findings of the lint of the feed's bytes."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from entretiens import dates, feed, feedfile, feedlint, layout, pipeline
from entretiens.feedlint import _context, _pieces
from entretiens.output import Stored
from showbuilder import episode, make_show
from test_feedfile import VARIANTS
from test_feedlint import FEED_URL, NOW
from test_feedlint_kept import LONG, _edited
from test_feedlint_stream import document, items

_STARTS = re.compile(rb"(?m)^[ \t]*<item[ \t\r\n>]")


def _placed(xml: bytes) -> list[tuple[int, int, str]]:
    """The items of ``xml`` as a writer would note them: each piece from the start of the line
    of its ``<item`` to that of the next one; the last to the line break after its ``</item>``."""
    starts = [m.start() for m in _STARTS.finditer(xml)]
    if not starts:
        return []
    last = xml.rfind(b"</item>")
    end = xml.find(b"\n", last) + 1 if last >= starts[-1] else 0
    bounds = [*starts, end or len(xml)]
    return [
        (start, stop - start, hashlib.sha256(xml[start:stop]).hexdigest())
        for start, stop in itertools.pairwise(bounds)
        if stop > start
    ]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_placed_feed_s_findings_are_those_of_its_bytes(name: str, tmp_path: Path) -> None:
    xml = VARIANTS[name]
    path = tmp_path / "feed.xml"
    path.write_bytes(xml)
    expected = feedlint.lint_feed(xml, now=NOW, feed_url=FEED_URL)
    placed = _placed(xml)
    kept = feedlint.KeptItems(tmp_path / "kept", version="test")
    for _ in range(2):
        assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=placed) == expected
    # Our own feeds are linted from their items: none checked the second time.
    if name in ("golden", "findings", "blanks between items", "one item"):
        assert _pieces.lint_items(path, placed, feed_url=FEED_URL, now=NOW, kept=kept) is not None
        assert kept.checked == 0


def test_only_the_new_items_are_read_and_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "feed.xml"
    kept = feedlint.KeptItems(tmp_path / "kept", version="test")
    path.write_bytes(LONG)
    feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=_placed(LONG))
    edited = _edited(7)
    path.write_bytes(edited)
    placed = _placed(edited)
    hashed: list[bytes] = []
    real = hashlib.sha256

    def counting(data: bytes = b"") -> Any:
        hashed.append(bytes(data))
        return real(data)

    monkeypatch.setattr(hashlib, "sha256", counting)
    monkeypatch.setattr(_pieces, "_cut_file", None)
    found = feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=placed)
    monkeypatch.undo()
    assert found == feedlint.lint_feed(edited, now=NOW, feed_url=FEED_URL)
    # Of the items, the edited one alone was hashed, once (the kept findings are hashed too).
    pieces = [edited[start : start + length] for start, length, _ in placed]
    new = [piece for piece in pieces if piece not in LONG]
    assert kept.checked == 1 and len(new) == 1
    assert [data for data in hashed if data in pieces or data in LONG] == new


def test_an_item_whose_bytes_are_not_those_noted_is_never_kept(tmp_path: Path) -> None:
    # Items noted with a digest that is not of their bytes (a file changed since it was written,
    # a damaged unit): each one looked for is read, found different, and the file cut instead.
    path = tmp_path / "feed.xml"
    path.write_bytes(LONG)
    placed = _placed(LONG)
    wrong = [(start, length, hashlib.sha256(b"other").hexdigest()) for start, length, _ in placed]
    kept = feedlint.KeptItems(tmp_path / "kept", version="test")
    assert _pieces.lint_items(path, wrong, feed_url=FEED_URL, now=NOW, kept=kept) is None
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=wrong) == feedlint.lint_feed(
        LONG, now=NOW, feed_url=FEED_URL
    )
    # Places that do not follow one another, or go past the file, are not used either.
    assert _pieces.lint_items(path, placed[::-1], feed_url=FEED_URL, now=NOW, kept=kept) is None
    beyond = [*placed, (len(LONG), 10, placed[0][2])]
    assert _pieces.lint_items(path, beyond, feed_url=FEED_URL, now=NOW, kept=kept) is None


def _show(tmp_path: Path) -> Path:
    return make_show(tmp_path / "show", {f"{n:03d}-talk": episode(n) for n in range(1, 9)}, seconds=1.0)


def test_an_edit_lints_the_feed_from_the_writer_s_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _show(tmp_path)
    pipeline.build(root)
    path = root / "episodes" / "005-talk.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    given: list[str | None] = []
    write_item = feedfile.Writer.write_item

    def noting(self: feedfile.Writer, piece: bytes, sha256: str | None = None, *, undated: bool = False) -> None:
        given.append(sha256)
        write_item(self, piece, sha256, undated=undated)

    def never(*args: object) -> None:
        raise AssertionError("the feed was cut")

    monkeypatch.setattr(feedfile.Writer, "write_item", noting)
    monkeypatch.setattr(_pieces, "_cut_file", never)
    again = pipeline.build(root)
    monkeypatch.undo()
    built = again.files[layout.FEED]
    assert isinstance(built, Stored)
    # Every item's digest came with its unit (the edited one's too: made just now), and each is
    # that of the bytes at its place.
    data = built.read_bytes()
    items = feedfile.items_of(built)
    assert items is not None and len(items) == len(given) == 8 and None not in given
    assert [sha256 for _, _, sha256 in items] == given
    assert all(hashlib.sha256(data[start : start + length]).hexdigest() == sha for start, length, sha in items)
    assert again.computed["lint"] == 1
    assert again.problems == pipeline.build(root, use_cache=False).problems


def test_a_unit_without_a_digest_of_the_right_form_is_hashed_by_the_writer(tmp_path: Path) -> None:
    for value in (None, b"x" * 64, b"ab", hashlib.sha256(b"").hexdigest().upper().encode()):
        unit = {"item": b"<item/>"} if value is None else {"item": b"<item/>", "sha256": value}
        assert feed._sha256_of(unit) is None
    digest = hashlib.sha256(b"<item/>").hexdigest()
    assert feed._sha256_of({"item": b"<item/>", "sha256": digest.encode()}) == digest
    writer = feedfile.Writer(tmp_path)
    writer.write(b"<rss><channel>\n")
    writer.write_item(b"<item/>\n")
    writer.write(b"</channel></rss>\n")
    made = writer.finish()
    assert isinstance(made, Stored)
    assert feedfile.items_of(made) == ((15, 8, hashlib.sha256(b"<item/>\n").hexdigest()),)


def test_items_after_the_tail_give_the_document_no_items(tmp_path: Path) -> None:
    writer = feedfile.Writer(tmp_path)
    writer.write(b"<rss><channel>\n")
    writer.write_item(b"<item/>\n")
    writer.write(b"<ttl>5</ttl>\n")
    writer.write_item(b"<item/>\n")
    writer.write(b"</channel></rss>\n")
    made = writer.finish()
    assert isinstance(made, Stored) and feedfile.items_of(made) is None


def test_a_feed_dated_anew_hands_on_its_items_moved(tmp_path: Path) -> None:
    writer = feedfile.Writer(tmp_path)
    writer.write(b"<rss><channel>\n<lastBuildDate>then</lastBuildDate>\n")
    for number in range(3):
        writer.write_item(b"<item>%d</item>\n" % number)
    writer.write(b"</channel></rss>\n")
    made = writer.finish()
    assert isinstance(made, Stored)
    found = feedfile.last_build(made)
    assert found is not None
    copy = feedfile.redated(made, found[0], found[1], b"<lastBuildDate>a later moment</lastBuildDate>")
    assert isinstance(copy, Stored)
    items = feedfile.items_of(copy)
    data = copy.read_bytes()
    assert items is not None and len(items) == 3
    assert all(hashlib.sha256(data[start : start + length]).hexdigest() == sha for start, length, sha in items)


def test_an_item_read_back_is_not_searched_for_a_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its unit said, when it was made, that it holds no lastBuildDate: the part the dates hash
    # takes it whole. The head and the tail are still searched.
    root = _show(tmp_path)
    pipeline.build(root)
    path = root / "episodes" / "005-talk.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    searched: list[bytes] = []
    text_part = feedfile.text_part

    def noting(piece: bytes, digest: Any) -> None:
        searched.append(piece)
        text_part(piece, digest)

    monkeypatch.setattr(feedfile, "text_part", noting)
    again = pipeline.build(root)
    monkeypatch.undo()
    built = again.files[layout.FEED]
    assert isinstance(built, Stored)
    data = built.read_bytes()
    # The feed's head and tail (other documents and text files go through it too), no item.
    assert any(data.startswith(piece) for piece in searched) and any(data.endswith(piece) for piece in searched)
    assert [piece for piece in searched if b"<item>" in piece] == []
    assert built.marks == dates._text_part(built.read_bytes()).hex()


def test_an_item_holding_a_date_element_is_left_out_of_the_dates_part(tmp_path: Path) -> None:
    item = b"<item><description><![CDATA[<lastBuildDate>x</lastBuildDate>]]></description></item>\n"
    assert feedfile.dated(item) and not feedfile.dated(item.replace(b"lastBuild", b"other"))
    writer = feedfile.Writer(tmp_path)
    writer.write(b"<rss><channel>\n<lastBuildDate>then</lastBuildDate>\n")
    writer.write_item(item, undated=feedfile.dated(item) is False)
    writer.write_item(b"<item/>\n", undated=True)
    writer.write(b"</channel></rss>\n")
    made = writer.finish()
    assert isinstance(made, Stored)
    assert made.marks == dates._text_part(made.read_bytes()).hex()


def test_an_item_read_back_without_findings_gets_no_field_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Most items of a show have no finding: what their findings would be placed by is not made.
    xml = document(body=items(20) + items(2, "<p>raw</p>", first=21))
    path = tmp_path / "feed.xml"
    path.write_bytes(xml)
    placed = _placed(xml)
    kept = feedlint.KeptItems(tmp_path / "kept", version="test")
    expected = feedlint.lint_feed(xml, now=NOW, feed_url=FEED_URL)
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=placed) == expected
    made: list[int] = []
    indexed = _context.indexed

    def counting(name: str, position: int) -> str:
        made.append(position)
        return indexed(name, position)

    monkeypatch.setattr(_pieces, "indexed", counting)
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept, items=placed) == expected
    assert kept.checked == 0 and made == [21, 22]
