"""Hostile audio, images and transcripts in a show folder: a located error or warning, bounded memory.

Each case reproduces a defect found by trying the tool as a hostile user (issue 13). Big files
are sparse (they cost no disk) or compress to little, and live under tmp_path.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import mutagen.id3
import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from audiogen import write_m4a
from entretiens.cli import cli
from hostile_servers import Request, Server, answer, self_signed, serve, tls_context
from showbuilder import BASE_URL, episode, make_show

EPISODE = "episodes/001-first.yaml"
# mutagen's classes carry no annotations; reach them through an untyped name.
_ID3: Any = mutagen.id3


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "bug in entretiens" not in output, output
    return result.exit_code, output


def _located(output: str, file: str, line: int | None, field: str) -> bool:
    """Whether a problem is reported at ``file``, ``line`` and ``field`` by publish or by check."""
    where = f"{file}:{line}" if line else file
    if f"{where}: {field}:" in output:
        return True
    blocks = re.split(r"\n(?=\S)", output)
    pattern = rf"\n  {line}: [a-z]+: {re.escape(field)}:" if line else rf"\n  [a-z]+: {re.escape(field)}:"
    return any(block.startswith(file + "\n") and re.search(pattern, block) for block in blocks)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def _peak_memory_mb(*args: str) -> tuple[int, str, float]:
    """Run the command line in a fresh process; its exit code, output and peak memory in MB."""
    # VmHWM, not getrusage's ru_maxrss: Linux carries the parent's (pytest's) high-water mark
    # across fork and exec into ru_maxrss, while VmHWM belongs to the new program's memory.
    code = (
        "import sys\n"
        "from entretiens.cli import cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:], prog_name='entretiens')\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "with open('/proc/self/status') as status_file:\n"
        "    peak = [line.split()[1] for line in status_file if line.startswith('VmHWM:')][0]\n"
        "print('PEAK', peak, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    # Started from a small Python process: Linux hands a process the resident size of its parent
    # at fork as its starting peak, so a command spawned straight from pytest (hundreds of MB
    # after many tests) would report pytest's memory, not its own.
    launcher = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
    command = [sys.executable, "-c", launcher, sys.executable, "-c", code, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK ")]
    assert peak, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr, int(peak[-1].split()[1]) / 1024


# -- chapters --------------------------------------------------------------------------------------


def test_more_than_255_chapters_are_tagged_up_to_255_with_a_warning(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-first": episode(1)}, seconds=320)
    _append(root / EPISODE, "chapters:\n" + "".join(f"- start: {i}\n  title: Part {i}\n" for i in range(300)))
    code, output = _run("publish", "--show", str(root), "--tag-audio")
    assert code == 0, output
    assert f"Warning: {EPISODE}:" in output and "255" in output
    published = json.loads((root / "public" / "001-first" / "chapters.json").read_text(encoding="utf-8"))
    assert len(published["chapters"]) == 300
    tag = _ID3.ID3(root / "public" / "audio" / "001.mp3")
    assert len(tag.getall("CHAP")) == 255
    (toc,) = tag.getall("CTOC")
    assert len(toc.child_element_ids) == 255


# -- transcripts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-Infinity", "1e309", "9" * 5000, "[" * 100_000 + "]" * 100_000],
    ids=["nan", "infinity", "minus-infinity", "1e309", "5000-digits", "deep"],
)
def test_hostile_json_transcripts_are_located_errors(tmp_path: Path, value: str) -> None:
    root = make_show(tmp_path / "show")
    (root / "transcripts").mkdir()
    (root / "transcripts" / "t.json").write_text(
        '{"version": "1.0.0", "segments": [\n{"startTime": 0, "endTime": 1, "body": "a"},\n'
        f'{{"startTime": {value}, "endTime": 2, "body": "b"}}\n]}}\n',
        encoding="utf-8",
    )
    _append(root / EPISODE, "transcript: transcripts/t.json\n")
    for command in ("check", "publish"):
        code, output = _run(command, "--show", str(root))
        assert code == 1, output
        assert "transcripts/t.json" in output and "[transcript-syntax]" in output, output
    assert not (root / "public").exists()


def test_a_transcript_linked_to_a_show_file_is_refused(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "transcripts").mkdir()
    (root / "transcripts" / "t.json").symlink_to(root / EPISODE)
    _append(root / EPISODE, "transcript: transcripts/t.json\n")
    for command in ("check", "publish"):
        code, output = _run(command, "--show", str(root))
        assert code == 1, output
        assert _located(output, EPISODE, 10, "transcript"), output
    assert not (root / "public").exists()


# -- audio -----------------------------------------------------------------------------------------


def test_gigabytes_of_zeros_after_the_audio_are_warned_about(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    audio = root / "audio" / "001.mp3"
    size = audio.stat().st_size
    with audio.open("r+b") as file:  # sparse: costs no disk
        file.truncate(size + 64 * 1024 * 1024)
    code, output = _run("check", "--show", str(root))
    assert code == 0, output
    assert f"{EPISODE}" in output and "audio/001.mp3" in output and "not audio" in output, output


def test_a_huge_id3_tag_is_refused_without_reading_it(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    audio = root / "audio" / "001.mp3"
    data = audio.read_bytes()
    size = 250_000_000
    syncsafe = bytes([size >> 21 & 0x7F, size >> 14 & 0x7F, size >> 7 & 0x7F, size & 0x7F])
    with audio.open("wb") as file:  # a tag of zeros (padding), sparse
        file.write(b"ID3\x03\x00\x00" + syncsafe)
        file.seek(10 + size)
        file.write(data)
    code, output, peak = _peak_memory_mb("check", "--show", str(root))
    assert code == 1, output
    assert _located(output, EPISODE, 5, "audio") and "ID3" in output, output
    assert peak < 200, f"{peak:.0f} MB"


def test_an_m4a_claiming_136_years_is_refused(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-first": episode(1, audio="audio/001.m4a")}, seconds=0)
    (root / "audio").mkdir(exist_ok=True)
    audio = write_m4a(root / "audio" / "001.m4a", 3.0)
    data = bytearray(audio.read_bytes())
    at = data.find(b"mdhd")
    assert data[at + 4] == 0  # version 0: 32-bit fields
    struct.pack_into(">II", data, at + 16, 1, 0xFFFFFFF0)  # timescale 1 Hz, 2^32 s
    audio.write_bytes(data)
    for command in ("check", "publish"):
        code, output = _run(command, "--show", str(root))
        assert code == 1, output
        assert _located(output, EPISODE, 5, "audio") and "audio/001.m4a" in output, output
    assert not (root / "public").exists()


# -- images ----------------------------------------------------------------------------------------


def _png_bomb(path: Path, side: int, *, rgba: bool = False) -> Path:
    """A PNG of ``side`` x ``side`` black pixels: a few hundred KB on disk, huge once decoded."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\0" * (side * (4 if rgba else 1) + 1)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6 if rgba else 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize(("side", "rgba"), [(20_000, False), (11_000, True)], ids=["400-mpx", "121-mpx-rgba"])
def test_image_bombs_as_guest_photos_are_refused_in_bounded_memory(tmp_path: Path, side: int, rgba: bool) -> None:
    root = make_show(tmp_path / "show")
    _png_bomb(root / "bomb.png", side, rgba=rgba)
    path = root / EPISODE
    path.write_text(
        path.read_text(encoding="utf-8").replace("bio: Bio of guest 1.", "bio: Bio of guest 1.\n  image: bomb.png"),
        encoding="utf-8",
    )
    for command in ("check", "publish"):
        code, output, peak = _peak_memory_mb(command, "--show", str(root))
        assert code == 1, output
        assert _located(output, EPISODE, 10, "guests[0].image") and "pixels" in output, output
        assert peak < 250, f"{command}: {peak:.0f} MB"
    assert not (root / "public").exists()
    assert os.path.getsize(root / "bomb.png") < 2_000_000


# -- images from other hosts -----------------------------------------------------------------------

_REMOTE = "https://tracker.example/pixel.gif"


def _loaded_from_elsewhere(folder: Path, own: str) -> list[str]:
    """Every address a published page or the feed's show notes would load from another host."""
    found = []
    for page in sorted(folder.rglob("*.html")):
        document = lxml.html.document_fromstring(page.read_bytes())
        for address in document.xpath("//img/@src | //script/@src | //source/@src | //link[@rel!='alternate']/@href"):
            if "://" in address and not address.startswith(own):
                found.append(f"{page.relative_to(folder)}: {address}")
    feed = etree.fromstring((folder / "feed.xml").read_bytes())
    for encoded in feed.iter("{http://purl.org/rss/1.0/modules/content/}encoded", "description"):
        fragment = lxml.html.fragment_fromstring(encoded.text or "<p></p>", create_parent="div")
        found += [f"feed.xml: {src}" for src in fragment.xpath("//img/@src") if not src.startswith(own)]
    return found


def test_images_from_other_hosts_in_text_are_left_out_with_a_warning(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-first": episode(1)})
    path = root / EPISODE
    text = path.read_text(encoding="utf-8").replace(
        "bio: Bio of guest 1.", f'bio: "Hello ![pixel]({_REMOTE}) <img src=//tracker.example/b.png>"'
    )
    text += f'notes: "Notes <img src=\\"{_REMOTE}\\" alt=x> and ![local](artwork.png)"\n'
    text += "transcript: transcripts/t.html\n"
    path.write_text(text, encoding="utf-8")
    (root / "transcripts").mkdir()
    (root / "transcripts" / "t.html").write_text(f'<p>Words</p><img src="{_REMOTE}">\n', encoding="utf-8")
    code, output = _run("publish", "--show", str(root))
    assert code == 0, output
    assert _located(output, EPISODE, 10, "notes") and "[remote-image]" in output, output
    assert _located(output, EPISODE, 9, "guests[0].bio"), output
    assert "transcripts/t.html" in output and "//tracker.example/b.png" in output, output
    public = root / "public"
    assert _loaded_from_elsewhere(public, BASE_URL) == []
    assert "tracker.example" not in (public / "001-first" / "index.html").read_text(encoding="utf-8")
    assert "tracker.example" not in (public / "feed.xml").read_text(encoding="utf-8")
    published = [p for p in public.rglob("*.html") if "t" in p.name and "tracker.example" in p.read_text("utf-8")]
    assert published == []


def _photo(size: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def photo_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """An https server on 127.0.0.1 serving /photo.jpg, /missing, /page.html and /bomb.png."""
    (tmp_path / "tls").mkdir()
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    bomb = _png_bomb(tmp_path / "bomb.png", 20_000).read_bytes()
    routes = {
        "/photo.jpg": ("200 OK", _photo(), "image/jpeg"),
        "/page.html": ("200 OK", b"<html>not an image</html>", "text/html"),
        "/bomb.png": ("200 OK", bomb, "image/png"),
    }

    def handler(server: Server, request: Request, conn: socket.socket) -> None:
        del server
        status, body, kind = routes.get(request.path, ("404 Not Found", b"", "text/plain"))
        answer(conn, status, body, {"Content-Type": kind})

    with serve(handler, tls=tls_context(cert, key)) as server:
        yield server


def test_a_remote_guest_photo_is_downloaded_and_served_from_the_site(tmp_path: Path, photo_server: Server) -> None:
    url = photo_server.url("/photo.jpg")
    root = make_show(tmp_path / "show", {"001-first": episode(1, guests=[{"name": "Ada", "image": url}])})
    code, output = _run("publish", "--show", str(root))
    assert code == 0, output
    public = root / "public"
    assert _loaded_from_elsewhere(public, BASE_URL) == []
    page = lxml.html.document_fromstring((public / "001-first" / "index.html").read_bytes())
    (src,) = [s for s in page.xpath("//img/@src") if "people" in s]
    assert (public / "001-first" / src).resolve().is_file()
    assert len(photo_server.requests) == 1  # fetched once, for the checks and the pages
    code, output = _run("publish", "--show", str(root))
    assert code == 0, output
    assert len(photo_server.requests) == 1  # and kept in the show's cache


@pytest.mark.parametrize(
    ("path", "words"), [("/missing", "404"), ("/page.html", "not an image"), ("/bomb.png", "pixels")]
)
def test_a_remote_guest_photo_that_fails_is_left_out_with_a_warning(
    tmp_path: Path, photo_server: Server, path: str, words: str
) -> None:
    url = photo_server.url(path)
    root = make_show(tmp_path / "show", {"001-first": episode(1, guests=[{"name": "Ada", "image": url}])})
    code, output = _run("publish", "--show", str(root))
    assert code == 0, output
    assert _located(output, EPISODE, 9, "guests[0].image") and words in output, output
    assert "[remote-image-failed]" in output
    public = root / "public"
    assert _loaded_from_elsewhere(public, BASE_URL) == []
    assert not list((root / ".entretiens" / "cache" / "remote-images").glob("*"))
