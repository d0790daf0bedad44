"""A stored kind's units (the pages) name their files in the store's index, as each entry's head:
checked with the index in one pass, and decoded only for the units used (the index itself is
not JSON: nothing of the units not asked for is decoded); a store of the earlier form, a head
forged or damaged, is never taken for what it is not (its units are made anew)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from entretiens import checkedstore, pipeline, unitcache, unitstore
from entretiens.checkedstore import Reader, Store, Writer
from entretiens.content import content_bytes
from entretiens.output import Stored
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of
from test_unit_store import store_version


def _request(number: int) -> unitcache.Request:
    files = {f"e{number}/index.html": b"<p>%d</p>" % number, f"e{number}/notes.md": b"n", "#entry": b"x" * number}
    return ((number,), lambda: dict(files), ())


def _read(units: unitcache.Units, count: int) -> list[dict[str, bytes]]:
    found = units.get_files([_request(n) for n in range(count)])
    return [{name: content_bytes(content) for name, content in unit.items()} for unit in found]


def _decodes_reading_back(folder: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many JSON decodes reading back ``count`` kept units takes (and that they are the
    units made)."""
    made = unitcache.Units(folder, "pages", version="v", stored=True)
    first = _read(made, count)
    made.prune()
    decoded: list[bytes] = []
    real = json.loads

    def counting(text: bytes) -> object:
        decoded.append(text)
        return real(text)

    with monkeypatch.context() as patched:
        patched.setattr(json, "loads", counting)
        kept = unitcache.Units(folder, "pages", version="v", stored=True)
        found = kept.get_files([_request(n) for n in range(count)])
    assert kept.computed == 0
    assert all(type(content) is Stored for unit in found for name, content in unit.items() if name[0] != "#")
    assert [{name: content_bytes(content) for name, content in unit.items()} for unit in found] == first
    # The ledger of checked page files aside (written once they settle: timing decides).
    return sum(1 for text in decoded if b'"files":' not in text[:40])


def test_kept_units_are_read_back_with_one_json_decode_each_their_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each unit's head (its files' names and digests), once; no decode of the whole index.
    assert _decodes_reading_back(tmp_path / "few", 3, monkeypatch) == 3
    assert _decodes_reading_back(tmp_path / "many", 40, monkeypatch) == 40


def _rewrite(path: Path, change: dict[str, object]) -> None:
    """Write the store at ``path`` again, well formed, with the heads in ``change`` instead."""
    version = checkedstore.version_of(path)
    assert version is not None
    reader = Reader(path, unitstore.STORED_FORMAT, version)
    writer = Writer(path.parent, unitstore.STORED_FORMAT)
    for key, (tag, _start, _count, digest) in reader.index.items():
        body = reader.entry(key, tag)
        assert body is not None
        writer.add(key, tag, body, digest, change.get(key, reader.heads[key]))
    reader.close()
    writer.finish(path, version)


def _rows(head: object) -> list[list[Any]]:
    assert isinstance(head, list)
    return [list(row) for row in head]


def _forged(head: object) -> object:
    assert isinstance(head, list)
    forged = [list(row) for row in head]
    row = next(row for row in forged if not row[0].startswith("#"))
    row[2] = "0" * 64  # a page file said to hold other bytes
    return forged


HEADS: dict[str, Callable[[object], object]] = {
    "other digest": _forged,
    "not a list": lambda head: {"a": 1},
    "short row": lambda head: [row[:3] for row in _rows(head)],
    "inline longer": lambda head: [[*row[:1], row[1] + 1, *row[2:]] for row in _rows(head)],
}


@pytest.mark.parametrize("damage", HEADS)
def test_a_forged_head_makes_its_unit_anew_alone(tmp_path: Path, damage: str) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    store = root / unitcache.UNITS_DIR / "pages.store"
    reader = Reader(store, unitstore.STORED_FORMAT, store_version(store))
    key = next(key for key, head in reader.heads.items() if isinstance(head, list) and len(head) > 2)
    head = reader.heads[key]
    reader.close()
    _rewrite(store, {key: HEADS[damage](head)})
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 1
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    fresh = copy_sample_show(tmp_path / "fresh")
    cold = pipeline.build(fresh, now=SAMPLE_NOW, use_cache=False)
    pipeline.commit(cold, tmp_path / "cold", pin_guids=False)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def test_a_store_of_the_earlier_form_is_ignored_and_made_again(tmp_path: Path) -> None:
    # The pages' store as the last release wrote it: each entry its JSON line then its inline bytes.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    store = root / unitcache.UNITS_DIR / "pages.store"
    version = store_version(store)
    reader = Reader(store, unitstore.STORED_FORMAT, version)
    writer = Writer(store.parent, unitstore.FORMAT)
    for key, (tag, _start, _count, _digest) in reader.index.items():
        body = reader.entry(key, tag)
        assert body is not None
        old = json.dumps(reader.heads[key]).encode() + b"\n" + body
        writer.add(key, tag, old, unitstore.FORMAT.digest(old))
    reader.close()
    writer.finish(store, version)
    (root / unitcache.UNITS_DIR / "pages.overlay").unlink(missing_ok=True)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == len(built.releases) + 1
    shutil.rmtree(root / "public")
    publish(root, now=SAMPLE_NOW)
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, now=SAMPLE_NOW)
    assert files_of(root / "public") == files_of(fresh / "public")


def test_heads_travel_with_their_entries_through_the_overlay_and_a_rewrite(tmp_path: Path) -> None:
    form = unitstore.STORED_FORMAT
    store = Store(tmp_path, "k", form, "v", prune=False)
    store.put("a", b"1", head=["ha"])
    store.put("b", b"", head={"x": [1]})
    assert store.head("a") == ["ha"]
    store.close()
    again = Store(tmp_path, "k", form, "v", prune=False)
    assert again.get("b") == b"" and again.head("b") == {"x": [1]}
    again.put("c", b"3", head="hc")
    again.close()
    # Written again whole (OVERLAY_MIN): every entry keeps its own head.
    last = Store(tmp_path, "k", form, "v", prune=False)
    assert [(last.get(k), last.head(k)) for k in "abc"] == [(b"1", ["ha"]), (b"", {"x": [1]}), (b"3", "hc")]
    last.close()
    # A row without its head is not a row of this format: the whole file is ignored.
    plain = Writer(tmp_path, unitstore.FORMAT)
    plain.add("a", (), b"1", form.digest(b"1"))
    plain.finish(tmp_path / "p.store", "v")
    assert Reader(tmp_path / "p.store", form, "v").index == {}
