"""Social cards: a 1200x630 picture per episode (artwork, title, guests) for shared links.

A link to an episode shared on a social network shows ``og:image``; the show's square artwork
alone says nothing of the interview, so each episode gets a card of the size those networks
crop to (1.91:1). The text is laid out once by :func:`layout` and drawn from that layout, so
what tests measure is what is drawn. Fonts are DejaVu from the system (Debian's
fonts-dejavu-core) when found, else Pillow's own scalable font: never fetched. Cards are
cached by everything that shapes them, so an unchanged rebuild returns the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import json
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, ImageDraw, ImageFont, ImageOps, features

from . import gcpause, images, remote_images, unitcache
from . import layout as paths
from .images import ImageTooLarge, upright
from .model import Episode, Show, is_remote
from .output import Content, Stored
from .thumbnails import Entry, ImageCache, Stamp, entry_name, identity, settled, source_stamp

WIDTH = 1200
HEIGHT = 630
#: Blank space kept around everything drawn.
MARGIN = 60
#: The artwork's side: the card's height less the margins.
ART = HEIGHT - 2 * MARGIN
BACKGROUND = (29, 43, 79)
TITLE_COLOUR = (255, 255, 255)
SHOW_COLOUR = (201, 211, 234)
GUESTS_COLOUR = (242, 193, 78)
#: Title sizes tried from the largest, until the title fits; at the smallest it is cut with "…".
TITLE_SIZES = (64, 56, 48, 40, 34)
SHOW_SIZE = 30
GUESTS_SIZE = 34
GUEST_LINES = 2
ELLIPSIS = "…"
#: Where distributions put DejaVu (Debian/Ubuntu first, as CI installs fonts-dejavu-core).
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
)
#: Bumped whenever the drawing changes, so that cached cards are made anew.
VERSION = 1

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Box = tuple[int, int, int, int]


def card_path(episode: Episode) -> PurePosixPath:
    """Where an episode's card is published."""
    return paths.in_folder(_CARDS, f"{episode.slug}.jpg")


#: The folder of the cards in public/ (joined once, not for each card).
_CARDS = paths.ASSETS / "cards"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as drawn: its text, font, colour and top-left origin on the card."""

    text: str
    font: Font
    colour: tuple[int, int, int]
    x: int
    y: int

    @property
    def bbox(self) -> Box:
        """The pixels the line can ink, on the card (left, top, right, bottom)."""
        left, top, right, bottom = self.font.getbbox(self.text)
        return (self.x + int(left), self.y + int(top), self.x + int(right), self.y + int(bottom))


@functools.cache
def font_file(bold: bool) -> Path | None:
    """The DejaVu Sans file on this system, or None (Pillow's own font is used then)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return next((d / name for d in FONT_DIRS if (d / name).is_file()), None)


@functools.cache
def font(size: int, *, bold: bool = False) -> Font:
    """DejaVu Sans at ``size`` pixels, or Pillow's built-in scalable font when DejaVu is missing."""
    path = font_file(bold)
    if path is not None:
        with contextlib.suppress(OSError):
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def text_box(*, artwork: bool) -> Box:
    """The part of the card the text may use: right of the artwork, inside the margins."""
    left = 2 * MARGIN + ART if artwork else MARGIN
    return (left, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN)


def layout(title: str, guests: Sequence[str], show_title: str, box: Box) -> tuple[Line, ...]:
    """Every line of a card's text, placed inside ``box``: the show on top, the guests at the
    bottom, the title between them, wrapped and shrunk to fit, then cut with an ellipsis."""
    left, top, right, bottom = box
    width = right - left
    lines: list[Line] = []
    show_font = font(SHOW_SIZE)
    lines.append(Line(_wrap(show_title, show_font, width, 1)[0][0], show_font, SHOW_COLOUR, left, top))
    y = top + _line_height(show_font) + SHOW_SIZE // 2
    guest_font = font(GUESTS_SIZE)
    guest_lines = _wrap(", ".join(guests), guest_font, width, GUEST_LINES)[0] if guests else []
    guests_top = bottom - len(guest_lines) * _line_height(guest_font)
    for index, text in enumerate(guest_lines):
        lines.append(Line(text, guest_font, GUESTS_COLOUR, left, guests_top + index * _line_height(guest_font)))
    room = guests_top - (GUESTS_SIZE // 2 if guest_lines else 0) - y
    for size in TITLE_SIZES:
        title_font = font(size, bold=True)
        height = _line_height(title_font)
        most = max(1, room // height)
        wrapped, cut = _wrap(title, title_font, width, most)
        if not cut:
            break
    lines += [Line(text, title_font, TITLE_COLOUR, left, y + i * height) for i, text in enumerate(wrapped)]
    return tuple(_aligned(lines, right))


def _aligned(lines: list[Line], right: int) -> list[Line]:
    """Lines of a right-to-left script (Arabic, Hebrew) moved to end at the box's right edge."""
    placed = []
    for line in lines:
        if _right_to_left(line.text):
            shift = right - line.bbox[2]
            line = Line(line.text, line.font, line.colour, line.x + max(0, shift), line.y)
        placed.append(line)
    return placed


def _right_to_left(text: str) -> bool:
    """Whether the first letter with a direction is written right to left."""
    for character in text:
        direction = unicodedata.bidirectional(character)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _line_height(font: Font) -> int:
    ascent, descent = font.getmetrics()  # type: ignore[union-attr]
    return int(ascent) + int(descent)


@functools.lru_cache(maxsize=4096)
def _length(font: Font, text: str) -> float:
    """How long ``text`` is set in ``font``: measured once per process for the texts every
    card repeats (the show's name, words of titles and names)."""
    return font.getlength(text)


def _wrap(text: str, font: Font, width: int, most: int) -> tuple[list[str], bool]:
    """``text`` in at most ``most`` lines no wider than ``width``, and whether it was cut: broken
    at spaces, and inside words too long for a line (and scripts written without spaces); the
    last line of a cut text ends with "…"."""
    tokens: list[tuple[str, bool]] = []  # (piece, whether a space comes before it)
    for word in text.split():
        if _length(font, word) <= width:
            tokens.append((word, True))
        else:
            # CJK titles and very long words: any character may start a line.
            tokens += [(character, index == 0) for index, character in enumerate(word)]
    lines: list[str] = []
    current = ""
    for token, spaced in tokens:
        joined = f"{current} {token}" if current and spaced else current + token
        if not current or _length(font, joined) <= width:
            current = joined
        else:
            lines.append(current)
            current = token
    lines.append(current)
    if len(lines) <= most:
        return lines, False
    kept = lines[:most]
    last = kept[-1]
    while last and _length(font, last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return kept, True


def render(title: str, guests: Sequence[str], show_title: str, artwork: Image.Image | None) -> Image.Image:
    """The card as an image; the text is drawn clipped to :func:`text_box`."""
    canvas = _blank(artwork)
    box = text_box(artwork=artwork is not None)
    _letter(canvas, box, layout(title, guests, show_title, box), _layer(box))
    return canvas


def _blank(artwork: Image.Image | None) -> Image.Image:
    """A card with its artwork and no text."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    if artwork is not None:
        canvas.paste(artwork, (MARGIN, MARGIN))
    return canvas


def _layer(box: Box) -> Image.Image:
    """A transparent layer the size of ``box``."""
    left, top, right, bottom = box
    return Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))


def _letter(canvas: Image.Image, box: Box, lines: Sequence[Line], layer: Image.Image, *, drawn: int = 0) -> None:
    """Draw ``lines`` on ``layer`` (transparent, the size of ``box``: not a pixel can land
    outside it; the first ``drawn`` lines are on it already), then blend its ink into
    ``canvas`` at ``box``."""
    left, top = box[0], box[1]
    draw = ImageDraw.Draw(layer)
    for line in lines[drawn:]:
        _write(draw, line, box)
    # Only the parts holding ink are blended in: a transparent pixel leaves the canvas as it is,
    # and blending the whole box cost a fifth of a card. The layer is cut in bands, at each
    # line's top, and each band's ink blended on its own: the same pixels, each blended once
    # (a pixel's blend depends on that pixel alone), without the empty rows and margins
    # between the show's name, the title and the guests (half the box, blended for nothing).
    width, height = layer.size
    cuts = sorted({0, height, *(min(max(line.y - top, 0), height) for line in lines)})
    for start, end in itertools.pairwise(cuts):
        band = layer.crop((0, start, width, end))
        inked = band.getbbox()
        if inked is not None:
            ink = band.crop(inked)
            canvas.paste(ink, (left + inked[0], top + start + inked[1]), ink)


def _write(draw: ImageDraw.ImageDraw, line: Line, box: Box) -> None:
    """Draw ``line`` on a layer of ``box``."""
    draw.text((line.x - box[0], line.y - box[1]), line.text, font=line.font, fill=line.colour)


class _Easel:
    """The canvas and text layer a process draws its cards on, one card after the other: a new
    card and layer for each (4 MB of fresh memory) with the artwork pasted again were about a
    sixth of drawing a card. The canvas keeps its artwork; the text box, the only part a card's
    text is drawn on, is blanked before each card, and the whole layer made transparent but
    for the show's name, drawn first on every card (one of its four lines, drawn once), so
    that each card starts from exactly what :func:`render` has once it drew that line."""

    def __init__(self) -> None:
        #: One card at a time (a process serving pages may build from more than one thread).
        self.lock = threading.Lock()
        self._artwork: Image.Image | None = None
        self._canvas: Image.Image | None = None
        self._layer: Image.Image | None = None
        #: The layer of a box with only a first line drawn on it, and that box and line.
        self._primed: tuple[Box, Line, Image.Image] | None = None

    def clear(self) -> None:
        """Let go of the canvas and layers (the next card makes them anew)."""
        with self.lock:
            self._artwork = self._canvas = self._layer = None
            self._primed = None

    def ready(self, artwork: Image.Image | None, box: Box, first: Line) -> tuple[Image.Image, Image.Image]:
        """The canvas, holding ``artwork`` (compared by identity: a fitted artwork is never
        changed) and nothing in ``box``, and a layer the size of ``box`` holding ``first``
        alone; hold :attr:`lock` while they are used."""
        if self._canvas is None or self._artwork is not artwork:
            self._canvas, self._artwork = _blank(artwork), artwork
        else:
            self._canvas.paste(BACKGROUND, box)
        if self._primed is None or self._primed[:2] != (box, first):
            primed = _layer(box)
            _write(ImageDraw.Draw(primed), first, box)
            self._primed = (box, first, primed)
        primed = self._primed[2]
        if self._layer is None or self._layer.size != primed.size:
            self._layer = primed.copy()
        else:
            self._layer.paste(primed, (0, 0))
        return self._canvas, self._layer


_EASEL = _Easel()


#: Fitted artworks by their file's stamp, the most recently used last.
_FITTED: OrderedDict[Stamp, Image.Image | None] = OrderedDict()
#: How many :data:`_FITTED` keeps (about 1 MB each): the show's and a few episodes' own.
_FITTED_MOST = 8


def _fitted(stamp: Stamp) -> Image.Image | None:
    """The artwork of ``stamp`` cropped and resized to the card's square, flattened on white;
    None when Pillow cannot read it (the checks report why, and the card goes without).

    Most episodes share the show's artwork: decoding and resizing it again for each card was
    three quarters of a cold build. Kept per process by the file's stamp, a few at a time (even
    from a file that is not :func:`settled`: a build reads each file once, whatever the time,
    so that its work does not depend on how fast it runs). Callers must not change the image.
    """
    if stamp in _FITTED:
        _FITTED.move_to_end(stamp)
        return _FITTED[stamp]
    image = _FITTED[stamp] = _fit(Path(stamp[0]))
    if len(_FITTED) > _FITTED_MOST:
        _FITTED.popitem(last=False)
    return image


def _fit(path: Path) -> Image.Image | None:
    try:
        image = ImageOps.fit(upright(path), (ART, ART), Image.Resampling.LANCZOS)
    except (ImageTooLarge, OSError, ValueError, SyntaxError):
        return None
    if image.mode != "RGB":
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.split()[3])
        image = flat
    return image


def _source(show: Show, episode: Episode) -> Path | None:
    reference = episode.cover_image or show.cover_image
    if is_remote(reference):
        copy = remote_images.local_copy(show.root, reference)
        return copy if isinstance(copy, Path) else None
    return show.root / reference


def prepare(show: Show) -> None:
    """Fit the show's artwork for the cards now if it is still decoded (the site's cover and
    icon are made from it just before): the cards drawn next, in this process or in the forked
    workers of a cold build, share that one decode. Does nothing otherwise (a rebuild whose
    pictures all come from the cache decodes nothing)."""
    reference = show.cover_image
    source = None if is_remote(reference) else show.root / reference
    if source is not None and images.holds(source):
        stamp = source_stamp(source)
        if stamp is not None:
            _fitted(stamp)


def shares_decode(show: Show, episode: Episode) -> bool:
    """Whether the episode's artwork is decoded in this process now (its cover's thumbnail was
    just made here): its card drawn now shares that decode, rather than decoding it again."""
    source = _source(show, episode)
    return source is not None and images.holds(source)


def card(show: Show, episode: Episode) -> Content:
    """An episode's card as JPEG bytes, or the cache's file of them when nothing that shapes it
    changed (a build draws or finds all its cards through one :class:`Deck`)."""
    return Deck(show).card(episode)


class Deck:
    """The cards of one build: what every card shares (the show, its artwork's stamp, the fonts
    and code that draw) taken once, so that a kept card costs a digest of its own text, a look
    in the cache's index and the stat the ledger trusts it by (a json.dumps of the whole key
    and a stat of the artwork per card were most of a kept card's cost at 10,000 episodes)."""

    def __init__(self, show: Show) -> None:
        self._show = show
        self._cache = ImageCache(show.root)
        # The cache's key, written in pieces: the same text as thumbnails.identity() gives for
        # the whole key (kept cards stay valid), "[kind, Pillow, " first.
        self._head = identity(_KIND, ())[:-1] + ", "
        #: By artwork reference: its stamp, the key's text after the card's own title and guests,
        #: and whether a card made from it may be kept (its file :func:`settled` when first asked).
        self._tails: dict[str, tuple[Stamp | None, str, bool]] = {}

    def card(self, episode: Episode) -> Content:
        """An episode's card as JPEG bytes, or the cache's file of them when nothing that shapes it changed."""
        try:
            name, hexdigest, kept = self._look(episode)
            return kept if kept is not None else self._made(episode, name, hexdigest)
        finally:
            # The card is an episode's last picture (its cover thumbnail comes first, and shared
            # the decoded cover): nothing decoded is held beyond it.
            images.forget()

    def cards(self, episodes: Sequence[Episode]) -> list[Content]:
        """The card of each episode, as :meth:`card` gives it. When many must be drawn (a cold
        build), forked workers draw them (a card is about 10 ms of CPU, as much as the pages of
        its episode) and write them into the cache; this process notes each one a worker
        drew by the digest it sends back, without reading the picture (the ledger checks it
        once it has settled, as it does every file a build writes)."""
        with gcpause.paused():
            looked = [self._look(episode) for episode in episodes]
        found: list[Content | None] = [kept for _, _, kept in looked]
        missing = [index for index, (_, _, kept) in enumerate(looked) if kept is None]
        drawers = {index: self._drawer(episodes[index]) for index in missing}
        missing = [index for index in missing if drawers[index][1]]  # those that may be kept
        if unitcache.parallel(len(missing)):
            wanted = [[(looked[i][0], looked[i][1], drawers[i][0])] for i in missing]
            for index, drawn in zip(missing, self._cache.made_in_workers(wanted), strict=True):
                found[index] = drawn[0]
        # What no worker drew (none ran, or one failed: its error is raised here).
        with gcpause.paused():
            made = [
                self._made(episodes[index], *looked[index][:2]) if card is None else card
                for index, card in enumerate(found)
            ]
        # Nothing decoded held past the cards (a cover decoded for the pages and shared by
        # several episodes, whose cards the workers drew, is up to 27 MB), nor the canvas and
        # layers (5 MB, held through the write of an edit that drew one card otherwise).
        images.forget()
        _EASEL.clear()
        return made

    def missing(self, episode: Episode) -> Entry | None:
        """An episode's card as an entry of the image cache to make, when it is not kept and
        may be (see :meth:`ImageCache.made_in_workers`); None otherwise."""
        name, hexdigest, kept = self._look(episode)
        if kept is not None:
            return None
        make, keep = self._drawer(episode)
        return (name, hexdigest, make) if keep else None

    def _made(self, episode: Episode, name: str, hexdigest: str) -> Content:
        """An episode's card drawn here, kept as entry ``name`` if it may be."""
        try:
            make, keep = self._drawer(episode)
            data = make()
            return (self._cache.put(name, hexdigest, data) if keep else None) or data
        finally:
            images.forget()

    def _look(self, episode: Episode) -> tuple[str, str, Stored | None]:
        """An episode's card in the cache: its entry's name, its key's SHA-256, its file if kept."""
        show = self._show
        reference = episode.cover_image or show.cover_image
        tail = self._tails.get(reference)
        if tail is None:
            source = _source(show, episode)
            artwork = source_stamp(source) if source is not None else None
            # ", show title, artwork, drawing]": the text of a list, its "[" cut.
            text = json.dumps([show.title, artwork, *_drawing()], ensure_ascii=False)
            keep = artwork is None or settled(artwork)
            tail = self._tails[reference] = (artwork, ", " + text[1:], keep)
        # json.dumps([title, guests], ensure_ascii=False)[1:-1], written with the function
        # json.dumps quotes each string with: without its encoder made anew for each card.
        own = f"{_quoted(episode.title)}, [{', '.join([_quoted(person.name) for person in episode.guests])}]"
        name, hexdigest = entry_name(_KIND, self._head + own + tail[1], ".jpg")
        return name, hexdigest, self._cache.kept(name, hexdigest)

    def _drawer(self, episode: Episode) -> tuple[Callable[[], bytes], bool]:
        """How to draw an episode's card (once :meth:`_look` ed at), and whether it may be kept."""
        artwork, _, keep = self._tails[episode.cover_image or self._show.cover_image]
        guests = [person.name for person in episode.guests]
        return functools.partial(_draw, episode.title, guests, self._show.title, artwork), keep


#: How json.dumps writes a string with ensure_ascii=False (quoted, ``"``, ``\\`` and controls escaped).
_quoted = json.encoder.encode_basestring

#: The image cache's kind of entry for cards.
_KIND = "card"


def _draw(title: str, guests: list[str], show_title: str, artwork: Stamp | None) -> bytes:
    """A card's JPEG bytes: :func:`render`'s picture, drawn on this process's :class:`_Easel`."""
    fitted = _fitted(artwork) if artwork is not None else None
    box = text_box(artwork=fitted is not None)
    lines = layout(title, guests, show_title, box)
    buffer = io.BytesIO()
    with _EASEL.lock:
        canvas, layer = _EASEL.ready(fitted, box, lines[0])
        _letter(canvas, box, lines, layer, drawn=1)
        canvas.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


@functools.cache
def _drawing() -> tuple[object, ...]:
    """What shapes every card besides its own text and artwork: this code, the fonts, the
    text engine (Pillow's version is in every cache key). Taken once per process, as the
    fonts' sizes always were."""
    fonts = [[str(path), _size(path) if path else 0] for path in (font_file(False), font_file(True))]
    return (VERSION, fonts, _engine())


@functools.cache
def _size(path: Path) -> int:
    return path.stat().st_size


@functools.cache
def _engine() -> str | None:
    return features.version("raqm") if features.check_feature("raqm") else None
