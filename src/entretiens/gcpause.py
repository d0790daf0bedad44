"""Bulk reads of the show's caches without Python's cycle collector running over it again and again.

Reading a large show back from its caches makes hundreds of thousands of small containers
(the probe cache's JSON, each episode decoded from the parse cache). The cycle collector runs
every few hundred new containers and, as long-lived ones pile up, over the whole heap: at
10,000 episodes that was about 40 % of ``probe_each`` and 10 % of ``load_project``. What these
phases build holds no cycle (JSON values, frozen dataclasses), and reference counting frees it
by itself, so the collector is paused while they run and resumed after, when its next pass
catches any cycle made meanwhile. Never around code that starts processes: a forked worker
would inherit the pause.

The loaded show then lives as long as the build, and so does what each stage makes, and every
full pass of the collector during the build walked all of it again: at 10,000 episodes, 13
full passes took about 4 of an edit's 16 CPU seconds. A build :func:`hold` s what is alive
after each stage (the loaded show, the releases, the checks, the files): out of the
collector's passes (``gc.freeze``) until the build, or the publish around it, returns
(:func:`thawed`), when it is handed back, so that a process that builds again and again
(``serve``) frees what became garbage meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
#: Calls of :func:`thawed` functions running (any thread), and whether a :func:`hold` froze.
_running = 0
_frozen = False


@contextlib.contextmanager
def paused(*, hold: bool = False) -> Iterator[None]:
    """The cycle collector off for the ``with`` block, then as it was (a caller's pause holds).

    :param hold: :func:`hold` what is alive at the end of the block, before the collector is
        back (for a block whose results live as long as the build: the loaded show). Else the
        first new container after it starts a pass over every container the block made (all
        still in the youngest generation): ~45 ms after loading 10,000 episodes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if hold:
            _hold(enabled=True)
        gc.enable()


def thawed(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function``, after which what a :func:`hold` inside it froze is handed back to the collector."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        global _running, _frozen
        with _lock:
            _running += 1
        try:
            return function(*args, **kwargs)
        finally:
            with _lock:
                _running -= 1
                if not _running and _frozen:
                    _frozen = False
                    gc.unfreeze()

    return wrapper


def hold() -> None:
    """Every object alive now out of the collector's passes until the :func:`thawed` call ends;
    called again (after each stage of a build), those made since too.

    Nothing happens outside such a call, with the collector off, or when something else froze
    objects before the first hold (``gc.unfreeze`` would hand back theirs too).
    """
    _hold(enabled=gc.isenabled())


def _hold(*, enabled: bool) -> None:
    """:func:`hold`, ``enabled`` saying whether the collector is on (or only paused by us)."""
    global _frozen
    with _lock:
        if _running and enabled and (_frozen or gc.get_freeze_count() == 0):
            gc.freeze()
            _frozen = True
