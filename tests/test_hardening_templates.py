"""A show's own templates and assets are input too: sandboxed, bounded, kept inside the show.

Each case reproduces a defect found by trying the tool as a hostile user (issue 13): a template
that runs a shell command, loops or recurses without end, raises a Python error, or is a link to
a system file; an asset that is a link out of the show, a 3 GB file, or silently replaces a file
entretiens generates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from entretiens.cli import cli
from showbuilder import make_show


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "bug in entretiens" not in output, output
    return result.exit_code, output


def _override(root: Path, name: str, text: str) -> Path:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _refused(root: Path, *words: str) -> str:
    """Both check and publish fail naming ``words``; nothing is published."""
    outputs = []
    for command in ("check", "publish"):
        code, output = _run(command, "--show", str(root))
        assert code == 1, f"{command}: {output}"
        for word in words:
            assert word in output, f"{command}: {output}"
        outputs.append(output)
    assert not (root / "public").exists()
    return "\n".join(outputs)


@pytest.fixture
def show(tmp_path: Path) -> Path:
    return make_show(tmp_path / "show")


# -- the sandbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        "{{ cycler.__init__.__globals__.os.popen('touch ' ~ marker).read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch ' ~ marker) }}",
        # Through the show's own objects (dataclasses) and the strings (a read-only mapping).
        "{{ show.__class__.__mro__[1].__subclasses__() }}",
        "{{ show.hosts[0].__init__.__globals__ }}",
        "{{ t.__class__.__mro__ }}",
        "{{ t._something }}",
    ],
)
def test_a_template_cannot_reach_python(show: Path, payload: str) -> None:
    marker = show.parent / "ran"
    _override(show, "robots.txt.j2", "{% set marker = '" + str(marker) + "' %}\nUser-agent: *\n" + payload + "\n")
    _refused(show, "templates/robots.txt.j2:3", "[template-error]")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}", "too much"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loops"),
        ("{{ 'x' * 10000000000 }}", "too much"),
        ("{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}{{ down(0) }}", "recursion"),
        ("{{ 'x'.ljust(10000000000) }}", "too large"),
        ("{{ 'x' | center(10000000000) }}", "too large"),
        ("{{ show.title | indent(10000000000) }}", "too large"),
    ],
    ids=["output", "silent-loops", "repeat", "recursion", "method", "filter-folded", "filter"],
)
def test_templates_are_bounded(show: Path, body: str, words: str) -> None:
    _override(show, "robots.txt.j2", "User-agent: *\n" + body + "\n")
    _refused(show, "templates/robots.txt.j2", words, "[template-error]")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ 'a' + 1 }}", "TypeError"),
        ("{{ 'abc'.index('z') }}", "ValueError"),
    ],
)
def test_python_errors_in_templates_are_located(show: Path, body: str, error: str) -> None:
    _override(show, "robots.txt.j2", "User-agent: *\n\n" + body + "\n")
    output = _refused(show, "templates/robots.txt.j2:3", error, "[template-error]")
    assert "the show's own" in output or "templates/robots.txt.j2" in output


def test_check_reports_the_template_that_makes_publish_fail(show: Path) -> None:
    _override(show, "episode.html.j2", '{% extends "base.html.j2" %}{% block main %}{{ release.nope }}{% endblock %}')
    _refused(show, "templates/episode.html.j2", "nope")


def test_an_override_that_renders_still_publishes(show: Path) -> None:
    _override(show, "robots.txt.j2", "User-agent: *\nDisallow: /private/\n{{ show.title }}\n")
    code, output = _run("publish", "--show", str(show))
    assert code == 0, output
    assert (show / "public" / "robots.txt").read_text(encoding="utf-8").endswith("Test Talks\n")


# -- files leading out of the show -----------------------------------------------------------------


def test_a_template_linked_outside_the_show_is_refused(show: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET\n", encoding="utf-8")
    (show / "templates").mkdir()
    (show / "templates" / "robots.txt.j2").symlink_to(secret)
    output = _refused(show, "templates/robots.txt.j2", "outside the show")
    assert "SECRET" not in output


def test_an_included_template_linked_outside_the_show_is_refused(show: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET\n", encoding="utf-8")
    _override(show, "robots.txt.j2", 'User-agent: *\n{% include "leak.j2" %}\n')
    (show / "templates" / "leak.j2").symlink_to(secret)
    output = _refused(show, "templates/leak.j2", "outside the show")
    assert "SECRET" not in output


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_assets_linked_outside_the_show_are_refused(show: Path, tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY\n", encoding="utf-8")
    assets = show / "templates" / "assets"
    assets.mkdir(parents=True)
    if kind == "file":
        (assets / "leak.txt").symlink_to(outside / "id_rsa")
    else:
        (assets / "leak").symlink_to(outside, target_is_directory=True)
    output = _refused(show, "templates/assets/leak", "outside the show", "[template-error]")
    assert "PRIVATE KEY" not in output


def test_a_huge_asset_is_refused_without_reading_it(show: Path) -> None:
    assets = show / "templates" / "assets"
    assets.mkdir(parents=True)
    with (assets / "font.woff2").open("wb") as file:  # sparse: costs no disk
        file.truncate(3_000_000_000)
    _refused(show, "templates/assets/font.woff2", "3,000,000,000 bytes", "[template-error]")


def test_an_asset_replacing_a_generated_file_is_named(show: Path) -> None:
    assets = show / "templates" / "assets"
    assets.mkdir(parents=True)
    (assets / "artwork.jpg").write_bytes((show / "artwork.png").read_bytes())
    code, output = _run("publish", "--show", str(show))
    assert code == 0, output
    assert re.search(r"Warning: templates/assets/artwork\.jpg: .*replaces", output), output
    assert (show / "public" / "assets" / "artwork.jpg").read_bytes() == (show / "artwork.png").read_bytes()
