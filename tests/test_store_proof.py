"""A store file proven whole (checkedstore.prove, at the end of a publish) gives its bodies
without a SHA-256 of each; a file changed since its proof, a proof that is not the file's, or a
file whose bytes are not those its writer noted, is checked body by body as before."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from entretiens import checkedstore, pipeline, storeproof, storetable, unitcache, unitstore, walks
from entretiens.checkedstore import Reader, Store
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of

FORM = unitstore.FORMAT
BODIES = {f"k{number}": b"body %d " % number * (number + 1) for number in range(40)}


def _checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies checked against their digests from now on."""
    checked: list[bytes] = []
    real = checkedstore._matches

    def counting(body: bytes, digest: bytes) -> bool:
        checked.append(body)
        return real(body, digest)

    monkeypatch.setattr(checkedstore, "_matches", counting)
    return checked


def _written(folder: Path) -> Path:
    store = Store(folder, "k", FORM, "v", prune=True)
    for key, body in BODIES.items():
        store.put(key, body)
    assert store.close()
    return folder / "k.store"


def _settle() -> None:
    time.sleep(walks.FINE_RACY_NS / 1e9 + 0.05)


def _read_all(folder: Path) -> dict[str, bytes | None]:
    store = Store(folder, "k", FORM, "v", prune=False)
    try:
        return {key: store.get(key) for key in BODIES}
    finally:
        store.release()


def _flip(path: Path, at: int) -> None:
    status = path.stat()
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))
    # The mtime put back: only the ctime (which no program can set) tells the change.
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def test_a_proven_store_gives_its_bodies_without_a_check_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _written(tmp_path)
    # Just written: not settled, so not proven yet (a change within the same tick would not show).
    assert checkedstore.prove(tmp_path) == 0
    checked = _checks(monkeypatch)
    assert _read_all(tmp_path) == BODIES
    assert len(checked) == len(BODIES)
    _settle()
    assert checkedstore.prove(tmp_path) == 1
    assert checkedstore.prove(tmp_path) == 0  # proven already: not read again
    assert Reader(path, FORM, "v").proven
    checked.clear()
    assert _read_all(tmp_path) == BODIES
    assert checked == []


def test_a_store_changed_after_its_proof_is_checked_body_by_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _written(tmp_path)
    _settle()
    assert checkedstore.prove(tmp_path) == 1
    reader = Reader(path, FORM, "v")
    start, length = reader.index["k7"][1:3]
    reader.close()
    _flip(path, start + length // 2)
    assert not Reader(path, FORM, "v").proven
    checked = _checks(monkeypatch)
    assert _read_all(tmp_path) == {**BODIES, "k7": None}
    assert len(checked) == len(BODIES)


def test_a_file_that_is_not_what_its_writer_noted_is_never_proven(tmp_path: Path) -> None:
    """Changed within the tick of its write (the stamp noted with it still holds): read again
    once settled, its bytes are not those noted."""
    path = _written(tmp_path)
    reader = Reader(path, FORM, "v")
    start = reader.index["k3"][1]
    reader.close()
    _flip(path, start)
    proof = storeproof.read_proof(path)
    assert proof is not None and proof[0] == "pending"
    status = path.stat()
    storeproof.write_proof(path, "pending", storeproof.stamp_of(status), proof[2])
    _settle()
    assert checkedstore.prove(tmp_path) == 0
    assert not Reader(path, FORM, "v").proven
    assert _read_all(tmp_path) == {**BODIES, "k3": None}


@pytest.mark.parametrize(
    "proof",
    [
        b"",
        b"entretiens-store-proof 1\n",
        b"entretiens-store-proof 1\nproven 1 2 3 4 " + b"0" * 64 + b"\n",
        b"entretiens-store-proof 2\nproven {stamp} " + b"0" * 64 + b"\n",
        b"entretiens-store-proof 1\nsure {stamp} " + b"0" * 64 + b"\n",
        b"entretiens-store-proof 1\nproven {stamp} 00\n",
        b"\xff" * 300,
    ],
)
def test_a_proof_that_is_not_the_file_s_proves_nothing(tmp_path: Path, proof: bytes) -> None:
    path = _written(tmp_path)
    stamp = " ".join(str(value) for value in storeproof.stamp_of(path.stat()))
    storeproof.proof_path(path).write_bytes(proof.replace(b"{stamp}", stamp.encode()))
    assert not Reader(path, FORM, "v").proven
    _settle()
    assert checkedstore.prove(tmp_path) == 0
    assert _read_all(tmp_path) == BODIES


def test_a_publish_proves_its_stores_and_the_next_edit_checks_no_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first edit after a cold build is the one that gains: the cold publish proves the
    stores it wrote at its end (here the settling window is shortened, where a large show's
    output write gives them the time)."""
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    folders = (root / unitcache.UNITS_DIR, root / unitcache.UNITS_DIR.parent)
    stores = [path for folder in folders for path in folder.iterdir() if path.suffix in (".store", ".overlay")]
    assert {path.name for path in stores} >= {"pages.store", "items.store", "checks.store", "yaml.store"}
    assert all(Reader(path, FORM, "").proven or _proof_state(path) == "proven" for path in stores)
    episode = next((root / "episodes").glob("*.yaml"))
    episode.write_text(episode.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    checked = _checks(monkeypatch)
    publish(root, now=SAMPLE_NOW)
    assert checked == []
    fresh = copy_sample_show(tmp_path / "fresh")
    fresh_episode = fresh / "episodes" / episode.name
    fresh_episode.write_text(episode.read_text(encoding="utf-8"), encoding="utf-8")
    publish(fresh, now=SAMPLE_NOW)
    assert files_of(root / "public") == files_of(fresh / "public")


def _proof_state(path: Path) -> str | None:
    proof = storeproof.read_proof(path)
    return None if proof is None else proof[0]


def test_a_rebuild_that_finds_every_unit_decodes_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a kind's store after a rebuild looks up each unit it used; a stored kind decodes
    the keys of the entries it did not find only (to remove the files of the units dropped):
    none when every unit was found, and no other kind decodes any."""
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    units = root / unitcache.UNITS_DIR
    stored = {"pages", "transcript-files"}
    entries = {
        path.stem: len(Reader(path, _form(path), checkedstore.version_of(path) or "")) for path in units.glob("*.store")
    }
    assert set(entries) > stored and all(entries.values())
    decoded: list[int] = []
    real = storetable.Table.key

    def counting(self: storetable.Table, number: int) -> str:
        decoded.append(number)
        return real(self, number)

    monkeypatch.setattr(storetable.Table, "key", counting)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert not built.errors and sum(built.computed.values()) == 0
    # Before Store.unused: every key of the stored kinds' stores.
    assert decoded == []


def _form(path: Path) -> checkedstore.Format:
    return unitstore.STORED_FORMAT if path.stem in ("pages", "transcript-files") else unitstore.FORMAT
