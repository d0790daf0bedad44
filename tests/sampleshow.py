"""The bundled sample show (the repository root) copied into a test's own folder.

Tests publish a copy, never the repository itself: publishing writes `published.yaml` and a
probe cache beside the show, and a test must not touch the working tree. What is copied is
everything at the root except the project's own files, so a folder the show gains later
(say `static/` or `images/`) is part of the copy without anyone remembering to add it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from entretiens import walks
from entretiens.publish import publish

REPO = Path(__file__).resolve().parent.parent

#: Moment at which the sample show is published by tests: long after its 2011 episodes.
SAMPLE_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Entries of the repository root that belong to the project, not to the show (besides every
#: dot-entry: git, caches, virtual environments, staging folders of an interrupted publish).
_NOT_THE_SHOW = frozenset(
    {
        "benchmarks",
        "build",
        "dist",
        "docs",
        "htmlcov",
        "LICENSE",
        "public",
        "pyproject.toml",
        "README.md",
        "src",
        "tests",
        "tools",
        "venv",
    }
)


def copy_sample_show(dest: Path) -> Path:
    """Copy the sample show into ``dest`` (created) and return it; skip when it is not there.

    An sdist or a packaged test run may hold the tests without the sample show.
    """
    if not (REPO / "feed.yaml").is_file():
        pytest.skip("the bundled sample show is not part of this source tree")

    def ignore(folder: str, names: list[str]) -> list[str]:
        if Path(folder) != REPO:
            return []
        return [n for n in names if n in _NOT_THE_SHOW or n.startswith(".") or n.endswith(".egg-info")]

    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    # Every file copied has a ctime of now: a unit reading one is kept only once it has settled
    # (unitcache._racy, by walks.settled), as it has in a real show by the time its build gets there.
    wait_settled(path for path in dest.rglob("*") if path.is_file())
    return dest


def wait_settled(paths: Iterable[Path]) -> None:
    """Wait until the last change of each file has settled by :func:`walks.settled` (0.1 s after
    the later of its mtime and ctime; 2 s where the file system keeps whole seconds): a test
    that dates files back with ``os.utime`` still gives them a ctime of now."""
    stamps = []
    for path in paths:
        status = path.stat()
        stamps.append((status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino))
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (an output, say) by its relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cold_output(root: Path, dest: Path) -> dict[str, bytes]:
    """What a cold build of the show ``root`` as it is now publishes: copied into ``dest``
    without its caches and output, published at :data:`SAMPLE_NOW`, its public/ read back."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".entretiens", "public"))
    publish(dest, now=SAMPLE_NOW)
    return files_of(dest / "public")
