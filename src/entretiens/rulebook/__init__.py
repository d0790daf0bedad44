"""The rulebook: every rule the tool reports, in one registry.

Each rule has a stable id, a severity, a summary of what triggers it and how to fix it.
:class:`entretiens.errors.Problem` looks its rule up here, so a finding cannot carry an unknown
id or another severity than the registry's. ``docs/rules.md`` and the README's list of rules
are generated from this registry by ``tools/rules-docs``; a test fails when they differ.

Adding a rule: add a row to the section it belongs to (``_show.py`` for the show folder,
``_loader.py`` for the loader and the pipeline, ``_feed.py`` for the feed validator), then run
``tools/rules-docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from entretiens.rulebook import _feed, _loader, _show
from entretiens.rulebook._model import FeedRow, Row, Rule, Section, Severity

__all__ = ["RULES", "SECTIONS", "Rule", "Section", "Severity", "rule"]


def _section(key: str, heading: str, title: str, rows: tuple[Row, ...] | tuple[FeedRow, ...]) -> tuple[Rule, ...]:
    section = Section(key=key, heading=heading, title=title)
    return tuple(
        Rule(id=row[0], severity=row[1], summary=row[2], fix=row[3] if len(row) > 3 else None, section=section)
        for row in rows
    )


_ALL: tuple[tuple[Rule, ...], ...] = (
    _section("artwork", "### The show and its artwork", "The show and its artwork", _show.ARTWORK),
    _section("episodes", "### Episodes", "Episodes", _show.EPISODES),
    _section("audio", "### Audio", "Audio", _show.AUDIO),
    _section("feed", "### The feed as a whole", "The feed as a whole", _show.FEED),
    _section("links", "### Links (`--links`)", "Links", _show.LINKS),
    _section(
        "loader", "## Rules of the loader and the pipeline", "Rules of the loader and the pipeline", _loader.LOADER
    ),
    _section("rss", "### XML and RSS 2.0", "XML and RSS 2.0", _feed.RSS),
    _section("apple", "### Apple Podcasts", "Apple Podcasts", _feed.APPLE),
    _section(
        "pc20", "### Podcasting 2.0 and Podlove chapters", "Podcasting 2.0 and Podlove chapters", _feed.PODCASTING_20
    ),
    _section(
        "files", "### Files the feed points to (with the published folder)", "Files the feed points to", _feed.FILES
    ),
)

#: The sections in the order of the docs.
SECTIONS: tuple[Section, ...] = tuple(rules[0].section for rules in _ALL)

#: Every rule by id, in the order of the docs.
RULES: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rules in _ALL for rule in rules})
if len(RULES) != sum(len(rules) for rules in _ALL):  # pragma: no cover - caught by the test suite on import
    raise RuntimeError("a rule id is declared twice in entretiens.rulebook")


def rule(rule_id: str) -> Rule:
    """The rule of this id.

    :raises LookupError: the id is not in the rulebook: a bug in entretiens (every rule it
        reports must be declared here, with its severity and fix).
    """
    try:
        return RULES[rule_id]
    except KeyError:
        raise LookupError(f"unknown rule id {rule_id!r}: declare it in entretiens.rulebook") from None
