"""The output's ledger as a journal: written whole once, then appended to with what each
publish changed; read only as the file its record names, whole and unbroken."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest
import yaml

from entretiens import buildrecord, inplace, journal
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show


def _entries(count: int) -> dict[str, object]:
    return {f"{n % 7}/page-{n}.html": [n, n * 10, n * 11, n + 3] for n in range(count)}


def test_appended_changes_read_back_as_the_whole_mapping(tmp_path: Path) -> None:
    path = tmp_path / "stamps.journal"
    first = _entries(100)
    place = journal.write(path, first)
    assert place is not None and place.lines == 1 and path.stat().st_size == place.size
    assert journal.read(path, place.token, place.size) == (first, place)
    # A few changes, one removal: one line appended, the file otherwise as it was.
    second = {**first, "1/page-1.html": [9, 9, 9, 9], "new/page.html": [1, 2, 3, 4]}
    del second["2/page-2.html"]
    before = path.read_bytes()
    appended = journal.write(path, second, (first, place))
    assert appended is not None and appended.lines == 2 and appended.changed == 3
    data = path.read_bytes()
    assert data.startswith(before) and len(data) - len(before) < len(before) // 10
    read = journal.read(path, appended.token, appended.size)
    assert read is not None and read[0] == second
    # The earlier token and size no longer name this file.
    assert journal.read(path, place.token, place.size) is None
    assert journal.read(path, place.token, appended.size) is None


def test_many_changes_write_the_journal_whole(tmp_path: Path) -> None:
    path = tmp_path / "stamps.journal"
    first = _entries(40)
    place = journal.write(path, first)
    assert place is not None
    changed = {key: [0, 0, 0, 0] for key in first}
    again = journal.write(path, changed, (first, place))
    assert again is not None and again.lines == 1 and journal.read(path, again.token, again.size) == (changed, again)
    # And so does an append to a file that is not the one read (another publish wrote it since).
    other = journal.write(path, first)
    assert other is not None
    late = journal.write(path, {**first, "x": [1, 1, 1, 1]}, (changed, again))
    assert late is not None and late.lines == 1
    read = journal.read(path, late.token, late.size)
    assert read is not None and read[0] == {**first, "x": [1, 1, 1, 1]}


def test_a_damaged_or_foreign_journal_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "stamps.journal"
    first = _entries(50)
    place = journal.write(path, first)
    assert place is not None
    second = journal.write(path, {**first, "a": [1, 2, 3, 4]}, (first, place))
    assert second is not None
    good = path.read_bytes()
    lines = good.splitlines(keepends=True)
    for damaged in (
        good[:-1] + b"\r",  # the last line's end
        good.replace(b'"a":[1,2,3,4]', b'"a":[1,2,3,5]'),  # its digest no longer holds
        lines[1] + lines[0][: len(lines[1])] if len(lines[0]) > len(lines[1]) else b"",
        lines[0] + lines[1].replace(place.token.encode(), b"0" * 32),  # appended after another line
        b"",
    ):
        path.write_bytes(damaged)
        assert journal.read(path, second.token, second.size) is None
    path.write_bytes(good)
    assert journal.read(path, second.token, second.size) is not None
    assert journal.read(path, second.token, "123") is None
    assert journal.read(tmp_path / "missing", second.token, second.size) is None


def _edit(root: Path, notes: str) -> None:
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    episode.write_text(yaml.safe_dump({**data, "notes": notes}, allow_unicode=True, sort_keys=False))


def test_an_edit_appends_only_what_changed_and_the_ledger_is_a_fresh_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample show is small: written in place as a large show is (staged, every file is new),
    # an edit still changes a good share of its 70 files and folders.
    monkeypatch.setattr(inplace, "MIN_FILES", 1)
    monkeypatch.setattr(inplace, "SHARE", 1)
    monkeypatch.setattr(journal, "_SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    stamps = root / buildrecord.STAMPS
    whole = stamps.stat().st_size
    for round_ in range(3):
        _edit(root, f"Edited {round_}.")
        result = publish(root, now=SAMPLE_NOW)
        assert result.report is not None and result.report.written
        record = json.loads((root / buildrecord.RECORD).read_text(encoding="utf-8"))
        assert "outputs" not in record  # the output's stamps are not written whole in the record
        kept = buildrecord.kept(root, root / "public")
        # What the journals hold after each append is what a walk finds now.
        assert kept is not None and kept.stats == buildrecord.outputs(root / "public")
        assert set(kept.digests) <= set(kept.stats)
        assert kept.places[0] is not None and kept.places[0].lines == 2 + round_
    # Each publish appended its few changes, not the whole ledger again.
    assert stamps.stat().st_size - whole < whole


def test_only_the_keys_said_changed_are_compared_and_appended(tmp_path: Path) -> None:
    # A write knows which names it changed (its walk's, its own): only those are compared, not
    # the 80,000 stamps of a large output. A key not named is taken as unchanged.
    path = tmp_path / "stamps.journal"
    first = _entries(60)
    place = journal.write(path, first)
    assert place is not None
    compared: list[str] = []

    class Counted(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            compared.append(key)
            return super().get(key, default)

    second = {**first, "1/page-1.html": [9, 9, 9, 9], "new/page.html": [1, 2, 3, 4], "0/page-0.html": [0, 0, 0, 0]}
    del second["2/page-2.html"]
    named = ["1/page-1.html", "new/page.html", "2/page-2.html", "3/page-3.html"]  # not 0/page-0.html
    appended = journal.write(path, second, (Counted(first), place), changed=named)
    assert appended is not None and appended.lines == 2 and appended.changed == 3
    assert sorted(compared) == sorted(named)
    read = journal.read(path, appended.token, appended.size)
    assert read is not None and read[0] == {**second, "0/page-0.html": first["0/page-0.html"]}


def test_a_journal_is_read_without_copies_of_its_lines(tmp_path: Path) -> None:
    # At 10,000 episodes the stamps journal is ~8 MB: each line was sliced out (a copy) and its
    # JSON decoded from bytes (a second one, as text) beside the file read whole. Now the file's
    # text is the only copy: what the read holds at its peak beyond what it returns is about the
    # file's size once (the old read: three times).
    path = tmp_path / "stamps.journal"
    first = {f"episode-{n}/page-{n}.html": "x" * 44 for n in range(20_000)}
    place = journal.write(path, first)
    assert place is not None
    appended = journal.write(path, {**first, "é/new.html": "y" * 44}, (first, place))
    assert appended is not None and appended.lines == 2
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        read = journal.read(path, appended.token, appended.size)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read is not None and read[0] == {**first, "é/new.html": "y" * 44}
    assert peak - held < 1.5 * appended.size
    # Our lines are ASCII (JSON's escapes): a file that is not is not ours.
    path.write_bytes(path.read_bytes().replace(b"\\u00e9", "é".encode()))
    assert journal.read(path, appended.token, path.stat().st_size) is None


def test_a_whole_mapping_is_written_a_chunk_at_a_time(tmp_path: Path) -> None:
    # The stamps of a large output (80,000 at 10,000 episodes), written whole: the encoded
    # values, the dump, its text, its bytes and the line were each as large as the file.
    stamps = {f"{n:05d}-episode/page-{n}.html": (n * 7, 10**18 + n, 10**18 + 2 * n, 10**6 + n) for n in range(50_000)}
    path = tmp_path / "stamps.journal"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        place = journal.write(path, stamps, encode=buildrecord.packed)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert place is not None and place.size == path.stat().st_size > 3 * 1024 * 1024
    assert peak < place.size // 4, (peak, place.size)
    read = journal.read(path, place.token, place.size)
    assert read is not None and buildrecord.unpacked(read[0]) == stamps


def test_a_line_is_the_dump_of_its_document_behind_its_digest(tmp_path: Path) -> None:
    # Written a chunk at a time, a line is still byte for byte the JSON of the whole document.
    first = {f"{n % 5}/é-{n}.html": [n, str(n)] for n in range(journal._CHUNK * 2 + 3)}
    path = tmp_path / "journal"
    place = journal.write(path, first)
    assert place is not None
    text = json.dumps({"after": None, "token": place.token, "entries": first}, separators=(",", ":")).encode()
    assert path.read_bytes() == hashlib.sha256(text).hexdigest().encode() + b" " + text + b"\n"
    # An appended line, with a key removed (null), the same.
    second = dict(first)
    del second["0/é-0.html"]
    second["new"] = [1, "1"]
    appended = journal.write(path, second, (first, place))
    assert appended is not None and appended.lines == 2
    changes = {"new": [1, "1"], "0/é-0.html": None}
    line = json.dumps({"after": place.token, "token": appended.token, "entries": changes}, separators=(",", ":"))
    tail = path.read_bytes()[place.size :]
    digest = hashlib.sha256(line.encode()).hexdigest()
    assert tail == f"{digest} {line}\n".encode()
    read = journal.read(path, appended.token, appended.size)
    assert read is not None and read[0] == second
