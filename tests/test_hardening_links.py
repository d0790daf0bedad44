"""The link checker against hostile input: malformed hosts, nonsense deadlines, escape sequences."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from entretiens.cli import cli
from entretiens.links import LinkOptions, LinkPlace, check_urls, link_problems
from hostile_servers import Request, Server, answer, serve
from showbuilder import make_show

#: What must never reach a terminal from a remote server: C0/C1 controls, DEL.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def ok(server: Server, request: Request, conn: socket.socket) -> None:
    answer(conn, "200 OK", b"fine")


def test_malformed_hosts_do_not_kill_the_workers() -> None:
    malformed = [f"http://a{i}..b/" for i in range(8)] + ["http://.x/", "https://x..y:80/p"]
    with serve(ok) as server:
        good = [server.url(f"/page{i}") for i in range(3)]
        results = check_urls([*malformed, *good], options=LinkOptions(jobs=8, timeout=1.0, deadline=10.0, retries=0))
    for url in good:
        assert results[url].status == "ok", results[url]
    for url in malformed:
        assert results[url].status == "unreachable", results[url]
        assert "not checked before the deadline" not in results[url].detail


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "NaN"])
@pytest.mark.parametrize("option", ["--deadline", "--timeout"])
def test_nonsense_durations_are_bad_usage(tmp_path: Path, option: str, value: str) -> None:
    root = make_show(tmp_path / "show")
    result = CliRunner().invoke(cli, ["check", "--show", str(root), "--links", option, value])
    assert result.exit_code == 2, result.output
    assert option in result.output


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_link_options_refuse_nonsense(value: float) -> None:
    with pytest.raises(ValueError, match="deadline"):
        LinkOptions(deadline=value)
    with pytest.raises(ValueError, match="timeout"):
        LinkOptions(timeout=value)


def test_escape_sequences_from_a_server_never_reach_the_terminal(tmp_path: Path) -> None:
    def hostile(server: Server, request: Request, conn: socket.socket) -> None:
        if request.path == "/moved":
            answer(conn, "301 Moved", headers={"Location": "/\x1b[2J\x1b]0;pwned\x07/there"})
        elif request.path == "/reason":
            conn.sendall(b"HTTP/1.1 404 Gone\x1b[31m away\x9b\r\nContent-Length: 0\r\n\r\n")
        elif request.path == "/temporary":
            answer(conn, "302 Found", headers={"Location": "/\x1b[1mloop"})
        elif request.path.endswith("/there"):
            answer(conn, "200 OK", b"arrived")
        else:
            answer(conn, "404 Not Found")

    with serve(hostile) as server:
        urls = [server.url(p) for p in ("/moved", "/reason", "/temporary")]
        results = check_urls(urls, options=LinkOptions(jobs=2, timeout=1.0, deadline=10.0, retries=0))
    places = [
        LinkPlace(url=url, path=tmp_path / "episodes" / "001.yaml", line=3, field="links[0].url", label="link")
        for url in urls
    ]
    printed = [p.format(tmp_path) for p in link_problems(places, results)]
    assert len(printed) == 3
    for result in results.values():
        for text in (result.detail, result.final_url or "", result.moved_to or ""):
            assert not CONTROL.search(text), text
    for line in printed:
        assert not CONTROL.search(line), line
    assert results[urls[0]].status == "moved"
    assert results[urls[0]].moved_to == server.url("/%1B[2J%1B]0;pwned%07/there")
