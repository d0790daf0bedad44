"""Images named by URL (``image: https://...``), fetched at publish time and served from the site.

The pages load nothing from other hosts: a photo hot-linked from another server is a tracking
pixel for every visitor, and it breaks when that server moves it. So an image field holding a
URL is downloaded once into the show's cache, within a size cap, a stall timeout and a deadline
(:mod:`entretiens.net`), then checked as a local image is (a format browsers show, and at most
:data:`entretiens.images.MAX_PIXELS` pixels); the pages show a copy made from it. An image that
cannot be fetched or fails the checks is left out of the pages, and the checks say why. The feed
still names the URL as written: podcast apps fetch and cache artwork themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Final

from PIL import UnidentifiedImageError

from .errors import NetworkError
from .images import ImageTooLarge, open_image

#: The show's cache of downloaded images (kept between runs: fetched once).
REMOTE_IMAGES: Final = Path(".entretiens") / "cache" / "remote-images"
#: The largest image downloaded: a 3000 x 3000 JPEG weighs 1 to 3 MB.
MAX_BYTES: Final = 10 * 1024 * 1024
#: What browsers show everywhere.
FORMATS: Final = frozenset({"JPEG", "PNG", "GIF", "WEBP"})

# One attempt per URL and run: the checks and the pages ask for the same images.
_tried: dict[tuple[Path, str], Path | str] = {}


def local_copy(root: Path, url: str) -> Path | str:
    """The downloaded, checked copy of an image URL (fetched on first use); or why there is none.

    :param root: the show folder, whose cache keeps the copy.
    """
    key = (root, url)
    if key not in _tried:
        _tried[key] = _fetch(root, url)
    return _tried[key]


def forget() -> None:
    """Forget this run's attempts, so that a new build (``serve``) tries failed URLs again."""
    _tried.clear()


def _fetch(root: Path, url: str) -> Path | str:
    folder = root / REMOTE_IMAGES
    copy = folder / hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    if not copy.is_file():
        # Imported here: the HTTP stack (requests) costs a tenth of a second to import, and a
        # show without image URLs never needs it.
        from .net import Limits, download

        limits = Limits(max_bytes=MAX_BYTES, connect_timeout=10.0, stall_timeout=20.0, deadline=60.0)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            download(url, copy, limits=limits, resume=False)
        except NetworkError as exc:
            return str(exc)
        except OSError as exc:
            return f"cannot keep a copy in {folder}: {exc.strerror or exc}"
    reason = _check(copy)
    if reason is not None:
        with contextlib.suppress(OSError):
            copy.unlink()
        return reason
    return copy


def _check(copy: Path) -> str | None:
    """Why a downloaded file cannot be shown as an image, or None."""
    try:
        with open_image(copy) as image:
            kind = str(image.format)
            image.load()
    except ImageTooLarge as exc:
        return f"the image {exc}"
    except UnidentifiedImageError:
        return "what the server sent is not an image"
    except (OSError, ValueError, SyntaxError) as exc:
        return f"the image is damaged ({exc})"
    if kind not in FORMATS:
        return f"the image is {kind}, which not every browser shows; use JPEG or PNG"
    return None
