"""The output's ledger: a write proves unchanged files from the stamps and digests the last one
kept, without reading them back, and still rewrites any file changed behind its back."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
from pathlib import Path, PurePosixPath

import pytest
import yaml

from entretiens import buildrecord, inplace, journal, output, pipeline, walks
from entretiens.buildrecord import Ledger
from entretiens.output import Content, stored, write_tree
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show

EMPTY = Ledger(stats={}, digests={})


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps settle as soon as taken (the real window is a tick, 0.1 s or 2 s, after a change)."""
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    monkeypatch.setattr(walks, "RACY_NS", 0)


def _contents(tmp_path: Path, count: int = 30) -> dict[PurePosixPath, Content]:
    """Text files, a cache's page (Stored) and a copied recording, in a few folders."""
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    page = cache / "page.html"
    page.write_bytes(b"<p>kept page</p>")
    audio = tmp_path / "episode.mp3"
    audio.write_bytes(b"\xff\xfb" * 500)
    files: dict[PurePosixPath, Content] = {
        PurePosixPath(f"{n % 3}/page-{n}.html"): f"page {n}".encode() for n in range(count)
    }
    files[PurePosixPath("kept/index.html")] = stored(page, hashlib.sha256(page.read_bytes()).hexdigest(), 16)
    files[PurePosixPath("audio/episode.mp3")] = audio
    return files


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> bool:
        raise AssertionError("an old output file was read back")

    monkeypatch.setattr(output, "_holds", refuse)
    monkeypatch.setattr(output, "_same", refuse)
    monkeypatch.setattr(output, "_same_bytes", refuse)


@pytest.mark.usefixtures("settled_at_once")
def test_an_edit_reads_back_no_unchanged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "public"
    files = _contents(tmp_path)
    first = write_tree(out, files, EMPTY)
    assert first.ledger is not None and len(first.ledger.digests) == len(files) + 1  # and the marker
    monkeypatch.setattr(inplace, "MIN_FILES", 1)
    edited = {**files, PurePosixPath("1/page-4.html"): b"edited"}
    with monkeypatch.context() as reading:
        _no_reading(reading)
        report = write_tree(out, edited, first.ledger)
    assert report.read_back == 0
    assert [str(p) for p in report.written] == ["1/page-4.html"]
    assert len(report.unchanged) == len(files) - 1
    assert _tree(out) == _tree(_fresh(tmp_path / "cold", edited))
    # The ledger it leaves is the folder as a walk finds it.
    assert report.ledger is not None and report.ledger.stats == buildrecord.outputs(out)


def test_without_a_ledger_old_files_are_read_back(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = _contents(tmp_path)
    write_tree(out, files)
    assert write_tree(out, files).read_back == len(files) + 1


def _fresh(folder: Path, files: dict[PurePosixPath, Content]) -> Path:
    write_tree(folder, files)
    return folder


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize("name", ["0/page-3.html", "kept/index.html", "audio/episode.mp3"])
def test_a_file_changed_by_hand_is_rewritten_even_with_its_times_put_back(tmp_path: Path, name: str) -> None:
    out = tmp_path / "public"
    files = _contents(tmp_path)
    ledger = write_tree(out, files, EMPTY).ledger
    target = out / name
    before = target.stat()
    target.write_bytes(b"X" * before.st_size)  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # and mtime: only the ctime moved
    report = write_tree(out, files, ledger)
    assert name in [str(p) for p in report.written]
    assert _tree(out) == _tree(_fresh(tmp_path / "cold", files))


@pytest.mark.usefixtures("settled_at_once")
def test_a_copy_whose_source_was_only_touched_is_left_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = _contents(tmp_path)
    ledger = write_tree(out, files, EMPTY).ledger
    source = tmp_path / "episode.mp3"
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 5_000_000_000))  # same bytes
    report = write_tree(out, files, ledger)
    assert not report.changed and report.read_back == 1
    source.write_bytes(b"\xff\xfb" * 499 + b"\x00\x00")  # new bytes, same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 9_000_000_000))
    report = write_tree(out, files, report.ledger)
    assert [str(p) for p in report.written] == ["audio/episode.mp3"]
    assert (out / "audio" / "episode.mp3").read_bytes() == source.read_bytes()


@pytest.mark.usefixtures("settled_at_once")
def test_a_wrong_digest_in_the_ledger_rewrites_the_file(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = _contents(tmp_path)
    ledger = write_tree(out, files, EMPTY).ledger
    assert ledger is not None
    damaged = Ledger(stats=ledger.stats, digests=dict.fromkeys(ledger.digests, "0" * 64))
    report = write_tree(out, files, damaged)
    assert len(report.written) == len(files)
    assert _tree(out) == _tree(_fresh(tmp_path / "cold", files))


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize("in_place", [True, False], ids=["in place", "staged"])
def test_the_ledger_after_a_write_is_what_a_walk_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> None:
    if in_place:
        monkeypatch.setattr(inplace, "MIN_FILES", 1)
        monkeypatch.setattr(inplace, "SHARE", 1)
    out = tmp_path / "public"
    files = _contents(tmp_path)
    ledger = write_tree(out, files, EMPTY).ledger
    changed = {path: content for path, content in files.items() if path.parent.name != "2"}
    changed[PurePosixPath("new/deep/page.html")] = b"new"
    changed[PurePosixPath("0/page-0.html")] = b"edited"
    report = write_tree(out, changed, ledger)
    assert not (out / "2").exists()
    assert report.ledger is not None and report.ledger.stats == buildrecord.outputs(out)
    assert set(report.ledger.digests) <= {str(path) for path in changed} | {str(output.MARKER)}
    # The next write trusts what this one left (its stamps settled) and reads nothing.
    again = write_tree(out, changed, report.ledger)
    assert not again.changed and again.read_back == 0


def test_a_stamp_settles_a_tick_after_the_last_change() -> None:
    fine = 1_700_000_000_123_456_789
    assert not buildrecord.settled((1, fine, fine, 7), fine + 50_000_000)
    assert buildrecord.settled((1, fine, fine, 7), fine + 150_000_000)
    # Whole seconds: a coarse file system (FAT keeps mtimes to 2 s), so 2 s.
    coarse = 1_700_000_000_000_000_000
    assert not buildrecord.settled((1, coarse, coarse, 7), coarse + 1_500_000_000)
    assert buildrecord.settled((1, coarse, coarse, 7), coarse + 2_500_000_000)


@pytest.mark.usefixtures("settled_at_once")
def test_a_damaged_foreign_or_old_record_gives_no_ledger(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    record, stamps, digests = root / buildrecord.RECORD, root / buildrecord.STAMPS, root / buildrecord.DIGESTS
    kept = buildrecord.kept(root, out)
    assert kept is not None and kept.stats == buildrecord.outputs(out) and kept.digests
    assert buildrecord.kept(root, tmp_path / "elsewhere") is None  # another output folder
    document = json.loads(record.read_text(encoding="utf-8"))
    for damaged in (
        record.read_text(encoding="utf-8")[:-10],  # cut short
        json.dumps({**document, "version": buildrecord.RECORD_VERSION - 1}),
        json.dumps({**document, "ledger": [["another", 10], document["ledger"][1]]}),
        json.dumps({**document, "ledger": "none"}),
        "[]",
    ):
        record.write_text(damaged, encoding="utf-8")
        assert buildrecord.kept(root, out) is None
    record.write_text(json.dumps(document), encoding="utf-8")
    assert buildrecord.kept(root, out) == kept
    # Stamps that are not the record's own (damaged, another publish's, appended to): no ledger.
    stamped = stamps.read_bytes()
    token = document["ledger"][0][0]
    for broken in (
        stamped[:-10],
        stamped.replace(b'"feed.xml"', b'"feed.xmL"'),  # its digest no longer holds
        stamped + stamped,
        _journal_line({"after": None, "token": token, "entries": {}}),  # another whole mapping
    ):
        stamps.write_bytes(broken)
        assert buildrecord.kept(root, out) is None
    # A journal that holds, named by the record, with entries that are not stamps (as version 3
    # wrote them, a stamp too short, not base64, not text).
    [stamp] = buildrecord.packed([(1, 2, 3, 4)])
    for value in ([1, 2, 3, 4], ["a", 1, 2, 3], stamp[:-4], "?" * len(stamp), 12):
        forged = _journal_line({"after": None, "token": token, "entries": {"feed.xml": value}})
        stamps.write_bytes(forged)
        record.write_text(json.dumps({**document, "ledger": [[token, len(forged)], document["ledger"][1]]}))
        assert buildrecord.kept(root, out) is None, value
    stamps.write_bytes(stamped)
    record.write_text(json.dumps(document), encoding="utf-8")
    # Digests that are not the record's own: the stamps, with no digests at all.
    hashed = digests.read_bytes()
    for broken in (hashed[:-10], hashed.replace(b'"feed.xml"', b'"feed.xmL"'), b""):
        digests.write_bytes(broken)
        again = buildrecord.kept(root, out)
        assert again is not None and again.stats == kept.stats and again.digests == {}
    digests.write_bytes(hashed)
    assert buildrecord.kept(root, out) == kept


def test_a_page_changed_by_hand_is_restored_by_the_next_publish(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    page = next(p for p in sorted((root / "public").glob("*/index.html")))
    before = page.stat()
    page.write_bytes(b"X" * before.st_size)
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
    publish(root, now=SAMPLE_NOW)
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(cold, now=SAMPLE_NOW)
    assert _tree(root / "public") == _tree(cold / "public")


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize("checked_first", [False, True], ids=["publish", "check-then-publish"])
def test_the_ledger_is_read_for_the_write_not_held_through_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked_first: bool
) -> None:
    """At 10,000 episodes the ledger is 80,000 stamps and 60,000 digests (tens of MB): read
    before the build, it was held through the build's peak. Its digests are read when the
    write needs them, and so is the whole ledger of a publish that no check walked before."""
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
    walked = buildrecord.look(root, None)[1] if checked_first else None
    assert walked is None or walked.ledger is not None
    read: list[Path] = []
    collecting: list[bool] = []
    real_read = journal.read

    def journals(path: Path, *args: object) -> object:
        read.append(path)
        collecting.append(gc.isenabled())
        return real_read(path, *args)

    monkeypatch.setattr(journal, "read", journals)
    held: list[int] = []
    real_build = pipeline.build

    def build(*args: object, **kwargs: object) -> pipeline.Build:
        gc.collect()
        held.append(sum(type(o) is Ledger and o is not EMPTY for o in gc.get_objects()))
        held.append(len(read))
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "build", build)
    with monkeypatch.context() as reading:
        # Yet the write proves the unchanged files from it, reading none of them back.
        reading.setattr(inplace, "MIN_FILES", 1)
        _no_reading(reading)
        result = publish(root, now=SAMPLE_NOW, walked=walked)
    assert held == [0, 0]
    assert read == [root / buildrecord.STAMPS, root / buildrecord.DIGESTS]
    # Read with the cycle collector paused (tens of thousands of tuples, no cycle among them).
    assert collecting == [False, False]
    assert result.report is not None and result.report.read_back == 0 and result.report.written


def test_an_edit_hashes_and_sorts_only_what_it_may_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inplace, "MIN_FILES", 1)
    out = tmp_path / "public"
    files = _contents(tmp_path)
    with monkeypatch.context() as settled:
        settled.setattr(walks, "FINE_RACY_NS", 0)
        settled.setattr(walks, "RACY_NS", 0)
        ledger = write_tree(out, files, EMPTY).ledger
        other = tmp_path / "other"
        other_ledger = write_tree(other, files, EMPTY).ledger
    # From now on, a stamp taken after a write is not settled (as in the same tick): no digest.
    hashed: list[Content] = []
    ordered: list[PurePosixPath] = []
    digest, order = output._digest, output.path_order

    def counted_digest(content: Content) -> str:
        hashed.append(content)
        return digest(content)

    def counted_order(path: PurePosixPath) -> str:
        ordered.append(path)
        return order(path)

    monkeypatch.setattr(output, "_digest", counted_digest)
    monkeypatch.setattr(output, "path_order", counted_order)
    # Another size: written without hashing it (nor reading it back); the others are hashed
    # (text) or known by their digest (a kept page) or source (a copy); only the written sorted.
    edited = {**files, PurePosixPath("1/page-4.html"): b"edited, longer"}
    report = write_tree(out, edited, ledger)
    assert [str(p) for p in report.written] == ["1/page-4.html"] and report.read_back == 0
    # The others and the marker, but the kept page (its digest is its own) and the copy (its
    # source's stamp says it): those are compared without a call.
    assert b"edited, longer" not in hashed and len(hashed) == len(files) - 2
    assert all(isinstance(content, bytes) for content in hashed)
    assert ordered == [PurePosixPath("1/page-4.html")]
    # The same size, other bytes: the digest tells, still without reading the old file.
    same_size = {**files, PurePosixPath("1/page-4.html"): b"PAGE 4"}
    with monkeypatch.context() as reading:
        _no_reading(reading)
        report = write_tree(other, same_size, other_ledger)
    assert [str(p) for p in report.written] == ["1/page-4.html"]
    assert _tree(other) == _tree(_fresh(tmp_path / "cold", same_size))
    # Removed files are still found (and sorted): a folder's files gone.
    fewer = {path: content for path, content in same_size.items() if path.parent.name != "2"}
    report = write_tree(other, fewer, report.ledger)
    assert [str(p) for p in report.removed] == sorted(str(p) for p in files if p.parent.name == "2")
    assert report.ledger is not None and report.ledger.stats == buildrecord.outputs(other)
    assert _tree(other) == _tree(_fresh(tmp_path / "cold2", fewer))


def test_the_order_of_paths_as_a_string_is_their_order() -> None:
    names = ["a", "a/b", "a-b", "a/b/c", "ab", "a.b/c", "a b/x", "a/b-c", "a/b/c-d", "é/a", "z", "A/b", "a/", "_/x"]
    paths = [PurePosixPath(name) for name in names]
    assert sorted(paths, key=output.path_order) == sorted(paths)


@pytest.mark.usefixtures("settled_at_once")
def test_a_copy_is_proved_from_the_stamp_its_caller_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The audio was stat'ed against its measure just before the write (releases.changed_audio):
    # the write takes that stamp instead of a stat of its own (10,000 at 10,000 episodes).
    out = tmp_path / "public"
    files = _contents(tmp_path)
    source = tmp_path / "episode.mp3"
    ledger = write_tree(out, files, EMPTY).ledger
    checked = {str(source): (source.stat().st_size, source.stat().st_mtime_ns, source.stat().st_ctime_ns)}
    stat = os.stat

    def refuse(path: object, *args: object, **kwargs: object) -> os.stat_result:
        assert str(path) != str(source), "the source was stat'ed again"
        return stat(path, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as watching:
        watching.setattr(os, "stat", refuse)
        report = write_tree(out, files, ledger, checked)
    assert not report.changed and report.read_back == 0
    # Another stamp checked for it (the source changed): compared, and rewritten if it differs.
    source.write_bytes(b"\xff\xfb" * 499 + b"\x00\x00")
    status = source.stat()
    checked = {str(source): (status.st_size, status.st_mtime_ns, status.st_ctime_ns)}
    report = write_tree(out, files, report.ledger, checked)
    assert [str(p) for p in report.written] == ["audio/episode.mp3"]
    assert (out / "audio" / "episode.mp3").read_bytes() == source.read_bytes()


def test_a_ledger_naming_a_path_out_of_the_folder_is_not_read(tmp_path: Path) -> None:
    # A journal that holds (its digests are right) but names what no walk gives: the stamps are
    # taken by path, so such a name could reach out of the output folder. Checked once, on read.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    record, stamps = root / buildrecord.RECORD, root / buildrecord.STAMPS
    document = json.loads(record.read_text(encoding="utf-8"))
    kept = buildrecord.kept(root, out)
    assert kept is not None
    token = document["ledger"][0][0]
    entries = dict(zip(kept.stats, buildrecord.packed(kept.stats.values()), strict=True))
    for name in ("../show/feed.yaml", "/etc/hostname", "a/../../x", "./feed.xml", "a//b", "", "a\0b", "x/./"):
        [stamp] = buildrecord.packed([(1, 2, 3, 4)])
        forged = _journal_line({"after": None, "token": token, "entries": {**entries, name: stamp}})
        stamps.write_bytes(forged)
        record.write_text(json.dumps({**document, "ledger": [[token, len(forged)], *document["ledger"][1:]]}))
        assert buildrecord.kept(root, out) is None, name
    # The same journal without the odd name is read.
    plain = _journal_line({"after": None, "token": token, "entries": entries})
    stamps.write_bytes(plain)
    record.write_text(json.dumps({**document, "ledger": [[token, len(plain)], *document["ledger"][1:]]}))
    again = buildrecord.kept(root, out)
    assert again is not None and again.stats == kept.stats


def test_a_large_staged_write_leaves_every_file_proved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real settle window: a staged write of a large tree waits for its files to settle
    # (time, not work) before it stamps them, so the next write reads none of them back. They
    # were all written in the last 0.1 s here; at 1,000 episodes, 241 files were.
    monkeypatch.setattr(inplace, "MIN_FILES", 20)
    out = tmp_path / "public"
    files = _contents(tmp_path)
    first = write_tree(out, files, EMPTY)
    assert first.ledger is not None and len(first.ledger.digests) == len(files) + 1  # and the marker
    edited = {**files, PurePosixPath("1/page-4.html"): b"edited"}
    with monkeypatch.context() as reading:
        _no_reading(reading)
        report = write_tree(out, edited, first.ledger)
    assert report.read_back == 0 and [str(p) for p in report.written] == ["1/page-4.html"]
    # A small tree does not wait: its few files are read back (and settle then).
    monkeypatch.setattr(inplace, "MIN_FILES", 200)
    small = write_tree(tmp_path / "small", files, EMPTY)
    assert small.ledger is not None and len(small.ledger.digests) < len(files)


@pytest.mark.usefixtures("settled_at_once")
def test_the_journals_hold_what_each_write_left_and_every_digest_is_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journals are appended to with the names the write changed only (its walk's, its own),
    # not a comparison of every entry: read back, they are the ledger the write left, through
    # edits, a page changed by hand, a folder made by hand, an episode removed. And every
    # digest they keep is the SHA-256 of the file it names (a copy's says "copy").
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # written in place, as a large show's edit
    monkeypatch.setattr(inplace, "SHARE", 1)
    monkeypatch.setattr(journal, "_SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    original = episode.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    for step in ("edited", "by hand", "back", "removed"):
        if step == "edited":
            episode.write_text(yaml.safe_dump({**data, "notes": "Edited."}, allow_unicode=True, sort_keys=False))
        elif step == "by hand":
            page = next(p for p in sorted(out.glob("*/index.html")))
            page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>defaced</p></body>"))
            (out / "stray" / "deeper").mkdir(parents=True)
        elif step == "back":
            episode.write_text(original, encoding="utf-8")
        else:
            (root / "episodes" / "006-frederic-bourguet.yaml").unlink()
        result = publish(root, now=SAMPLE_NOW)
        assert result.report is not None and result.report.changed
        left = result.report.ledger
        again = buildrecord.kept(root, out)
        assert left is not None and again is not None and left.changes is not None
        assert again.places[0] is not None and again.places[0].lines > 1  # appended to, not rewritten
        assert again.stats == left.stats == walks.outputs(out)
        assert again.digests == left.digests
        assert again.digests and all(
            digest == "copy" or hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
            for name, digest in again.digests.items()
        )
    cold = tmp_path / "cold"
    shutil.copytree(root, cold, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(cold, now=SAMPLE_NOW)
    assert _tree(out) == _tree(cold / "public")


@pytest.mark.usefixtures("settled_at_once")
def test_a_proved_file_costs_one_lookup_and_no_stamp_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The walk hands on the ledger's own stamp of every entry that still holds (no tuple made)
    # and names those that moved; the compare then proves a kept page by its digest alone,
    # without looking its stamp up (only text files are sized, copies checked by source).
    monkeypatch.setattr(inplace, "MIN_FILES", 1)
    out = tmp_path / "public"
    files = _contents(tmp_path)
    ledger = write_tree(out, files, EMPTY).ledger
    assert ledger is not None and ledger.since is not None
    moved: set[str] = set()
    found = walks.outputs(out, ledger.stats, ledger.since, [], moved)
    assert found == walks.outputs(out) and not moved
    assert all(found[name] is stamp for name, stamp in ledger.stats.items())
    looked: list[str] = []

    class Counted(dict[str, tuple[int, int, int, int]]):
        def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
            looked.append(key)
            return super().get(key, default)

        def __getitem__(self, key: str) -> tuple[int, int, int, int]:
            looked.append(key)
            return super().__getitem__(key)

    report, digests = output._compare(
        out, {**files, output.MARKER: output._MARKER_TEXT}, Counted(found), ledger, 0, {}, moved
    )
    assert not report.changed and report.read_back == 0 and digests == ledger.digests
    assert "kept/index.html" not in looked and "audio/episode.mp3" in looked  # a copy: its stamp
    assert len(looked) == len(files)  # the text files (sized) and the copy, the marker; no page
    # A page changed in place is named by the walk, and read back.
    page = out / "1" / "page-4.html"
    page.write_bytes(b"PAGE 4")
    moved.clear()
    found = walks.outputs(out, ledger.stats, ledger.since, [], moved)
    assert moved == {"1/page-4.html"}
    report, _ = output._compare(out, files, found, ledger, 0, {}, moved)
    assert [str(p) for p in report.written] == ["1/page-4.html"] and report.read_back == 1


def test_a_stamp_is_kept_packed_and_read_back_as_it_was() -> None:
    # 32 bytes in base64 per stamp: a folder's and a link's sizes (-1, -2), times before 1970,
    # the largest inode; the stamps journal is read in C, with nothing to check number by number.
    stamps = [(-1, 5, 6, 7), (walks.LINK, -1_000, 0, 2**64 - 1), (2**40, 1_796_654_456_076_150_891, 1, 0)]
    names = [f"n{index}" for index in range(len(stamps))]
    values = list(buildrecord.packed(stamps))
    assert all(isinstance(value, str) and len(value) == 44 for value in values)
    assert buildrecord.unpacked(dict(zip(names, values, strict=True))) == dict(zip(names, stamps, strict=True))
    assert buildrecord.unpacked({}) == {}


@pytest.mark.usefixtures("settled_at_once")
def test_digests_naming_an_entry_the_stamps_do_not_are_not_used(tmp_path: Path) -> None:
    # A write proves a file by its digest alone once its stamp held, so every digest must name
    # a stamped entry: a digests journal naming another (each journal holds and is the one
    # the record names, but not the pair a write left) gives a ledger without digests.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    out = root / "public"
    record, stamps = root / buildrecord.RECORD, root / buildrecord.STAMPS
    document = json.loads(record.read_text(encoding="utf-8"))
    kept = buildrecord.kept(root, out)
    assert kept is not None and kept.digests
    page = next(name for name in kept.digests if name.endswith("/index.html"))
    token = document["ledger"][0][0]
    others = {name: stamp for name, stamp in kept.stats.items() if name != page}
    entries = dict(zip(others, buildrecord.packed(others.values()), strict=True))
    forged = _journal_line({"after": None, "token": token, "entries": entries})
    stamps.write_bytes(forged)
    record.write_text(json.dumps({**document, "ledger": [[token, len(forged)], *document["ledger"][1:]]}))
    again = buildrecord.kept(root, out)
    assert again is not None and page not in again.stats and again.digests == {}


def _far_dated_show(folder: Path, far: int) -> Path:
    show = copy_sample_show(folder)
    audio = sorted((show / "audio").glob("*.mp3"))[0]
    os.utime(audio, ns=(far, far))
    return show


@pytest.mark.usefixtures("settled_at_once")
def test_a_file_dated_beyond_what_a_stamp_holds_is_published_and_checked_again(tmp_path: Path) -> None:
    # A time after 2262 does not fit the stamps journal's 64 bits (a recorder's bogus date; the
    # audio copy is a hard link and keeps it): that file's stamp never holds, the rest still do.
    far = 2**63 + 10**18
    show = _far_dated_show(tmp_path / "show", far)
    out = show / "public"
    publish(show, out, now=SAMPLE_NOW)
    kept = buildrecord.kept(show, out)
    assert kept is not None
    far_dated = [name for name, stamp in kept.stats.items() if stamp[0] == walks.NEVER]
    assert len(far_dated) == 1 and (out / far_dated[0]).stat().st_mtime_ns == far
    assert kept.stats["index.html"][0] > 0
    again = publish(show, out, now=SAMPLE_NOW)
    # Read back and found the same, not written again (relinked) at every publish.
    assert again.report is not None and again.report.written == []
    cold = _far_dated_show(tmp_path / "cold", far)
    publish(cold, cold / "public", now=SAMPLE_NOW)
    assert _tree(out) == _tree(cold / "public")


def _journal_line(document: dict[str, object]) -> bytes:
    """A journal line holding ``document``, made here as the format says (its SHA-256, a space,
    its JSON, a line break): to forge journals the record names."""
    text = json.dumps(document, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest().encode() + b" " + text + b"\n"
