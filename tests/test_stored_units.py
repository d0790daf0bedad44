"""Pages kept as files: a build hands its pages on as checked cache files, never as bytes held in
memory, dates them from what the cache noted when it made them, and never publishes a damaged one."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest

from entretiens import buildrecord, checkedfiles, layout, pipeline, unitcache, walks
from entretiens.errors import OutputError
from entretiens.output import Stored, content_bytes, file_sha256
from entretiens.publish import publish
from entretiens.state import STATE_FILE
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of


def _bodies(root: Path) -> list[Path]:
    """The files of the kept pages (not their headers)."""
    folder = root / unitcache.UNITS_DIR / "pages"
    return sorted(p for p in folder.rglob("*") if p.is_file() and "." in p.name and not p.name.startswith("."))


def test_pages_are_handed_on_as_checked_cache_files(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    for _ in range(2):  # made and kept, then read back
        built = pipeline.build(root, now=SAMPLE_NOW)
        assert not built.errors
        for release in built.releases:
            episode = release.episode
            for path in (layout.episode_page(episode), layout.embed_page(episode), layout.notes_markdown(episode)):
                content = built.files[path]
                assert isinstance(content, Stored), path
                assert content.size == len(content.read_bytes())
        assert isinstance(built.files[layout.GUESTS_PAGE], Stored)


def test_the_changes_recorded_by_earlier_versions_do_not_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample show's published.yaml was written when every page was dated from its bytes.
    root = copy_sample_show(tmp_path / "show")
    recorded = (root / STATE_FILE).read_bytes()
    assert b"changes:" in recorded
    later = SAMPLE_NOW + timedelta(days=40)
    publish(root, now=later)
    assert (root / STATE_FILE).read_bytes() == recorded
    # Again from the kept pages, without reading one of them: the marks kept with them say it all.
    buildrecord.forget(root)

    def unread(self: Stored) -> bytes:
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Stored, "read_bytes", unread)
    built = pipeline.build(root, now=later)
    monkeypatch.undo()
    assert built.changes is not None and not built.errors
    pipeline.commit(built, root / "public", pin_guids=True)
    assert (root / STATE_FILE).read_bytes() == recorded
    sitemap = content_bytes(built.files[PurePosixPath("sitemap.xml")])
    assert b"<lastmod>2011-03-14</lastmod>" in sitemap
    assert str(later.year).encode() not in sitemap


def _headers(root: Path) -> list[Path]:
    """Where the pages' headers are: the kind's store."""
    headers = [root / unitcache.UNITS_DIR / "pages.store"]
    assert all(path.is_file() for path in headers)
    return headers


@pytest.mark.parametrize("damage", ["same size", "cut", "removed", "fifo", "header"])
def test_a_damaged_page_file_is_made_anew_and_never_published(tmp_path: Path, damage: str) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    bodies = _bodies(root)
    assert bodies
    if damage == "header":
        # The home page entry kept in the header, and every header's own text.
        for header in _headers(root):
            data = header.read_bytes()
            header.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        bodies = []
    for body in bodies:
        status = body.stat()
        data = body.read_bytes()
        if damage == "same size":
            body.write_bytes(bytes([data[0] ^ 1]) + data[1:])
            os.utime(body, ns=(status.st_atime_ns, status.st_mtime_ns))
        elif damage == "cut":
            body.write_bytes(data[: len(data) // 2])
        elif damage == "removed":
            body.unlink()
        else:
            body.unlink()
            os.mkfifo(body)
    # The output is written again from scratch, as a publish into a new folder would.
    shutil.rmtree(root / "public")
    buildrecord.forget(root)
    publish(root, now=SAMPLE_NOW)
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, now=SAMPLE_NOW)
    assert files_of(root / "public") == files_of(fresh / "public")
    assert (root / STATE_FILE).read_bytes() == (fresh / STATE_FILE).read_bytes()
    # And the units were kept anew, whole.
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0


def test_a_page_file_changed_after_its_check_is_not_published(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    built = pipeline.build(root, now=SAMPLE_NOW)
    page = built.files[PurePosixPath("guests/index.html")]
    assert isinstance(page, Stored)
    data = page.read_bytes()
    page.write_bytes(data.replace(b"<h1", b"<h2", 1))
    out = tmp_path / "elsewhere"
    with pytest.raises(OutputError, match="changed after it was checked"):
        pipeline.commit(built, out, pin_guids=False)
    assert not out.exists()
    # The next build notices, and makes the page again.
    again = pipeline.build(root, now=SAMPLE_NOW)
    assert again.computed["pages"] == 1
    assert content_bytes(again.files[PurePosixPath("guests/index.html")]) == data


def test_cards_are_handed_on_as_checked_files_and_a_damaged_one_is_drawn_again(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    artwork = root / "artwork.png"
    then = artwork.stat().st_mtime_ns - 60 * 1_000_000_000
    os.utime(artwork, ns=(then, then))  # settled: cards made from it are kept
    publish(root, now=SAMPLE_NOW)
    built = pipeline.build(root, now=SAMPLE_NOW)
    cards = [path for path in built.files if path.parts[:2] == ("assets", "cards")]
    assert cards and all(isinstance(built.files[path], Stored) for path in cards)
    for path in cards:
        entry = built.files[path]
        assert isinstance(entry, Stored)
        status = entry.stat()
        data = entry.read_bytes()
        entry.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
        os.utime(entry, ns=(status.st_atime_ns, status.st_mtime_ns))
    shutil.rmtree(root / "public")
    buildrecord.forget(root)
    publish(root, now=SAMPLE_NOW)
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, now=SAMPLE_NOW)
    assert files_of(root / "public") == files_of(fresh / "public")


def test_a_rebuild_reads_only_the_page_files_that_changed_since_their_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file counts as settled (RACY_NS 0): those just written are trusted from the next build.
    monkeypatch.setattr(unitcache, "RACY_NS", 0)
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)  # made and kept
    pipeline.build(root, now=SAMPLE_NOW)  # read and checked: their stamps kept
    hashed = _hashing(monkeypatch)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0
    assert hashed == [], "a page file whose stamp did not move was read again"
    # One page file changed in place, same size and modification time: its ctime moved.
    body = _bodies(root)[0]
    status = body.stat()
    data = body.read_bytes()
    body.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    os.utime(body, ns=(status.st_atime_ns, status.st_mtime_ns))
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 1
    # That file, then the files of its unit made again, checked once when the ledger is kept.
    unit = [p for p in _bodies(root) if p.name.partition(".")[0] == body.name.partition(".")[0]]
    assert len(hashed) == 1 + len(unit)
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, tmp_path / "cold", now=SAMPLE_NOW)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def _ledgers(root: Path) -> tuple[Path, Path]:
    ledger = root / unitcache.UNITS_DIR / "pages.checked"
    return ledger, ledger.with_name(ledger.name + ".delta")


def _settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    # The sample show's few pages: an edit's files are a large share of them (of 40,000, few).
    monkeypatch.setattr(checkedfiles, "_DELTA_SHARE", 1)


def _hashing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    hashed: list[int] = []
    digest = file_sha256

    def counting(handle: int) -> str:
        hashed.append(handle)
        return digest(handle)

    monkeypatch.setattr(checkedfiles, "file_sha256", counting)
    return hashed


def _edit_notes(root: Path, text: str) -> None:
    path = root / "episodes" / "003-massimo-fubini.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("notes: |\n", f"notes: |\n  {text}\n", 1), encoding="utf-8"
    )


def test_an_edit_notes_its_new_page_files_beside_the_ledger_not_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ledger of a large show is megabytes: an edit adds a few stamps to a delta file.
    _settled_at_once(monkeypatch)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)  # made, and noted in the ledger
    ledger, delta = _ledgers(root)
    whole = ledger.read_bytes()
    _edit_notes(root, "Edited.")
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 1
    assert ledger.read_bytes() == whole
    noted = json.loads(delta.read_bytes())["files"]
    unit = {p.name for p in _bodies(root) if p.name not in json.loads(whole)["files"]}
    assert unit and set(noted) == unit
    # The next build trusts every page file by its stamp, those of the delta as the others.
    hashed = _hashing(monkeypatch)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0 and hashed == []
    assert ledger.read_bytes() == whole and json.loads(delta.read_bytes())["files"] == noted
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    fresh = copy_sample_show(tmp_path / "fresh")
    _edit_notes(fresh, "Edited.")
    publish(fresh, tmp_path / "cold", now=SAMPLE_NOW)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


@pytest.mark.parametrize("damage", ["garbage", "other version"])
def test_a_damaged_delta_only_makes_the_files_it_names_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    _settled_at_once(monkeypatch)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)
    _edit_notes(root, "Edited.")
    pipeline.build(root, now=SAMPLE_NOW)
    _ledger, delta = _ledgers(root)
    noted = json.loads(delta.read_bytes())["files"]
    if damage == "garbage":
        delta.write_bytes(b"{not json")
    else:
        delta.write_bytes(json.dumps({"version": 1, "files": noted}).encode())
    hashed = _hashing(monkeypatch)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0
    assert len(hashed) == len(noted)
    assert json.loads(delta.read_bytes())["files"] == noted


def test_the_ledger_is_written_whole_once_its_delta_is_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled_at_once(monkeypatch)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)
    ledger, delta = _ledgers(root)
    _edit_notes(root, "Edited.")
    pipeline.build(root, now=SAMPLE_NOW)
    assert delta.is_file()
    # Any delta is too large now: the ledger is written whole, with the new files, and the delta goes.
    monkeypatch.setattr(checkedfiles, "_DELTA_SHARE", 10**9)
    _edit_notes(root, "Edited twice.")
    pipeline.build(root, now=SAMPLE_NOW)
    assert not delta.exists()
    names = set(json.loads(ledger.read_bytes())["files"])
    assert names == {p.name for p in _bodies(root)}
    hashed = _hashing(monkeypatch)
    assert pipeline.build(root, now=SAMPLE_NOW).computed["pages"] == 0 and hashed == []
