"""A listing page joined from its entries' kept bytes: the home page's episodes, the guests page's guests.

A listing page of a large show is mostly its entries, and most of them are the same from one
build to the next. The page is rendered with a mark where the list goes, and the entries'
UTF-8 bytes, kept between builds, are joined in its place: the same bytes as the page rendered
whole, without rendering every entry again, nor decoding, joining and encoding them as text
(at 10,000 episodes, four copies of a 6 MB list at once).
"""

from __future__ import annotations

from collections.abc import Iterable

from .templating import MAX_OUTPUT


def join(text: str, mark: str, entries: Iterable[bytes | None]) -> bytes | None:
    """``text`` with ``entries`` joined in place of ``mark``, as UTF-8.

    None, for the caller to render the page whole, when the mark is not in ``text`` exactly
    once (a show's own template put the list elsewhere, or twice), when an entry is not known
    (None), or when the page would be longer than a template may write.
    """
    parts = pieces(text, mark, entries)
    return None if parts is None else b"".join(parts)


def pieces(text: str, mark: str, entries: Iterable[bytes | None]) -> list[bytes] | None:
    """What :func:`join` joins, for a caller that writes them one after the other (or None)."""
    head, found, tail = text.partition(mark)
    if not found or mark in tail:
        return None
    parts = [head.encode("utf-8")]
    for entry in entries:
        if entry is None:
            return None
        parts.append(entry)
    parts.append(tail.encode("utf-8"))
    if sum(map(len, parts)) > MAX_OUTPUT:
        return None
    return parts
