"""How every command shows problems and progress to people: one line per problem, one progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from click._termui_impl import ProgressBar

from ..errors import Problem

_ORDER = {"error": 0, "warning": 1, "info": 2}
_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}

#: A progress callback: (done, total, what is being worked on).
Progress = Callable[[int, int, str], None]


def color() -> bool | None:
    """Whether to colour output: None lets click decide (terminals only); False under NO_COLOR."""
    # click strips colours when stderr is not a terminal; NO_COLOR (no-color.org) is ours to honour.
    return False if os.environ.get("NO_COLOR") else None


def relative(path: Path | None, root: Path | None) -> str | None:
    """A problem's file as people name it: relative to the show folder when inside it."""
    if path is None:
        return None
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _file_rank(name: str | None) -> tuple[int, str]:
    """feed.yaml first, then the other YAML files, the other files, the built feed, and the show as a whole."""
    if name == "feed.yaml":
        return (0, "")
    if name is None:
        return (4, "")
    # Imported here: the checks (and every stage under them) are not needed to start the CLI.
    from ..checks import FEED_PATH

    if name == FEED_PATH.as_posix() or name.endswith("/" + FEED_PATH.name):
        return (3, name)
    return (1 if name.endswith((".yaml", ".yml")) else 2, name)


def problem_order(problem: Problem, root: Path | None) -> tuple[tuple[int, str], int, int, str]:
    """The order problems are shown in, by every command and in check's JSON: file, line, severity, rule."""
    return (_file_rank(relative(problem.path, root)), problem.line or 0, _ORDER[problem.severity], problem.rule)


def print_problems(problems: Sequence[Problem], root: Path | None, *, source: str | None = None) -> None:
    """Print problems on stderr, one line each: ``Error: file:line: field: message (hint) [rule]``.

    The one way every command shows a problem: ``file:line`` comes first so that editors and
    CI logs can jump to it, and the rule id last so that docs/rules.md can be searched for it.

    :param source: what to name as the file of problems that have none (a feed read from a URL).
    """
    colour = color()
    for problem in sorted(problems, key=lambda p: problem_order(p, root)):
        label = click.style(problem.severity.capitalize(), fg=_COLOURS[problem.severity], bold=True)
        click.echo(f"{label}: {problem_text(problem, root, source)} [{problem.rule}]", err=True, color=colour)


def problem_text(problem: Problem, root: Path | None, source: str | None = None) -> str:
    """``file:line: field: message (hint)``, the file named ``source`` when the problem has none."""
    text = problem.format(root)
    if problem.path is None and source:
        where = f"{source}:{problem.line}" if problem.line else source
        text = f"{where}: {text}"
    return text


@contextmanager
def progress_bar(label: str, *, enabled: bool, threshold: int = 0) -> Iterator[Progress | None]:
    """A progress callback drawing a bar on stderr, closed however the block ends.

    The bar opens at the first call, when there are at least ``threshold`` steps (below that
    the work is too quick for a bar to help), so that nothing is drawn for work that never starts.

    :param enabled: False (not a terminal, or --quiet) gives None: no callback at all.
    """
    if not enabled:
        yield None
        return
    bar: ProgressBar[int] | None = None
    shown = 0

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar, shown
        if total < threshold:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, color=color())
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
