"""published.yaml: every way it can be damaged is refused with a located error, and nothing
already published changes (the `state-file` rule guards the GUIDs listeners' apps know)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from audiogen import write_mp3
from conftest import NOW, DamagedState, PublishedShow, as_another_user
from entretiens.cli import cli
from entretiens.errors import ConfigError, Problem, ProblemsError
from entretiens.loading import load_project
from entretiens.model import Change, PublishState
from entretiens.podcast_spec import ATOM_NS, PODCAST_NS
from entretiens.publish import publish
from entretiens.state import (
    MAX_LIVE_FEED_BYTES,
    LiveFeed,
    LiveItem,
    episode_guid_for,
    is_uuid,
    merged_guids,
    read_live_feed,
    read_state,
    recover_guids,
    render_state,
)
from showbuilder import episode, make_show, tree, write_yaml


def _found(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.rule, p.line, p.field) for p in problems]


def _publish(show: PublishedShow) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["publish", "--show", str(show.root), "--output", str(show.out)])
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stderr


def _state_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


# --- each damage, at each level ----------------------------------------------------------------


def test_read_state_reports_each_damage_where_it_is(damaged_state: DamagedState) -> None:
    problems: list[Problem] = []
    read_state(damaged_state.show.state_file, problems)
    assert _found(problems) == list(damaged_state.damage.expected)
    assert all(p.severity == "error" for p in problems)
    assert all(p.path == damaged_state.show.state_file for p in problems)
    assert any(damaged_state.damage.says in p.message for p in problems), [p.message for p in problems]
    state_file_problems = [p for p in problems if p.rule == "state-file"]
    assert all(p.hint and "restore" in p.hint for p in state_file_problems)


def test_loading_a_damaged_state_is_an_error(damaged_state: DamagedState) -> None:
    with pytest.raises(ConfigError) as caught:
        load_project(damaged_state.show.root)
    located = [(p.rule, p.line, p.field) for p in caught.value.problems if p.path == damaged_state.show.state_file]
    assert located == list(damaged_state.damage.expected)


def test_publish_refuses_a_damaged_state_and_changes_nothing(damaged_state: DamagedState) -> None:
    show = damaged_state.show
    output_before = tree(show.out)
    state_before = _state_bytes(show.state_file)

    code, stderr = _publish(show)

    assert code == 1
    assert "Traceback" not in stderr
    for rule, line, _field in damaged_state.damage.expected:
        where = f"published.yaml:{line}:" if line is not None else "published.yaml:"
        assert where in stderr and f"[{rule}]" in stderr, stderr
    assert "nothing was published" in stderr
    assert tree(show.out) == output_before
    assert _state_bytes(show.state_file) == state_before


# --- what is not damage ------------------------------------------------------------------------


def test_a_state_file_that_is_no_regular_file_is_refused_without_hanging(tmp_path: Path) -> None:
    """A FIFO would block the read for ever, a link loop would raise: both are located errors."""
    fifo = tmp_path / "published.yaml"
    os.mkfifo(fifo)
    problems: list[Problem] = []
    assert read_state(fifo, problems) == PublishState()
    assert [(p.rule, p.path) for p in problems] == [("state-file", fifo)]
    assert "FIFO" in problems[0].message
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    problems = []
    assert read_state(loop, problems) == PublishState()
    assert [(p.rule, p.path) for p in problems] == [("state-file", loop)]


def test_a_missing_state_file_is_a_show_never_published(tmp_path: Path) -> None:
    problems: list[Problem] = []
    assert read_state(tmp_path / "published.yaml", problems) == PublishState()
    assert problems == []


@pytest.mark.parametrize("text", ["", "# only a comment\n", "podcast_guid: null\nepisodes: {}\n"])
def test_an_empty_state_file_pins_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "published.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    assert read_state(path, problems) == PublishState()
    assert problems == []


def test_what_publish_writes_reads_back_the_same(tmp_path: Path) -> None:
    podcast_guid = str(uuid.uuid4())
    guids = {"002-b": "urn:imported:2", "001-a": episode_guid_for(podcast_guid, "001-a")}
    path = tmp_path / "published.yaml"
    path.write_bytes(render_state(podcast_guid, guids))

    problems: list[Problem] = []
    state = read_state(path, problems)

    assert problems == []
    assert state == PublishState(
        podcast_guid=podcast_guid, guids=(("001-a", guids["001-a"]), ("002-b", "urn:imported:2"))
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Written by `entretiens publish`")
    assert text.index("001-a") < text.index("002-b"), "slugs in a stable order, so the file diffs well"


def test_equal_change_dates_and_a_slug_read_twice_are_one_object_each(tmp_path: Path) -> None:
    # A publish dates every part it changed with its own moment: 10,000 equal dates (and each
    # slug written twice) were as many objects in every load.
    podcast_guid = str(uuid.uuid4())
    slugs = [f"{n:03d}-guest" for n in range(1, 41)]
    moment, later = datetime(2026, 1, 1, 9, tzinfo=timezone.utc), datetime(2026, 1, 2, 9, tzinfo=timezone.utc)
    changes = {slug: Change(hash=f"{n:064x}", date=later if n % 4 else moment) for n, slug in enumerate(slugs)}
    path = tmp_path / "published.yaml"
    guids = {slug: episode_guid_for(podcast_guid, slug) for slug in slugs}
    path.write_bytes(
        render_state(podcast_guid, guids, show_change=Change(hash="0" * 64, date=moment), episode_changes=changes)
    )
    problems: list[Problem] = []
    state = read_state(path, problems)
    assert problems == []
    assert dict(state.episode_changes) == changes and dict(state.guids) == guids
    assert len({id(change.date) for _slug, change in state.episode_changes}) == 2
    assert all(a is b for (a, _guid), (b, _change) in zip(state.guids, state.episode_changes, strict=True))


def test_spaces_around_a_pinned_guid_are_not_part_of_it(tmp_path: Path) -> None:
    path = tmp_path / "published.yaml"
    path.write_text("episodes:\n  001-a: '  urn:x  '\n", encoding="utf-8")
    problems: list[Problem] = []
    assert read_state(path, problems).guids == (("001-a", "urn:x"),)
    assert problems == []


def test_two_slugs_may_share_a_guid_when_one_file_was_renamed(published_show: PublishedShow) -> None:
    """The README's advice for a renamed file (copy the old GUID as `guid:`) leaves the old slug's pin."""
    root = published_show.root
    old = yaml.safe_load(published_show.state_file.read_text(encoding="utf-8"))["episodes"]["001-first"]
    data = yaml.safe_load((root / "episodes" / "001-first.yaml").read_text(encoding="utf-8"))
    (root / "episodes" / "001-first.yaml").unlink()
    write_yaml(root / "episodes" / "001-renamed.yaml", {**data, "guid": old})

    publish(root, published_show.out, now=NOW)

    pinned = yaml.safe_load(published_show.state_file.read_text(encoding="utf-8"))["episodes"]
    assert pinned["001-first"] == pinned["001-renamed"] == old


def test_two_present_episodes_pinned_to_one_guid_are_refused(published_show: PublishedShow) -> None:
    state_file = published_show.state_file
    pinned = yaml.safe_load(state_file.read_text(encoding="utf-8"))
    first = pinned["episodes"]["001-first"]
    state_file.write_text(state_file.read_text(encoding="utf-8").replace(pinned["episodes"]["002-second"], first))
    output_before = tree(published_show.out)

    with pytest.raises(ProblemsError) as caught:
        publish(published_show.root, published_show.out, now=NOW)

    assert "duplicate-guid" in [p.rule for p in caught.value.problems]
    assert tree(published_show.out) == output_before


# --- a state file that cannot be written ---------------------------------------------------------


def test_a_read_only_state_file_that_need_not_change_is_left_alone(published_show: PublishedShow) -> None:
    state_file = published_show.state_file
    assert _publish(published_show)[0] == 0  # records when each part last changed
    state_file.chmod(0o444)
    before = state_file.stat()

    assert _publish(published_show)[0] == 0

    after = state_file.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_mode) == (before.st_ino, before.st_mtime_ns, before.st_mode)


def test_a_state_file_publish_cannot_write_stops_the_publish(world_readable_dir: Path) -> None:
    """GUIDs are saved before the feed goes out: when they cannot be, nothing goes out."""
    prefix = as_another_user()
    root = make_show(world_readable_dir / "show")
    out = world_readable_dir / "out"
    publish(root, out, now=NOW)
    write_yaml(root / "episodes" / "003-third.yaml", episode(3))
    write_mp3(root / "audio" / "003.mp3", seconds=2, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1)
    state_before = (root / "published.yaml").read_bytes()
    if prefix:
        for path in [out, *out.rglob("*")]:
            os.chown(path, 65534, 65534)
    root.chmod(0o555)
    output_before = tree(out)

    result = subprocess.run(
        [*prefix, sys.executable, "-m", "entretiens", "publish", "--show", str(root), "--output", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(world_readable_dir), "NO_COLOR": "1"},
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "published.yaml: cannot write" in result.stderr, result.stderr
    assert (root / "published.yaml").read_bytes() == state_before
    assert tree(out) == output_before


# --- the helpers publish relies on ----------------------------------------------------------------


def test_a_pinned_guid_is_never_replaced() -> None:
    state = PublishState(podcast_guid=None, guids=(("001-a", "pinned"),))
    assert merged_guids(state, [("001-a", "new"), ("002-b", "fresh")]) == {"001-a": "pinned", "002-b": "fresh"}
    # An episode whose file is gone keeps its pin: if the file comes back, so does its GUID.
    assert merged_guids(state, []) == {"001-a": "pinned"}


def test_a_new_episode_guid_is_a_uuid5_of_the_show_and_the_slug() -> None:
    show = "1743692a-74ff-592d-8730-0f4425ef297c"
    guid = episode_guid_for(show, "001-a")
    assert guid == str(uuid.uuid5(uuid.UUID(show), "001-a")) == episode_guid_for(show, "001-a")
    assert guid != episode_guid_for(show, "001-b")
    assert is_uuid(guid, version=5)
    assert not is_uuid(guid, version=4)
    assert is_uuid(guid.upper()) and is_uuid("{" + guid + "}") and is_uuid(guid.replace("-", ""))
    assert not is_uuid("my-show") and not is_uuid("")


# --- the live feed GUIDs are recovered from when published.yaml lost them ------------------------


def _live_feed_text(base: str, *items: tuple[str, str, str]) -> str:
    entries = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><link>{link}</link><enclosure url='{url}'/></item>"
        for guid, link, url in items
    )
    return (
        f"<rss xmlns:atom='{ATOM_NS}' xmlns:podcast='{PODCAST_NS}'><channel>"
        f"<atom:link rel='self' href='{base}feed.xml'/><podcast:guid> {PODCAST_GUID} </podcast:guid>"
        f"{entries}</channel></rss>"
    )


PODCAST_GUID = "1743692a-74ff-592d-8730-0f4425ef297c"


def test_what_the_live_feed_promised_is_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        _live_feed_text("https://old.example/x/", ("g1", " https://old.example/x/001-a/ ", "u1"), ("", "l", "u")),
        encoding="utf-8",
    )
    live = read_live_feed(path)
    assert isinstance(live, LiveFeed)
    assert (live.podcast_guid, live.base_url) == (PODCAST_GUID, "https://old.example/x/")
    assert live.items == (LiveItem(guid="g1", link="https://old.example/x/001-a/", enclosure="u1"),)


def _unreadable_live_feeds(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "a-folder.xml"
    folder.mkdir()
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as stream:  # Sparse: no disk is used for the bytes past the cap.
        stream.truncate(MAX_LIVE_FEED_BYTES + 1)
    not_xml = tmp_path / "not-xml.xml"
    not_xml.write_text("<rss><channel>", encoding="utf-8")
    no_channel = tmp_path / "no-channel.xml"
    no_channel.write_text("<rss/>", encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    return {
        "a folder": (folder, "is not a regular file"),
        "over the cap": (huge, "is larger than 256 MB"),
        "not XML": (not_xml, "cannot be read as a feed"),
        "no channel": (no_channel, "has no <channel>"),
        "under a file": (a_file / "feed.xml", "cannot be read (Not a directory)"),
    }


def test_a_live_feed_that_cannot_be_read_says_how_to_recover(tmp_path: Path) -> None:
    assert read_live_feed(tmp_path / "missing.xml") is None
    for name, (path, says) in _unreadable_live_feeds(tmp_path).items():
        problem = read_live_feed(path)
        assert isinstance(problem, Problem), name
        assert (problem.rule, problem.severity, problem.path) == ("guid-unrecoverable", "error", path), name
        assert says in problem.message, (name, problem.message)
        assert problem.hint and "restore published.yaml" in problem.hint, name


def test_live_guids_are_matched_by_page_or_by_audio_even_after_a_move(published_show: PublishedShow) -> None:
    episodes = load_project(published_show.root).episodes
    moved = "https://old.example/x/"
    live = LiveFeed(
        path=published_show.out / "feed.xml",
        podcast_guid="not a uuid",
        base_url=moved,
        items=(
            LiveItem(guid="pinned-already", link=moved + "002-second/", enclosure=""),
            LiveItem(guid="by-page", link=moved + "001-first/", enclosure=""),
            LiveItem(guid="by-audio", link="", enclosure="https://cdn.example/elsewhere/audio/002.mp3"),
            LiveItem(guid="nobody", link="https://other.example/999/", enclosure="https://cdn.example/999.mp3"),
            LiveItem(guid="no-enclosure", link="", enclosure=""),
        ),
    )
    state = PublishState(podcast_guid=None, guids=(("003-gone", "pinned-already"),))

    completed, recovered, show_recovered = recover_guids(state, live, episodes)

    assert recovered == {"001-first": "by-page", "002-second": "by-audio"}
    assert completed.guids == (("003-gone", "pinned-already"), ("001-first", "by-page"), ("002-second", "by-audio"))
    # A podcast:guid that is not a UUID is not taken for the show's.
    assert (completed.podcast_guid, show_recovered) == (None, False)


# fmt: off
_TRICKY = [
    "ep-1", "2011-06-01", "123", "0x1f", "0b101", "1_000", "1.5", "1e5", "1:20", "12:30:00", "yes", "No", "TRUE",
    "off", "null", "Null", "nan", "inf", "a:b", "abc:", "a+b", "+1", "-x", "x-", "x.", "A", "0", "07", "0o7",
    "2011-06-01T09:00:00+02:00", "2011-06-01 09:00:00", "épisode", "a b", "a#b", "#a", "it's", "a: b", "",
    "---", "...", "-", "~", "<<", "=", "a" * 101, "a" * 99, "x" * 90 + ":" + "y" * 10,
    "12345678901234567890123456789012",
    "3b7a0c1e9f2d4a6b8c0d2e4f6a8b0c2d", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "https://example.com/ep/1",
    "tag:example.com,2011:1", "ep 1\nnew", "line\u2028sep", "tab\there",
]
# fmt: on


@pytest.mark.parametrize("text", _TRICKY)
def test_published_yaml_is_written_as_pyyaml_writes_it(text: str) -> None:
    # render_state uses libyaml's emitter where it is there (a tenth of a rebuild was the
    # pure-Python one): for any slug, GUID, hash or date, in any place, it reads back the same
    # and its bytes are those of yaml.safe_dump (files written before keep diffing cleanly).
    when = datetime(2011, 6, 1, 9, tzinfo=timezone.utc)
    cases: list[tuple[str, dict[str, str], Change | None, dict[str, Change]]] = [
        (text, {"ep": "g"}, None, {}),
        ("g", {text: "guid", "other": text}, None, {}),
        ("g", {}, Change(hash=text, date=when), {text: Change(hash="h", date=when)}),
        ("g", {"a": "b"}, None, {"a": Change(hash=text, date=when)}),
        ("g", {}, None, {}),
    ]
    for podcast_guid, guids, show_change, changes in cases:
        written = render_state(podcast_guid, guids, show_change=show_change, episode_changes=changes)
        data: dict[str, object] = {"podcast_guid": podcast_guid, "episodes": dict(sorted(guids.items()))}
        if show_change is not None or changes:
            section: dict[str, object] = {}
            if show_change is not None:
                section["show"] = {"hash": show_change.hash, "date": show_change.date.isoformat()}
            section["episodes"] = {s: {"hash": c.hash, "date": c.date.isoformat()} for s, c in sorted(changes.items())}
            data["changes"] = section
        assert yaml.safe_load(written) == data
        if text == "" and (text in guids or text in changes):
            # An empty key (no episode file has an empty name) is the one place the two emitters
            # differ: libyaml writes '': where the pure-Python emitter writes ? ''.
            continue
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False).encode("utf-8")
        header = written[: -len(body)]
        assert written.endswith(body) and all(line.startswith(b"# ") for line in header.splitlines())


@pytest.mark.parametrize(
    ("podcast_guid", "show_date", "episode_date", "expected"),
    [
        ("8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10", "2011-06-01T09:00:00+02:00", "2011-06-02T09:00:00+02:00", []),
        ("not-a-uuid", "2011-06-01T09:00:00+02:00", "2011-06-02T09:00:00+02:00", [("state-file", 4)]),
        (
            "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
            "2011-13-01T09:00:00+02:00",
            "2011-06-02T09:00:00+02:00",
            [("state-dates", 9)],
        ),
        (
            "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
            "2011-06-01T09:00:00+02:00",
            "2011-06-02T09:00:00",
            [("state-dates", 13)],
        ),
    ],
)
def test_a_state_as_publish_writes_it_reports_what_it_reported_before(
    tmp_path: Path, podcast_guid: str, show_date: str, episode_date: str, expected: list[tuple[str, int]]
) -> None:
    # Read without YamlMaps when nothing is to be reported; else through them, which locate it.
    path = tmp_path / "published.yaml"
    text = render_state(
        "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
        {"001-a": "g-1", "002-b": "g-2"},
        show_change=Change(hash="h0", date=datetime(2011, 6, 1, 9, tzinfo=timezone.utc)),
        episode_changes={"001-a": Change(hash="h1", date=datetime(2011, 6, 2, 9, tzinfo=timezone.utc))},
    ).decode("utf-8")
    text = text.replace("8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10", podcast_guid)
    text = text.replace("2011-06-01T09:00:00+00:00", show_date).replace("2011-06-02T09:00:00+00:00", episode_date)
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    state = read_state(path, problems)
    assert [(p.rule, p.line) for p in problems] == expected
    assert state.guids == (("001-a", "g-1"), ("002-b", "g-2"))
    assert (state.podcast_guid is None) == (podcast_guid == "not-a-uuid")
    assert (state.show_change is None) == ("-13-" in show_date)
    assert len(state.episode_changes) == (0 if episode_date.endswith(":00:00") else 1)
