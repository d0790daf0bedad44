"""``entretiens new`` and ``entretiens init``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ._base import cli, say, show_option, with_errors_reported


@cli.command("new")
@show_option
@click.argument("title")
@click.option("-g", "--guest", "guests", multiple=True, help="A guest's name (repeat for several).")
@click.option("--audio", help="The recording, relative to the show folder.  [default: audio/<slug>.mp3]")
@click.option(
    "--date",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Publication date, in the show's time zone.  [default: now]",
)
@with_errors_reported
def new_command(show_dir: Path, title: str, guests: tuple[str, ...], audio: str | None, date: datetime | None) -> None:
    """Start a new episode file with the next number, as a draft.

    \b
    Example:
        entretiens new "Entretien avec Jane Doe" --guest "Jane Doe" --audio audio/012.mp3
    """
    from ..scaffold import new_episode

    path = new_episode(show_dir, title=title, guests=guests, audio=audio, date=date)
    click.echo(str(path))
    say("Fill it in, set `draft: false`, then run `entretiens publish`.")


@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--title", default="My interviews", show_default=True, help="The show's title.")
@click.option("--language", default="en", show_default=True, help="ISO 639-1 language code.")
@with_errors_reported
def init_command(folder: Path, title: str, language: str) -> None:
    """Create a new show folder with a feed.yaml to fill in.

    \b
    Example:
        entretiens init my-show --title "Entretiens" --language fr
    """
    from ..scaffold import init_show

    path = init_show(folder, title=title, language=language)
    click.echo(str(path))
    say("Add your artwork and audio, edit feed.yaml, then create an episode with `entretiens new`.")
