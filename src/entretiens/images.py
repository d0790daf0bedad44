"""Opening images from the show folder (or downloaded for it) without trusting their headers.

A PNG of a few hundred kilobytes can declare 20000 x 20000 pixels and take gigabytes once
decoded. Every image entretiens decodes goes through :func:`open_image`, which reads the size
from the header and refuses anything over :data:`MAX_PIXELS` before decoding a single pixel.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps

#: The most pixels an image may hold: a 50-megapixel camera photo; artwork tops out at 9
#: (3000 x 3000). Decoded as RGBA it takes 200 MB.
MAX_PIXELS = 50_000_000


class ImageTooLarge(Exception):
    """An image declares more pixels than :data:`MAX_PIXELS`; ``str()`` says how many."""

    def __init__(self, width: int | None, height: int | None) -> None:
        size = f"{width}×{height} pixels" if width and height else "more pixels than Pillow will open"
        super().__init__(f"is {size}, over the {MAX_PIXELS // 1_000_000} million pixels entretiens reads")
        self.width = width
        self.height = height


HINT = "export it smaller: 3000×3000 pixels is plenty for artwork and photos"


@contextmanager
def open_image(source: Path | IO[bytes]) -> Iterator[Image.Image]:
    """Open an image lazily (nothing decoded yet), refusing one with too many pixels.

    :raises ImageTooLarge: the header declares more than :data:`MAX_PIXELS` pixels.
    :raises OSError, ValueError, SyntaxError: what Pillow raises for files it cannot read.
    """
    with warnings.catch_warnings():
        # Pillow warns from 89 Mpx and refuses from 179 Mpx; our own, lower limit decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except Image.DecompressionBombError:
            raise ImageTooLarge(None, None) from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageTooLarge(width, height)
        yield image


#: The image :func:`upright` decoded last, by its file's path, size and modification time.
_decoded: dict[tuple[str, int, int], Image.Image] = {}


def upright(source: Path) -> Image.Image:
    """The image at ``source``, decoded and turned as its EXIF orientation says. Callers must
    not change it: copy it first.

    An episode's cover thumbnail and its social card are made from the same file one after the
    other, as are the show's artwork and icon: the last image decoded is kept for the next
    caller, until :func:`forget` or until another one is decoded (one at a time: a decoded
    3000 px cover takes 27 MB).

    :raises ImageTooLarge, OSError, ValueError, SyntaxError: as :func:`open_image`.
    """
    stat = source.stat()
    key = (str(source), stat.st_size, stat.st_mtime_ns)
    kept = _decoded.get(key)
    if kept is not None:
        return kept
    forget()  # freed before the next one is decoded, never both at once
    with open_image(source) as image:
        # In place: a copy of a decoded cover costs as much as resizing it. Once loaded, the
        # image outlives its file, which the block closes.
        ImageOps.exif_transpose(image, in_place=True)
    _decoded[key] = image
    return image


def holds(source: Path) -> bool:
    """Whether :func:`upright` would answer ``source`` without decoding it."""
    try:
        stat = source.stat()
    except OSError:
        return False
    return (str(source), stat.st_size, stat.st_mtime_ns) in _decoded


def forget() -> None:
    """Let go of the image :func:`upright` kept (its memory is freed)."""
    _decoded.clear()
