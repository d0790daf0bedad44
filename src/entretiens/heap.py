"""Large buffers handed back to the system once freed, where the C library would keep them.

A build reads whole files of a few MB (the caches' stores and journals, the output's ledger)
and makes buffers of that size while it writes (the feed, at 10,000 episodes tens of MB). The
GNU C library serves a request above its threshold (128 KiB at first) with a mapping of its
own, unmapped when freed; but it then raises the threshold to the size of the buffer freed (up
to 32 MiB), so that the next such buffers come from the heap, where a freed one stays in the
process whenever a smaller block lives above it. At 10,000 episodes, an edit's peak held about
12 MiB of buffers already freed that way. The threshold fixed at its first value keeps every
large buffer in a mapping of its own: it goes back to the system the moment it is freed.

What the ``MALLOC_MMAP_THRESHOLD_`` variable of the environment does, made from inside: a host
who set a threshold of their own (or any of the library's variables) keeps it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import Final

#: glibc's ``M_MMAP_THRESHOLD`` option of ``mallopt``, and the threshold's first value.
M_MMAP_THRESHOLD: Final = -3
THRESHOLD: Final = 128 * 1024
#: The variables by which the library's thresholds are set from the environment, and the
#: tunables that set them through ``GLIBC_TUNABLES``.
_SET_BY_HOST: Final = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_TUNABLES: Final = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")


@functools.cache
def fix_threshold() -> bool:
    """Fix the C library's mapping threshold at :data:`THRESHOLD` for this process (and the
    workers it forks), once; whether it was. Nothing on another system or C library (musl, macOS:
    no such option), nor when the environment already sets the library's thresholds."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if (
        not sys.platform.startswith("linux")
        or any(name in os.environ for name in _SET_BY_HOST)
        or any(name in tunables for name in _TUNABLES)
    ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # glibc answers 1 once the option is taken; a C library that knows it not answers 0.
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
