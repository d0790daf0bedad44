"""Social cards: a 1200x630 picture per episode, its text inside the card whatever the title."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from PIL import Image, ImageChops, ImageDraw

from conftest import NOW
from entretiens import cards
from entretiens.publish import publish
from showbuilder import episode, make_show

LONG_LATIN = ("Une conversation sur la stratégie éditoriale des marques et des médias sociaux, " * 4)[:200]
LONG_CJK = ("渋谷で語るポッドキャストの未来と音声メディアの可能性について" * 10)[:200]
LONG_ARABIC = ("حوار طويل عن مستقبل البودكاست والإعلام الصوتي في العالم العربي " * 5)[:200]
GUESTS = ["Marie-Thérèse de La Rochefoucauld-Montmorency", "山田 太郎", "أحمد بن علي"]


@pytest.fixture(params=["dejavu", "pillow-default"])
def fonts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with DejaVu, then as on a machine without it (Pillow's own font)."""
    if request.param == "dejavu":
        assert cards.font_file(bold=True) is not None, "DejaVu missing: install fonts-dejavu-core"
    else:
        monkeypatch.setattr(cards, "FONT_DIRS", ())
    cards.font_file.cache_clear()
    cards.font.cache_clear()
    yield request.param
    cards.font_file.cache_clear()
    cards.font.cache_clear()


def _artwork() -> Image.Image:
    return Image.new("RGB", (cards.ART, cards.ART), (240, 120, 80))


@pytest.mark.parametrize("title", [LONG_LATIN, LONG_CJK, LONG_ARABIC, "Court"], ids=["latin", "cjk", "arabic", "short"])
@pytest.mark.parametrize("with_artwork", [True, False], ids=["artwork", "no-artwork"])
def test_the_text_stays_inside_its_box_and_touches_nothing_else(fonts: str, title: str, with_artwork: bool) -> None:
    artwork = _artwork() if with_artwork else None
    box = cards.text_box(artwork=with_artwork)
    lines = cards.layout(title, GUESTS, "Entretiens, le podcast " * 5, box)
    assert lines
    for line in lines:
        left, top, right, bottom = line.bbox
        assert box[0] <= left and right <= box[2] and box[1] <= top and bottom <= box[3], (line.text, line.bbox, box)
    # Lines never overlap: each starts below the one before.
    ordered = sorted(lines, key=lambda line: line.y)
    tops = [line.bbox[1] for line in ordered]
    bottoms = [line.bbox[3] for line in ordered]
    assert all(bottoms[i] <= tops[i + 1] + 2 for i in range(len(lines) - 1))
    if len(title) == 200:
        assert any(line.text.endswith(cards.ELLIPSIS) for line in lines), "a 200-character title is cut"
    drawn = cards.render(title, GUESTS, "Entretiens, le podcast " * 5, artwork)
    blank = cards.render("", [], "", artwork)
    assert drawn.size == (cards.WIDTH, cards.HEIGHT)
    difference = ImageChops.difference(drawn, blank)
    assert difference.getbbox() is not None, "the text was drawn"
    # Outside the lines' boxes, not one pixel differs from the card without text.
    mask = ImageDraw.Draw(difference)
    for line in lines:
        mask.rectangle(line.bbox, fill=(0, 0, 0))
    assert difference.getbbox() is None
    if artwork is not None:
        corner = cards.MARGIN + cards.ART
        assert drawn.crop((cards.MARGIN, cards.MARGIN, corner, corner)).tobytes() == artwork.tobytes()


def test_a_title_that_fits_is_not_cut(fonts: str) -> None:
    lines = cards.layout("Une heure avec Marie", ["Marie Curie"], "Entretiens", cards.text_box(artwork=True))
    title = [line for line in lines if line.colour == cards.TITLE_COLOUR]
    assert " ".join(line.text for line in title) == "Une heure avec Marie"
    assert title[0].font.size == cards.TITLE_SIZES[0]  # type: ignore[union-attr]
    assert [line.text for line in lines if line.colour == cards.GUESTS_COLOUR] == ["Marie Curie"]


def _published(tmp_path: Path, title: str) -> tuple[Path, Path]:
    guests = {"guests": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
    root = make_show(
        tmp_path / "show", {"001-first": {**episode(1), "title": title, **guests}, "002-second": episode(2)}
    )
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    return root, out


def test_every_episode_page_shares_its_card(tmp_path: Path) -> None:
    _, out = _published(tmp_path, LONG_LATIN)
    for slug in ("001-first", "002-second"):
        card = out / "assets" / "cards" / f"{slug}.jpg"
        with Image.open(card) as image:
            assert image.format == "JPEG"
            assert image.size == (1200, 630)
        page = lxml.html.fromstring((out / slug / "index.html").read_bytes())

        def meta(key: str, page: lxml.html.HtmlElement = page) -> list[str]:
            return [str(v) for v in page.xpath(f"//meta[@property='{key}' or @name='{key}']/@content")]

        url = f"https://podcast.example.org/show/assets/cards/{slug}.jpg"
        assert meta("og:image") == [url]
        assert meta("twitter:image") == [url]
        assert meta("twitter:card") == ["summary_large_image"]
        assert meta("og:image:width") == ["1200"]
        assert meta("og:image:height") == ["630"]
    alt = lxml.html.fromstring((out / "001-first" / "index.html").read_bytes()).xpath(
        "//meta[@property='og:image:alt']/@content"
    )
    assert "Ada Lovelace" in alt[0]
    # The home page keeps the square artwork.
    home = lxml.html.fromstring((out / "index.html").read_bytes())
    assert home.xpath("//meta[@name='twitter:card']/@content") == ["summary"]


def test_cards_are_the_same_bytes_on_every_build(tmp_path: Path) -> None:
    root, out = _published(tmp_path, "Même titre")
    first = (out / "assets" / "cards" / "001-first.jpg").read_bytes()
    # From the cache, then drawn anew without it: the same bytes both times.
    publish(root, out, now=NOW)
    assert (out / "assets" / "cards" / "001-first.jpg").read_bytes() == first
    for cached in (root / ".entretiens" / "cache" / "images").glob("card-*"):
        cached.unlink()
    publish(root, out, now=NOW)
    assert (out / "assets" / "cards" / "001-first.jpg").read_bytes() == first
    # A new title makes a new card.
    path = root / "episodes" / "001-first.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Même titre", "Autre titre"), encoding="utf-8")
    publish(root, out, now=NOW)
    changed = (out / "assets" / "cards" / "001-first.jpg").read_bytes()
    assert changed != first
    with Image.open(io.BytesIO(changed)) as image:
        assert image.size == (1200, 630)


def _encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _sequence() -> list[tuple[str, list[str], str, Image.Image | None]]:
    """Cards one after the other as a build draws them: the show's artwork, an episode's own,
    none; titles and guests of every length and script, the show's name changing too."""
    show, own = _artwork(), Image.new("RGB", (cards.ART, cards.ART), (30, 160, 90))
    artworks = [show, show, show, own, own, None, None, show]
    titles = [LONG_LATIN, "Court", LONG_CJK, LONG_ARABIC, "g y p q j Éé ÀÇ descenders", "W" * 90, "Court", LONG_LATIN]
    shows = ["Test Talks", "Test Talks", "برنامج", "Une émission", "Test Talks", "Test Talks", "Autre", "Test Talks"]
    return [
        (title, GUESTS[: index % 3], name, artwork)
        for index, (title, name, artwork) in enumerate(zip(titles * 2, shows * 2, artworks * 2, strict=True))
    ]


def test_cards_drawn_one_after_another_are_those_drawn_each_on_a_new_canvas(
    fonts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process draws its cards on one canvas and layer (see cards._Easel): each card is the
    bytes render() gives for it on its own, whatever was drawn before it."""
    sequence = _sequence()
    fresh = [_encoded(cards.render(*card)) for card in sequence]
    fitted = {id(artwork): artwork for *_, artwork in sequence if artwork is not None}
    stamps = {f"stamp {key}": artwork for key, artwork in fitted.items()}
    monkeypatch.setattr(cards, "_fitted", lambda stamp: stamps[stamp])
    cards._EASEL.__init__()  # type: ignore[misc]
    drawn = [
        cards._draw(title, guests, show, None if artwork is None else f"stamp {id(artwork)}")  # type: ignore[arg-type]
        for title, guests, show, artwork in sequence
    ]
    assert drawn == fresh
    assert len(set(drawn)) > len(drawn) // 2


def test_a_process_draws_its_cards_on_one_canvas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work per card drawn: no new 1200x630 canvas nor text layer once the first card is drawn
    (each was 4 MB of fresh memory and the artwork pasted again), and the show's name, the same
    on every card, set once rather than once a card."""
    artwork = _artwork()
    monkeypatch.setattr(cards, "_fitted", lambda stamp: artwork)
    cards._EASEL.__init__()  # type: ignore[misc]
    made: list[tuple[int, int]] = []
    written: list[str] = []
    new, text = Image.new, ImageDraw.ImageDraw.text

    def counting_new(mode: str, size: tuple[int, int], *args: object, **kwargs: object) -> Image.Image:
        made.append(size)
        return new(mode, size, *args, **kwargs)  # type: ignore[arg-type]

    def counting_text(self: ImageDraw.ImageDraw, xy: object, line: str, *args: object, **kwargs: object) -> None:
        written.append(line)
        text(self, xy, line, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "new", counting_new)
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", counting_text)
    cards._draw("First", ["Ana"], "Test Talks", ("artwork", 1, 2, 3, 4))
    first = (len(made), len(written))
    made.clear()
    written.clear()
    for number in range(10):
        cards._draw(f"Talk {number}", ["Ana"], "Test Talks", ("artwork", 1, 2, 3, 4))
    large = [size for size in made if size[0] * size[1] > 100_000]
    assert large == [], "a new canvas or layer for each card"
    assert written.count("Test Talks") == 0, "the show's name set again for each card"
    assert len(written) == 2 * 10  # each card's title and guests
    assert first[1] == 3
