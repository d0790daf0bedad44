"""``Project.entry_digest``: a digest of each loaded Episode, the same whether the episode was
built from its file or read back from the loader's kept entry, and different whenever any field
of the Episode is (what units key a release on, instead of digesting the Episode again)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from entretiens import episodecache, loading, yamlcache
from entretiens.model import Project
from sampleshow import copy_sample_show, wait_settled

#: Long enough ago that the cache trusts a file's stamp (see unitcache.RACY_NS).
_PAST_NS = 1_600_000_000 * 10**9


def _show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show").resolve()
    files = list(root.rglob("*.yaml"))
    for file in files:
        os.utime(file, ns=(_PAST_NS, _PAST_NS))
    wait_settled(files)  # their ctime (now) settles too
    return root


def _digests(project: Project) -> dict[str, str | None]:
    return {episode.slug: project.entry_digest(episode.slug) for episode in project.episodes}


def _load(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Project, int]:
    """The show loaded with the cache, and how many episodes were read back from it."""
    read = 0
    decode = episodecache.decode_episode

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal read
        read += 1
        return decode(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(episodecache, "decode_episode", counted)
        project = loading.load_project(root)
    return project, read


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(_PAST_NS + 10**9, _PAST_NS + 10**9))


def test_a_kept_episode_has_the_digest_its_cold_load_gave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _show(tmp_path)
    cold = loading.load_project(root)
    first = _digests(cold)
    assert len(first) > 3 and all(first.values())
    assert len(set(first.values())) == len(first)
    kept, _ = _load(root, monkeypatch)
    assert kept.episodes == cold.episodes
    assert _digests(kept) == first
    assert all(episode.slug in kept.entry_digests for episode in kept.episodes)
    # The same show elsewhere: the episodes' files (their paths) are others.
    other = _show(tmp_path / "elsewhere")
    assert set(_digests(loading.load_project(other)).values()).isdisjoint(first.values())
    # Without the cache, no digest (the caller digests the Episode itself).
    assert set(_digests(loading.load_project(root, cache=False)).values()) == {None}


def test_a_file_too_recent_to_keep_has_its_digest_all_the_same(tmp_path: Path) -> None:
    # A file modified in the last two seconds is not kept, but its Episode is what it is: the
    # digest is that of the entry it would be, the same the next load reads back.
    root = copy_sample_show(tmp_path / "show").resolve()
    now = _digests(loading.load_project(root))
    assert all(now.values())
    for file in root.rglob("*.yaml"):
        os.utime(file, ns=(_PAST_NS, _PAST_NS))
    assert _digests(loading.load_project(root)) == now


def test_a_damaged_cache_gives_the_same_digests(tmp_path: Path) -> None:
    root = _show(tmp_path)
    expected = _digests(loading.load_project(root))
    loading.load_project(root)
    folder = root / yamlcache.CACHE_DIR
    damaged = 0
    for file in folder.glob("yaml.*"):
        data = bytearray(file.read_bytes())
        for at in range(len(yamlcache.FORMAT.magic) + 5, len(data) // 2, 97):
            data[at] ^= 0x55
        file.write_bytes(bytes(data))
        damaged += 1
    assert damaged
    assert _digests(loading.load_project(root)) == expected


def test_the_digest_moves_with_the_episode_and_only_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _show(tmp_path)
    loading.load_project(root)
    before = _digests(loading.load_project(root))
    episodes = root / "episodes"

    # One episode's summary: that episode's digest only.
    edited = next(path for path in sorted(episodes.glob("*.yaml")) if "summary:" in path.read_text(encoding="utf-8"))
    text = edited.read_text(encoding="utf-8")
    summary = re.search(r"^summary: *(.*)$", text, re.MULTILINE)
    assert summary is not None
    _edit(edited, summary.group(0), "summary: another summary")
    after, read = _load(root, monkeypatch)
    moved = {slug for slug, digest in _digests(after).items() if digest != before[slug]}
    assert moved == {edited.stem}
    # The others read back, the edited one decoded once more to prove its new entry reads back.
    assert read == len(before)

    # A line moved (what problems are located with, out of the Episode's equality): its digest.
    before = _digests(after)
    _edit(edited, "summary: another summary", "\nsummary: another summary")
    moved = {slug for slug, digest in _digests(loading.load_project(root)).items() if digest != before[slug]}
    assert moved == {edited.stem}

    # A registry guest's file: no episode's (the entries name its people by id; the digest's
    # users digest each guest apart, see unitkeys.episode_digests).
    before = _digests(loading.load_project(root))
    guest = sorted((root / "guests").glob("*.yaml"))[0]
    _edit(guest, "\n", "\n\n")
    after_guest = _digests(loading.load_project(root))
    assert after_guest == before

    # A GUID pinned by published.yaml differently: that episode's digest, with the same entry.
    before = after_guest
    slug = edited.stem
    record = root / "published.yaml"
    line = re.search(rf"^  {slug}: .*$", record.read_text(encoding="utf-8"), re.MULTILINE)
    assert line is not None
    _edit(record, line.group(0), f"  {slug}: 00000000-0000-4000-8000-000000000000")
    pinned = loading.load_project(root)
    assert next(e for e in pinned.episodes if e.slug == slug).guid == "00000000-0000-4000-8000-000000000000"
    moved = {s for s, digest in _digests(pinned).items() if digest != before[s]}
    assert moved == {slug}
