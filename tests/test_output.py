"""The output writer: all or nothing, unchanged files untouched, nothing outside the folder."""

from __future__ import annotations

import os
from pathlib import Path, PurePath, PurePosixPath

import pytest

from entretiens import content, inplace, output
from entretiens.atomicfile import write_file
from entretiens.errors import OutputError
from entretiens.output import Content, write_tree


def test_the_files_found_to_remove_are_those_a_recursive_glob_finds(tmp_path: Path) -> None:
    # Hidden files and nested folders are removed, and links of every kind (to a file, to a
    # folder, to nothing), never followed: a cold build has none, and a linked folder's files
    # are not ours.
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("keep.txt"): b"K"})
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "x.txt").write_bytes(b"X")
    (out / "a" / "b" / "c").mkdir(parents=True)
    (out / "a" / "b" / "c" / "old.html").write_bytes(b"old")
    (out / "a" / ".hidden").write_bytes(b"h")
    (out / "a" / "b" / "Z.md").write_bytes(b"z")
    (out / "linked-folder").symlink_to(elsewhere, target_is_directory=True)
    (out / "a" / "linked-file").symlink_to(elsewhere / "deep" / "x.txt")
    (out / "broken").symlink_to(tmp_path / "nowhere")
    expected = sorted(
        PurePosixPath(p.relative_to(out).as_posix())
        for p in out.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name not in ("keep.txt", ".entretiens-output")
    )
    assert [str(p) for p in expected] == [
        "a/.hidden", "a/b/Z.md", "a/b/c/old.html", "a/linked-file", "broken", "linked-folder"
    ]  # fmt: skip
    report = write_tree(out, {PurePosixPath("keep.txt"): b"K"})
    assert report.removed == expected
    assert (elsewhere / "deep" / "x.txt").read_bytes() == b"X"
    assert sorted(p.name for p in out.iterdir()) == [".entretiens-output", "keep.txt"]


def test_writes_replaces_and_removes(tmp_path: Path) -> None:
    out = tmp_path / "public"
    source = tmp_path / "source.bin"
    source.write_bytes(b"audio bytes")
    report = write_tree(out, {PurePosixPath("a.txt"): b"A", PurePosixPath("sub/b.bin"): source})
    assert sorted(map(str, report.written)) == ["a.txt", "sub/b.bin"]
    assert (out / "sub" / "b.bin").read_bytes() == b"audio bytes"
    # A copy, not a link: rewriting the source in place must not change what is published.
    source.write_bytes(b"re-exported")
    assert (out / "sub" / "b.bin").read_bytes() == b"audio bytes"

    inode = (out / "a.txt").stat().st_ino
    report = write_tree(out, {PurePosixPath("a.txt"): b"A", PurePosixPath("c.txt"): b"C"})
    assert [str(p) for p in report.unchanged] == ["a.txt"]
    assert [str(p) for p in report.removed] == ["sub/b.bin"]
    assert (out / "a.txt").stat().st_ino == inode
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        ".entretiens-output",  # the marker that lets the next publish replace this folder
        "a.txt",
        "c.txt",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".public.")], "no staging folder left behind"


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("a.txt"): b"A"})
    before = (out / "a.txt").stat()
    report = write_tree(out, {PurePosixPath("a.txt"): b"A"})
    assert not report.changed
    after = (out / "a.txt").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/passwd", "a/../../b", ".", "..", "a/..", "//a", "", "/"])
def test_paths_cannot_escape(tmp_path: Path, bad: str) -> None:
    with pytest.raises(OutputError, match="outside the output folder"):
        write_tree(tmp_path / "public", {PurePosixPath(bad): b"x"})
    assert not (tmp_path / "public").exists()
    # Into an output that exists (the paths the walk found are not checked again): refused too,
    # before anything is written.
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("a/b.txt"): b"b"})
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    with pytest.raises(OutputError, match="outside the output folder"):
        write_tree(out, {PurePosixPath("a/b.txt"): b"changed", PurePosixPath(bad): b"x"})
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
    assert (out / "a" / "b.txt").read_bytes() == b"b"


def test_only_paths_not_in_the_folder_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A path the walk of the folder found is inside it: 60,000 string checks less per edit at
    # 10,000 episodes; a new path is checked before anything is written.
    out = tmp_path / "public"
    files = {PurePosixPath(f"{n}/page.html"): b"page" for n in range(20)}
    write_tree(out, files)
    checked: list[PurePosixPath] = []
    check = output._check_relative

    def counted(path: PurePosixPath) -> None:
        checked.append(path)
        check(path)

    monkeypatch.setattr(output, "_check_relative", counted)
    write_tree(out, {**files, PurePosixPath("new/page.html"): b"new"})
    assert checked == [PurePosixPath("new/page.html")]


@pytest.mark.parametrize("good", ["...", "a/...", "..a", "a..", "a/..b/c", ".hidden/a", "a/./b", "./a"])
def test_names_with_dots_stay_inside(tmp_path: Path, good: str) -> None:
    write_tree(tmp_path / "public", {PurePosixPath(good): b"x"})
    assert (tmp_path / "public" / good).read_bytes() == b"x"


def test_a_failed_write_keeps_the_previous_tree(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("feed.xml"): b"old"})
    missing = tmp_path / "vanished.mp3"
    with pytest.raises(OutputError, match="previous output is untouched"):
        write_tree(out, {PurePosixPath("feed.xml"): b"new", PurePosixPath("audio/x.mp3"): missing})
    assert (out / "feed.xml").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_write_file_is_atomic_and_skips_identical(tmp_path: Path) -> None:
    path = tmp_path / "state.yaml"
    assert write_file(path, b"one")
    assert not write_file(path, b"one")
    assert write_file(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["state.yaml"]


def test_an_unchanged_copy_is_recognised_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import filecmp

    source = tmp_path / "episode.mp3"
    source.write_bytes(b"x" * 1000)
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("audio/episode.mp3"): source})
    assert (out / "audio" / "episode.mp3").stat().st_mtime_ns == source.stat().st_mtime_ns

    def no_reading(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the copy was read again")

    monkeypatch.setattr(filecmp, "cmp", no_reading)
    assert not write_tree(out, {PurePosixPath("audio/episode.mp3"): source}).changed
    monkeypatch.undo()
    # A re-exported source (new mtime, same size) is compared byte for byte and published.
    source.write_bytes(b"y" * 1000)
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    report = write_tree(out, {PurePosixPath("audio/episode.mp3"): source})
    assert [str(p) for p in report.written] == ["audio/episode.mp3"]
    assert (out / "audio" / "episode.mp3").read_bytes() == b"y" * 1000


def test_a_symlinked_output_folder_is_updated_where_it_points(tmp_path: Path) -> None:
    served = tmp_path / "www" / "podcast"
    write_tree(served, {PurePosixPath("feed.xml"): b"old"})
    link = tmp_path / "public"
    link.symlink_to(served, target_is_directory=True)
    write_tree(link, {PurePosixPath("feed.xml"): b"new"})
    assert link.is_symlink()
    assert (served / "feed.xml").read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "www").iterdir()) == ["podcast"]


def test_unchanged_files_are_copied_where_hard_links_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "public"
    write_tree(out, {PurePosixPath("a.txt"): b"A"})
    mtime = (out / "a.txt").stat().st_mtime_ns

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)
    write_tree(out, {PurePosixPath("a.txt"): b"A", PurePosixPath("b.txt"): b"B"})
    assert (out / "a.txt").read_bytes() == b"A"
    assert (out / "a.txt").stat().st_mtime_ns == mtime


def test_a_mount_point_is_updated_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "volume"
    write_tree(out, {PurePosixPath("feed.xml"): b"old", PurePosixPath("gone/x.txt"): b"x"})
    # A mount point cannot be renamed away; the writer must work inside it.
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    renamed: list[str] = []
    real_replace = os.replace

    def replace(source: object, target: object) -> None:
        if Path(str(source)) == out:
            raise OSError(16, "Device or resource busy")
        renamed.append(str(target))
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    write_tree(out, {PurePosixPath("feed.xml"): b"new", PurePosixPath("audio/a.mp3"): b"a"})
    assert (out / "feed.xml").read_bytes() == b"new"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        ".entretiens-output",
        "audio",
        "audio/a.mp3",
        "feed.xml",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["volume"]


def test_atomic_write_replaces_the_file_whole_or_not_at_all(tmp_path: Path) -> None:
    from entretiens.atomicfile import atomic_write

    target = tmp_path / "feed.xml"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as temporary:
        temporary.write_bytes(b"half of the new")
        assert target.read_bytes() == b"old"  # Nothing is visible until the block ends.
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["feed.xml"]
    with atomic_write(target) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".xml" and temporary.name.startswith(".")
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["feed.xml"]


def _large_tree(count: int = inplace.MIN_FILES) -> dict[PurePosixPath, Content]:
    files: dict[PurePosixPath, Content] = {
        PurePosixPath(f"ep{i:03d}/index.html"): f"page {i}".encode() for i in range(count)
    }
    files[PurePosixPath("feed.xml")] = b"old feed"
    return files


def _state(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_small_change_to_a_large_tree_is_written_in_place(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = _large_tree()
    write_tree(out, files)
    before, folder = _state(out), out.stat().st_ino
    files[PurePosixPath("feed.xml")] = b"new feed"
    files[PurePosixPath("new/index.html")] = b"added"
    del files[PurePosixPath("ep007/index.html")]
    report = write_tree(out, files)
    assert sorted(map(str, report.written)) == ["feed.xml", "new/index.html"]
    assert [str(p) for p in report.removed] == ["ep007/index.html"]
    after = _state(out)
    # In place: the same folder, every unchanged file the same inode with the same time.
    assert out.stat().st_ino == folder
    assert {k: v for k, v in before.items() if k not in ("feed.xml", "ep007/index.html")} == {
        k: v for k, v in after.items() if k not in ("feed.xml", "new/index.html")
    }
    assert {k: v[2] for k, v in after.items()} == {str(k): v for k, v in files.items()} | {
        ".entretiens-output": (out / ".entretiens-output").read_bytes()
    }
    # The folder its removed page emptied goes too, and nothing is left beside the output.
    assert not (out / "ep007").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_a_failure_in_place_puts_every_file_back(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = _large_tree()
    write_tree(out, files)
    before = _state(out)
    files[PurePosixPath("ep001/index.html")] = b"changed"
    files[PurePosixPath("audio/x.mp3")] = tmp_path / "vanished.mp3"
    with pytest.raises(OutputError, match="previous output is untouched"):
        write_tree(out, files)
    assert _state(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_a_failure_half_way_in_place_restores_and_stages_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    files = _large_tree()
    write_tree(out, files)
    files[PurePosixPath("ep001/index.html")] = b"changed"
    files[PurePosixPath("feed.xml")] = b"new feed"
    real_replace = os.replace
    restored: list[str] = []

    def replace(source: object, target: object) -> None:
        # The page is swapped in, then the feed fails: the page must be put back first.
        if Path(str(target)).name == "feed.xml" and ".new-" in Path(str(source)).name:
            raise OSError(28, "No space left on device")
        if ".old-" in str(source):
            restored.append(Path(str(target)).relative_to(out).as_posix())
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    write_tree(out, files)
    assert restored == ["ep001/index.html"]
    assert (out / "ep001" / "index.html").read_bytes() == b"changed"
    assert (out / "feed.xml").read_bytes() == b"new feed"
    assert not list(out.rglob(".*.new-*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_a_child_path_is_made_quickly_only_where_python_makes_it_as_the_slash_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``output.child`` may use a private method of Python 3.10 and 3.11 to make the 60,000 kept
    paths of a large show: it is taken only when it gives the path ``/`` gives."""
    folder = output.Stored("/cache/units/pages/ab")
    made = output.child(folder, "abcdef.1")
    plain = output.Stored("/cache/units/pages/ab/abcdef.1")
    assert type(made) is output.Stored
    assert (made, str(made), made.parts, made.parent, hash(made)) == (
        plain,
        str(plain),
        plain.parts,
        plain.parent,
        hash(plain),
    )
    if not hasattr(output.Stored, "_make_child_relpath"):
        assert content._quick_child() is None
        return

    def wrong(self: output.Stored, name: str) -> output.Stored:
        return output.Stored(f"{self}-{name}")

    monkeypatch.setattr(output.Stored, "_make_child_relpath", wrong, raising=False)
    assert content._quick_child() is None


@pytest.mark.parametrize("change", ["none", "one edited", "all new"])
def test_the_report_leaves_the_marker_out_without_comparing_each_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # 60,000 Path comparisons (made in Python) per publish at 10,000 episodes to drop one name.
    out = tmp_path / "public"
    files: dict[PurePosixPath, Content] = {PurePosixPath(f"{n}/page.html"): b"page" for n in range(40)}
    if change != "all new":
        write_tree(out, files)
    if change == "one edited":
        files[PurePosixPath("7/page.html")] = b"edited"
    compared: list[object] = []
    equal = PurePath.__eq__

    def counted(self: PurePath, other: object) -> bool:
        compared.append(self)
        return equal(self, other)

    monkeypatch.setattr(PurePath, "__eq__", counted)
    report = write_tree(out, files)
    monkeypatch.undo()
    assert len(compared) < 10
    assert output.MARKER not in report.written and output.MARKER not in report.unchanged
    assert sorted(map(str, report.written + report.unchanged)) == sorted(map(str, files))
    assert (out / output.MARKER).is_file()
