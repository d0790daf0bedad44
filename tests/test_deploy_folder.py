"""entretiens deploy to a plain folder (a mounted web root): same order, changes only, GUID gate and deletions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployshow import deploy_show, digests, report, run_deploy, uploaded
from entretiens import pipeline
from entretiens.deploy.manifest import MANIFEST_KEY


@pytest.fixture
def show(tmp_path: Path) -> Path:
    return deploy_show(tmp_path / "show")


def _args(web_root: Path, live: str, *extra: str) -> list[str]:
    return ["--to", str(web_root), "--live-feed", live, "--no-ping", "--format", "json", *extra]


def test_folder_deploy_copies_the_show_and_then_only_changes(show: Path, tmp_path: Path, nothing_live: str) -> None:
    web_root = tmp_path / "www" / "podcast"
    first = run_deploy(show, *_args(web_root, nothing_live))
    assert uploaded(first)[-1] == "feed.xml"
    assert digests(web_root) == {**digests(show / "public"), MANIFEST_KEY: digests(web_root)[MANIFEST_KEY]}
    manifest = json.loads((web_root / MANIFEST_KEY).read_text())
    assert manifest["files"]["audio/001.mp3"]["size"] == (show / "audio" / "001.mp3").stat().st_size
    assert not any(path.name.startswith(".entretiens-part-") for path in web_root.rglob("*"))

    assert uploaded(run_deploy(show, *_args(web_root, nothing_live))) == []
    (show / "episodes" / "002-talk.yaml").write_text(
        (show / "episodes" / "002-talk.yaml").read_text().replace("Conversation 2", "Conversation two")
    )
    changed = uploaded(run_deploy(show, *_args(web_root, nothing_live)))
    assert "002-talk/index.html" in changed
    assert changed[-1] == "feed.xml"
    assert not any(key.startswith("audio/") for key in changed)


def test_folder_removal_gate_and_delete(show: Path, tmp_path: Path, nothing_live: str) -> None:
    web_root = tmp_path / "www"
    run_deploy(show, *_args(web_root, nothing_live))
    (web_root / "favicon.ico").write_bytes(b"not deploy's")
    (show / "episodes" / "001-talk.yaml").unlink()
    refused = run_deploy(show, *_args(web_root, nothing_live))
    assert refused.exit_code == 1
    assert "episode '001-talk' (Conversation 1) is live and would disappear" in refused.stderr
    assert b"Conversation 1" in (web_root / "feed.xml").read_bytes()

    done = report(run_deploy(show, *_args(web_root, nothing_live, "--allow-removal", "001-talk", "--delete")))
    assert "audio/001.mp3" in done["deleted"]
    assert not (web_root / "audio" / "001.mp3").exists()
    # Emptied folders go too; what deploy did not write stays.
    assert not (web_root / "001-talk").exists()
    assert (web_root / "favicon.ico").read_bytes() == b"not deploy's"
    assert b"Conversation 1" not in (web_root / "feed.xml").read_bytes()


def test_folder_a_file_changed_by_hand_is_sent_again(show: Path, tmp_path: Path, nothing_live: str) -> None:
    web_root = tmp_path / "www"
    run_deploy(show, *_args(web_root, nothing_live))
    (web_root / "audio" / "002.mp3").write_bytes(b"truncated")
    assert uploaded(run_deploy(show, *_args(web_root, nothing_live))) == ["audio/002.mp3"]
    assert (web_root / "audio" / "002.mp3").read_bytes() == (show / "audio" / "002.mp3").read_bytes()


@pytest.mark.parametrize("where", ["public", ".", ".."])
def test_folder_target_cannot_be_the_output_or_the_show(show: Path, nothing_live: str, where: str) -> None:
    result = run_deploy(show, *_args(show / where, nothing_live))
    assert result.exit_code == 1
    assert "cannot deploy into" in result.stderr


def test_no_target_is_a_clear_error(show: Path) -> None:
    result = run_deploy(show, "--no-ping")
    assert result.exit_code == 1
    assert "nowhere to deploy to: give --to s3://BUCKET/PREFIX (or a folder), or set deploy.to in feed.yaml" in (
        result.stderr
    )


def test_target_from_feed_yaml_relative_to_the_show(tmp_path: Path, nothing_live: str) -> None:
    show = deploy_show(tmp_path / "show", show={"deploy": {"to": "../site"}})
    result = run_deploy(show, "--live-feed", nothing_live, "--no-ping")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "feed.xml").read_bytes() == (show / "public" / "feed.xml").read_bytes()
    assert f"Deployed to {tmp_path / 'site'}" in result.stderr


def test_publish_errors_upload_nothing(show: Path, tmp_path: Path, nothing_live: str) -> None:
    (show / "audio" / "002.mp3").write_bytes(b"not audio at all")
    result = run_deploy(show, *_args(tmp_path / "www", nothing_live))
    assert result.exit_code == 1
    assert "nothing was published" in result.stderr
    assert not (tmp_path / "www").exists()


def test_unknown_scheme_is_refused(show: Path, nothing_live: str) -> None:
    result = run_deploy(show, "--to", "ftp://host/dir", "--live-feed", nothing_live, "--no-ping")
    assert result.exit_code == 1
    assert "cannot deploy to ftp:// (use s3://BUCKET/PREFIX or a folder)" in result.stderr


def test_a_damaged_live_feed_stops_the_deploy_unless_forced(show: Path, tmp_path: Path, nothing_live: str) -> None:
    web_root = tmp_path / "www"
    run_deploy(show, *_args(web_root, nothing_live))
    (web_root / "feed.xml").write_bytes(b"<rss><channel><item>cut off")
    refused = run_deploy(show, *_args(web_root, nothing_live))
    assert refused.exit_code == 1
    assert f"the live feed ({web_root}/feed.xml): not a well-formed feed" in refused.stderr
    assert (web_root / "feed.xml").read_bytes() == b"<rss><channel><item>cut off"
    forced = report(run_deploy(show, *_args(web_root, nothing_live, "--force")))
    assert forced["uploaded"][-1]["key"] == "feed.xml"
    assert (web_root / "feed.xml").read_bytes() == (show / "public" / "feed.xml").read_bytes()


def test_deploy_uploads_the_feed_documents_then_removes_them(
    show: Path, tmp_path: Path, nothing_live: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy reads its publish's feed and home page (files of the build's own folder) while it
    uploads them, and removes them after, dry run or not. (Here, not beside the other tests of
    that folder: the live feed's server is a thread that lasts for the rest of the session, and
    a process with another thread forks no worker, so it stays with the tests that use it.)"""
    made: list[pipeline.Build] = []
    build = pipeline.build

    def kept(*args: Any, **kwargs: Any) -> pipeline.Build:
        made.append(build(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(pipeline, "build", kept)
    web_root = tmp_path / "www"
    planned = report(run_deploy(show, *_args(web_root, nothing_live, "--dry-run")))
    assert "feed.xml" in [item["key"] for item in planned["uploads"]]
    assert not web_root.exists()
    report(run_deploy(show, *_args(web_root, nothing_live)))
    for name in ("feed.xml", "index.html"):
        assert digests(web_root)[name] == digests(show / "public")[name]
    assert len(made) == 2
    assert all(built.documents is None for built in made)
    assert sorted((show / pipeline.DOCUMENTS).rglob("*")) == []
