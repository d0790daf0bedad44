"""`entretiens serve` driven end to end: the real server on 127.0.0.1, rebuilds, failed rebuilds, SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from entretiens.cli import cli
from entretiens.cli.serve import _stop_on_terminate
from entretiens.output import MARKER
from showbuilder import episode, make_show, write_yaml

#: How long a step may take before the test gives up (a bound, never an assertion on speed).
PATIENCE = 60.0


class _Stream(io.StringIO):
    """stderr as the command writes it, readable from the test's other thread at any time."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(condition: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > limit:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return bytes(answer.read())


def test_serve_builds_serves_rebuilds_reports_and_stops_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A guest without a bio: a warning, printed after the first build and after each rebuild.
    root = make_show(tmp_path / "show", {"001-first": episode(1, guests=[{"name": "No Bio"}]), "002-b": episode(2)})
    out = tmp_path / "preview"
    port = _free_port()
    stderr = _Stream()
    # In the test itself: pytest sets its own capture again between a fixture and the test.
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setenv("NO_COLOR", "1")
    failures: list[BaseException] = []
    running = threading.Event()

    def said(text: str, times: int = 1) -> Callable[[], bool]:
        return lambda: stderr.getvalue().count(text) >= times

    def drive() -> None:
        try:
            _until(said("Watching the show folder"), "the first build")
            assert b"Conversation 1" in _get(port, "/feed.xml")
            assert _get(port, "/").startswith(b"<!DOCTYPE html>")

            write_yaml(root / "episodes" / "002-b.yaml", episode(2, title="Renamed"))
            _until(said("Rebuilt: "), "a rebuild")
            assert b"Renamed" in _get(port, "/feed.xml")

            (root / "episodes" / "002-b.yaml").write_text("title: [unclosed\n")
            _until(said("The previous build is still served"), "a failed rebuild")
            assert b"Renamed" in _get(port, "/feed.xml"), "the previous build stays served"

            # The output folder no longer looks like ours: an error that is not a show problem.
            (out / MARKER).unlink()
            write_yaml(root / "episodes" / "002-b.yaml", episode(2, title="Renamed again"))
            _until(said("The previous build is still served", 2), "a refused output folder")

            (out / MARKER).write_text("entretiens\n")
            write_yaml(root / "episodes" / "002-b.yaml", episode(2, title="Renamed once more"))
            _until(said("Rebuilt: ", 2), "a rebuild after the fix")
            assert b"Renamed once more" in _get(port, "/feed.xml")
        except BaseException as exc:
            failures.append(exc)
        finally:
            running.wait(PATIENCE)
            os.kill(os.getpid(), signal.SIGTERM)

    def ignore(signum: int, frame: object) -> None:
        """A SIGTERM that comes after the command is over must not end the test run."""

    previous = signal.signal(signal.SIGTERM, ignore)
    driver = threading.Thread(target=drive, daemon=True)
    try:
        driver.start()
        running.set()
        cli.main(
            ["serve", "--show", str(root), "--port", str(port), "--output", str(out), "-v"],
            standalone_mode=False,
        )
        restored = signal.getsignal(signal.SIGTERM)
    finally:
        driver.join(PATIENCE)
        signal.signal(signal.SIGTERM, previous)
    if failures:
        raise failures[0]
    lines = stderr.getvalue().splitlines()
    assert lines[0].startswith("Warning: episodes/001-first.yaml:")
    assert lines[0].endswith("[guest-bio-missing]")
    assert f"Serving Test Talks (2 episodes) at http://127.0.0.1:{port}/" in lines
    assert any('"GET /feed.xml HTTP/1.1" 200' in line for line in lines), "-v prints every request"
    broken = [line for line in lines if line.startswith("Error: episodes/002-b.yaml:")]
    assert len(broken) == 1 and broken[0].endswith("[yaml-syntax]"), "\n".join(lines)
    assert any(line.startswith(f"Error: {out}: this folder has files that entretiens did not write") for line in lines)
    assert lines[-1] == "Stopped."
    assert restored is ignore, "serve puts back the SIGTERM handler it found"
    assert (out / "feed.xml").is_file(), "--output keeps the build"


def test_sigterm_is_left_alone_off_the_main_thread() -> None:
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(_stop_on_terminate()))
    thread.start()
    thread.join()
    assert found == [None]
