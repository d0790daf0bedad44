"""A listing page joined from its entries' kept bytes: the home page's episodes, the guests page's guests.

A listing page of a large show is mostly its entries, and most of them are the same from one
build to the next. The page is rendered with a mark where the list goes, and the entries'
UTF-8 bytes, kept between builds, are joined in its place: the same bytes as the page rendered
whole, without rendering every entry again, nor decoding, joining and encoding them as text
(at 10,000 episodes, four copies of a 6 MB list at once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

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


def batches(parts: Iterable[bytes], size: int) -> Iterator[bytes]:
    """``parts`` joined into pieces of about ``size`` bytes (a part larger than that alone): for
    a writer that hashes and writes each piece, once per batch rather than once per entry."""
    batch: list[bytes] = []
    held = 0
    for part in parts:
        if batch and held + len(part) > size:
            yield b"".join(batch)
            batch, held = [], 0
        batch.append(part)
        held += len(part)
    if batch:
        yield b"".join(batch)


def uniform_loop(
    render: Callable[[list[tuple[str, ...]]], str], marks: tuple[str, ...]
) -> tuple[str, list[str], str] | None:
    """A page rendered from a list whose every row is written the same way (the sitemap's URLs),
    cut into what comes before the rows, the text around each row's values, and what follows.

    ``render`` renders the page from a list of rows; ``marks`` are texts that stand for a row's
    values, in order (escaping and the template leave them as they are, each appears once). The
    page is rendered with no row, one row of marks and two rows (the second's marks numbered
    "2"): the cut is taken only when the three agree, i.e. when the page of n rows is the head,
    then each row's pieces and values in turn, then the tail. Else None, for the caller to
    render the page whole. A row's text is then ``pieces[0] + values[0] + pieces[1] + ... +
    pieces[-1]``, the values escaped as the template escapes them.
    """
    second = tuple(f"{mark}2" for mark in marks)
    empty, one, two = render([]), render([marks]), render([marks, second])
    shared = 0
    while shared < min(len(empty), len(one)) and empty[shared] == one[shared]:
        shared += 1
    head, tail = empty[:shared], empty[shared:]
    if len(one) < len(empty) or not one.endswith(tail):
        return None
    row = one[shared : len(one) - len(tail)]
    pieces: list[str] = []
    rest = row
    for mark in marks:
        before, found, rest = rest.partition(mark)
        if not found or mark in rest or mark in before:
            return None
        pieces.append(before)
    pieces.append(rest)
    if any(mark in piece for piece in pieces for mark in marks):
        return None

    def written(values: tuple[str, ...]) -> str:
        return "".join(piece + value for piece, value in zip(pieces[:-1], values, strict=True)) + pieces[-1]

    if written(marks) != row or two != head + row + written(second) + tail:
        return None
    return head, pieces, tail
