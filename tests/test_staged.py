"""Copying a file into the output: created once, its bytes, mode and mtime those of a copy; a
cache's file hashed as it is copied, and each folder of a staged output made once."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from entretiens import output, staged
from entretiens.errors import OutputError


def _count_files_made(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """The files created (opened with O_CREAT) and removed from now on (the real calls run)."""
    created: list[str] = []
    removed: list[str] = []
    real_open, real_unlink = os.open, os.unlink

    def counted_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    def counted_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        removed.append(os.fspath(path))
        real_unlink(path, *args, **kwargs)

    def counted_io(real: Any) -> Any:
        def opened(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(letter in mode for letter in "wxa"):
                created.append(os.fspath(file))
            return real(file, mode, *args, **kwargs)

        return opened

    monkeypatch.setattr(os, "open", counted_open)
    monkeypatch.setattr(io, "open", counted_io(io.open))
    monkeypatch.setattr(builtins, "open", counted_io(builtins.open))
    monkeypatch.setattr(os, "unlink", counted_unlink)
    return created, removed


@pytest.mark.parametrize("size", [0, 1, 14_000, 3 * (1 << 20) + 7])
def test_a_copy_is_created_once_with_the_bytes_mode_and_mtime_of_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    source = tmp_path / "unit.0"
    source.write_bytes(os.urandom(size))
    os.chmod(source, 0o600)
    os.utime(source, ns=(1_000_000_123, 1_500_000_456))
    target = tmp_path / "out" / "index.html"
    target.parent.mkdir()
    created, removed = _count_files_made(monkeypatch)
    staged.copy_file(source, target)
    # A clone refused (this file system, most) used to remove the file it had made and make it
    # again to copy into: two files created and one removed per copy, ~0.4 ms each here.
    assert created == [str(target)] and removed == []
    assert target.read_bytes() == source.read_bytes()
    status = target.stat()
    assert (status.st_mode & 0o777, status.st_mtime_ns, status.st_size) == (0o644, 1_500_000_456, size)


def test_a_copy_without_sendfile_is_read_and_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "card.jpg"
    source.write_bytes(os.urandom(3 * (1 << 20) + 5))
    target = tmp_path / "copy.jpg"
    calls: list[int] = []

    def refused(*args: Any) -> int:
        calls.append(1)
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sendfile", refused, raising=False)
    staged.copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert calls == ([1] if staged._LINUX else [])


def test_an_existing_target_is_replaced_whole(tmp_path: Path) -> None:
    source = tmp_path / "short.txt"
    source.write_bytes(b"short")
    target = tmp_path / "long.txt"
    target.write_bytes(b"a much longer old content")
    os.chmod(target, 0o600)
    staged.copy_file(source, target)
    assert target.read_bytes() == b"short" and target.stat().st_mode & 0o777 == 0o644


def test_a_hashed_copy_gives_the_digest_of_the_bytes_it_copied(tmp_path: Path) -> None:
    source = tmp_path / "page.0"
    source.write_bytes(os.urandom(2 * (1 << 20) + 3))
    assert staged.copy_file(source, tmp_path / "a") is None
    digest = staged.copy_file(source, tmp_path / "b", hashed=True)
    assert digest == hashlib.sha256(source.read_bytes()).hexdigest()
    assert (tmp_path / "b").read_bytes() == source.read_bytes()


def _stored_files(tmp_path: Path, count: int) -> dict[PurePosixPath, output.Stored]:
    cache = tmp_path / "cache"
    cache.mkdir()
    files: dict[PurePosixPath, output.Stored] = {}
    for n in range(count):
        body = f"<p>page {n}</p>".encode()
        (cache / f"{n}.0").write_bytes(body)
        files[PurePosixPath(f"episode-{n // 3}/page-{n}.html")] = output.stored(
            cache / f"{n}.0", hashlib.sha256(body).hexdigest(), len(body)
        )
    return files


def test_a_staged_write_makes_each_folder_once_and_reads_no_copy_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _stored_files(tmp_path, 12)  # 4 folders of 3 pages
    made: list[str] = []
    mkdir = Path.mkdir

    def counted(self: Path, *args: Any, **kwargs: Any) -> None:
        made.append(self.name)
        mkdir(self, *args, **kwargs)

    def read_back(path: object) -> str:
        raise AssertionError(f"{path} read back")

    monkeypatch.setattr(Path, "mkdir", counted)
    monkeypatch.setattr(output, "file_sha256", read_back)
    out = tmp_path / "out"
    report = output.write_tree(out, files)
    assert len(report.written) == 12
    # Once per folder (and the output's parent), not once per file.
    assert sorted(name for name in made if name.startswith("episode-")) == [f"episode-{n}" for n in range(4)]
    for path, content in files.items():
        assert (out / path).read_bytes() == content.read_bytes()


def test_a_cache_file_changed_since_it_was_checked_is_not_published(tmp_path: Path) -> None:
    files = _stored_files(tmp_path, 3)
    out = tmp_path / "out"
    output.write_tree(out, files)
    before = {path: (out / path).read_bytes() for path in files}
    path = PurePosixPath("episode-0/page-1.html")
    changed = {**files, PurePosixPath("new.html"): files[path]}
    files[path].write_bytes(b"<p>page X</p>")  # the same size: only its digest tells
    with pytest.raises(OutputError, match="changed after it was checked"):
        output.write_tree(out, changed)
    assert {path: (out / path).read_bytes() for path in files} == before
