"""Copying a file into the output: created once, its bytes, mode and mtime those of a copy."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path
from typing import Any

import pytest

from entretiens import staged


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
