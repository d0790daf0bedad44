"""What a publish imports: a show whose files are all local never loads the HTTP stack."""

from __future__ import annotations

from pathlib import Path

from showbuilder import episode, make_show, publish_in_fresh_interpreter

#: Imported only by what talks to a server (remote audio and images, deploy, links, import).
_HTTP = ("entretiens.net", "requests", "urllib3")


def test_a_local_show_is_published_without_importing_the_http_stack(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    assert publish_in_fresh_interpreter(root, _HTTP, "--quiet")[0] == []
    assert (root / "public" / "feed.xml").is_file()


def test_an_image_named_by_url_still_loads_it_when_needed(tmp_path: Path) -> None:
    # The other side of the lazy import: a show with an image URL does reach the downloader
    # (the fetch fails on an address nothing listens on, which only warns).
    root = make_show(tmp_path / "show", {"001-first": episode(1, image="https://127.0.0.1:9/cover.jpg")})
    assert "entretiens.net" in publish_in_fresh_interpreter(root, _HTTP, "--quiet")[0]
