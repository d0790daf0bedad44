"""``entretiens serve``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from entretiens.cli._base import cli, say, with_errors_reported
from entretiens.cli._options import include_future_option, output_option, show_option
from entretiens.cli._report import print_problems
from entretiens.errors import EntretiensError, ProblemsError

if TYPE_CHECKING:
    from entretiens.publish import PublishResult


@cli.command("serve")
@show_option
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    show_default="8000",
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--host",
    metavar="ADDRESS",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Give this machine's address on your network (e.g. 192.168.1.20) to "
    "subscribe to the preview from a phone; anyone on that network can then read it.",
)
@output_option("Build into this folder and keep it.  [default: a temporary folder]")
@include_future_option("Also show episodes dated in the future.")
@click.option("-v", "--verbose", is_flag=True, help="Print every request.")
@with_errors_reported
def serve_command(
    show_dir: Path, port: int | None, host: str, out_dir: Path | None, include_future: bool, verbose: bool
) -> None:
    """Preview the site and the feed on 127.0.0.1, rebuilt on every change.

    Builds the show as publish does (without pinning GUIDs in published.yaml), serves it on
    127.0.0.1 (or --host), and rebuilds when a YAML file, a template, an audio file or any
    other file of the show folder changes. The preview's feed and pages point at the preview
    (base_url is replaced by its address), so a podcast app can subscribe to it.

    \b
    Example:
        entretiens serve
        entretiens serve --show ~/shows/entretiens --port 8080
        entretiens serve --host 192.168.1.20
    """

    def built(result: PublishResult) -> None:
        if result.warnings:
            print_problems(result.warnings, result.project.show.root)
        report = result.report
        changed = len(report.written) + len(report.removed) if report else 0
        say(f"Rebuilt: {changed} file{'s' if changed != 1 else ''} changed.", fg="green")

    def failed(error: EntretiensError) -> None:
        if isinstance(error, ProblemsError):
            print_problems(error.problems, error.root)
        else:
            say(f"Error: {error}", fg="red", bold=True)
        say("The previous build is still served; fix the show and save again.", fg="yellow")

    from entretiens.serve import DEFAULT_PORT, Preview, is_loopback

    if not is_loopback(host):
        click.echo(
            f"Warning: serving on {host}: anyone who can reach this address can read the preview, "
            "unpublished episodes included. Use it on a network you trust.",
            err=True,
        )
    preview = Preview(
        show_dir, out_dir, port=DEFAULT_PORT if port is None else port, host=host, include_future=include_future,
        on_build=built, on_error=failed, log=(lambda line: say(line)) if verbose else None,
    )  # fmt: skip
    # Before the first build, so that a signal during it also removes the temporary folder.
    previous = _stop_on_terminate()
    try:
        result = preview.start()
    except KeyboardInterrupt:
        _restore(previous)
        say("Stopped.")
        return
    except BaseException:
        _restore(previous)
        raise
    try:
        if result.warnings:
            print_problems(result.warnings, result.project.show.root)
        count = len(result.releases)
        say(
            f"Serving {result.project.show.title} ({count} episode{'s' if count != 1 else ''}) at {preview.url}",
            bold=True,
        )
        say("Watching the show folder for changes. Press Ctrl+C to stop.")
        preview.wait()
    except KeyboardInterrupt:
        say("Stopped.")
    finally:
        preview.stop()
        _restore(previous)


Handlers = dict[int, "signal.Handlers | Callable[..., object] | int | None"]


def _stop_on_terminate() -> Handlers | None:
    """Make SIGTERM and SIGHUP (a closed terminal) stop the preview as Ctrl+C does, so that its
    temporary folder is removed."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous: Handlers = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, interrupt)
    return previous


def _restore(previous: Handlers | None) -> None:
    for number, handler in (previous or {}).items():
        if handler is not None:
            signal.signal(number, handler)
