"""feed_limit: the newest episodes in feed.xml, the older ones in RFC 5005 archive pages.

Real parsers read every page (feedparser, gPodder's podcastparser), and the pages are walked
the way an RFC 5005 client does it: from feed.xml along ``prev-archive`` until there is none.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from lxml import etree

from entretiens import checks, layout, publish
from entretiens.content import content_bytes
from entretiens.errors import ConfigError
from entretiens.podcast_spec import ATOM_NS, FEED_HISTORY_NS
from podcast_clients import parse_with_feedparser, parse_with_podcastparser
from showbuilder import BASE_URL, episode, make_show

FEED_URL = BASE_URL + "feed.xml"


def _show(root: Path, count: int, **show: object) -> Path:
    episodes = {f"{n:03d}-guest": episode(n) for n in range(1, count + 1)}
    return make_show(root, episodes, show=show, seconds=1)


def _documents(root: Path) -> dict[PurePosixPath, bytes]:
    # The feed documents are handed on as files of the build (see feedfile): read while it is held.
    with publish.publish(root, root / "public", dry_run=True, hold=True) as result:
        return {path: content_bytes(data) for path, data in result.files.items() if path.suffix == ".xml"}


def _links(document: bytes) -> dict[str, str]:
    channel = etree.fromstring(document).find("channel")
    assert channel is not None
    return {str(link.get("rel")): str(link.get("href")) for link in channel.findall(f"{{{ATOM_NS}}}link")}


def _is_archive(document: bytes) -> bool:
    return etree.fromstring(document).find(f"channel/{{{FEED_HISTORY_NS}}}archive") is not None


def _path_of(url: str) -> PurePosixPath:
    assert url.startswith(BASE_URL), url
    return PurePosixPath(url.removeprefix(BASE_URL))


def test_a_capped_feed_keeps_the_newest_episodes_and_archives_the_rest(tmp_path: Path) -> None:
    root = _show(tmp_path / "show", 7, feed_limit=3)
    documents = _documents(root)
    current = parse_with_feedparser(documents[layout.FEED])
    assert [entry.title for entry in current.entries] == ["Conversation 7", "Conversation 6", "Conversation 5"]
    assert not _is_archive(documents[layout.FEED])

    # An RFC 5005 client: from the subscription document along prev-archive, every page an
    # archive that points back to the current feed, until every episode has been seen.
    seen: dict[str, str] = {entry.id: entry.title for entry in current.entries}
    url = _links(documents[layout.FEED]).get("prev-archive")
    visited = []
    while url is not None:
        page = documents[_path_of(url)]
        visited.append(_path_of(url))
        links = _links(page)
        assert _is_archive(page)
        assert links["current"] == FEED_URL
        assert links["self"] == url
        for entry in parse_with_feedparser(page).entries:
            seen.setdefault(entry.id, entry.title)
        gpodder = parse_with_podcastparser(page, url)
        assert len(gpodder["episodes"]) == 3
        assert all(str(e["enclosures"][0]["url"]).startswith(BASE_URL + "audio/") for e in gpodder["episodes"])
        url = links.get("prev-archive")
    assert visited == [layout.feed_archive(2), layout.feed_archive(1)]
    assert sorted(seen.values()) == sorted(f"Conversation {n}" for n in range(1, 8))
    assert _links(documents[layout.feed_archive(1)])["next-archive"] == BASE_URL + "feed-archive/2.xml"
    assert "next-archive" not in _links(documents[layout.feed_archive(2)])
    # No stylesheet unless the show asks; then the pages use the one at the top of the site.
    assert b"xml-stylesheet" not in documents[layout.feed_archive(1)]
    styled = _documents(_show(tmp_path / "styled", 7, feed_limit=3, feed_stylesheet=True))
    assert b'href="../feed.xsl"' in styled[layout.feed_archive(1)]
    assert b'href="feed.xsl"' in styled[layout.FEED]


def _guids(document: bytes) -> list[str]:
    return [entry.id for entry in parse_with_feedparser(document).entries]


def test_archive_pages_keep_their_episodes_as_the_show_grows(tmp_path: Path) -> None:
    root = _show(tmp_path / "show", 7, feed_limit=3)
    before = _documents(root)
    after = _documents(_show(root, 8, feed_limit=3))
    assert after[layout.feed_archive(1)] == before[layout.feed_archive(1)]
    assert after[layout.feed_archive(2)] == before[layout.feed_archive(2)]
    assert layout.feed_archive(3) not in after
    # A third page appears once three more episodes are out of feed.xml: the second keeps its
    # episodes and gains the link to the third (RFC 5005 fixes an archive's entries, not links).
    grown = _documents(_show(root, 10, feed_limit=3))
    assert grown[layout.feed_archive(1)] == before[layout.feed_archive(1)]
    assert _guids(grown[layout.feed_archive(2)]) == _guids(before[layout.feed_archive(2)])
    assert _links(grown[layout.feed_archive(2)])["next-archive"] == BASE_URL + "feed-archive/3.xml"
    assert _links(grown[layout.FEED])["prev-archive"] == BASE_URL + "feed-archive/3.xml"


def test_without_a_cap_or_under_it_there_are_no_archives(tmp_path: Path) -> None:
    for limit in (None, 5):
        root = _show(tmp_path / f"show-{limit}", 5, **({"feed_limit": limit} if limit else {}))
        documents = _documents(root)
        assert not [path for path in documents if path.parts[0] == layout.FEED_ARCHIVE.name]
        assert FEED_HISTORY_NS.encode() not in documents[layout.FEED]


@pytest.mark.parametrize("value", [0, -3, "ten", 2.5])
def test_a_wrong_feed_limit_is_a_located_error(tmp_path: Path, value: object) -> None:
    root = _show(tmp_path / "show", 2, feed_limit=value)
    with pytest.raises(ConfigError) as raised:
        publish.publish(root, root / "public", dry_run=True)
    problem = raised.value.problems[0]
    assert (problem.path, problem.field) == (root / "feed.yaml", "feed_limit")
    assert problem.line is not None


def test_a_heavy_feed_is_told_how_to_cap_it(tmp_path: Path) -> None:
    problems = checks.feed_problems(2 * checks.FEED_SIZE_LIMIT, 100, path=tmp_path / "feed.xml")
    assert [p.rule for p in problems] == ["feed-size"]
    # Half the episodes fit under the limit; a tenth less leaves room to grow.
    assert "`feed_limit: 45`" in str(problems[0].hint)
