"""A show with remote audio keeps no build record, yet the temporaries a killed publish left in
``.entretiens`` (from when the show still had local audio) go at its next publish, once old."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from audiogen import write_mp3
from entretiens import buildrecord, remote
from entretiens.publish import publish
from showbuilder import episode, make_show

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _aged(path: Path, seconds: float) -> Path:
    path.write_bytes(b"half written")
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def test_a_remote_show_tidies_the_temporaries_of_a_killed_publish(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp3 = write_mp3(tmp_path / "remote.mp3", seconds=2.0).read_bytes()
    httpserver.expect_request("/ep.mp3").respond_with_data(mp3, content_type="audio/mpeg")
    public_url = "https://cdn.example.net/ep.mp3"
    fetch = remote.fetch_audio

    def local_fetch(url: str, cache_dir: Path, **options: Any) -> Path:
        return fetch(httpserver.url_for("/ep.mp3"), cache_dir, **options)

    monkeypatch.setattr(remote, "fetch_audio", local_fetch)
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio=public_url)})
    folder = root / buildrecord.RECORD.parent
    folder.mkdir(parents=True, exist_ok=True)
    old = [
        _aged(folder / ".build.json.4242.tmp", 3600),
        _aged(folder / ".output-stamps.journal.4242.tmp", 3600),
        _aged(folder / ".output-digests.journal.4242.tmp", 3600),
    ]
    # Young: a publish still running may be writing it. Not ours: a user's file, kept.
    young = _aged(folder / ".build.json.777.tmp", 5)
    theirs = _aged(folder / ".build.json.4242.tmp.bak", 3600)
    publish(root, tmp_path / "out", now=NOW)
    assert not (root / buildrecord.RECORD).exists()  # no record for remote audio
    assert [path for path in old if path.exists()] == []
    assert young.exists() and theirs.exists()
