"""The options several commands share, each defined once (its name, flags and type); each command words its help."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def show_option(function: F) -> F:
    """``--show DIR``: the show folder, default the current one."""
    return click.option(
        "--show",
        "show_dir",
        type=click.Path(path_type=Path, file_okay=False, exists=True),
        default=Path(),
        show_default="current folder",
        help="The show folder (holding feed.yaml).",
    )(function)


def output_option(help_text: str) -> Callable[[F], F]:
    """``-o/--output DIR``: where a command builds the show (``out_dir``, None for its default)."""
    return click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), help=help_text)


def strict_option(help_text: str) -> Callable[[F], F]:
    """``--strict``: warnings fail the command too."""
    return click.option("--strict", is_flag=True, help=help_text)


def quiet_option(help_text: str) -> Callable[[F], F]:
    """``-q/--quiet``: errors only."""
    return click.option("-q", "--quiet", is_flag=True, help=help_text)


def include_future_option(help_text: str) -> Callable[[F], F]:
    """``--include-future``: the episodes dated after now are out too."""
    return click.option("--include-future", is_flag=True, help=help_text)


def format_option(help_text: str) -> Callable[[F], F]:
    """``--format text|json``: what the command prints (``output_format``); json is for tools."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )
