"""entretiens: publish an interview podcast from a folder of YAML files and audio."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
