"""The loader: a show folder into the model, with every error located by file, line and field."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from entretiens.errors import ConfigError, Problem
from entretiens.loading import load_project
from showbuilder import SHOW, episode, make_show, write_yaml


def _errors(root: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    return [p for p in caught.value.problems if p.severity == "error"]


def test_loads_show_and_episodes_oldest_first(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"b-later": episode(2), "a-earlier": episode(1)})
    project = load_project(root)
    show = project.show
    assert show.title == "Test Talks"
    assert show.base_url == "https://podcast.example.org/show/"
    assert show.feed_url == "https://podcast.example.org/show/feed.xml"
    assert [(c.name, c.subcategory) for c in show.categories] == [("Business", "Marketing"), ("Technology", None)]
    assert [e.slug for e in project.episodes] == ["a-earlier", "b-later"]
    first = project.episodes[0]
    assert first.date == datetime.fromisoformat("2024-03-01T10:00:00+01:00")
    assert first.guests[0].name == "Guest 1"
    assert first.guests[0].role == "guest"
    assert show.hosts[0].role == "host"


def test_every_episode_gets_a_guid_and_the_show_a_podcast_guid(tmp_path: Path) -> None:
    project = load_project(make_show(tmp_path / "show"))
    guids = [e.guid for e in project.episodes]
    assert all(guids) and len(set(guids)) == len(guids)
    # podcast:guid is UUIDv5 of the feed URL without its scheme (Podcasting 2.0 guid tag).
    import uuid

    expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podcast.example.org/show/feed.xml")
    assert project.show.podcast_guid == str(expected)


def test_naive_dates_take_the_show_timezone(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {"001-naive": episode(1, date="2011-02-21 09:00:00"), "002-bare": episode(2, date="2011-07-14")},
    )
    first, second = load_project(root).episodes
    assert first.date.utcoffset() == timedelta(hours=1)  # Paris in winter
    assert (first.date.hour, first.date.minute) == (9, 0)
    assert second.date.utcoffset() == timedelta(hours=2)  # Paris in summer
    assert second.date.hour == 0


def test_yes_and_no_stay_text(tmp_path: Path) -> None:
    # YAML 1.1 would read `language: no` (Norwegian) as false.
    root = make_show(tmp_path / "show", show={"language": "no"})
    assert load_project(root).show.language == "no"


def test_unknown_key_names_file_line_and_suggests(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, gests=[])})
    (problem,) = _errors(root)
    assert problem.rule == "unknown-field"
    assert problem.path == root / "episodes" / "001-a.yaml"
    text = (root / "episodes" / "001-a.yaml").read_text().splitlines()
    assert problem.line is not None and text[problem.line - 1].startswith("gests:")
    assert problem.hint == "did you mean 'guests'?"


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    path = root / "episodes" / "001-first.yaml"
    path.write_text("title: A\nsummary: [unclosed\ndate: 2024-01-01\n", encoding="utf-8")
    (problem,) = _errors(root)
    assert problem.rule == "yaml-syntax"
    assert problem.path == path
    assert problem.line == 3


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    path = root / "episodes" / "001-first.yaml"
    path.write_text(path.read_text() + "title: Again\n", encoding="utf-8")
    (problem,) = _errors(root)
    assert problem.rule == "yaml-syntax"
    assert "appears twice" in problem.message


def test_all_errors_of_all_files_are_reported_at_once(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {
            "001-a": episode(1, date="someday"),
            "002-b": episode(2, audio="audio/missing.mp3"),
        },
        show={"language": "french", "owner": {"name": "A", "email": "not-an-email"}},
    )
    (root / "audio" / "missing.mp3").unlink()
    rules = sorted((p.path.name if p.path else "", p.rule) for p in _errors(root))
    assert rules == [
        ("001-a.yaml", "invalid-date"),
        ("002-b.yaml", "missing-file"),
        ("feed.yaml", "invalid-email"),
        ("feed.yaml", "invalid-language"),
    ]


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"title": None}, "missing-field", "title"),
        ({"base_url": "http://podcast.example.org/"}, "invalid-url", "base_url"),
        ({"base_url": "podcast.example.org"}, "invalid-url", "base_url"),
        ({"categories": ["Marketing"]}, "invalid-category", "categories[0]"),
        ({"categories": [{"Business": ["Cooking"]}]}, "invalid-category", "categories[0]"),
        ({"categories": [{"business": ["Marketing"]}]}, "invalid-category", "categories[0]"),
        ({"explicit": "maybe"}, "field-type", "explicit"),
        ({"type": "seriel"}, "invalid-value", "type"),
        ({"timezone": "Paris"}, "invalid-timezone", "timezone"),
        ({"image": "artwork.gif"}, "artwork-format", "image"),
        ({"image": "missing.png"}, "missing-file", "image"),
        ({"hosts": [{"name": "A", "role": "wizard"}]}, "person-taxonomy", "hosts[0].role"),
        ({"funding": [{"url": "https://x.example/", "text": "x" * 129}]}, "invalid-value", "funding[0].text"),
        ({"license": "NOT-A-LICENSE"}, "invalid-value", "license"),
        ({"guid": "not-a-uuid"}, "invalid-value", "guid"),
    ],
)
def test_show_field_errors(tmp_path: Path, changes: dict[str, object], rule: str, field: str) -> None:
    data = {**SHOW, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    root = make_show(tmp_path / "show")
    write_yaml(root / "feed.yaml", data)
    problems = _errors(root)
    assert [(p.rule, p.field) for p in problems] == [(rule, field)]
    assert problems[0].path == root / "feed.yaml"
    assert problems[0].line is not None


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"number": 0}, "field-type", "number"),
        ({"number": "three"}, "field-type", "number"),
        ({"type": "Full"}, "invalid-value", "type"),
        (
            {"chapters": [{"start": "00:10", "title": "B"}, {"start": "00:05", "title": "A"}]},
            "chapter-order",
            "chapters[1].start",
        ),
        ({"chapters": [{"start": "1:75", "title": "A"}]}, "invalid-time", "chapters[0].start"),
        ({"chapters": [{"title": "A"}]}, "missing-field", "chapters[0].start"),
        ({"links": [{"title": "A", "url": "javascript:alert(1)"}]}, "invalid-url", "links[0].url"),
        ({"guests": [{"name": "A", "url": "http://insecure.example/"}]}, "invalid-url", "guests[0].url"),
        ({"guests": ["nobody"]}, "unknown-guest", "guests[0]"),
        ({"soundbites": [{"start": 1, "duration": 0}]}, "invalid-value", "soundbites[0].duration"),
        ({"transcript": "notes.pdf"}, "transcript-format", "transcript"),
        ({"draft": "yes"}, "field-type", "draft"),
    ],
)
def test_episode_field_errors(tmp_path: Path, changes: dict[str, object], rule: str, field: str) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, **changes)})
    problems = _errors(root)
    assert [(p.rule, p.field) for p in problems] == [(rule, field)]
    problem = problems[0]
    assert problem.path == root / "episodes" / "001-a.yaml"
    assert problem.line is not None and problem.line > 0


def test_guest_registry_and_per_episode_bio(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {"001-a": episode(1, guests=["jane-doe", {"id": "jane-doe", "bio": "Special bio."}])},
    )
    write_yaml(
        root / "guests" / "jane-doe.yaml",
        {"name": "Jane Doe", "bio": "Usual bio.", "url": "https://jane.example/", "email": "jane@example.org"},
    )
    (ep,) = load_project(root).episodes
    assert [(g.name, g.bio, g.url, g.id) for g in ep.guests] == [
        ("Jane Doe", "Usual bio.", "https://jane.example/", "jane-doe"),
        ("Jane Doe", "Special bio.", "https://jane.example/", "jane-doe"),
    ]


def test_unknown_guest_id_suggests_the_closest(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, guests=["jane-do"])})
    write_yaml(root / "guests" / "jane-doe.yaml", {"name": "Jane Doe"})
    (problem,) = _errors(root)
    assert problem.rule == "unknown-guest"
    assert problem.hint == "did you mean 'jane-doe'?"


def test_duplicate_numbers_in_a_season(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1), "002-b": episode(2, number=1)})
    (problem,) = _errors(root)
    assert problem.rule == "duplicate-number"
    assert problem.path is not None and problem.path.name == "002-b.yaml"
    assert "001-a.yaml" in problem.message


def test_same_number_in_different_seasons_is_fine(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1), "002-b": episode(2, number=1, season=2)})
    assert len(load_project(root).episodes) == 2


def test_duplicate_explicit_guids(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, guid="same"), "002-b": episode(2, guid="same")})
    (problem,) = _errors(root)
    assert problem.rule == "duplicate-guid"


@pytest.mark.parametrize("name", ["Episode One", "épisode", "audio", "-x", "006-x\n", "006-x\r"])
def test_slug_must_name_a_page(tmp_path: Path, name: str) -> None:
    root = make_show(tmp_path / "show", {name: episode(1)})
    (problem,) = _errors(root)
    assert problem.rule == "invalid-slug"
    # On one line: a line break in the name is shown escaped.
    assert "\n" not in problem.message and "\r" not in problem.message


def test_missing_feed_yaml(tmp_path: Path) -> None:
    (problem,) = _errors(tmp_path)
    assert problem.rule == "missing-file"
    assert problem.hint is not None and "--show" in problem.hint


def test_a_show_without_episodes_is_an_error(tmp_path: Path) -> None:
    (problem,) = _errors(make_show(tmp_path / "show", {}))
    assert problem.rule == "no-episodes"


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "episodes" / "001-first.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (problem,) = _errors(root)
    assert (problem.rule, problem.line) == ("field-type", 1)


@pytest.mark.parametrize("date", ["2024-02-30", "2024-01-15T25:00:00Z", "2024-01-15T10:00:00+25:00"])
def test_impossible_dates_are_located_errors(tmp_path: Path, date: str) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1)})
    path = root / "episodes" / "001-a.yaml"
    text = path.read_text(encoding="utf-8").replace("date: '2024-03-01T10:00:00+01:00'", f"date: {date}")
    path.write_text(text.replace("title: Conversation 1", f"title: {date}"), encoding="utf-8")
    (problem,) = _errors(root)
    assert (problem.rule, problem.field) == ("invalid-date", "date")
    assert problem.line == text.splitlines().index(f"date: {date}") + 1


def test_url_schemes_are_written_in_lower_case(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        {"001-a": episode(1, guests=[{"name": "A", "url": "HTTPS://Guest.example/Page"}])},
        show={"base_url": "HTTPS://Example.org/podcast/"},
    )
    project = load_project(root)
    assert project.show.base_url == "https://Example.org/podcast/"
    assert project.episodes[0].guests[0].url == "https://Guest.example/Page"


def test_a_malformed_url_is_an_error_not_a_crash(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", show={"base_url": "https://[x/"})
    (problem,) = _errors(root)
    assert (problem.rule, problem.field) == ("invalid-url", "base_url")


def test_two_episodes_with_one_audio_file(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1), "002-b": episode(2, audio="audio/001.mp3")})
    (problem,) = _errors(root)
    assert (problem.rule, problem.path, problem.field) == ("duplicate-audio", root / "episodes" / "002-b.yaml", "audio")


def test_a_show_needs_a_category(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", show={"categories": []})
    (problem,) = _errors(root)
    assert (problem.rule, problem.field) == ("missing-field", "categories")


def test_editor_files_are_ignored_and_yml_is_reported(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "episodes" / ".#001-first.yaml").symlink_to("user@host.1234")  # an Emacs lock file
    (root / "episodes" / ".001-first.yaml.swp").write_bytes(b"\0vim")
    assert len(load_project(root).episodes) == 2
    (root / "episodes" / "003-third.yml").write_text("title: x\n", encoding="utf-8")
    (problem,) = _errors(root)
    assert (problem.rule, problem.path) == ("file-extension", root / "episodes" / "003-third.yml")


def test_a_tab_gets_a_hint_about_tabs(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "episodes" / "001-first.yaml").write_text("title: A\n\tsummary: indented with a tab\n", encoding="utf-8")
    (problem,) = _errors(root)
    assert (problem.rule, problem.line, problem.hint) == ("yaml-syntax", 2, "indent with spaces, not tabs")


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"name": "Paris", "geo": "geo:999,2"}, "location.geo"),
        ({"name": "Paris", "geo": "48.8,2.3"}, "location.geo"),
        ({"name": "Paris", "osm": "7444"}, "location.osm"),
        ({"name": "Paris", "country": "XX"}, "location.country"),
        ({"name": "Paris", "country": "fr"}, "location.country"),
    ],
)
def test_location_values(tmp_path: Path, location: dict[str, str], field: str) -> None:
    root = make_show(tmp_path / "show", show={"location": location})
    (problem,) = _errors(root)
    assert (problem.rule, problem.field) == ("invalid-value", field)


def test_a_valid_location(tmp_path: Path) -> None:
    location = {"name": "Paris", "geo": "geo:48.8566,2.3522", "osm": "R7444", "country": "FR"}
    root = make_show(tmp_path / "show", show={"location": location})
    loaded = load_project(root).show.location
    assert loaded is not None and (loaded.geo, loaded.osm, loaded.country) == ("geo:48.8566,2.3522", "R7444", "FR")
