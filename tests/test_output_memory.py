"""What dating and writing a build hold beside its files: neither copies the feed whole
(tens of MB at 10,000 episodes), nor reads an old file into memory to compare it.

Counted with tracemalloc, relative to the data: no timing."""

from __future__ import annotations

import tracemalloc
from pathlib import Path, PurePosixPath

from entretiens import dates, layout, output, pipeline
from entretiens.output import content_bytes
from sampleshow import SAMPLE_NOW, copy_sample_show

_MB = 1024 * 1024


def _traced_peak(action: object) -> int:
    assert callable(action)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def test_dating_a_long_feed_copies_it_once_at_most(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert built.project is not None and layout.FEED in built.files
    feed = content_bytes(built.files[layout.FEED])
    # A long feed: 16 MB of padding after the channel's head, where items would be.
    cut = feed.index(b"<item>")
    padding = b"<!-- " + b"x" * (16 * _MB) + b" -->\n"
    long_feed = feed[:cut] + padding + feed[cut:]
    files = dict(built.files)
    files[layout.FEED] = long_feed
    del feed, padding
    later = SAMPLE_NOW.replace(year=SAMPLE_NOW.year + 1)
    project = built.project
    # The show changed since published.yaml was written (the padding): its date moves to now.
    peak = _traced_peak(lambda: dates.stamp(project.show, project.state, built.releases, files, later))
    dated = files[layout.FEED]
    assert isinstance(dated, bytes) and dated != long_feed and len(dated) == len(long_feed)
    assert dated.replace(b"Fri, 01 Jan 2027 00:00:00 +0000", b"") == long_feed.replace(
        b"Mon, 14 Mar 2011 09:00:00 +0100", b"", 1
    )
    # The new feed and small change; re.sub copied it twice more.
    assert peak < len(long_feed) + 2 * _MB, peak


def test_an_unchanged_large_file_is_compared_without_reading_it_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    big = bytes(range(256)) * (32 * 4096)  # 32 MiB
    files: dict[PurePosixPath, output.Content] = {PurePosixPath("feed.xml"): big, PurePosixPath("a.txt"): b"a"}
    output.write_tree(out, files)
    peak = _traced_peak(lambda: output.write_tree(out, files))
    assert peak < 2 * _MB, peak
    # A change at the very end is still seen.
    files[PurePosixPath("feed.xml")] = big[:-1] + b"!"
    report = output.write_tree(out, files)
    assert report.written == [PurePosixPath("feed.xml")]
    assert (out / "feed.xml").read_bytes() == files[PurePosixPath("feed.xml")]
