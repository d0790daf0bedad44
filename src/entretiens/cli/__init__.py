"""The ``entretiens`` command line: thin commands over the library, the only code that imports click."""

from __future__ import annotations

from . import check as _check  # noqa: F401
from . import deploy as _deploy  # noqa: F401
from . import importer as _importer  # noqa: F401
from . import new as _new  # noqa: F401  (each module registers its commands)
from . import publish as _publish  # noqa: F401
from . import serve as _serve  # noqa: F401
from ._base import cli

__all__ = ["cli"]
