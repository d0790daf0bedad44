"""What people read of a remote server's doings: its text made safe, sizes and failures in words.

Apart from the requests, because every message of the package (and of the link checker and
the deploy) is written with them, and they need nothing of the HTTP stack.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from a remote server made safe for a terminal: control characters become escapes.

    A ``Location`` header or a reason phrase may hold escape sequences that would rewrite
    the screen; what we print shows them as ``\\x1b`` instead.
    """
    return CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def shown_url(url: str) -> str:
    """A URL as printed: control characters escaped and any password hidden."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            url = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return printable(url)


def size_text(count: int) -> str:
    """Bytes for people: ``2 GiB``, ``500 MiB``, ``16 bytes``."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{count} bytes"  # pragma: no cover


def describe(exc: BaseException) -> str:
    """What went wrong, from the innermost cause: ``unknown host name``, ``connection refused``..."""
    seen: BaseException = exc
    for _ in range(10):
        inner = seen.__cause__ or seen.__context__
        if inner is None:
            break
        seen = inner
    text = " ".join(f"{seen} {exc}".split())
    if "Name or service not known" in text or "getaddrinfo failed" in text or "nodename nor servname" in text:
        return "unknown host name"
    if "No address associated" in text or "Temporary failure in name resolution" in text:
        return "unknown host name"
    if "Connection refused" in text or "actively refused" in text:
        return "connection refused"
    if "Connection reset" in text:
        return "connection reset by the server"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        why = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text.split("certificate verify failed:")[-1]).strip(" ()'\"")
        return f"its certificate is not valid ({printable(why)})"
    return printable(str(seen) or seen.__class__.__name__)
