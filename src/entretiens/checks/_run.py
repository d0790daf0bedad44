"""Where the built feed's problems are said to be, and the feed validator's findings merged with the rules'."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from entretiens.errors import Problem

#: Where `check` says feed problems are: the feed as publish would write it by default.
FEED_PATH = Path("public") / "feed.xml"

#: Findings of the feed validator that a located rule of ours already reports, at its line in
#: the YAML; the validator's copy, located in the generated XML, would only repeat it.
_LOCATED_ELSEWHERE = {
    "apple.serial.episode": "serial-number-missing",
    "apple.description.length": "show-description-length",
    "apple.enclosure.unsupported": "audio-format",
}


def merge_feed_lint(
    problems: list[Problem], lint: list[Problem], path: Path, *, guid_pinned: bool = False
) -> list[Problem]:
    """The feed validator's findings, minus those a rule already reported at their source line.

    :param problems: what the show's own rules found.
    :param lint: what :func:`feedlint.lint_feed` found in the built feed.
    :param path: the feed's file, named in the findings that remain.
    :param guid_pinned: the show's podcast:guid comes from published.yaml: after a move of
        base_url it no longer matches the feed URL, which is the point of pinning it (a note).
    """
    located = {rule for rule in _LOCATED_ELSEWHERE.values() if any(p.rule == rule for p in problems)}
    merged = []
    for problem in lint:
        if _LOCATED_ELSEWHERE.get(problem.rule) in located:
            continue
        if guid_pinned and problem.rule == "pc20.guid.mismatch":
            problem = replace(
                problem,
                as_note=True,
                hint="expected after a move: the GUID pinned in published.yaml keeps the show's identity",
            )
        merged.append(replace(problem, path=path) if problem.path is None else problem)
    return merged
