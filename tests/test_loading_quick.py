"""The loader's shortcuts answer exactly as the long way does: its path checks (one ``lstat`` per
part, no resolving) on every kind of name and link a show folder can hold, and the live feed
left unparsed when published.yaml already pins every GUID it holds."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entretiens import loading, state, walks
from entretiens.errors import ConfigError, Problem
from entretiens.fieldreader import FieldReader
from entretiens.loading import _files, _guids
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show

#: Long enough ago that the cache trusts a file's stamp (see unitcache.RACY_NS).
_PAST_NS = 1_600_000_000 * 10**9


def _tree(tmp_path: Path) -> Path:
    root = (tmp_path / "show").resolve()
    (root / "audio" / "deep").mkdir(parents=True)
    (root / "audio" / "a.mp3").write_bytes(b"a")
    (root / "audio" / "deep" / "b.mp3").write_bytes(b"b")
    (root / "audio" / "notes.yaml").write_text("x: 1\n", encoding="utf-8")
    (root / "audio" / "dir.mp3").mkdir()
    os.mkfifo(root / "audio" / "fifo.mp3")
    (root / "audio" / "link.mp3").symlink_to(root / "audio" / "a.mp3")
    (root / "audio" / "relative.mp3").symlink_to("deep/b.mp3")
    (root / "audio" / "other.png").symlink_to(root / "audio" / "a.mp3")
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"o")
    (root / "audio" / "out.mp3").symlink_to(outside)
    (root / "audio" / "broken.mp3").symlink_to(root / "audio" / "nothing.mp3")
    (root / "audio" / "loop.mp3").symlink_to(root / "audio" / "loop.mp3")
    (root / "linked").symlink_to(root / "audio")
    (root / "away").symlink_to(tmp_path)
    (root / "guests").mkdir()
    (root / "guests" / "ada.yaml").write_text("name: Ada\n", encoding="utf-8")
    (root / "guests" / "photo.jpg").symlink_to(root / "guests" / "ada.yaml")
    (root / ".entretiens" / "cache").mkdir(parents=True)
    (root / ".entretiens" / "cache" / "c.mp3").write_bytes(b"c")
    (root / ".git").mkdir()
    (root / ".git" / "g.mp3").write_bytes(b"g")
    (root / "episodes").mkdir()
    (root / "episodes" / "001.yaml").write_text("title: x\n", encoding="utf-8")
    return root


NAMES = [
    "audio/a.mp3",
    "audio/deep/b.mp3",
    "./audio/a.mp3",
    "audio/./a.mp3",
    "audio//a.mp3",
    "audio/../audio/a.mp3",
    "audio/a.mp3/",
    "audio/deep/../a.mp3",
    "AUDIO/a.mp3",
    "audio/A.mp3",
    "audio/missing.mp3",
    "audio/dir.mp3",
    "audio/fifo.mp3",
    "audio/link.mp3",
    "audio/relative.mp3",
    "audio/other.png",
    "audio/out.mp3",
    "audio/broken.mp3",
    "audio/loop.mp3",
    "audio/notes.yaml",
    "audio/notes.YML",
    "linked/a.mp3",
    "away/outside.mp3",
    "away/show/audio/a.mp3",
    "guests/ada.yaml",
    "guests/photo.jpg",
    "episodes/001.yaml",
    ".entretiens/cache/c.mp3",
    ".git/g.mp3",
    "audio/.entretiens",
    "/etc/hostname",
    "",
    ".",
    "..",
    "audio",
    "audio/",
]


def _answer(root: Path, text: str) -> tuple[str | None, list[Problem]]:
    problems: list[Problem] = []
    reader = FieldReader(root / "episodes" / "001.yaml", problems)
    return _files.show_file(reader, text, "audio", 3), problems


@pytest.mark.parametrize("text", NAMES)
def test_a_media_name_is_answered_as_the_long_way_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    root = _tree(tmp_path)
    quick = _answer(root, text)
    monkeypatch.setattr(_files, "plain_media", lambda _root, _text: False)
    assert quick == _answer(root, text)


def test_the_quick_media_path_is_taken_for_plain_files(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    taken = [text for text in NAMES if _files.plain_media(root, text)]
    assert taken == ["audio/a.mp3", "audio/deep/b.mp3"]


def test_what_a_load_has_seen_answers_as_a_fresh_look(tmp_path: Path) -> None:
    # A load remembers each file and folder it checked: an absolute name must never be taken for
    # a folder it remembers, nor the second look at a name differ from the first.
    root = _tree(tmp_path)
    names = [*NAMES, str(root / "audio"), f"{root}/audio/a.mp3", str(root / "audio" / "deep")]
    seen: dict[str, bool] = {}
    for text in [*names, *reversed(names), *names]:
        assert _files.plain_media(root, text, seen) == _files.plain_media(root, text), text
    assert seen[str(root / "audio")] is True and seen["audio/a.mp3"] is True


@pytest.mark.parametrize("after", [0, 1, 3])
def test_a_listed_folder_answers_as_a_fresh_look(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    # A folder whose files are asked for often is listed once: its plain files are known from
    # the listing, the rest looked at one by one, and every answer is what a fresh look gives.
    root = _tree(tmp_path)
    monkeypatch.setattr(_files, "LIST_AFTER", after)
    names = [*NAMES, str(root / "audio"), f"{root}/audio/a.mp3", str(root / "audio" / "deep")]
    seen: dict[str, bool] = {}
    asked: dict[str, int] = {}
    for text in [*names, *reversed(names), *names]:
        assert _files.plain_media(root, text, seen, asked) == _files.plain_media(root, text), text
    assert asked[str(root / "audio")] == after + 1


def _episode_files(tmp_path: Path, link_folder: str | None) -> Path:
    root = (tmp_path / "show").resolve()
    folder = root / "episodes"
    if link_folder == "inside":
        (root / "real-episodes").mkdir(parents=True)
        folder.symlink_to(root / "real-episodes")
    elif link_folder == "outside":
        (tmp_path / "elsewhere").mkdir()
        root.mkdir()
        folder.symlink_to(tmp_path / "elsewhere")
    else:
        folder.mkdir(parents=True)
    (folder / "001.yaml").write_text("title: a\n", encoding="utf-8")
    (folder / "002.yaml").write_text("title: b\n", encoding="utf-8")
    (folder / "003.yaml").symlink_to(folder / "001.yaml")
    (folder / "004.yaml").symlink_to(tmp_path)
    (folder / "005.yaml").symlink_to(folder / "nothing.yaml")
    (folder / "006.yaml").mkdir()
    os.mkfifo(folder / "007.yaml")
    outside = tmp_path / "outside.yaml"
    outside.write_text("title: o\n", encoding="utf-8")
    (folder / "008.yaml").symlink_to(outside)
    (folder / "009.yml").write_text("title: c\n", encoding="utf-8")
    (folder / ".hidden.yaml").write_text("title: d\n", encoding="utf-8")
    (folder / "B.yaml").write_text("title: e\n", encoding="utf-8")
    (folder / "a.yaml").write_text("title: f\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("link_folder", [None, "inside", "outside"])
def test_a_folder_of_show_files_is_listed_as_the_long_way_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link_folder: str | None
) -> None:
    folder = _episode_files(tmp_path, link_folder)
    quick_problems: list[Problem] = []
    quick = loading.yaml_files(folder, quick_problems)
    monkeypatch.setattr(_files, "_plain_entry", lambda _entry: None)
    slow_problems: list[Problem] = []
    assert quick == loading.yaml_files(folder, slow_problems)
    assert quick_problems == slow_problems
    assert [path.name for path in quick][:2] == (["001.yaml", "002.yaml"] if link_folder != "outside" else [])


def _published(tmp_path: Path, *, drafts: bool = False) -> Path:
    root = copy_sample_show(tmp_path / "show")
    if not drafts:
        # A draft is never pinned: a show with one reads its live feed (the draft may be live).
        (root / "episodes" / "007-teletravail.yaml").unlink()
    publish(root, now=SAMPLE_NOW)
    return root


def _outcome(root: Path) -> object:
    try:
        project = loading.load_project(root)
    except ConfigError as exc:
        return [repr(problem) for problem in exc.problems]
    return project, project.state, [repr(problem) for problem in project.warnings]


def test_the_live_feed_is_not_read_when_every_guid_is_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _published(tmp_path)
    expected = _outcome(root)

    def unread(path: Path) -> None:
        raise AssertionError(f"{path} read")

    monkeypatch.setattr(_guids, "read_live_feed", unread)
    assert _outcome(root) == expected


def _parsed_feeds(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The live feeds the load of ``root`` parses."""
    read: list[Path] = []
    original = state.read_live_feed

    def counted(path: Path) -> object:
        read.append(path)
        return original(path)

    with monkeypatch.context() as patched:
        patched.setattr(_guids, "read_live_feed", counted)
        _outcome(root)
    return read


def test_the_live_feed_is_not_parsed_when_every_guid_it_holds_is_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A draft (or a scheduled episode) is never pinned: the feed is scanned for its GUIDs,
    # all pinned, and left unparsed (the 10,000-episode benchmark show has scheduled ones).
    root = _published(tmp_path, drafts=True)
    assert _parsed_feeds(root, monkeypatch) == []
    assert _outcome(root) == _without_shortcut(root, monkeypatch)


def test_the_live_feed_is_parsed_when_it_holds_a_guid_not_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _published(tmp_path, drafts=True)
    record = root / "published.yaml"
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[next(index for index, line in enumerate(lines) if line.startswith("  0"))]
    record.write_text("".join(lines), encoding="utf-8")
    assert _parsed_feeds(root, monkeypatch) == [root / "public" / "feed.xml"]


def _without_shortcut(root: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patched:
        patched.setattr(loading, "all_pinned", lambda _state, _episodes: False)
        patched.setattr(loading, "pinned_live_feeds", lambda _state, _output: False)
        return _outcome(root)


@pytest.mark.parametrize("drafts", [False, True])
@pytest.mark.parametrize("damage", ["feed", "one guid lost", "show guid lost", "both"])
def test_a_lost_guid_or_a_damaged_feed_is_met_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, drafts: bool
) -> None:
    root = _published(tmp_path, drafts=drafts)
    if damage in ("feed", "both"):
        (root / "public" / "feed.xml").write_bytes(b"<rss><channel><item>")
    record = root / "published.yaml"
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    if damage in ("one guid lost", "both"):
        lost = next(index for index, line in enumerate(lines) if line.startswith("  0"))
        del lines[lost]
    if damage in ("show guid lost", "both"):
        lines = [line for line in lines if not line.startswith("podcast_guid:")]
    record.write_text("".join(lines), encoding="utf-8")
    assert _outcome(root) == _without_shortcut(root, monkeypatch)
    if damage == "one guid lost":
        project = _outcome(root)
        assert isinstance(project, tuple)
        assert any("guid-recovered" in problem for problem in project[2])


_FEED_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>T</title>\n'
_ITEMS = [
    b"<item><guid>g-1</guid></item>",
    b'<item><guid isPermaLink="false"> g-2 </guid></item>',
    b"<item><title>no guid</title></item>",
    b"<item><guid><![CDATA[g-3]]></guid></item>",
    b"<item><guid>g-&#52;</guid></item>",
    b"<item><guid>g-<!-- x -->5</guid></item>",
    b"<item><guid>g-6\r\n</guid></item>",
    b"<item><guid a='>'>g-7</guid></item>",
    b"<item><guid/></item>",
    b"<item><description><![CDATA[<guid>g-8</guid>]]></description><guid>g-9</guid></item>",
    b"<!-- <item><guid>g-10</guid></item> -->",
    b"<item><guid >g-11</guid ></item>",
    "<item><guid>é-12</guid></item>".encode(),
    b'<item xmlns="urn:x"><guid>g-13</guid></item>',
]


def _check_scan(path: Path, data: bytes) -> None:
    """What live_guids finds holds every GUID read_live_feed reads, or it says it cannot tell."""
    path.write_bytes(data)
    found = _guids.live_guids(path)
    if found is None:
        return
    live = state.read_live_feed(path)
    if isinstance(live, state.LiveFeed):
        assert {item.guid for item in live.items} <= found


@pytest.mark.parametrize("item", _ITEMS)
def test_the_live_guids_found_without_parsing_hold_every_guid_a_parser_finds(tmp_path: Path, item: bytes) -> None:
    path = tmp_path / "feed.xml"
    for data in (
        _FEED_HEAD + item + b"</channel></rss>\n",
        _FEED_HEAD + b"<item><guid>g-0</guid></item>" + item + b"</channel></rss>\n",
        _FEED_HEAD.replace(b"UTF-8", b"ISO-8859-1") + item + b"</channel></rss>\n",
        (_FEED_HEAD + item + b"</channel></rss>\n").decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    ):
        _check_scan(path, data)
    # A guid a parser reads differently from its bytes makes the scan give up, not guess.
    if item in (_ITEMS[3], _ITEMS[4], _ITEMS[5], _ITEMS[6], _ITEMS[8]):
        path.write_bytes(_FEED_HEAD + item + b"</channel></rss>\n")
        assert _guids.live_guids(path) is None
    path.write_bytes((_FEED_HEAD + item + b"</channel></rss>\n").decode().replace("UTF-8", "UTF-16").encode("utf-16"))
    assert _guids.live_guids(path) is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    items=st.lists(st.sampled_from(_ITEMS), max_size=4),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 2),
            st.sampled_from([b"<", b">", b"&amp;", b"<!--", b"-->", b"<![CDATA[", b"]]>", b"\r", b" ", b"guid", b"/"]),
        ),
        max_size=3,
    ),
)
def test_any_damage_to_the_live_feed_keeps_the_scan_on_the_safe_side(
    tmp_path: Path, items: list[bytes], edits: list[tuple[int, int, bytes]]
) -> None:
    data = _FEED_HEAD + b"".join(items) + b"</channel></rss>\n"
    for position, removed, inserted in edits:
        at = position % (len(data) + 1)
        data = data[:at] + inserted + data[at + removed :]
    _check_scan(tmp_path / "feed.xml", data)


def test_a_cached_load_stats_each_episode_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The listing's status is the parse cache's stamp (two stats a file before, 10,000 a load).
    root = _published(tmp_path)
    expected = _outcome(root)
    episodes = f"{root / 'episodes'}/"
    counted: dict[str, int] = {}
    original = os.stat

    def counting(path: str | Path, *args: object, **kwargs: bool) -> os.stat_result:
        if str(path).startswith(episodes):
            counted[str(path)] = counted.get(str(path), 0) + 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    assert _outcome(root) == expected
    assert len(counted) == len(list((root / "episodes").glob("*.yaml"))) > 3
    assert set(counted.values()) == {1}


def test_a_cached_load_looks_at_each_media_file_and_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every episode names a file of audio/: the folder was looked at once per episode.
    root = copy_sample_show(tmp_path / "show")
    (root / "episodes" / "007-teletravail.yaml").unlink()
    for file in root.rglob("*.yaml"):
        os.utime(file, ns=(_PAST_NS, _PAST_NS))  # old enough for the cache to keep what is read
    publish(root, now=SAMPLE_NOW)
    expected = _outcome(root)
    audio = [episode.audio for episode in loading.load_project(root, cache=False).episodes]
    counted: dict[str, int] = {}
    original = os.lstat

    def counting(path: str | Path, *args: object, **kwargs: bool) -> os.stat_result:
        counted[str(path)] = counted.get(str(path), 0) + 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counting)
    assert _outcome(root) == expected
    assert len(audio) > 3 and all(text.startswith("audio/") for text in audio)
    assert counted[str(root / "audio")] == 1
    assert all(counted[f"{root}/{text}"] == 1 for text in audio)


def _backdated(root: Path) -> Path:
    stamps = []
    for file in root.rglob("*.yaml"):
        os.utime(file, ns=(_PAST_NS, _PAST_NS))
        status = file.stat()
        stamps.append((status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino))
    # The ctime (now: no program can put it back) settles too: the cache keeps a parse only once
    # the later of the two times is a tick old (walks.settled).
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)
    # Kept even when the show is in error: the GUIDs are checked after the episodes are read.
    with contextlib.suppress(ConfigError):
        loading.load_project(root)
    return root


def test_a_kept_episode_takes_its_pinned_guid_as_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pin_guids made every episode again to give it its GUID (an Episode replaced, 10,000 a load).
    root = _backdated(_published(tmp_path, drafts=True))
    cold = loading.load_project(root, cache=False)
    replaced: list[object] = []
    original = dataclasses.replace

    def counted(value: object, **changes: object) -> object:
        replaced.append(value)
        return original(value, **changes)  # type: ignore[type-var]

    monkeypatch.setattr(_guids, "replace", counted)
    kept = loading.load_project(root)
    assert kept == cold
    assert [e.guid for e in kept.episodes] == [e.guid for e in cold.episodes]
    assert kept.warnings == cold.warnings
    # Only the draft (never pinned: its GUID is derived) is made again; the show too.
    draft = "007-teletravail"
    assert draft not in dict(kept.state.guids)
    assert sorted(getattr(value, "slug", "show") for value in replaced) == [draft, "show"]


def test_a_written_guid_that_contradicts_the_pinned_one_is_still_an_error_when_kept(tmp_path: Path) -> None:
    root = _published(tmp_path)
    episode = sorted((root / "episodes").glob("*.yaml"))[1]
    episode.write_text(episode.read_text(encoding="utf-8") + 'guid: "another"\n', encoding="utf-8")
    _backdated(root)
    with pytest.raises(ConfigError) as cold:
        loading.load_project(root, cache=False)
    with pytest.raises(ConfigError) as kept:
        loading.load_project(root)
    assert [repr(p) for p in kept.value.problems] == [repr(p) for p in cold.value.problems]
    assert any(p.rule == "guid-changed" and p.path == episode for p in kept.value.problems)


def test_a_cached_load_lists_a_folder_many_episodes_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 episodes, each with its own file in audio/: the folder is listed once, and only the
    # first files are looked at one by one (10,000 lstat a load before, in a large show).
    root = copy_sample_show(tmp_path / "show").resolve()
    (root / "episodes" / "007-teletravail.yaml").unlink()
    model = (root / "episodes" / "001-jeremi-lepetit.yaml").read_text(encoding="utf-8")
    model = "\n".join(line for line in model.splitlines() if not line.startswith(("number:", "season:")))
    for index in range(40):
        name = f"audio/copy-{index:02}.mp3"
        (root / name).write_bytes(b"not measured by a load")
        text = model.replace("audio: audio/001-jeremi-lepetit.mp3", f"audio: {name}")
        (root / "episodes" / f"1{index:02}-copy.yaml").write_text(text + "\n", encoding="utf-8")
    _backdated(root)
    cold = loading.load_project(root, cache=False)
    assert len(cold.episodes) == 46
    looked: list[str] = []
    original = os.lstat

    def counting(path: str | Path, *args: object, **kwargs: bool) -> os.stat_result:
        looked.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counting)
    kept = loading.load_project(root)
    assert kept == cold and kept.warnings == cold.warnings
    audio = [path for path in looked if path.startswith(f"{root}/audio/")]
    assert len(audio) == _files.LIST_AFTER


def test_the_listed_episode_files_are_the_paths_a_parse_makes(tmp_path: Path) -> None:
    # Made as children of the folder's path (a tenth of the cost): equal in every way.
    root = copy_sample_show(tmp_path / "show").resolve()
    stats: dict[str, os.stat_result] = {}
    listed = loading.yaml_files(root / "episodes", [], stats=stats)
    assert len(listed) > 3 and set(stats) == {path.name for path in listed}
    for path in listed:
        plain = Path(str(path))
        assert (type(path), str(path), path.parts, path.parent, path.stem, hash(path), path) == (
            type(plain),
            str(plain),
            plain.parts,
            plain.parent,
            plain.stem,
            hash(plain),
            plain,
        )
        assert stats[path.name] == os.stat(plain)
