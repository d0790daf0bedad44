"""Show folders for tests, built by one builder (`make_show`): feed.yaml, episodes, artwork and real audio."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from audiogen import write_mp3

BASE_URL = "https://podcast.example.org/show/"

SHOW: dict[str, Any] = {
    "title": "Test Talks",
    "description": "Interviews used by the **tests**.",
    "language": "en",
    "base_url": BASE_URL,
    "timezone": "Europe/Paris",
    "author": "Alex Host",
    "owner": {"name": "Alex Host", "email": "alex@example.org"},
    "image": "artwork.png",
    "categories": [{"Business": ["Marketing"]}, "Technology"],
    "hosts": [{"name": "Alex Host"}],
}


def episode(index: int, **fields: Any) -> dict[str, Any]:
    """The YAML fields of episode number ``index``; audio ``audio/<index>.mp3`` unless given."""
    data: dict[str, Any] = {
        "title": f"Conversation {index}",
        "number": index,
        "season": 1,
        "date": f"2024-03-{index:02d}T10:00:00+01:00",
        "audio": f"audio/{index:03d}.mp3",
        "summary": f"Summary of conversation {index}.",
        "guests": [{"name": f"Guest {index}", "bio": f"Bio of guest {index}."}],
    }
    data.update(fields)
    return data


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    """Write a mapping as YAML (UTF-8, key order kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


#: Solid colours of the generated artwork, per image mode.
_COLOURS: dict[str, Any] = {"RGB": (40, 90, 160), "RGBA": (40, 90, 160, 128), "CMYK": (0, 50, 80, 10)}


def write_artwork(
    path: Path,
    size: int | tuple[int, int] = 1400,
    mode: str = "RGB",
    *,
    image_format: str | None = None,
    noisy_rows: int = 0,
) -> Path:
    """An image file of one colour (square when ``size`` is one number), small unless asked.

    :param image_format: Pillow's format name; by default the file name's extension decides.
    :param noisy_rows: rows of random pixels at the top, about 4 KB each in a PNG, to make a
        file heavy on purpose.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = (size, size) if isinstance(size, int) else size
    image = Image.new(mode, (width, height), _COLOURS.get(mode, 128))
    if noisy_rows:
        rng = random.Random(7)  # noqa: S311 - test pixels, not secrets
        strip = Image.frombytes("RGB", (width, noisy_rows), rng.randbytes(width * noisy_rows * 3))
        image.paste(strip.convert(mode), (0, 0))
    image.save(path, format=image_format)
    return path


#: The audio every generated episode gets unless told otherwise: small and quick to write.
SMALL_MP3: dict[str, Any] = {"bitrate": 32, "sample_rate": 22050, "mpeg_version": 2, "channels": 1}


def make_show(
    root: Path,
    episodes: Mapping[str, Mapping[str, Any] | str] | None = None,
    *,
    show: Mapping[str, Any] | str | None = None,
    seconds: float = 3.0,
    audio: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete show folder: the one show builder of the tests.

    :param episodes: slug -> episode fields, or the episode file's YAML text as is (for tests
        that point at a line); default: two episodes. Every local ``audio`` file named is
        generated as a real MP3 of ``seconds`` seconds (none when 0).
    :param show: fields that change `SHOW`, or the whole feed.yaml text as is.
    :param audio: `write_mp3` arguments for the generated audio (default `SMALL_MP3`).
    """
    root.mkdir(parents=True, exist_ok=True)
    if isinstance(show, str):
        (root / "feed.yaml").write_text(show, encoding="utf-8")
    else:
        write_yaml(root / "feed.yaml", {**SHOW, **(show or {})})
    write_artwork(root / "artwork.png")
    if episodes is None:
        episodes = {"001-first": episode(1), "002-second": episode(2)}
    for slug, fields in episodes.items():
        path = root / "episodes" / f"{slug}.yaml"
        if isinstance(fields, str):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(fields, encoding="utf-8")
            fields = yaml.safe_load(fields)
        else:
            write_yaml(path, fields)
        named = fields.get("audio")
        if seconds and isinstance(named, str) and "://" not in named and not (root / named).exists():
            (root / named).parent.mkdir(parents=True, exist_ok=True)
            write_mp3(root / named, seconds=seconds, **(SMALL_MP3 if audio is None else audio))
    return root


def tree(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under a folder with its inode, mtime and bytes, to prove it was not touched."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def publish_in_fresh_interpreter(root: Path, watched: Iterable[str], *args: str) -> tuple[list[str], str]:
    """Run ``entretiens publish --show root *args`` in a new interpreter, as a user runs it: the
    modules of ``watched`` it imported (sorted), and everything it printed."""
    code = (
        "import sys; from entretiens.cli import cli\n"
        f"try: cli(['publish', '--show', {str(root)!r}, *{list(args)!r}])\n"
        "except SystemExit as exit: assert not exit.code, exit.code\n"
        f"print(sorted(set(sys.modules) & {set(watched)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = list(eval(done.stdout.splitlines()[-1]))  # noqa: S307 - our own print of a list of names
    return imported, done.stdout + done.stderr


def rewrite_keeping_mtime(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Write ``change(bytes)`` (same length) into ``path`` in place and put its mtime back: the
    size, mtime and inode stay, only the ctime moves (a tag editor keeping the file's date)."""
    before = path.stat()
    data = path.read_bytes()
    new = change(data)
    assert len(new) == len(data) and new != data
    with path.open("r+b") as stream:
        stream.write(new)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
