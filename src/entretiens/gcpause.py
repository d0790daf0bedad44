"""Bulk reads of the show's caches without Python's cycle collector running over it again and again.

Reading a large show back from its caches makes hundreds of thousands of small containers
(the probe cache's JSON, each episode decoded from the parse cache). The cycle collector runs
every few hundred new containers and, as long-lived ones pile up, over the whole heap: at
10,000 episodes that was about 40 % of ``probe_each`` and 10 % of ``load_project``. What these
phases build holds no cycle (JSON values, frozen dataclasses), and reference counting frees it
by itself, so the collector is paused while they run and resumed after, when its next pass
catches any cycle made meanwhile. Never around code that starts processes: a forked worker
would inherit the pause.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off for the ``with`` block, then as it was (a caller's pause holds)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
