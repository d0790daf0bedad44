"""The one store format of the YAML cache and the units (checkedstore.py): what tells the
caches' files apart, tags, and what a run keeps. Each cache's damage cases are in its own tests
(test_yamlcache.py, test_unit_store.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from entretiens import checkedstore, storetable, unitstore, yamlcache
from entretiens.checkedstore import Reader, Store, Writer


def _written(folder: Path, form: checkedstore.Format, entries: dict[str, tuple[tuple[int, ...], bytes]]) -> Path:
    writer = Writer(folder, form)
    for key, (tag, body) in entries.items():
        writer.add(key, tag, body, form.digest(body))
    target = folder / "x.store"
    writer.finish(target, "v")
    return target


def test_a_store_of_one_cache_is_not_read_as_another_s(tmp_path: Path) -> None:
    units = _written(tmp_path, unitstore.FORMAT, {"k": ((), b"body")})
    assert Reader(units, unitstore.FORMAT, "v").entry("k") == b"body"
    # The YAML cache's magic and rows differ: nothing of the units' file is taken.
    assert Reader(units, yamlcache.FORMAT, "v").index == {}
    assert Reader(units, unitstore.FORMAT, "w").index == {}
    stamp = (1, 2, 3, 4, 5)
    parses = _written(tmp_path, yamlcache.FORMAT, {"k": (stamp, b"[1]")})
    assert Reader(parses, unitstore.FORMAT, "v").index == {}
    read = Reader(parses, yamlcache.FORMAT, "v")
    assert read.entry("k", stamp) == b"[1]"
    # Another stamp: the entry is not the file's any more.
    assert read.entry("k", (1, 2, 3, 4, 6)) is None
    assert read.index["k"][3] == yamlcache.FORMAT.digest(b"[1]")
    assert len(read.index["k"][3]) == 32


def test_a_row_of_the_wrong_length_makes_the_file_ignored(tmp_path: Path) -> None:
    # A units' row read with one integer of tag too many or too few.
    short = checkedstore.Format(magic=b"m\n", tag_size=0, digest_size=64, prefix=".t.")
    target = _written(tmp_path, short, {"a": ((), b"x"), "b": ((), b"y")})
    assert set(Reader(target, short, "v").index) == {"a", "b"}
    longer = checkedstore.Format(magic=b"m\n", tag_size=1, digest_size=64, prefix=".t.")
    assert Reader(target, longer, "v").index == {}


def test_a_run_keeps_what_it_made_and_used_and_a_pruning_one_drops_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = unitstore.FORMAT
    first = Store(tmp_path, "k", form, "v", prune=True)
    for key in "abc":
        first.put(key, key.encode() * 3)
    first.put("a", b"other")  # the same key again in one run: the first body stays
    assert first.get("a") == b"aaa"
    assert first.close()  # no store yet: written as the store
    assert not (tmp_path / "k.overlay").exists()
    second = Store(tmp_path, "k", form, "v", prune=True)
    assert second.get("a") == b"aaa"
    second.put("d", b"ddd")
    assert not second.close()  # a small change: into the overlay
    third = Store(tmp_path, "k", form, "v", prune=False)
    assert {key: third.get(key) for key in "abcd"} == {"a": b"aaa", "b": b"bbb", "c": b"ccc", "d": b"ddd"}
    third.release()
    # The pruning run used a and d: b and c are not in the overlay, and the store still has them
    # until it is rewritten.
    overlay = Reader(tmp_path / "k.overlay", form, "v")
    assert set(overlay.index) == {"d"}
    monkeypatch.setattr(checkedstore, "OVERLAY_MIN", 0)
    fourth = Store(tmp_path, "k", form, "v", prune=True)
    assert fourth.get("a") == b"aaa"
    assert fourth.get("d") == b"ddd"
    fourth.put("e", b"eee")
    assert fourth.close()  # two of the store's three entries stale: rewritten
    assert set(Reader(tmp_path / "k.store", form, "v").index) == {"a", "d", "e"}
    assert not (tmp_path / "k.overlay").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_a_run_that_does_not_prune_keeps_the_overlay_entries_it_did_not_use(tmp_path: Path) -> None:
    """The parse cache's runs read only the files that changed: an entry an earlier run put into
    the overlay stays there until the store is rewritten, however many runs do not read it
    (but one a run found unusable goes)."""
    form = yamlcache.FORMAT
    stamp = (1, 2, 3, 4, 5)
    first = Store(tmp_path, "y", form, "v", prune=False)
    for number in range(1000):
        first.put(f"k{number}", b"[0]", stamp)
    assert first.close()  # no store yet: written as the store
    second = Store(tmp_path, "y", form, "v", prune=False)
    second.put("a", b"[1]", stamp)
    assert not second.close()
    third = Store(tmp_path, "y", form, "v", prune=False)
    third.put("b", b"[2]", stamp)
    assert not third.close()
    fourth = Store(tmp_path, "y", form, "v", prune=False)
    assert fourth.get("a", stamp) == b"[1]"
    fourth.forget("a")
    fourth.put("c", b"[3]", stamp)
    assert not fourth.close()
    fifth = Store(tmp_path, "y", form, "v", prune=False)
    assert {key: fifth.get(key, stamp) for key in ("a", "b", "c", "k7")} == {
        "a": None,
        "b": b"[2]",
        "c": b"[3]",
        "k7": b"[0]",
    }
    fifth.release()
    assert set(Reader(tmp_path / "y.overlay", form, "v").index) == {"b", "c"}


def test_a_small_body_many_entries_hold_is_read_and_decoded_once(tmp_path: Path) -> None:
    form = unitstore.FORMAT
    shared, alone, large = b"[][]", b"[1]", b"x" * (checkedstore.SHARED_MAX + 1)
    bodies = {"a": shared, "b": shared, "c": alone, "d": shared, "e": large, "f": large}
    first = Store(tmp_path, "k", form, "v", prune=True)
    for key, body in bodies.items():
        first.put(key, body)
    assert first.close()
    store = tmp_path / "k.store"
    # The first entry holding the shared body is damaged: the next one's body serves for it too.
    data = bytearray(store.read_bytes())
    start = Reader(store, form, "v").index["a"][1]
    data[start] ^= 1
    store.write_bytes(bytes(data))
    decoded: list[bytes] = []

    def decode(body: bytes) -> bytes:
        decoded.append(body)
        return body

    again = Store(tmp_path, "k", form, "v", prune=True)
    read = {key: again.read(key, decode) for key in bodies}
    assert read == {"a": None, **{key: body for key, body in bodies.items() if key != "a"}}
    assert decoded == [shared, alone, large, large]
    assert again.read("a", decode) == shared  # found by its digest once the body was read whole
    # Every entry read is in use: kept when the store is written again.
    again.put("g", b"new")
    again.close()
    last = Store(tmp_path, "k", form, "v", prune=True)
    assert {key: last.get(key) for key in [*bodies, "g"] if key != "a"} == {
        **{key: body for key, body in bodies.items() if key != "a"},
        "g": b"new",
    }


def test_an_entry_of_the_store_is_not_looked_for_in_the_overlay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store of 200 entries, then an overlay of two (an edit's): reading every entry back looks
    # in the overlay only for a key whose hash it holds (before: each of the 200 looked there first).
    form = unitstore.FORMAT
    first = Store(tmp_path, "k", form, "v", prune=False)
    for number in range(200):
        first.put(f"e{number}", b"%d" % number)
    first.close()
    second = Store(tmp_path, "k", form, "v", prune=False)
    second.put("e7", b"new")
    second.put("n", b"only in the overlay")
    second.close()
    assert (tmp_path / "k.overlay").is_file()
    looked: list[bytes] = []
    real = storetable.Table.look

    def counting(table: storetable.Table, key: bytes, hashed: int | None = None) -> object:
        looked.append(key)
        return real(table, key, hashed)

    monkeypatch.setattr(storetable.Table, "look", counting)
    store = Store(tmp_path, "k", form, "v", prune=False)
    found = [store.get(f"e{number}") for number in range(200)]
    assert [store.read(key, bytes) for key in ("e7", "n", "e8", "none")] == [b"new", b"only in the overlay", b"8", None]
    monkeypatch.undo()
    assert found == [b"new" if number == 7 else b"%d" % number for number in range(200)]
    # Each entry got once, e7 from the overlay; then read() looks twice for an entry of the
    # overlay (e7, n) and for one found nowhere, once for one of the store (e8). Before: the
    # 199 entries of the store alone were each looked for in the overlay first: 409 looks.
    assert len(looked) == 200 + 2 + 2 + 1 + 2
    store.release()


def test_an_entry_found_is_noted_by_its_row_not_held_as_its_values(tmp_path: Path) -> None:
    """A run notes each entry it found, for the end of the run: 10,000 entries of each of four
    stores at each build of 10,000 episodes. A row number each, not a tuple of the row's values
    (~160 bytes an entry); what the run keeps from them is the same (see the tests above)."""
    form = unitstore.STORED_FORMAT
    keys = [f"{number:064x}" for number in range(1000)]
    first = Store(tmp_path, "k", form, "v", prune=True)
    for key in keys:
        first.put(key, key.encode(), head_json=b"head " + key.encode())
    first.close()
    # A few of them made anew, in an overlay: found in either file.
    second = Store(tmp_path, "k", form, "v", prune=False)
    for key in keys[:100:2]:
        second.put(key, b"new " + key.encode(), head_json=b"new head")
    assert second.get(keys[1]) == keys[1].encode()
    assert not second.close()
    assert (tmp_path / "k.overlay").is_file()
    store = Store(tmp_path, "k", form, "v", prune=True)
    assert store.get(keys[0]) == b"new " + keys[0].encode()  # the dict of hits made before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        found = sum(store.get(key) is not None for key in keys[1:])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A dict's slot and a number: ~30 bytes an entry (tuples of the row's values: ~160).
    assert found == len(keys) - 1
    assert held < 60 * len(keys), held
    assert [store.head_bytes(key) for key in keys[:2]] == [b"new head", b"head " + keys[1].encode()]
    assert store.digest(keys[1]) == form.digest(keys[1].encode())
    assert store.digest(keys[0]) == form.digest(b"new " + keys[0].encode())
    looked = Store(tmp_path, "k", form, "v", prune=True)
    assert looked.get(keys[0]) and looked.get(keys[1])  # one in the overlay, one in the store
    assert looked.unused({keys[0], keys[1]}) == set(keys[2:])
    looked.release()
    # Carried into a new store from both files.
    for key in keys[2:]:
        store.forget(key)
    store.touch(keys[1])
    store.put("other", b"x" * 10)
    assert store.close()
    again = Reader(tmp_path / "k.store", form, "v")
    assert set(again.index) == {keys[0], keys[1], "other"}
    assert again.entry(keys[0]) == b"new " + keys[0].encode()
    assert again.entry(keys[1]) == keys[1].encode()
