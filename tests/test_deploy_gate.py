"""The GUID gate's comparison and its hardened reading of feeds that come from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from entretiens.deploy import gate, headers
from entretiens.errors import DeployError

BASE = "https://example.org/show/"


def _feed(items: str, *, podcast_guid: str = "aaaaaaaa-aaaa-5aaa-8aaa-aaaaaaaaaaaa", doctype: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>T</title><link>{BASE}</link><description>D</description>
<atom:link rel="self" href="{BASE}feed.xml"/><podcast:guid>{podcast_guid}</podcast:guid>
{items}</channel></rss>""".encode()


def _item(guid: str, slug: str, audio: str | None = None) -> str:
    return (
        f"<item><title>{slug}</title><guid isPermaLink='false'>{guid}</guid><link>{BASE}{slug}/</link>"
        f"<enclosure url='{BASE}audio/{audio or slug}.mp3' length='10' type='audio/mpeg'/></item>"
    )


def test_same_feed_passes() -> None:
    live = gate.read_feed(_feed(_item("g1", "one") + _item("g2", "two")), "live")
    assert gate.compare(live, live, slugs={}, base_url=BASE).refusals == ()


def test_each_kind_of_break_is_named() -> None:
    live = gate.read_feed(_feed(_item("g1", "one") + _item("g2", "two") + _item("g3", "three")), "live")
    new = gate.read_feed(
        _feed(
            _item("g1", "one", audio="one-v2") + _item("g2-new", "two"),
            podcast_guid="bbbbbbbb-bbbb-5bbb-8bbb-bbbbbbbbbbbb",
        ),
        "new",
    )
    refusals = gate.compare(live, new, slugs={"g3": "three"}, base_url=BASE).refusals
    assert len(refusals) == 4
    assert refusals[0].startswith("the show's podcast:guid would change from aaaaaaaa")
    assert refusals[1] == (
        f"episode 'one' (one): its enclosure URL would change from {BASE}audio/one.mp3 to {BASE}audio/one-v2.mp3"
    )
    assert refusals[2].startswith("episode 'two' (two): its GUID would change from g2 to g2-new")
    assert refusals[3] == (
        "episode 'three' (three) is live and would disappear from the feed "
        "(to remove it on purpose: --allow-removal three)"
    )
    allowed = gate.compare(live, new, slugs={"g3": "three"}, base_url=BASE, allow_removal={"three"}).refusals
    assert len(allowed) == 3


def test_entities_from_elsewhere_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doctype = f'<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>'
    items = "<item><title>&leak;</title><guid>g1</guid></item>"
    facts = gate.read_feed(_feed(items, doctype=doctype), "live")
    assert "TOP-SECRET" not in repr(facts)


def test_entity_expansion_bomb_is_not_expanded() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 9)]
    doctype = f"<!DOCTYPE rss [{''.join(levels)}]>"
    items = "<item><title>&l8;</title><guid>g1</guid></item>"
    try:
        facts = gate.read_feed(_feed(items, doctype=doctype), "live")
    except DeployError:
        return  # refused outright: as good
    assert len(facts.items["g1"].title) < 1000


def test_not_a_feed_is_a_clear_error() -> None:
    with pytest.raises(DeployError, match=r"^live: not a well-formed feed"):
        gate.read_feed(b"<html><body>Oops", "live")
    with pytest.raises(DeployError, match=r"^live: not an RSS feed"):
        gate.read_feed(b"<html><body/></html>", "live")


def test_key_of_maps_urls_below_base_url() -> None:
    assert gate.key_of(f"{BASE}audio/caf%C3%A9.mp3", BASE) == "audio/café.mp3"
    assert gate.key_of(f"{BASE}one/", BASE) == "one/index.html"
    assert gate.key_of(BASE, BASE) == "index.html"
    assert gate.key_of("https://elsewhere.example/a.mp3", BASE) is None


@pytest.mark.parametrize(
    ("key", "content_type", "cache"),
    [
        ("feed.xml", "application/rss+xml; charset=utf-8", headers.SHORT_CACHE),
        ("audio/1.m4a", "audio/x-m4a", headers.LONG_CACHE),
        ("ep/transcript.html", "text/html; charset=utf-8", headers.MEDIUM_CACHE),
        ("ep/index.html", "text/html; charset=utf-8", headers.SHORT_CACHE),
        ("sitemap.xml", "application/xml; charset=utf-8", headers.SHORT_CACHE),
        ("photo.jpg", "image/jpeg", headers.LONG_CACHE),
    ],
)
def test_headers(key: str, content_type: str, cache: str) -> None:
    assert headers.headers_for(key) == headers.Headers(content_type, cache)
