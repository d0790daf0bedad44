"""Which files of a show folder are read, and which files a show may name.

Kept apart because every other part of loading leans on it and because it is the show's
safety boundary: a FIFO, a symlink loop or a link out of the show must never be read, and a
link must never smuggle a private file (a guest's e-mail in ``guests/x.yaml``) into public/.
It also holds the quick paths (one ``lstat`` per part) that spare resolving every media file
and every episode file of a large show on each rebuild, next to the long ways they shortcut.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import Problem
from ..fieldreader import FieldReader
from ..output import child
from ..podcast_spec import ARTWORK_FORMATS
from ..yamlfile import YamlMap, YamlSyntaxError, read_yaml

#: Reads one YAML file as :func:`~entretiens.yamlfile.read_yaml` does (from the parse cache, or not).
Reader = Callable[[Path], object]


FEED_FILE = "feed.yaml"


EPISODES_DIR = "episodes"


GUESTS_DIR = "guests"


def yaml_files(folder: Path, problems: list[Problem], *, stats: dict[str, os.stat_result] | None = None) -> list[Path]:
    """The YAML files of a folder, in name order.

    Hidden files are an editor's (Emacs lock files, swap files), not the show's; a `.yml`
    file is an error rather than silently ignored, and so is a `.yaml` name that cannot be
    read safely (a FIFO, a symlink loop, a link out of the show) and an unreadable folder.

    :param stats: filled with the status of each file found a plain regular file (taken
        before it is read), by its name, so that the parse cache need not take it again.
    """
    try:
        with os.scandir(folder) as scan:
            # One folder: name order is the paths' order.
            listed = sorted(scan, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(
            Problem(
                rule="invalid-path",
                path=folder,
                message=f"the folder cannot be read ({exc.strerror})",
                hint="give yourself the right to read it (chmod u+rx)",
            )
        )
        return []
    found = []
    inside: bool | None = None
    for entry in listed:
        name = entry.name
        if name.startswith("."):
            continue
        # A show lists thousands of episodes: each path is made as a child of the folder's,
        # never parsed whole, and keyed by name (a Path's hash costs more than making it).
        if name.endswith(".yaml"):
            path = child(folder, name)
            if inside is None:
                real_folder, real_root = folder.resolve(), folder.parent.resolve()
                inside = real_root == real_folder or real_root in real_folder.parents
            if inside and (status := _plain_entry(entry)) is not None:
                found.append(path)
                if stats is not None:
                    stats[name] = status
            elif (why := unsafe_file(path, folder.parent)) is not None:
                problems.append(unsafe_problem(path, why))
            else:
                found.append(path)
        elif (path := folder / name).suffix.lower() in (".yml", ".yaml") and path.is_file():
            problems.append(
                Problem(
                    rule="file-extension",
                    path=path,
                    message="this file is not read: show files end in .yaml",
                    hint=f"rename it to {path.stem}.yaml",
                )
            )
    return found


def _plain_entry(entry: os.DirEntry[str]) -> os.stat_result | None:
    """The status of a folder's entry that is a regular file and no link (else None): then, in a
    folder inside the show, :func:`unsafe_file` finds nothing to say, without resolving the path
    part by part."""
    try:
        if entry.is_symlink():
            return None
        status = os.stat(entry.path)
    except OSError:
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def unsafe_file(path: Path, root: Path) -> str | None:
    """Why a show file may not be read or published, or None: it must be a regular file inside the show.

    A FIFO would hang the reader; a symlink loop would raise; a link out of the show would
    publish (or echo in an error message) a file that is not the show's.
    """
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        return "is a symbolic link to nothing" if path.is_symlink() else "does not exist"
    except (OSError, RuntimeError):
        return "is a symbolic link loop"
    return _unsafe_target(resolved, root.resolve())


def _unsafe_target(resolved: Path, real_root: Path) -> str | None:
    """:func:`unsafe_file` for a file whose real path is already known (``resolved``), in the
    show folder ``real_root`` (resolved too)."""
    if real_root not in resolved.parents:
        return "is a symbolic link to a file outside the show folder"
    try:
        mode = resolved.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, a FIFO or a device)"
    return None


def unsafe_problem(path: Path, why: str, *, field: str | None = None, line: int | None = None) -> Problem:
    return Problem(
        rule="invalid-path",
        path=path,
        line=line,
        field=field,
        message=f"this file {why}, so it is not read",
        hint="make it a plain file inside the show folder",
    )


def read_mapping(path: Path, problems: list[Problem], read: Reader = read_yaml) -> YamlMap | None:
    try:
        data = read(path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    if isinstance(data, YamlMap):
        return data
    problems.append(
        Problem(
            rule="field-type",
            path=path,
            line=1,
            message="the file must be a mapping of `key: value` lines",
            hint="see the format in the README",
        )
    )
    return None


def image_file(reader: FieldReader, data: YamlMap, key: str, prefix: str, *, required: bool = False) -> str | None:
    text = reader.text(data, key, prefix, required=required)
    if not text:
        return None
    line = reader.line(data, key)
    if "://" in text:
        return reader.check_url(text, prefix + key, line)
    if Path(text).suffix.lower() not in ARTWORK_FORMATS:
        reader.error(
            "artwork-format",
            prefix + key,
            line,
            f"'{text}' is not a .jpg, .jpeg or .png file",
            "Apple Podcasts accepts JPEG and PNG artwork only",
        )
        return None
    return show_file(reader, text, prefix + key, line)


#: Files of the show that are never published, whatever links to them: people's contact
#: details and notes (guests/*.yaml), the show's own records, the caches.
_PRIVATE_SUFFIXES = frozenset({".yaml", ".yml"})


_PRIVATE_FOLDERS = frozenset({".entretiens", ".git"})


def show_file(reader: FieldReader, text: str, field: str, line: int | None) -> str | None:
    """A file of the show folder, which must exist, stay inside it and be what its name says.

    Everything named here is copied into public/: a symlink must not smuggle in a private
    file (a photo linked to ``guests/x.yaml`` would publish an e-mail address and a phone).
    """
    root = show_root(reader.path)
    if plain_media(root, text):
        if reader.named is not None:
            reader.named.append(text)
        return text
    if reader.named is not None:
        reader.named.append(None)
    named = root / text
    if not named.exists() and not named.is_symlink():
        reader.error(
            "missing-file", field, line, f"file '{text}' not found in the show folder", "check the path and its case"
        )
        return None
    try:
        target = named.resolve(strict=True)
    except (OSError, RuntimeError):
        target = None
    if target is None or root not in target.parents:
        where = "is a broken symbolic link or a loop" if target is None else "is outside the show folder"
        reader.error("invalid-path", field, line, f"'{text}' {where}", "keep media in the show folder, as plain files")
        return None
    # With the real path found above: every media file was resolved twice (one lstat per part).
    if (why := _unsafe_target(target, root.resolve())) is not None:
        reader.error("invalid-path", field, line, f"'{text}' {why}", "keep media in the show folder, as plain files")
        return None
    relative = target.relative_to(root)
    if target.suffix.lower() != named.suffix.lower():
        reader.error(
            "invalid-path",
            field,
            line,
            f"'{text}' links to {relative.as_posix()}, which is not a {named.suffix or 'such'} file",
            "link to the file itself, or copy it here",
        )
        return None
    if target.suffix.lower() in _PRIVATE_SUFFIXES or _PRIVATE_FOLDERS & set(relative.parts):
        reader.error(
            "invalid-path", field, line, f"'{text}' is a private file of the show, never published", "name a media file"
        )
        return None
    return relative.as_posix()


#: How many files of one folder a load looks at one by one before it lists the folder.
LIST_AFTER = 16


def plain_media(
    root: Path, text: str, seen: dict[str, bool] | None = None, asked: dict[str, int] | None = None
) -> bool:
    """Whether :func:`show_file` would take ``text`` as it is, known from one ``lstat`` per part.

    True when it names, by plain parts (no empty part, ``.`` or ``..``), a regular file under
    real folders, none of them a link, and nothing private: then the file is its own real path.
    Anything else goes the long way, which says what is wrong. ``root`` is real (the loader
    resolves it).

    :param seen: what one load found already, by path (files and folders): each is checked
        once a load, not once per episode that names it (``audio/`` for every episode).
    :param asked: with ``seen``, how many files of each folder were looked at: a folder whose
        files are asked for more than :data:`LIST_AFTER` times is listed once (its entries'
        types come with the listing), and its plain files go into ``seen``: then the files of
        ``audio/`` cost no ``lstat`` each. A name the listing does not hold is looked at alone.
    """
    # What a load found already, before the checks below: only a name that passed them is kept
    # (a listing keeps only such names too). A name taken here is relative: it never meets the
    # folders' keys, which are absolute.
    if seen is not None and text[:1] != "/" and (known := seen.get(text)) is not None:
        return known
    parts = text.split("/")
    if not _plain_name(text) or any(part in ("", ".", "..") or part in _PRIVATE_FOLDERS for part in parts):
        return False
    path = str(root)
    try:
        for part in parts[:-1]:
            path = f"{path}/{part}"
            folder = seen.get(path) if seen is not None else None
            if folder is None:
                folder = stat.S_ISDIR(os.lstat(path).st_mode)
                if seen is not None:
                    seen[path] = folder
            if not folder:
                return False
        if seen is not None and asked is not None and (count := asked.get(path, 0)) <= LIST_AFTER:
            asked[path] = count + 1
            if count == LIST_AFTER:
                _list_folder(path, text[: len(text) - len(parts[-1])], seen)
                if seen.get(text):
                    return True
        plain = stat.S_ISREG(os.lstat(f"{path}/{parts[-1]}").st_mode)
    except (OSError, ValueError):
        return False
    if seen is not None:
        seen[text] = plain
    return plain


def _list_folder(path: str, prefix: str, seen: dict[str, bool]) -> None:
    """Put in ``seen`` each plain file (regular, no link) of the real folder ``path`` as
    ``prefix + name`` (``prefix``: the folder as the show names it, ``audio/``). The listing
    gives each entry's type without an ``lstat`` (where the file system does not, the entry
    takes one)."""
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name
            if entry.is_file(follow_symlinks=False) and _plain_name(name) and name not in _PRIVATE_FOLDERS:
                seen[prefix + name] = True


def _plain_name(text: str) -> bool:
    """Whether a name may be a media file's: not a show file (YAML: private)."""
    return not text.lower().endswith((".yaml", ".yml"))


def show_root(path: Path) -> Path:
    """The show folder of one of its YAML files: feed.yaml sits in it, episodes and guests one level down."""
    return path.parent if path.name == FEED_FILE else path.parent.parent
