"""A publish whose build record is lost or damaged trusts nothing public/ holds: each old file is
read back before it is kept, however its size and times look; the record is then made again."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
import yaml

from entretiens import buildrecord, output, walks
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _lose(root: Path) -> None:
    (root / buildrecord.RECORD).unlink()


def _truncate(root: Path) -> None:
    record = root / buildrecord.RECORD
    record.write_bytes(record.read_bytes()[: record.stat().st_size // 2])


def _old_version(root: Path) -> None:
    record = root / buildrecord.RECORD
    document = json.loads(record.read_text(encoding="utf-8"))
    record.write_text(json.dumps({**document, "version": buildrecord.RECORD_VERSION - 1}), encoding="utf-8")


def _lose_stamps(root: Path) -> None:
    (root / buildrecord.STAMPS).unlink()


def _tamper(target: Path) -> None:
    """Other bytes at the same size, the mtime put back: only the ctime tells."""
    before = target.stat()
    target.write_bytes(bytes(255 - byte for byte in target.read_bytes()))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize(
    "damage", [_lose, _truncate, _old_version, _lose_stamps], ids=["missing", "truncated", "old version", "no stamps"]
)
def test_with_no_usable_record_public_is_read_back_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path], None]
) -> None:
    # Stamps settle as soon as taken (the real window is a tick after a change): the ledger the
    # repair leaves then proves every file, as it does a tick later.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    monkeypatch.setattr(walks, "RACY_NS", 0)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    page = next(iter(sorted(out.glob("*/index.html"))))
    audio = next(iter(sorted((out / "audio").glob("*.mp3"))))
    feed = out / "feed.xml"
    damage(root)
    for target in (page, audio, feed):
        _tamper(target)
    result = publish(root, now=SAMPLE_NOW)
    assert result.report is not None
    assert {str(path) for path in result.report.written} == {
        str(target.relative_to(out)) for target in (page, audio, feed)
    }
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(cold, now=SAMPLE_NOW)
    assert _tree(out) == _tree(cold / "public")
    # The record is whole again: the next publish with nothing changed stops at once, and the
    # one after an edit proves the old files from it, reading none back.
    assert buildrecord.unchanged(root, None) is not None
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
    edited = publish(root, now=SAMPLE_NOW)
    assert edited.report is not None and edited.report.read_back == 0


def test_a_write_given_an_empty_ledger_reads_back_a_kept_page_and_a_copy(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    page = cache / "page.html"
    page.write_bytes(b"<p>kept page</p>")
    audio = tmp_path / "episode.mp3"
    audio.write_bytes(b"\xff\xfb" * 500)
    files: dict[PurePosixPath, output.Content] = {
        PurePosixPath("a/index.html"): output.stored(page, hashlib.sha256(page.read_bytes()).hexdigest(), 16),
        PurePosixPath("audio/episode.mp3"): audio,
    }
    out = tmp_path / "public"
    output.write_tree(out, files)
    for name in files:
        _tamper(out / name)
    report = output.write_tree(out, files, buildrecord.Ledger(stats={}, digests={}))
    assert sorted(str(path) for path in report.written) == ["a/index.html", "audio/episode.mp3"]
    assert (out / "a/index.html").read_bytes() == page.read_bytes()
    assert (out / "audio/episode.mp3").read_bytes() == audio.read_bytes()
