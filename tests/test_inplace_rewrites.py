"""A file rewritten in place at the same size with its mtime put back is still seen as changed.

That is what a tag editor told to keep the file's date does to an MP3 (its tag padding keeps
the size), and what ``cp -p`` or ``rsync --inplace -t`` do over an existing file: only the
ctime moves. Each case publishes the sample show, rewrites one file that way, publishes again,
and compares public/ with a cold build of the same show in a fresh folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from PIL import Image

from entretiens import inplace, output
from entretiens.audio import CACHE_VERSION
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, cold_output, copy_sample_show, files_of
from showbuilder import rewrite_keeping_mtime

AUDIO = Path("audio") / "003-massimo-fubini.mp3"
TRANSCRIPT = Path("transcripts") / "001-jeremi-lepetit.vtt"


def _flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :]


def _reverse_word(word: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        assert word in data
        return data.replace(word, word[::-1], 1)

    return change


def _flat_artwork(root: Path, colour: str) -> None:
    """The show's artwork as an uncompressed PNG: its size does not depend on its colour."""
    Image.new("RGB", (1400, 1400), colour).save(root / "artwork.png", compress_level=0)


@pytest.mark.parametrize("case", ["audio", "transcript", "artwork"])
def test_a_same_size_rewrite_with_the_mtime_put_back_is_published(tmp_path: Path, case: str) -> None:
    root = copy_sample_show(tmp_path / "show")
    if case == "artwork":
        _flat_artwork(root, "red")
    publish(root, now=SAMPLE_NOW)
    publish(root, now=SAMPLE_NOW)
    if case == "audio":
        rewrite_keeping_mtime(root / AUDIO, _flip_middle)
    elif case == "transcript":
        rewrite_keeping_mtime(root / TRANSCRIPT, _reverse_word(b"Entretiens"))
    else:
        red = (root / "artwork.png").read_bytes()
        _flat_artwork(tmp_path, "green")
        green = (tmp_path / "artwork.png").read_bytes()
        assert len(green) == len(red)
        rewrite_keeping_mtime(root / "artwork.png", lambda _data: green)
    publish(root, now=SAMPLE_NOW)
    warm = files_of(root / "public")
    cold = cold_output(root, tmp_path / "cold")
    assert warm.keys() == cold.keys()
    assert [name for name in warm if warm[name] != cold[name]] == []
    if case == "audio":
        assert warm[AUDIO.as_posix()] == (root / AUDIO).read_bytes()


def test_a_damaged_probe_cache_is_not_published(tmp_path: Path) -> None:
    """A value changed in the probe cache (a flipped digit still parses) is measured again."""
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    cache = root / ".entretiens" / "cache" / "probe.json"
    text = cache.read_bytes()
    assert f'"version": {CACHE_VERSION}'.encode() in text
    # The first value of the first entry (its file's size) given another digit.
    damaged = text.replace(b'": [', b'": [9', 1)
    assert damaged != text
    # The digest line left as it was: the document no longer matches it.
    cache.write_bytes(damaged)
    (root / "episodes" / "003-massimo-fubini.yaml").touch()
    publish(root, now=SAMPLE_NOW)
    assert files_of(root / "public") == cold_output(root, tmp_path / "cold")
    # The cache was written again, whole and checked.
    body, _, digest = cache.read_bytes().rpartition(b"\n")
    assert hashlib.sha256(body).hexdigest().encode() == digest


def test_a_ctime_moved_without_the_bytes_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod (chown, a new link) moves an audio file's ctime, not its bytes: the write reads its
    copy back once, then proves it by its stamp again (it read both files at every edit)."""
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # written in place, as a large show's edit
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    audio = sorted((root / "audio").iterdir())
    read: list[str] = []
    compare = output._equal_files

    def counted(first: Path, second: Path) -> bool:
        read.append(first.name)
        return compare(first, second)

    monkeypatch.setattr(output, "_equal_files", counted)
    for path in audio:
        path.chmod(0o640)
    summaries = []
    for summary in ("Edited once.", "Edited twice.", "Edited three times."):
        episode = root / "episodes" / "003-massimo-fubini.yaml"
        data = yaml.safe_load(episode.read_text(encoding="utf-8"))
        data["summary"] = summary
        episode.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        publish(root, now=SAMPLE_NOW)
        summaries.append(sorted(name for name in read if name.endswith(".mp3")))
        read.clear()
    published = sorted(path.name for path in (root / "public" / "audio").iterdir())
    assert len(published) > 3
    assert summaries[0] == published
    assert summaries[1:] == [[], []]
    assert files_of(root / "public") == cold_output(root, tmp_path / "cold")
