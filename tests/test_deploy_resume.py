"""A deploy killed mid-way leaves a consistent show, a rerun finishes it; a podcast app reads the result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from audiogen import write_mp3
from deployshow import Deployer, deploy_show, digests, edit_episode, run_deploy, uploaded
from entretiens.deploy.manifest import MANIFEST_KEY
from podcast_clients import parse_with_podcastparser
from s3server import S3Server
from showbuilder import BASE_URL, episode, write_yaml

KILLER = Path(__file__).parent / "deploy_killer.py"


@pytest.fixture
def deployer(s3: S3Server, bucket: str, nothing_live: str) -> Deployer:
    return Deployer(s3, bucket, nothing_live)


def _killed_deploy(show: Path, deployer: Deployer, after: int) -> None:
    """Run deploy in another process and let it die after ``after`` uploads."""
    env = {**os.environ, **deployer.s3.env()}
    command = [sys.executable, str(KILLER), str(after), "deploy", "--show", str(show), *deployer.args()]
    process = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()


def _live_urls_resolve(deployer: Deployer) -> list[str]:
    """Every file URL of the deployed feed answers 200 with the length the feed gives; returns the URLs."""
    answer = deployer.get("feed.xml")
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200
    root = etree.fromstring(answer.content)
    urls = []
    for element in root.iter():
        for name in ("url", "href"):
            value = element.get(name)
            if value and value.startswith(BASE_URL):
                urls.append(value)
                resolved = deployer.head(value[len(BASE_URL) :])
                assert resolved.status_code == 200, value
                if element.tag == "enclosure":
                    assert int(resolved.headers["Content-Length"]) == int(element.get("length", "-1")), value
    return urls


def test_first_deploy_killed_then_rerun(tmp_path: Path, deployer: Deployer) -> None:
    show = deploy_show(tmp_path / "show")
    _killed_deploy(show, deployer, after=4)
    # Four media files went up; no feed, so no listener sees a feed pointing at missing files.
    assert deployer.get("feed.xml").status_code == 404
    assert 4 <= len(set(deployer.keys()) - {MANIFEST_KEY}) < len(digests(show / "public"))
    result = run_deploy(show, *deployer.args())
    assert uploaded(result)[-1] == "feed.xml"
    assert set(deployer.keys()) == {*digests(show / "public"), MANIFEST_KEY}
    assert len(_live_urls_resolve(deployer)) > 6


def test_update_killed_after_the_media_keeps_the_old_feed_whole_and_rerun_sends_only_the_rest(
    tmp_path: Path, deployer: Deployer
) -> None:
    show = deploy_show(tmp_path / "show")
    run_deploy(show, *deployer.args())
    old_feed = deployer.get("feed.xml").content
    # A new episode, and a changed one: media (audio 004, 004's pages) then pages then the feed.
    write_yaml(show / "episodes" / "004-talk.yaml", episode(4))
    write_mp3(show / "audio" / "004.mp3", seconds=3, bitrate=32, sample_rate=22050, mpeg_version=2, channels=1)
    edit_episode(show, "002-talk", title="Conversation 2, revised")
    _killed_deploy(show, deployer, after=2)  # audio/004.mp3 and one more file
    assert deployer.get("feed.xml").content == old_feed
    assert len(_live_urls_resolve(deployer)) > 6
    assert deployer.get("audio/004.mp3").status_code == 200

    result = run_deploy(show, *deployer.args())
    # The media phase was completed and recorded before the kill: not sent again.
    assert "audio/004.mp3" not in uploaded(result)
    assert uploaded(result)[-1] == "feed.xml"
    urls = _live_urls_resolve(deployer)
    assert f"{BASE_URL}audio/004.mp3" in urls
    assert b"Conversation 2, revised" in deployer.get("feed.xml").content


def test_gpodder_reads_the_deployed_feed_and_downloads_every_episode_byte_exact(
    tmp_path: Path, deployer: Deployer
) -> None:
    show = deploy_show(tmp_path / "show")
    run_deploy(show, *deployer.args())
    feed_url = deployer.url("feed.xml")
    answer = deployer.get("feed.xml")
    assert answer.headers["Content-Type"].startswith("application/rss+xml")
    parsed = parse_with_podcastparser(answer.content, feed_url)
    episodes = parsed["episodes"]
    assert len(episodes) == 3
    for item in episodes:
        enclosure = item["enclosures"][0]
        assert enclosure["url"] is not None
        download = deployer.get(enclosure["url"][len(BASE_URL) :])
        assert download.status_code == 200
        local = show / "public" / enclosure["url"][len(BASE_URL) :]
        assert download.content == local.read_bytes()
        assert enclosure["file_size"] == len(download.content)
        assert enclosure["mime_type"] == "audio/mpeg"
