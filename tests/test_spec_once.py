"""Each Apple / RSS / Podcasting 2.0 fact is written once, in podcast_spec/, and imported elsewhere."""

from __future__ import annotations

import ast
from pathlib import Path

from entretiens import podcast_spec

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "entretiens"
SPEC = PACKAGE / "podcast_spec"


def _texts() -> dict[Path, str]:
    """Every source and template of the package."""
    files = [*PACKAGE.rglob("*.py"), *(PACKAGE / "templates").rglob("*")]
    return {path: path.read_text(encoding="utf-8") for path in files if path.is_file()}


def test_each_namespace_uri_is_written_once() -> None:
    uris = [podcast_spec.ITUNES_NS, podcast_spec.PODCAST_NS, podcast_spec.ATOM_NS, podcast_spec.CONTENT_NS]
    uris.append(podcast_spec.PSC_NS)
    for uri in uris:
        where = [(path.relative_to(PACKAGE), text.count(uri)) for path, text in _texts().items() if uri in text]
        assert where == [(Path("podcast_spec/__init__.py"), 1)], uri


def test_the_main_limits_are_written_once() -> None:
    # Values that mean nothing but these limits: no other module may write them at all.
    only_here = {
        podcast_spec.DESCRIPTION_LIMIT,
        podcast_spec.ARTWORK_MIN_SIDE,
        podcast_spec.ARTWORK_MAX_SIDE,
        podcast_spec.PODCAST_TXT_LIMIT,
    }
    # Values that other things share (128 kbps, 255 chapters): not as a limit on text.
    as_limits = {podcast_spec.TITLE_LIMIT, podcast_spec.PODCAST_TEXT_LIMIT}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(SPEC):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and type(node.value) is int and node.value in only_here:
                found.append((path.name, node.lineno, node.value))
            limits: list[ast.expr] = []
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Call) and getattr(side.func, "id", "") == "len"
                for side in (node.left, *node.comparators)
            ):
                # A length compared with one of them: a text limit written again.
                limits = [node.left, *node.comparators]
            elif (isinstance(node, ast.keyword) and node.arg == "limit") or (
                isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and "LIMIT" in t.id for t in node.targets)
            ):
                limits = [node.value]
            found += [
                (path.name, value.lineno, value.value)
                for value in limits
                if isinstance(value, ast.Constant) and type(value.value) is int and value.value in as_limits
            ]
    assert found == [], found


def test_the_artwork_extensions_and_the_email_form_have_one_definition() -> None:
    assert dict(podcast_spec.ARTWORK_FORMATS) == {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
    for path, text in _texts().items():
        if not path.is_relative_to(SPEC):
            for written in ('".jpg", ".jpeg", ".png"', '"jpeg": "JPEG"', '".jpeg": "JPEG"'):
                assert written not in text, path
            assert "_EMAIL = " not in text, path
    assert podcast_spec.is_email_address("ada@example.org")
    assert not podcast_spec.is_email_address("Ada <ada@example.org>")
    assert not podcast_spec.is_email_address("ada@example")
