"""entretiens deploy against a real S3 server (SeaweedFS): order, changes only, headers, ranges, the GUID gate."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from audiogen import write_mp3
from deployshow import BASE_URL, PREFIX, Deployer, deploy_show, digests, edit_episode, report, run_deploy, uploaded
from entretiens.deploy import s3
from entretiens.deploy.manifest import MANIFEST_KEY
from s3server import SECRET_KEY, S3Server
from showbuilder import episode, make_show


@pytest.fixture
def show(tmp_path: Path) -> Path:
    return deploy_show(tmp_path / "show")


@pytest.fixture
def deployer(s3: S3Server, bucket: str, nothing_live: str) -> Deployer:
    return Deployer(s3, bucket, nothing_live)


def test_first_deploy_uploads_everything_media_first_feed_last(show: Path, deployer: Deployer) -> None:
    result = run_deploy(show, *deployer.args())
    keys = uploaded(result)
    public = digests(show / "public")
    assert sorted(keys) == sorted(public)
    assert keys[-1] == "feed.xml"
    phases = [item["phase"] for item in report(result)["uploaded"]]
    assert phases == sorted(phases, key=["media", "assets", "pages", "feed"].index)
    first_page = keys.index(next(k for k in keys if k.endswith("index.html")))
    for media in ("audio/001.mp3", "001-talk/chapters.json", "001-talk/transcript.vtt", "artwork.png"):
        assert keys.index(media) < first_page
    # Every enclosure was checked through the storage before the feed went up.
    assert sorted(report(result)["verified"]) == ["audio/001.mp3", "audio/002.mp3", "audio/003.mp3"]
    assert set(deployer.keys()) == {*public, MANIFEST_KEY}
    for key, digest in public.items():
        assert hashlib.sha256(deployer.get(key).content).hexdigest() == digest, key


def test_second_deploy_with_nothing_changed_uploads_nothing(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    before = deployer.keys()
    again = run_deploy(show, *deployer.args())
    assert uploaded(again) == []
    assert report(again)["unchanged"] == len(digests(show / "public"))
    assert deployer.keys() == before
    text = run_deploy(show, *deployer.args()[:-2], "--format", "text")
    assert text.exit_code == 0
    assert "Up to date: nothing to upload" in text.stderr


def test_editing_one_episode_uploads_only_what_changed(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    before = digests(show / "public")
    edit_episode(show, "002-talk", notes="New notes, with **more** to say.")
    result = run_deploy(show, *deployer.args())
    after = digests(show / "public")
    changed = sorted(key for key in after if before.get(key) != after[key])
    assert "002-talk/index.html" in changed
    assert "feed.xml" in changed
    assert sorted(uploaded(result)) == changed
    assert uploaded(result)[-1] == "feed.xml"
    assert not any(key.startswith(("audio/", "001-talk/", "003-talk/")) for key in uploaded(result))


def test_headers_read_back_with_head(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    expected = {
        "feed.xml": ("application/rss+xml; charset=utf-8", "public, max-age=300"),
        "index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "001-talk/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "audio/001.mp3": ("audio/mpeg", "public, max-age=604800"),
        "artwork.png": ("image/png", "public, max-age=604800"),
        "001-talk/chapters.json": ("application/json; charset=utf-8", "public, max-age=3600"),
        "001-talk/transcript.vtt": ("text/vtt; charset=utf-8", "public, max-age=3600"),
        "001-talk/transcript.srt": ("application/x-subrip", "public, max-age=3600"),
        "assets/site.css": ("text/css; charset=utf-8", "public, max-age=300"),
    }
    for key, (content_type, cache) in expected.items():
        answer = deployer.head(key)
        assert answer.status_code == 200, key
        assert (answer.headers["Content-Type"], answer.headers["Cache-Control"]) == (content_type, cache), key
        assert int(answer.headers["Content-Length"]) == (show / "public" / key).stat().st_size


def test_enclosures_answer_byte_ranges_with_206(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    audio = (show / "public" / "audio" / "002.mp3").read_bytes()
    answer = deployer.get("audio/002.mp3", Range="bytes=100-199")
    assert answer.status_code == 206
    assert answer.headers["Content-Range"] == f"bytes 100-199/{len(audio)}"
    assert answer.content == audio[100:200]


def test_removed_episode_is_refused_then_allowed_then_deleted(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    foreign = "notes-by-hand.txt"
    deployer.s3.client().put_object(Bucket=deployer.bucket, Key=f"{PREFIX}/{foreign}", Body=b"mine")
    feed_before = deployer.get("feed.xml").content
    published = digests(show / "public")
    (show / "episodes" / "003-talk.yaml").unlink()

    refused = run_deploy(show, *deployer.args())
    assert refused.exit_code == 1
    assert "episode '003-talk' (Conversation 3) is live and would disappear" in refused.stderr
    assert "--allow-removal 003-talk" in refused.stderr
    assert "Nothing was uploaded" in refused.stderr
    assert deployer.get("feed.xml").content == feed_before

    allowed = run_deploy(show, *deployer.args("--allow-removal", "003-talk"))
    assert "feed.xml" in uploaded(allowed)
    assert b"Conversation 3" not in deployer.get("feed.xml").content
    kept = ("003-talk/", "audio/003", "assets/cards/003-talk")
    assert set(report(allowed)["kept"]) == {key for key in published if key.startswith(kept)}
    assert deployer.get("audio/003.mp3").status_code == 200

    deleted = run_deploy(show, *deployer.args("--delete"))
    assert "audio/003.mp3" in report(deleted)["deleted"]
    assert deployer.get("audio/003.mp3").status_code == 404
    assert deployer.get("003-talk/index.html").status_code == 404
    # Never anything deploy did not put there.
    assert deployer.get(foreign).content == b"mine"


def test_changed_guid_is_refused(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    # Renaming the episode file gives it a new slug, hence a new GUID, for the same audio.
    (show / "episodes" / "002-talk.yaml").rename(show / "episodes" / "002-renamed.yaml")
    result = run_deploy(show, *deployer.args())
    assert result.exit_code == 1
    assert "episode '002-talk' (Conversation 2): its GUID would change" in result.stderr
    assert "put the old GUID back" in result.stderr


def test_changed_base_url_is_refused_unless_forced(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    feed_yaml = show / "feed.yaml"
    feed_yaml.write_text(feed_yaml.read_text().replace(BASE_URL, "https://cdn.example.net/podcast/"))
    refused = run_deploy(show, *deployer.args())
    assert refused.exit_code == 1
    assert f"the feed's own URL would change from {BASE_URL}feed.xml to https://cdn.example.net/podcast/feed.xml" in (
        refused.stderr
    )
    assert f"its enclosure URL would change from {BASE_URL}audio/001.mp3" in refused.stderr
    forced = run_deploy(show, *deployer.args("--force"))
    assert any("forced (--force)" in note for note in report(forced)["notes"])
    assert b"https://cdn.example.net/podcast/audio/001.mp3" in deployer.get("feed.xml").content


def test_changed_podcast_guid_is_refused(show: Path, deployer: Deployer) -> None:
    run_deploy(show, *deployer.args())
    (show / "published.yaml").unlink()
    with (show / "feed.yaml").open("a") as stream:
        stream.write('guid: "9b024349-ccf0-5f69-a609-6b82873eab3c"\n')
    result = run_deploy(show, *deployer.args())
    assert result.exit_code == 1
    assert "the show's podcast:guid would change from" in result.stderr
    assert "to 9b024349-ccf0-5f69-a609-6b82873eab3c" in result.stderr


def test_deploy_moving_in_compares_with_the_feed_served_at_base_url(
    show: Path, s3: S3Server, bucket: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A show already online elsewhere: its live feed is read over HTTP and protected the same way."""
    other = deploy_show(tmp_path / "elsewhere", count=4)
    httpserver.expect_request("/missing.xml").respond_with_data("", status=404)
    first = run_deploy(
        other, "--to", str(tmp_path / "old-host"), "--no-ping", "--live-feed", httpserver.url_for("/missing.xml")
    )
    assert first.exit_code == 0, first.output
    live = (tmp_path / "old-host" / "feed.xml").read_bytes()
    httpserver.expect_request("/live/feed.xml").respond_with_data(live, content_type="application/rss+xml")
    deployer = Deployer(s3, bucket, httpserver.url_for("/live/feed.xml"))
    result = run_deploy(show, *deployer.args())
    # The copy moving in lacks an episode that is live at the old host.
    assert result.exit_code == 1
    assert "episode '004-talk' (Conversation 4) is live and would disappear" in result.stderr
    assert deployer.keys() == {}
    # Once it has it too, the move goes through (same feed URL, GUIDs and enclosures).
    shutil.copy(other / "episodes" / "004-talk.yaml", show / "episodes")
    shutil.copy(other / "audio" / "004.mp3", show / "audio")
    assert "feed.xml" in uploaded(run_deploy(show, *deployer.args()))


def test_wrong_credentials_change_nothing_and_never_print_the_secret(
    show: Path, deployer: Deployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_deploy(show, *deployer.args())
    before = deployer.keys()
    edit_episode(show, "001-talk", title="A new title")
    wrong = "Wr0ng-Secret-Zz9-should-never-appear"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    result = run_deploy(show, *deployer.args())
    assert result.exit_code == 1
    assert "the storage refused the credentials (SignatureDoesNotMatch)" in result.stderr
    assert "AWS_SECRET_ACCESS_KEY" in result.stderr
    assert "Traceback" not in result.output
    assert wrong not in result.output
    assert deployer.keys() == before


def test_missing_credentials(show: Path, deployer: Deployer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run_deploy(show, *deployer.args())
    assert result.exit_code == 1
    assert "no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE" in result.stderr
    assert deployer.keys() == {}


def test_unreachable_endpoint(show: Path, s3: S3Server, nothing_live: str) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    result = run_deploy(show, "--to", "s3://bucket/x", "--endpoint-url", endpoint, "--live-feed", nothing_live)
    assert result.exit_code == 1
    assert f"cannot reach the storage at {endpoint}" in result.stderr
    assert SECRET_KEY not in result.output


def test_missing_bucket(show: Path, s3: S3Server, nothing_live: str) -> None:
    target = "s3://no-such-bucket/x"
    result = run_deploy(show, "--to", target, "--endpoint-url", s3.endpoint, "--live-feed", nothing_live)
    assert result.exit_code == 1
    assert "the bucket 'no-such-bucket' does not exist" in result.stderr


def test_dry_run_lists_and_changes_nothing(show: Path, deployer: Deployer) -> None:
    result = run_deploy(show, *deployer.args("--dry-run"))
    data = report(result)
    assert data["dry_run"] is True
    assert data["uploads"][-1]["key"] == "feed.xml"
    assert {item["key"]: item["bytes"] for item in data["uploads"]}["audio/001.mp3"] == (
        show / "audio" / "001.mp3"
    ).stat().st_size
    assert deployer.keys() == {}
    assert not (show / "public").exists()


def test_manifest_entries_replaced_by_hand_are_sent_again(show: Path, deployer: Deployer) -> None:
    """A file changed on the storage behind deploy's back no longer matches the manifest, so it is sent again."""
    run_deploy(show, *deployer.args())
    deployer.s3.client().put_object(Bucket=deployer.bucket, Key=f"{PREFIX}/001-talk/notes.md", Body=b"broken")
    assert uploaded(run_deploy(show, *deployer.args())) == ["001-talk/notes.md"]
    assert deployer.get("001-talk/notes.md").content == (show / "public" / "001-talk" / "notes.md").read_bytes()


def test_large_audio_goes_up_in_parts(tmp_path: Path, deployer: Deployer, monkeypatch: pytest.MonkeyPatch) -> None:
    # S3's smallest part is 5 MiB: a 6.8 MB recording goes up in two parts at that threshold.
    monkeypatch.setattr(s3, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    show = make_show(tmp_path / "show", {"001-long": episode(1)}, seconds=0)
    (show / "audio").mkdir()
    write_mp3(show / "audio" / "001.mp3", seconds=170, bitrate=320, sample_rate=44100, mpeg_version=1, channels=2)
    result = run_deploy(show, *deployer.args())
    assert report(result)["verified"] == ["audio/001.mp3"]
    # A multipart object's ETag is the digest of its parts' digests, followed by the part count.
    assert deployer.keys()["audio/001.mp3"].strip('"').endswith("-2")
    assert deployer.get("audio/001.mp3").content == (show / "audio" / "001.mp3").read_bytes()
    assert uploaded(run_deploy(show, *deployer.args())) == []
