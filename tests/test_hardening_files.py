"""Hardening (issue 13), the file system: links, FIFOs, odd folders and interrupted writes.

The README's promise "nothing private is published" is backed by
test_a_photo_linked_to_a_guest_file_publishes_no_contact_details; "everything published
resolves inside the show folder" by test_media_linked_out_of_the_show_is_refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import pytest

from conftest import as_another_user
from entretiens import journal, walks
from entretiens.errors import EntretiensError, OutputError, ProblemsError
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show
from showbuilder import episode, make_show, tree, write_artwork, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def _problems(root: Path, out: Path) -> list[tuple[str, str, str]]:
    """(rule, show-relative file, message) of a publish that must fail with located problems."""
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    return [(p.rule, p.path.relative_to(root).as_posix() if p.path else "", p.message) for p in caught.value.problems]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def test_a_photo_linked_to_a_guest_file_publishes_no_contact_details(tmp_path: Path) -> None:
    """Nothing private is published: a symlinked photo cannot carry guests/*.yaml into public/."""
    root = make_show(tmp_path / "show", {"001-a": episode(1, guests=[{"id": "lise"}])})
    write_yaml(
        root / "guests" / "lise.yaml",
        {
            "name": "Lise",
            "bio": "Ébéniste.",
            "email": "lise@private.example",
            "phone": "+33 6 12 34 56 78",
            "image": "photos/lise.jpg",
        },
    )
    (root / "photos").mkdir()
    (root / "photos" / "lise.jpg").symlink_to(root / "guests" / "lise.yaml")
    out = tmp_path / "out"
    found = _problems(root, out)
    assert [(rule, path) for rule, path, _ in found] == [("invalid-path", "guests/lise.yaml")]
    assert "photos/lise.jpg" in found[0][2]
    assert not out.exists()

    # A real photo next to it is published; the contact details never are.
    (root / "photos" / "lise.jpg").unlink()
    write_artwork(root / "photos" / "lise.jpg", 400)
    publish(root, out, now=NOW)
    assert b"private.example" not in _all_bytes(out) and b"12 34 56" not in _all_bytes(out)


def test_a_photo_that_is_a_copy_of_a_guest_file_is_refused(tmp_path: Path) -> None:
    """Published files are of the type their name says: a copy (not a link) of guests/*.yaml
    saved as a photo is refused, so the contact details in it never reach public/."""
    root = make_show(tmp_path / "show", {"001-a": episode(1, guests=[{"id": "lise"}])})
    guest = {"name": "Lise", "email": "lise@private.example", "phone": "+33 6 12 34 56 78", "image": "photos/lise.jpg"}
    write_yaml(root / "guests" / "lise.yaml", guest)
    (root / "photos").mkdir()
    (root / "photos" / "lise.jpg").write_bytes((root / "guests" / "lise.yaml").read_bytes())
    out = tmp_path / "out"
    found = _problems(root, out)
    assert ("image-not-image", "guests/lise.yaml") in [(rule, path) for rule, path, _ in found]
    assert not out.exists()


@pytest.mark.parametrize("field", ["image", "audio"])
def test_media_linked_out_of_the_show_is_refused(tmp_path: Path, field: str) -> None:
    """Everything published resolves inside the show folder, and is a file of the type its name says."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.png"
    write_artwork(secret, 1400)
    root = make_show(tmp_path / "show")
    link = root / "media" / ("cover.png" if field == "image" else "001.mp3")
    link.parent.mkdir()
    link.symlink_to(secret if field == "image" else root / "feed.yaml")
    write_yaml(root / "episodes" / "001-first.yaml", episode(1, **{field: f"media/{link.name}"}))
    found = _problems(root, tmp_path / "out")
    assert [(rule, path) for rule, path, _ in found] == [("invalid-path", "episodes/001-first.yaml")]
    assert not (tmp_path / "out").exists()


def test_a_symlink_loop_in_audio_is_a_located_error(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "audio" / "001.mp3").unlink()
    (root / "audio" / "001.mp3").symlink_to(root / "audio" / "001.mp3")
    found = _problems(root, tmp_path / "out")
    assert [(rule, path) for rule, path, _ in found] == [("invalid-path", "episodes/001-first.yaml")]
    assert "loop" in found[0][2]


def test_a_show_file_linked_outside_is_refused_without_echoing_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:top-secret-line\n  : [unclosed\n")
    root = make_show(tmp_path / "show")
    (root / "episodes" / "003-link.yaml").symlink_to(secret)
    with pytest.raises(EntretiensError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    assert "top-secret" not in str(caught.value)
    (problem,) = caught.value.problems  # type: ignore[attr-defined]
    assert (problem.rule, problem.path) == ("invalid-path", root / "episodes" / "003-link.yaml")
    assert "outside the show folder" in problem.message


def test_a_fifo_named_yaml_in_episodes_is_a_located_error(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    os.mkfifo(root / "episodes" / "003-pipe.yaml")
    with pytest.raises(EntretiensError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    (problem,) = caught.value.problems  # type: ignore[attr-defined]
    assert (problem.rule, problem.path) == ("invalid-path", root / "episodes" / "003-pipe.yaml")
    assert "not a regular file" in problem.message


def test_an_unreadable_episodes_folder_is_not_an_empty_show(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    episodes = root / "episodes"
    episodes.rename(root / "real-episodes")
    episodes.symlink_to(episodes)  # a loop: reading the folder fails, whoever runs the test
    with pytest.raises(EntretiensError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    (problem,) = caught.value.problems  # type: ignore[attr-defined]
    assert (problem.rule, problem.path) == ("invalid-path", episodes)
    assert "cannot be read" in problem.message


def test_an_output_folder_linked_to_itself_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    public = root / "public"
    public.symlink_to(public)
    with pytest.raises(OutputError, match="loop"):
        publish(root, now=NOW)
    assert public.is_symlink()


def test_media_inside_the_show_may_still_be_links(tmp_path: Path) -> None:
    """Links that stay inside the show and keep their kind are fine (shared audio folders)."""
    root = make_show(tmp_path / "show")
    (root / "audio" / "001.mp3").rename(root / "audio" / "master-001.mp3")
    (root / "audio" / "001.mp3").symlink_to("master-001.mp3")
    publish(root, tmp_path / "out", now=NOW)
    assert (tmp_path / "out" / "audio" / "master-001.mp3").is_file()
    assert tree(tmp_path / "out")


def test_audio_that_changes_after_it_was_measured_is_not_published(tmp_path: Path) -> None:
    """An export still writing: the enclosure length must be the published file's."""
    from entretiens import pipeline

    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    before = tree(out)
    built = pipeline.build(root, now=NOW)
    assert not built.errors
    with (root / "audio" / "002.mp3").open("ab") as export:  # the export goes on writing
        export.write(b"\xff" * 4096)
    with pytest.raises(ProblemsError) as caught:
        pipeline.commit(built, out, pin_guids=True)
    (problem,) = caught.value.problems
    assert (problem.rule, problem.path, problem.field) == ("audio-invalid", root / "episodes/002-second.yaml", "audio")
    assert "changed after it was measured" in problem.message
    assert tree(out) == before
    # Measured again, it publishes with its real length.
    publish(root, out, now=NOW)
    size = (root / "audio" / "002.mp3").stat().st_size
    assert f'length="{size}"'.encode() in (out / "feed.xml").read_bytes()
    assert (out / "audio" / "002.mp3").stat().st_size == size


def test_audio_that_changes_while_it_is_copied_fails_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from entretiens import output, staged

    source = tmp_path / "episode.mp3"
    source.write_bytes(b"\xff\xfb" * 1000)
    real_clone = staged._clone

    def clone_while_writing(reading: int, writing: int) -> bool:
        done = real_clone(reading, writing)
        with source.open("ab") as export:  # the export appends while we copy
            export.write(b"more")
        return done

    monkeypatch.setattr(staged, "_clone", clone_while_writing)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="changed while it was copied"):
        output.write_tree(out, {PurePosixPath("audio/episode.mp3"): source})
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["episode.mp3"]


def test_an_interrupted_publish_leaves_no_staging_copy_behind(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    # What a publish killed half-way leaves: a staged copy with our marker, and an empty one.
    stale = tmp_path / ".out.new-killed"
    (stale / "audio").mkdir(parents=True)
    (stale / ".entretiens-output").write_text("ours")
    (stale / "audio" / "001.mp3").write_bytes(b"\0" * 1000)
    empty = tmp_path / ".out.new-empty"
    empty.mkdir()
    os.utime(empty, (0, 0))
    # Not ours: a folder without our marker, and another output's staging, are left alone.
    foreign = tmp_path / ".out.new-foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    other = tmp_path / ".other.new-abc"
    other.mkdir()
    (other / ".entretiens-output").write_text("ours")

    write_yaml(root / "episodes" / "001-first.yaml", episode(1, title="Retitled"))
    publish(root, out, now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.new-abc", ".out.new-foreign", "out", "show"]


def test_a_staging_folder_in_use_is_not_removed(tmp_path: Path) -> None:
    import fcntl

    from entretiens import output

    busy = tmp_path / ".out.new-busy"
    busy.mkdir()
    (busy / ".entretiens-output").write_text("ours")
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another publish, still writing
        output.write_tree(tmp_path / "out", {PurePosixPath("a.txt"): b"a"})
        assert busy.is_dir()
    finally:
        os.close(fd)
    output.write_tree(tmp_path / "out", {PurePosixPath("a.txt"): b"b"})
    assert not busy.exists()


def test_a_draft_whose_recording_does_not_exist_yet_blocks_nothing(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    write_yaml(root / "episodes" / "003-next.yaml", episode(3, draft=True, audio="audio/003-next.mp3"))
    result = publish(root, tmp_path / "out", now=NOW)
    (note,) = [p for p in result.warnings if p.path == root / "episodes" / "003-next.yaml"]
    assert (note.rule, note.severity, note.field) == ("missing-file", "info", "audio")
    assert [e.slug for e in result.drafts] == ["003-next"]
    # Published without the draft: it is a draft, not an error.
    assert b"Conversation 3" not in (tmp_path / "out" / "feed.xml").read_bytes()
    # Not a draft any more: the missing recording is an error again.
    write_yaml(root / "episodes" / "003-next.yaml", episode(3, audio="audio/003-next.mp3"))
    found = _problems(root, tmp_path / "out")
    assert [(rule, path) for rule, path, _ in found] == [("missing-file", "episodes/003-next.yaml")]


def test_files_a_host_adds_to_the_output_are_named_and_static_keeps_them(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from entretiens.cli import cli

    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    (out / "CNAME").write_text("podcast.example.org\n")
    (out / ".htaccess").write_text("Options -Indexes\n")
    write_yaml(root / "episodes" / "001-first.yaml", episode(1, title="Retitled"))
    result = CliRunner().invoke(cli, ["publish", "--show", str(root), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Removed: .htaccess, CNAME" in result.output and "static/" in result.output
    assert not (out / "CNAME").exists()

    # The documented way to keep them: static/, copied as is (hidden files too, sub-folders too).
    (root / "static" / ".well-known").mkdir(parents=True)
    (root / "static" / "CNAME").write_text("podcast.example.org\n")
    (root / "static" / ".htaccess").write_text("Options -Indexes\n")
    (root / "static" / ".well-known" / "security.txt").write_text("Contact: mailto:a@example.org\n")
    publish(root, out, now=NOW)
    assert (out / "CNAME").read_text() == "podcast.example.org\n"
    assert (out / ".htaccess").read_text() == "Options -Indexes\n"
    assert (out / ".well-known" / "security.txt").is_file()
    again = publish(root, out, now=NOW)
    assert again.report is not None and not again.report.changed


@pytest.mark.parametrize("bad", ["feed.xml", "outside-link", "fifo"])
def test_static_files_are_regular_files_of_static_and_never_replace_ours(tmp_path: Path, bad: str) -> None:
    root = make_show(tmp_path / "show")
    static = root / "static"
    static.mkdir()
    if bad == "feed.xml":
        (static / "feed.xml").write_text("<rss/>")
    elif bad == "outside-link":
        (static / "contacts.txt").symlink_to(root / "feed.yaml")
    else:
        os.mkfifo(static / "pipe")
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    assert [p.rule for p in caught.value.problems] == ["build-error"]
    assert not (tmp_path / "out").exists()


def test_publishing_into_a_mount_point_moves_the_feed_last_and_removes_old_files_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mount point cannot be swapped: apps must never read a feed whose files are not there yet."""
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    (root / "episodes" / "002-second.yaml").unlink()  # its page and audio must go, after the feed
    make_show(root, {"003-third": episode(3)})
    events: list[str] = []
    real_replace, real_unlink = os.replace, Path.unlink

    def replace(source: str | Path, target: str | Path) -> None:
        events.append("put " + Path(target).relative_to(out).as_posix() if out in Path(target).parents else "")
        real_replace(source, target)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if out in self.parents and ".out.new-" not in str(self):
            events.append("remove " + self.relative_to(out).as_posix())
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    publish(root, out, now=NOW)
    monkeypatch.undo()
    events = [e for e in events if e]
    feed = events.index("put feed.xml")
    assert "put audio/003.mp3" in events[:feed] and "put 003-third/index.html" in events[:feed]
    assert "remove audio/002.mp3" in events[feed:] and "remove 002-second/index.html" in events[feed:]
    assert not any(e.startswith("remove") for e in events[:feed])
    assert not (out / "002-second").exists() and (out / "003-third" / "index.html").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".out.new-")]


def test_published_yaml_through_a_symlink_is_written_where_it_points(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    kept = tmp_path / "records" / "talks-published.yaml"
    kept.parent.mkdir()
    kept.write_text("")
    (root / "published.yaml").symlink_to(kept)
    publish(root, tmp_path / "out", now=NOW)
    assert (root / "published.yaml").is_symlink()
    assert "001-first" in kept.read_text()


def test_a_read_only_published_yaml_is_respected_with_a_clear_error(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    publish(root, tmp_path / "out", now=NOW)
    state = root / "published.yaml"
    before = state.read_bytes()
    state.chmod(0o444)
    make_show(root, {"003-third": episode(3)})
    with pytest.raises(OutputError, match=r"published.yaml: the file is read-only.*chmod u\+w"):
        publish(root, tmp_path / "out", now=NOW)
    assert state.read_bytes() == before and (state.stat().st_mode & 0o777) == 0o444
    assert not (tmp_path / "out" / "003-third").exists()
    # Nothing new to pin: a read-only file is fine.
    (root / "episodes" / "003-third.yaml").unlink()
    publish(root, tmp_path / "out", now=NOW)


@pytest.mark.parametrize("fifo", ["published.yaml", ".entretiens/cache/probe.json"])
def test_a_fifo_as_the_state_or_the_probe_cache_does_not_hang(tmp_path: Path, fifo: str) -> None:
    root = make_show(tmp_path / "show")
    (root / fifo).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / fifo)
    if fifo == "published.yaml":
        with pytest.raises(EntretiensError) as caught:
            publish(root, tmp_path / "out", now=NOW)
        (problem,) = caught.value.problems  # type: ignore[attr-defined]
        assert (problem.rule, problem.path) == ("state-file", root / "published.yaml")
        assert "not a regular file" in problem.message
    else:
        publish(root, tmp_path / "out", now=NOW)  # the cache is only a cache: rebuilt
        assert (root / fifo).is_file()


@pytest.mark.parametrize(
    "fifo",
    [
        ".entretiens/build.json",
        ".entretiens/cache/images/checked.json",
        ".entretiens/cache/units/pages.checked",
        ".entretiens/cache/units/transcript-files.checked",
        ".entretiens/output-stamps.journal",
        ".entretiens/output-digests.journal",
    ],
)
def test_a_fifo_as_the_build_record_or_a_ledger_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fifo: str
) -> None:
    """The build record, the output's journals and the ledgers of checked files are read whole:
    a FIFO in their place (a show folder can come from anyone) is no record, no journal and no
    ledger, never a publish that waits forever for a writer."""
    root = copy_sample_show(tmp_path / "show")
    # Files count as settled at once: the first publish writes every ledger (timing decides else).
    with monkeypatch.context() as patched:
        patched.setattr(walks, "FINE_RACY_NS", 0)
        patched.setattr(walks, "RACY_NS", 0)
        publish(root, now=SAMPLE_NOW)
    assert (root / fifo).is_file()
    (root / fifo).unlink()
    os.mkfifo(root / fifo)
    first = sorted((root / "episodes").glob("*.yaml"))[0]
    command = [sys.executable, "-m", "entretiens", "publish", "--show", str(root), "--quiet"]
    # Nothing changed (the record and the output's stamps are read), then an edit. A hang ends
    # the run after two minutes, and fails the test.
    for edit in (False, True):
        if edit:
            text = first.read_text(encoding="utf-8").replace('title: "', 'title: "Revu, ', 1)
            first.write_text(text, encoding="utf-8")
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    # The edit is published, as by a cold build: the same pages as one of a fresh copy.
    cold = copy_sample_show(tmp_path / "cold")
    shutil.copy2(first, cold / "episodes" / first.name)
    subprocess.run([*command[:5], str(cold), "--quiet"], capture_output=True, timeout=120, check=True)
    pages = sorted((root / "public").glob("*/index.html"))
    assert pages and any("Revu, " in page.read_text(encoding="utf-8") for page in pages)
    assert {page.parent.name: page.read_bytes() for page in pages} == {
        page.parent.name: page.read_bytes() for page in sorted((cold / "public").glob("*/index.html"))
    }


def test_a_fifo_in_place_of_a_journal_is_no_journal(tmp_path: Path) -> None:
    """Read in the write of an edit made in place too: a FIFO there is no journal, at once."""
    path = tmp_path / "output-digests.journal"
    os.mkfifo(path)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(journal.read(path, "token", 100)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "the read of a FIFO waits for a writer"
    assert found == [None]


def test_a_read_only_output_folder_leaves_no_copy_behind(world_readable_dir: Path) -> None:
    """Atomic output: publishing over a public/ the host made read-only replaces it whole and
    leaves no previous copy beside it (deleting needs write permission on each folder)."""
    prefix = as_another_user()
    root = make_show(world_readable_dir / "show")
    out = world_readable_dir / "public"
    for path in [world_readable_dir, *world_readable_dir.rglob("*")]:
        if prefix:
            os.chown(path, 65534, 65534)

    def run() -> subprocess.CompletedProcess[str]:
        command = [*prefix, sys.executable, "-m", "entretiens", "publish", "--show", str(root), "--output", str(out)]
        env = {**os.environ, "HOME": str(world_readable_dir), "NO_COLOR": "1"}
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    assert run().returncode == 0
    for path in [out, *out.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    path = root / "episodes" / "001-first.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Revu, "), encoding="utf-8")
    result = run()
    assert result.returncode == 0, result.stderr
    assert b"Revu" in (out / "feed.xml").read_bytes()
    left = sorted(p.name for p in world_readable_dir.iterdir() if p.name.startswith(".public."))
    assert left == [], left
