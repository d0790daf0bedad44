"""The rules of `entretiens check`: each one fires on the file and line of its problem, and only there."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from audiogen import require_tool, write_m4a, write_mp3, write_opus, write_wav
from check_fixtures import (
    NOW,
    episode_path,
    found,
    line_of,
    make_clean_show,
    problems_of,
    replace_in,
    rules_of,
    write_artwork,
)
from entretiens import checks
from entretiens.check import check_show
from entretiens.errors import Problem, ProblemsError
from entretiens.publish import publish
from showbuilder import make_show as make_minimal_show

SUMMARY = "raconte son apprentissage et les meubles qu'elle restaure."

Plant = Callable[[Path], object]


def _rules(problems: list[Problem]) -> set[str]:
    return {problem.rule for problem in problems}


# --- clean shows -------------------------------------------------------------------------------


def test_a_clean_show_has_no_problem_at_all(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3)
    report = check_show(root, now=NOW)
    assert report.problems == []
    assert report.feed_size is not None
    assert report.feed_episodes == 3
    assert not (root / "public").exists()


def test_the_bundled_sample_show_is_clean(sample_show: Path) -> None:
    root = sample_show
    report = check_show(root)
    assert [p.format(root) for p in report.problems if p.severity != "info"] == []
    assert report.releases


def test_the_minimal_shows_of_the_other_tests_are_clean(tmp_path: Path) -> None:
    root = make_minimal_show(tmp_path / "show")
    assert [p.format(root) for p in check_show(root, now=NOW).problems] == []


# --- the show's artwork --------------------------------------------------------------------------


def _artwork_jpeg(mode: str) -> Plant:
    def plant(root: Path) -> None:
        write_artwork(root / "artwork.jpg", mode=mode, image_format="JPEG")
        replace_in(root / "feed.yaml", "image: artwork.png", "image: artwork.jpg")

    return plant


ARTWORK_PROBLEMS: list[tuple[str, str, Plant]] = [
    ("artwork-size", "error", lambda root: write_artwork(root / "artwork.png", (1200, 1200))),
    ("artwork-size", "error", lambda root: write_artwork(root / "artwork.png", (3200, 3200))),
    ("artwork-square", "error", lambda root: write_artwork(root / "artwork.png", (1400, 1600))),
    ("artwork-format", "error", lambda root: write_artwork(root / "artwork.png", image_format="GIF")),
    ("artwork-format", "error", lambda root: write_artwork(root / "artwork.png", image_format="JPEG")),
    ("artwork-format", "error", lambda root: (root / "artwork.png").write_text("not an image")),
    (
        "artwork-format",
        "error",
        lambda root: (root / "artwork.png").write_bytes((root / "artwork.png").read_bytes()[:300]),
    ),
    ("artwork-colorspace", "error", lambda root: write_artwork(root / "artwork.png", mode="L")),
    ("artwork-colorspace", "error", _artwork_jpeg("CMYK")),
    ("artwork-alpha", "warning", lambda root: write_artwork(root / "artwork.png", mode="RGBA")),
    ("artwork-alpha", "warning", lambda root: write_artwork(root / "artwork.png", mode="P")),
    ("artwork-file-size", "warning", lambda root: write_artwork(root / "artwork.png", noisy_rows=130)),
]


@pytest.mark.parametrize(("rule", "severity", "plant"), ARTWORK_PROBLEMS)
def test_show_artwork_rules_fire_on_the_image_line(tmp_path: Path, rule: str, severity: str, plant: Plant) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    plant(root)
    problems = rules_of(root)
    assert found(problems, rule, root) == [("feed.yaml", line_of(root / "feed.yaml", "image:"), severity)]


@pytest.mark.parametrize(
    "plant",
    [
        lambda root: write_artwork(root / "artwork.png", (3000, 3000)),
        lambda root: write_artwork(root / "artwork.png", (1400, 1400)),
        _artwork_jpeg("RGB"),
        lambda root: write_artwork(root / "artwork.png", noisy_rows=120),
    ],
    ids=["3000px", "1400px", "rgb-jpeg", "under-512kb"],
)
def test_show_artwork_within_apples_rules_passes(tmp_path: Path, plant: Plant) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    plant(root)
    assert not {rule for rule in _rules(rules_of(root)) if rule.startswith("artwork-")}


def test_episode_artwork_is_held_to_the_same_rules(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    path = episode_path(root, 2)
    replace_in(path, "number: 2\n", "number: 2\nimage: images/cover.png\n")
    write_artwork(root / "images" / "cover.png", (1000, 1000))
    problems = rules_of(root)
    assert found(problems, "artwork-size", root) == [
        (path.relative_to(root).as_posix(), line_of(path, "image:"), "error")
    ]
    write_artwork(root / "images" / "cover.png", (2000, 2000))
    assert "artwork-size" not in _rules(rules_of(root))


def test_a_guest_photo_that_is_no_image_is_an_error_and_a_damaged_one_a_warning(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    path = episode_path(root, 1)
    replace_in(path, "    bio: Ébéniste", "    image: images/jeanne.jpg\n    bio: Ébéniste")
    (root / "images").mkdir()
    (root / "images" / "jeanne.jpg").write_text("<html>not found</html>")
    problems = rules_of(root)
    line = line_of(path, "image:")
    assert found(problems, "image-not-image", root) == [("episodes/001-jeanne.yaml", line, "error")]
    write_artwork(root / "images" / "jeanne.jpg", (300, 300), image_format="JPEG")
    cut = (root / "images" / "jeanne.jpg").read_bytes()
    (root / "images" / "jeanne.jpg").write_bytes(cut[: len(cut) // 2])
    assert found(rules_of(root), "image-invalid", root) == [("episodes/001-jeanne.yaml", line, "warning")]
    write_artwork(root / "images" / "jeanne.jpg", (300, 300), image_format="JPEG")
    assert not {"image-invalid", "image-not-image"} & _rules(rules_of(root))


# --- the show's description --------------------------------------------------------------------


@pytest.mark.parametrize(("words", "fires"), [(450, True), (440, False)])
def test_show_description_over_4000_bytes_is_an_error(tmp_path: Path, words: int, fires: bool) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    feed = root / "feed.yaml"
    text = feed.read_text(encoding="utf-8")
    start, end = text.index("description: |"), text.index("language:")
    feed.write_text(text[:start] + "description: " + "atelier, " * words + "fin\n" + text[end:], encoding="utf-8")
    problems = rules_of(root)
    expected = [("feed.yaml", line_of(feed, "description:"), "error")] if fires else []
    assert found(problems, "show-description-length", root) == expected


# --- episode titles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("Paroles d'atelier : Jeanne Roux, ébéniste", "episode-title-show-name"),
        ("Jeanne Roux | PAROLES D'ATELIER", "episode-title-show-name"),
        ("Épisode 1 : Jeanne Roux, ébéniste", "episode-title-number"),
        ("Ep. 12 - Jeanne Roux", "episode-title-number"),
        ("#1 Jeanne Roux, ébéniste", "episode-title-number"),
        ("S01E01 Jeanne Roux", "episode-title-number"),
        ("001 - Jeanne Roux, ébéniste", "episode-title-number"),
        ("Jeanne Roux, ébéniste (1)", "episode-title-number"),
    ],
)
def test_titles_repeating_the_show_or_the_number_are_warned(tmp_path: Path, title: str, rule: str) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    path = episode_path(root, 1)
    replace_in(path, 'title: "Jeanne Roux, ébéniste : le bois et le temps"', f'title: "{title}"')
    assert found(rules_of(root), rule, root) == [("episodes/001-jeanne.yaml", 1, "warning")]


@pytest.mark.parametrize(
    "title",
    [
        "Jeanne Roux et les paroles d'ateliers",
        "Jeanne Roux et ses 3 établis",
        "2024 : l'année de Jeanne Roux",
        "Jeanne Roux, n°1 du meuble ancien",
        "Les 12 épisodes d'une vie d'ébéniste",
    ],
)
def test_titles_with_ordinary_numbers_and_words_pass(tmp_path: Path, title: str) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    replace_in(episode_path(root, 1), 'title: "Jeanne Roux, ébéniste : le bois et le temps"', f'title: "{title}"')
    assert not _rules(rules_of(root)) & {"episode-title-number", "episode-title-show-name"}


# --- summaries, notes and guests ----------------------------------------------------------------


def _drop_summary(path: Path) -> None:
    replace_in(path, f"summary: >-\n  Jeanne Roux {SUMMARY}\n", "")


def _drop_notes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index("notes: |"), text.index("guests:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def test_an_episode_without_summary_nor_notes_is_warned_at_its_first_line(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    path = episode_path(root, 1)
    _drop_summary(path)
    _drop_notes(path)
    problems = rules_of(root)
    assert found(problems, "episode-description-missing", root) == [("episodes/001-jeanne.yaml", 1, "warning")]
    assert "episode-summary-missing" not in _rules(problems)


def test_an_episode_with_notes_but_no_summary_gets_a_note(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    _drop_summary(episode_path(root, 1))
    problems = rules_of(root)
    assert found(problems, "episode-summary-missing", root) == [("episodes/001-jeanne.yaml", 1, "info")]
    assert "episode-description-missing" not in _rules(problems)


def test_an_episode_with_a_summary_but_no_notes_passes(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    _drop_notes(episode_path(root, 1))
    assert not _rules(rules_of(root)) & {"episode-summary-missing", "episode-description-missing"}


@pytest.mark.parametrize(("length", "fires"), [(650, True), (590, False)])
def test_a_long_summary_is_warned(tmp_path: Path, length: int, fires: bool) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    path = episode_path(root, 1)
    replace_in(path, f"Jeanne Roux {SUMMARY}", ("Une phrase de plus. " * 40)[:length].strip())
    expected = [("episodes/001-jeanne.yaml", line_of(path, "summary:"), "warning")] if fires else []
    assert found(rules_of(root), "episode-summary-long", root) == expected


@pytest.mark.parametrize(("paragraphs", "fires"), [(125, True), (115, False)])
def test_notes_longer_than_apple_takes_are_warned(tmp_path: Path, paragraphs: int, fires: bool) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    path = episode_path(root, 1)
    replace_in(path, "  Une conversation sur le métier d'ébéniste.\n", "  Des copeaux et du vernis.\n\n" * paragraphs)
    expected = [("episodes/001-jeanne.yaml", line_of(path, "notes:"), "warning")] if fires else []
    assert found(rules_of(root), "episode-notes-long", root) == expected


def test_a_guest_without_bio_is_warned_at_the_guest(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    path = episode_path(root, 2)
    replace_in(path, "    bio: Ébéniste à Lyon depuis vingt ans.\n", "")
    problems = rules_of(root)
    assert found(problems, "guest-bio-missing", root) == [
        ("episodes/002-lise.yaml", line_of(path, "- name: Lise Moreau"), "warning")
    ]
    assert next(p for p in problems if p.rule == "guest-bio-missing").field == "guests[0].bio"


def test_a_registry_guest_needs_a_bio_there_or_in_the_episode(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    (root / "guests").mkdir()
    (root / "guests" / "jeanne.yaml").write_text("name: Jeanne Roux\n", encoding="utf-8")
    path = episode_path(root, 1)
    replace_in(path, "  - name: Jeanne Roux\n    bio: Ébéniste à Lyon depuis vingt ans.\n", "  - jeanne\n")
    assert found(rules_of(root), "guest-bio-missing", root) == [
        ("episodes/001-jeanne.yaml", line_of(path, "- jeanne"), "warning")
    ]
    replace_in(path, "  - jeanne\n", "  - {id: jeanne, bio: Ébéniste à Lyon.}\n")
    assert "guest-bio-missing" not in _rules(rules_of(root))


# --- numbers, seasons and dates -----------------------------------------------------------------


def test_a_full_episode_without_number_in_a_serial_show_is_an_error(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    (root / "feed.yaml").write_text(
        (root / "feed.yaml").read_text(encoding="utf-8") + "type: serial\n", encoding="utf-8"
    )
    assert "serial-number-missing" not in _rules(rules_of(root))
    path = episode_path(root, 2)
    replace_in(path, "number: 2\n", "")
    problems = rules_of(root)
    assert found(problems, "serial-number-missing", root) == [("episodes/002-lise.yaml", 1, "error")]
    replace_in(path, "season: 1\n", "season: 1\ntype: trailer\n")
    assert "serial-number-missing" not in _rules(rules_of(root))


def test_a_gap_in_the_numbers_is_noted_at_the_next_episode(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3)
    path = episode_path(root, 3)
    replace_in(path, "number: 3", "number: 5")
    problems = rules_of(root)
    assert found(problems, "number-gap", root) == [("episodes/003-anne.yaml", line_of(path, "number:"), "info")]
    assert "3 to 4 missing" in next(p.message for p in problems if p.rule == "number-gap")


def test_numbers_that_start_late_are_noted(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    replace_in(episode_path(root, 1), "number: 1", "number: 3")
    replace_in(episode_path(root, 2), "number: 2", "number: 4")
    assert found(rules_of(root), "number-gap", root) == [("episodes/001-jeanne.yaml", 2, "info")]


@pytest.mark.parametrize("second_season_starts_at", [1, 3])
def test_a_new_season_may_restart_or_continue_the_numbers(tmp_path: Path, second_season_starts_at: int) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3)
    path = episode_path(root, 3)
    replace_in(path, "number: 3\nseason: 1", f"number: {second_season_starts_at}\nseason: 2")
    assert "number-gap" not in _rules(rules_of(root))


@pytest.mark.parametrize(
    ("date", "rule", "severity"),
    [
        ("2099-01-01T09:00:00+01:00", "episode-date-future", "warning"),
        ((NOW + timedelta(days=10)).isoformat(), "episode-scheduled", "info"),
    ],
)
def test_future_dates_are_reported_at_the_date_line(tmp_path: Path, date: str, rule: str, severity: str) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    path = episode_path(root, 2)
    replace_in(path, "date: 2025-02-03T09:00:00+02:00", f"date: {date}")
    problems = rules_of(root)
    assert found(problems, rule, root) == [("episodes/002-lise.yaml", line_of(path, "date:"), severity)]
    assert not _rules(problems) & ({"episode-date-future", "episode-scheduled"} - {rule})


def test_a_future_draft_is_not_reported(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=2)
    path = episode_path(root, 2)
    replace_in(path, "date: 2025-02-03T09:00:00+02:00", "date: 2099-01-01\ndraft: true")
    assert not _rules(rules_of(root)) & {"episode-date-future", "episode-scheduled"}


# --- audio ---------------------------------------------------------------------------------------


def _audio(root: Path, number: int = 1) -> Path:
    return root / "audio" / f"{episode_path(root, number).stem}.mp3"


def _wav(root: Path, *, sample_rate: int, channels: int = 1) -> None:
    path = episode_path(root, 1)
    write_wav(root / "audio" / "take.wav", 2.5, sample_rate=sample_rate, channels=channels)
    replace_in(path, f"audio: audio/{path.stem}.mp3", "audio: audio/take.wav")


AUDIO_PROBLEMS: list[tuple[str, Plant]] = [
    ("audio-too-short", lambda root: write_mp3(_audio(root), seconds=1.0, bitrate=64, channels=1)),
    (
        "audio-bitrate-low",
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=16, sample_rate=22050, mpeg_version=2, channels=1),
    ),
    ("audio-bitrate-low", lambda root: write_mp3(_audio(root), seconds=3, bitrate=40, channels=2)),
    ("audio-bitrate-high", lambda root: write_mp3(_audio(root), seconds=3, bitrate=256, channels=2)),
    ("audio-bitrate-high", lambda root: write_mp3(_audio(root), seconds=3, bitrate=160, channels=1)),
    (
        "audio-sample-rate-low",
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=32, sample_rate=16000, mpeg_version=2, channels=1),
    ),
    ("audio-sample-rate-high", lambda root: _wav(root, sample_rate=96000)),
    ("audio-format", lambda root: _wav(root, sample_rate=44100)),
    ("audio-channels", lambda root: _wav(root, sample_rate=22050, channels=6)),
]


@pytest.mark.parametrize(("rule", "plant"), AUDIO_PROBLEMS)
def test_audio_rules_fire_on_the_audio_line(tmp_path: Path, rule: str, plant: Plant) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1, chapters=False)
    plant(root)
    path = episode_path(root, 1)
    assert found(rules_of(root), rule, root) == [("episodes/001-jeanne.yaml", line_of(path, "audio:"), "warning")]


@pytest.mark.parametrize(
    "plant",
    [
        lambda root: write_mp3(_audio(root), seconds=2.5, bitrate=64, channels=1),
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=24, sample_rate=22050, mpeg_version=2, channels=1),
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=48, channels=2),
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=128, channels=1),
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=192, channels=2, xing=True),
        lambda root: write_mp3(_audio(root), seconds=3, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1),
    ],
    ids=["2.5s", "24kbps-mono", "48kbps-stereo", "128kbps-mono", "192kbps-stereo", "22050Hz"],
)
def test_audio_fit_for_speech_passes(tmp_path: Path, plant: Plant) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1, chapters=False)
    plant(root)
    assert not {rule for rule in _rules(rules_of(root)) if rule.startswith("audio-")}


def test_a_wav_at_48_khz_is_only_warned_for_its_format(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1, chapters=False)
    _wav(root, sample_rate=48000, channels=2)
    assert {rule for rule in _rules(rules_of(root)) if rule.startswith("audio-")} == {"audio-format"}


def test_opus_is_warned_and_aac_passes(tmp_path: Path) -> None:
    require_tool("ffmpeg")
    root = make_clean_show(tmp_path / "show", episodes=2, chapters=False)
    first, second = episode_path(root, 1), episode_path(root, 2)
    write_opus(root / "audio" / "one.opus", 3.0)
    replace_in(first, f"audio: audio/{first.stem}.mp3", "audio: audio/one.opus")
    write_m4a(root / "audio" / "two.m4a", 3.0)
    replace_in(second, f"audio: audio/{second.stem}.mp3", "audio: audio/two.m4a")
    problems = rules_of(root)
    assert found(problems, "audio-format", root) == [("episodes/001-jeanne.yaml", line_of(first, "audio:"), "warning")]


def test_one_stereo_episode_among_mono_ones_is_noted(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3)
    assert "audio-channels-mixed" not in _rules(rules_of(root))
    write_mp3(_audio(root, 2), seconds=12, bitrate=128, channels=2)
    path = episode_path(root, 2)
    assert found(rules_of(root), "audio-channels-mixed", root) == [
        ("episodes/002-lise.yaml", line_of(path, "audio:"), "info")
    ]


# --- the feed as a whole -------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "fires"), [(checks.FEED_SIZE_LIMIT + 1, True), (checks.FEED_SIZE_LIMIT, False)])
def test_a_feed_over_one_megabyte_is_warned(tmp_path: Path, size: int, fires: bool) -> None:
    problems = checks.feed_problems(size, 10, path=tmp_path / "feed.xml")
    assert [(p.rule, p.severity) for p in problems] == ([("feed-size", "warning")] if fires else [])


@pytest.mark.parametrize(("count", "fires"), [(301, True), (300, False)])
def test_a_feed_of_more_than_300_episodes_is_noted(tmp_path: Path, count: int, fires: bool) -> None:
    problems = checks.feed_problems(6, count, path=tmp_path / "feed.xml")
    assert [(p.rule, p.severity) for p in problems] == ([("feed-episode-count", "info")] if fires else [])


def test_check_reports_the_feed_validators_findings_once(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    feed = root / "feed.yaml"
    text = feed.read_text(encoding="utf-8")
    start, end = text.index("description: |"), text.index("language:")
    feed.write_text(text[:start] + "description: " + "atelier, " * 500 + "\n" + text[end:], encoding="utf-8")
    rules = [p.rule for p in problems_of(root)]
    assert rules.count("show-description-length") == 1
    assert "apple.description.length" not in rules


def test_check_goes_on_after_an_episode_in_error(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3, chapters=False)
    write_mp3(_audio(root, 1), seconds=1.0, bitrate=64, channels=1)
    replace_in(episode_path(root, 1), "guests:", 'chapters:\n  - {start: "00:30", title: Trop tard}\nguests:')
    (root / "audio" / f"{episode_path(root, 2).stem}.mp3").write_bytes(b"not audio at all" * 100)
    report = check_show(root, now=NOW)
    rules = _rules(report.problems)
    assert {"chapter-after-end", "audio-too-short", "audio-invalid"} <= rules
    assert report.feed_episodes == 1  # The third episode still makes a feed.


# --- publish refuses what check calls an error ---------------------------------------------------


def test_publish_refuses_a_show_with_check_errors_and_accepts_warnings(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show", episodes=1)
    write_artwork(root / "artwork.png", (1000, 1000))
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out", now=NOW)
    assert "artwork-size" in _rules(list(caught.value.problems))
    assert not (tmp_path / "out").exists()
    write_artwork(root / "artwork.png", mode="RGBA")
    result = publish(root, tmp_path / "out", now=NOW)
    assert "artwork-alpha" in _rules(result.warnings)


def test_a_cut_mp3_is_published_with_its_real_length_and_a_warning(tmp_path: Path) -> None:
    from audiogen import truncate, write_mp3
    from entretiens.publish import publish
    from showbuilder import episode

    root = make_minimal_show(tmp_path / "show", {"001-a": episode(1)})
    truncate(write_mp3(root / "audio" / "001.mp3", seconds=10, xing="info"), 0.5)
    result = publish(root, tmp_path / "out", dry_run=True)
    (release,) = result.releases
    assert 4.5 < release.audio.duration.total_seconds() < 5.5
    (problem,) = [p for p in result.warnings if p.rule == "audio-truncated"]
    assert problem.path == root / "episodes" / "001-a.yaml" and problem.field == "audio"
    assert re.search(r"announces 00:10 of audio but it holds 00:0[45]", problem.message)


def test_a_whole_mp3_has_no_truncation_warning(tmp_path: Path) -> None:
    from entretiens.publish import publish

    result = publish(make_minimal_show(tmp_path / "show"), tmp_path / "out", dry_run=True)
    assert not [p for p in result.warnings if p.rule == "audio-truncated"]


def test_per_episode_and_show_wide_checks_make_up_run_checks(tmp_path: Path) -> None:
    """Each episode checked on its own (as a build reusing cached results does), then the show:
    the same problems in the same order as run_checks, and a URL-named image is never reusable."""
    from entretiens import releases
    from entretiens.loading import load_project
    from entretiens.model import FieldLines

    root = make_clean_show(tmp_path, episodes=4)
    replace_in(episode_path(root, 1), "Une conversation", "![x](https://elsewhere.example/x.png) Une conversation")
    replace_in(episode_path(root, 2), "    bio: Ébéniste à Lyon depuis vingt ans.\n", "")
    replace_in(episode_path(root, 3), "number: 3", "number: 7")
    replace_in(
        episode_path(root, 4),
        "  - name: Marie Blanc\n",
        "  - name: Marie Blanc\n    image: https://127.0.0.1:9/p.png\n",
    )
    project = load_project(root)
    infos, _ = releases.probe_each(project, list(project.episodes))
    prepared = releases.prepare(project, list(project.episodes), infos)
    whole = checks.run_checks(project, prepared.releases, now=NOW)

    checks.start_checks()
    lines = FieldLines(project)
    each = {r.episode.slug: checks.episode_checks(project.show, r, lines) for r in reversed(prepared.releases)}
    split = checks.show_checks(
        project, prepared.releases, [each[r.episode.slug] for r in prepared.releases], lines=lines, now=NOW
    )

    assert split == whole
    assert {"remote-image", "remote-image-failed", "guest-bio-missing", "number-gap"} <= {p.rule for p in whole}
    assert [each[r.episode.slug].reusable for r in prepared.releases] == [True, True, True, False]
    assert any(p.rule == "remote-image" for p in each[prepared.releases[0].episode.slug].remote)


def test_a_cover_shared_by_episodes_is_decoded_once_per_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from entretiens.images import open_image

    root = make_clean_show(tmp_path / "show", episodes=3)
    for number in (1, 2, 3):
        replace_in(episode_path(root, number), f"number: {number}\n", f"number: {number}\nimage: images/cover.png\n")
    write_artwork(root / "images" / "cover.png", (1000, 1000))
    opened: list[Path] = []

    def counting(file: Path) -> object:
        opened.append(file)
        return open_image(file)

    monkeypatch.setattr("entretiens.checks._media.open_image", counting)
    assert len(found(rules_of(root), "artwork-size", root)) == 3
    assert opened.count(root / "images" / "cover.png") == 1
    # The next build looks again, and sees the new file.
    write_artwork(root / "images" / "cover.png", (2000, 2000))
    assert "artwork-size" not in _rules(rules_of(root))
    assert opened.count(root / "images" / "cover.png") == 2
