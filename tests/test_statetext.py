"""published.yaml written and read line by line (statetext): the same bytes as PyYAML writes,
the same values and lines as read_yaml reads, and PyYAML left out of a publish's usual path."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entretiens import state, statetext, yamlfile
from entretiens.errors import Problem
from entretiens.model import Change
from entretiens.state import read_state, render_state
from entretiens.yamlfile import Resolvers, YamlList, YamlMap, read_yaml

_HEADER = state._HEADER

# fmt: off
_TRICKY = [
    "ep-1", "2011-06-01", "123", "0x1f", "0b101", "1_000", "1.5", "1e5", "1:20", "12:30:00", "yes", "No", "TRUE",
    "true", "off", "null", "Null", "nan", "inf", "a:b", "abc:", "a+b", "+1", "-x", "x-", "x.", "A", "0", "07",
    "0o7", "2011-06-01T09:00:00+02:00", "2011-06-01 09:00:00", "épisode", "a b", "a#b", "#a", "it's", "a: b", "-",
    "~", "<<", "=", "a" * 101, "a" * 100, "a" * 99, "x" * 90 + ":" + "y" * 10, "12345678901234567890123456789012",
    "1234567890123456789", "3b7a0c1e9f2d4a6b8c0d2e4f6a8b0c2d", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
    "https://example.com/ep/1", "tag:example.com,2011:1", "ep 1\nnew", "tab\there", "_x", "x_", "1-2", "--",
    "abc\ndef", "x\ny",
]
# fmt: on
_WHEN = datetime(2011, 6, 1, 9, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))


def _with_pyyaml(monkeypatch: pytest.MonkeyPatch, *args: object, **kwargs: object) -> bytes:
    """render_state as it was before statetext: PyYAML writes every file."""
    with monkeypatch.context() as patched:
        patched.setattr(statetext, "render", lambda *_args: None)
        return render_state(*args, **kwargs)  # type: ignore[arg-type]


def _same(one: object, other: object) -> None:
    """The same values, types, order and lines (what problems are located with)."""
    assert type(one) is type(other), (one, other)
    if isinstance(one, YamlMap):
        assert isinstance(other, YamlMap)
        assert list(one) == list(other)
        assert (one.line, one.key_lines) == (other.line, other.key_lines)
        for key in one:
            _same(one[key], other[key])
    elif isinstance(one, YamlList):
        raise AssertionError("published.yaml holds no list")
    else:
        assert one == other


def _cases(text: str) -> list[tuple[str, dict[str, str], Change | None, dict[str, Change]]]:
    return [
        (text, {"ep": "g"}, None, {}),
        ("g", {text: "guid", "other": text}, None, {}),
        ("g", {"a": "b"}, Change(hash=text, date=_WHEN), {text: Change(hash="h", date=_WHEN)}),
        ("g", {"a": "b"}, None, {"a": Change(hash=text, date=_WHEN)}),
        ("g", {}, None, {}),
        ("g", {text: "x"}, Change(hash="h", date=_WHEN), {}),
    ]


@pytest.mark.parametrize("text", _TRICKY)
def test_published_yaml_is_written_and_read_as_pyyaml_does(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "published.yaml"
    for podcast_guid, guids, show_change, changes in _cases(text):
        written = render_state(podcast_guid, guids, show_change=show_change, episode_changes=changes)
        assert written == _with_pyyaml(
            monkeypatch, podcast_guid, guids, show_change=show_change, episode_changes=changes
        )
        path.write_bytes(written)
        read = statetext.parse(written.decode("utf-8"), _HEADER)
        if read is not None:
            _same(read, read_yaml(path))
        _same_state(path, monkeypatch)


def _same_state(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_state gives the same state and problems as when it reads every file's YamlMaps."""
    problems: list[Problem] = []
    found = read_state(path, problems)
    with monkeypatch.context() as patched:
        patched.setattr(statetext, "read", lambda *_args: None)
        patched.setattr(statetext, "parse", _parse_without_read)
        expected: list[Problem] = []
        assert found == read_state(path, expected)
    assert problems == expected


_read, _parse = statetext.read, statetext.parse


def _parse_without_read(text: str, header: str) -> YamlMap | None:
    """statetext.parse with its own read, while read_state's is turned off."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(statetext, "read", _read)
        return _parse(text, header)


def test_plain_values_are_written_and_read_without_pyyaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The usual file (UUIDs, hex hashes, time stamps, file-name slugs) never reaches PyYAML:
    # this is what took a second each way at 10,000 episodes.
    podcast_guid = str(uuid.uuid4())
    slugs = [f"{n:05d}-guest-{n}" for n in range(1, 40)] + ["intro", "Épisode"[1:], "a_b"]
    guids = {slug: state.episode_guid_for(podcast_guid, slug) for slug in slugs}
    changes = {slug: Change(hash=uuid.uuid4().hex, date=_WHEN + timedelta(days=n)) for n, slug in enumerate(slugs)}
    show = Change(hash=uuid.uuid4().hex, date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    expected = _with_pyyaml(monkeypatch, podcast_guid, guids, show_change=show, episode_changes=changes)

    def refused(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("PyYAML used")

    monkeypatch.setattr(yaml, "dump", refused)
    monkeypatch.setattr(state, "read_yaml", refused)
    # Nor YamlMaps: the state is built from the texts at once (5 objects an episode before).
    monkeypatch.setattr(statetext, "_map", refused)
    written = render_state(podcast_guid, guids, show_change=show, episode_changes=changes)
    assert written == expected
    path = tmp_path / "published.yaml"
    path.write_bytes(written)
    problems: list[Problem] = []
    read = read_state(path, problems)
    assert problems == []
    assert read.podcast_guid == podcast_guid
    assert dict(read.guids) == guids
    assert dict(read.episode_changes) == changes and read.show_change == show
    assert all(c.date.tzinfo is not None for _slug, c in read.episode_changes)
    monkeypatch.undo()
    _same(statetext.parse(written.decode("utf-8"), _HEADER), read_yaml(path))


_SLUG = st.text(alphabet="aZ09-_.: #'é\"", min_size=1, max_size=12) | st.sampled_from(_TRICKY)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    guids=st.dictionaries(_SLUG, _SLUG, max_size=4),
    changed=st.dictionaries(_SLUG, st.tuples(_SLUG, st.integers(0, 10**9)), max_size=4),
    show=st.none() | st.tuples(_SLUG, st.integers(0, 10**9)),
)
def test_any_state_is_written_as_pyyaml_writes_it(
    guids: dict[str, str],
    changed: dict[str, tuple[str, int]],
    show: tuple[str, int] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def change(digest: str, seconds: int) -> Change:
        return Change(hash=digest, date=_WHEN + timedelta(seconds=seconds, microseconds=seconds % 3))

    changes = {slug: change(*value) for slug, value in changed.items()}
    shown = change(*show) if show is not None else None
    if "" in guids or "" in changes:
        return  # no file has an empty name (and the two PyYAML emitters differ on it)
    written = render_state("g-1", guids, show_change=shown, episode_changes=changes)
    assert written == _with_pyyaml(monkeypatch, "g-1", guids, show_change=shown, episode_changes=changes)


_EDITS = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.integers(0, 3),
        st.sampled_from([" ", ":", "#", "'", "\n", "-", "a", "1", "{", "\t", "  ", ": x", "\n  ", "\n    x: 1", "\r"]),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_an_edited_state_is_read_as_read_yaml_reads_it_or_left_to_it(
    edits: list[tuple[int, int, str]], tmp_path: Path
) -> None:
    # Hand edits of any kind: statetext gives read_yaml's values and lines, or steps aside.
    text = render_state(
        "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
        {"001-a": "g-1", "002-b": "g-2", "003": "g-3"},
        show_change=Change(hash="ab12", date=_WHEN),
        episode_changes={"001-a": Change(hash="cd34", date=_WHEN), "002-b": Change(hash="ef56", date=_WHEN)},
    ).decode("utf-8")
    for position, removed, inserted in edits:
        at = len(_HEADER) + position % (len(text) - len(_HEADER) + 1)
        text = text[:at] + inserted + text[at + removed :]
    path = tmp_path / "published.yaml"
    path.write_bytes(text.encode("utf-8"))
    with pytest.MonkeyPatch.context() as patched:
        _same_state(path, patched)
    read = statetext.parse(text, _HEADER)
    if read is None:
        return
    _same(read, read_yaml(path))


@pytest.mark.parametrize(
    "body",
    [
        "podcast_guid: g\nepisodes:\n  a: b\n  a: c\n",  # a key twice: read_yaml's error
        "podcast_guid: g\nepisodes:\n  a: b\n    c\n",  # a value continued on the next line
        "podcast_guid: g\nepisodes:\n  a: b # note\n",
        "podcast_guid: g\nepisodes:\n  a: 12\n",  # a number, which the state refuses as a GUID
        "podcast_guid: g\nepisodes:\n  a: true\n",
        "podcast_guid: g\nepisodes:\n  2011-06-01: b\n",
        "podcast_guid: g\nepisodes:\n  a: b\nchanges:\n  episodes:\n    a:\n      hash: h\n      date: 2011-06-01\n",
        "podcast_guid: g\nepisodes: {}\n",
        "episodes:\n  a: b\npodcast_guid: g\n",
        "podcast_guid: g\nepisodes:\n  a: b\nextra: 1\n",
        "podcast_guid: g\nepisodes:\n  a: b",
        "podcast_guid: g\r\nepisodes:\r\n  a: b\r\n",
    ],
)
def test_other_texts_are_left_to_read_yaml(body: str, tmp_path: Path) -> None:
    assert statetext.read(_HEADER + body, _HEADER) is None
    assert statetext.parse(_HEADER + body, _HEADER) is None
    assert statetext.parse("# another header\n" + body, _HEADER) is None
    path = tmp_path / "published.yaml"
    path.write_text(_HEADER + body, encoding="utf-8")
    # read_state still says what is wrong, where, as before.
    problems: list[Problem] = []
    read_state(path, problems)
    if "a: b\n  a: c" in body:
        assert [p.rule for p in problems] == ["yaml-syntax"]


@pytest.mark.parametrize(
    ("podcast_guid", "show_date", "episode_date", "rule"),
    [
        ("not-a-uuid", "2011-06-01T09:00:00+02:00", "2011-06-01T09:00:00+02:00", "state-file"),
        (
            "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
            "2011-13-01T09:00:00+02:00",
            "2011-06-01T09:00:00+02:00",
            "state-dates",
        ),
        (
            "8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10",
            "2011-06-01T09:00:00+02:00",
            "2011-06-31T09:00:00+02:00",
            "state-dates",
        ),
        ("8a5d5d2c-7a80-4ea9-a1c6-3b2f1f0c5d10", "2011-06-01T09:00:00+02:00", "2011-06-01T09:00:00+02:00", None),
    ],
)
def test_a_file_as_written_with_a_value_to_report_is_read_through_its_lines(
    podcast_guid: str,
    show_date: str,
    episode_date: str,
    rule: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As publish writes it, line for line, but with a value read_state reports (by hand, or a
    # damaged file): the same problem, at the same line, as when every file was read as YAML.
    body = (
        f"podcast_guid: {podcast_guid}\nepisodes:\n  a: g-1\n  b: g-2\nchanges:\n  show:\n    hash: h0\n"
        f"    date: '{show_date}'\n  episodes:\n    a:\n      hash: h1\n      date: '{episode_date}'\n"
        "    b:\n      hash: h2\n      date: '2011-06-01T09:00:00+02:00'\n"
    )
    path = tmp_path / "published.yaml"
    path.write_text(_HEADER + body, encoding="utf-8")
    assert statetext.read(_HEADER + body, _HEADER) is not None
    problems: list[Problem] = []
    found = read_state(path, problems)
    assert [p.rule for p in problems] == ([rule] if rule else [])
    assert all(p.line is not None for p in problems)
    _same_state(path, monkeypatch)
    # Each slug is one text for both records, and equal dates one object.
    assert [slug for slug, _change in found.episode_changes] == (["b"] if "06-31" in episode_date else ["a", "b"])
    assert found.episode_changes[-1][0] is found.guids[1][0]
    if rule is None:
        assert found.episode_changes[0][1].date is found.episode_changes[1][1].date


def _one_by_one(table: Resolvers, plain: str) -> bool:
    """What PyYAML does: each resolver of the first character in turn, the first match decides."""
    first = plain[0] if plain else ""
    for tag, pattern in list(table.get(first, [])) + list(table.get(None, [])):
        if pattern.match(plain):
            return tag == "tag:yaml.org,2002:str"
    return True


_TRICKY = [
    "", "~", "null", "Null", "yes", "No", "on", "OFF", "y", "n", "true", "False", "0", "-0", "+1", "0x1F", "0o17",
    "0b101", "1_000", "1:20", "1:20.5", "1.5", ".5", "1e5", "1.0e+5", ".inf", "-.Inf", ".nan", "2024-01-05",
    "2024-1-5", "2024-01-05T10:00:00+01:00", "2024-01-05 10:00:00", "<<", "=", "00001-guest-1", "e3b0c442",
    "5ad02b67-062b-5a91-817a-af8f60cd3c11", "12345678901234567890", "0777", "08", "-", "+", ".", "1.", "1.2.3",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789-+._:eExXoObBabcfnNyYtT~<= ", max_size=14))
def test_the_resolvers_tried_as_one_expression_answer_as_one_by_one(plain: str) -> None:
    # Tried as one expression (2-3 fewer matches a value, 4 values an episode, read and written
    # on each publish): the loader's and the dumper's answers are PyYAML's own.
    for table, test in (
        (yamlfile._Loader.yaml_implicit_resolvers, yamlfile.reads_as_text),
        (yaml.resolver.Resolver.yaml_implicit_resolvers, statetext._dumped_as_text),
    ):
        for value in (plain, *_TRICKY):
            assert test(value) == _one_by_one(table, value), value


def test_a_resolver_that_tags_text_is_still_tried_in_turn() -> None:
    text, number = re.compile(r"^12$"), re.compile(r"^[0-9]+$")
    table: Resolvers = {"1": [("tag:yaml.org,2002:str", text), ("tag:yaml.org,2002:int", number)]}
    test = yamlfile.text_test(table)
    assert [test(value) for value in ("12", "13", "1a", "x")] == [True, False, True, True]


_LINE = st.text(alphabet="0123456789-+._:eExXoObBabcfnNyYtTlLuU~<=T ", min_size=1, max_size=14)
_TABLES = [yamlfile._Loader.yaml_implicit_resolvers, yaml.resolver.Resolver.yaml_implicit_resolvers]


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINE | st.sampled_from([t for t in _TRICKY if t and "\n" not in t]), min_size=1, max_size=6))
def test_values_tried_all_at_once_are_text_only_when_each_is(values: list[str]) -> None:
    # render() writes a whole show's slugs, GUIDs and hashes unquoted on one search's word: it
    # may say "not sure" (then each is tried), never "text" when one is not.
    lines = "\n".join(values)
    for table in _TABLES:
        each = [_one_by_one(table, value) for value in values]
        if yamlfile.lines_test(table)(lines):
            assert all(each), values
        elif len(values) == 1:
            assert not each[0], values  # one line: the search is the resolvers' own answer
        if all(value[0].isdigit() for value in values) and yamlfile.lines_other_test(table, "0123456789")(lines):
            assert not any(each), values


def test_the_usual_values_are_tried_all_at_once() -> None:
    # Else the search would always say "not sure", and each value be tried apart again.
    podcast_guid = str(uuid.uuid4())
    slugs = [f"{n:05d}-guest-{n}" for n in range(1, 200)] + ["intro", "a_b", "B-side"]
    guids = [state.episode_guid_for(podcast_guid, slug) for slug in slugs]
    hashes = [uuid.uuid4().hex for _ in slugs]
    times = [(_WHEN + timedelta(hours=n)).isoformat() for n in range(200)]
    for table in _TABLES:
        for values in (slugs, guids, hashes):
            assert yamlfile.lines_test(table)("\n".join(values))
        assert not yamlfile.lines_test(table)("\n".join([*slugs, "2011-06-01"]))
    assert yamlfile.lines_other_test(yaml.resolver.Resolver.yaml_implicit_resolvers, "0123456789")("\n".join(times))
    assert not statetext._all_moments([*times, "2011-06-01T09:00:00"])


def test_a_whole_state_is_written_without_a_check_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    podcast_guid = str(uuid.uuid4())
    slugs = [f"{n:05d}-guest-{n}" for n in range(1, 100)]
    guids = {slug: state.episode_guid_for(podcast_guid, slug) for slug in slugs}
    changes = {slug: Change(hash=uuid.uuid4().hex, date=_WHEN + timedelta(hours=n)) for n, slug in enumerate(slugs)}
    show = Change(hash=uuid.uuid4().hex, date=_WHEN)
    expected = _with_pyyaml(monkeypatch, podcast_guid, guids, show_change=show, episode_changes=changes)
    tried: list[str] = []
    each = statetext._Scalars.__call__

    def counted(self: statetext._Scalars, value: str) -> str:
        tried.append(value)
        return each(self, value)

    monkeypatch.setattr(statetext._Scalars, "__call__", counted)
    assert render_state(podcast_guid, guids, show_change=show, episode_changes=changes) == expected
    # The show's GUID and change only: no value of an episode is tried apart.
    assert len(tried) == 3
    # One value not written plain among them: each is tried, and PyYAML writes the file as before.
    guids["00007-guest-7"] = "yes"
    tried.clear()
    written = render_state(podcast_guid, guids, show_change=show, episode_changes=changes)
    assert written == _with_pyyaml(monkeypatch, podcast_guid, guids, show_change=show, episode_changes=changes)
    assert tried[-1] == "yes"
