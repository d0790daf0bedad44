"""The guests page joined from each guest's kept entry (issue 11): only a new or changed guest's
entry is rendered again, and the page is the one a cold build makes."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

import pytest
import yaml

from entretiens import guestspage, layout, pipeline, templating, unitcache
from entretiens.output import content_bytes
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show

GUESTS = PurePosixPath("guests/index.html")
#: The sample show's guests.
_GUESTS = 6
#: The shipped guests page before its entries were kept: a loop over every guest, as a host
#: who copied it into their show's templates/ still has it.
_LOOPED_PAGE = """{% extends "base.html.j2" %}
{% block main %}
<h1>{{ t.guests }}</h1>
<p class="lead">{{ t.guests_intro }}</p>
<ul class="guest-list">
  {% for guest in site.guests %}
  {% set person = guest.person %}
  <li id="{{ guest.anchor }}">
    <article class="guest-card">
      {% if guest.photo %}{{ ui.picture(guest.photo, t.photo.format(name=person.name), 96, "avatar") }}\
{% else %}{{ ui.initials(person.name) }}{% endif %}
      <div>
        <h2>{{ person.name }}</h2>
        {% if person.bio %}<div class="prose">{{ person.bio | markdown(none, 3) }}</div>{% endif %}
        {{ ui.guest_links(person) }}
        <p class="appears">{{ t.appears_in }}</p>
        <ul class="appearances">
          {% for item in guest.releases %}
          <li><a href="{{ episode_href(item.episode) }}">{{ item.episode.title }}</a> \
<span class="meta">{{ item.episode.date | long_date(show.language) }}</span></li>
          {% endfor %}
        </ul>
      </div>
    </article>
  </li>
  {% endfor %}
</ul>
{{ ui.subscribe() }}
{% endblock %}
"""


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    return root


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every template rendered from now on."""
    names: list[str] = []
    real = templating.render

    def counted(show: object, name: str, **context: object) -> str:
        names.append(name)
        return real(show, name, **context)  # type: ignore[arg-type]

    monkeypatch.setattr(templating, "render", counted)
    return names


def _page(root: Path, *, use_cache: bool = True) -> bytes:
    built = pipeline.build(root, now=SAMPLE_NOW, use_cache=use_cache)
    assert not built.errors, built.errors
    return content_bytes(built.files[GUESTS])


def _cold(root: Path, dest: Path) -> bytes:
    """The guests page of the show as it is now, built in a fresh folder."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".entretiens", "public"))
    return _page(dest)


def _add_episode(root: Path, guest: str) -> None:
    source = yaml.safe_load((root / "episodes" / "006-frederic-bourguet.yaml").read_text(encoding="utf-8"))
    source.update(
        title="Une nouvelle conversation",
        number=8,
        date="2011-06-01T09:00:00+02:00",
        audio="audio/008-new.mp3",
        guests=[{"name": guest, "bio": f"{guest}, *invitée* de l'épisode."}],
    )
    shutil.copyfile(root / "audio" / "006-frederic-bourguet.mp3", root / "audio" / "008-new.mp3")
    (root / "episodes" / "008-new.yaml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")


def test_a_new_guest_renders_their_entry_only(show: Path, tmp_path: Path, rendered: list[str]) -> None:
    _add_episode(show, "Camille Nouvelle")
    page = _page(show)
    assert rendered.count("guest_entry.html.j2") == 1
    assert rendered.count("guests.html.j2") == 1
    assert b'id="camille-nouvelle"' in page
    assert b"<em>invit\xc3\xa9e</em>" in page
    assert page == _cold(show, tmp_path / "cold")


def test_a_changed_bio_renders_that_guest_s_entry_only(show: Path, tmp_path: Path, rendered: list[str]) -> None:
    path = show / "guests" / "nicolas-sauvage.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("bio:", "bio: Une autre bio.\nold_bio:", 1), "utf-8")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("old_bio")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    page = _page(show)
    assert rendered.count("guest_entry.html.j2") == 1
    assert b"Une autre bio." in page
    assert page == _cold(show, tmp_path / "cold")


def test_an_edit_that_changes_no_guest_renders_no_entry(show: Path, rendered: list[str]) -> None:
    path = show / "episodes" / "003-massimo-fubini.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("notes: |", "notes: |\n  Modifié.\n", 1), "utf-8")
    _page(show)
    assert "guest_entry.html.j2" not in rendered
    assert "guests.html.j2" not in rendered


def test_a_damaged_store_of_entries_renders_them_all_again(show: Path, tmp_path: Path, rendered: list[str]) -> None:
    kept = sorted((show / unitcache.UNITS_DIR).glob(f"{guestspage.ENTRIES}.*"))
    assert kept, sorted(p.name for p in (show / unitcache.UNITS_DIR).iterdir())
    for path in kept:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    _add_episode(show, "Camille Nouvelle")
    page = _page(show)
    guests = page.count(b'<li id="')
    assert guests == _GUESTS + 1
    # Every entry whose body no longer matches its digest is rendered again: the damaged ones
    # at least, the new guest's, never a damaged body in the page.
    assert 2 <= rendered.count("guest_entry.html.j2") <= guests
    assert page == _cold(show, tmp_path / "cold")


def test_a_guests_page_of_the_show_s_own_is_rendered_whole(show: Path, tmp_path: Path) -> None:
    shipped = _page(show)
    (show / "templates").mkdir()
    (show / "templates" / "guests.html.j2").write_text(_LOOPED_PAGE, encoding="utf-8")
    # A host's copy of the page as it was shipped before: the same page, rendered in one piece.
    assert _page(show) == shipped
    _add_episode(show, "Camille Nouvelle")
    assert b'id="camille-nouvelle"' in _page(show)


def test_an_entry_of_the_show_s_own_is_used_for_every_guest(show: Path) -> None:
    shipped = Path(pipeline.__file__).parent / "templates" / "guest_entry.html.j2"
    (show / "templates").mkdir()
    text = shipped.read_text(encoding="utf-8").replace("<h2>", '<p class="own">{{ person.name }}</p><h2>', 1)
    (show / "templates" / "guest_entry.html.j2").write_text(text, encoding="utf-8")
    page = _page(show)
    assert page.count(b'<p class="own">') == page.count(b'<li id="') == _GUESTS
    assert layout.GUESTS_PAGE == GUESTS
