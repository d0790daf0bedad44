"""What a killed publish leaves in the caches' folders goes at a later publish, once old enough
that no build still running can be writing it; nothing else is touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from entretiens import atomicfile
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
