"""The show's own templates/ folder: what in it may be read, checked before anything is read.

Templates and assets are files a host may copy from anywhere, so they are input like the YAML:
a link leading out of the show (to /etc/passwd, ~/.ssh) is refused, as are special files and
assets too big to be a stylesheet, a script, a font or an image. An asset named like a file
entretiens generates (the cover thumbnail, the icon) replaces it, and the host is told.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from . import layout
from .errors import Problem
from .model import Show

TEMPLATES_DIR = "templates"
ASSETS_DIR = "assets"
#: The largest asset published: fonts and images weigh a few MB; a bigger file is a mistake.
MAX_ASSET_BYTES = 50 * 1024 * 1024
#: Generated files of assets/ that an asset of the same name replaces (the shipped stylesheet
#: and script are meant to be replaced, and are not listed; episode thumbnails are made after
#: the assets are copied and always win).
GENERATED_ASSETS = ("artwork.jpg", "icon.png")

_HINT_OUTSIDE = "copy the file into the show folder instead of linking to it"


def outside(root: Path, path: Path) -> bool:
    """Whether a path of the show's templates/ resolves outside the show folder ``root``."""
    try:
        return not path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return True


def assets(show: Show) -> tuple[dict[PurePosixPath, Path], list[Problem]]:
    """The files of ``templates/assets/`` that may be published, by their path in public/, and
    a problem for each that may not (never read: only their names and sizes are looked at)."""
    own = show.root / TEMPLATES_DIR / ASSETS_DIR
    found: dict[PurePosixPath, Path] = {}
    problems: list[Problem] = []
    if not own.is_dir() or outside(show.root, own):
        if (own.exists() or own.is_symlink()) and outside(show.root, own):
            problems.append(_refused(own, "leads outside the show folder", _HINT_OUTSIDE))
        return found, problems
    for folder, subfolders, names in os.walk(own, followlinks=False):
        base = Path(folder)
        for name in sorted(subfolders):
            path = base / name
            if path.is_symlink():
                # os.walk does not enter linked folders: say so rather than skip them silently.
                reason = "leads outside the show folder" if outside(show.root, path) else "is a link to a folder"
                problems.append(_refused(path, reason, _HINT_OUTSIDE))
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and not (base / name).is_symlink()
        )
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = base / name
            problem = _asset_problem(show, path)
            if problem:
                problems.append(problem)
                continue
            found[layout.ASSETS / PurePosixPath(path.relative_to(own).as_posix())] = path.resolve()
    return found, problems


def _asset_problem(show: Show, path: Path) -> Problem | None:
    if outside(show.root, path):
        return _refused(path, "leads outside the show folder", _HINT_OUTSIDE)
    try:
        stat = path.stat()
    except OSError as exc:
        return _refused(path, f"cannot be read: {exc.strerror}", "check the file")
    if not path.is_file():
        return _refused(path, "is not a regular file", "remove it from templates/assets/")
    if stat.st_size > MAX_ASSET_BYTES:
        return _refused(
            path,
            f"weighs {stat.st_size:,} bytes; assets are published up to {MAX_ASSET_BYTES:,}",
            "assets are stylesheets, scripts, fonts and images: publish big files another way",
        )
    return None


def _refused(path: Path, reason: str, hint: str) -> Problem:
    return Problem(rule="template-error", path=path, message=f"this file {reason}", hint=hint)


def template_problems(show: Show) -> list[Problem]:
    """Every problem of the show's templates/ found without rendering: assets that lead out of
    the show, special or oversized assets, and assets replacing a generated file (a warning).
    Templates themselves are checked as they are loaded (see :mod:`entretiens.templating`)."""
    folder = show.root / TEMPLATES_DIR
    problems: list[Problem] = []
    if not folder.is_dir() and not folder.is_symlink():
        return problems
    if outside(show.root, folder):
        return [_refused(folder, "leads outside the show folder", _HINT_OUTSIDE)]
    published, asset_problems = assets(show)
    problems += asset_problems
    for target in sorted(published):
        name = target.relative_to(layout.ASSETS).as_posix()
        if name in GENERATED_ASSETS:
            problems.append(
                Problem(
                    rule="template-asset-replaces",
                    path=folder / ASSETS_DIR / target.relative_to(layout.ASSETS).as_posix(),
                    message=f"this file replaces the {target} that entretiens makes from the artwork",
                    hint="remove it to publish the generated one, or keep it on purpose",
                )
            )
    return problems
