"""Measure `entretiens import` on a generated feed of 2,000 items, against a floor measured in the same run.

Usage: python benchmarks/import_bench.py [--items 2000] [--keep DIR]

The feed looks like what hosts serve: every item with a GUID, an RFC 2822 date, an enclosure
with length and type, iTunes duration, season and number, HTML notes in CDATA ending with a list
of links, and a Podcasting 2.0 person. Each run is a fresh process:

- floor: lxml parsing the same feed and reading every item's text (the least an import costs);
- import: ``entretiens import FEED FOLDER --base-url ...`` (no audio is downloaded).

It prints the times, the ratio and the peak memory, and exits non-zero when the import takes
more than ``TARGET_RATIO`` times the floor (a ratio, so that a busier machine moves both sides).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

#: Import against parsing the same feed: conversion, HTML to Markdown and writing 2,000 files
#: (measured at 20-40 on a busy 2-core machine; a regression guard rather than a goal).
TARGET_RATIO = 80.0

_FLOOR = """
import sys
from lxml import etree
root = etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
total = 0
for item in root.iter("item"):
    total += sum(len(e.text or "") for e in item)
print(total)
"""


def write_feed(path: Path, items: int) -> None:
    """A podcast feed of ``items`` episodes, newest first."""
    start = datetime(2015, 1, 5, 7, 0, tzinfo=timezone(timedelta(hours=1)))
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        "<title>Bench Show</title><link>https://old.example.org/</link><language>en</language>"
        "<description><![CDATA[<p>A show with <b>many</b> episodes.</p>]]></description>"
        '<itunes:author>Bench</itunes:author><itunes:image href="https://old.example.org/c.jpg"/>'
        "<itunes:owner><itunes:name>Bench</itunes:name><itunes:email>b@example.org</itunes:email></itunes:owner>"
        '<itunes:category text="Technology"/><podcast:guid>917393e3-1b1e-5cef-ace4-edaa54e1f810</podcast:guid>'
    ]
    for n in range(items, 0, -1):
        date = format_datetime(start + timedelta(days=n))
        notes = (
            f"<p>Episode {n}: a conversation about <em>things</em> &amp; ideas, with a guest.</p>"
            "<p>" + "More words about the interview. " * 20 + "</p>"
            f'<ul><li><a href="https://example.org/{n}/a">Article {n}</a></li>'
            f'<li><a href="https://example.org/{n}/b">Book {n}</a></li></ul>'
        )
        parts.append(
            f'<item><title>Episode {n}: a title</title><guid isPermaLink="false">bench-{n}</guid>'
            f"<pubDate>{date}</pubDate><itunes:episode>{n}</itunes:episode>"
            f"<itunes:season>{1 + n // 100}</itunes:season>"
            f'<enclosure url="https://cdn.example.org/e/{n}.mp3" length="{20_000_000 + n}" type="audio/mpeg"/>'
            f"<itunes:duration>{1800 + n % 600}</itunes:duration>"
            f'<podcast:person role="guest" href="https://example.org/p/{n % 50}">Guest {n % 50}</podcast:person>'
            f"<description><![CDATA[{notes}]]></description></item>"
        )
    parts.append("</channel></rss>\n")
    path.write_text("".join(parts), encoding="utf-8")


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds of a command in a fresh process, and the peak memory (MiB) of the processes run so far."""
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="keep the feed and the imported folder here")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        feed = work / "feed.xml"
        write_feed(feed, args.items)
        floor, _ = timed([sys.executable, "-c", _FLOOR, str(feed)])
        folder = work / "show"
        shutil.rmtree(folder, ignore_errors=True)
        command = [sys.executable, "-m", "entretiens", "import", "-q", str(feed), str(folder)]
        took, peak = timed([*command, "--base-url", "https://new.example.org/"])
        episodes = len(list((folder / "episodes").glob("*.yaml")))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    ratio = took / floor
    size = f"{feed.stat().st_size / 1e6:.1f} MB" if args.keep else f"{args.items} items"
    print(f"feed: {size}; episodes written: {episodes}")
    print(f"floor (lxml parse + read): {floor:6.2f} s")
    print(f"import:                    {took:6.2f} s")
    print(f"import / floor:            {ratio:6.1f}    (target < {TARGET_RATIO:g})")
    print(f"peak memory:               {peak:6.0f} MiB")
    missed = episodes != args.items or ratio > TARGET_RATIO
    if missed:
        print("MISSED a target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
