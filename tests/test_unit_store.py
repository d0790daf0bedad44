"""Units kept in one checked store per kind, and the ledger that learns the files a build wrote.

A rebuild reads a few store files, not one file per unit; a damaged, cut, foreign or old store
(or one entry of it) is ignored and what it held made again, giving a cold build's bytes; the
units a build no longer uses go. The page files a build wrote are checked once when it ends,
so that the next build trusts them by stamp instead of reading every page again.
"""

from __future__ import annotations

import builtins
import functools
import gc
import hashlib
import json
import os
import shutil
import sys
import threading
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from entretiens import checkedfiles, checkedstore, dates, gcpause, pipeline, storetable, unitcache, unitstore, walks
from entretiens.content import QUICK_PARTS, same_path
from entretiens.errors import EntretiensError
from entretiens.output import Stored, content_bytes, file_sha256
from entretiens.publish import publish
from entretiens.storetable import key_bytes
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of

KINDS = ("checks", "items", "pages")


def _units(root: Path) -> Path:
    return root / unitcache.UNITS_DIR


def _bodies(root: Path, kind: str = "pages") -> set[str]:
    folder = _units(root) / kind
    return {p.name for p in folder.rglob("*") if p.is_file()}


def _computed(root: Path) -> dict[str, int]:
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert not built.errors
    return built.computed


def _cold(root: Path, dest: Path) -> dict[str, bytes]:
    """What a cold build of ``root``'s show in a fresh folder publishes."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(dest, now=SAMPLE_NOW)
    return files_of(dest / "public")


def _edit_summary(root: Path, text: str) -> None:
    path = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["summary"] = text
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    return root


def test_each_kind_is_one_store_and_a_rebuild_opens_no_file_per_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Page files count as settled at once: the cold build notes them, the rebuild trusts them.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    show = copy_sample_show(tmp_path / "show")
    publish(show, now=SAMPLE_NOW)
    units = _units(show)
    # The transcripts' checks and files too (the sample show has one), the guests page's entries,
    # and what the checks found each image to be.
    assert sorted(p.name for p in units.iterdir() if p.is_file() and p.suffix == ".store") == sorted(
        f"{kind}.store" for kind in (*KINDS, "guest-entries", "image-facts", "transcript-files", "transcripts")
    )
    # No unit file of its own: a stored kind keeps its pages' files, named after the unit.
    assert not (units / "checks").exists() and not (units / "items").exists()
    assert all("." in name for name in _bodies(show))
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def counting(file: object, *args: object, **kwargs: object) -> object:
        if isinstance(file, (str, Path)) and str(units) in str(file):
            opened.append(os.path.basename(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    def counting_os(path: object, *args: object, **kwargs: object) -> int:
        if isinstance(path, (str, Path)) and str(units) in str(path):
            opened.append(os.path.basename(path))
        return real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(os, "open", counting_os)
    assert _computed(show) == {"pages": 0, "checks": 0, "items": 0, "lint": 0}
    monkeypatch.undo()
    # The store and overlay of each kind, and the pages' ledger: never a unit's own file.
    assert opened
    assert {name.rsplit(".", 1)[-1] for name in opened} <= {"store", "overlay", "checked", "delta", "proof"}, opened


def _entry_offsets(path: Path) -> dict[str, tuple[int, int]]:
    reader = checkedstore.Reader(path, _form(path), store_version(path))
    try:
        # In the order written (the index is in the order of its keys' hashes).
        return dict(sorted(((key, (row[1], row[2])) for key, row in reader.index.items()), key=lambda item: item[1]))
    finally:
        reader.close()


def _form(path: Path) -> checkedstore.Format:
    return unitstore.STORED_FORMAT if path.name.startswith("pages.") else unitstore.FORMAT


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", KINDS)
def test_an_entry_that_no_longer_matches_its_digest_is_made_again_alone(show: Path, tmp_path: Path, kind: str) -> None:
    store = _units(show) / f"{kind}.store"
    entries = _entry_offsets(store)
    start, count = next(iter(entries.values()))
    _flip(store, start + count // 2)
    computed = _computed(show)
    assert computed[kind] == 1
    assert sum(computed[k] for k in KINDS) == 1
    # Kept anew, and the output is a cold build's.
    assert _computed(show)[kind] == 0
    shutil.rmtree(show / "public")
    publish(show, now=SAMPLE_NOW)
    assert files_of(show / "public") == _cold(show, tmp_path / "cold")


def _other_version(path: Path) -> None:
    # A whole, well-formed store written by other code.
    offsets = _entry_offsets(path)
    form = _form(path)
    reader = checkedstore.Reader(path, form, store_version(path))
    writer = checkedstore.Writer(path.parent, form)
    data = path.read_bytes()
    for key, (start, count) in offsets.items():
        body = data[start : start + count]
        writer.add(key, (), body, form.digest(body), head_json=reader.head_json(key_bytes(key)))
    reader.close()
    writer.finish(path, "another version")


def store_version(path: Path) -> str:
    version = checkedstore.version_of(path)
    assert isinstance(version, str)
    return version


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _first_form(path: Path) -> None:
    # The same entries, well formed, as version 1 of the formats wrote them: JSON names and sizes
    # before an entry's bytes (items, checks), JSON heads (pages).
    form = _form(path)
    reader = checkedstore.Reader(path, form, store_version(path))
    first = checkedstore.Format(
        magic=form.magic.replace(b" 2\n", b" 1\n"), tag_size=0, digest_size=64, prefix=".units.", heads=form.heads
    )
    writer = checkedstore.Writer(path.parent, first)
    for key in reader.names():
        body = reader.entry(key)
        assert body is not None
        if form.heads:
            head = unitstore.decode_head(reader.head_json(key_bytes(key)) or b"")
            assert head is not None
            writer.add(key, (), body, form.digest(body), [list(row) for row in head])
            continue
        found = unitstore.decode(body)
        assert found is not None
        files = {name: content for name, content in found.items() if isinstance(content, bytes)}
        names = json.dumps([[name, len(content)] for name, content in files.items()]).encode()
        old = b"".join([names, b"\n", *files.values()])
        writer.add(key, (), old, form.digest(old))
    reader.close()
    writer.finish(path, store_version(path))


DAMAGES = {
    "cut": lambda p: p.write_bytes(p.read_bytes()[:-100]),
    "index": lambda p: _flip(p, p.stat().st_size - 200),
    "foreign": lambda p: p.write_bytes(b"entretiens-units 1\n" + b"x" * 200),
    "empty": lambda p: p.write_bytes(b""),
    "fifo": lambda p: _fifo(p),
    "other code": _other_version,
    "first form": _first_form,
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_store_is_ignored_and_made_again(show: Path, tmp_path: Path, damage: str) -> None:
    for kind in KINDS:
        DAMAGES[damage](_units(show) / f"{kind}.store")
    computed = _computed(show)
    every = len(pipeline.build(show, now=SAMPLE_NOW, use_cache=False).releases)
    assert computed["items"] == every and computed["pages"] == every + 1
    assert _computed(show) == {"pages": 0, "checks": 0, "items": 0, "lint": 0}
    shutil.rmtree(show / "public")
    publish(show, now=SAMPLE_NOW)
    assert files_of(show / "public") == _cold(show, tmp_path / "cold")


def test_an_edit_goes_to_the_overlay_and_the_old_unit_goes(show: Path, tmp_path: Path) -> None:
    units = _units(show)
    stores = {kind: (units / f"{kind}.store").read_bytes() for kind in KINDS}
    bodies = _bodies(show)
    _edit_summary(show, "An edited summary.")
    publish(show, now=SAMPLE_NOW)
    # The store is left as it is: the edited episode's units are in the overlays.
    assert {kind: (units / f"{kind}.store").read_bytes() for kind in KINDS} == stores
    assert all((units / f"{kind}.overlay").is_file() for kind in KINDS)
    # The edited episode's old page files went; as many are kept as before.
    now = _bodies(show)
    assert now != bodies and len(now) == len(bodies)
    _edit_summary(show, "Edited again.")
    publish(show, now=SAMPLE_NOW)
    assert len(_bodies(show)) == len(bodies)
    assert files_of(show / "public") == _cold(show, tmp_path / "cold")
    assert _computed(show) == {"pages": 0, "checks": 0, "items": 0, "lint": 0}


def test_a_store_rewritten_holds_only_the_units_in_use(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every edit rewrites the store (the overlay is always "large").
    monkeypatch.setattr(checkedstore, "OVERLAY_MIN", 0)
    monkeypatch.setattr(checkedstore, "OVERLAY_SHARE", 10**6)
    before = {kind: set(_entry_offsets(_units(show) / f"{kind}.store")) for kind in KINDS}
    _edit_summary(show, "An edited summary.")
    publish(show, now=SAMPLE_NOW)
    for kind in KINDS:
        assert not (_units(show) / f"{kind}.overlay").exists()
        after = set(_entry_offsets(_units(show) / f"{kind}.store"))
        # The same number of units, one of them new (the pages: the edited episode's only).
        assert len(after) == len(before[kind]) and len(after - before[kind]) == 1, kind
    # Every page file left is one of a unit in the store.
    pages = set(_entry_offsets(_units(show) / "pages.store"))
    assert {name.partition(".")[0] for name in _bodies(show)} == pages
    assert files_of(show / "public") == _cold(show, tmp_path / "cold")


def test_unit_files_of_the_old_layout_are_removed(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    for kind in ("checks", "pages"):
        old = _units(root) / kind / "ab" / ("ab" + "0" * 62)
        old.parent.mkdir(parents=True)
        old.write_bytes(b"entretiens-unit 1\n{}\n")
    publish(root, now=SAMPLE_NOW)
    assert not any(p.is_file() for p in (_units(root) / "checks").rglob("*"))
    assert all("." in name for name in _bodies(root))


def _counting_hashes(monkeypatch: pytest.MonkeyPatch, folder: Path | None = None) -> list[str]:
    """The files hashed through the ledgers from now on (those under ``folder`` only, if given)."""
    hashed: list[str] = []

    def counting(handle: int) -> str:
        name = os.readlink(f"/proc/self/fd/{handle}")
        if folder is None or name.startswith(str(folder)):
            hashed.append(name)
        return file_sha256(handle)

    monkeypatch.setattr(checkedfiles, "file_sha256", counting)
    return hashed


def test_the_first_rebuild_after_a_cold_build_reads_no_page_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file counts as settled at once (RACY_NS 0): the cold build checks what it wrote
    # when it ends, so that the next build trusts every page file by its stamp.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)
    hashed = _counting_hashes(monkeypatch, _units(root))
    assert _computed(root)["pages"] == 0
    assert hashed == [], "a page file the cold build wrote was read again"


def test_a_page_file_written_just_now_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Files a build wrote less than the margin ago (0.1 s, 2 s on coarse times; here longer than
    # the build) are not trusted by stamp yet: a change within the same timestamp tick would
    # not show in it.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 60_000_000_000)
    monkeypatch.setattr(walks, "RACY_NS", 60_000_000_000)
    root = copy_sample_show(tmp_path / "show")
    pipeline.build(root, now=SAMPLE_NOW)
    hashed = _counting_hashes(monkeypatch, _units(root))
    assert _computed(root)["pages"] == 0
    # The pages' files, and the sample transcript's (its copy, SRT and JSON), each read once.
    assert len(hashed) == len(_bodies(root)) + len(_bodies(root, "transcript-files")) == len(_bodies(root)) + 3


def test_the_ledger_checks_what_it_is_told_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    good, changed, gone = tmp_path / "good.0", tmp_path / "changed.0", tmp_path / "gone.0"
    for path in (good, changed, gone):
        path.write_bytes(b"as written")
    digest = file_sha256(good)
    ledger = checkedfiles.Checked(tmp_path / "ledger.json")
    for path in (good, changed, gone):
        ledger.wrote(path, len(b"as written"), digest)
    changed.write_bytes(b"as changed")  # after the write, before the ledger was kept
    gone.unlink()
    ledger.save()
    files = json.loads((tmp_path / "ledger.json").read_bytes())["files"]
    assert sorted(files) == ["good.0"]
    # The file changed is read by the next build, and found wrong.
    again = checkedfiles.Checked(tmp_path / "ledger.json")
    hashed = _counting_hashes(monkeypatch)
    assert again.holds(good, len(b"as written"), digest)
    assert hashed == []
    assert not again.holds(changed, len(b"as written"), digest)
    assert len(hashed) == 1


@pytest.mark.parametrize("entry", [7, "x", None, [4], [4, 0, 0, 0, "d", 1], {"size": 4}, "4 0 0 0 d"])
def test_a_forged_ledger_entry_is_only_a_reason_to_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: object
) -> None:
    # The ledger is JSON from the show folder: an entry of any shape makes the file read.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    path = tmp_path / "page.0"
    path.write_bytes(b"page")
    (tmp_path / "ledger.json").write_text(json.dumps({"version": 1, "files": {"page.0": entry}}))
    digest = file_sha256(path)
    ledger = checkedfiles.Checked(tmp_path / "ledger.json")
    hashed = _counting_hashes(monkeypatch)
    assert ledger.holds(path, 4, digest)
    assert not ledger.holds(path, 4, "0" * 64)
    assert len(hashed) == 2  # read each time, never trusted


def test_a_kept_page_s_path_is_the_one_its_text_names(tmp_path: Path) -> None:
    # Made from its bucket's path and its name (cheaper on Python 3.10 and 3.11): the same path.
    bodies = unitstore.Bodies(tmp_path / "pages")
    (tmp_path / "pages" / "ab").mkdir(parents=True)
    made = bodies.stored("abcd", "abcd.2", "0" * 64, 3, "m")
    text = bodies.text("abcd", 2)
    assert type(made) is Stored
    assert (str(made), made.parts, made.name, made.parent) == (text, Stored(text).parts, "abcd.2", Path(text).parent)
    assert made == Stored(text) and hash(made) == hash(Stored(text))
    assert (made.sha256, made.size, made.marks) == ("0" * 64, 3, "m")
    made.write_bytes(b"abc")
    assert Path(text).read_bytes() == b"abc"
    # The bucket's own path is not changed by its children.
    assert bodies.stored("abef", "abef.0", "1" * 64, 1, None).name == "abef.0"


def test_a_kept_unit_s_files_are_the_paths_their_texts_name(tmp_path: Path) -> None:
    # Read back from its head: each file made from its bucket's parts (Python 3.10, 3.11), the
    # very path parsing its text makes, with its size, digest and marks as kept.
    assert QUICK_PARTS is (sys.version_info < (3, 12))
    bodies = unitstore.Bodies(tmp_path / "pages")
    (tmp_path / "pages" / "ab").mkdir(parents=True)
    texts = {"a/index.html": b"<p>page</p>", "a/notes.md": b"notes", "#entry": b"<li>entry</li>"}
    marks = {"a/index.html": f"{hashlib.sha256(texts['a/index.html']).hexdigest()} 1 2", "a/notes.md": "as is"}
    entry = unitstore.write_stored(tmp_path / "pages", "abcd", texts, lambda _files: marks)
    assert entry is not None
    split = unitstore.split_stored(entry)
    assert split is not None
    files = unitstore.decode_stored(bodies, "abcd", *split, checkedfiles.Checked(None), check=True)
    assert files is not None
    assert files["#entry"] == b"<li>entry</li>"
    for number, name in enumerate(["a/index.html", "a/notes.md"]):
        made, text = files[name], bodies.text("abcd", number)
        assert isinstance(made, Stored)
        assert same_path(made, Stored(text)) and same_path(made.parent, Stored(text).parent)
        digest = hashlib.sha256(texts[name]).hexdigest()
        assert (made.sha256, made.size, made.marks) == (digest, len(texts[name]), marks[name])
        assert made.read_bytes() == texts[name]


def _given(marks: dict[str, str], _files: Mapping[str, bytes]) -> dict[str, str]:
    return marks


def _held_per_file(folder: Path, pages: dict[str, bytes], marks: Callable[[str], str]) -> tuple[float, list[Stored]]:
    """The memory held by the kept files of one-page units read back, per file, and the files."""
    bodies = unitstore.Bodies(folder)
    heads = []
    for number, (name, page) in enumerate(pages.items()):
        noted = {name: marks(hashlib.sha256(page).hexdigest())}
        entry = unitstore.write_stored(folder, f"{number:064x}", {name: page}, functools.partial(_given, noted))
        split = None if entry is None else unitstore.split_stored(entry)
        assert split is not None
        heads.append((f"{number:064x}", *split))
    checked = checkedfiles.Checked(None)
    assert unitstore.decode_stored(bodies, *heads[0], checked, check=False) is not None
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        units = [unitstore.decode_stored(bodies, *head, checked, check=False) for head in heads]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    files = [file for unit in units if unit is not None for file in unit.values()]
    assert all(isinstance(file, Stored) for file in files)
    return held / len(pages), files  # type: ignore[return-value]


def test_a_kept_page_holds_its_digest_once_in_its_marks(tmp_path: Path) -> None:
    # 30,000 kept files at 10,000 episodes, held through the build: the digest a page's marks
    # start with (dates.fingerprints) is not held a second time as a text of its own, as it is
    # for marks of the same length that do not start with it.
    pages = {f"{number}/index.html": b"<p>page %d</p>" % number for number in range(300)}
    after, files = _held_per_file(tmp_path / "after", pages, lambda digest: f"{digest} {digest} x")
    apart, others = _held_per_file(tmp_path / "apart", pages, lambda digest: f"{digest}-{digest} x")
    for (name, page), made, other in zip(pages.items(), files, others, strict=True):
        digest = hashlib.sha256(page).hexdigest()
        assert (made.sha256, made.marks, made.size) == (digest, f"{digest} {digest} x", len(page))
        assert (other.sha256, other.marks) == (digest, f"{digest}-{digest} x")
        assert made.read_bytes() == other.read_bytes() == page
        assert str(made).endswith(".0") and made.name.startswith(f"{list(pages).index(name):064x}")
    # A text of 64 characters: ~113 bytes.
    assert apart - after > 80, (apart, after)


def test_the_ledger_holds_one_text_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 40,000 page files at 10,000 episodes: a list of five values each held 23 MiB through a build.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)  # the rule of every stamp (walks.settled)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    ledger = checkedfiles.Checked(tmp_path / "ledger.json")
    for number in range(500):
        path = tmp_path / f"{number:064x}.{number % 4}"
        path.write_bytes(b"page %d" % number)
        ledger.wrote(path, path.stat().st_size, file_sha256(path))
    ledger.save()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        again = checkedfiles.Checked(tmp_path / "ledger.json")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(json.loads((tmp_path / "ledger.json").read_bytes())["files"]) == 500
    # A name (66 characters), its stamp as one text (about 170), the dict's slot: about 330 bytes (a list: 470).
    assert held < 400 * 500, held
    path = tmp_path / f"{7:064x}.3"
    assert again.holds(path, path.stat().st_size, file_sha256(path))


def test_a_file_too_recent_is_not_kept_in_the_ledger(tmp_path: Path) -> None:
    # Written now: its stamp may not move with its next change (same tick), so it is not kept.
    path = tmp_path / "page.0"
    path.write_bytes(b"page")
    ledger = checkedfiles.Checked(tmp_path / "ledger.json")
    ledger.wrote(path, 4, file_sha256(path))
    assert ledger.holds(path, 4, file_sha256(path))
    ledger.save()
    assert not (tmp_path / "ledger.json").exists()


def test_a_unit_a_worker_left_damaged_is_made_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Workers hand their entries over in files of their own: one that does not check out (a
    # worker killed while writing it) is made in this process, where an error would be raised.
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache._can_fork():
        pytest.skip("one core, or no fork: units are made in one process")
    parent = os.getpid()
    here: list[int] = []
    real = unitcache._read_spilled

    def damaging(spilled: unitcache.Spilled) -> bytes | None:
        # The entry of unit 3 (the only one holding "unit 3") loses a byte where it was written.
        path, offset, length, _sha256 = spilled
        with open(path, "r+b") as spill:
            spill.seek(offset)
            data = spill.read(length)
            if data.endswith(b"unit 3"):
                spill.seek(offset + length - 1)
                spill.write(b"4")
        return real(spilled)

    monkeypatch.setattr(unitcache, "_read_spilled", damaging)

    def maker(index: int) -> Callable[[], dict[str, bytes]]:
        def make() -> dict[str, bytes]:
            if os.getpid() == parent:
                here.append(index)
            return {"unit": f"unit {index}".encode()}

        return make

    units = unitcache.Units(tmp_path, "checks", version="test")
    requests: list[unitcache.Request] = [((index,), maker(index), ()) for index in range(12)]
    assert units.get_many(requests) == [{"unit": f"unit {index}".encode()} for index in range(12)]
    assert here == [3]
    units.prune()
    assert not list((tmp_path / unitcache.UNITS_DIR).glob(".spill-*"))
    again = unitcache.Units(tmp_path, "checks", version="test")
    assert again.get_many(requests) == [{"unit": f"unit {index}".encode()} for index in range(12)]
    assert again.computed == 0


@pytest.mark.parametrize("start", ["cold", "edit"])
def test_the_units_of_a_build_that_stopped_early_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    root = copy_sample_show(tmp_path / "show")
    if start == "edit":
        publish(root, now=SAMPLE_NOW)
        _edit_summary(root, "Edited before a build that stops.")

    def stopped(*args: object, **kwargs: object) -> object:
        raise EntretiensError("the files could not be dated")

    # The pages and items are made, then the build stops (as when build_files raises).
    monkeypatch.setattr(dates, "stamp", stopped)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert [p.message for p in built.problems if p.rule == "build-error"] == ["the files could not be dated"]
    monkeypatch.undo()
    assert not list(_units(root).glob(".*.tmp"))
    # What it made is read back, and nothing it did not ask for was dropped.
    computed = _computed(root)
    assert (computed["pages"], computed["items"], computed["checks"]) == (0, 0, 0)
    publish(root, now=SAMPLE_NOW)
    assert files_of(root / "public") == _cold(root, tmp_path / "cold")


def test_kept_problems_are_read_once_per_text(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Most episodes have no problem of their own: their kept "[]" is decoded once, not twice an episode.
    cold = pipeline.build(show, now=SAMPLE_NOW, use_cache=False)
    texts: list[bytes] = []

    class Counting:
        dumps = staticmethod(json.dumps)

        @staticmethod
        def loads(text: bytes) -> object:
            texts.append(text)
            return json.loads(text)

    monkeypatch.setattr(pipeline, "json", Counting)
    built = pipeline.build(show, now=SAMPLE_NOW)
    monkeypatch.undo()
    assert built.computed["checks"] == 0
    assert len(built.checked) >= 3 and texts.count(b"[]") == 1
    assert len(texts) == len(set(texts))
    # The same problems, in the same order, as made afresh.
    assert built.problems == cold.problems


def test_a_checks_entry_many_episodes_share_is_decoded_once(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks of the episodes with no problem are the same few bytes: read and decoded once.
    data = (_units(show) / "checks.store").read_bytes()
    distinct = {data[start : start + count] for start, count in _entry_offsets(_units(show) / "checks.store").values()}
    assert len(distinct) < len(_entry_offsets(_units(show) / "checks.store"))
    decoded: list[object] = []
    real = unitstore.decode

    def counting(entry: bytes) -> object:
        found = real(entry)
        if found is not None and set(found) == {"remote", "own"}:
            decoded.append(found)
        return found

    monkeypatch.setattr(unitcache, "decode", counting)
    assert _computed(show)["checks"] == 0
    assert len(decoded) == len(distinct)


def test_kept_items_and_checks_are_read_back_without_a_json_decode(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An entry's names and sizes are split, not JSON-decoded (before: one decode per kept item,
    # and per distinct checks entry, at every build).
    entries: list[bytes] = []
    real = json.loads

    def counting(text: bytes | str) -> object:
        entries.append(text if isinstance(text, bytes) else text.encode())
        return real(text)

    monkeypatch.setattr(json, "loads", counting)
    built = pipeline.build(show, now=SAMPLE_NOW)
    monkeypatch.undo()
    assert built.computed["items"] == built.computed["checks"] == 0
    assert not [text for text in entries if text.startswith((b'[["item"', b'[["remote"'))]
    assert built.problems == pipeline.build(show, now=SAMPLE_NOW, use_cache=False).problems


def test_an_entry_gives_back_what_it_was_given() -> None:
    for files in ({}, {"item": b"<item/>"}, {"remote": b"[]", "own": b""}, {"a\nb \udcff": b"x", "#c": b"\0\n"}):
        entry = unitstore.encode(files)
        assert entry is not None and unitstore.decode(entry) == files
    assert unitstore.encode({"a\0b": b"x"}) is None
    for bad in (
        b"",
        b"x\n",
        b"3\nab\0",
        b"4\nab\0x\0",
        b"4\nab\0-1\0",
        b"5\nab\x002\0x",
        b"6\n\xff\x001\0x",
        b"4\nab\x002\0xyz",
    ):
        assert unitstore.decode(bad) is None, bad


def test_only_the_keys_of_the_units_not_found_are_decoded_at_close(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stored kind removes the files of the units no longer in use: it decodes the keys of the
    # entries the build did not find, not every key of the store (before: every one, each build).
    decoded: list[str] = []
    closing = [False]
    real_key, real_unused = storetable.Table.key, checkedstore.Store.unused

    def key(table: storetable.Table, number: int) -> str:
        found = real_key(table, number)
        if closing[0]:
            decoded.append(found)
        return found

    def unused(store: checkedstore.Store, used: set[str]) -> set[str]:
        closing[0] = True
        try:
            return real_unused(store, used)
        finally:
            closing[0] = False

    monkeypatch.setattr(storetable.Table, "key", key)
    monkeypatch.setattr(checkedstore.Store, "unused", unused)
    assert _computed(show)["pages"] == 0
    assert decoded == []
    before = _bodies(show)
    _edit_summary(show, "An edited summary.")
    assert _computed(show)["pages"] == 1
    # The edited episode's old page unit, alone; its files went, its new unit's came.
    assert len(decoded) == 1
    assert not any(name.startswith(decoded[0]) for name in _bodies(show))
    assert len(_bodies(show)) == len(before)
    monkeypatch.undo()
    shutil.rmtree(show / "public")
    publish(show, now=SAMPLE_NOW)
    assert files_of(show / "public") == _cold(show, tmp_path / "cold")


def test_kept_units_are_handed_on_as_read_not_copied_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A kept unit of a kind that is not stored is handed on as the dict read back (before: copied
    # once more, each kept item and checks unit at every build); units sharing an entry's bytes
    # still get a dict each.
    def request(number: int) -> unitcache.Request:
        files = {"item": b"<item>%d</item>" % number if number < 3 else b"[]", "own": b""}
        return ((number,), lambda: dict(files), ())

    made = unitcache.Units(tmp_path, "items", version="v")
    first = made.get_many([request(n) for n in range(6)])
    made.prune()
    read: list[object] = []
    real = unitcache.Units._read

    def recording(units: unitcache.Units, key: str) -> object:
        found = real(units, key)
        read.append(found)
        return found

    monkeypatch.setattr(unitcache.Units, "_read", recording)
    kept = unitcache.Units(tmp_path, "items", version="v")
    again = kept.get_many([request(n) for n in range(6)])
    monkeypatch.undo()
    assert kept.computed == 0 and again == first
    assert all(unit is found for unit, found in zip(again, read, strict=True))
    assert len({id(unit) for unit in again}) == 6
    again[3]["own"] = b"changed"
    assert again[4] == first[4]


def test_kept_units_are_read_back_paused_and_held_made_ones_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a build reads back lives as long as the build: read with the collector paused and held
    # out of its passes (gcpause) as the read ends, or its passes walked it again and again (a
    # tenth of the site's CPU after one edit of 10,000 episodes). A unit made runs with the
    # collector on (a worker forked then would inherit a pause).
    def request(number: int) -> unitcache.Request:
        return ((number,), lambda: {"page.html": b"<p>%d</p>" % number}, ())

    made = unitcache.Units(tmp_path, "pages", version="v", stored=True)
    made.get_files([request(n) for n in range(4)])
    made.prune()
    seen: list[tuple[str, bool]] = []
    real = unitcache.Units._read

    def recording(units: unitcache.Units, key: str) -> object:
        seen.append(("read", gc.isenabled()))
        return real(units, key)

    def make() -> dict[str, bytes]:
        seen.append(("make", gc.isenabled()))
        return {"page.html": b"<p>new</p>"}

    monkeypatch.setattr(unitcache.Units, "_read", recording)
    held: list[bool] = []

    @gcpause.thawed
    def build() -> list[bytes]:
        kept = unitcache.Units(tmp_path, "pages", version="v", stored=True)
        found = kept.get_files([request(n) for n in range(4)] + [((9,), make, ())])
        pages = [unit["page.html"] for unit in found[:4]]
        tracked = {id(value) for value in gc.get_objects()}
        # Frozen: tracked, yet in none of the collector's generations.
        held.extend(isinstance(page, Stored) and gc.is_tracked(page) and id(page) not in tracked for page in pages)
        return [content_bytes(unit["page.html"]) for unit in found]

    assert build() == [b"<p>%d</p>" % n for n in range(4)] + [b"<p>new</p>"]
    assert seen == [("read", False)] * 5 + [("make", True)]
    assert held == [True] * 4
    assert gc.isenabled() and gc.get_freeze_count() == 0
