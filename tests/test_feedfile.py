"""The feed handed on as a file of the cache (feedfile): the same bytes, dates and findings as
the feed held as bytes, never read whole by a stage, and never published once damaged."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest

from entretiens import dates, feedfile, feedlint, layout, pipeline
from entretiens.content import PIECE
from entretiens.errors import OutputError
from entretiens.feedlint import _pieces
from entretiens.output import Content, Stored, content_bytes
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show
from showbuilder import episode, make_show
from test_feedlint import CHANNEL, FEED_URL, HEAD, NOW
from test_feedlint_kept import FEED
from test_feedlint_stream import GOLDEN_FEED, REAL_FEEDS, document, items


def _feeds(built: pipeline.Build) -> dict[PurePosixPath, Stored]:
    found = {
        path: content for path, content in built.files.items() if path.suffix == ".xml" and path.name != "sitemap.xml"
    }
    assert found
    for content in found.values():
        assert isinstance(content, Stored)
    return found  # type: ignore[return-value]


def test_the_feed_is_a_checked_file_with_the_bytes_of_a_feed_built_in_memory(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert not built.errors
    stored = built.files[layout.FEED]
    assert isinstance(stored, Stored)
    # In the build's own folder of documents.
    assert stored.parent == built.documents and stored.parent.parent == root / pipeline.DOCUMENTS
    data = stored.read_bytes()
    assert stored.sha256 == hashlib.sha256(data).hexdigest() == stored.name.removesuffix(".xml")
    assert stored.size == len(data)
    # What the dates hash of it, taken on the way, is what they take of its bytes.
    assert stored.marks == dates._text_part(data).hex()
    # The same bytes as a build that holds the feed in memory (no cache), and as published.
    cold = pipeline.build(copy_sample_show(tmp_path / "cold"), now=SAMPLE_NOW, use_cache=False)
    assert cold.files[layout.FEED] == data == (Path(__file__).parent / "golden" / "sample" / "feed.xml").read_bytes()


def test_the_home_page_joined_from_kept_entries_is_a_checked_file_too(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    golden = (Path(__file__).parent / "golden" / "sample" / "index.html").read_bytes()
    for _ in range(2):  # entries made, then kept
        built = pipeline.build(root, now=SAMPLE_NOW)
        home = built.files[layout.INDEX]
        assert isinstance(home, Stored) and home.parent == built.documents
        data = home.read_bytes()
        assert data == golden
        assert home.sha256 == hashlib.sha256(data).hexdigest() and home.size == len(data)
        assert home.marks == dates._text_part(data).hex()


def test_archive_pages_are_checked_files_too(tmp_path: Path) -> None:
    episodes = {f"{n:03d}-guest": episode(n) for n in range(1, 8)}
    root = make_show(tmp_path / "show", episodes, show={"feed_limit": 3}, seconds=1)
    stored = _feeds(pipeline.build(root, now=SAMPLE_NOW))
    assert set(stored) == {layout.FEED, layout.feed_archive(1), layout.feed_archive(2)}
    fresh = make_show(tmp_path / "fresh", episodes, show={"feed_limit": 3}, seconds=1)
    cold = pipeline.build(fresh, now=SAMPLE_NOW, use_cache=False)
    for path, content in stored.items():
        data = content.read_bytes()
        assert content.sha256 == hashlib.sha256(data).hexdigest()
        assert content.marks == dates._text_part(data).hex()
        assert cold.files[path] == data.replace(bytes(root), bytes(fresh))


def test_no_stage_reads_the_feed_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    folder = root / pipeline.DOCUMENTS
    whole = Stored.read_bytes

    def read_bytes(self: Path) -> bytes:
        assert folder not in self.parents, "the feed was read whole"
        return whole(self)

    monkeypatch.setattr(Stored, "read_bytes", read_bytes)
    # An edit, a new feed: built, dated, sized, linted and written.
    edited = root / "episodes" / "001-jeremi-lepetit.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Make Me Viral", "Make Me Famous"), encoding="utf-8")
    later = SAMPLE_NOW + timedelta(hours=1)
    publish(root, now=later)
    monkeypatch.undo()
    # The same history in a fresh folder: the same feed.
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, now=SAMPLE_NOW)
    (fresh / edited.relative_to(root)).write_bytes(edited.read_bytes())
    publish(fresh, now=later)
    assert (root / "public" / "feed.xml").read_bytes() == (fresh / "public" / "feed.xml").read_bytes()


def test_a_feed_dated_anew_is_a_copy_with_its_date_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    published = (root / "public" / "feed.xml").read_bytes()
    made: list[Stored] = []
    redated = feedfile.redated

    def spy(feed: Stored, start: int, old: bytes, new: bytes) -> Content:
        made.append(feed)
        return redated(feed, start, old, new)

    monkeypatch.setattr(feedfile, "redated", spy)
    # Nothing changed, later: the feed is built dated now (the likely date), and dated back.
    built = pipeline.build(root, now=SAMPLE_NOW + timedelta(days=3))
    assert len(made) == 1
    feed = built.files[layout.FEED]
    assert isinstance(feed, Stored) and feed != made[0]
    assert feed.read_bytes() == published
    assert feed.sha256 == hashlib.sha256(published).hexdigest() and feed.size == len(published)
    assert feed.marks == made[0].marks == dates._text_part(published).hex()
    # The one built first is left as it was (a document's file never changes once made).
    assert made[0].read_bytes() != published
    assert made[0].sha256 == hashlib.sha256(made[0].read_bytes()).hexdigest()


def test_the_date_beyond_the_head_is_found(tmp_path: Path) -> None:
    data = b"<rss><channel><description>" + b"x" * (2 * feedfile.HEAD) + b"</description>"
    data += b"<lastBuildDate>Mon, 01 Jan 2024 00:00:00 +0000</lastBuildDate></channel></rss>"
    writer = feedfile.Writer(tmp_path)
    writer.write(data)
    stored = writer.finish()
    assert isinstance(stored, Stored)
    found = feedfile.last_build(stored)
    assert found is not None and found[0] == data.index(b"<lastBuildDate>")
    dated = feedfile.redated(stored, found[0], found[1], b"<lastBuildDate>now</lastBuildDate>")
    assert isinstance(dated, Stored)
    assert dated.read_bytes() == data.replace(found[1], b"<lastBuildDate>now</lastBuildDate>")
    assert dated.sha256 == hashlib.sha256(dated.read_bytes()).hexdigest()


def test_a_feed_file_changed_after_it_was_built_is_not_published(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    built = pipeline.build(root, now=SAMPLE_NOW)
    feed = built.files[layout.FEED]
    assert isinstance(feed, Stored)
    data = feed.read_bytes()
    feed.write_bytes(data.replace(b"<title>", b"<TITLE>", 1))
    out = tmp_path / "elsewhere"
    with pytest.raises(OutputError, match="changed after it was checked"):
        pipeline.commit(built, out, pin_guids=False)
    assert not out.exists()
    # The next build writes it anew.
    again = pipeline.build(root, now=SAMPLE_NOW)
    assert content_bytes(again.files[layout.FEED]) == data
    pipeline.commit(again, out, pin_guids=False)
    assert (out / "feed.xml").read_bytes() == data


def test_a_feed_file_removed_before_the_write_stops_it_and_the_next_build_makes_it(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    built = pipeline.build(root, now=SAMPLE_NOW)
    feed = built.files[layout.FEED]
    assert isinstance(feed, Stored)
    data = feed.read_bytes()
    feed.unlink()
    out = tmp_path / "elsewhere"
    with pytest.raises(OutputError, match="the previous output is untouched"):
        pipeline.commit(built, out, pin_guids=False)
    assert not out.exists()
    again = pipeline.build(root, now=SAMPLE_NOW)
    pipeline.commit(again, out, pin_guids=False)
    assert (out / "feed.xml").read_bytes() == data


def test_a_feed_file_removed_under_the_build_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_sample_show(tmp_path / "show")
    stamp = dates.stamp

    def removing(*args: object, **kwargs: object) -> dates.Changes:
        changes = stamp(*args, **kwargs)  # type: ignore[arg-type]
        files = args[3]
        assert isinstance(files, dict)
        files[layout.FEED].unlink()
        return changes

    monkeypatch.setattr(dates, "stamp", removing)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert [p.rule for p in built.errors] == ["build-error"]
    assert "the feed just built cannot be read" in built.errors[0].message
    monkeypatch.undo()
    assert not pipeline.build(root, now=SAMPLE_NOW).errors


def test_a_cache_that_cannot_be_written_leaves_the_feed_in_memory(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    # Not a folder: nothing can be written in it (a read-only show folder, as root too).
    (root / pipeline.DOCUMENTS).parent.mkdir(parents=True)
    (root / pipeline.DOCUMENTS).write_bytes(b"")
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert not built.errors
    assert built.files[layout.FEED] == (Path(__file__).parent / "golden" / "sample" / "feed.xml").read_bytes()
    # Dated anew (later, nothing changed) as bytes too.
    later = pipeline.build(root, now=SAMPLE_NOW + timedelta(days=3))
    assert isinstance(later.files[layout.FEED], bytes) and not later.errors


def _full_disk(room: int) -> Callable[[int, memoryview], int]:
    """A file system with ``room`` bytes left: a write is cut at the room left, then refused
    with ENOSPC, as a full disk does."""
    left = [room]

    def write_some(fd: int, data: memoryview) -> int:
        if not left[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = os.write(fd, data[: left[0]])
        left[0] -= written
        return written

    return write_some


@pytest.mark.parametrize("room", [0, 1, 1000, PIECE - 1, PIECE, PIECE + 7, 10**9])
def test_a_disk_that_fills_up_under_a_document_leaves_it_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: int
) -> None:
    # Pieces of every size around the writer's own (the head, items, a long tail).
    pieces = [bytes([65 + n % 26]) * (n * 997 % 40_000 + 1) for n in range(60)] + [b"z" * (PIECE + 3)]
    expected = b"".join(pieces)
    monkeypatch.setattr(feedfile, "_write_some", _full_disk(room))
    writer = feedfile.Writer(tmp_path / "documents")
    for index, piece in enumerate(pieces):
        (writer.write_item if index else writer.write)(piece)
        if index % 17 == 0:
            writer.flush()
    made = writer.finish()
    assert content_bytes(made) == expected
    if room >= len(expected):
        assert isinstance(made, Stored) and made.sha256 == hashlib.sha256(expected).hexdigest()
    else:
        # In memory: no file left behind, none half written.
        assert isinstance(made, bytes) and not list((tmp_path / "documents").iterdir())


def test_a_publish_on_a_full_cache_disk_publishes_what_a_cold_build_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = copy_sample_show(tmp_path / "cold")
    publish(cold, now=SAMPLE_NOW)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    # The cache's disk fills up: the next publish writes its feed with no room left.
    for episode_file in sorted((root / "episodes").glob("*.yaml"))[:1]:
        episode_file.write_text(episode_file.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(feedfile, "_write_some", _full_disk(0))
    publish(root, now=SAMPLE_NOW + timedelta(days=1))
    publish(cold, now=SAMPLE_NOW + timedelta(days=1))
    assert (root / "public" / "feed.xml").read_bytes() == (cold / "public" / "feed.xml").read_bytes()
    assert (root / "public" / "index.html").read_bytes() == (cold / "public" / "index.html").read_bytes()
    # Nothing left behind: no half-written file, and the build's folder gone with it.
    assert os.listdir(root / pipeline.DOCUMENTS) == []


def test_old_feed_files_are_removed_and_young_ones_left(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    folder = root / pipeline.DOCUMENTS
    folder.mkdir(parents=True)
    # A feed an earlier version wrote loose there (named by its SHA-256), and one being written.
    old, young = folder / f"{'0' * 64}.xml", folder / ".1.2.tmp"
    old.write_bytes(b"old")
    young.write_bytes(b"young")
    os.utime(old, (1, 1))
    built = pipeline.build(root, now=SAMPLE_NOW)
    feed = built.files[layout.FEED]
    assert isinstance(feed, Stored)
    assert not old.exists()
    assert young.exists() and feed.exists()


def _variants() -> dict[str, bytes]:
    golden = GOLDEN_FEED.read_bytes()
    found = {
        "golden": golden,
        "findings": FEED,
        "bom": b"\xef\xbb\xbf" + golden,
        "not utf-8": golden.replace("é".encode(), b"\xe9", 1),
        "cut utf-8 at the end": golden + "é".encode()[:1],
        "no declaration": golden[golden.index(b"\n") + 1 :],
        "no items": document(),
        "one item": document(body=items(1)),
        "element after the items": document(body=items(3), channel_after="<ttl>5</ttl>\n"),
        "items in one line": document(body=items(4).replace("\n", " ")),
        "blanks between items": document(body=items(4).replace("</item>", "</item>  \r\n \t \n  ")),
        "item tag at the end": document(body=items(2)).removesuffix(b"</channel>\n</rss>\n") + b"\n<item",
        "unclosed item": (HEAD + "<channel>\n" + CHANNEL + items(2)).encode()[:-3],
    }
    for path in REAL_FEEDS:
        found[path.name] = path.read_bytes()
    return found


VARIANTS = _variants()


@pytest.mark.parametrize("piece", [7, 64, 1000, 5000, 1 << 20])
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_lint_of_a_feed_file_finds_what_the_lint_of_its_bytes_finds(
    name: str, piece: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xml = VARIANTS[name]
    path = tmp_path / "feed.xml"
    path.write_bytes(xml)
    expected = feedlint.lint_feed(xml, now=NOW, feed_url=FEED_URL)
    monkeypatch.setattr(_pieces, "PIECE", piece)
    kept = feedlint.KeptItems(tmp_path / "kept", version="test")
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept) == expected
    assert feedlint.lint_feed(path, now=NOW, feed_url=FEED_URL, kept=kept) == expected
    assert kept.checked == 0 or _pieces.lint_file(path, feed_url=FEED_URL, now=NOW, kept=kept) is None
    # Our own feeds are cut from the file, never read whole.
    if name in ("golden", "findings", "blanks between items", "one item"):
        assert _pieces.lint_file(path, feed_url=FEED_URL, now=NOW, kept=kept) is not None


def test_a_feed_file_with_a_preview_address_is_read_and_rewritten(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    built = pipeline.build(root, now=SAMPLE_NOW, preview_url="http://127.0.0.1:8000/")
    feed = built.files[layout.FEED]
    assert isinstance(feed, bytes)
    published = pipeline.build(root, now=SAMPLE_NOW).files[layout.FEED]
    assert feed == content_bytes(published).replace(_base(root).encode(), b"http://127.0.0.1:8000/")


def _base(root: Path) -> str:
    text = (root / "feed.yaml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("base_url:"))
    return line.split(":", 1)[1].strip().strip("\"'")
