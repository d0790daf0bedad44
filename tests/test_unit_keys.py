"""The keys of the units: every value a unit is made from reaches its key, whichever way the key
is taken (from the values' repr, or from a digest the loader already took of an episode).

A field left out of a key is the worst bug a cache can have: an old page published after the
field changed. The field lists are read from the model (``dataclasses.fields``), so that a field
added later is changed by these tests too, without anyone having to remember them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path, PosixPath, PurePath
from typing import Any

import pytest

from entretiens import pipeline, unitcache, unitkeys
from entretiens.loading import load_project
from entretiens.model import (
    AudioInfo,
    Chapter,
    DeclaredAudio,
    EmbeddedChapter,
    Episode,
    FieldLines,
    Link,
    Person,
    Project,
    PublishedTranscript,
    Release,
    Soundbite,
    Source,
    Transcript,
)
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of


def _full_release() -> Release:
    """A release whose every field, at every depth, holds a value of its own: none is left at a
    default that a change could miss (None, an empty tuple)."""
    path = Path("/show/episodes/001.yaml")

    def at(line: int) -> Source:
        return Source(path=path, line=line)

    guest = Person(
        name="Ada",
        id="ada",
        role="guest",
        group="cast",
        bio="Bio.",
        url="https://example.org/ada",
        image="people/ada.png",
        social=(("Mastodon", "https://example.org/@ada"),),
        source=Source(path=Path("/show/guests/ada.yaml"), line=1),
        lines=(("name", 1),),
    )
    chapters = (Chapter(start=0.0, title="Welcome", url="https://example.org/c", image="c.png", source=at(20)),)
    episode = Episode(
        slug="001",
        path=path,
        title="One",
        date=datetime(2024, 1, 2, 10, tzinfo=timezone.utc),
        audio="audio/001.mp3",
        declared_audio=DeclaredAudio(length=10, mime_type="audio/mpeg", duration=timedelta(seconds=3)),
        number=1,
        season=1,
        season_name="First",
        episode_type="full",
        summary="Summary.",
        notes="Notes.",
        guests=(guest,),
        links=(Link(title="A link", url="https://example.org/l", source=at(10)),),
        quote="Quote.",
        chapters=chapters,
        soundbites=(Soundbite(start=1.0, duration=2.0, title="Bite", source=at(30)),),
        transcripts=(Transcript(path=Path("t/001.vtt"), language="en", source=at(40)),),
        cover_image="covers/001.png",
        explicit=False,
        guid="guid-001",
        draft=False,
        imported=False,
        lines=(("title", 2),),
    )
    audio = AudioInfo(
        size=1000,
        duration=timedelta(seconds=3),
        mime_type="audio/mpeg",
        codec="MP3",
        bitrate=32000,
        sample_rate=22050,
        channels=1,
        duration_method="measured",
        announced=timedelta(seconds=4),
        trailing=5,
        tags=(("title", "One"),),
        chapters=(EmbeddedChapter(start=0.0, title="Welcome", url="https://example.org/e"),),
    )
    return Release(
        episode=episode,
        audio=audio,
        chapters=chapters,
        transcripts=(
            PublishedTranscript(path="episodes/001/t.vtt", mime_type="text/vtt", language="en", rel="captions"),
        ),
        audio_file=Path("/show/audio/001.mp3"),
        enclosure_length=1000,
        audio_stamp=(1000, 123, 124),
        previous="000",
        next="002",
    )


#: A change: where it is, the (class, field) pairs on the way to it, the value changed.
Change = tuple[str, tuple[tuple[type, str], ...], Any]


def _other(value: object) -> object:
    """A value of the same type that differs from ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.25
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(hours=1)
    if isinstance(value, timedelta):
        return value + timedelta(microseconds=1)
    if isinstance(value, PurePath):
        return value.with_name("x" + value.name)
    raise AssertionError(f"no other value known for {value!r}")


def _changes(value: Any, where: str, through: tuple[tuple[type, str], ...] = ()) -> Iterator[Change]:
    """Every value made from ``value`` by changing one thing in it, at any depth: each field
    of a dataclass, each item of a tuple (and the tuple shortened), each leaf; with where the
    change is, and the (class, field) pairs on the way to it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            part = getattr(value, field.name)
            assert part is not None and part != (), f"{where}.{field.name}: give it a value in _full_release"
            deeper = (*through, (type(value), field.name))
            for label, fields, changed in _changes(part, f"{where}.{field.name}", deeper):
                yield label, fields, dataclasses.replace(value, **{field.name: changed})
    elif isinstance(value, tuple):
        assert value, where
        yield f"{where}[:-1]", through, value[:-1]
        for index, item in enumerate(value):
            for label, fields, changed in _changes(item, f"{where}[{index}]", through):
                yield label, fields, (*value[:index], changed, *value[index + 1 :])
    else:
        yield where, through, _other(value)


#: Out of a release's digest on purpose: its neighbours (the units that show them key on their
#: slugs apart), and a person's registry file and lines (out of repr: they name private keys;
#: the checks key on them apart, see below).
_APART = re.compile(r"release\.(previous|next)$|\.guests\[\d+\]\.(source|lines)\b")


def _apart(label: str) -> bool:
    return _APART.search(label) is not None


def test_the_fixture_reaches_every_model_class_a_release_holds() -> None:
    # Each class of the model a release is made of appears in the fixture: a change there is tried.
    seen: set[type] = set()

    def walk(value: Any) -> None:
        if dataclasses.is_dataclass(value):
            seen.add(type(value))
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))
        elif isinstance(value, tuple):
            for item in value:
                walk(item)

    walk(_full_release())
    assert set(_CLASSES) <= seen
    # And every model class a release's fields name (a class added to the model and used by a
    # release must be added to _full_release and _CLASSES).
    assert seen <= set(_CLASSES), seen - set(_CLASSES)


#: The classes a release is made of.
_CLASSES = (
    Release, Episode, AudioInfo, Person, Link, Chapter, Soundbite, Transcript, DeclaredAudio,
    EmbeddedChapter, PublishedTranscript, Source,
)  # fmt: skip


def test_every_field_at_every_depth_moves_a_release_s_digest() -> None:
    release = _full_release()
    first = unitcache.Digests().release(release)
    changes = list(_changes(release, "release"))
    assert len(changes) > 60
    moved: set[tuple[type, str]] = set()
    for label, fields, changed in changes:
        if _apart(label):
            continue
        # A fresh Digests for each: the values are digested from their repr.
        assert unitcache.Digests().release(changed) != first, label
        moved.update(fields)
    # Every field of every class a release holds was changed, but those kept apart.
    every = {(cls, field.name) for cls in _CLASSES for field in dataclasses.fields(cls)}
    apart = {(Release, name) for name in unitcache.NEIGHBOURS} | {(Person, "source"), (Person, "lines")}
    assert every - apart <= moved, every - apart - moved


def test_with_the_episode_s_known_digest_every_other_field_still_moves_it() -> None:
    release = _full_release()
    known = unitcache.Digests([(release.episode, "a" * 32)])
    first = known.release(release)
    # Neither the episode nor its chapters (the very tuple it holds) were digested from their repr.
    own = [f.name for f in dataclasses.fields(Release) if f.name not in unitcache.NEIGHBOURS]
    assert known.taken == len(own) - 2
    assert first != unitcache.Digests().release(release)
    for label, _fields, changed in _changes(release, "release"):
        if _apart(label) or label.startswith("release.episode"):
            continue
        digests = unitcache.Digests([(release.episode, "a" * 32)])
        assert digests.release(changed) != first, label
    # The episode is named by its digest: another digest, another key.
    assert unitcache.Digests([(release.episode, "b" * 32)]).release(release) != first


def test_a_known_digest_names_only_the_very_object_it_was_taken_of() -> None:
    release = _full_release()
    copy = dataclasses.replace(release.episode, title="Another")
    digests = unitcache.Digests([(release.episode, "a" * 32)])
    # An episode replaced since (same identity nowhere) is digested from its repr.
    changed = dataclasses.replace(release, episode=copy)
    assert digests.release(changed) == unitcache.Digests().release(changed)
    # Chapters of the episode's own are named as its part only when they are its very tuple.
    own = digests.release(release)
    equal = dataclasses.replace(release, chapters=tuple(release.episode.chapters))
    assert equal.chapters is release.episode.chapters or digests.release(equal) != own
    other = dataclasses.replace(release, chapters=(dataclasses.replace(release.chapters[0], title="Other"),))
    assert unitcache.Digests([(release.episode, "a" * 32)]).release(other) != own


def test_a_known_digest_cannot_pass_for_a_repr() -> None:
    # A text that a repr could be is never taken for it: the two forms are told apart.
    release = _full_release()
    named = unitcache.Digests([(release.episode, repr(release.episode))]).release(release)
    assert named != unitcache.Digests().release(release)


@pytest.mark.parametrize("name", ["source", "lines"])
def test_a_guest_s_registry_file_and_lines_reach_the_checks_key(tmp_path: Path, name: str) -> None:
    # Out of the person's repr (and so of the release's digest): the checks' messages name them.
    project = load_project(copy_sample_show(tmp_path / "show"))
    release = _full_release()
    guest = release.episode.guests[0]
    changed_guest = dataclasses.replace(guest, **{name: next(_changes(getattr(guest, name), name))[2]})
    changed = dataclasses.replace(release, episode=dataclasses.replace(release.episode, guests=(changed_guest,)))
    assert _checks_key(project, changed) != _checks_key(project, release)


def _checks_key(project: Project, release: Release) -> str:
    """The key of ``release``'s checks unit, as :class:`unitcache.Units` takes it."""
    request = pipeline._checks_request(project.show, "settings", release, FieldLines(project), unitcache.Digests())
    assert request is not None
    inputs, _make, stamps = request
    return unitcache.digest(*inputs, *stamps)


# --- In a build: the loader's digests, and what they give -------------------------------------


def _edit(path: Path, change: Callable[[str], str]) -> None:
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


#: Edits the loader's digest of an episode must see: its own text, a guest's registry file
#: (the episode names the guest by id), every line of it moved (its problems' lines move).
EDITS: dict[str, Callable[[Path], None]] = {
    "notes": lambda root: _edit(
        root / "episodes" / "003-massimo-fubini.yaml",
        lambda text: text.replace("notes: |\n", "notes: |\n  Edited.\n", 1),
    ),
    "guest": lambda root: _edit(
        root / "guests" / "massimo-fubini.yaml", lambda text: text.replace("bio: >-\n", "bio: >-\n  Edited.\n", 1)
    ),
    "lines": lambda root: _edit(root / "episodes" / "002-nicolas-sauvage.yaml", lambda text: "# moved\n" + text),
}


def _problems(built: pipeline.Build, root: Path) -> list[tuple[object, ...]]:
    return [
        (p.rule, p.message.replace(str(root), "<show>"), p.path and p.path.relative_to(root), p.line, p.field)
        for p in built.problems
    ]


@pytest.mark.parametrize("edit", EDITS)
def test_a_rebuild_keyed_on_the_loader_s_digests_is_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    EDITS[edit](root)
    reprs: list[str] = []
    real = Episode.__repr__

    def counting(self: Episode) -> str:
        reprs.append(self.slug)
        return real(self)

    monkeypatch.setattr(Episode, "__repr__", counting)
    built = pipeline.build(root, now=SAMPLE_NOW)
    monkeypatch.undo()
    # No episode was digested from its repr: each is named by the digest the loader took of it.
    assert reprs == []
    assert not built.errors and built.computed["pages"] > 0 and built.computed["checks"] > 0
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    fresh = copy_sample_show(tmp_path / "fresh")
    EDITS[edit](fresh)
    cold = pipeline.build(fresh, now=SAMPLE_NOW, use_cache=False)
    pipeline.commit(cold, tmp_path / "cold", pin_guids=False)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")
    assert _problems(built, root) == _problems(cold, fresh)


def test_only_the_registry_s_own_people_are_digested_apart_from_the_entry(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    # A guest written inline and a registry guest with a role of its own: both written whole in
    # the episode's entry, so in the loader's digest; the other episodes name theirs by id.
    inline = "  - name: Ada Inline\n    bio: Inline.\n  - id: massimo-fubini\n    role: host\n"
    _edit(root / "episodes" / "003-massimo-fubini.yaml", lambda text: text.replace("  - massimo-fubini\n", inline, 1))
    project = load_project(root)
    texts = {episode.slug: text for episode, text in unitkeys.episode_digests(project)}
    assert texts["003-massimo-fubini"] == project.entry_digest("003-massimo-fubini")
    named = next(e for e in project.episodes if e.slug == "001-jeremi-lepetit")
    assert project.people is not None and named.guests[0] in project.people
    assert texts[named.slug] == f"{project.entry_digest(named.slug)} {unitkeys.digest(named.guests[0])}"
    # The registry's people unknown: every guest is digested apart.
    unknown = dataclasses.replace(project, people=None)
    texts = {episode.slug: text for episode, text in unitkeys.episode_digests(unknown)}
    assert len(texts["003-massimo-fubini"].split()) == 3
    # The inline guest edited: that episode's digest moves, through its entry.
    before = dict(texts)
    _edit(root / "episodes" / "003-massimo-fubini.yaml", lambda text: text.replace("bio: Inline.", "bio: Edited.", 1))
    project = load_project(root)
    texts = {episode.slug: text for episode, text in unitkeys.episode_digests(project)}
    assert {slug for slug, text in texts.items() if text.split()[0] != before[slug].split()[0]} == {
        "003-massimo-fubini"
    }


@pytest.mark.parametrize("text", ["/show/audio/01.mp3", 'relative/it\'s "quoted"', "/caf\u00e9/\udcff.mp3", "a\\b\n"])
def test_a_release_s_audio_file_is_digested_as_its_repr(text: str) -> None:
    path = PosixPath(text)
    assert unitkeys._path_repr(path) == repr(path).encode("utf-8", "surrogatepass")


def test_a_unit_s_key_is_the_digest_of_its_version_then_its_inputs(tmp_path: Path) -> None:
    # The version is hashed once per kind: the keys are those a digest of everything gives.
    parts = ("text", 1, None, ("a", Path("/b")), [1.5])
    assert unitcache.digest(*parts) == hashlib.sha256(b"".join(repr(p).encode() + b"\0" for p in parts)).hexdigest()
    assert unitkeys.keyer("v", 2)(*parts) == unitcache.digest("v", 2, *parts)
    # No part more, and no part at all: what the parts hashed one by one give.
    assert unitkeys.keyer("v", 2)() == unitcache.digest("v", 2)
    assert unitkeys.keyer()("v") == unitcache.digest("v")
    assert unitcache.digest() == hashlib.sha256(b"").hexdigest()
    units = unitcache.Units(tmp_path, "checks", version="v")
    units.get(("x", 3), lambda: {"a": b"b"}, stamps=[(1, 2, 3)])
    assert units.used == {unitcache.digest(f"checks v {unitcache.libraries()}", "x", 3, (1, 2, 3))}


def test_a_release_is_digested_once_for_its_three_kinds_of_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The checks, the pages and the feed item of each release key on its digest: taken once.
    release = _full_release()
    digests = unitcache.Digests()
    first = digests.release(release)
    taken = digests.taken
    assert digests.release(release) == first
    # Linked to other neighbours (a copy with the same values): the same digest, not taken again.
    assert digests.release(dataclasses.replace(release, previous="other")) == first
    assert digests.taken == taken
    # In a rebuild of a show: one digest per release, whatever number of units asks for it.
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    made: list[str] = []
    real = unitkeys.Digests._digest
    quick = unitkeys.Digests._release_digest

    def counting(self: unitkeys.Digests, kind: str, names: tuple[str, ...], values: tuple[object, ...]) -> str:
        made.append(kind)
        return real(self, kind, names, values)

    def counting_quick(self: unitkeys.Digests, values: tuple[object, ...]) -> str | None:
        found = quick(self, values)
        if found is not None:
            made.append("quick")
        return found

    monkeypatch.setattr(unitkeys.Digests, "_digest", counting)
    monkeypatch.setattr(unitkeys.Digests, "_release_digest", counting_quick)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert len(made) == len(built.releases) > 1


def test_the_measured_audio_enters_a_digest_in_a_form_of_its_own() -> None:
    # Not its repr (dataclasses' repr of it and of its chapters was most of a release's digest),
    # and never a text a repr could be.
    audio = _full_release().audio
    text = unitkeys._audio_text(audio)
    assert text.startswith(b"\x03") and repr(audio).encode() not in text
    assert b"EmbeddedChapter" not in text and audio.chapters


# --- The measured audio, named by the probe cache ---------------------------------------------


def test_a_build_names_each_measure_as_the_probe_cache_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cold build (measured) and the rebuild (read back) name each measure the same way, by
    # the name the cache gives it: neither digests a measure's values, and the rebuild makes no unit.
    root = copy_sample_show(tmp_path / "show")
    digested: list[AudioInfo] = []
    real = unitkeys._audio_text

    def counting(info: AudioInfo) -> bytes:
        digested.append(info)
        return real(info)

    monkeypatch.setattr(unitkeys, "_audio_text", counting)
    cold = pipeline.build(root, now=SAMPLE_NOW)
    pipeline.commit(cold, root / "public", pin_guids=True)
    again = pipeline.build(root, now=SAMPLE_NOW)
    assert cold.releases and all(r.audio_file is not None for r in cold.releases)
    assert digested == []
    assert again.computed["checks"] == again.computed["pages"] == again.computed["items"] == 0


def test_the_name_of_a_measure_moves_with_the_file_and_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from entretiens import audio

    cache = audio.ProbeCache(Path("/nowhere/probe.json"))
    stat: Any = SimpleNamespace(st_size=1, st_mtime_ns=2, st_ctime_ns=3, st_ino=4)
    first = cache.name_of(Path("/show/audio/a.mp3"), stat)
    names = {first, cache.name_of(Path("/show/audio/b.mp3"), stat)}
    for field in ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino"):
        changed: Any = SimpleNamespace(**{**vars(stat), field: 9})
        names.add(cache.name_of(Path("/show/audio/a.mp3"), changed))
    # Another version of mutagen (the cache is then read as empty, and measured anew).
    monkeypatch.setattr("mutagen.version_string", "0.0.0-other")
    names.add(audio.ProbeCache(Path("/nowhere/probe.json")).name_of(Path("/show/audio/a.mp3"), stat))
    assert len(names) == 7


def test_audio_rewritten_at_the_same_size_and_date_is_checked_as_a_cold_build(tmp_path: Path) -> None:
    # Two recordings of one size whose measures differ (trailing bytes, a tag), the second
    # written over the first with its modification time put back: only the ctime tells them
    # apart (in the measure's name and the release's stamp); the checks report the trailing bytes.
    root = copy_sample_show(tmp_path / "show")
    path = root / "audio" / "003-massimo-fubini.mp3"
    data = path.read_bytes()
    tag = b"TAG" + b"Other".ljust(30, b"\0") + bytes(94) + b"\xff"
    path.write_bytes(data + bytes(417))
    for _ in range(2):
        built = pipeline.build(root, now=SAMPLE_NOW)
        pipeline.commit(built, root / "public", pin_guids=True)
    before = path.stat()
    path.write_bytes(data + bytes(289) + tag)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    rebuilt = pipeline.build(root, now=SAMPLE_NOW)
    assert rebuilt.computed["checks"] >= 1
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".entretiens", "public"))
    cold = pipeline.build(fresh, now=SAMPLE_NOW, use_cache=False)
    assert _problems(rebuilt, root) == _problems(cold, fresh)
    pipeline.commit(rebuilt, tmp_path / "out", pin_guids=False)
    pipeline.commit(cold, tmp_path / "cold", pin_guids=False)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def test_the_checks_stamp_each_file_once_per_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file many episodes name (the show's cover as each one's, a guest's picture) is stamped
    # once for all their checks' keys; each episode's key still holds its stamp.
    root = copy_sample_show(tmp_path / "show")
    for path in (root / "episodes").glob("*.yaml"):
        _edit(path, lambda text: re.sub(r"(?m)^image: .*\n", "", text) + "image: artwork.png\n")
    first = pipeline.build(root, now=SAMPLE_NOW)
    assert not first.errors
    stamped: list[Path] = []
    real = unitcache.file_stamp

    def counting(path: Path) -> tuple[int, int, int, int] | None:
        stamped.append(path)
        return real(path)

    monkeypatch.setattr(unitcache, "file_stamp", counting)
    requests = []
    stamps: dict[str, object] = {}
    project = first.project
    assert project is not None
    for release in first.checked:
        requests.append(
            pipeline._checks_request(
                project.show, "settings", release, FieldLines(project), unitcache.Digests(), stamps
            )
        )
    assert len(stamped) == len(set(stamped)) and root / "artwork.png" in stamped
    assert all(request is not None and request[2][0] == real(root / "artwork.png") for request in requests)


def _both_ways(digests: unitcache.Digests, release: Release) -> tuple[str | None, str, int, int]:
    """The quick digest of a release and the general loop's, and the values each took from a repr."""
    names, values_of = unitkeys._own_fields(Release)
    values = values_of(release)
    before = digests.taken
    quick = digests._release_digest(values)
    middle = digests.taken
    general = digests._digest("Release", names, values)
    return quick, general, middle - before, digests.taken - middle


def test_a_release_s_quick_digest_is_the_general_loop_s() -> None:
    # Taken field by field as the loop takes them, in every case it handles; None otherwise.
    release = _full_release()
    assert release.audio.chapters and release.episode.chapters and release.transcripts
    known = [(release.episode, "a" * 32), (release.audio, "probe 6 m")]
    cases = {
        "as built": release,
        "the episode's chapters and transcripts": dataclasses.replace(
            release,
            chapters=release.episode.chapters,
            transcripts=release.episode.transcripts,  # type: ignore[arg-type]
        ),
        # The measure's own tuple (embedded chapters) named as its part: a case the loop has.
        "the audio's chapters": dataclasses.replace(release, chapters=release.audio.chapters),  # type: ignore[arg-type]
        "no file, no stamp": dataclasses.replace(release, audio_file=None, audio_stamp=None),
    }
    digests = unitcache.Digests(known)
    assert digests._quick
    seen = set()
    for label, case in cases.items():
        quick, general, taken_quick, taken_general = _both_ways(digests, case)
        assert quick == general and taken_quick == taken_general, label
        seen.add(quick)
    assert len(seen) == len(cases)
    # Values the loop would take otherwise: left to it.
    odd = dataclasses.replace(release, audio_file=PurePath("a/path"))  # type: ignore[arg-type]
    assert _both_ways(digests, odd)[0] is None
    assert _both_ways(unitcache.Digests([(release.episode, "a" * 32)]), release)[0] is None
    assert not unitcache.Digests([*known, (release.episode.guests[0], "g")])._quick
    # Through release(): the quick digest, the same as the general loop's.
    assert unitcache.Digests(known).release(release) == _both_ways(unitcache.Digests(known), release)[1]


def test_a_built_show_s_releases_take_the_quick_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_sample_show(tmp_path / "show")
    calls: list[str] = []
    real = unitkeys.Digests._digest

    def general(self: unitkeys.Digests, kind: str, names: tuple[str, ...], values: tuple[object, ...]) -> str:
        calls.append(kind)
        return real(self, kind, names, values)

    monkeypatch.setattr(unitkeys.Digests, "_digest", general)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.releases and calls == []
    monkeypatch.undo()
    assert built.project is not None
    digests = unitcache.Digests(unitkeys.episode_digests(built.project))
    for release in built.checked:
        quick, general_digest, _, _ = _both_ways(digests, release)
        assert quick in (None, general_digest)
