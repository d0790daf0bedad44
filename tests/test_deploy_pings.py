"""Pings after a deploy, received by local servers: WebSub hub, Podcast Index pubnotify, a Podping gateway."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from deployshow import deploy_show, run_deploy
from entretiens.deploy import pings
from showbuilder import BASE_URL

TOKEN = "podping-token-Qx7-keep-private"  # noqa: S105  (a test value)
FEED = f"{BASE_URL}feed.xml"


def _requests(server: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in server.log if request.path == path]


@pytest.fixture
def endpoints(httpserver: HTTPServer) -> HTTPServer:
    for path in ("/hub", "/pubnotify", "/podping"):
        httpserver.expect_request(path).respond_with_data("ok", status=200 if path != "/hub" else 204)
    return httpserver


def test_every_ping_reaches_its_server_with_the_right_parameters(
    tmp_path: Path, endpoints: HTTPServer, nothing_live: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    show = deploy_show(tmp_path / "show", show={"websub_hub": endpoints.url_for("/hub")})
    monkeypatch.setenv("PODPING_TOKEN", TOKEN)
    result = run_deploy(
        show, "--to", str(tmp_path / "www"), "--live-feed", nothing_live,
        "--pubnotify-url", endpoints.url_for("/pubnotify"), "--podping-url", endpoints.url_for("/podping"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    (hub,) = _requests(endpoints, "/hub")
    assert hub.method == "POST"
    assert hub.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(hub.get_data(as_text=True)) == {"hub.mode": ["publish"], "hub.url": [FEED]}
    # The feed that went up names the same hub, so subscribers find it.
    assert (
        f'<atom:link rel="hub" href="{endpoints.url_for("/hub")}"/>'.encode()
        in (tmp_path / "www" / "feed.xml").read_bytes()
    )

    (notify,) = _requests(endpoints, "/pubnotify")
    assert notify.method == "GET"
    assert parse_qs(urlsplit(notify.url).query) == {"url": [FEED]}

    (podping,) = _requests(endpoints, "/podping")
    assert podping.headers["Authorization"] == TOKEN
    assert parse_qs(urlsplit(podping.url).query) == {"url": [FEED], "reason": ["update"], "medium": ["podcast"]}
    assert podping.headers["User-Agent"].startswith("entretiens/")

    assert "Pinged WebSub" in result.stderr
    assert "Pinged Podcast Index" in result.stderr
    assert "Pinged Podping" in result.stderr
    assert TOKEN not in result.output

    # Nothing changed, nothing to tell.
    again = run_deploy(
        show, "--to", str(tmp_path / "www"), "--live-feed", nothing_live,
        "--pubnotify-url", endpoints.url_for("/pubnotify"), "--podping-url", endpoints.url_for("/podping"),
    )  # fmt: skip
    assert again.exit_code == 0
    assert len(_requests(endpoints, "/pubnotify")) == 1


def test_a_failed_ping_is_a_warning_not_a_failed_deploy(
    tmp_path: Path, httpserver: HTTPServer, nothing_live: str
) -> None:
    httpserver.expect_request("/pubnotify").respond_with_data("no such feed", status=400)
    show = deploy_show(tmp_path / "show", show={"deploy": {"podping": "https://podping.example.net/"}})
    result = run_deploy(
        show, "--to", str(tmp_path / "www"), "--live-feed", nothing_live,
        "--pubnotify-url", httpserver.url_for("/pubnotify"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Warning: Podcast Index ping to {httpserver.url_for('/pubnotify')} failed: answered 400" in result.stderr
    assert "Warning: Podping ping to" in result.stderr
    assert "no token: set PODPING_TOKEN in the environment" in result.stderr
    assert (tmp_path / "www" / "feed.xml").is_file()
    # A 400 is an answer, not a hiccup: asked once, not retried.
    assert len(_requests(httpserver, "/pubnotify")) == 1


def test_pings_retry_on_server_errors_then_succeed(httpserver: HTTPServer) -> None:
    for _ in range(2):
        httpserver.expect_oneshot_request("/pubnotify").respond_with_data("busy", status=503)
    httpserver.expect_request("/pubnotify").respond_with_data("ok")
    waits: list[float] = []
    settings = pings.PingSettings(pubnotify_url=httpserver.url_for("/pubnotify"))
    (result,) = pings.notify(FEED, settings, sleep=waits.append)
    assert result.ok
    assert len(_requests(httpserver, "/pubnotify")) == 3
    assert waits == [2.0, 4.0]


def test_pings_give_up_after_bounded_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/pubnotify").respond_with_data("down", status=502)
    settings = pings.PingSettings(pubnotify_url=httpserver.url_for("/pubnotify"))
    (result,) = pings.notify(FEED, settings, sleep=lambda _: None)
    assert not result.ok
    assert result.detail == "answered 502"
    assert len(_requests(httpserver, "/pubnotify")) == 3


def test_dry_run_lists_the_pings_it_would_send(tmp_path: Path, nothing_live: str) -> None:
    show = deploy_show(tmp_path / "show", show={"websub_hub": "https://hub.example.net/"})
    result = run_deploy(show, "--to", str(tmp_path / "www"), "--live-feed", nothing_live, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "ping    WebSub  https://hub.example.net/" in result.stdout
    assert f"ping    Podcast Index  {pings.PUBNOTIFY_URL}" in result.stdout
    assert not (tmp_path / "www").exists()


def test_pubnotify_can_be_turned_off_in_feed_yaml(tmp_path: Path, nothing_live: str) -> None:
    show = deploy_show(tmp_path / "show", show={"deploy": {"podcast_index": False}})
    result = run_deploy(show, "--to", str(tmp_path / "www"), "--live-feed", nothing_live, "--dry-run")
    assert "ping" not in result.stdout
