"""The output's walk proved from the folders' stamps: a folder whose stamp still holds (and had
settled) is not listed again, and the walk finds exactly what a plain walk finds, hand changes
included; the no-change check (``walks.holds``) says the same as comparing a plain walk."""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from entretiens import buildrecord, inplace, output, walks
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, cold_output, copy_sample_show, files_of

#: Longer than a timestamp tick (10 ms at most on Linux): a change after it has other times.
_A_TICK_LATER = 0.05


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps settle as soon as taken (the real window is 0.1 s or 2 s after a change)."""
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    monkeypatch.setattr(walks, "RACY_NS", 0)


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The folders listed from now on (os.scandir still runs)."""
    found: list[str] = []
    scandir = os.scandir

    def counted(path: str) -> object:
        found.append(str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    yield found


def _tree(out: Path) -> None:
    for folder in ("a/sub", "b", "c", "d", "f", "empty"):
        (out / folder).mkdir(parents=True)
    for name in ("top.txt", "a/one", "a/sub/two", "b/x", "b/y", "c/y", "d/z", "f/g"):
        (out / name).write_bytes(name.encode())


def _hand_changes(out: Path, tmp_path: Path) -> None:
    """Every change a person (or another program) can make in an output folder."""
    (out / "a" / "sub" / "added").write_bytes(b"new")  # an entry added: a/sub/ moves
    (out / "b" / "x").unlink()  # removed: b/ moves
    with (out / "c" / "y").open("ab") as stream:  # written in place: no folder moves
        stream.write(b" and more")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "d", elsewhere)  # a folder replaced by a link to it: not entered
    (out / "d").symlink_to(elsewhere, target_is_directory=True)
    (out / "e").mkdir()  # a new folder, with a file
    (out / "e" / "new").write_bytes(b"new")
    (out / "f" / "g").unlink()  # a file replaced by a folder of the same name
    (out / "f" / "g").mkdir()
    (out / "f" / "g" / "h").write_bytes(b"h")


@pytest.mark.usefixtures("settled_at_once")
def test_only_folders_whose_stamp_moved_are_listed_and_the_walk_is_the_same(tmp_path: Path, listed: list[str]) -> None:
    out = tmp_path / "public"
    _tree(out)
    since = time.time_ns()
    known = walks.outputs(out)
    top = str(out.resolve())
    listed.clear()
    # Nothing changed: only the top folder is listed (its own stamp is not recorded).
    assert walks.outputs(out, known, since) == known
    assert listed == [top]
    listed.clear()
    assert walks.holds(out, known, since)
    assert listed == [top]
    time.sleep(_A_TICK_LATER)
    _hand_changes(out, tmp_path)
    plain = walks.outputs(out)
    listed.clear()
    assert walks.outputs(out, known, since) == plain
    # The top folder, and those an entry was added to or removed from (and the new one).
    assert sorted(listed) == sorted(f"{top}/{name}" if name else top for name in ("", "a/sub", "b", "e", "f", "f/g"))
    assert plain["c/y"] != known["c/y"]  # edited in place: found by its own stamp
    assert "d/z" not in plain and "d/" not in plain and "f/g/h" in plain
    assert not walks.holds(out, known, since)
    assert walks.holds(out, plain, time.time_ns())


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize("change", ["added", "removed", "in place", "top"])
def test_the_no_change_check_sees_each_change(tmp_path: Path, change: str) -> None:
    out = tmp_path / "public"
    _tree(out)
    since = time.time_ns()
    known = walks.outputs(out)
    time.sleep(_A_TICK_LATER)
    if change == "added":
        (out / "a" / "sub" / "added").write_bytes(b"new")
    elif change == "removed":
        (out / "b" / "x").unlink()
    elif change == "in place":
        before = (out / "c" / "y").stat()
        (out / "c" / "y").write_bytes(b"C/Y")  # same size, mtime put back: the ctime moved
        os.utime(out / "c" / "y", ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        (out / "new.txt").write_bytes(b"new")
    assert walks.outputs(out) != known
    assert not walks.holds(out, known, since)
    assert walks.outputs(out, known, since) == walks.outputs(out)


def test_a_folder_whose_stamp_had_not_settled_is_listed(tmp_path: Path, listed: list[str]) -> None:
    # Stamped within a tick of its last change, a folder could take another entry with the
    # same times: it proves nothing, and is listed (here all of them: just written).
    out = tmp_path / "public"
    _tree(out)
    since = time.time_ns()
    known = walks.outputs(out)
    folders = [name for name in known if name.endswith("/")]
    listed.clear()
    assert walks.outputs(out, known, since) == known
    assert len(listed) == 1 + len(folders)
    listed.clear()
    assert walks.holds(out, known, since)
    assert len(listed) == 1 + len(folders)
    # Unknown (an older record): the folder is walked as before.
    listed.clear()
    assert walks.holds(out, known, None)
    assert len(listed) == 1 + len(folders)


@pytest.mark.usefixtures("settled_at_once")
def test_a_publish_after_hand_changes_lists_only_the_changed_folders_and_mends_them(
    tmp_path: Path, listed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # written in place, as a large show's edit
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    kept = buildrecord.kept(root, out)
    assert kept is not None and kept.since is not None
    folders = [name for name in kept.stats if name.endswith("/")]
    time.sleep(_A_TICK_LATER)
    page = next(p for p in sorted(out.glob("*/index.html")))
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>defaced</p></body>"))  # in place
    stray = next(p for p in sorted(out.glob("*/")) if p.is_dir()) / "stray.html"
    stray.write_bytes(b"not ours")
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
    listed.clear()
    publish(root, now=SAMPLE_NOW)
    walked = [path for path in listed if path.startswith(str(out.resolve()))]
    assert len(walked) < len(folders) // 2  # the others proved by their stamps
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(cold, now=SAMPLE_NOW)
    assert files_of(out) == files_of(cold / "public")
    # The record it leaves is the folder as a plain walk finds it, and says when it was taken.
    again = buildrecord.kept(root, out)
    assert again is not None and again.stats == walks.outputs(out) and again.since is not None


def test_a_record_without_a_walk_time_or_a_wrong_one_proves_no_folder(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    record = root / buildrecord.RECORD
    document = json.loads(record.read_text(encoding="utf-8"))
    kept = buildrecord.kept(root, out)
    assert kept is not None and type(kept.since) is int
    later = time.time_ns() + 3_600_000_000_000  # a record from the future (a clock put back, a forged one)
    wrong = ("soon", 1.5, True, -1, later)
    for named in (document["ledger"][:2], *([*document["ledger"][:2], value] for value in wrong)):
        record.write_text(json.dumps({**document, "ledger": named}), encoding="utf-8")
        again = buildrecord.kept(root, out)
        assert again is not None and again.since is None and again.stats == kept.stats


@pytest.mark.parametrize("edited", [False, True])
def test_an_empty_folder_added_by_hand_goes_at_the_next_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: bool
) -> None:
    # A cold build has no empty folder; a publish that wrote nothing (or wrote in place) kept
    # one made by hand, for good. Nested ones go with the folders they leave empty.
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # an edit is written in place, as a large show's
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    page_folder = next(p for p in sorted(out.iterdir()) if p.is_dir())
    (page_folder / "stray").mkdir()
    (out / "a" / "b" / "c").mkdir(parents=True)
    (out / "a" / "d").mkdir()
    if edited:
        episode = root / "episodes" / "003-massimo-fubini.yaml"
        data = yaml.safe_load(episode.read_text(encoding="utf-8"))
        episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
    report = publish(root, now=SAMPLE_NOW).report
    assert report is not None and bool(report.written) == edited
    assert not (page_folder / "stray").exists() and not (out / "a").exists()
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(cold, now=SAMPLE_NOW)
    assert _entries(out) == _entries(cold / "public") and files_of(out) == files_of(cold / "public")
    # The record it leaves is the folder as a plain walk finds it.
    again = buildrecord.kept(root, out)
    assert again is not None and again.stats == walks.outputs(out)


def _entries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.usefixtures("settled_at_once")
def test_the_walk_names_the_empty_folders_listed_or_recorded(tmp_path: Path, listed: list[str]) -> None:
    out = tmp_path / "out"
    _tree(out)  # "empty/" among them
    (out / "a" / "hollow" / "deep").mkdir(parents=True)
    since = time.time_ns()
    empty: list[str] = []
    known = walks.outputs(out, empty=empty)
    assert sorted(empty) == ["a/hollow/deep/", "empty/"]  # a/hollow/ holds a folder
    # The same from the record: the folders proved by their stamps are not listed again.
    time.sleep(_A_TICK_LATER)
    listed.clear()
    again: list[str] = []
    assert walks.outputs(out, known, since, again) == known
    assert sorted(again) == ["a/hollow/deep/", "empty/"]
    assert str(out / "empty") not in listed and str(out / "a" / "hollow" / "deep") not in listed


class _CoarseEntry:
    """An entry of a listing, stamped as :func:`_coarse_under` stamps it."""

    def __init__(self, entry: os.DirEntry[str], floor: Callable[[os.stat_result], os.stat_result]) -> None:
        self._entry, self._floor = entry, floor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)

    def __fspath__(self) -> str:
        return self._entry.path

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return self._floor(self._entry.stat(follow_symlinks=follow_symlinks))


class _CoarseListing:
    def __init__(self, listing: Any, floor: Callable[[os.stat_result], os.stat_result]) -> None:
        self._listing, self._floor = listing, floor

    def __enter__(self) -> _CoarseListing:
        return self

    def __exit__(self, *exc: object) -> None:
        self._listing.close()

    def __iter__(self) -> Iterator[_CoarseEntry]:
        return self

    def __next__(self) -> _CoarseEntry:  # os.walk asks for the entries one at a time
        return _CoarseEntry(next(self._listing), self._floor)

    def close(self) -> None:
        self._listing.close()


def _coarse_under(monkeypatch: pytest.MonkeyPatch, folder: Path, tick_ns: int) -> None:
    """The files and folders under ``folder`` stamped as a file system with coarse times stamps
    them (ext3 and some network mounts: whole seconds; FAT: 2 s): mtime and ctime in whole
    ``tick_ns``, through ``os.stat``, ``os.lstat`` and the entries ``os.scandir`` lists. The
    rest of the disk is left as it is."""
    tops = {str(folder), str(folder.resolve())}
    real_stat, real_lstat, real_scandir = os.stat, os.lstat, os.scandir

    def under(path: object) -> bool:
        if not isinstance(path, (str, os.PathLike)):
            return False
        name = os.fspath(path)
        return isinstance(name, str) and any(name == top or name.startswith(top + "/") for top in tops)

    def floor(status: os.stat_result) -> os.stat_result:
        mtime, ctime = (ns - ns % tick_ns for ns in (status.st_mtime_ns, status.st_ctime_ns))
        extra = {field: getattr(status, field) for field in dir(status) if field.startswith("st_")}
        extra.update(st_mtime=mtime / 1e9, st_ctime=ctime / 1e9, st_mtime_ns=mtime, st_ctime_ns=ctime)
        return os.stat_result((*status[:8], mtime // 10**9, ctime // 10**9), extra)

    def stat_(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        status = real_stat(path, *args, **kwargs)
        return floor(status) if under(path) else status

    def lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        status = real_lstat(path, *args, **kwargs)
        return floor(status) if under(path) else status

    def scandir(path: Any = ".") -> Any:
        listing = real_scandir(path)
        return _CoarseListing(listing, floor) if under(path) else listing

    monkeypatch.setattr(os, "stat", stat_)
    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(os, "scandir", scandir)


def test_on_coarse_times_a_file_rewritten_in_the_second_of_its_stamp_is_not_proven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Times in whole seconds: a file rewritten by hand (or by another program) at the same size
    # within the second of the write the ledger recorded keeps its stamp. Recorded within that
    # tick, the stamp proves nothing (by the stamp alone, the output held, the change unseen).
    out = tmp_path / "public"
    _tree(out)
    _coarse_under(monkeypatch, out, 10**9)
    for _attempt in range(20):
        (out / "c" / "y").write_bytes(b"c/y")
        since = time.time_ns()
        known = walks.outputs(out)
        (out / "c" / "y").write_bytes(b"C/Y")  # in place, the same size
        if walks.outputs(out) == known:
            break  # in the same second: the same stamp
    else:
        pytest.fail("no two writes within one second")
    assert walks.coarse(known["c/y"])
    assert not walks.holds(out, known, since)
    assert not walks.holds(out, known, None)
    assert walks.outputs(out, known, since) == known  # the walk finds the same: the write reads it back


def test_on_coarse_times_a_stamp_recorded_a_tick_after_its_write_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settled when recorded: any later change moves its time to a later second.
    out = tmp_path / "public"
    _tree(out)
    _coarse_under(monkeypatch, out, 10**9)
    time.sleep(walks.RACY_NS / 1e9 + _A_TICK_LATER)
    since = time.time_ns()
    known = walks.outputs(out)
    assert all(walks.coarse(stamp) for stamp in known.values())
    assert walks.holds(out, known, since)
    # Recorded at an unknown moment (an older record): not proven.
    assert not walks.holds(out, known, None)


def test_a_page_rewritten_in_the_second_of_the_write_on_coarse_times_is_mended_by_the_next_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # public/ on a file system whose times move once every 100,000 s (a tick that the whole test
    # falls in; the window of coarse times, walks.RACY_NS, covers it, as its 2 s cover FAT's):
    # a page defaced by hand at the same size, its mtime put back, keeps the stamp the publish
    # recorded. The next publish does not take the output as unchanged: it mends the page.
    tick = 100_000 * 10**9
    monkeypatch.setattr(walks, "RACY_NS", tick)
    root = copy_sample_show(tmp_path / "show")
    out = root / "public"
    _coarse_under(monkeypatch, out, tick)
    publish(root, now=SAMPLE_NOW)
    page = sorted(out.glob("*/index.html"))[0]
    data = page.read_bytes()
    before = os.stat(page)
    at = data.index(b"<title>") + len(b"<title>")
    page.write_bytes(data[:at] + b"Defaced" + data[at + len(b"Defaced") :])
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    kept = buildrecord.kept(root, out)
    after = os.stat(page)
    assert kept is not None
    assert kept.stats[page.relative_to(out).as_posix()] == (
        after.st_size,
        after.st_mtime_ns,
        after.st_ctime_ns,
        after.st_ino,
    )
    # What `entretiens publish` asks first: not up to date (its stamp had not settled).
    assert buildrecord.unchanged(root, None) is None
    publish(root, now=SAMPLE_NOW)
    assert files_of(out) == cold_output(root, tmp_path / "cold")


def test_a_small_file_is_read_without_reserving_the_most_it_may_hold(tmp_path: Path) -> None:
    """A record of a few bytes costs a few bytes: a read sized by the bound reserved a gigabyte
    each time, which a machine without overcommit (or under `ulimit -v`) refuses."""
    small = tmp_path / "record.json"
    small.write_bytes(b'{"a": 1}')
    tracemalloc.start()
    try:
        assert walks.read_regular(small) == b'{"a": 1}'
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_file_that_grew_since_it_was_measured_is_read_whole_or_refused_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grown = tmp_path / "ledger.json"
    grown.write_bytes(bytes(range(256)) * 20_000)  # 5,120,000 bytes: more than one chunk
    measured = os.fstat

    def fstat_before_the_growth(handle: int) -> os.stat_result:
        found = measured(handle)
        return os.stat_result((*found[:6], 100, *found[7:]))

    monkeypatch.setattr(os, "fstat", fstat_before_the_growth)
    assert walks.read_regular(grown) == grown.read_bytes()
    assert walks.read_regular(grown, most=5_120_000) == grown.read_bytes()
    assert walks.read_regular(grown, most=5_119_999) is None
    assert walks.read_regular(grown, most=1_500_000) is None


def test_on_coarse_times_a_kept_page_rewritten_in_the_second_of_the_write_is_read_and_mended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole show folder (its cache too) on a file system with whole-second times, as one
    # disk gives them. An edited episode's page is the copy of its cache file (a Stored unit):
    # both have the same size and, floored, the same mtime. Defaced by hand at the same size in
    # the second of the write, its mtime put back, its stamp is the one recorded: the next
    # publish reads it back (the quick check by size and mtime would take it as unchanged)
    # and mends it.
    root = copy_sample_show(tmp_path / "show")
    out = root / "public"
    _coarse_under(monkeypatch, tmp_path, 10**9)
    publish(root, now=SAMPLE_NOW)
    settle = walks.RACY_NS / 1e9 + _A_TICK_LATER
    time.sleep(settle)
    episode = sorted((root / "episodes").glob("*.yaml"))[0]
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    for attempt in range(10):
        data["notes"] = f"{data.get('notes') or ''} Edited {attempt}."
        episode.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        time.sleep(settle)
        publish(root, now=SAMPLE_NOW)
        page = out / _page_of(root, episode)
        before = os.stat(page)
        if before.st_ctime_ns != time.time_ns() // 10**9 * 10**9:
            continue  # written in an earlier second: a rewrite now moves its stamp
        text = page.read_bytes()
        at = text.index(b"<title>") + len(b"<title>")
        page.write_bytes(text[:at] + b"X" + text[at + 1 :])
        os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = os.stat(page)
        if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (
            before.st_size,
            before.st_mtime_ns,
            before.st_ctime_ns,
        ):
            break
    else:
        pytest.fail("no page defaced within the second of its write")
    time.sleep(settle)
    publish(root, now=SAMPLE_NOW)
    assert page.read_bytes() == text
    assert files_of(out) == cold_output(root, tmp_path / "cold")


def _page_of(root: Path, episode: Path) -> str:
    """The page of ``episode`` in the output (the folder named as its file)."""
    return f"{episode.stem}/index.html"


def test_on_coarse_times_a_write_leaves_the_files_it_keeps_proven_so_the_next_reads_only_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample show (a tree smaller than inplace.MIN_FILES, so it was staged at every write) on
    # a file system with coarse times: a tick of 0.1 s, and the coarse window (2 s, for FAT) set
    # to three. Staged, every kept file was linked anew, its ctime moved into the write's tick:
    # the next write read every file of the output back whole (the audio copies too), and the
    # publish after an edit never was answered from the record. Written in place, an edit
    # leaves the files it keeps as they were, proven by their digests: the next write reads back
    # only the files the last one made (their stamps had not settled), the audio never.
    tick = 10**8
    root = copy_sample_show(tmp_path / "show")
    out = root / "public"
    _coarse_under(monkeypatch, tmp_path, tick)
    monkeypatch.setattr(walks, "RACY_NS", 3 * tick)
    settle = walks.RACY_NS / 1e9 + tick / 1e9 + _A_TICK_LATER
    read: list[str] = []
    same_bytes = output._same_bytes

    def counted(target: Path, content: output.Content) -> bool:
        read.append(target.relative_to(out).as_posix())
        return same_bytes(target, content)

    monkeypatch.setattr(output, "_same_bytes", counted)
    publish(root, now=SAMPLE_NOW)
    time.sleep(settle)
    publish(root, now=SAMPLE_NOW)  # the cold build's files, all made in its tick, read back once
    total = len(files_of(out))
    assert len(read) == total
    episode = sorted((root / "episodes").glob("*.yaml"))[0]
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    made: list[str] = []
    for attempt in range(3):
        data["notes"] = f"{data.get('notes') or ''} Edited {attempt}."
        episode.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        time.sleep(settle)
        read.clear()
        report = publish(root, now=SAMPLE_NOW).report
        assert report is not None
        assert report.written
        assert set(read) <= set(made)
        made = [str(path) for path in report.written]
    time.sleep(settle)
    read.clear()
    assert buildrecord.unchanged(root, None) is None  # the last edit's files had not settled
    publish(root, now=SAMPLE_NOW)
    assert read
    assert set(read) <= set(made)
    assert not any(name.startswith("audio/") for name in made)
    time.sleep(settle)
    read.clear()
    assert buildrecord.unchanged(root, None) is not None  # the publish is answered from the record
    publish(root, now=SAMPLE_NOW)
    assert not read
    assert files_of(out) == cold_output(root, tmp_path / "cold")
