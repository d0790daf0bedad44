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


@pytest.fixture
def show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample show published; its next small change is written in place, as a large show's."""
    monkeypatch.setattr(inplace, "MIN_FILES", 1)
    monkeypatch.setattr(inplace, "SHARE", 1)
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    return root


def _elsewhere(folder: Path, files: dict[str, str]) -> Path:
    """A folder out of the show holding a user's ``files``."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _edit(root: Path, slug: str) -> None:
    episode = root / "episodes" / f"{slug}.yaml"
    data = yaml.safe_load(episode.read_text(encoding="utf-8"))
    data["summary"] = "Edited."
    episode.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("linked", ["003-massimo-fubini", "003-massimo-fubini/embed"])
def test_an_edit_written_in_place_never_writes_through_a_linked_folder(show: Path, tmp_path: Path, linked: str) -> None:
    elsewhere = _elsewhere(tmp_path / "elsewhere", {"index.html": "USER DATA\n", "keep.txt": "mine\n"})
    before = files_of(elsewhere)
    folder = show / "public" / linked
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    # An edit of the episode itself: its page is among the few files written.
    _edit(show, "003-massimo-fubini")
    publish(show, now=SAMPLE_NOW)
    assert files_of(elsewhere) == before
    assert not folder.is_symlink() and folder.is_dir()
    assert files_of(show / "public") == cold_output(show, tmp_path / "cold")


@pytest.mark.parametrize("edited", [False, True])
def test_links_made_by_hand_in_public_are_removed_as_a_cold_build_has_none(
    show: Path, tmp_path: Path, edited: bool
) -> None:
    elsewhere = _elsewhere(tmp_path / "elsewhere", {"keep.txt": "mine\n"})
    public = show / "public"
    (public / "extra-link").symlink_to(elsewhere, target_is_directory=True)
    (public / "003-massimo-fubini" / "broken").symlink_to(tmp_path / "nowhere")
    # A page replaced by a link to a copy of itself: the same bytes, still no file of the output.
    page = public / "004-jerome-serre" / "index.html"
    shutil.copyfile(page, tmp_path / "page-copy.html")
    page.unlink()
    page.symlink_to(tmp_path / "page-copy.html")
    if edited:
        _edit(show, "002-nicolas-sauvage")
    publish(show, now=SAMPLE_NOW)
    assert not any(path.is_symlink() for path in public.rglob("*"))
    assert files_of(elsewhere) == {"keep.txt": b"mine\n"}
    assert files_of(public) == cold_output(show, tmp_path / "cold")
