"""What a killed publish leaves in the caches' folders goes at a later publish, once old enough
that no build still running can be writing it; nothing else is touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from entretiens import atomicfile, unitcache
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show

#: Names each writer of the caches gives its temporaries, by the folder it writes them in.
OURS = {
    "units": [".units.k2_9zq0a.tmp", ".pages.store.proof.4242.tmp", ".pages.checked.delta.77.tmp"],
    "cache": [".yaml.ab3_defg.tmp", ".probe.json.x1y2z3w4.json", ".yaml.overlay.proof.123.tmp"],
}
#: Names like them that none of the writers gives: a user's, or another tool's.
NOT_OURS = [
    "units.k2_9zq0a.tmp",
    ".units.k2_9zq0.tmp",
    ".units.K2_9ZQ0A.tmp",
    ".units.k2_9zq0a.tmp.bak",
    ".notes.4242.tmp",
    ".probe.json.x1y2z3w4.tmp",
    ".feed.json.x1y2z3w4.json",
    "notes.txt",
]


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


def test_old_temporaries_of_the_caches_go_and_nothing_else(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    folders = {"units": root / ".entretiens" / "cache" / "units", "cache": root / ".entretiens" / "cache"}
    old_enough = atomicfile.LEFTOVER_NS / 1e9 + 60
    gone: list[Path] = []
    kept: list[Path] = []
    for kind, folder in folders.items():
        assert folder.is_dir()
        for name in OURS[kind]:
            (folder / name).write_bytes(b"half a file")
            _age(folder / name, old_enough)
            gone.append(folder / name)
        # Ours, written a moment ago: a build still running may own them.
        for name in (".units.fresh___.tmp", ".pages.store.proof.4243.tmp"):
            (folder / name).write_bytes(b"being written")
            _age(folder / name, 5)
            kept.append(folder / name)
        for name in NOT_OURS:
            (folder / name).write_bytes(b"a user's")
            _age(folder / name, old_enough)
            kept.append(folder / name)
        # A link and a folder named as ours: not regular files, left alone.
        target = tmp_path / f"target-{kind}"
        target.write_bytes(b"elsewhere")
        link = folder / ".units.linked__.tmp"
        link.symlink_to(target)
        _age(link, old_enough)
        kept.append(link)
        folder_named = folder / ".yaml.folder__.tmp"
        folder_named.mkdir()
        _age(folder_named, old_enough)
        kept.append(folder_named)
    publish(root, now=SAMPLE_NOW)
    assert [path for path in gone if os.path.lexists(path)] == []
    assert [path for path in kept if not os.path.lexists(path)] == []
    assert (tmp_path / "target-units").read_bytes() == b"elsewhere"


#: Names the build record's, the journals' and the lint's writers give their temporaries, by
#: the folder (under ``.entretiens``) they write them in.
OURS_BESIDE = {
    ".": [".build.json.4242.tmp", ".output-stamps.journal.77.tmp", ".output-digests.journal.123.tmp"],
    "cache/lint": [".feed-items.4242.tmp", ".feed-items.delta.77.tmp"],
}
#: Names like them that none of the writers gives.
NOT_OURS_BESIDE = [
    "build.json.4242.tmp",
    ".build.json.tmp",
    ".build.json.x1y2.tmp",
    ".output-stamps.journal.tmp",
    ".feed-items.4242.tmp.bak",
    ".Feed-items.4242.tmp",
    "feed-items.4242.tmp",
]


def test_old_temporaries_of_the_record_journals_and_lint_go_at_a_publish_that_writes(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    old_enough = atomicfile.LEFTOVER_NS / 1e9 + 60
    gone: list[Path] = []
    kept: list[Path] = []
    for where, names in OURS_BESIDE.items():
        folder = root / ".entretiens" / where
        assert folder.is_dir()
        for name in names:
            (folder / name).write_bytes(b"half a file")
            _age(folder / name, old_enough)
            gone.append(folder / name)
            # The same name, written a moment ago by a build still running.
            fresh = folder / name.replace(".tmp", "1.tmp")
            fresh.write_bytes(b"being written")
            _age(fresh, 5)
            kept.append(fresh)
        for name in NOT_OURS_BESIDE:
            (folder / name).write_bytes(b"a user's")
            _age(folder / name, old_enough)
            kept.append(folder / name)
        folder_named = folder / ".build.json.999.tmp"
        folder_named.mkdir()
        _age(folder_named, old_enough)
        kept.append(folder_named)
    # One episode's notes edited: the record is saved, and the feed's items linted again.
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    text = episode.read_text(encoding="utf-8")
    episode.write_text(text.replace("notes: |\n", "notes: |\n  Edited.\n", 1), encoding="utf-8")
    publish(root, now=SAMPLE_NOW)
    assert "Edited." in (root / "public" / "feed.xml").read_text(encoding="utf-8")
    assert [path for path in gone if os.path.lexists(path)] == []
    assert [path for path in kept if not os.path.lexists(path)] == []


def test_a_rewritten_page_store_leaves_a_fresh_temporary_in_its_buckets(tmp_path: Path) -> None:
    def request(number: int) -> unitcache.Request:
        return ((number,), lambda: {"page.html": b"<p>%d</p>" % number}, ())

    units = unitcache.Units(tmp_path, "pages", version="v", stored=True)
    units.get_files([request(number) for number in range(3)])
    folder = tmp_path / unitcache.UNITS_DIR / "pages"
    buckets = sorted(path for path in folder.iterdir() if path.is_dir())
    in_use = sorted(path for bucket in buckets for path in bucket.iterdir())
    assert len(in_use) == 3
    bucket = buckets[0]
    key = in_use[0].name.partition(".")[0]
    old_enough = atomicfile.LEFTOVER_NS / 1e9 + 60
    # Another build's unit files being written (``.<key>.<n>.<pid>.tmp``), one of them for a key
    # in use here, and what a build killed long ago left.
    fresh = [bucket / f".{'a' * 64}.0.4242.tmp", bucket / f".{key}.0.4242.tmp"]
    old = [bucket / f".{'b' * 64}.1.77.tmp", bucket / f".{key}.1.77.tmp"]
    # Files of no unit in use, whatever their age: a unit of an earlier version, a stray file.
    stray = [bucket / f"{'c' * 64}.0", bucket / ".notes.tmp", bucket / f".{'d' * 64}.0.4242.tmp.bak"]
    for path in fresh:
        path.write_bytes(b"being written")
        _age(path, 5)
    for path in old + stray:
        path.write_bytes(b"left")
    for path in old:
        _age(path, old_enough)
    units.close()
    assert (folder.parent / "pages.store").is_file()  # written whole: every file not in use looked at
    assert [path for path in fresh + in_use if not path.exists()] == []
    assert [path for path in old + stray if path.exists()] == []


def _spill(folder: Path, name: str, seconds: float, *, worker_seconds: float | None = None) -> Path:
    """A folder of workers' entries as a pool leaves it (one file per worker), last written
    ``seconds`` ago (its worker's file ``worker_seconds`` ago, when given)."""
    spill = folder / name
    spill.mkdir()
    (spill / "4242").write_bytes(b"entries")
    _age(spill / "4242", seconds if worker_seconds is None else worker_seconds)
    _age(spill, seconds)
    return spill


def test_a_killed_builds_old_spill_folder_goes_and_nothing_else(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    folder = root / unitcache.UNITS_DIR
    old_enough = atomicfile.LEFTOVER_NS / 1e9 + 60
    gone = [_spill(folder, ".spill-k2_9zq0a", old_enough)]
    # A running build's: made a moment ago, or made long ago with a worker appending to its file.
    kept = [_spill(folder, ".spill-fresh___", 5), _spill(folder, ".spill-busy____", old_enough, worker_seconds=5)]
    # Named like one, not ours: another length, case or prefix, and a file (not a folder).
    kept += [_spill(folder, name, old_enough) for name in (".spill-k2_9zq0", ".spill-K2_9ZQ0A", "spill-k2_9zq0a")]
    stray = folder / ".spill-file____"
    stray.write_bytes(b"a user's")
    _age(stray, old_enough)
    # A link named as ours, to a folder elsewhere: neither it nor what it points to is removed.
    target = _spill(tmp_path, "elsewhere", old_enough)
    link = folder / ".spill-linked__"
    link.symlink_to(target)
    kept += [stray, link]
    publish(root, now=SAMPLE_NOW)
    assert [path for path in gone if os.path.lexists(path)] == []
    assert [path for path in kept if not os.path.lexists(path)] == []
    assert (target / "4242").read_bytes() == b"entries"
