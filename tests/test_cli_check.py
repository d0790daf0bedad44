"""`entretiens check` on the command line: the report, exit statuses, JSON, colours, links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from check_fixtures import LinkServer, episode_path, line_of, make_clean_show, replace_in, respond, write_artwork
from entretiens.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def _check(runner: CliRunner, root: Path, *options: str, **kwargs: object) -> Result:
    return runner.invoke(cli, ["check", "--show", str(root), *options], catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def _drop_bio(root: Path, number: int = 2) -> Path:
    return replace_in(episode_path(root, number), "    bio: Ébéniste à Lyon depuis vingt ans.\n", "")


def test_a_clean_show_exits_0_and_says_so(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    result = _check(runner, root)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "Checked 2 episodes: no problems."
    assert "Audio: 2 files, 0 min 24 s in all: MP3 64 kbps mono 44.1 kHz." in result.stderr
    assert not (root / "public").exists()


def test_problems_are_printed_one_per_line_in_file_order_and_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    write_artwork(root / "artwork.png", (1200, 1200))
    path = _drop_bio(root)
    result = _check(runner, root)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    image, guest = line_of(root / "feed.yaml", "image:"), line_of(path, "- name: Lise Moreau")
    # The same lines as publish prints: feed.yaml first, then the episodes.
    assert lines[0].startswith(f"Error: feed.yaml:{image}: image: the show's artwork artwork.png is 1200×1200 pixels")
    assert lines[0].endswith(") [artwork-size]")
    assert lines[1] == (
        f"Warning: episodes/002-lise.yaml:{guest}: guests[0].bio: guest Lise Moreau has no bio "
        "(add `bio:` to the guest in this episode: one or two sentences on who they are) [guest-bio-missing]"
    )
    assert lines[-1] == "Checked 2 episodes: 1 error, 1 warning."


def test_warnings_pass_unless_strict(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    _drop_bio(root)
    assert _check(runner, root).exit_code == 0
    strict = _check(runner, root, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[-1] == "Checked 2 episodes: 1 warning (--strict: warnings fail too)."


def test_notes_never_fail_even_when_strict(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    replace_in(episode_path(root, 2), "number: 2", "number: 4")
    result = _check(runner, root, "--strict")
    assert result.exit_code == 0
    assert "[number-gap]" in result.stderr
    assert result.stderr.splitlines()[-1] == "Checked 2 episodes: 1 note."


def test_quiet_prints_errors_only(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    _drop_bio(root)
    assert _check(runner, root, "-q").stderr == ""
    write_artwork(root / "artwork.png", (1200, 1200))
    quiet = _check(runner, root, "-q")
    assert quiet.exit_code == 1
    assert "[artwork-size]" in quiet.stderr
    assert "guest-bio-missing" not in quiet.stderr


def test_json_goes_to_stdout_with_every_problem_located(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    path = _drop_bio(root)
    result = _check(runner, root, "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["format"] == "entretiens-check"
    assert report["version"] == 1
    assert (report["ok"], report["exit_status"], report["strict"]) == (True, 0, False)
    assert report["counts"] == {"error": 0, "warning": 1, "info": 0}
    assert report["episodes"] == {"checked": 2, "drafts": 0, "scheduled": 0}
    assert report["problems"] == [
        {
            "rule": "guest-bio-missing",
            "severity": "warning",
            "file": "episodes/002-lise.yaml",
            "line": line_of(path, "- name: Lise Moreau"),
            "field": "guests[0].bio",
            "message": "guest Lise Moreau has no bio",
            "hint": "add `bio:` to the guest in this episode: one or two sentences on who they are",
        }
    ]
    assert [a["episode"] for a in report["audio"]] == ["001-jeanne", "002-lise"]
    assert report["audio"][0]["channels"] == 1
    assert report["feed"]["file"] == "public/feed.xml"
    assert report["feed"]["episodes"] == 2
    assert report["links"] is None
    assert "[guest-bio-missing]" in result.stderr  # The text report stays on stderr.
    strict = json.loads(_check(runner, root, "--format", "json", "--strict").stdout)
    assert (strict["ok"], strict["exit_status"]) == (False, 1)


def test_loader_errors_are_reported_with_their_line(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    replace_in(root / "feed.yaml", "base_url: https://", "base_url: http://")
    result = _check(runner, root, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(p["rule"], p["file"], p["line"]) for p in report["problems"]] == [("invalid-url", "feed.yaml", 7)]
    assert report["feed"] is None
    assert report["episodes"]["checked"] == 0
    assert "Error: feed.yaml:7: base_url: " in result.stderr
    assert result.stderr.splitlines()[-1] == "The show could not be loaded: 1 error."


def test_colours_only_when_wanted(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_clean_show(tmp_path / "show")
    _drop_bio(root)
    assert "\x1b[" not in _check(runner, root).stderr  # Not a terminal.
    assert "\x1b[" in _check(runner, root, color=True).stderr
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _check(runner, root, color=True).stderr


def test_bad_options_are_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    assert runner.invoke(cli, ["check", "--show", str(root), "--jobs", "0"]).exit_code == 2
    assert runner.invoke(cli, ["check", "--show", str(root), "--format", "xml"]).exit_code == 2


def test_help_documents_the_options_and_exit_statuses(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    for text in ("--format", "--strict", "--links", "--jobs", "--timeout", "--deadline", "--no-cache", "Exit status"):
        assert text in result.stdout


# --- links ----------------------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[LinkServer]:
    server = LinkServer(
        {
            "/ok": respond(200),
            "/gone": respond(404),
            "/old": respond(301, headers={"Location": "/ok"}),
            "/slow": respond(200, delay=2.0),
        }
    )
    yield server
    server.close()


def _cite(
    root: Path, site: LinkServer, *, gone: str = "/gone", old: str = "/old", slow: str = "/slow"
) -> tuple[Path, Path]:
    """Point every address of the show to the local server (funding pages must be https: none)."""
    first, second = episode_path(root, 1), episode_path(root, 2)
    replace_in(first, "https://example.org/atelier/1", site.url(gone))
    replace_in(second, "https://example.org/atelier/2", site.url(old))
    feed = root / "feed.yaml"
    replace_in(feed, "funding:\n  - url: https://example.org/soutenir\n    text: Soutenir l'émission\n", "")
    replace_in(feed, "https://example.org/atelier", site.url(slow))
    feed.write_text(feed.read_text(encoding="utf-8") + f"subscribe:\n  apple: {site.url('/ok')}\n", encoding="utf-8")
    return first, second


def test_links_are_checked_reported_and_cached(runner: CliRunner, tmp_path: Path, site: LinkServer) -> None:
    root = make_clean_show(tmp_path / "show")
    first, second = _cite(root, site)
    result = _check(runner, root, "--links", "--timeout", "0.5", "--deadline", "10", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    located = {(p["rule"], p["file"], p["line"]) for p in report["problems"]}
    assert located == {
        ("link-dead", "episodes/001-jeanne.yaml", line_of(first, "url:")),
        ("link-moved", "episodes/002-lise.yaml", line_of(second, "url:")),
        ("link-timeout", "feed.yaml", 5),
    }
    statuses = {r["url"]: (r["status"], r["rule"]) for r in report["links"]["results"]}
    assert statuses == {
        site.url("/slow"): ("timeout", "link-timeout"),
        site.url("/ok"): ("ok", None),
        site.url("/gone"): ("dead", "link-dead"),
        site.url("/old"): ("moved", "link-moved"),
    }
    moved = next(r for r in report["links"]["results"] if r["status"] == "moved")
    assert moved["moved_to"] == site.url("/ok")
    assert moved["places"] == [
        {"file": "episodes/002-lise.yaml", "line": line_of(second, "url:"), "field": "links[0].url"}
    ]
    assert "Links: 4 addresses in 4 places" in result.stderr
    assert "Checking links" not in result.stderr  # No progress bar off a terminal.
    assert "  dead               1  link-dead" in result.stderr
    assert (root / ".entretiens" / "cache" / "links.json").is_file()
    assert not (root / "public").exists()

    hits = len(site.hits)
    again = _check(runner, root, "--links", "--timeout", "0.5", "--format", "json")
    assert json.loads(again.stdout)["links"]["from_cache"] == 3  # All but the timeout.
    assert len(site.hits) == hits + 1
    assert "3 from the cache" in again.stderr
    _check(runner, root, "--links", "--timeout", "0.5", "--no-cache")
    assert len(site.hits) > hits + 1 + 3


def test_dead_links_fail_a_strict_check(runner: CliRunner, tmp_path: Path, site: LinkServer) -> None:
    root = make_clean_show(tmp_path / "show")
    _cite(root, site, old="/ok", slow="/ok")
    result = _check(runner, root, "--links", "--strict", "--timeout", "1")
    assert result.exit_code == 1
    assert "[link-dead]" in result.stderr


def test_the_deadline_bounds_the_whole_link_check(runner: CliRunner, tmp_path: Path, site: LinkServer) -> None:
    root = make_clean_show(tmp_path / "show")
    _cite(root, site)
    result = _check(runner, root, "--links", "--timeout", "5", "--deadline", "0.5", "--format", "json")
    results = json.loads(result.stdout)["links"]["results"]
    slow = next(r for r in results if r["url"] == site.url("/slow"))
    assert slow["status"] == "timeout"
    assert "deadline" in slow["detail"]
