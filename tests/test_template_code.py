"""The code Jinja generates from the templates, kept between runs in the user's cache folder:
what it renders is what a fresh compile renders, and a damaged, foreign or exposed copy is never run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import jinja2
import pytest

from entretiens import templating
from entretiens.errors import ProblemsError
from entretiens.output import content_bytes
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test's own; the process's environments forgotten before and after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    templating._code_folder.cache_clear()
    templating._environment.cache_clear()
    yield tmp_path / "cache" / "entretiens" / "templates"
    templating._code_folder.cache_clear()
    templating._environment.cache_clear()


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates Jinja parses and generates code for from now on."""
    names: list[str] = []
    real = jinja2.Environment._generate

    def counting(self: jinja2.Environment, source: object, name: str | None, *args: object, **kwargs: object) -> str:
        names.append(str(name))
        return real(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "_generate", counting)
    return names


def _built(root: Path) -> dict[PurePosixPath, bytes]:
    """The site as a new process builds it (no template compiled in memory yet)."""
    templating._environment.cache_clear()
    with publish(root, root / "public", dry_run=True, now=SAMPLE_NOW, hold=True) as result:
        return {path: content_bytes(content) for path, content in result.files.items()}


def test_a_run_after_the_first_generates_no_template_code(cache: Path, generated: list[str], tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    first = _built(root)
    assert "episode.html.j2" in generated
    assert sorted(p.name for p in cache.iterdir()), "no code was kept"
    generated.clear()
    assert _built(root) == first
    assert generated == []


@pytest.mark.parametrize("damage", ["truncated", "flipped", "foreign", "empty", "directory"])
def test_damaged_kept_code_is_generated_again_and_replaced(
    cache: Path, generated: list[str], tmp_path: Path, damage: str
) -> None:
    root = copy_sample_show(tmp_path / "show")
    first = _built(root)
    for entry in cache.iterdir():
        entry.unlink()
    generated.clear()
    assert _built(root) == first
    rebuilt = sorted(generated)  # what a rebuild renders, generated with no code kept
    kept = sorted(cache.iterdir())
    assert len(kept) == len(rebuilt)
    # Each entry replaced by another's (whole and checked, for another key).
    others = {entry: kept[index - 1].read_bytes() for index, entry in enumerate(kept)}
    for entry in kept:
        data = entry.read_bytes()
        if damage == "directory":
            entry.unlink()
            entry.mkdir()
            continue
        entry.write_bytes(
            {
                "truncated": data[: len(data) - 10],
                "flipped": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],
                "foreign": others[entry],
                "empty": b"",
            }[damage]
        )
    generated.clear()
    assert _built(root) == first
    assert sorted(generated) == rebuilt, "damaged code was run"
    if damage != "directory":
        generated.clear()
        assert _built(root) == first
        assert generated == [], "the damaged code was not replaced"


def test_a_cache_folder_another_user_could_write_is_not_used(cache: Path, generated: list[str], tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    first = _built(root)
    os.chmod(cache, 0o777)  # noqa: S103  (what the test is about)
    templating._code_folder.cache_clear()
    generated.clear()
    assert _built(root) == first
    assert "base.html.j2" in generated


def test_a_template_error_is_still_located_from_kept_code(cache: Path, tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    (root / "templates").mkdir()
    (root / "templates" / "robots.txt.j2").write_text("User-agent: *\n\n{{ 1 / 0 }}\n", encoding="utf-8")
    for _ in range(2):  # generated, then run from the kept code
        templating._environment.cache_clear()
        with pytest.raises(ProblemsError) as raised:
            publish(root, root / "public", dry_run=True, now=SAMPLE_NOW)
        located = [(p.rule, p.path, p.line) for p in raised.value.problems]
        assert located == [("template-error", root / "templates" / "robots.txt.j2", 3)]
