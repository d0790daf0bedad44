"""New files for people to fill in: a show folder (``init``) and an episode (``new``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import EntretiensError, ProblemsError
from .layout import slugify
from .loading import EPISODES_DIR, FEED_FILE, load_project, yaml_files
from .model import Episode
from .yamlfile import YamlMap, YamlSyntaxError, read_yaml

_FEED_TEMPLATE = """\
# The show. Every field is described in the README of entretiens.
title: {title}
description: |
  What the show is about, in a few sentences (Markdown).
language: {language}
base_url: https://example.org/podcast/     # where public/ will be served (https)
timezone: UTC                              # for dates written without an offset
author: Your Name
owner:
  name: Your Name
  email: you@example.org                   # published in the feed; Apple writes to it
image: artwork.png                         # square JPEG or PNG, 1400 to 3000 px
categories:
  - Society & Culture: [Documentary]
explicit: false
hosts:
  - name: Your Name
tag_audio: true                            # title, artwork and chapters inside the published audio
"""

_EPISODE_TEMPLATE = """\
title: {title}
number: {number}
date: {date}
audio: {audio}
summary: One or two sentences about the interview.
notes: |
  The show notes, in Markdown.
guests:
{guests}
links: []
  # - {{title: A page cited during the interview, url: "https://example.org/"}}
chapters: []
  # - {{start: "00:00", title: Introduction}}
quote: ""
draft: true                                # set to false (or remove) to publish
"""


def init_show(folder: Path, *, title: str, language: str = "en") -> Path:
    """Create a show folder with a feed.yaml to fill in.

    :raises EntretiensError: the folder already holds a feed.yaml.
    """
    feed = folder / FEED_FILE
    if feed.exists():
        raise EntretiensError(f"{feed}: already exists; nothing was changed")
    for name in (EPISODES_DIR, "audio", "guests"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    feed.write_text(_FEED_TEMPLATE.format(title=_scalar(title), language=language), encoding="utf-8")
    return feed


def new_episode(
    show_dir: Path,
    *,
    title: str,
    guests: tuple[str, ...] = (),
    audio: str | None = None,
    date: datetime | None = None,
) -> Path:
    """Write ``episodes/<NNN>-<slug>.yaml`` for the next episode number, as a draft.

    :raises EntretiensError: no feed.yaml, or the file would overwrite another.
    """
    if not (show_dir / FEED_FILE).is_file():
        raise EntretiensError(f"{show_dir / FEED_FILE}: not found; run this in a show folder or give --show DIR")
    if date is None:
        # Now, in the show's time zone: the machine's local time read as the show's could land
        # in the future and leave the episode scheduled.
        date = datetime.now(_show_zone(show_dir)).replace(microsecond=0)
    number = _next_number(show_dir)
    slug = f"{number:03d}-{slugify(guests[0] if guests else title) or 'episode'}"
    path = show_dir / EPISODES_DIR / f"{slug}.yaml"
    if path.exists():
        raise EntretiensError(f"{path}: already exists; nothing was changed")
    guest_lines = "\n".join(f'  - name: {_scalar(name)}\n    bio: ""' for name in guests) or "  []"
    text = _EPISODE_TEMPLATE.format(
        title=_scalar(title),
        number=number,
        date=date.isoformat(timespec="seconds"),
        audio=_scalar(audio or f"audio/{slug}.mp3"),
        guests=guest_lines,
    )
    if not guests:
        text = text.replace("guests:\n  []", "guests: []")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _show_zone(show_dir: Path) -> ZoneInfo:
    try:
        data = read_yaml(show_dir / FEED_FILE)
        name = data.get("timezone", "UTC") if isinstance(data, YamlMap) else "UTC"
        return ZoneInfo(str(name))
    except (YamlSyntaxError, ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as exactly ``text``."""
    dumped = yaml.safe_dump(text, allow_unicode=True, default_style=None).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _next_number(show_dir: Path) -> int:
    """One more than the highest episode number, reading files even when the show has errors."""
    try:
        episodes: tuple[Episode, ...] = load_project(show_dir).episodes
        numbers = [e.number for e in episodes if e.number]
    except ProblemsError:
        numbers = []
        for path in yaml_files(show_dir / EPISODES_DIR, []):
            try:
                data = read_yaml(path)
            except YamlSyntaxError:
                continue
            number = data.get("number") if isinstance(data, YamlMap) else None
            if isinstance(number, int):
                numbers.append(number)
    return max(numbers, default=0) + 1
