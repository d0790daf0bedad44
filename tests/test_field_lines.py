"""One record of where each value was written: built from the one YAML parse, nothing read twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from entretiens.check import check_show
from entretiens.links import collect_places
from entretiens.loading import load_project
from entretiens.model import FieldLines
from sampleshow import copy_sample_show
from showbuilder import episode, make_show, write_yaml

EPISODE = """\
title: Engines
date: 2024-03-01T09:00:00+01:00
audio: audio/001.mp3
summary: One sentence.
guests:
  - name: Ada
    bio: Wrote the first program.
    url: https://ada.example/
  - id: grace
links:
  - title: A page
    url: https://links.example/page
chapters:
  - start: 0
    title: Start
  - start: 1
    title: Later
    url: https://chapters.example/later
"""


def _show(tmp_path: Path) -> Path:
    root = make_show(tmp_path / "show", {"001-engines": EPISODE, "002-second": episode(2)})
    write_yaml(root / "guests" / "grace.yaml", {"name": "Grace", "url": "https://grace.example/", "bio": "Admiral."})
    return root


def test_check_parses_each_yaml_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _show(tmp_path)
    loaded: Counter[str] = Counter()
    real_load = yaml.load

    def counting_load(stream: Any, Loader: Any) -> Any:
        loaded[str(stream)] += 1
        return real_load(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load", counting_load)
    report = check_show(root, use_cache=False)
    assert report.problems is not None
    texts = {path.read_text(encoding="utf-8") for path in root.rglob("*.yaml") if "published" not in path.name}
    assert texts <= set(loaded)
    assert max(loaded.values()) == 1, [text[:40] for text, count in loaded.items() if count > 1]


def test_nested_values_keep_their_exact_lines(tmp_path: Path) -> None:
    root = _show(tmp_path)
    project = load_project(root)
    lines = FieldLines(project)
    path = root / "episodes" / "001-engines.yaml"
    assert lines.line(path, "guests[0].url") == 8
    assert lines.line(path, "guests[1]") == 9
    assert lines.line(path, "links[0].url") == 12
    assert lines.line(path, "chapters[1].url") == 18
    # A key that is not there: the deepest part that is (the item), then the file itself.
    assert lines.line(path, "chapters[0].image") == 14
    assert lines.line(path, "nothing") == 1
    assert lines.line(root / "guests" / "grace.yaml", "url") == 2
    places = {(place.field, place.path.name): place.line for place in collect_places(project)}
    assert places[("guests[0].url", "001-engines.yaml")] == 8
    assert places[("links[0].url", "001-engines.yaml")] == 12
    assert places[("chapters[1].url", "001-engines.yaml")] == 18
    assert places[("url", "grace.yaml")] == 2


def test_the_lines_are_indexed_only_when_asked(tmp_path: Path) -> None:
    # A build whose checks are all kept asks for no line: indexing every file cost ~8 us an
    # episode (a path hashed, a dict made).
    project = load_project(copy_sample_show(tmp_path / "show"))
    lines = FieldLines(project)
    assert lines._files is None
    episode = project.episodes[0]
    assert lines.line(episode.path, "title") == episode.line_of("title")
    assert lines._files is not None
