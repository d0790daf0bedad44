"""Ogg Vorbis and Opus durations: the last page trusted when the file agrees, the pages walked otherwise.

Every file here is a real one written by ffmpeg; the walked answer is the reference the trusted
one must equal.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from audiogen import ffprobe_duration, truncate, write_ogg_vorbis, write_opus
from entretiens.audio import _containers, probe
from entretiens.model import AudioInfo

Writer = Callable[[Path, float], Path]
WRITERS = [pytest.param(write_ogg_vorbis, id="vorbis"), pytest.param(write_opus, id="opus")]


def seconds(info: AudioInfo) -> float:
    return info.duration.total_seconds()


def _no_walk(*_args: object) -> list[object]:
    raise AssertionError("the pages were walked")


class _WalkSpy:
    """Counts the walks and keeps the walked answer."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.walks = 0
        self._walk = _containers._ogg_links
        monkeypatch.setattr(_containers, "_ogg_links", self)

    def __call__(self, reader: object) -> object:
        self.walks += 1
        return self._walk(reader)  # type: ignore[arg-type]


def _walked(path: Path, monkeypatch: pytest.MonkeyPatch) -> AudioInfo:
    """The probe's answer with the end never trusted: what every file got before the trust."""
    with monkeypatch.context() as patch:
        patch.setattr(_containers, "_ogg_trusted_end", lambda _reader: None)
        return probe(path)


def _pages(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every page of a well-formed file."""
    pages, pos = [], 0
    while pos < len(data):
        end = _containers._ogg_whole_page(data, pos)
        assert end > pos
        pages.append((pos, end))
        pos = end
    return pages


def _reference_crc(page: bytes) -> int:
    """RFC 3533's CRC the slow, obvious way: MSB first, polynomial 0x04C11DB7, CRC field zeroed."""
    crc = 0
    for byte in page[:22] + bytes(4) + page[26:]:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1 ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


@pytest.mark.parametrize("writer", WRITERS)
def test_every_page_crc_matches_the_reference_and_the_file(tmp_path: Path, writer: Writer) -> None:
    data = writer(tmp_path / "a.ogg", 2).read_bytes()
    for start, end in _pages(data):
        page = data[start:end]
        assert _containers._ogg_crc(page) == _reference_crc(page) == struct.unpack_from("<I", page, 22)[0]


@pytest.mark.parametrize("writer", WRITERS)
def test_a_file_that_agrees_with_its_last_page_is_not_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Writer
) -> None:
    path = writer(tmp_path / "episode.ogg", 7)
    walked = _walked(path, monkeypatch)
    monkeypatch.setattr(_containers, "_ogg_links", _no_walk)
    info = probe(path)
    assert info == walked
    assert info.duration_method == "header"
    assert seconds(info) == pytest.approx(7, abs=0.05)
    decoded = ffprobe_duration(path)
    if decoded is not None:
        assert seconds(info) == pytest.approx(decoded, abs=0.05)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_file_cut_at_a_page_boundary_ends_at_that_page_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Writer
) -> None:
    # An upload that stopped between two pages: nothing tells it from a stream that ended there
    # without its end-of-stream flag, and the walk gives the same answer.
    path = writer(tmp_path / "cut.ogg", 6)
    data = path.read_bytes()
    pages = _pages(data)
    path.write_bytes(data[: pages[len(pages) // 2][1]])
    walked = _walked(path, monkeypatch)
    monkeypatch.setattr(_containers, "_ogg_links", _no_walk)
    assert probe(path) == walked
    assert 1 < seconds(walked) < 5


def _damage_last_page(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _trailing_junk(path: Path) -> Path:
    path.write_bytes(path.read_bytes() + b"\0" * 100)
    return path


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda path: truncate(path, 0.7), id="truncated"),
        pytest.param(_damage_last_page, id="bad-crc-at-the-end"),
        pytest.param(_trailing_junk, id="junk-after-the-last-page"),
    ],
)
def test_an_end_the_file_does_not_vouch_for_is_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Writer, spoil: Callable[[Path], Path]
) -> None:
    path = spoil(writer(tmp_path / "spoilt.ogg", 6))
    walked = _walked(path, monkeypatch)
    spy = _WalkSpy(monkeypatch)
    assert probe(path) == walked
    assert spy.walks == 1
    assert 1 < seconds(walked) < 6.1


@pytest.mark.parametrize(("first", "second"), [(write_ogg_vorbis, write_opus), (write_opus, write_opus)])
def test_streams_joined_with_cat_are_walked_and_every_link_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: Writer, second: Writer
) -> None:
    one, two = first(tmp_path / "one.ogg", 3), second(tmp_path / "two.ogg", 2)
    chain = tmp_path / "chain.ogg"
    chain.write_bytes(one.read_bytes() + two.read_bytes())
    spy = _WalkSpy(monkeypatch)
    info = probe(chain)
    assert spy.walks == 1
    assert info.duration_method == "measured"
    assert seconds(info) == pytest.approx(5, abs=0.05)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_first_page_with_a_bad_crc_is_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Writer) -> None:
    path = writer(tmp_path / "head.ogg", 3)
    data = bytearray(path.read_bytes())
    data[22] ^= 0x01  # the first page's CRC field
    path.write_bytes(bytes(data))
    spy = _WalkSpy(monkeypatch)
    info = probe(path)
    assert spy.walks == 1
    assert seconds(info) == pytest.approx(3, abs=0.05)
