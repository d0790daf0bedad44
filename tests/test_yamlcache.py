"""The parse cache: a show file's YAML is read back from the cache only while the file is the
same, and what is read back is exactly what parsing it gives (values, types and lines)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from entretiens import checkedstore, loading, walks, yamlcache
from entretiens.errors import ConfigError, Problem
from entretiens.loading import _episode, load_project
from entretiens.model import Episode, Person, Project
from entretiens.yamlfile import YamlList, YamlMap, YamlSyntaxError, read_yaml
from sampleshow import copy_sample_show

#: A modification time long past (any mtime can be put there, as some tools and editors do).
_PAST_NS = 1_600_000_000 * 10**9


def _age(*paths: Path) -> None:
    """Date the files (those under the folders) back, then wait until their last change has
    settled (:func:`walks.settled`): the ctime, which no program can put back, is that of now,
    and the cache keeps a parse only once the later of the two times is a tick old."""
    stamps = []
    for path in paths:
        for file in [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]:
            os.utime(file, ns=(_PAST_NS, _PAST_NS))
            status = file.stat()
            stamps.append((status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino))
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)


def _shape(value: object) -> object:
    """Everything a parse holds, types and lines included, as plain comparable values."""
    if isinstance(value, YamlMap):
        assert type(value) is YamlMap
        return ("map", value.line, [(_shape(k), value.key_lines[k], _shape(v)) for k, v in value.items()])
    if isinstance(value, YamlList):
        assert type(value) is YamlList
        return ("list", value.line, list(value.item_lines), [_shape(v) for v in value])
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.tzname(), value.utcoffset())
    return (type(value).__name__, value if value == value else "nan")


TEXTS = {
    "episode": "title: Été\nnumber: 3\ndate: 2011-02-21T09:00:00+01:00\nguests:\n- ada\n- {id: bob, role: host}\n",
    "scalars": "a: 1\nb: -2.5\nc: true\nd: null\ne: ~\nf: '010'\ng: 010\nh: 0x10\ni: 1:30\nj: 1e5\nk: .5\nl: yes\n",
    "dates": "a: 2011-02-21\nb: 2011-02-21 09:00:00\nc: 2011-02-21T09:00:00Z\nd: 2011-02-21T09:00:00.25-05:30\n"
    "e: 2024-02-30\n",
    "floats": "a: !!float .inf\nb: !!float -.inf\nc: !!float .nan\nd: -0.0\ne: 1.7976931348623157e308\n",
    "keys": "1: one\n2011-02-21: day\ntrue: yes\n1.5: half\n? [a, b]\n: never\n",
    "nested": "a:\n  b:\n    - [1, 2, {c: [3]}]\n    - {}\n    - []\n  d: |\n    two\n    lines\n",
    "aliases": "base: &b {x: 1, y: [2, 3]}\nother:\n  <<: *b\n  z: 4\nagain: *b\n",
    "list": "- 1\n- two\n-\n  - three\n",
    "scalar": "just text\n",
    "empty": "",
    "comment": "# nothing\n",
    "unicode": 'emoji: "\\U0001F600"\nnbsp: "a\\u00a0b"\nrtl: שלום\n',
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_what_is_read_back_is_what_was_parsed(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(TEXTS[name], encoding="utf-8")
    try:
        parsed = read_yaml(path)
    except YamlSyntaxError:
        return  # Not cached: nothing to compare.
    encoded = yamlcache.encode(parsed, 2 * path.stat().st_size + 64)
    decoded = yamlcache.decode(json.loads(json.dumps(encoded, ensure_ascii=False)))
    assert _shape(decoded) == _shape(parsed)


def test_the_sample_show_is_read_back_unchanged(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    _age(root)
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*/*.yaml"))
    cache = yamlcache.ParseCache(root)
    first = [_shape(cache.read_yaml(path)) for path in files]
    assert cache.parsed == len(files)
    cache.close()
    cache = yamlcache.ParseCache(root)
    again = [_shape(cache.read_yaml(path)) for path in files]
    assert cache.parsed == 0
    cache.close()
    assert again == first == [_shape(read_yaml(path)) for path in files]


def _files(root: Path, count: int) -> list[Path]:
    (root / "episodes").mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = root / "episodes" / f"{n:03d}.yaml"
        path.write_text(f"title: Episode {n}\nnumber: {n + 1}\nlist: [a, b]\n", encoding="utf-8")
        paths.append(path)
    _age(root)
    return paths


def _load(root: Path, paths: list[Path]) -> tuple[list[object], int]:
    cache = yamlcache.ParseCache(root)
    try:
        values = [_shape(cache.read_yaml(path)) for path in paths]
    finally:
        cache.close()
    return values, cache.parsed


def test_an_edit_is_parsed_again_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    paths = _files(tmp_path, 5)
    assert _load(tmp_path, paths)[1] == 5
    assert _load(tmp_path, paths)[1] == 0
    # Same size, same mtime: only the ctime tells (a tool that restores modification times).
    paths[2].write_text(paths[2].read_text(encoding="utf-8").replace("Episode 2", "Episode X"), encoding="utf-8")
    _age(paths[2])
    values, parsed = _load(tmp_path, paths)
    assert parsed == 1
    assert values[2] == _shape(read_yaml(paths[2]))
    assert "Episode X" in str(values[2])
    # Replaced by another file (a new inode) of the same size and times.
    other = tmp_path / "other.yaml"
    other.write_text(paths[3].read_text(encoding="utf-8").replace("Episode 3", "Episode Y"), encoding="utf-8")
    _age(other)
    other.replace(paths[3])
    _age(paths[3])  # a rename moves the ctime too
    values, parsed = _load(tmp_path, paths)
    assert parsed == 1
    assert "Episode Y" in str(values[3])
    assert _load(tmp_path, paths)[1] == 0


def test_a_file_changed_just_now_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tick of 1 s (ten times the real one): both loads fall within it however busy the machine.
    monkeypatch.setattr(walks, "FINE_RACY_NS", 10**9)
    paths = _files(tmp_path, 3)
    paths[1].write_text("title: Fresh\n", encoding="utf-8")
    assert _load(tmp_path, paths)[1] == 3
    assert _load(tmp_path, paths)[1] == 1
    _age(paths[1])
    assert _load(tmp_path, paths)[1] == 1
    assert _load(tmp_path, paths)[1] == 0


def _whole_seconds(monkeypatch: pytest.MonkeyPatch) -> Callable[[os.stat_result], yamlcache.Stamp]:
    """Stamps as a file system with times in whole seconds gives them (ext3, some network
    mounts): two saves within one second leave the same."""
    real = yamlcache.stamp_of

    def coarse(status: os.stat_result) -> yamlcache.Stamp:
        device, inode, size, mtime, ctime = real(status)
        return (device, inode, size, mtime - mtime % 10**9, ctime - ctime % 10**9)

    monkeypatch.setattr(yamlcache, "stamp_of", coarse)
    return coarse


def _saved_twice(path: Path, texts: tuple[str, str], load: Callable[[], str], stamp_of: Callable[..., object]) -> None:
    """Save ``texts`` (the same size, each telling its own word) one after the other in ``path``
    within one second, its mtime put back each time (``rsync -t``, ``touch -r``, some editors);
    ``load()`` in between must tell the first. Tried again until both saves leave the same
    stamp (were made in the same second)."""
    first, second = texts
    assert len(first.encode()) == len(second.encode())
    for _attempt in range(20):
        path.write_text(first, encoding="utf-8")
        os.utime(path, ns=(_PAST_NS, _PAST_NS))
        saved = stamp_of(path.stat())
        assert load() in first
        path.write_text(second, encoding="utf-8")
        os.utime(path, ns=(_PAST_NS, _PAST_NS))
        if stamp_of(path.stat()) == saved:
            return
    pytest.fail("no two saves within one second")


def test_a_file_saved_twice_in_one_second_with_its_mtime_put_back_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the ctime moved, and not to another second: the first parse, made within a tick of
    # the save, was not kept (judged by its mtime alone, it was, and the next load read it back).
    stamp_of = _whole_seconds(monkeypatch)
    paths = _files(tmp_path, 3)

    def title() -> str:
        cache = yamlcache.ParseCache(tmp_path)
        try:
            value = cache.read_yaml(paths[1])
        finally:
            cache.close()
        assert isinstance(value, YamlMap)
        return str(value["title"])

    _saved_twice(paths[1], ("title: First\n", "title: Other\n"), title, stamp_of)
    values = _load(tmp_path, paths)[0]
    assert "Other" in str(values[1]) and values[1] == _shape(read_yaml(paths[1]))


def test_an_episode_saved_twice_in_one_second_with_its_mtime_put_back_is_loaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same for the episode the loader keeps beside the parse of its file.
    stamp_of = _whole_seconds(monkeypatch)
    root = _sample(tmp_path)
    path = root / "episodes" / "003-massimo-fubini.yaml"
    text = path.read_text(encoding="utf-8")
    title = "Massimo Fubini, ContactLab"

    def loaded() -> str:
        return next(e.title for e in load_project(root).episodes if e.path == path)

    _saved_twice(
        path,
        (text.replace(title, "First title, ContactLab"), text.replace(title, "Other title, ContactLab")),
        loaded,
        stamp_of,
    )
    assert load_project(root) == load_project(root, cache=False)
    assert loaded().startswith("Other title")


def test_values_the_format_does_not_hold_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("a: !!binary aGVsbG8=\nb: !!set {x, y}\n", encoding="utf-8")
    bomb = tmp_path / "bomb.yaml"
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 10)}]" for n in range(5)]
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")
    _age(path, bomb)
    expected = read_yaml(path)
    cache = yamlcache.ParseCache(tmp_path)
    assert cache.read_yaml(path) == expected
    assert isinstance(cache.read_yaml(bomb), YamlMap)
    cache.close()
    assert _load(tmp_path, [path, bomb])[1] == 2


def _store(root: Path) -> Path:
    return root / yamlcache.CACHE_DIR / yamlcache.STORE


def _overlay(root: Path) -> Path:
    return root / yamlcache.CACHE_DIR / yamlcache.OVERLAY


def _damage(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: _damage(p, p.read_bytes().index(b"Episode 1")),  # a value in an entry's body
        lambda p: _damage(p, p.stat().st_size - 40),  # the index's digest
        lambda p: _damage(p, p.stat().st_size - checkedstore.TRAILER_SIZE - 5),  # the index
        lambda p: _damage(p, 2),  # the magic line
        lambda p: p.write_bytes(p.read_bytes()[:-7]),  # cut
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b"\x00" * 5000),
        lambda p: p.write_bytes(yamlcache._MAGIC + b"table 0000000000000000 " + b"0" * 64 + b"\n"),
    ],
    ids=["body", "digest", "index", "magic", "cut", "empty", "zeros", "empty index"],
)
def test_a_damaged_store_is_ignored(tmp_path: Path, damage: object) -> None:
    paths = _files(tmp_path, 6)
    expected = [_shape(read_yaml(path)) for path in paths]
    assert _load(tmp_path, paths)[1] == 6
    damage(_store(tmp_path))  # type: ignore[operator]
    values, parsed = _load(tmp_path, paths)
    assert values == expected
    assert parsed >= 1
    # Rebuilt: the next load reads everything back.
    assert _load(tmp_path, paths) == (expected, 0)


def test_a_store_written_by_other_code_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _files(tmp_path, 3)
    _load(tmp_path, paths)
    monkeypatch.setattr(yamlcache, "version", lambda: "another version")
    assert _load(tmp_path, paths)[1] == 3


def test_an_entry_of_another_file_is_not_taken(tmp_path: Path) -> None:
    # The same stamp under another name (a renamed file) is parsed, not read as the old name's.
    paths = _files(tmp_path, 2)
    _load(tmp_path, paths)
    renamed = paths[0].with_name("renamed.yaml")
    paths[0].rename(renamed)
    assert _load(tmp_path, [renamed, paths[1]])[1] == 1


def test_a_fifo_at_the_store_does_not_hang(tmp_path: Path) -> None:
    paths = _files(tmp_path, 2)
    _store(tmp_path).parent.mkdir(parents=True)
    os.mkfifo(_store(tmp_path))
    os.mkfifo(_overlay(tmp_path))
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(_load(tmp_path, paths)[1]), daemon=True)
    thread.start()
    thread.join(20)
    assert done == [2]


def test_an_unwritable_cache_costs_time_only(tmp_path: Path) -> None:
    paths = _files(tmp_path, 2)
    (tmp_path / ".entretiens").write_text("not a folder", encoding="utf-8")
    assert _load(tmp_path, paths)[1] == 2
    assert _load(tmp_path, paths)[1] == 2
    assert not list(tmp_path.glob(".entretiens*/**/.yaml.*"))


def test_edits_go_to_the_overlay_until_it_outgrows_the_store(tmp_path: Path) -> None:
    paths = _files(tmp_path, 600)
    _load(tmp_path, paths)
    store = _store(tmp_path).stat()
    edited = 0
    for path in paths[:80]:
        path.write_text(path.read_text(encoding="utf-8") + "edited: true\n", encoding="utf-8")
        _age(path)
        assert _load(tmp_path, paths)[1] == 1
        edited += 1
        if _store(tmp_path).stat().st_ino != store.st_ino:
            break
        assert _overlay(tmp_path).is_file()
    # The store was rewritten once the overlay held more than an eighth of it, and the overlay went.
    assert edited == 600 // 8 + 1
    assert not _overlay(tmp_path).exists()
    assert _load(tmp_path, paths) == ([_shape(read_yaml(path)) for path in paths], 0)


def test_entries_of_files_gone_are_dropped_when_the_store_is_rewritten(tmp_path: Path) -> None:
    paths = _files(tmp_path, 4)
    _load(tmp_path, paths)
    size = _store(tmp_path).stat().st_size
    _store(tmp_path).unlink()
    _load(tmp_path, paths[:2])
    assert _store(tmp_path).stat().st_size < size


# -- the loader ------------------------------------------------------------------------------


def _people(project: Project) -> list[Person]:
    return [*project.show.hosts, *(guest for episode in project.episodes for guest in episode.guests)]


def _everything(project: Project) -> object:
    """The project with what its equality leaves out (lines, sources, the warnings' every field)."""
    return (
        project,
        project.show.lines,
        [episode.lines for episode in project.episodes],
        [(person.source, person.lines) for person in _people(project)],
        [repr(problem) for problem in project.warnings],
    )


def _loaded(root: Path, *, cache: bool = True) -> object:
    try:
        return _everything(load_project(root, cache=cache))
    except ConfigError as exc:
        return [repr(problem) for problem in exc.problems]


def _sample(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    _age(root)
    return root


def test_a_cached_load_equals_a_cold_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _sample(tmp_path)
    cold = _loaded(root, cache=False)
    assert _loaded(root) == cold
    parsed: list[Path] = []
    built: list[Path] = []

    def counted(path: Path) -> object:
        parsed.append(path)
        return read_yaml(path)

    original = _episode.load_episode

    def counted_build(path: Path, *args: Any, **kwargs: Any) -> Episode | None:
        built.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(yamlcache, "read_yaml", counted)
    monkeypatch.setattr(loading, "load_episode", counted_build)
    assert _loaded(root) == cold
    assert parsed == []
    # Every episode raised no problem: each is read back as it was built.
    assert built == []


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _age(path)


def _audio_gone(root: Path) -> None:
    (root / "audio" / "003-massimo-fubini.mp3").unlink()


def _audio_linked(root: Path) -> None:
    audio = root / "audio" / "003-massimo-fubini.mp3"
    audio.unlink()
    audio.symlink_to(root / "audio" / "004-jerome-serre.mp3")


def _audio_folder_linked(root: Path) -> None:
    (root / "audio").rename(root / "recordings")
    (root / "audio").symlink_to(root / "recordings")


def _audio_a_folder(root: Path) -> None:
    audio = root / "audio" / "003-massimo-fubini.mp3"
    audio.unlink()
    audio.mkdir()


CHANGES: dict[str, Callable[[Path], None]] = {
    "audio gone": _audio_gone,
    "audio linked": _audio_linked,
    "audio folder linked": _audio_folder_linked,
    "audio a folder": _audio_a_folder,
    "timezone": lambda root: _edit(root / "feed.yaml", "timezone: Europe/Paris", "timezone: America/New_York"),
    "language": lambda root: _edit(root / "feed.yaml", "language: fr", "language: en"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_after_a_change_outside_the_episode_files_the_cached_load_equals_a_cold_one(
    tmp_path: Path, change: str
) -> None:
    root = _sample(tmp_path)
    before = _loaded(root)
    assert _loaded(root) == before
    CHANGES[change](root)
    cached = _loaded(root)
    assert cached == _loaded(root, cache=False)
    assert cached != before


EDITS = {
    "title": ("episodes/003-massimo-fubini.yaml", 'title: "', 'title: "Edited '),
    "bad date": ("episodes/003-massimo-fubini.yaml", "date: ", "date: not a date # "),
    "syntax": ("episodes/004-jerome-serre.yaml", "title: ", "title: [unclosed "),
    "unknown field": ("episodes/004-jerome-serre.yaml", "title: ", "titel: "),
    "guest": ("guests/nicolas-sauvage.yaml", "name: ", "name: Edited "),
    "feed": ("feed.yaml", "title: ", "title: Edited "),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_after_an_edit_the_cached_load_equals_a_cold_load_in_a_fresh_folder(tmp_path: Path, edit: str) -> None:
    root = _sample(tmp_path)
    _loaded(root)
    name, old, new = EDITS[edit]
    _edit(root / name, old, new)
    cached = _loaded(root)
    assert isinstance(cached, tuple) == (edit in ("title", "guest", "feed"))
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".entretiens"))
    cold = _loaded(fresh, cache=False)
    assert str(cached).replace(str(root), "<show>") == str(cold).replace(str(fresh), "<show>")
    # The edit shows: a problem at its line, or the new value.
    assert str(cached) != str(_loaded_before(tmp_path))


def _loaded_before(tmp_path: Path) -> object:
    root = copy_sample_show(tmp_path / "before")
    return _loaded(root, cache=False)


def test_a_problem_is_located_the_same_from_the_cache(tmp_path: Path) -> None:
    root = _sample(tmp_path)
    _edit(root / "episodes/003-massimo-fubini.yaml", "title: ", "number: 0\ntitle: ")
    first = _loaded(root)
    again = _loaded(root)
    assert isinstance(again, list)
    assert again == first == _loaded(root, cache=False)
    assert any("003-massimo-fubini.yaml" in problem and "line=" in problem for problem in again)


def test_problems_are_compared_by_file_line_and_field() -> None:
    # The comparisons above go through repr: it must name the file, the line and the field.
    text = repr(Problem(rule="field-type", path=Path("x.yaml"), line=3, field="number", message="m"))
    assert "x.yaml" in text
    assert "line=3" in text
    assert "field='number'" in text


def test_the_parses_of_episodes_read_back_stay_for_a_change_of_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every save rewrites the store, with only the entries in use: an episode read back whole
    # keeps its parse, which a new time zone (every episode built again) needs.
    monkeypatch.setattr(checkedstore, "OVERLAY_MIN", 0)
    monkeypatch.setattr(checkedstore, "OVERLAY_SHARE", 10**6)
    root = _sample(tmp_path)
    _loaded(root)
    _edit(root / "episodes/003-massimo-fubini.yaml", 'title: "', 'title: "Edited ')
    assert isinstance(_loaded(root), tuple)
    _edit(root / "feed.yaml", "timezone: Europe/Paris", "timezone: America/New_York")
    parsed: list[str] = []

    def counted(path: Path) -> object:
        parsed.append(path.name)
        return read_yaml(path)

    monkeypatch.setattr(yamlcache, "read_yaml", counted)
    assert _loaded(root) == _loaded(root, cache=False)
    assert parsed == ["feed.yaml"]


@pytest.mark.parametrize(
    ("old", "new"),
    [("timezone: Europe/Paris", "timezone: America/New_York"), ("language: fr", "language: en")],
)
def test_an_episode_is_built_again_when_the_settings_it_reads_change(tmp_path: Path, old: str, new: str) -> None:
    # A date without offset is in the show's time zone; a transcript without language in its language.
    root = _sample(tmp_path)
    _edit(root / "episodes/003-massimo-fubini.yaml", "date: 2011-01-31T09:00:00+01:00", "date: 2011-01-31 09:00:00")
    _edit(root / "episodes/003-massimo-fubini.yaml", "title: ", "transcript: transcripts/003.vtt\ntitle: ")
    (root / "transcripts").mkdir(exist_ok=True)
    (root / "transcripts" / "003.vtt").write_text("WEBVTT\n", encoding="utf-8")
    _age(root)
    _loaded(root)
    first = load_project(root)
    _edit(root / "feed.yaml", old, new)
    again = load_project(root)
    assert _everything(again) == _everything(load_project(root, cache=False))
    episode = next(e for e in again.episodes if e.slug == "003-massimo-fubini")
    before = next(e for e in first.episodes if e.slug == "003-massimo-fubini")
    assert (episode.date.tzname(), episode.transcripts) != (before.date.tzname(), before.transcripts)


def _forged(tmp_path: Path, entries: list[list[object]], bodies: bytes) -> None:
    """A store with valid digests and this code's version, whose index says ``entries``."""
    index = json.dumps({"version": yamlcache.version(), "entries": entries}).encode("utf-8")
    offset = len(yamlcache._MAGIC) + len(bodies)
    trailer = b"index %016x %s\n" % (offset, hashlib.sha256(index).hexdigest().encode("ascii"))
    _store(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    _store(tmp_path).write_bytes(yamlcache._MAGIC + bodies + index + trailer)


@pytest.mark.parametrize(
    "kind",
    ["float offset", "negative length", "text stamp", "deep body", "dict body", "huge time offset", "not UTF-8"],
)
def test_a_forged_store_with_valid_digests_is_ignored(tmp_path: Path, kind: str) -> None:
    paths = _files(tmp_path, 1)
    stamp = list(yamlcache.stamp_of(paths[0].stat()))
    start = len(yamlcache._MAGIC)
    body = {
        "deep body": b"[" * 100_000 + b"]" * 100_000,
        "dict body": b'{"m": 1}',
        "huge time offset": b'["t",2011,1,1,0,0,0,0,' + b"9" * 40 + b"]",
        "not UTF-8": b'"\xff"',
    }.get(kind, b'"x"')
    digest = hashlib.sha256(body).hexdigest()[:32]
    entry: list[object] = [str(paths[0]), *stamp, start, len(body), digest]
    if kind == "float offset":
        entry[6] = float(start)
    elif kind == "negative length":
        entry[7] = -1
    elif kind == "text stamp":
        entry[3] = str(stamp[2])
    _forged(tmp_path, [entry], body)
    assert _load(tmp_path, paths) == ([_shape(read_yaml(paths[0]))], 1)


def test_the_parse_of_an_episode_read_back_is_not_looked_for_unless_the_store_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Kept for a change of settings (above), it needs no look when the store stays as it is:
    # at each edit of a large show, two lookups (overlay, store) for each of 10,000 episodes.
    root = _sample(tmp_path)
    _loaded(root)
    _edit(root / "episodes/003-massimo-fubini.yaml", 'title: "', 'title: "Edited ')
    looked: list[str] = []
    original = checkedstore.Reader.find

    def find(reader: checkedstore.Reader, key: bytes, *args: Any) -> Any:
        looked.append(key.decode("utf-8"))
        return original(reader, key, *args)

    monkeypatch.setattr(checkedstore.Reader, "find", find)
    project = load_project(root)
    kept = [str(e.path) for e in project.episodes if e.slug != "003-massimo-fubini"]
    assert len(kept) > 3 and any(key.startswith("episode ") for key in looked)
    assert not set(kept) & set(looked)
    assert str(root / "episodes/003-massimo-fubini.yaml") in looked  # parsed again: looked for
    # The store rewritten (an overlay as large as the store): every parse in use is kept.
    monkeypatch.setattr(checkedstore, "OVERLAY_MIN", 0)
    monkeypatch.setattr(checkedstore, "OVERLAY_SHARE", 10**6)
    _edit(root / "episodes/003-massimo-fubini.yaml", 'title: "', 'title: "Edited ')
    assert _loaded(root) == _loaded(root, cache=False)
    assert set(kept) <= set(looked)
    store = checkedstore.Reader(root / yamlcache.CACHE_DIR / yamlcache.STORE, yamlcache.FORMAT, yamlcache.version())
    assert set(kept) <= set(store.names())
    store.close()
