"""What every command shares on the command line: one way to print a problem, progress bars, options."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from check_fixtures import NOW, episode_path, make_clean_show, replace_in, write_artwork
from entretiens.check import check_show
from entretiens.cli import cli
from entretiens.cli._report import print_problems, progress_bar
from entretiens.errors import Problem


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so that click draws (and finishes) its bars."""

    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Replace stderr (in the test itself: pytest sets its own capture again between setup and call)."""
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setenv("NO_COLOR", "1")
    return stream


def test_a_problem_is_one_line_file_first_rule_last(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stderr = _terminal(monkeypatch)
    root = tmp_path / "show"
    problems = [
        Problem(rule="feed-size", path=root / "public" / "feed.xml", message="big"),
        Problem(
            rule="invalid-url", path=root / "episodes" / "002.yaml", line=9, field="url", message="two", hint="fix"
        ),
        Problem(rule="number-gap", path=root / "episodes" / "002.yaml", line=3, message="one"),
        Problem(rule="build-error", message="the show as a whole"),
        Problem(rule="invalid-language", path=root / "feed.yaml", line=4, field="language", message="bad"),
        Problem(rule="artwork-file-size", path=root / "artwork.png", message="small"),
    ]
    print_problems(problems, root)
    assert stderr.getvalue().splitlines() == [
        "Error: feed.yaml:4: language: bad [invalid-language]",
        "Info: episodes/002.yaml:3: one [number-gap]",
        "Error: episodes/002.yaml:9: url: two (fix) [invalid-url]",
        "Warning: artwork.png: small [artwork-file-size]",
        "Warning: public/feed.xml: big [feed-size]",
        "Error: the show as a whole [build-error]",
    ]


def test_publish_and_check_print_the_same_lines(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    write_artwork(root / "artwork.png", (1200, 1200))
    replace_in(episode_path(root, 2), "    bio: Ébéniste à Lyon depuis vingt ans.\n", "")
    runner = CliRunner(env={"NO_COLOR": "1"})
    checked = runner.invoke(cli, ["check", "--show", str(root)])
    published = runner.invoke(cli, ["publish", "--show", str(root)])
    assert (checked.exit_code, published.exit_code) == (1, 1)
    problem_lines = [line for line in published.stderr.splitlines() if line.startswith(("Error: ", "Warning: "))]
    assert len(problem_lines) == 2
    assert checked.stderr.splitlines()[: len(problem_lines)] == problem_lines
    assert len(check_show(root, now=NOW).problems) == 2


def test_the_progress_bar_goes_to_stderr_and_is_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = _terminal(monkeypatch)
    with progress_bar("Checking links", enabled=True) as progress:
        assert progress is not None
        progress(1, 3, "https://example.org/a")
        progress(3, 3, "https://example.org/c")
    drawn = stderr.getvalue()
    assert "Checking links" in drawn
    assert drawn.endswith("\n"), "a finished bar ends its line"


def test_the_progress_bar_is_finished_when_the_work_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = _terminal(monkeypatch)
    with pytest.raises(click.ClickException), progress_bar("Measuring audio", enabled=True) as progress:
        assert progress is not None
        progress(1, 10, "001.mp3")
        raise click.ClickException("disk full")
    drawn = stderr.getvalue()
    assert "Measuring audio" in drawn
    assert drawn.endswith("\n"), "the bar must not leave the terminal mid-line"


def test_no_bar_below_the_threshold_or_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = _terminal(monkeypatch)
    with progress_bar("Measuring audio", enabled=True, threshold=8) as progress:
        assert progress is not None
        progress(1, 3, "001.mp3")
        progress(3, 3, "003.mp3")
    with progress_bar("Measuring audio", enabled=False) as progress:
        assert progress is None
    assert stderr.getvalue() == ""


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("publish", {"--show", "--output", "--strict", "--quiet", "--include-future"}),
        ("check", {"--show", "--strict", "--quiet"}),
        ("serve", {"--show", "--output", "--include-future"}),
    ],
)
def test_the_shared_options_are_spelled_alike(command: str, options: set[str]) -> None:
    found = {
        name: param for param in cli.commands[command].params for name in getattr(param, "opts", ()) if name in options
    }
    assert set(found) == options
    shorts = {"--output": "-o", "--quiet": "-q"}
    for name, short in shorts.items():
        if name in found:
            assert short in found[name].opts
