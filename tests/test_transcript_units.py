"""The checks of each transcript file, kept between builds under the file's stamp.

A rebuild must not read or parse a transcript that did not change (a show of 10,000 episodes
with transcripts paid ~10 ms for each at every publish), and must report what a cold build in
a fresh folder reports whatever happened to the file or to the cache.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from entretiens import buildrecord, pipeline, transcripts, unitcache, walks
from entretiens.errors import Problem, ProblemsError
from entretiens.output import Stored, content_bytes
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show
from showbuilder import episode, make_show, rewrite_keeping_mtime

TRANSCRIPT = Path("transcripts") / "001-jeremi-lepetit.vtt"
STORE = unitcache.UNITS_DIR / "transcripts.store"
#: Where the files published of each transcript are kept.
FILES = unitcache.UNITS_DIR / "transcript-files"
#: An hour later than it is: the cue then ends after the audio (the same number of bytes).
FIRST_END, LATE_END = b"00:00:03.255", b"00:59:03.255"


def _problems(problems: list[Problem], root: Path) -> list[tuple[object, ...]]:
    def plain(text: object) -> object:
        return text.replace(str(root), "<show>") if isinstance(text, str) else text

    return sorted(
        (p.rule, plain(p.message), None if p.path is None else plain(str(p.path)), p.line, p.field, plain(p.hint))
        for p in problems
    )


def _build(root: Path) -> tuple[list[tuple[object, ...]], dict[str, bytes]]:
    """The problems of a build of ``root`` and the files it would publish."""
    result = pipeline.build(root, now=SAMPLE_NOW)
    return _problems(result.problems, root), {str(path): content_bytes(c) for path, c in result.files.items()}


def _cold(root: Path, dest: Path) -> tuple[list[tuple[object, ...]], dict[str, bytes]]:
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".entretiens", "public"))
    return _build(dest)


def _settle(path: Path) -> None:
    """Put the file's mtime a minute back, and wait until its ctime (now) has settled: a file
    modified just now is not kept (racy, by the later of its mtime and ctime)."""
    back = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(back, back))
    time.sleep(walks.FINE_RACY_NS / 1e9)


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    assert (root / STORE).is_file()
    return root


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The suffix (first argument) of each call to ``transcripts.<name>`` from now on."""
    seen: list[str] = []
    real = getattr(transcripts, name)

    def counted(suffix: str, data: object) -> object:
        seen.append(suffix)
        return real(suffix, data)

    monkeypatch.setattr(transcripts, name, counted)
    return seen


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The suffix of each transcript the checks parse."""
    return _count_calls(monkeypatch, "parse_text")


@pytest.fixture
def converts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The suffix of each transcript parsed to be published (as it is and converted)."""
    return _count_calls(monkeypatch, "parse")


def test_a_rebuild_parses_no_unchanged_transcript(show: Path, parses: list[str], converts: list[str]) -> None:
    # A build, not a publish: a publish of an unchanged show may not build at all.
    result = pipeline.build(show, now=SAMPLE_NOW)
    assert parses == [] and converts == []
    # Published all the same, as the files kept.
    assert {str(path) for path in result.files if "transcript" in str(path)} == {
        f"001-jeremi-lepetit/transcript{suffix}" for suffix in (".vtt", ".srt", ".json")
    }


def test_an_edited_transcript_is_parsed_again_then_kept(show: Path, parses: list[str], converts: list[str]) -> None:
    path = show / TRANSCRIPT
    path.write_bytes(path.read_bytes().replace(b"Entretiens", b"Interviews"))
    _settle(path)
    pipeline.build(show, now=SAMPLE_NOW)
    assert parses == [".vtt"] and converts == [".vtt"]
    pipeline.build(show, now=SAMPLE_NOW)
    assert parses == [".vtt"] and converts == [".vtt"]


def _unsettled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minute for a file's stamp to settle: every file changed in the test is too recent."""
    monkeypatch.setattr(walks, "FINE_RACY_NS", 60 * 10**9)
    monkeypatch.setattr(walks, "RACY_NS", 60 * 10**9)


def test_a_transcript_modified_just_now_is_not_kept(
    show: Path, parses: list[str], converts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _unsettled(monkeypatch)
    path = show / TRANSCRIPT
    path.write_bytes(path.read_bytes().replace(b"Entretiens", b"Interviews"))
    pipeline.build(show, now=SAMPLE_NOW)
    pipeline.build(show, now=SAMPLE_NOW)
    assert parses == [".vtt", ".vtt"] and converts == [".vtt", ".vtt"]


def test_a_transcript_rewritten_with_its_mtime_put_back_is_not_kept_at_once(
    show: Path, parses: list[str], converts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its mtime is old, its ctime is now: the ctime says it may change again within the same
    # tick, keeping the stamp its units would be kept under (review s7, P5).
    _unsettled(monkeypatch)
    path = show / TRANSCRIPT
    back = path.stat().st_mtime_ns
    path.write_bytes(path.read_bytes().replace(b"Entretiens", b"Interviews"))
    os.utime(path, ns=(back, back))
    pipeline.build(show, now=SAMPLE_NOW)
    pipeline.build(show, now=SAMPLE_NOW)
    assert parses == [".vtt", ".vtt"] and converts == [".vtt", ".vtt"]


def test_without_the_cache_every_transcript_is_parsed(show: Path, parses: list[str], converts: list[str]) -> None:
    pipeline.build(show, now=SAMPLE_NOW, use_cache=False)
    assert parses == [".vtt"] and converts == [".vtt"]


def _late_cue(root: Path) -> None:
    path = root / TRANSCRIPT
    path.write_bytes(path.read_bytes().replace(FIRST_END, LATE_END, 1))
    _settle(path)


def _late_cue_in_place(root: Path) -> None:
    """The same size, the same inode, the mtime put back: only the ctime moves."""
    rewrite_keeping_mtime(root / TRANSCRIPT, lambda data: data.replace(FIRST_END, LATE_END, 1))


def _edited(root: Path) -> None:
    path = root / TRANSCRIPT
    path.write_bytes(path.read_bytes().replace(b"Entretiens", b"Interviews, entretiens"))
    _settle(path)


def _edited_in_place(root: Path) -> None:
    """A word reversed: the same size, the same inode, the mtime put back."""
    rewrite_keeping_mtime(root / TRANSCRIPT, lambda data: data.replace(b"Entretiens", b"sneiterntE", 1))


def _corrupt_kept_file(root: Path) -> None:
    """A kept file (the SRT, the JSON or the copy) altered: no longer what its digest says."""
    bodies = sorted(p for p in (root / FILES).rglob("*") if p.is_file())
    assert len(bodies) == 3
    for body in bodies:
        data = bytearray(body.read_bytes())
        data[len(data) // 2] ^= 1
        body.write_bytes(bytes(data))


def _broken(root: Path) -> None:
    path = root / TRANSCRIPT
    path.write_bytes(b"WEBVTT\n\n00:00:01.000 --> nonsense\nHello.\n")
    _settle(path)


def _not_utf8(root: Path) -> None:
    path = root / TRANSCRIPT
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xe9"))
    _settle(path)


def _removed(root: Path) -> None:
    (root / TRANSCRIPT).unlink()


def _corrupt_store(root: Path) -> None:
    data = bytearray((root / STORE).read_bytes())
    data[data.index(b"[]")] = ord("{")
    (root / STORE).write_bytes(bytes(data))


def _foreign_store(root: Path) -> None:
    (root / STORE).write_bytes(b"not a store")


CHANGES: dict[str, Callable[[Path], None]] = {
    "edited": _edited,
    "edited in place": _edited_in_place,
    "corrupt kept file": _corrupt_kept_file,
    "late cue": _late_cue,
    "late cue in place": _late_cue_in_place,
    "broken": _broken,
    "not utf-8": _not_utf8,
    "removed": _removed,
    "corrupt store": _corrupt_store,
    "foreign store": _foreign_store,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_rebuild_reports_and_publishes_what_a_cold_build_does(show: Path, tmp_path: Path, change: str) -> None:
    publish(show, now=SAMPLE_NOW)
    CHANGES[change](show)
    warm = _build(show)
    assert warm == _cold(show, tmp_path / "cold")
    # And once more, from what the warm build kept.
    assert _build(show) == warm


def test_a_kept_problem_is_reported_as_found(show: Path, tmp_path: Path, parses: list[str]) -> None:
    _late_cue(show)
    first = _build(show)
    assert [p[0] for p in first[0] if str(p[0]).startswith("transcript")] == ["transcript-timing"]
    assert parses == [".vtt"]
    assert _build(show) == first
    assert parses == [".vtt"]


def test_a_transcript_broken_after_it_was_checked_stops_the_build_as_without_a_cache(show: Path) -> None:
    result = pipeline.build(show, now=SAMPLE_NOW)
    assert result.project is not None and not result.errors
    show_ = result.project.show
    _broken(show)
    kept = unitcache.Units(show, "transcript-files", version=buildrecord.code(), stored=True)
    with pytest.raises(ProblemsError) as cached:
        transcripts.published(show_, result.releases, kept)
    with pytest.raises(ProblemsError) as plain:
        transcripts.files(show_, next(r for r in result.releases if r.transcripts))
    assert cached.value.problems == plain.value.problems
    assert [p.rule for p in cached.value.problems] == ["transcript-syntax"]


def test_kept_files_come_in_the_order_and_with_the_bytes_made_without_a_cache(tmp_path: Path) -> None:
    text = "WEBVTT\n\n00:00.500 --> 00:02.000\n<v Alex>Welcome.\n\n00:02.500 --> 00:04.000\n<v Sam>Thank you.\n"
    files = {"first.vtt": text, "second.html": "<p>Bonjour</p><script>alert(1)</script>"}
    root = tmp_path / "show"
    for name, content in files.items():
        (root / "transcripts").mkdir(parents=True, exist_ok=True)
        (root / "transcripts" / name).write_text(content, encoding="utf-8")
        _settle(root / "transcripts" / name)
    given = [
        {"file": "transcripts/first.vtt", "language": "fr"},
        {"file": "transcripts/second.html", "language": "en"},
        {"file": "transcripts/first.vtt", "language": "en"},
    ]
    make_show(root, {"001-first": episode(1, transcript=given)}, seconds=60)
    result = pipeline.build(root, now=SAMPLE_NOW)
    assert result.project is not None and not result.errors
    plain = [transcripts.files(result.project.show, release) for release in result.releases]
    for _ in range(2):  # made, then read back
        kept = unitcache.Units(root, "transcript-files", version=buildrecord.code(), stored=True)
        found = transcripts.published(result.project.show, result.releases, kept)
        kept.prune()
        assert [list(made) for made in found] == [list(made) for made in plain]
        assert [{p: content_bytes(c) for p, c in made.items()} for made in found] == plain
    assert any(isinstance(c, Stored) for made in found for c in made.values())
    assert len(plain[0]) == 7


def test_an_episode_without_transcripts_is_not_looked_at(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Most episodes of most shows publish no transcript: their targets were looked for, and an
    # empty order made, for each of 10,000 episodes at every build (~20 ms).
    result = pipeline.build(show, now=SAMPLE_NOW)
    assert result.project is not None and not result.errors
    without = [release for release in result.releases if not release.transcripts]
    assert without and len(without) < len(result.releases)
    plain = [transcripts.files(result.project.show, release) for release in result.releases]
    looked: list[str] = []
    for name in ("_targets", "_order"):
        real = getattr(transcripts, name)

        def counted(release: object, real: Callable[[object], object] = real) -> object:
            looked.append(getattr(release, "episode").slug)  # noqa: B009
            return real(release)

        monkeypatch.setattr(transcripts, name, counted)
    kept = unitcache.Units(show, "transcript-files", version=buildrecord.code(), stored=True)
    found = transcripts.published(result.project.show, result.releases, kept)
    kept.prune()
    assert [{p: content_bytes(c) for p, c in made.items()} for made in found] == plain
    assert looked and not {release.episode.slug for release in without} & set(looked)
