"""A stored kind's units (the pages) name their files in the store's index, as each entry's head:
checked with the index in one pass, and split only for the units used (neither the index nor a
head is JSON: nothing is JSON-decoded to read a kept unit back); a store of an earlier form, a
head forged or damaged, is never taken for what it is not (its units are made anew)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from entretiens import checkedstore, pipeline, unitcache, unitstore
from entretiens.checkedstore import Reader, Store, Writer
from entretiens.content import content_bytes
from entretiens.output import Stored
from entretiens.publish import publish
from entretiens.storetable import Format, key_bytes
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


def test_kept_units_are_read_back_without_a_json_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each unit's head (its files' names and digests) is split, not JSON-decoded (before: one
    # decode of ~1 KB per unit read back); nor is the index.
    assert _decodes_reading_back(tmp_path / "few", 3, monkeypatch) == 0
    assert _decodes_reading_back(tmp_path / "many", 40, monkeypatch) == 0


Head = list[tuple[str, int, str, str | None]]


def _heads(path: Path) -> dict[str, Head]:
    """Each entry's head in the store at ``path``, decoded."""
    reader = Reader(path, unitstore.STORED_FORMAT, store_version(path))
    try:
        heads = {key: unitstore.decode_head(reader.head_json(key_bytes(key)) or b"") for key in reader.index}
    finally:
        reader.close()
    assert all(head is not None for head in heads.values())
    return heads  # type: ignore[return-value]


def _rewrite(path: Path, change: dict[str, bytes]) -> None:
    """Write the store at ``path`` again, well formed, with the heads in ``change`` instead."""
    version = checkedstore.version_of(path)
    assert version is not None
    reader = Reader(path, unitstore.STORED_FORMAT, version)
    writer = Writer(path.parent, unitstore.STORED_FORMAT)
    for key, (tag, _start, _count, digest) in reader.index.items():
        body = reader.entry(key, tag)
        assert body is not None
        writer.add(key, tag, body, digest, head_json=change.get(key, reader.head_json(key_bytes(key))))
    reader.close()
    writer.finish(path, version)


def _forged(head: Head) -> bytes:
    forged = list(head)
    at = next(number for number, row in enumerate(forged) if not row[0].startswith("#"))
    forged[at] = (forged[at][0], forged[at][1], "0" * 64, forged[at][3])  # a page file said to hold other bytes
    return unitstore.encode_head(forged)


def _fields(head: Head, count: int) -> bytes:
    """``head`` with only the first ``count`` fields of each row (a row cut short)."""
    whole = unitstore.encode_head(head).split(b"\0")
    rows = [whole[at : at + 4][:count] for at in range(0, len(whole) - 1, 4)]
    return b"".join(field + b"\0" for row in rows for field in row)


HEADS: dict[str, Callable[[Head], bytes]] = {
    "other digest": _forged,
    "json": lambda head: json.dumps([list(row) for row in head]).encode(),
    "short row": lambda head: _fields(head, 3),
    "inline longer": lambda head: unitstore.encode_head([(n, s + 1, d, m) for n, s, d, m in head]),
    "not a size": lambda head: unitstore.encode_head(head).replace(b"\0", b"\0x", 1),
    "unknown mark": lambda head: unitstore.encode_head(head).replace(b"\0=", b"\0?").replace(b"\0+", b"\0?"),
    "not utf-8": lambda head: unitstore.encode_head(head) + b"\xff\0\0\0\0",
}


@pytest.mark.parametrize("damage", HEADS)
def test_a_forged_head_makes_its_unit_anew_alone(tmp_path: Path, damage: str) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    store = root / unitcache.UNITS_DIR / "pages.store"
    key, head = next((key, head) for key, head in _heads(store).items() if len(head) > 2)
    _rewrite(store, {key: HEADS[damage](head)})
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == 1
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    fresh = copy_sample_show(tmp_path / "fresh")
    cold = pipeline.build(fresh, now=SAMPLE_NOW, use_cache=False)
    pipeline.commit(cold, tmp_path / "cold", pin_guids=False)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def _made_again_whole(root: Path, tmp_path: Path) -> None:
    """The pages' store of ``root``, rewritten in an older form, is ignored whole: every page
    is made again, and the publish equals one of a fresh copy of the show."""
    (root / unitcache.UNITS_DIR / "pages.overlay").unlink(missing_ok=True)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.computed["pages"] == len(built.releases) + 1
    shutil.rmtree(root / "public")
    publish(root, now=SAMPLE_NOW)
    fresh = copy_sample_show(tmp_path / "fresh")
    publish(fresh, now=SAMPLE_NOW)
    assert files_of(root / "public") == files_of(fresh / "public")


def test_a_store_of_the_earlier_form_is_ignored_and_made_again(tmp_path: Path) -> None:
    # The pages' store as the last release wrote it: each entry its JSON line then its inline bytes.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    store = root / unitcache.UNITS_DIR / "pages.store"
    version = store_version(store)
    heads = _heads(store)
    reader = Reader(store, unitstore.STORED_FORMAT, version)
    writer = Writer(store.parent, unitstore.FORMAT)
    for key, (tag, _start, _count, _digest) in reader.index.items():
        body = reader.entry(key, tag)
        assert body is not None
        old = json.dumps([list(row) for row in heads[key]]).encode() + b"\n" + body
        writer.add(key, tag, old, unitstore.FORMAT.digest(old))
    reader.close()
    writer.finish(store, version)
    _made_again_whole(root, tmp_path)


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


def test_a_store_of_json_heads_is_ignored_whole_and_made_again(tmp_path: Path) -> None:
    # The pages' store as version 1 of the format wrote it: the same entries, each head JSON.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    store = root / unitcache.UNITS_DIR / "pages.store"
    version = store_version(store)
    heads = _heads(store)
    first = Format(magic=b"entretiens-stored-units 1\n", tag_size=0, digest_size=64, prefix=".units.", heads=True)
    reader = Reader(store, unitstore.STORED_FORMAT, version)
    writer = Writer(store.parent, first)
    for key, (tag, _start, _count, digest) in reader.index.items():
        body = reader.entry(key, tag)
        assert body is not None
        writer.add(key, tag, body, digest, [list(row) for row in heads[key]])
    reader.close()
    writer.finish(store, version)
    _made_again_whole(root, tmp_path)


def test_a_head_gives_back_what_it_was_given() -> None:
    digest = "ab" * 32
    rows: list[tuple[str, int, str, str | None]] = [
        ("e/index.html", 12, digest, f"{digest} 1f 2e"),  # noted after the digest
        ("e/notes.md", 0, digest, "other marks"),
        ("e/\udcff odd\nname=+.md", 3, digest, ""),  # a name read from a file system, an empty mark
        ("#entry", 5, "cd" * 32, None),
        ("e/b", 1, digest, f"{digest}"),  # a mark that is the digest alone: kept as it is
    ]
    head = unitstore.encode_head(rows)
    assert unitstore.decode_head(head) == rows
    assert unitstore.decode_head(b"") == []
    # The digest a mark starts with is not kept twice: once per row, and in the last row's mark.
    assert head.count(digest.encode()) == 5
    for bad in (b"a\0", b"a\0" * 5, b"a\x001\0" + digest.encode() + b"\0=x", b"a\0-1x\0d\0\0", b"\xff\0" * 4):
        assert unitstore.decode_head(bad) is None, bad
    with pytest.raises(ValueError, match="NUL"):
        unitstore.encode_head([("a\0b", 1, digest, None)])


def test_a_unit_whose_file_names_hold_a_nul_is_handed_on_unkept(tmp_path: Path) -> None:
    units = unitcache.Units(tmp_path, "pages", version="v", stored=True)
    made = {"e/index.html": b"page", "e/\0odd": b"x"}
    found = units.get_files([((1,), lambda: dict(made), ())])
    assert found == [made]
    units.prune()
    again = unitcache.Units(tmp_path, "pages", version="v", stored=True)
    assert again.get_files([((1,), lambda: dict(made), ())]) == [made]
    assert again.computed == 1
    assert not [path for path in (tmp_path / unitcache.UNITS_DIR / "pages").rglob("*") if path.is_file()]
