"""The rulebook: every finding's rule is declared once, and the docs are generated from it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from entretiens.errors import Problem
from entretiens.links import RULES as LINK_RULES
from entretiens.rulebook import RULES, SECTIONS, rule

REPO = Path(__file__).resolve().parent.parent
_RULE_ID = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9_]+)+$")
#: Calls whose first string argument is a rule id.
_REPORTERS = {"error", "report", "_report_artwork", "TranscriptError", "Problem", "_report", "missing"}


@lru_cache(maxsize=1)
def _sources() -> list[ast.AST]:
    return [ast.parse(path.read_text(encoding="utf-8")) for path in (REPO / "src" / "entretiens").rglob("*.py")]


def _rule_ids_in_source() -> set[str]:
    """Every literal rule id the code reports: first string argument of reporting calls, `rule=` keywords."""
    ids: set[str] = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "rule" and isinstance(keyword.value, ast.Constant):
                    ids.add(str(keyword.value.value))
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _REPORTERS:
                first = next(
                    (a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)), None
                )
                if first is not None and _RULE_ID.match(first):
                    ids.add(first)
    return ids | set(LINK_RULES.values())


def _strings_in_source() -> set[str]:
    """Every string constant of the package, and the fixed start of every f-string."""
    found: set[str] = set()
    for tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                found.add(str(node.values[0].value) + "*")
    return found


def test_a_problem_takes_its_severity_from_the_rulebook() -> None:
    assert Problem(rule="artwork-size", message="m").severity == "error"
    assert Problem(rule="artwork-alpha", message="m").severity == "warning"
    assert Problem(rule="number-gap", message="m").severity == "info"
    # A finding expected where it is made (a moved feed's pinned GUID) is a note.
    assert Problem(rule="pc20.guid.mismatch", message="m", as_note=True).severity == "info"


def test_an_unknown_rule_id_is_a_programming_error() -> None:
    with pytest.raises(LookupError, match=r"'artwork-sise'.*entretiens\.rulebook"):
        Problem(rule="artwork-sise", message="m")
    with pytest.raises(LookupError):
        rule("no-such-rule")


def test_every_rule_id_the_code_reports_is_in_the_rulebook() -> None:
    ids = _rule_ids_in_source()
    assert {"artwork-size", "link-dead", "invalid-url", "apple.image.size", "yaml-syntax"} <= ids
    assert sorted(ids - set(RULES)) == []


def test_every_rule_of_the_rulebook_is_reported_somewhere() -> None:
    strings = _strings_in_source()
    prefixes = tuple(text[:-1] for text in strings if text.endswith("*") and text[:-1])
    dead = [rule_id for rule_id in RULES if rule_id not in strings and not rule_id.startswith(prefixes)]
    assert dead == []


def test_every_rule_is_complete() -> None:
    for entry in RULES.values():
        assert _RULE_ID.match(entry.id), entry.id
        assert entry.summary.strip() and not entry.summary.startswith(" "), entry.id
        # The show's rules say how to fix them; the feed validator's messages carry their hint.
        is_feed_code = "." in entry.id
        assert (entry.fix is None) == is_feed_code, entry.id
    assert [section.key for section in SECTIONS] == list(dict.fromkeys(r.section.key for r in RULES.values()))


def test_the_docs_are_generated_from_the_rulebook() -> None:
    """docs/rules.md and the README's list: run `tools/rules-docs` after changing the rulebook."""
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "rules-docs"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    docs = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule_id in RULES:
        assert f"`{rule_id}`" in readme and f"| `{rule_id}` |" in docs, rule_id


def test_the_docs_check_fails_when_a_table_is_edited_by_hand(tmp_path: Path) -> None:
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("rules_docs", str(REPO / "tools" / "rules-docs"))
    spec = importlib.util.spec_from_loader("rules_docs", loader)
    assert spec is not None
    tool = importlib.util.module_from_spec(spec)
    loader.exec_module(tool)
    docs = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    edited = docs.replace("| `artwork-size` | error |", "| `artwork-size` | warning |")
    assert edited != docs
    parts = {section.key: tool.table(section) for section in SECTIONS}
    assert tool.render(edited, parts, "docs/rules.md") == docs
    with pytest.raises(SystemExit, match="no generated block for links"):
        tool.render(edited.replace("<!-- END generated: links -->", ""), parts, "docs/rules.md")
