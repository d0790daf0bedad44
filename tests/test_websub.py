"""WebSub: feed.yaml's websub_hub becomes <atom:link rel="hub">, and nothing changes without it."""

from __future__ import annotations

from pathlib import Path

import feedparser
from lxml import etree

from entretiens import layout, publish
from entretiens.content import content_bytes
from entretiens.loading import load_project
from entretiens.model import DeploySettings
from entretiens.podcast_spec import ATOM_NS
from showbuilder import make_show

HUB = "https://hub.example.net/"


def _feed_bytes(root: Path) -> bytes:
    with publish.publish(root, root / "public", dry_run=True, hold=True) as result:
        data = content_bytes(result.files[layout.FEED])
    assert isinstance(data, bytes)
    return data


def test_hub_link_follows_the_self_link(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", show={"websub_hub": HUB})
    channel = etree.fromstring(_feed_bytes(root)).find("channel")
    assert channel is not None
    links = [(link.get("rel"), link.get("href")) for link in channel.iter(f"{{{ATOM_NS}}}link")]
    assert links == [("self", "https://podcast.example.org/show/feed.xml"), ("hub", HUB)]
    # A WebSub subscriber discovers both from the feed; feedparser is one such reader.
    parsed = feedparser.parse(_feed_bytes(root))
    assert {(link["rel"], link["href"]) for link in parsed.feed.links} >= {("hub", HUB)}


def test_no_hub_no_link_and_same_bytes(tmp_path: Path) -> None:
    plain = make_show(tmp_path / "plain")
    with_deploy = make_show(tmp_path / "deploy", show={"deploy": {"to": "s3://bucket/podcast"}})
    data = _feed_bytes(plain)
    assert b'rel="hub"' not in data
    # Deploy settings are not part of the feed at all.
    assert _feed_bytes(with_deploy) == data


def test_deploy_settings_are_read(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        show={
            "deploy": {
                "to": "s3://bucket/podcast",
                "endpoint_url": "http://127.0.0.1:9000",
                "region": "auto",
                "podcast_index": False,
                "podping": "https://podping.example.net/",
            }
        },
    )
    settings = load_project(root).show.deploy
    assert settings == DeploySettings(
        to="s3://bucket/podcast",
        endpoint_url="http://127.0.0.1:9000",
        region="auto",
        podcast_index=False,
        podping="https://podping.example.net/",
    )
