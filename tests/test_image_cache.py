"""The image cache of thumbnails and social cards: what it returns is what a cold build makes,
a damaged or foreign entry is made anew, and a shared artwork is decoded once per build."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import PIL
import pytest
from PIL import Image

from conftest import NOW
from entretiens import atomicfile, cards, checkedfiles, images, thumbnails, unitcache, walks
from entretiens.images import open_image
from entretiens.loading import load_project
from entretiens.model import Episode, Project, Show
from entretiens.output import Stored, content_bytes
from entretiens.publish import publish
from showbuilder import episode, make_show, write_artwork
from site_fixtures import site_show

CACHE = Path(".entretiens") / "cache" / "images"


def _entries(root: Path, kind: str) -> list[Path]:
    return sorted((root / CACHE).glob(f"{kind}-*"))


def _show(root: Path, count: int = 2, covers: tuple[int, ...] = ()) -> Project:
    episodes = {
        f"{n:03d}-talk": {**episode(n, date=f"2024-03-01T{n:02d}:00:00+01:00"), "title": f"Talk number {n}"}
        for n in range(1, count + 1)
    }
    for n in covers:
        write_artwork(root / "covers" / f"{n}.png", size=1400 + n)
        episodes[f"{n:03d}-talk"]["image"] = f"covers/{n}.png"
    make_show(root, episodes, seconds=0.5)
    _settle(root / "artwork.png", *root.glob("covers/*"))
    return load_project(root)


def _settle(*paths: Path, seconds: int = 60) -> None:
    """Date files ``seconds`` back, then wait until their last change has settled: pictures made
    from a file changed within a timestamp tick are not kept (it could change again with the
    same stamp), by the later of its mtime and its ctime, which is now (no program can put it
    back): see :func:`walks.settled`."""
    then = time.time_ns() - seconds * 1_000_000_000
    stamps = []
    for path in paths:
        os.utime(path, ns=(then, then))
        status = path.stat()
        stamps.append((status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino))
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)


def _card(show: Show, episode: Episode) -> bytes:
    """The card's bytes (a kept card comes as the cache's file of them)."""
    return content_bytes(cards.card(show, episode))


def _refuse(*args: object) -> bytes:
    raise AssertionError("drawn again: the cache was not used")


def test_a_cached_card_is_the_same_bytes_as_a_cold_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _show(tmp_path / "a")
    show, first = project.show, project.episodes[0]
    drawn = _card(show, first)
    assert len(_entries(show.root, "card")) == 1
    with monkeypatch.context() as patch:
        patch.setattr(cards, "_draw", _refuse)
        kept = cards.card(show, first)
        # Handed on as the cache's file, not as bytes in memory.
        assert isinstance(kept, Stored) and kept.read_bytes() == drawn
    # The same show in a fresh folder (no cache, another path): drawn anew, the same bytes.
    shutil.copytree(show.root, tmp_path / "b", ignore=shutil.ignore_patterns(".entretiens"))
    fresh = load_project(tmp_path / "b")
    assert not _entries(fresh.show.root, "card")
    assert _card(fresh.show, fresh.episodes[0]) == drawn
    with Image.open(io.BytesIO(drawn)) as image:
        assert image.size == (cards.WIDTH, cards.HEIGHT)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "flipped", "foreign", "fifo", "folder"])
def test_a_damaged_or_foreign_card_entry_is_drawn_again_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    project = _show(tmp_path / "show")
    show, first, second = project.show, *project.episodes
    expected = _card(show, first)
    other = _card(show, second)
    entry, foreign = (
        next(p for p in _entries(show.root, "card") if p.read_bytes().endswith(data)) for data in (expected, other)
    )
    stored = entry.read_bytes()
    if damage in ("fifo", "folder"):
        entry.unlink()
        os.mkfifo(entry) if damage == "fifo" else entry.mkdir()
        # In a thread: a build that opened the FIFO for reading would wait for a writer forever.
        made: list[bytes] = []
        worker = threading.Thread(target=lambda: made.append(_card(show, first)), daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert made == [expected]
        assert damage == "folder" or entry.read_bytes() == stored, "the FIFO was replaced"
        return
    entry.write_bytes(
        {
            "garbage": b"\x89PNG not a card at all",
            "truncated": stored[: len(stored) // 2],
            "empty": b"",
            "flipped": stored[:-100] + bytes([stored[-100] ^ 1]) + stored[-99:],
            "foreign": foreign.read_bytes(),
        }[damage]
    )
    assert _card(show, first) == expected
    assert entry.read_bytes() == stored, "the entry was made anew"
    with monkeypatch.context() as patch:
        patch.setattr(cards, "_draw", _refuse)
        assert _card(show, first) == expected


def test_a_changed_title_guest_show_name_or_artwork_makes_a_new_card(tmp_path: Path) -> None:
    project = _show(tmp_path / "show")
    show, first = project.show, project.episodes[0]
    seen = {_card(show, first)}
    for changed in (
        (show, replace(first, title="Another title")),
        (replace(show, title="Another show"), first),
        (show, replace(first, guests=())),
    ):
        seen.add(_card(*changed))
    assert len(seen) == 4
    # New pixels in the artwork file (same size in bytes, a later modification time).
    artwork = show.root / "artwork.png"
    Image.new("RGB", (1400, 1400), (200, 30, 30)).save(artwork)
    _settle(artwork, seconds=30)
    seen.add(_card(show, first))
    assert len(seen) == 5
    assert len(_entries(show.root, "card")) == 5


def test_an_image_is_decoded_once_per_build_for_all_its_pictures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The show's artwork makes the page cover, the icon and 18 cards from one decode; an
    episode's own cover makes its page cover and its card from one decode."""
    project = _show(tmp_path / "show", count=20, covers=(5, 10))
    opened: Counter[str] = Counter()

    def counting(source: Path) -> AbstractContextManager[Image.Image]:
        opened[Path(source).name] += 1
        return open_image(source)

    monkeypatch.setattr(images, "open_image", counting)
    cards._FITTED.clear()
    root = project.show.root
    publish(root, tmp_path / "out", now=NOW)
    assert opened == {"artwork.png": 1, "5.png": 1, "10.png": 1}
    assert len(_entries(root, "card")) == 20
    assert len(_entries(root, "thumbnail")) == 4
    assert not images._decoded, "nothing decoded is held after the pages are made"
    # A rebuild in a new process (the decoded artworks forgotten) reads every picture back.
    cards._FITTED.clear()
    opened.clear()
    publish(root, tmp_path / "out", now=NOW)
    assert not opened


def test_a_damaged_thumbnail_entry_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = site_show(tmp_path / "show")
    _settle(*root.rglob("*.png"))
    first = publish(root, root / "public", dry_run=True).files
    photo = PurePosixPath("assets/people/ada-lovelace.jpg")
    expected = content_bytes(first[photo])
    entries = _entries(root, "thumbnail")
    assert entries
    for entry in entries:
        entry.write_bytes(b"not an image")
    made: list[str] = []
    encode = thumbnails._encode

    def counting(source: Path, size: int, *, square: bool, suffix: str) -> bytes | None:
        made.append(source.name)
        return encode(source, size, square=square, suffix=suffix)

    monkeypatch.setattr(thumbnails, "_encode", counting)
    again = publish(root, root / "public", dry_run=True).files
    assert content_bytes(again[photo]) == expected
    assert "ada.png" in made
    assert all(not entry.read_bytes().startswith(b"not an image") for entry in _entries(root, "thumbnail"))


def test_a_picture_of_a_file_changed_in_the_last_seconds_is_made_but_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed within a timestamp tick of being read can change again with the same
    size and time: what is made from it is right for this build, and made again next time."""
    # A tick of 1 s (ten times the real one): the card falls within it however busy the machine.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 10**9)
    project = _show(tmp_path / "show")
    show, first = project.show, project.episodes[0]
    (show.root / "artwork.png").touch()
    cards._FITTED.clear()
    drawn = _card(show, first)
    assert not _entries(show.root, "card")
    _settle(show.root / "artwork.png")
    cards._FITTED.clear()
    assert _card(show, first) == drawn
    assert len(_entries(show.root, "card")) == 1


def _whole_seconds(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """``os.stat`` of ``path`` as a file system with times in whole seconds gives it (ext3, some
    network mounts): two saves within one second leave the same stamp."""
    real = os.stat
    names = {str(path), str(path.resolve())}

    def coarse(name: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        status = real(name, *args, **kwargs)
        if not isinstance(name, (str, os.PathLike)) or os.fspath(name) not in names:
            return status
        mtime, ctime = (ns - ns % 10**9 for ns in (status.st_mtime_ns, status.st_ctime_ns))
        extra = {field: getattr(status, field) for field in dir(status) if field.startswith("st_")}
        extra.update(st_mtime=mtime / 1e9, st_ctime=ctime / 1e9, st_mtime_ns=mtime, st_ctime_ns=ctime)
        return os.stat_result((*status[:7], status[7], mtime // 10**9, ctime // 10**9), extra)

    monkeypatch.setattr(os, "stat", coarse)


def test_a_picture_saved_twice_in_one_second_with_its_mtime_put_back_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved twice within one second, its mtime put back each time (``rsync -t``, ``touch -r``,
    some editors), the artwork keeps its stamp: only the ctime moved, not to another second. The
    card drawn from the first save, within a tick of it, was not kept (judged by the mtime
    alone, it was, and was handed on for the second)."""
    project = _show(tmp_path / "show")
    show, first = project.show, project.episodes[0]
    artwork = show.root / "artwork.png"
    _whole_seconds(monkeypatch, artwork)
    saves = []
    for colour in ((200, 30, 30), (30, 30, 200)):
        data = io.BytesIO()
        Image.new("RGB", (700, 700), colour).save(data, "PNG", compress_level=0)
        saves.append(data.getvalue())
    assert len(saves[0]) == len(saves[1])
    then = time.time_ns() - 60 * 1_000_000_000
    for _attempt in range(20):
        artwork.write_bytes(saves[0])
        os.utime(artwork, ns=(then, then))
        saved = thumbnails.source_stamp(artwork)
        cards._FITTED.clear()
        drawn = _card(show, first)
        artwork.write_bytes(saves[1])
        os.utime(artwork, ns=(then, then))
        if thumbnails.source_stamp(artwork) == saved:
            break
    else:
        pytest.fail("no two saves within one second")
    cards._FITTED.clear()
    again = _card(show, first)
    shutil.copytree(show.root, tmp_path / "cold", ignore=shutil.ignore_patterns(".entretiens"))
    cold = load_project(tmp_path / "cold")
    assert again == _card(cold.show, cold.episodes[0]) != drawn


def _bodies_read(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[str]:
    """The names of the image cache's pictures opened from now on (their checks, the cache's
    index and its ledger are not counted)."""
    opened: list[str] = []
    real = os.open

    def counting(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        if Path(path).parent == root / CACHE and Path(path).name not in ("index", "checked.json", "checked.json.delta"):
            opened.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", counting)
    return opened


def _ledgered_show(tmp_path: Path) -> tuple[Path, dict[PurePosixPath, bytes]]:
    """A show built twice: the second build checks the pictures the first kept, and notes their
    stamps (once they are older than a timestamp tick) in the image cache's ledger."""
    root = _show(tmp_path / "show", count=3, covers=(2,)).show.root
    with publish(root, root / "public", dry_run=True, now=NOW, hold=True) as result:
        cold = {path: content_bytes(content) for path, content in result.files.items()}
    assert _entries(root, "card") and _entries(root, "thumbnail")
    time.sleep(2.1)  # the pictures' stamps are kept only once settled
    publish(root, root / "public", dry_run=True, now=NOW)
    assert (root / CACHE / "checked.json").is_file()
    return root, cold


def _built(root: Path) -> dict[PurePosixPath, bytes]:
    with publish(root, root / "public", dry_run=True, now=NOW, hold=True) as result:
        return {path: content_bytes(content) for path, content in result.files.items()}


def test_an_unchanged_rebuild_reads_no_picture_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cold = _ledgered_show(tmp_path)
    opened = _bodies_read(monkeypatch, root)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    assert opened == [], "pictures whose stamps did not move were read again"


def test_a_picture_damaged_with_its_size_and_time_put_back_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's ctime moves with any write, and no program can set it back."""
    root, cold = _ledgered_show(tmp_path)
    for entry in [*_entries(root, "card"), *_entries(root, "thumbnail")]:
        before = entry.stat()
        data = entry.read_bytes()
        middle = len(data) // 2
        entry.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
        os.utime(entry, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = entry.stat()
        assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    opened = _bodies_read(monkeypatch, root)
    assert _built(root) == cold
    assert opened, "the damaged pictures were not read"
    # Made anew: the next build finds them whole.
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold


@pytest.mark.parametrize("ledger", [b"", b"{not json", b'{"version": 1, "files": []}', b'{"version": 99, "files": {}}'])
def test_a_damaged_image_ledger_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: bytes) -> None:
    root, cold = _ledgered_show(tmp_path)
    (root / CACHE / "checked.json").write_bytes(ledger)
    opened = _bodies_read(monkeypatch, root)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    assert opened, "a damaged ledger was trusted"


def test_a_rebuild_looks_at_a_shared_artwork_once_for_all_its_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every card without its own cover is drawn from the show's artwork: its stamp is taken
    once per build, not once per card (10,000 stats at 10,000 episodes), and the cards read
    back are the cold build's."""
    root = _show(tmp_path / "show", count=6, covers=(2,)).show.root
    cold = _built(root)
    looked: Counter[str] = Counter()
    real = thumbnails.source_stamp

    def counting(source: Path) -> thumbnails.Stamp | None:
        looked[source.name] += 1
        return real(source)

    monkeypatch.setattr(cards, "source_stamp", counting)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    assert looked == {"artwork.png": 1, "2.png": 1}


def test_only_pictures_that_exist_are_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An episode without a cover of its own, a guest without a photo, has no thumbnail: its
    target path is not even made (10,000 of them in a large show, at every build)."""
    root = _show(tmp_path / "show", count=6, covers=(2,)).show.root
    asked: list[str | None] = []
    real = thumbnails.Images.thumbnail

    def counting(
        self: thumbnails.Images, reference: str | None, *args: Any, **kwargs: Any
    ) -> thumbnails.Picture | None:
        asked.append(reference)
        return real(self, reference, *args, **kwargs)

    monkeypatch.setattr(thumbnails.Images, "thumbnail", counting)
    cold = _built(root)
    assert asked == ["artwork.png", "artwork.png", "covers/2.png"]
    assert PurePosixPath("assets/episodes/002-talk.jpg") in cold, sorted(map(str, cold))


def _checks_read(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[str]:
    """The names of the image cache's checks opened from now on."""
    opened: list[str] = []
    real = os.open

    def counting(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        if Path(path).parent == root / CACHE / "checks":
            opened.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", counting)
    return opened


def test_an_unchanged_rebuild_opens_no_picture_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache's index gives each kept picture's key, digest and size: one file read per
    build, not a check per card."""
    root, cold = _ledgered_show(tmp_path)
    assert (root / CACHE / "index").is_file()
    opened = _checks_read(monkeypatch, root)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    assert opened == []


def _lying(index: bytes) -> bytes:
    """The index whole and checked, but giving every entry another digest."""
    body = index.split(b"\n", 2)[2]
    entries = json.loads(body)["entries"]
    for entry in entries.values():
        entry[1] = "0" * 64
    body = json.dumps({"entries": entries}).encode()
    return b"entretiens image index 1\n" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the cards drawn in this process from now on."""
    drawn: list[str] = []
    real = cards._draw

    def counting(title: str, *args: Any) -> bytes:
        drawn.append(title)
        return real(title, *args)

    monkeypatch.setattr(cards, "_draw", counting)
    return drawn


@pytest.mark.parametrize("damage", ["empty", "garbage", "flipped", "cut", "lying", "fifo"])
def test_a_damaged_image_index_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """The index is the check of every picture a build wrote: one it cannot trust is ignored
    whole, and the pictures drawn again (nothing else says what their bytes must be)."""
    root, cold = _ledgered_show(tmp_path)
    index = root / CACHE / "index"
    data = index.read_bytes()
    index.unlink()
    if damage == "fifo":
        os.mkfifo(index)
    else:
        index.write_bytes(
            {
                "empty": b"",
                "garbage": b"entretiens image index 1\nnot a digest\n{}",
                "flipped": data[:-3] + bytes([data[-3] ^ 1]) + data[-2:],
                "cut": data[: len(data) // 2],
                "lying": _lying(data),
            }[damage]
        )
    drawn = _drawn(monkeypatch)
    result: list[dict[PurePosixPath, bytes]] = []
    # In a thread: a build that opened the FIFO for reading would wait for a writer forever.
    worker = threading.Thread(target=lambda: result.append(_built(root)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert result == [cold]
    assert sorted(drawn) == [f"Talk number {n}" for n in (1, 2, 3)], "a damaged index was trusted"
    # The index written again: the next build draws nothing.
    drawn.clear()
    assert _built(root) == cold
    assert drawn == []


def _old_layout(root: Path) -> int:
    """The image cache as earlier versions kept it: a check file beside each entry (magic
    line, SHA-256 of its key, of its bytes, its size), and no index. How many entries."""
    body = (root / CACHE / "index").read_bytes().split(b"\n", 2)[2]
    entries = json.loads(body)["entries"]
    (root / CACHE / "checks").mkdir(exist_ok=True)
    for name, (key, digest, size) in entries.items():
        text = f"{key}\n{digest}\n{size}\n".encode("ascii")
        (root / CACHE / "checks" / name).write_bytes(b"entretiens image cache 3\n" + text)
    (root / CACHE / "index").unlink()
    return len(entries)


def test_pictures_an_earlier_version_kept_with_check_files_are_not_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 cards kept by an earlier version (a check file each, no index) stay valid: read
    back, not drawn again; the index written then checks them from the next build on."""
    root, cold = _ledgered_show(tmp_path)
    assert _old_layout(root) == len(_entries(root, "card")) + len(_entries(root, "thumbnail"))
    monkeypatch.setattr(cards, "_draw", _refuse)
    monkeypatch.setattr(thumbnails, "_encode", _refuse)
    assert _built(root) == cold
    shutil.rmtree(root / CACHE / "checks")
    assert _built(root) == cold


def test_an_old_check_file_that_does_not_match_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cold = _ledgered_show(tmp_path)
    _old_layout(root)
    for check in (root / CACHE / "checks").glob("card-*"):
        magic, key, _digest, size, _ = check.read_bytes().split(b"\n")
        check.write_bytes(b"\n".join([magic, key, b"0" * 64, size, b""]))
    drawn = _drawn(monkeypatch)
    assert _built(root) == cold
    assert len(drawn) == 3


def _created(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[str]:
    """The names of the files created in the image cache (or under it) from now on, by
    ``os.open`` or ``open``."""
    created: list[str] = []
    real_open, real_io = os.open, io.open

    def counting(path: str | os.PathLike[str], flags: int, *args: Any, **kwargs: Any) -> int:
        handle = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT and (root / CACHE) in Path(path).parents:
            created.append(Path(path).name)
        return handle

    def counting_io(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        stream = real_io(path, mode, *args, **kwargs)
        if isinstance(path, (str, os.PathLike)) and set(mode) & set("wxa") and (root / CACHE) in Path(path).parents:
            created.append(Path(path).name)
        return stream

    monkeypatch.setattr(os, "open", counting)
    monkeypatch.setattr(io, "open", counting_io)
    return created


def test_a_picture_made_creates_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A card or thumbnail made is one file created (its temporary, renamed into place): its
    check is the cache's index, not a file of its own (file creation is what a cold build's
    cards cost most after drawing them, about 0.4 ms a file)."""
    root = _show(tmp_path / "show", count=5, covers=(2,)).show.root
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)  # every card in this process, where it is counted
    created = _created(monkeypatch, root)
    cold = _built(root)
    made = _entries(root, "card") + _entries(root, "thumbnail")
    assert len(made) == 5 + 3  # five cards, the page cover and icon of the show, episode 2's cover
    pictures = [name for name in created if name.startswith(("card-", "thumbnail-", ".card-", ".thumbnail-"))]
    assert len(pictures) == len(made), created
    assert not (root / CACHE / "checks").exists()
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold


def test_this_process_reads_no_card_a_worker_drew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cards of a cold build are drawn by forked workers, which send back each one's
    digest: this process neither draws nor reads them to hand them on (before, it read each one
    back, and its check file, one after the other); the output is that of a build in one process."""
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache.parallel(1):
        pytest.skip("one core, or no fork: cards are drawn in one process")
    root = _show(tmp_path / "show", count=6, covers=(2,)).show.root
    alone = _show(tmp_path / "alone", count=6, covers=(2,)).show.root
    drawn = _drawn(monkeypatch)
    opened = _bodies_read(monkeypatch, root)
    read_in_build: list[int] = []
    real_keep = thumbnails.keep_index

    def keeping(show_root: Path) -> None:
        read_in_build.append(len([name for name in opened if name.startswith("card-")]))
        real_keep(show_root)

    monkeypatch.setattr(thumbnails, "keep_index", keeping)
    made = _built(root)
    assert drawn == [], "the card of an episode's own cover too: its thumbnail was made by a worker"
    assert read_in_build == [0]
    assert len(_entries(root, "card")) == 6
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)
    drawn.clear()
    one = _built(alone)
    assert len(drawn) == 6
    card_files = [path for path in made if path.parts[:2] == ("assets", "cards")]
    assert len(card_files) == 6
    assert [made[path] for path in card_files] == [one[path] for path in card_files]


def test_a_picture_this_build_made_is_trusted_by_the_next_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger learns the pictures a build wrote (checked again when it is saved, once older
    than a timestamp tick): the first rebuild after a cold build reads none of them back."""
    project = _show(tmp_path / "show", count=3)
    show = project.show
    cards._FITTED.clear()
    made = [_card(show, episode) for episode in project.episodes]
    time.sleep(2.1)  # a stamp is kept only once older than a timestamp tick
    checkedfiles.save_ledgers()
    thumbnails.keep_index(show.root)
    opened = _bodies_read(monkeypatch, show.root)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert [_card(show, episode) for episode in project.episodes] == made
    assert opened == [], "pictures written by the last build were read back"


def test_a_deck_keys_each_card_as_its_whole_key_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deck writes a card's key in pieces (what cards share, taken once per build): the
    text is the JSON of the whole key, so every card an earlier version kept stays valid."""
    project = _show(tmp_path / "show", count=3, covers=(2,))
    show = project.show
    titles = ['Les "guillemets" & l\u2019apostrophe', "\u65e5\u672c\u8a9e\u306e\u984c\u540d \\", "emoji \U0001f399"]
    names = [
        [],
        ['Ana "Quote" \u00c9lo\u00efse'],
        ["Zo\u00eb", "\u0645\u062d\u0645\u062f", "tab\there", "line\nbreak\x01\u2028"],
    ]
    people = project.episodes[0].guests[:1]
    assert people, "the show's episodes have a guest"
    episodes = [
        replace(e, title=title, guests=tuple(replace(p, name=n) for p in people for n in group))
        for e, title, group in zip(project.episodes, titles, names, strict=True)
    ]
    keys: list[str] = []
    real = thumbnails.entry_name

    def recording(kind: str, identity: str, suffix: str) -> tuple[str, str]:
        keys.append(identity)
        return real(kind, identity, suffix)

    monkeypatch.setattr(cards, "entry_name", recording)
    deck = cards.Deck(show)
    for one in episodes:
        deck.card(one)
    expected = []
    for one in episodes:
        source = show.root / (one.cover_image or show.cover_image)
        key = [one.title, [p.name for p in one.guests], show.title, thumbnails.source_stamp(source), *cards._drawing()]
        expected.append(json.dumps(["card", PIL.__version__, *key], ensure_ascii=False))
    assert keys == expected


def test_a_rebuild_writes_what_cards_share_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The show's title, the artwork's stamp and the drawing code are in every card's key:
    written as JSON once per artwork and build, not once per card (a json.dumps of the whole
    key was most of a kept card's cost)."""
    root = _show(tmp_path / "show", count=6, covers=(2,)).show.root
    cold = _built(root)
    show_title = load_project(root).show.title
    dumped: list[object] = []
    real = json.dumps

    def counting(value: object, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, list) and show_title in value:
            dumped.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(json, "dumps", counting)
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    # Once for the show's artwork, once for episode 2's own cover.
    assert len(dumped) == 2, dumped


def test_a_kept_picture_is_the_path_its_text_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made from its folder's path and its name (a whole path parsed for each of 10,000 cards
    cost five times as much on Python 3.11): the same Stored path in every respect."""
    project = _show(tmp_path / "show", count=2)
    show = project.show
    drawn = [_card(show, one) for one in project.episodes]
    monkeypatch.setattr(cards, "_draw", _refuse)
    for one, data in zip(project.episodes, drawn, strict=True):
        kept = cards.card(show, one)
        assert isinstance(kept, Stored)
        text = Stored(str(kept))
        assert type(kept) is type(text) and kept == text and hash(kept) == hash(text)
        assert (str(kept), kept.parts, kept.name, kept.parent, os.fspath(kept)) == (
            str(text),
            text.parts,
            text.name,
            text.parent,
            os.fspath(text),
        )
        assert kept.parent == show.root / CACHE and kept.read_bytes() == data


def test_a_cold_build_looks_for_no_check_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No check file is written any more: where none was ever written, none is looked for (a
    cold build of 10,000 cards tried to open 10,000 missing files, one after the other)."""
    root = _show(tmp_path / "show", count=4, covers=(2,)).show.root
    opened = _checks_read(monkeypatch, root)
    cold = _built(root)
    assert opened == []
    assert len(_entries(root, "card")) == 4
    monkeypatch.setattr(cards, "_draw", _refuse)
    assert _built(root) == cold
    assert opened == []


def test_the_cards_of_episodes_sharing_a_cover_are_drawn_by_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card is drawn by this process with its page cover (one decode for both) only when no
    other episode shares that cover: those of a cover several episodes share (a season's) are
    drawn on every core with the others, the cover fitted once per process."""
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache.parallel(1):
        pytest.skip("one core, or no fork: cards are drawn in one process")
    shows = []
    for name in ("workers", "alone"):
        root = tmp_path / name
        write_artwork(root / "covers" / "season.png", size=1400)
        write_artwork(root / "covers" / "own.png", size=1401)
        episodes = {f"{n:03d}-talk": {**episode(n), "title": f"Talk number {n}"} for n in range(1, 7)}
        for n in (2, 3, 4):
            episodes[f"{n:03d}-talk"]["image"] = "covers/season.png"
        episodes["005-talk"]["image"] = "covers/own.png"
        make_show(root, episodes, seconds=0.5)
        _settle(root / "artwork.png", *root.glob("covers/*"))
        shows.append(root)
    drawn = _drawn(monkeypatch)
    with_workers = _built(shows[0])
    assert drawn == [], "the cover's thumbnails made by workers: no card is drawn here"
    assert not images._decoded, "a decoded cover held past the cards"
    assert cards._EASEL._canvas is None, "the canvas held past the cards"
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)
    drawn.clear()
    alone = _built(shows[1])
    assert len(drawn) == 6
    card_files = sorted(path for path in with_workers if path.parts[:2] == ("assets", "cards"))
    assert len(card_files) == 6
    assert [with_workers[path] for path in card_files] == [alone[path] for path in card_files]


def test_the_cards_made_before_a_card_failed_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache's index is the only check of the pictures a build made: it is saved even when
    a card fails, so the next build draws only what it did not make (10,000 cards otherwise)."""
    root = _show(tmp_path / "show", count=5).show.root
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)
    real = cards._draw

    def failing(title: str, *args: Any) -> bytes:
        if title == "Talk number 3":
            raise RuntimeError("a card that cannot be drawn")
        return real(title, *args)

    monkeypatch.setattr(cards, "_draw", failing)
    with pytest.raises(RuntimeError, match="cannot be drawn"):
        _built(root)
    # The next publish is a new process: nothing of this one's caches left in memory.
    thumbnails._Index.opened.clear()
    checkedfiles._LEDGERS.clear()
    monkeypatch.setattr(cards, "_draw", real)
    drawn = _drawn(monkeypatch)
    _built(root)
    # The newest first: 5 and 4 were made before 3 failed, 2 and 1 never asked for.
    assert sorted(drawn) == ["Talk number 1", "Talk number 2", "Talk number 3"]


def _made_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources of the thumbnails encoded in this process from now on (not in a forked worker)."""
    made: list[str] = []
    here = os.getpid()
    encode = thumbnails._encode

    def counting(source: Path, size: int, *, square: bool, suffix: str) -> bytes | None:
        if os.getpid() == here:
            made.append(source.name)
        return encode(source, size, square=square, suffix=suffix)

    monkeypatch.setattr(thumbnails, "_encode", counting)
    return made


def test_the_own_covers_of_a_cold_build_are_made_by_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A show whose episodes each have their own cover: a cold build makes their thumbnails
    and cards on every core, none here (each was 50-80 ms in this process, one after the
    other); the same bytes as a cold build in one process, in a fresh folder. A rebuild trusts
    what the workers kept, and an entry damaged since is made again, never handed on."""
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache.parallel(1):
        pytest.skip("one core, or no fork: pictures are made in one process")
    real_encode, real_draw = thumbnails._encode, cards._draw
    every = tuple(range(1, 7))
    root = _show(tmp_path / "workers", count=6, covers=every).show.root
    alone = _show(tmp_path / "alone", count=6, covers=every).show.root
    encoded, drawn = _made_here(monkeypatch), _drawn(monkeypatch)
    # Every process's decodes, in a file (the workers' lists would not come back).
    decodes = tmp_path / "decodes"
    real_open = images.open_image

    def noting(source: Path) -> AbstractContextManager[Image.Image]:
        with decodes.open("a") as log:
            log.write(Path(source).name + "\n")
        return real_open(source)

    monkeypatch.setattr(images, "open_image", noting)
    with_workers = _built(root)
    assert encoded == ["artwork.png", "artwork.png"], "only the show's cover and icon"
    assert drawn == []
    assert sorted(decodes.read_text().split()) == sorted(["artwork.png", *(f"{n}.png" for n in every)]), (
        "each cover decoded once, for its thumbnail and its card"
    )
    monkeypatch.setattr(images, "open_image", real_open)
    assert len(_entries(root, "thumbnail")) == 8 and len(_entries(root, "card")) == 6
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)
    one = _built(alone)
    assert Counter(encoded[2:]) == Counter({"artwork.png": 2, **{f"{n}.png": 1 for n in every}})
    assert len(drawn) == 6
    pictures = [path for path in with_workers if path.parts[0] == "assets" and path.suffix == ".jpg"]
    assert len(pictures) == 13  # the show's cover, 6 covers, 6 cards
    assert with_workers == one
    # Kept: a rebuild makes nothing (a worker's refusal would come back here and raise).
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(cards, "_draw", _refuse)
    monkeypatch.setattr(thumbnails, "_encode", lambda *args, **kwargs: _refuse())
    assert _built(root) == with_workers
    # Damaged: every cover's thumbnail and card made again by the workers, the same bytes.
    for entry in [*_entries(root, "thumbnail"), *_entries(root, "card")]:
        entry.write_bytes(b"not an image")
    monkeypatch.setattr(thumbnails, "_encode", real_encode)
    monkeypatch.setattr(cards, "_draw", real_draw)
    encoded, drawn = _made_here(monkeypatch), _drawn(monkeypatch)
    assert _built(root) == with_workers
    assert encoded == ["artwork.png", "artwork.png"] and drawn == []
    assert all(not entry.read_bytes().startswith(b"not an image") for entry in _entries(root, "thumbnail"))
    assert all(not entry.read_bytes().startswith(b"not an image") for entry in _entries(root, "card"))


def test_a_build_that_makes_a_picture_removes_the_old_temporaries_a_killed_one_left(tmp_path: Path) -> None:
    """A build killed while writing an entry, the index or the ledger leaves a temporary file:
    the next build that writes into the cache removes ours once old; a fresh one (another
    build's, still being written), names that only look like ours, links and folders stay; a
    build that makes no picture does not even list the folder."""
    root = tmp_path / "show"
    _show(root)
    publish(root, tmp_path / "public", now=NOW)
    cache = root / CACHE
    digest = "0123456789abcdef" * 2
    old = [f".card-{digest}.jpg.4242.tmp", f".thumbnail-{digest}.png.7.tmp", ".index.ab_c12xy", ".checked.json.9.tmp"]
    old.append(".checked.json.delta.31.tmp")
    fresh = [f".card-{digest}.jpg.4243.tmp", ".index.fresh123"]
    alike = [f"card-{digest}.jpg.1.tmp", f".card-{digest[:-1]}.jpg.1.tmp", f".card-{digest}.jpg.1.tmp.bak"]
    alike += [".index.toolong12", f".card-{digest}.jpg.x.tmp", ".checked.json.tmp", ".index"]
    for name in old + fresh + alike:
        (cache / name).write_bytes(b"half written")
    (cache / f".card-{digest}.jpg.55.tmp").mkdir()
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"not ours")
    (cache / f".thumbnail-{digest}.jpg.56.tmp").symlink_to(outside)
    others = [f".card-{digest}.jpg.55.tmp", f".thumbnail-{digest}.jpg.56.tmp"]
    then = time.time_ns() - atomicfile.LEFTOVER_NS - 60 * 1_000_000_000
    for name in old + alike + others:
        os.utime(cache / name, ns=(then, then), follow_symlinks=False)
    # Nothing made: nothing removed, whatever its age.
    publish(root, tmp_path / "public", now=NOW)
    assert [name for name in old if not (cache / name).exists()] == []
    # A new title: its card is drawn and written into the cache.
    edited = root / "episodes" / "001-talk.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Talk number 1", "Talk number one"), encoding="utf-8")
    publish(root, tmp_path / "public", now=NOW)
    left = set(os.listdir(cache))
    assert not left & set(old)
    assert set(fresh + alike + others) <= left
    assert outside.read_bytes() == b"not ours"
    assert thumbnails.remove_leftovers(str(tmp_path / "missing"), time.time_ns()) == 0


def test_a_build_that_makes_a_picture_removes_the_old_entries_no_index_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry is found only through the index, which names the entries its build checked or
    made: when a new version of Pillow keys every picture anew, the old ones can never be found
    again. A build that writes an entry removes those once old, and the workers' folder of a
    killed build; the entries it used, fresh ones (another build's), look-alike names, links and
    other folders stay; a build that makes no picture removes nothing."""
    root = tmp_path / "show"
    _show(root, count=3, covers=(2,))
    out = tmp_path / "public"
    publish(root, out, now=NOW)
    cache = root / CACHE
    first = {path.name for path in [*_entries(root, "card"), *_entries(root, "thumbnail")]}
    assert len(first) == 3 + 3  # three cards; the show's cover and icon, episode 2's cover
    then = time.time_ns() - atomicfile.LEFTOVER_NS - 60 * 1_000_000_000
    digest = "0123456789abcdef" * 2
    stale = [f"card-{digest}.jpg", f"thumbnail-{digest}.png"]
    fresh = [f"card-{digest[::-1]}.jpg"]
    alike = [f"card-{digest}.jpg.bak", f"Card-{digest}.jpg", f"card-{digest[:-1]}.jpg", "notes.txt", "card-x.jpg"]
    for name in stale + fresh + alike:
        (cache / name).write_bytes(b"a picture of another key")
    (cache / f"card-{digest[1:]}0.jpg").mkdir()
    # The workers' folder of a killed cold build (empty, as when caught), and a running one's.
    (cache / ".spill-k1ll3d_0").mkdir()
    (cache / ".spill-running").mkdir()
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"not ours")
    (cache / f"thumbnail-{digest[1:]}0.jpg").symlink_to(outside)
    others = [f"card-{digest[1:]}0.jpg", f"thumbnail-{digest[1:]}0.jpg"]
    for name in [*first, *stale, *alike, *others, ".spill-k1ll3d_0"]:
        os.utime(cache / name, ns=(then, then), follow_symlinks=False)
    # Nothing made: nothing removed, whatever its age.
    publish(root, out, now=NOW)
    assert set(stale) | first | {".spill-k1ll3d_0"} <= set(os.listdir(cache))
    # A new title: its card is drawn; the other pictures are used as they are.
    edited = root / "episodes" / "001-talk.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Talk number 1", "Talk number one"), encoding="utf-8")
    publish(root, out, now=NOW)
    left = set(os.listdir(cache))
    assert not left & {*stale, ".spill-k1ll3d_0"}
    assert {*fresh, *alike, *others, ".spill-running"} <= left
    assert outside.read_bytes() == b"not ours"
    now_kept = {path.name for path in [*_entries(root, "card"), *_entries(root, "thumbnail")]} & set(first)
    assert len(now_kept) == 5, "the old card of the retitled episode went; the pictures in use stayed"
    # Another Pillow keys every picture anew: the next build draws them all, and the old ones go.
    before = {path: content_bytes(out / path) for path in map(PurePosixPath, ["index.html"])}
    monkeypatch.setattr(PIL, "__version__", f"{PIL.__version__}.test")
    for name in now_kept:
        os.utime(cache / name, ns=(then, then))
    publish(root, out, now=NOW)
    left = set(os.listdir(cache))
    assert not left & now_kept
    assert len([name for name in left if name.startswith(("card-", "thumbnail-")) and "." in name]) >= 6
    assert {path: content_bytes(out / path) for path in before} == before
    cold = tmp_path / "cold"
    shutil.rmtree(cache)
    publish(root, cold, now=NOW)
    assert _tree(out) == _tree(cold)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}
