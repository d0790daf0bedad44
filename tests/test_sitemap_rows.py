"""The sitemap's rows written from the pieces of one row (issue 11): the same bytes as its
template's loop, without a path made and printed for each episode's URL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from entretiens import layout, pagejoin, pipeline, site, templating
from entretiens.model import Release
from sampleshow import SAMPLE_NOW, copy_sample_show


def _whole(show: Any, releases: list[Release], guests: bool, show_date: datetime, dates: dict[str, datetime]) -> bytes:
    """The sitemap as its template's loop writes it, every URL made from the episode's path."""
    ordered = sorted(releases, key=lambda r: (r.episode.date, r.episode.slug), reverse=True)
    newest = show_date.date().isoformat()
    entries = [(show.base_url, newest)]
    if guests:
        entries.append((layout.url_for(show, str(layout.GUESTS_PAGE.parent) + "/"), newest))
    for release in ordered:
        episode = release.episode
        entries.append(
            (
                layout.url_for(show, layout.episode_dir(episode)) + "/",
                dates.get(episode.slug, episode.date).date().isoformat(),
            )
        )
    return templating.render(show, "sitemap.xml.j2", entries=entries).encode("utf-8")


@pytest.fixture
def built(tmp_path: Path) -> pipeline.Build:
    build = pipeline.build(copy_sample_show(tmp_path / "show"), now=SAMPLE_NOW)
    assert build.project is not None and not build.errors
    return build


def test_an_episode_url_is_its_folders(built: pipeline.Build) -> None:
    assert built.project is not None
    show = built.project.show
    for slug in [*SLUGS, "", "~a_b-c.d", "A9", "a b", "é"]:
        episode = dataclasses.replace(built.releases[0].episode, slug=slug)
        assert layout.episode_url(show, episode) == layout.url_for(show, layout.episode_dir(episode)) + "/"


SLUGS = ["plain", "a&b", "<x>", "l'été", "with space", "100%", "a?b#c", "..", "a/b", "."]


@pytest.mark.parametrize("base", ["https://example.com/", "https://example.com/a&b<c>'\"/"])
@pytest.mark.parametrize("guests", [True, False])
def test_the_sitemap_is_its_template_loop(
    built: pipeline.Build, base: str, guests: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Odd slugs (escaped, quoted, not plain names) and an odd base URL: the same bytes, from
    three renders of the template at most (none of them with more than two rows)."""
    assert built.project is not None
    show = dataclasses.replace(built.project.show, base_url=base)
    releases = [
        dataclasses.replace(release, episode=dataclasses.replace(release.episode, slug=slug))
        for release, slug in zip(built.releases * 4, SLUGS, strict=False)
    ]
    assert len(releases) == len(SLUGS)
    moment = datetime(2024, 5, 6, tzinfo=timezone.utc)
    dates = {slug: moment + timedelta(days=index) for index, slug in enumerate(SLUGS[::2])}
    expected = _whole(show, releases, guests, moment, dates)
    rows: list[int] = []
    render = templating.render

    def counted(*args: Any, **kwargs: Any) -> str:
        rows.append(len(kwargs.get("entries", ())))
        return render(*args, **kwargs)

    monkeypatch.setattr(templating, "render", counted)
    made = site.sitemap(show, releases, guests=guests, show_date=moment, episode_dates=dates)
    assert made == expected
    assert len(rows) == 3 and max(rows) <= 2


def test_no_path_is_made_for_an_episode_url(built: pipeline.Build, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain slug's URL is written from the slug (the old loop made, parsed and printed a
    path for each of 10,000 episodes); the bytes stay those of the template's loop."""
    assert built.project is not None
    show = built.project.show
    expected = _whole(show, list(built.releases), True, SAMPLE_NOW, {})

    def refused(*args: object) -> str:
        raise AssertionError("an episode's path made for its URL")

    monkeypatch.setattr(layout, "episode_dir", refused)
    assert site.sitemap(show, built.releases, guests=True, show_date=SAMPLE_NOW) == expected


def test_a_shows_own_sitemap_template_is_rendered_whole(tmp_path: Path) -> None:
    """Anything may be in a show's own loop (here the row's number): its template is rendered
    as it is written."""
    root = copy_sample_show(tmp_path / "show")
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "sitemap.xml.j2").write_text(
        "<urlset>{% for url, lastmod in entries %}<u n='{{ loop.index }}'>{{ url }}</u>{% endfor %}</urlset>",
        encoding="utf-8",
    )
    build = pipeline.build(root, now=SAMPLE_NOW)
    assert build.project is not None and not build.errors
    text = site.sitemap(build.project.show, build.releases, guests=False).decode("utf-8")
    assert f"<u n='{len(build.releases) + 1}'>" in text


MARKS = ("\x00a\x00", "\x00b\x00")


def _rows(rows: list[tuple[str, ...]]) -> str:
    return "<head>" + "".join(f"<r>{a}|{b}</r>" for a, b in rows) + "<tail>"


def test_a_uniform_loop_is_cut_into_its_pieces() -> None:
    cut = pagejoin.uniform_loop(_rows, MARKS)
    assert cut is not None
    head, (before, between, after), tail = cut
    values: list[tuple[str, ...]] = [("x", "1"), ("y&", "2"), ("", "")]
    assert head + "".join(before + a + between + b + after for a, b in values) + tail == _rows(values)


@pytest.mark.parametrize(
    "render",
    [
        # The row's number, the first row apart, a value dropped, a value twice, the count.
        lambda rows: "".join(f"{i}{a}{b}" for i, (a, b) in enumerate(rows)),
        lambda rows: "".join(("<first>" if i == 0 else "") + a + b for i, (a, b) in enumerate(rows)),
        lambda rows: "".join(a for a, _b in rows),
        lambda rows: "".join(a + b + a for a, b in rows),
        lambda rows: str(len(rows)) + "".join(a + b for a, b in rows),
        lambda rows: "".join(b + a for a, b in rows),
    ],
)
def test_a_loop_whose_rows_differ_is_not_cut(render: Any) -> None:
    assert pagejoin.uniform_loop(render, MARKS) is None
