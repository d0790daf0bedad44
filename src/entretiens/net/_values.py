"""What a request is given and what it returns: its limits, the answer, and the errors it raises.

Apart from the machinery, so that callers' signatures (``limits: Limits``) and ``except
TooLarge`` read one small module, and every part of the package shares the same classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .. import __version__
from ..errors import NetworkError

USER_AGENT = f"entretiens/{__version__} (podcast publisher)"


@dataclass(frozen=True)
class Limits:
    """How much one request may cost: bytes, and seconds in three ways."""

    #: Body size cap in bytes (decoded); exceeding it is a NetworkError.
    max_bytes: int
    connect_timeout: float = 10.0
    #: No byte received for this long: NetworkError.
    stall_timeout: float = 20.0
    #: The whole request, redirects and body included: NetworkError.
    deadline: float = 120.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "stall_timeout", "deadline"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                msg = f"Limits.{name} must be a positive number of seconds, not {value!r}"
                raise ValueError(msg)
        if self.max_bytes < 0:
            msg = f"Limits.max_bytes must not be negative, not {self.max_bytes!r}"
            raise ValueError(msg)


@dataclass(frozen=True)
class Response:
    """A complete answer: final URL, status, headers, body, and the redirects that led there."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: Each redirect followed: (status, the URL it pointed to).
    redirects: tuple[tuple[int, str], ...] = ()
    reason: str = ""

    def text(self) -> str:
        """The body as text, in the charset the server declared (UTF-8 otherwise)."""
        match = re.search(r"charset=([\w.:-]+)", self.headers.get("Content-Type", ""), re.IGNORECASE)
        encoding = match.group(1) if match else "utf-8"
        try:
            return self.body.decode(encoding, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class TooLarge(NetworkError):
    """The body is larger than the size cap."""


class TooSlow(NetworkError):
    """The deadline passed, or the server stalled."""


class Refused(NetworkError):
    """We refused to go on: a redirect to plain http, a loop, too many redirects, an unusable URL."""


class BadStatus(NetworkError):
    """:func:`download` got an answer other than 200, 206 or 304."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
