"""The values of a link check: options, outcomes and the places URLs are written."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from entretiens.net import USER_AGENT

LinkStatus = Literal[
    "ok", "moved", "dead", "denied", "rate-limited", "server-error", "unreachable", "timeout", "redirect-loop"
]

#: The rule each outcome is reported under; "ok" is not reported.
RULES: Mapping[str, str] = {
    "moved": "link-moved",
    "dead": "link-dead",
    "denied": "link-denied",
    "rate-limited": "link-rate-limited",
    "server-error": "link-server-error",
    "unreachable": "link-unreachable",
    "timeout": "link-timeout",
    "redirect-loop": "link-redirect-loop",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkOptions:
    """How hard and how long to try."""

    #: Requests in flight at most, all hosts together.
    jobs: int = 8
    #: Seconds to connect, and seconds of silence while waiting for an answer.
    timeout: float = 10.0
    #: Seconds for the whole run; links not finished by then are reported as timed out.
    deadline: float = 60.0
    #: Further attempts after a 429 or 5xx answer.
    retries: int = 2
    #: First pause before a retry, doubled at each attempt, when the server gives no Retry-After.
    backoff: float = 1.0
    #: Longest pause a Retry-After header may impose.
    max_retry_after: float = 30.0
    max_redirects: int = 10
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        # A NaN deadline compares false with every clock reading: the check would never end.
        for name in ("timeout", "deadline", "backoff", "max_retry_after"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0 or (value == 0 and name in ("timeout", "deadline")):
                msg = f"LinkOptions.{name} must be a finite positive number of seconds, not {value!r}"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkResult:
    """What became of one URL."""

    url: str
    status: LinkStatus
    #: The last HTTP status received, if any.
    http_status: int | None = None
    #: Where redirects led, when they led somewhere else.
    final_url: str | None = None
    #: The address to write instead, after permanent redirects (301, 308) from the URL itself.
    moved_to: str | None = None
    method: str = "HEAD"
    #: Requests sent for this URL.
    attempts: int = 0
    #: Seconds from the first request to the result.
    elapsed: float = 0.0
    #: Short words for people: "404 Not Found", "connection refused", ...
    detail: str = ""
    cached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkPlace:
    """A URL where it is written: file, line and field, for messages."""

    url: str
    path: Path
    line: int | None
    field: str
    #: What the URL is, for people: "link 'Facebook'", "guest page of Jane Doe".
    label: str
