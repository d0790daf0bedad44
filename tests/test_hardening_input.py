"""Hostile or careless YAML in a show folder: every value is read as written, or refused at its line.

Each case reproduces a defect found by trying the tool as a hostile user (issue 13): a number
read in another base, a control character, deep nesting, a huge value, a strange time zone or
base_url. Each must end in an error naming the file, the line and the field, with nothing
published and no traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from entretiens.cli import cli
from showbuilder import make_show


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout + result.stderr


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _refused(root: Path, where: str, *words: str) -> str:
    """Publish and check both fail with a located error holding ``where`` and ``words``; nothing written."""
    out = root / "public"
    code, output = _run("publish", "--show", str(root))
    assert code == 1, output
    assert "Traceback" not in output and "bug in entretiens" not in output
    assert f"Error: {where}" in output, output
    for word in words:
        assert word in output, output
    assert not out.exists()
    code, checked = _run("check", "--show", str(root))
    assert code == 1, checked
    assert "Traceback" not in checked and "bug in entretiens" not in checked
    return output


@pytest.fixture
def show(tmp_path: Path) -> Path:
    return make_show(tmp_path / "show")


EPISODE = "episodes/001-first.yaml"


@pytest.mark.parametrize(
    ("written", "yaml11"),
    [("010", "8"), ("1:30", "90"), ("0x10", "16"), ("0b11", "3"), ("1_0", "10"), ("0o10", None)],
)
def test_episode_numbers_are_decimal_or_refused(show: Path, written: str, yaml11: str | None) -> None:
    _replace(show / EPISODE, "number: 1\n", f"number: {written}\n")
    output = _refused(show, f"{EPISODE}:2: number: '{written}' is not a whole number")
    if yaml11:
        assert f"read it as {yaml11}" in output


@pytest.mark.parametrize("written", ["100000000000000000000000000000000", "2147483648", "9" * 5000])
def test_numbers_out_of_range_are_refused(show: Path, written: str) -> None:
    _replace(show / EPISODE, "season: 1\n", f"season: {written}\n")
    _refused(show, f"{EPISODE}:3: season:")


def test_decimal_numbers_still_publish(show: Path) -> None:
    _replace(show / EPISODE, "number: 1\n", "number: 10\n")
    code, output = _run("publish", "--show", str(show))
    assert code == 0, output
    assert "<itunes:episode>10</itunes:episode>" in (show / "public" / "feed.xml").read_text(encoding="utf-8")


def test_quoted_text_that_looks_like_a_number_is_kept_as_written(show: Path) -> None:
    _replace(show / EPISODE, "title: Conversation 1", "title: 0x10")
    code, output = _run("publish", "--show", str(show))
    assert code == 0, output
    assert "<title>0x10</title>" in (show / "public" / "feed.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("escape", ["\\x01", "\\0", "\\u001b", "\\uffff"])
def test_control_characters_written_as_escapes_are_located(show: Path, escape: str) -> None:
    _replace(show / EPISODE, "title: Conversation 1", f'title: "Conver{escape}sation"')
    _refused(show, f"{EPISODE}:1: title: the text holds the control character")


def test_control_character_in_a_nested_field_names_the_field(show: Path) -> None:
    _replace(show / EPISODE, "bio: Bio of guest 1.", 'bio: "Bio\\x07"')
    _refused(show, f"{EPISODE}:", "guests[0].bio: the text holds the control character U+0007")


@pytest.mark.parametrize("depth", [100, 900, 5000])
def test_deep_yaml_is_a_located_error(show: Path, depth: int) -> None:
    with (show / EPISODE).open("a", encoding="utf-8") as file:
        file.write("extra: " + "[" * depth + "]" * depth + "\n")
    _refused(show, f"{EPISODE}:", "nest")


def test_deep_block_yaml_is_a_located_error(show: Path) -> None:
    lines = [f"{'  ' * level}k{level}:" for level in range(200)]
    with (show / EPISODE).open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + " end\n")
    _refused(show, f"{EPISODE}:", "nest")


def test_a_ten_megabyte_quote_is_refused_at_its_field(show: Path) -> None:
    _replace(show / EPISODE, "title: Conversation 1", 'title: "' + "x" * 10_000_000 + '"')
    _refused(show, f"{EPISODE}:1: title: the text is 10,000,000 characters long")


def test_a_huge_show_file_is_not_read(show: Path) -> None:
    path = show / EPISODE
    with path.open("r+b") as file:  # sparse: costs no disk
        file.truncate(3_000_000_000)
    _refused(show, f"{EPISODE}: the file weighs 3,000,000,000 bytes")


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1066-10-14"])
def test_dates_far_in_time_are_refused_at_their_field(show: Path, date: str) -> None:
    _replace(show / EPISODE, "date: '2024-03-01T10:00:00+01:00'", f"date: {date}")
    _refused(show, f"{EPISODE}:4: date: the year")


@pytest.mark.parametrize("zone", ["A" * 300, "../../../../etc/passwd", "Europe", "/"])
def test_strange_time_zones_are_located_errors(show: Path, zone: str) -> None:
    _replace(show / "feed.yaml", "timezone: Europe/Paris", f"timezone: '{zone}'")
    _refused(show, "feed.yaml:5: timezone:")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://podcast.example.org/show/?x=1", "'?' or '#'"),
        ("https://podcast.example.org/show/#top", "'?' or '#'"),
        ("https://host:secret@podcast.example.org/show/", "password"),
    ],
)
def test_base_url_with_query_fragment_or_password_is_refused_at_its_field(show: Path, url: str, words: str) -> None:
    _replace(show / "feed.yaml", "base_url: https://podcast.example.org/show/", f"base_url: '{url}'")
    _refused(show, "feed.yaml:4: base_url:", words)


@pytest.mark.parametrize("written", [".inf", "1.0e999", ".nan", "99999999999999999999:00"])
def test_infinite_times_are_refused(show: Path, written: str) -> None:
    with (show / EPISODE).open("a", encoding="utf-8") as file:
        file.write(f"chapters:\n- start: 0\n  title: Start\n- start: {written}\n  title: Never\n")
    _refused(show, f"{EPISODE}:", "chapters[1]")


# -- fuzz: hostile YAML never ends in a traceback --------------------------------------------------

_EPISODE_KEYS = (
    "title", "number", "season", "date", "audio", "summary", "notes", "guests", "chapters", "transcript",
    "image", "draft", "explicit", "type", "links", "quote", "soundbites", "guid",
)  # fmt: skip
_SHOW_KEYS = ("title", "description", "language", "base_url", "timezone", "author", "owner", "image", "categories")
_TRICKY_TEXT = (
    "010", "0x10", "0b11", "0o7", "1:30", "1_000", ".inf", "-.nan", "1e309", "9" * 5000, "~", "null", "yes",
    "2024-02-30", "0001-01-01", "9999-12-31T23:59:59-12:00", "https://", "../../etc/passwd", "/dev/zero",
    "audio/../../x.mp3", "{{ 7 * 7 }}", "<img src=https://tracker.example/p.gif>", "\u202e\u0000\ufffe",
)  # fmt: skip
_TRICKY_YAML = (
    "&a [*a]", "!!python/object/apply:os.system ['true']", "!!binary AAAA", "!!int 0x10", "!!float nan",
    "*undefined", "{a: 1, a: 2}", "[" * 70 + "]" * 70, "'" + "x" * 200_000 + "'", '"\\x01\\ud800"', "? [a]\n: b",
    "<<: {a: 1}", "!!set {a, b}", "!!omap [a: 1]", "|\n  \x85text", "\t- tab",
)  # fmt: skip


def _hostile_values() -> st.SearchStrategy[object]:
    scalars: st.SearchStrategy[object] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
        st.sampled_from(_TRICKY_TEXT),
        st.dates(),
        st.datetimes(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(st.text(max_size=10), st.sampled_from(_EPISODE_KEYS)), children, max_size=4),
        ),
        max_leaves=12,
    )


def _nested(depth: int) -> object:
    value: object = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def _hostile_file(draw: st.DrawFn, original: dict[str, object], keys: tuple[str, ...]) -> str:
    """A show file: the original with a few fields replaced by hostile values or raw YAML."""
    data = dict(original)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from(keys))
        data[key] = draw(st.one_of(_hostile_values(), st.builds(_nested, st.integers(min_value=1, max_value=100))))
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    if draw(st.booleans()):
        key = draw(st.sampled_from(keys))
        text += f"{key}: {draw(st.sampled_from(_TRICKY_YAML))}\n"
    return text


_LOCATED = re.compile(r"^(Error|Warning|Info): (feed\.yaml|episodes/|guests/|transcripts/|audio/|templates/)")


def _assert_located_or_success(command: str, root: Path, output_dir: Path) -> None:
    args = [command, "--show", str(root)]
    if command == "publish":
        args += ["--output", str(output_dir)]
    result = CliRunner().invoke(cli, args)
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{command} raised {result.exception!r}\n{output}"
    )
    assert "Traceback" not in output and "bug in entretiens" not in output, output
    assert result.exit_code in (0, 1), output
    event(f"{command} exit {result.exit_code}")
    if result.exit_code == 1:
        errors = [line for line in output.splitlines() if line.startswith("Error: ")]
        assert errors, output
        unlocated = [line for line in errors if not _LOCATED.match(line)]
        assert not unlocated, output


@pytest.fixture(scope="module")
def fuzz_show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_show(tmp_path_factory.mktemp("fuzz") / "show")


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzz_hostile_yaml_gives_a_located_error_or_success(fuzz_show: Path, data: st.DataObject) -> None:
    episode_path = fuzz_show / EPISODE
    feed_path = fuzz_show / "feed.yaml"
    episode_text = episode_path.read_text(encoding="utf-8")
    feed_text = feed_path.read_text(encoding="utf-8")
    try:
        if data.draw(st.booleans(), label="episode (else feed.yaml)"):
            original = yaml.safe_load(episode_text)
            episode_path.write_text(data.draw(_hostile_file(original, _EPISODE_KEYS)), encoding="utf-8")
        else:
            original = yaml.safe_load(feed_text)
            feed_path.write_text(data.draw(_hostile_file(original, _SHOW_KEYS)), encoding="utf-8")
        for command in ("check", "publish"):
            _assert_located_or_success(command, fuzz_show, fuzz_show.parent / "out")
    finally:
        episode_path.write_text(episode_text, encoding="utf-8")
        feed_path.write_text(feed_text, encoding="utf-8")
