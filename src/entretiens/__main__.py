"""``python -m entretiens``."""

from entretiens.cli import cli

cli()
