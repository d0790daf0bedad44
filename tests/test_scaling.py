"""No step grows faster than linearly: work is counted (function calls), never timed.

Each test runs the same operation at two sizes, four times apart, and counts the Python and C
function calls it makes. A linear step costs about 4x as much at the larger size (less, with
fixed costs); a quadratic one about 16x. The bound, 5x, leaves room for noise-free but uneven
growth (sorting is n log n) while failing any step that compares every item with every other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

import yaml

from entretiens.output import write_tree
from entretiens.publish import publish
from showbuilder import episode, make_show, write_yaml

#: The most the larger size (4x the items) may cost, in calls, relative to the smaller.
BOUND = 5.0


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the function calls made inside the block (Python and C), in ``counter[0]``."""
    counter = [0]

    def profile(_frame: FrameType, event: str, _arg: Any) -> None:
        if event in ("call", "c_call"):
            counter[0] += 1

    sys.setprofile(profile)
    try:
        yield counter
    finally:
        sys.setprofile(None)


def calls(action: Callable[[], object]) -> int:
    """How many function calls ``action`` makes."""
    with counting() as counter:
        action()
    return counter[0]


def _rewrite_cost(root: Path, count: int) -> int:
    """Calls made by a rewrite of ``count`` files where one of them changed."""
    out = root / "public"
    files: dict[PurePosixPath, bytes | Path] = {
        PurePosixPath(f"episodes/{n}/index.html"): f"page {n}".encode() for n in range(count)
    }
    write_tree(out, files)
    files[PurePosixPath("episodes/0/index.html")] = b"edited"
    return calls(lambda: write_tree(out, files))


def test_rewriting_the_output_is_linear_in_its_files(tmp_path: Path) -> None:
    small = _rewrite_cost(tmp_path / "small", 150)
    large = _rewrite_cost(tmp_path / "large", 600)
    assert large <= BOUND * small, (small, large)


def _edit_cost(root: Path, count: int) -> int:
    """Calls made by the publish that follows an edit of one episode of ``count``."""
    episodes = {
        f"{n:03d}-guest": episode(n, date=f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}T10:00:00+01:00")
        for n in range(1, count + 1)
    }
    show = make_show(root, episodes, seconds=1)
    publish(show)
    target = show / "episodes" / "001-guest.yaml"
    write_yaml(target, {**yaml.safe_load(target.read_text(encoding="utf-8")), "notes": "Edited."})
    return calls(lambda: publish(show))


def test_a_rebuild_after_one_edit_is_linear_in_the_episodes(tmp_path: Path) -> None:
    small = _edit_cost(tmp_path / "small", 8)
    large = _edit_cost(tmp_path / "large", 32)
    assert large <= BOUND * small, (small, large)
