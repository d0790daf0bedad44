"""The command group and what every command shares: options, messages, error reporting."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from .. import __version__
from ..errors import EXIT_PROBLEMS, EntretiensError, ProblemsError, StrictError
from ._options import show_option
from ._report import color, print_problems

__all__ = ["cli", "color", "errors_reported", "length_for_people", "say", "show_option", "with_errors_reported"]

F = TypeVar("F", bound=Callable[..., object])

EPILOG = "Exit status: 0 done (warnings may have been printed), 1 problems found or publishing failed, 2 bad usage."


def say(message: str = "", *, fg: str | None = None, bold: bool = False) -> None:
    """A line for people, on stderr."""
    click.echo(click.style(message, fg=fg, bold=bold) if (fg or bold) else message, err=True, color=color())


def length_for_people(seconds: float) -> str:
    """A total length in the summary lines: "5 min 54 s", "2 h 05 min"."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@contextmanager
def errors_reported() -> Iterator[None]:
    """Turn our errors into one clear message and exit status 1; anything else is a bug and shows a traceback."""
    try:
        yield
    except ProblemsError as exc:
        print_problems(exc.problems, exc.root)
        if isinstance(exc, StrictError):
            say(f"{exc}: nothing was published.", fg="red", bold=True)
        else:
            errors = sum(1 for p in exc.problems if p.severity == "error")
            say(f"{errors} error{'s' if errors != 1 else ''}: nothing was published.", fg="red", bold=True)
        sys.exit(EXIT_PROBLEMS)
    except EntretiensError as exc:
        click.echo(click.style("Error: ", fg="red", bold=True) + str(exc), err=True, color=color())
        sys.exit(EXIT_PROBLEMS)


def with_errors_reported(function: F) -> F:
    """Decorator form of :func:`errors_reported`."""

    @functools.wraps(function)
    def wrapper(*args: object, **kwargs: object) -> object:
        with errors_reported():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, package_name="entretiens", prog_name="entretiens")
def cli() -> None:
    """Publish an interview podcast: a folder of YAML and audio becomes a feed and a website."""
