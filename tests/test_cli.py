"""The command line as a person meets it: exit codes, messages on stderr, output left intact."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from audiogen import write_mp3
from entretiens.cli import cli
from showbuilder import episode, make_show, tree, write_yaml

Edit = Callable[[Path], None]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _set(relative: str, **changes: object) -> Edit:
    def edit(root: Path) -> None:
        path = root / relative
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        write_yaml(path, data)

    return edit


def _write(relative: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / relative).write_text(text, encoding="utf-8")

    return edit


def _bytes(relative: str, data: bytes) -> Edit:
    def edit(root: Path) -> None:
        (root / relative).write_bytes(data)

    return edit


def _unlink(relative: str) -> Edit:
    def edit(root: Path) -> None:
        (root / relative).unlink()

    return edit


def _line_of(root: Path, relative: str, needle: str) -> int:
    for number, line in enumerate((root / relative).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {relative}")


EP = "episodes/001-first.yaml"

#: (name, edit, file, text on the reported line (None: no line), field, words the message must hold)
BAD_INPUTS: list[tuple[str, Edit, str, str | None, str | None, str]] = [
    (
        "malformed YAML",
        _write(EP, "title: A\nnotes: [unclosed\ndate: 2024-01-01\n"),
        EP,
        "date:",
        None,
        "YAML syntax error",
    ),
    ("unknown field", _set(EP, sumary="x"), EP, "sumary:", "sumary", "did you mean 'summary'?"),
    ("missing field", _set(EP, title=None), EP, "number:", "title", "required field 'title' is missing"),
    ("wrong type", _set(EP, number="one"), EP, "number:", "number", "expected a whole number"),
    ("invalid URL", _set("feed.yaml", base_url="ftp://x.example/"), "feed.yaml", "base_url:", "base_url", "https://"),
    (
        "invalid e-mail",
        _set("feed.yaml", owner={"name": "A", "email": "a@"}),
        "feed.yaml",
        "email:",
        "owner.email",
        "not an e-mail",
    ),
    ("invalid language", _set("feed.yaml", language="fr_FR"), "feed.yaml", "language:", "language", "ISO 639-1"),
    (
        "invalid category",
        _set("feed.yaml", categories=["Buisness"]),
        "feed.yaml",
        "Buisness",
        "categories[0]",
        "not an Apple Podcasts category",
    ),
    ("invalid date", _set(EP, date="21/02/2011"), EP, "date:", "date", "not a date"),
    (
        "duplicate number",
        _set("episodes/002-second.yaml", number=1),
        "episodes/002-second.yaml",
        "number:",
        "number",
        "also used by 001-first.yaml",
    ),
    ("audio missing", _unlink("audio/001.mp3"), EP, "audio:", "audio", "not found"),
    ("text file named .mp3", _bytes("audio/001.mp3", b"hello, I am text\n" * 50), EP, "audio:", "audio", "001.mp3"),
    ("empty audio file", _bytes("audio/001.mp3", b""), EP, "audio:", "audio", "empty"),
]


@pytest.mark.parametrize(
    ("name", "edit", "file", "line_text", "field", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_reported_and_previous_output_kept(
    tmp_path: Path, name: str, edit: Edit, file: str, line_text: str | None, field: str | None, words: str
) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "public"
    code, _, _ = _run("publish", "--show", str(root), "--output", str(out))
    assert code == 0
    before = tree(out)

    edit(root)
    code, stdout, stderr = _run("publish", "--show", str(root), "--output", str(out))
    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    (message,) = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    location = file
    if line_text is not None:
        location += f":{_line_of(root, file, line_text)}"
    assert message.startswith(f"Error: {location}: "), message
    if field:
        assert f": {field}: " in message, message
    assert words in message, message
    assert re.search(r"\[[a-z0-9.-]+\]$", message), "a rule id ends the line"
    assert "nothing was published" in stderr
    assert tree(out) == before, "the previous output must stay exactly as it was"


def test_all_errors_reported_in_one_run(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    _set(EP, sumary="x", number="one")(root)
    _set("feed.yaml", language="fr_FR")(root)
    code, _, stderr = _run("publish", "--show", str(root), "--output", str(tmp_path / "out"))
    assert code == 1
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 3
    assert "3 errors: nothing was published." in stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, stderr = _run("publish", "--show", str(tmp_path / "nowhere"))
    assert code == 2
    assert "does not exist" in stderr
    code, _, stderr = _run("publish", "--no-such-option")
    assert code == 2
    code, _, _ = _run("no-such-command")
    assert code == 2


def test_success_summary_and_rerun(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1), "002-b": episode(2, draft=True)})
    write_mp3(root / "audio" / "001.mp3", seconds=65, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1)
    out = tmp_path / "out"
    code, stdout, stderr = _run("publish", "--show", str(root), "--output", str(out))
    assert code == 0, stderr
    assert stdout == ""
    assert f"Published 1 episode (1 min 05 s) to {out}" in stderr
    assert "Left out: 1 draft." in stderr
    code, _, stderr = _run("publish", "--show", str(root), "--output", str(out))
    assert code == 0
    assert "Up to date" in stderr and "nothing changed" in stderr


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    code, _, stderr = _run("publish", "--show", str(root), "--output", str(tmp_path / "out"), "--dry-run")
    assert code == 0, stderr
    assert not (tmp_path / "out").exists()
    assert not (root / "published.yaml").exists()
    assert "Dry run" in stderr


def test_version_and_help_for_every_command() -> None:
    code, stdout, _ = _run("--version")
    assert code == 0 and re.match(r"entretiens, version \d+\.\d+", stdout)
    code, stdout, _ = _run("--help")
    assert code == 0
    for name, command in cli.commands.items():
        code, stdout, _ = _run(name, "--help")
        assert code == 0, name
        summary = (command.help or "").split("\n")[0]
        assert summary and " ".join(summary.split()) in " ".join(stdout.split()), name


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entretiens", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("entretiens, version")


def test_no_color_and_no_colours_off_a_terminal(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    _set("feed.yaml", language="fr_FR")(root)
    runner = CliRunner()
    coloured = runner.invoke(cli, ["publish", "--show", str(root)], color=True)
    assert "\x1b[" in coloured.stderr
    plain = runner.invoke(cli, ["publish", "--show", str(root)], color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.stderr
    piped = runner.invoke(cli, ["publish", "--show", str(root)])
    assert "\x1b[" not in piped.stderr


def test_init_then_new_episode(tmp_path: Path) -> None:
    code, stdout, stderr = _run("init", str(tmp_path / "show"), "--title", "Mes entretiens", "--language", "fr")
    assert code == 0, stderr
    feed = yaml.safe_load((tmp_path / "show" / "feed.yaml").read_text(encoding="utf-8"))
    assert feed["title"] == "Mes entretiens" and feed["language"] == "fr"
    code, _, stderr = _run("init", str(tmp_path / "show"))
    assert code == 1 and "already exists" in stderr

    code, stdout, stderr = _run(
        "new", "--show", str(tmp_path / "show"), "Avec Jérémi", "-g", "Jérémi Lepetit", "--date", "2024-01-02"
    )
    assert code == 0, stderr
    path = Path(stdout.strip())
    assert path.name == "001-jeremi-lepetit.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["title"] == "Avec Jérémi"
    assert data["guests"] == [{"name": "Jérémi Lepetit", "bio": ""}]
    assert data["draft"] is True
    code, stdout, _ = _run("new", "--show", str(tmp_path / "show"), "Second")
    assert Path(stdout.strip()).name == "002-second.yaml"


def test_new_episode_in_a_show_is_loadable_once_filled(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    code, stdout, stderr = _run(
        "new", "--show", str(root), "Third talk", "--audio", "audio/003.mp3", "--date", "2024-03-03"
    )
    assert code == 0, stderr
    path = Path(stdout.strip())
    assert path.name == "003-third-talk.yaml"
    write_mp3(root / "audio" / "003.mp3", seconds=2)
    from entretiens.loading import load_project

    episodes = {e.slug: e for e in load_project(root).episodes}
    assert episodes["003-third-talk"].number == 3
    assert episodes["003-third-talk"].draft
