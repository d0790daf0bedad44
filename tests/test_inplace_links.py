"""A folder of public/ replaced by a link (by hand) is never written through.

A large show's small edit is written in place (entretiens.inplace). A folder of the output
that is a link to somewhere else would have that write land outside public/, over whatever
is there. The write is refused and staged instead: the link is replaced by a real folder, as a
cold build has it, and the folder it pointed to is left as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from entretiens import inplace
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, cold_output, copy_sample_show, files_of


@pytest.mark.parametrize("linked", ["003-massimo-fubini", "003-massimo-fubini/embed"])
def test_an_edit_written_in_place_never_writes_through_a_linked_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linked: str
) -> None:
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # written in place, as a large show's edit
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("USER DATA\n", encoding="utf-8")
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    before = files_of(elsewhere)
    folder = root / "public" / linked
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    # An edit of the episode itself: its page is among the few files written.
    episode = root / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    data["summary"] = "Edited."
    episode.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    publish(root, now=SAMPLE_NOW)
    assert files_of(elsewhere) == before
    assert not folder.is_symlink() and folder.is_dir()
    assert files_of(root / "public") == cold_output(root, tmp_path / "cold")


def _edit(root: Path, slug: str) -> None:
    episode = root / "episodes" / f"{slug}.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    data["summary"] = "Edited."
    episode.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("edited", [False, True])
def test_links_made_by_hand_in_public_are_removed_as_a_cold_build_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: bool
) -> None:
    monkeypatch.setattr(inplace, "MIN_FILES", 1)  # written in place, as a large show's edit
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    public = root / "public"
    (public / "extra-link").symlink_to(elsewhere, target_is_directory=True)
    (public / "003-massimo-fubini" / "broken").symlink_to(tmp_path / "nowhere")
    # A page replaced by a link to a copy of itself: the same bytes, still no file of the output.
    page = public / "004-jerome-serre" / "index.html"
    shutil.copyfile(page, tmp_path / "page-copy.html")
    page.unlink()
    page.symlink_to(tmp_path / "page-copy.html")
    if edited:
        _edit(root, "002-nicolas-sauvage")
    publish(root, now=SAMPLE_NOW)
    assert not any(path.is_symlink() for path in public.rglob("*"))
    assert files_of(elsewhere) == {"keep.txt": b"mine\n"}
    assert files_of(public) == cold_output(root, tmp_path / "cold")
