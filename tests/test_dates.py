"""Truthful dates: lastBuildDate and sitemap lastmod move with what was published, and only then."""

from __future__ import annotations

import email.utils
import gc
import hashlib
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import NOW
from entretiens import dates, layout, pipeline, site
from entretiens.errors import Problem, ProblemsError
from entretiens.output import Content, Stored, stored
from entretiens.publish import publish
from entretiens.state import STATE_FILE, read_state
from sampleshow import SAMPLE_NOW, copy_sample_show
from showbuilder import episode, make_show

SLUGS = ("001-first", "002-second", "003-third")


def _show(tmp_path: Path) -> tuple[Path, Path]:
    root = make_show(tmp_path / "show", {slug: episode(i + 1, notes="First notes.") for i, slug in enumerate(SLUGS)})
    return root, tmp_path / "out"


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _last_build(out: Path) -> str:
    found = re.findall(r"<lastBuildDate>([^<]*)</lastBuildDate>", (out / "feed.xml").read_text(encoding="utf-8"))
    assert len(found) == 1
    return str(found[0])


def _lastmods(out: Path) -> dict[str, str]:
    text = (out / "sitemap.xml").read_text(encoding="utf-8")
    return dict(re.findall(r"<loc>([^<]*)</loc>\s*<lastmod>([^<]*)</lastmod>", text))


def _url(slug: str) -> str:
    return f"https://podcast.example.org/show/{slug}/"


def test_an_edit_moves_that_episode_and_the_feed_and_nothing_else(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    # Never recorded before: the dates the feed always gave (each episode's, the newest one's).
    assert _last_build(out) == "Sun, 03 Mar 2024 10:00:00 +0100"
    first = _lastmods(out)
    assert first[_url("002-second")] == "2024-03-02"
    state = (root / STATE_FILE).read_bytes()

    # A rebuild later, nothing changed: not one byte moves, published.yaml included.
    before = _snapshot(out)
    publish(root, out, now=NOW + timedelta(days=30))
    assert _snapshot(out) == before
    assert (root / STATE_FILE).read_bytes() == state

    # The notes of one episode corrected.
    path = root / "episodes" / "002-second.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("First notes.", "Corrected notes."), encoding="utf-8")
    edited = datetime(2024, 7, 14, 8, 30, tzinfo=NOW.tzinfo)
    publish(root, out, now=edited)
    assert _last_build(out) == "Sun, 14 Jul 2024 08:30:00 +0000"
    after = _lastmods(out)
    assert after[_url("002-second")] == "2024-07-14"
    assert after[_url("001-first")] == first[_url("001-first")] == "2024-03-01"
    assert after[_url("003-third")] == first[_url("003-third")] == "2024-03-03"
    assert after["https://podcast.example.org/show/"] == "2024-07-14"

    # And that is remembered: a later rebuild keeps the July dates, byte for byte.
    before = _snapshot(out)
    publish(root, out, now=edited + timedelta(days=3))
    assert _snapshot(out) == before


def test_a_show_wide_change_moves_every_page_that_shows_it(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    feed_yaml = root / "feed.yaml"
    feed_yaml.write_text(feed_yaml.read_text(encoding="utf-8") + "copyright: © 2024 Someone\n", encoding="utf-8")
    publish(root, out, now=NOW + timedelta(days=1))
    assert _last_build(out) == "Sun, 02 Jun 2024 00:00:00 +0000"
    # Every episode page carries the copyright line, so every one of them changed.
    assert "© 2024 Someone" in (out / "002-second" / "index.html").read_text(encoding="utf-8")
    assert set(_lastmods(out).values()) == {"2024-06-02"}


def test_a_new_episode_keeps_its_own_date_and_moves_the_feed(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    make_show(root, {"004-fourth": episode(4, date="2024-06-10T09:00:00+00:00")})
    publish(root, out, now=datetime(2024, 6, 10, 9, 5, tzinfo=NOW.tzinfo))
    assert _lastmods(out)[_url("004-fourth")] == "2024-06-10"
    assert _last_build(out) == "Mon, 10 Jun 2024 09:05:00 +0000"


@pytest.mark.parametrize(
    "changes",
    ["changes: [1, 2]\n", "changes:\n  show: yesterday\n", "changes:\n  episodes:\n    001-first:\n      hash: 1\n"],
)
def test_a_damaged_date_record_is_a_warning_and_is_written_anew(tmp_path: Path, changes: str) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    path = root / STATE_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("changes:")] + changes, encoding="utf-8")
    problems: list[Problem] = []
    read_state(path, problems)
    assert [(p.rule, p.severity) for p in problems] == [("state-dates", "warning")]
    publish(root, out, now=NOW + timedelta(days=1))
    problems = []
    state = read_state(path, problems)
    assert problems == []
    assert state.show_change is not None
    assert {slug for slug, _ in state.episode_changes} == set(SLUGS)


def _reference_records(files: dict[PurePosixPath, Content]) -> list[bytes]:
    """Each file's record in the show's hash, as the module documents it, written plainly with
    Path objects, in the order of the paths."""
    records = []
    for path in sorted(files):
        if path == PurePosixPath("sitemap.xml"):
            continue
        content = files[path]
        text = path.suffix in {".xml", ".html", ".md", ".json", ".vtt", ".srt", ".txt", ".xsl", ".css", ".js"}
        if isinstance(content, (bytes, Stored)):
            data = content if isinstance(content, bytes) else content.read_bytes()
            body = re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", data)
            part = hashlib.sha256(body).digest() if text else b"generated"
        else:
            part = f"size:{content.stat().st_size}".encode()
        records.append(str(path).encode() + b"\0" + part + b"\0")
    return records


def _reference_show_hash(files: dict[PurePosixPath, Content]) -> str:
    """The show's hash: the sum of its records' SHA-256, as numbers, modulo 2**256."""
    total = sum(int.from_bytes(hashlib.sha256(record).digest(), "big") for record in _reference_records(files))
    return "v2-" + f"{total % 2**256:064x}"[:32]


def _reference_show_hash_v1(files: dict[PurePosixPath, Content]) -> str:
    """The show's hash as published.yaml recorded it first: one SHA-256 over the records."""
    return hashlib.sha256(b"".join(_reference_records(files))).hexdigest()[:32]


def test_the_show_hash_is_the_documented_one_without_comparing_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Odd names on purpose: a hidden ".json" has no suffix, "a-b" sorts after "a/b" as parts.
    page = tmp_path / "page.html"
    page.write_bytes(b"<p>kept</p>")
    image = tmp_path / "card.jpg"
    image.write_bytes(b"\xff\xd8 not text")
    audio = tmp_path / "x.mp3"
    audio.write_bytes(b"\xff\xfb" * 10)
    marks = dates.fingerprints({"e/index.html": page.read_bytes()})["e/index.html"]
    files: dict[PurePosixPath, Content] = {
        PurePosixPath("feed.xml"): b"<rss><lastBuildDate>Mon</lastBuildDate><item/></rss>",
        PurePosixPath("sitemap.xml"): b"<urlset/>",
        PurePosixPath("a/b"): b"plain",
        PurePosixPath("a-b"): b"{}",
        PurePosixPath("a/.json"): b"{}",
        PurePosixPath("a/file."): b"x",
        PurePosixPath("e/index.html"): stored(page, hashlib.sha256(b"<p>kept</p>").hexdigest(), 11, marks),
        PurePosixPath("e/notes.md"): stored(page, hashlib.sha256(b"<p>kept</p>").hexdigest(), 11),
        PurePosixPath("e/card.jpg"): stored(image, hashlib.sha256(image.read_bytes()).hexdigest(), 10),
        PurePosixPath("audio/x.mp3"): audio,
    }
    expected, expected_v1 = _reference_show_hash(files), _reference_show_hash_v1(files)
    compared: list[object] = []
    original = PurePath.__lt__

    def counted(self: PurePath, other: PurePath) -> bool:
        compared.append(self)
        return original(self, other)

    monkeypatch.setattr(PurePath, "__lt__", counted)
    assert dates._show_hash(files) == expected
    assert compared == []  # not sorted at all
    assert dates._show_hash_v1(files) == expected_v1
    assert compared == []  # the first way sorted by parts, not by Path comparisons
    # The audio's size as measured (checked again before the write): not stat'ed once more.
    stat = Path.stat

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        assert self != audio, "the audio was stat'ed again"
        return stat(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "stat", refuse)
    assert dates._show_hash(files, {}, {str(audio): 20}) == expected
    assert dates._show_hash_v1(files, {str(audio): 20}) == expected_v1


def test_the_sitemap_is_rendered_once_with_its_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    (root / "episodes" / "002-second.yaml").write_text(
        (root / "episodes" / "002-second.yaml").read_text(encoding="utf-8").replace("First notes.", "Edited."),
        encoding="utf-8",
    )
    rendered = site.sitemap
    calls: list[datetime | None] = []

    def counted(*args: object, **kwargs: object) -> bytes:
        calls.append(kwargs.get("show_date"))  # type: ignore[arg-type]
        return rendered(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(site, "sitemap", counted)
    later = NOW + timedelta(days=3)
    publish(root, out, now=later)
    # Once, by the dating, with the show's new date; not once more before it by the site.
    assert calls == [later]
    assert _lastmods(out)[_url("002-second")] == later.date().isoformat()


def test_a_static_sitemap_still_clashes_with_the_generated_one(tmp_path: Path) -> None:
    root, out = _show(tmp_path)
    (root / "static").mkdir()
    (root / "static" / "sitemap.xml").write_text("<urlset/>", encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)
    assert "two different files would be published as sitemap.xml; rename one of them" in str(caught.value)
    assert not out.exists()


def test_an_edit_builds_the_feed_with_its_date_and_dating_does_not_copy_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    first = _snapshot(out)
    stamp = dates.stamp
    copied: list[bool] = []

    def watched(*args: object) -> dates.Changes:
        files = args[3]
        assert isinstance(files, dict)
        feed = files[PurePosixPath("feed.xml")]
        changes = stamp(*args)  # type: ignore[arg-type]
        copied.append(files[PurePosixPath("feed.xml")] is not feed)
        return changes

    monkeypatch.setattr(dates, "stamp", watched)
    # Nothing changed, a month later (no build record in-process): the guess (now) is wrong, and
    # the feed is dated back to its recorded date: the same bytes.
    publish(root, out, now=NOW + timedelta(days=30))
    assert _snapshot(out) == first and copied == [True]
    # An edit: the feed was built with the date it gets, and kept as it was built.
    (root / "episodes" / "002-second.yaml").write_text(
        (root / "episodes" / "002-second.yaml").read_text(encoding="utf-8").replace("First notes.", "Edited."),
        encoding="utf-8",
    )
    later = NOW + timedelta(days=31)
    publish(root, out, now=later)
    assert copied == [True, False]
    assert _last_build(out) == "Tue, 02 Jul 2024 00:00:00 +0000"


def test_dating_finds_each_episode_s_files_by_name_not_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Path made to look a file up is hashed and compared in Python: two per episode, 20,000
    # at 10,000 episodes. The files are looked up by their names, from the show hash's pass.
    counts = []
    compared: list[object] = []
    original = PurePath.__eq__

    def counted(self: PurePath, other: object) -> bool:
        compared.append(self)
        return original(self, other)

    for size in (2, 6):
        slugs = [f"{n:03d}-episode" for n in range(1, size + 1)]
        root = make_show(tmp_path / f"show{size}", {slug: episode(i + 1) for i, slug in enumerate(slugs)})
        built = pipeline.build(root, now=NOW)
        assert built.project is not None and len(built.releases) == size
        project, files = built.project, dict(built.files)
        compared.clear()
        with monkeypatch.context() as watching:
            watching.setattr(PurePath, "__eq__", counted)
            changes = dates.stamp(project.show, project.state, built.releases, files, NOW)
        assert set(changes.episodes) == set(slugs)
        counts.append(len(compared))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "content",
    [
        b"<rss><channel><lastBuildDate>Mon</lastBuildDate><item>x</item></channel></rss>",
        b"<lastBuildDate>a</lastBuildDate><lastBuildDate>b</lastBuildDate>",  # adjacent, at the start
        b"x<lastBuildDate>a<b>c</b></lastBuildDate> <lastBuildDate></lastBuildDate>",  # one not whole
        b"<lastBuildDate><lastBuildDate>a</lastBuildDate>",  # an opening tag inside another
        b"<item><![CDATA[<lastBuildDate>typed</lastBuildDate>]]></item><lastBuildDate>",  # cut
        b"no date at all",
    ],
)
def test_the_text_part_leaves_out_exactly_each_last_build_date(content: bytes) -> None:
    # Hashed over the pieces around each element (the feed is not copied): the same digest as
    # the module documents, every match of the pattern removed.
    expected = hashlib.sha256(re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", content)).digest()
    assert dates._text_part(content) == expected


@pytest.mark.parametrize("slug", ["001-first", "épisode 2", ".", "a.b", "x/y"])
def test_the_notes_beside_a_page_are_where_the_layout_puts_them(slug: str) -> None:
    episode = SimpleNamespace(slug=slug)
    page = str(layout.episode_page(episode))  # type: ignore[arg-type]
    assert dates._beside(page) == str(layout.notes_markdown(episode))  # type: ignore[arg-type]
    # The page's name as dating joins it from the slug (a path made only for an odd slug).
    assert dates._page_name(episode) == page  # type: ignore[arg-type]


def test_an_episode_is_dated_without_a_path_made_for_its_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its page's name joined from its slug (a valid slug is one plain name): no PurePosixPath
    # made, parsed and formatted per episode (2 ms at 1,000 episodes).
    slugs = ["001-first", "002-second", "003-third"]
    root = make_show(tmp_path / "show", {slug: episode(i + 1) for i, slug in enumerate(slugs)})
    built = pipeline.build(root, now=NOW)
    named: dict[str, object] = {}
    dates._show_hash(built.files, named)  # type: ignore[arg-type]
    expected = [dates._episode_hash(named, release) for release in built.releases]  # type: ignore[arg-type]

    def refuse(episode: object) -> object:
        raise AssertionError("a path made for an episode's page")

    monkeypatch.setattr(layout, "episode_page", refuse)
    assert [dates._episode_hash(named, release) for release in built.releases] == expected  # type: ignore[arg-type]
    assert len(set(expected)) == len(slugs)


def test_a_date_record_of_the_first_show_hash_keeps_every_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample's published.yaml was written by a version that hashed the show the first way
    # (one SHA-256 over the records in path order). The same show, published now, keeps the
    # feed's date and every episode's, and published.yaml is not rewritten (it is the user's).
    show = copy_sample_show(tmp_path / "show")
    before = read_state(show / STATE_FILE, [])
    assert before.show_change is not None and dates._is_v1(before.show_change.hash)
    recorded = (show / STATE_FILE).read_bytes()
    checked: list[str] = []
    original = dates._show_hash_v1

    def counted(*args: Any, **kwargs: Any) -> str:
        checked.append(result := original(*args, **kwargs))
        return result

    monkeypatch.setattr(dates, "_show_hash_v1", counted)
    out = tmp_path / "public"
    publish(show, out, now=SAMPLE_NOW + timedelta(days=400))
    assert checked == [before.show_change.hash]
    assert (show / STATE_FILE).read_bytes() == recorded
    assert _last_build(out) == email.utils.format_datetime(before.show_change.date)
    # A build from the kept pages (their marks, no page read) finds the same.
    (show / "feed.yaml").touch()  # a build, not the build record's "nothing changed"
    publish(show, out, now=SAMPLE_NOW + timedelta(days=401))
    assert checked == [before.show_change.hash] * 2
    assert (show / STATE_FILE).read_bytes() == recorded


def test_a_date_record_of_the_first_show_hash_still_sees_a_change(tmp_path: Path) -> None:
    show = copy_sample_show(tmp_path / "show")
    before = read_state(show / STATE_FILE, [])
    assert before.show_change is not None and dates._is_v1(before.show_change.hash)
    path = show / "episodes" / "002-nicolas-sauvage.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('title: "Nicolas Sauvage,', 'title: "Nicolas Sauvage (edited),', 1), encoding="utf-8")
    later = SAMPLE_NOW + timedelta(days=400)
    publish(show, tmp_path / "public", now=later)
    after = read_state(show / STATE_FILE, [])
    assert after.show_change is not None and after.show_change.hash.startswith("v2-")
    assert after.show_change.date == later
    assert dict(after.episode_changes)["002-nicolas-sauvage"].date == later


def test_the_show_hash_of_kept_pages_is_that_of_a_cold_build(tmp_path: Path) -> None:
    # Kept pages count by the digests their marks hold, made pages by their bytes: the same sum.
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    path = root / "episodes" / "002-second.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("First notes.", "Other notes."), encoding="utf-8")
    warm = pipeline.build(root, now=NOW)
    assert warm.changes is not None
    kept = [content for content in warm.files.values() if type(content) is Stored and content.marks]
    assert len(kept) >= 4  # the two other episodes' pages and notes at least
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".entretiens"))
    cold = pipeline.build(fresh, now=NOW, use_cache=False)
    assert cold.changes is not None
    # Made pages, not kept ones (cards and thumbnails may still be handed over as the image
    # cache's files: a build without units draws them there once the artwork has settled).
    assert not any(type(content) is Stored and content.marks for content in cold.files.values())
    assert warm.changes.show.hash == cold.changes.show.hash
    assert warm.changes.episodes == cold.changes.episodes


@pytest.mark.skipif(layout._MAKE_PARTS is None, reason="paths are made by parsing on this Python")
def test_a_path_read_back_from_a_cache_gives_its_text_without_joining_its_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The dating takes str() of every path of public/: a page's path, made from the text a
    # cache kept, is that text (the same str, hash and parts as the path parsing makes).
    joined: list[object] = []
    real = PurePosixPath._format_parsed_parts  # type: ignore[attr-defined]

    def counting(cls: type, drv: str, root: str, parts: list[str]) -> str:
        joined.append(parts)
        return real(drv, root, parts)  # type: ignore[no-any-return]

    for text in ("a/b.html", "00033-guest-33/embed/index.html", "é/ß", "a b/#c%20", "x", "a/../b"):
        made = layout.path_of(text)
        monkeypatch.setattr(PurePosixPath, "_format_parsed_parts", classmethod(counting))
        assert str(made) == text
        monkeypatch.undo()
        assert made == PurePosixPath(text) and hash(made) == hash(PurePosixPath(text))
        assert made.parts == PurePosixPath(text).parts and made.parent == PurePosixPath(text).parent
    assert joined == []


def test_dating_a_build_runs_with_the_collector_off_and_holds_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The show hash's names and the sitemap's rows (a few containers a file) set off full passes
    # of the collector over the whole build, ~80 ms of an edit at 10,000 episodes.
    root, out = _show(tmp_path)
    publish(root, out, now=NOW)
    seen: list[tuple[str, bool, bool]] = []
    show_hash, sitemap = dates._show_hash, site.sitemap

    def watched_hash(*args: Any, **kwargs: Any) -> str:
        seen.append(("hash", gc.isenabled(), gc.get_freeze_count() > 0))
        return show_hash(*args, **kwargs)

    def watched_sitemap(*args: Any, **kwargs: Any) -> bytes:
        seen.append(("sitemap", gc.isenabled(), gc.get_freeze_count() > 0))
        return sitemap(*args, **kwargs)

    monkeypatch.setattr(dates, "_show_hash", watched_hash)
    monkeypatch.setattr(site, "sitemap", watched_sitemap)
    (root / "episodes" / "002-second.yaml").write_text(
        (root / "episodes" / "002-second.yaml").read_text(encoding="utf-8").replace("First notes.", "New notes."),
        encoding="utf-8",
    )
    publish(root, out, now=NOW + timedelta(days=1))
    assert seen == [("hash", False, True), ("sitemap", False, True)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
