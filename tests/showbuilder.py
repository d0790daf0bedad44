"""Small show folders for tests: feed.yaml, episodes and real (generated) audio."""

from __future__ import annotations

from collections.abc import Mapping
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


def write_artwork(path: Path, size: int = 1400, mode: str = "RGB") -> Path:
    """A square artwork image (solid colour, small file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    colour: Any = (40, 90, 160) if mode == "RGB" else 128
    Image.new(mode, (size, size), colour).save(path)
    return path


def make_show(
    root: Path,
    episodes: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    show: Mapping[str, Any] | None = None,
    seconds: float = 3.0,
) -> Path:
    """Write a complete show folder.

    :param episodes: slug -> episode fields (default: two episodes). Every local ``audio``
        file named is generated as a real MP3 of ``seconds`` seconds (none when 0).
    """
    root.mkdir(parents=True, exist_ok=True)
    data = dict(SHOW)
    data.update(show or {})
    write_yaml(root / "feed.yaml", data)
    write_artwork(root / "artwork.png")
    if episodes is None:
        episodes = {"001-first": episode(1), "002-second": episode(2)}
    for slug, fields in episodes.items():
        write_yaml(root / "episodes" / f"{slug}.yaml", fields)
        audio = fields.get("audio")
        if seconds and isinstance(audio, str) and "://" not in audio and not (root / audio).exists():
            (root / audio).parent.mkdir(parents=True, exist_ok=True)
            write_mp3(root / audio, seconds=seconds, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1)
    return root


def tree(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under a folder with its inode, mtime and bytes, to prove it was not touched."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
