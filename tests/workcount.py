"""Count the work one ``entretiens`` command does, in a fresh process as a user runs it.

Used by tests/test_scaling.py: ``python tests/workcount.py FOLDER ARG...`` runs ``entretiens
ARG...`` and prints, as the last line of its output, one JSON object of work units:

- ``calls``: Python and C function calls (the finest unit; fixed costs included);
- ``yaml documents``, ``markdown parses``, ``template renders``: how many times the YAML
  loader, Markdown parser and Jinja2 template renderer were started, whichever module of
  entretiens starts them (the per-episode stages: loading, notes, pages);
- ``files read``, ``files written``: files opened under FOLDER (the show and its output);
- ``bytes read``, ``bytes written``: what the process read and wrote (Linux's /proc/self/io);
- ``processes``: processes started, whose own work is not counted here.

The process is given one core (its CPU affinity, and ``os.cpu_count``), so that the pools that
share a large build among the cores keep its work in this process, where it is counted: work
done by workers would make a larger show look cheaper than a smaller one made in one process.

A fresh process, not a call in the test's own process: what the command caches in memory for
the rest of a process's life (an LRU of rendered notes, compiled templates) must not make a
second build look cheaper than it is for a user. The modules are imported before counting
starts, so that their one-off import work does not blur the growth being measured.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

UNITS = (
    "calls",
    "yaml documents",
    "markdown parses",
    "template renders",
    "files read",
    "files written",
    "bytes read",
    "bytes written",
    "processes",
)
_IO = Path("/proc/self/io")
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_STARTS = frozenset({"os.fork", "os.posix_spawn", "os.exec", "subprocess.Popen"})


def _library_codes() -> dict[CodeType, str]:
    """The code objects whose every call is one unit of library work."""
    import jinja2
    import markdown_it
    import yaml

    codes: dict[CodeType, str] = {}
    # Every loader's constructor: one call per YAML stream, whichever loader class is used.
    for name in dir(yaml):
        loader = getattr(yaml, name)
        code = getattr(getattr(loader, "__init__", None), "__code__", None)
        if name.endswith("Loader") and isinstance(loader, type) and code is not None:
            codes[code] = "yaml documents"
    # render() calls parse(): parse alone counts each Markdown text once.
    codes[markdown_it.MarkdownIt.parse.__code__] = "markdown parses"
    # render() and generate() both start with new_context(), called once per template run (an
    # included template is one more); generate() itself is a generator, called at each resume.
    codes[jinja2.Template.new_context.__code__] = "template renders"
    return codes


def _io() -> tuple[int, int]:
    """Bytes read and written by this process so far (0, 0 where the kernel does not say)."""
    try:
        fields = dict(line.split(": ") for line in _IO.read_text().splitlines())
    except OSError:
        return 0, 0
    return int(fields["rchar"]), int(fields["wchar"])


def count(folder: Path, args: list[str]) -> tuple[int, dict[str, int]]:
    """Run ``entretiens args`` here, counting its work; its exit code and the counts."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.cpu_count = lambda: 1
    for module in ("entretiens.pipeline", "entretiens.publish"):  # before counting: see the docstring
        importlib.import_module(module)
    from entretiens.cli import cli

    codes = _library_codes()
    counts = dict.fromkeys(UNITS, 0)
    prefix = str(folder.resolve()) + os.sep
    active = False

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            counts["calls"] += 1
            unit = codes.get(frame.f_code)
            if unit is not None:
                counts[unit] += 1
        elif event == "c_call":
            counts["calls"] += 1

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if not active:
            return
        if event in _STARTS:
            counts["processes"] += 1
        elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            if not os.path.abspath(os.fsdecode(args[0])).startswith(prefix):
                return
            mode, flags = args[1], args[2]
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & _WRITING)
            counts["files written" if writing else "files read"] += 1

    sys.addaudithook(audit)
    read_before, written_before = _io()
    active = True
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        cli.main(args, prog_name="entretiens")
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        active = False
    read_after, written_after = _io()
    counts["bytes read"] = read_after - read_before
    counts["bytes written"] = written_after - written_before
    return status, counts


if __name__ == "__main__":
    code, found = count(Path(sys.argv[1]), sys.argv[2:])
    print(json.dumps({"status": code, **found}))
