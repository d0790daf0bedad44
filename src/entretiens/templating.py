"""The Jinja environment of the whole site: shipped templates, the show's overrides, the filters.

Every page, the feed's ``content:encoded``, ``notes.md``, the sitemap and the feed stylesheet
are rendered through :func:`render`, so a template error always names the template at fault.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from .errors import TemplateError
from .markdown_writer import html_to_markdown, markdown_text, markdown_url
from .markup import render_markdown, safe_url, to_plain_text
from .model import Show
from .timecodes import timecode
from .wording import directory_name, file_size, human_duration, iso_duration, link_host, long_date, strings


def environment(override_dir: Path | None) -> jinja2.Environment:
    """Templates shipped with the package, overridable file by file from the show's templates/."""
    return _environment(override_dir, _listing(override_dir))


def _listing(folder: Path | None) -> tuple[str, ...]:
    # Part of the cache key: an override added or removed while `entretiens serve` runs gives
    # a new environment, since Jinja's own cache would keep using the shipped template.
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(str(path.relative_to(folder)) for path in folder.rglob("*.j2")))


@lru_cache(maxsize=8)
def _environment(override_dir: Path | None, listing: tuple[str, ...]) -> jinja2.Environment:
    del listing
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.PackageLoader("entretiens", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml", "html.j2", "xml.j2", "xsl.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        # render_markdown sanitizes: its output is the one HTML that user text may become.
        markdown=lambda text, base=None, top=2: Markup(shift_headings(render_markdown(text, base_url=base), top)),  # noqa: S704
        timecode=timecode,
        plain=to_plain_text,
        long_date=long_date,
        duration=human_duration,
        iso_duration=iso_duration,
        file_size=file_size,
        safe_url=safe_url,
        host=link_host,
        directory_name=directory_name,
        md=markdown_text,
        md_block=lambda text, base=None, top=2: html_to_markdown(
            shift_headings(render_markdown(text, base_url=base), top)
        ),
        md_url=markdown_url,
    )
    return env


def shift_headings(fragment: str, top: int) -> str:
    """Move the headings of rendered Markdown down so that the highest is ``h<top>``.

    Rendered Markdown starts at h2; notes placed under a page's own h2 start at h3, keeping the
    outline in order.
    """
    shift = max(0, top - 2)
    if not shift:
        return fragment
    return re.sub(r"<(/?)h([2-6])>", lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift)}>", fragment)


def render(show: Show, name: str, **context: object) -> str:
    """Render one template of the show (its override if any) with the show's strings.

    :raises TemplateError: a template (most likely the show's own override) is broken.
    """
    try:
        template = environment(show.root / "templates").get_template(name)
        return template.render(show=show, t=strings(show.language), **context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        own = (show.root / "templates" / name).is_file()
        origin = f"templates/{name} (the show's own)" if own else f"the shipped template {name}"
        raise TemplateError(f"{origin}: {exc.__class__.__name__}: {exc}") from exc
