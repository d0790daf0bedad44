"""``deploy``: put a built show where listeners fetch it, media first and the feed last.

A stage after ``commit``: it takes the built files and plain values, never the orchestrator.
:func:`prepare` reads the target and decides (the GUID gate, what changed, the order);
:func:`execute` uploads; :func:`pings.notify` tells the directories.
"""

from __future__ import annotations

from .plan import Options, Plan, Site, Upload, prepare
from .run import Outcome, Progress, execute
from .targets import FolderTarget, Target, parse_target

__all__ = [
    "FolderTarget",
    "Options",
    "Outcome",
    "Plan",
    "Progress",
    "Site",
    "Target",
    "Upload",
    "execute",
    "parse_target",
    "prepare",
]
