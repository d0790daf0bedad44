"""HTTP checks of the links a show cites: bounded, polite to each host, limited in time, cached for a day."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import requests

from entretiens.errors import Problem
from entretiens.links._cache import CACHE_FILE, CACHE_MAX_AGE, CACHEABLE, LinkCache
from entretiens.links._engine import Progress, check_urls, parse_retry_after
from entretiens.links._model import RULES, LinkOptions, LinkPlace, LinkResult, LinkStatus
from entretiens.links._places import collect_places

__all__ = [
    "CACHEABLE",
    "CACHE_FILE",
    "CACHE_MAX_AGE",
    "RULES",
    "LinkCache",
    "LinkOptions",
    "LinkPlace",
    "LinkReport",
    "LinkResult",
    "LinkStatus",
    "Progress",
    "check_links",
    "check_urls",
    "collect_places",
    "link_problems",
    "parse_retry_after",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkReport:
    """A link check: every place, every result, and the problems found."""

    places: tuple[LinkPlace, ...]
    results: Mapping[str, LinkResult]
    problems: tuple[Problem, ...]
    elapsed: float

    def counts(self) -> dict[str, int]:
        """Number of URLs per outcome, in a fixed order, zeros left out."""
        found = dict.fromkeys(get_args(LinkStatus), 0)
        for result in self.results.values():
            found[result.status] += 1
        return {status: count for status, count in found.items() if count}

    @property
    def from_cache(self) -> int:
        """How many results came from the cache."""
        return sum(1 for result in self.results.values() if result.cached)


def check_links(
    places: Iterable[LinkPlace],
    *,
    options: LinkOptions | None = None,
    cache_path: Path | None = None,
    read_cache: bool = True,
    progress: Progress | None = None,
    session_factory: Callable[[], requests.Session] = requests.Session,
) -> LinkReport:
    """Check every URL of ``places`` once, and report the broken ones at each place they appear.

    :param cache_path: results younger than a day are taken from this JSON file, and fresh
        results are written back to it; None for no cache.
    :param read_cache: False checks every URL again (the fresh results still refresh the cache).
    :param progress: called as ``(done, total, url)`` from the calling thread.
    :param session_factory: makes the requests session of each worker thread.
    :returns: the places, one result per URL and one warning per place of a broken URL.
    """
    started = time.monotonic()
    options = options or LinkOptions()
    listed = tuple(places)
    urls = list(dict.fromkeys(place.url for place in listed))
    cache = LinkCache(cache_path) if cache_path is not None else None
    results: dict[str, LinkResult] = {}
    if cache is not None and read_cache:
        for url in urls:
            known = cache.get(url)
            if known is not None:
                results[url] = known
    missing = [url for url in urls if url not in results]
    fresh = check_urls(missing, options=options, progress=progress, session_factory=session_factory)
    results.update(fresh)
    if cache is not None and fresh:
        for result in fresh.values():
            cache.put(result)
        cache.save()
    ordered = {url: results[url] for url in urls}
    return LinkReport(
        places=listed,
        results=ordered,
        problems=tuple(link_problems(listed, ordered, options)),
        elapsed=time.monotonic() - started,
    )


def link_problems(
    places: Iterable[LinkPlace], results: Mapping[str, LinkResult], options: LinkOptions | None = None
) -> list[Problem]:
    """One warning per place whose URL does not plainly work."""
    options = options or LinkOptions()
    problems = []
    for place in places:
        result = results.get(place.url)
        if result is None or result.status == "ok":
            continue
        text, hint = _describe(result, options)
        problems.append(
            Problem(
                rule=RULES[result.status],
                path=place.path,
                line=place.line,
                field=place.field,
                message=f"{place.label}: {text}",
                hint=hint,
            )
        )
    return problems


def _describe(result: LinkResult, options: LinkOptions) -> tuple[str, str]:
    """The message and the hint for a broken link."""
    url, status, detail = result.url, result.status, result.detail
    via = f" (after redirects, at {result.final_url})" if result.final_url else ""
    tries = f" after {result.attempts} attempts" if result.attempts > 1 else ""
    if status == "moved":
        return (
            f"{url} has moved permanently to {result.moved_to}",
            f"write the new address in the YAML: {result.moved_to}",
        )
    if status == "dead":
        return (
            f"{url} is dead: the server answered {detail}{via}",
            "fix the address or remove the link; an archived copy (web.archive.org) can replace it",
        )
    if status == "denied":
        return (
            f"{url}: the server refused access ({detail}){via}",
            "open it in a browser: some sites refuse automated checks, others removed the page",
        )
    if status == "rate-limited":
        return f"{url}: the server answered {detail}{tries}{via}", "check again later"
    if status == "server-error":
        return (
            f"{url}: the server failed with {detail}{tries}{via}",
            "check again later; if it lasts, the site is broken",
        )
    if status == "unreachable":
        return f"{url} cannot be reached: {detail}{via}", "check the address; the domain may have expired"
    if status == "timeout":
        return (
            f"{url}: {detail}{via}",
            f"check again later, or allow more time (--timeout {options.timeout:g}, --deadline {options.deadline:g})",
        )
    return f"{url} {detail}", "the site is misconfigured: link to the page's current address"
