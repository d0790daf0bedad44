"""One exchange with a server: the URL checked, each redirect followed and checked, failures in words.

Redirects are followed here, not by requests, so that each hop is checked (no https to plain
http, no loop, at most :data:`MAX_REDIRECTS`) and recorded; every exception of requests,
urllib3 or the socket becomes one :class:`~entretiens.errors.NetworkError`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from ..errors import NetworkError
from ._body import Cut, Sink, read_body
from ._deadline import Clock, Watchdog, mount, new_session
from ._values import USER_AGENT, Limits, Refused, Response, TooSlow
from ._words import CONTROL, describe, printable, shown_url

#: Redirects followed before giving up: browsers stop at 20, podcast apps at about 10.
MAX_REDIRECTS = 10


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def fetch(
    url: str,
    *,
    limits: Limits,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    allow_redirects: bool = True,
) -> Response:
    """One request, its body in memory, within ``limits``.

    Any status is returned (a 404 is an answer, not a failure); only a failure to get a
    complete answer raises. A session passed in gets our watched adapters mounted for
    ``http://`` and ``https://``, so that the deadline holds for it too.

    :raises NetworkError: unreachable, TLS refused, too slow, too big, bad URL, https->http
        redirect, redirect loop, cut connection.
    """
    chunks: list[bytes] = []

    def keep(chunk: bytes, done: int, total: int | None) -> None:
        chunks.append(chunk)

    try:
        response = exchange(
            url, limits, method, headers, data, session, allow_redirects, keep, 0, None, time.monotonic()
        )
    except Cut as cut:
        raise cut.error from None
    return Response(
        url=response.url,
        status=response.status,
        headers=response.headers,
        body=b"".join(chunks),
        redirects=response.redirects,
        reason=response.reason,
    )


def exchange(
    url: str,
    limits: Limits,
    method: str,
    headers: Mapping[str, str] | None,
    data: bytes | Mapping[str, str] | None,
    session: requests.Session | None,
    allow_redirects: bool,
    sink: Sink,
    offset: int,
    stream: Any,
    started: float,
) -> Response:
    """Send, follow redirects, and feed the body to ``sink``; the returned body is empty.

    ``started`` is when the whole operation began: a resumed download shares one deadline.
    """
    own = session is None
    client = new_session() if session is None else session
    if not own:
        mount(client)
    try:
        left = limits.deadline - (time.monotonic() - started)
        if left <= 0:
            raise Clock(url, limits, Watchdog(1)).late()
        with Watchdog(left) as watchdog:
            clock = Clock(url, limits, watchdog, started)
            try:
                return _follow(client, clock, method, headers, data, allow_redirects, sink, offset, stream)
            except (NetworkError, Cut):
                if clock.past():
                    raise clock.late() from None
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, HTTPException) as exc:
                if clock.past():
                    raise clock.late() from None
                raise _failure(clock.url, exc, limits) from None
            except (OSError, ValueError) as exc:
                if clock.past():
                    raise clock.late() from None
                raise _failure(clock.url, exc, limits) from None
    finally:
        if own:
            client.close()


def _failure(url: str, exc: BaseException, limits: Limits) -> NetworkError:
    where = shown_url(url)
    host = printable(urlsplit(url).hostname or "") if "://" in url else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TooSlow(f"{where}: no connection to {host} within {limits.connect_timeout:g} s")
    if isinstance(exc, (requests.exceptions.ReadTimeout, socket.timeout, urllib3.exceptions.ReadTimeoutError)):
        return TooSlow(f"{where}: the server sent nothing for {limits.stall_timeout:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"{where}: the secure connection to {host} failed: {describe(exc)}")
    bad_url = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)
    if isinstance(exc, (*bad_url, urllib3.exceptions.LocationParseError, ValueError)):
        return Refused(f"{where}: not a valid web address ({describe(exc)})")
    if isinstance(exc, requests.ConnectionError):
        return NetworkError(f"{where}: cannot reach {host}: {describe(exc)}")
    return NetworkError(f"{where}: the request failed: {describe(exc)}")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise Refused(f"{shown_url(url)}: not a valid web address ({printable(str(exc))})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{shown_url(url)}: not a web address (it must start with https:// or http://)")
    if CONTROL.search(url) or " " in url:
        raise Refused(f"{shown_url(url)}: not a valid web address (it holds spaces or control characters)")


def _follow(
    http: requests.Session,
    clock: Clock,
    method: str,
    headers: Mapping[str, str] | None,
    data: bytes | Mapping[str, str] | None,
    allow_redirects: bool,
    sink: Sink,
    offset: int,
    stream: Any,
) -> Response:
    url = clock.url
    redirects: list[tuple[int, str]] = []
    visited = {url}
    asked: dict[str, str] = dict(headers or {})
    asked.setdefault("User-Agent", USER_AGENT)
    asked.setdefault("Accept-Encoding", "gzip, deflate")
    body = data
    while True:
        _check_url(url)
        clock.url = url
        answer = http.request(
            method, url, headers=asked, data=body, stream=True, timeout=clock.timeouts(), allow_redirects=False
        )
        with answer:
            location = answer.headers.get("Location")
            if allow_redirects and answer.status_code in _REDIRECTS and location:
                try:
                    target = urljoin(url, location.strip())
                except ValueError:
                    target = location
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme == "http":
                    msg = (
                        f"{shown_url(url)}: the server redirects to plain http ({shown_url(target)}); "
                        "refused, as it would drop the encryption"
                    )
                    raise Refused(msg)
                if target in visited:
                    raise Refused(f"{shown_url(clock.url)}: redirects in a loop (back to {shown_url(target)})")
                if len(redirects) >= MAX_REDIRECTS:
                    raise Refused(f"{shown_url(clock.url)}: redirects more than {MAX_REDIRECTS} times")
                redirects.append((answer.status_code, target))
                visited.add(target)
                status = answer.status_code
                if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    asked.pop("Content-Type", None)
                if _origin(target) != _origin(url):
                    asked.pop("Authorization", None)
                    asked.pop("Cookie", None)
                url = target
                continue
            result = Response(
                url=url,
                status=answer.status_code,
                headers=CaseInsensitiveDict(answer.headers),
                body=b"",
                redirects=tuple(redirects),
                reason=answer.reason or "",
            )
            if method != "HEAD" and not (stream is not None and answer.status_code not in (200, 206)):
                read_body(answer, clock, sink, offset, stream)
            return result


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.scheme, (parts.hostname or "").lower(), port)
