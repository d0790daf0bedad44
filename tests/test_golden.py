"""The sample show's published output, byte for byte, against a golden copy kept in the repo.

Refactoring must not change what listeners and directories receive: every file `publish`
writes for the sample show is compared with `tests/golden/sample/` (text files, verbatim,
so a change shows up as a readable diff in review) and `tests/golden/sample-binary.sha256`
(audio and images, as SHA-256 and size, so the repository stays small). Binary files can
also change with the version of the libraries that write them (Pillow for the resized
artwork, mutagen for tagged audio): check the library before calling that a regression.

When the output changes ON PURPOSE, update the golden copy and commit it with the change,
saying why in the commit message:

    tools/update-golden

(which runs this test with ENTRETIENS_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
from pathlib import Path

from entretiens.errors import Problem
from entretiens.publish import publish
from entretiens.state import STATE_FILE, read_state
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_TEXT = GOLDEN / "sample"
GOLDEN_BINARY = GOLDEN / "sample-binary.sha256"
UPDATE_VARIABLE = "ENTRETIENS_UPDATE_GOLDEN"

HOW_TO_UPDATE = (
    "If this change of the published output is on purpose, update the golden copy with "
    "`tools/update-golden` (or `ENTRETIENS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py`) "
    "and commit tests/golden/ with the change, saying why in the commit message. "
    "If it is not on purpose, it is a bug."
)

#: How many changed text files get a diff in the failure message (the rest are only named).
_DIFFS_SHOWN = 5
_DIFF_LINES = 40


def _is_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes: stored verbatim. Anything else is stored as a digest."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _manifest_line(name: str, data: bytes) -> str:
    return f"{hashlib.sha256(data).hexdigest()}  {len(data):>9}  {name}\n"


def _read_manifest() -> dict[str, str]:
    if not GOLDEN_BINARY.is_file():
        return {}
    lines = GOLDEN_BINARY.read_text(encoding="utf-8").splitlines(keepends=True)
    return {line.split(maxsplit=2)[2].rstrip("\n"): line for line in lines if line.strip()}


def _write_golden(published: dict[str, bytes]) -> None:
    if GOLDEN_TEXT.exists():
        shutil.rmtree(GOLDEN_TEXT)
    manifest = []
    for name, data in published.items():
        if _is_text(data):
            target = GOLDEN_TEXT / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        else:
            manifest.append(_manifest_line(name, data))
    GOLDEN_BINARY.write_text("".join(manifest), encoding="utf-8")


def _differences(published: dict[str, bytes]) -> list[str]:
    """Every way the output differs from the golden copy, one readable entry per file."""
    golden_text = files_of(GOLDEN_TEXT) if GOLDEN_TEXT.is_dir() else {}
    golden_binary = _read_manifest()
    expected = set(golden_text) | set(golden_binary)
    found: list[str] = []
    diffs_shown = 0
    for name in sorted(expected | set(published)):
        if name not in published:
            found.append(f"missing from the output: {name}")
        elif name not in expected:
            found.append(f"new in the output: {name}")
        elif name in golden_binary:
            line = _manifest_line(name, published[name])
            if line != golden_binary[name]:
                found.append(f"changed: {name}\n  golden: {golden_binary[name].rstrip()}\n  now:    {line.rstrip()}")
        elif published[name] != golden_text[name]:
            entry = f"changed: {name}"
            if diffs_shown < _DIFFS_SHOWN and _is_text(published[name]):
                diffs_shown += 1
                diff = list(
                    difflib.unified_diff(
                        golden_text[name].decode("utf-8").splitlines(keepends=True),
                        published[name].decode("utf-8").splitlines(keepends=True),
                        fromfile=f"golden/{name}",
                        tofile=f"published/{name}",
                    )
                )
                shown = "".join(diff[:_DIFF_LINES])
                if len(diff) > _DIFF_LINES:
                    shown += f"... ({len(diff) - _DIFF_LINES} more diff lines)\n"
                entry += "\n" + (shown or "(same text, different bytes: line endings or encoding)\n")
            found.append(entry)
    return found


def _pinned(show: Path) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    problems: list[Problem] = []
    state = read_state(show / STATE_FILE, problems)
    assert problems == []
    return state.podcast_guid, state.guids


def test_the_sample_show_is_published_exactly_as_the_golden_copy(tmp_path: Path) -> None:
    show = copy_sample_show(tmp_path / "show")
    guids_before = _pinned(show)
    out = tmp_path / "public"

    publish(show, out, now=SAMPLE_NOW)
    published = files_of(out)

    if os.environ.get(UPDATE_VARIABLE):
        _write_golden(published)
    differences = _differences(published)
    assert not differences, (
        f"the sample show's output differs from the golden copy in {len(differences)} file(s):\n\n"
        + "\n".join(differences)
        + "\n\n"
        + HOW_TO_UPDATE
    )
    # Every published episode of the sample is already pinned: publishing again changes no GUID.
    # (publish adds its record of when each part last changed, which the sample does not carry.)
    assert _pinned(show) == guids_before

    # The comparison sees one changed byte anywhere, and files that come or go.
    text_name = "feed.xml"
    binary_name = next(name for name, data in published.items() if not _is_text(data))
    altered = dict(published)
    altered[text_name] = published[text_name].replace(b"</rss>", b"</rss>\n")
    altered[binary_name] = published[binary_name][:-1] + bytes([published[binary_name][-1] ^ 1])
    altered["extra.txt"] = b"new\n"
    del altered["robots.txt"]
    assert [entry.splitlines()[0] for entry in _differences(altered)] == sorted(
        [
            f"changed: {binary_name}",
            "new in the output: extra.txt",
            f"changed: {text_name}",
            "missing from the output: robots.txt",
        ],
        key=lambda entry: entry.split(": ", 1)[1],
    )


def test_the_golden_copy_is_stored_as_described() -> None:
    """Text verbatim, binaries only as digests: a binary file in the text tree bloats the repo."""
    stored = files_of(GOLDEN_TEXT)
    assert stored, "the golden copy is missing: " + HOW_TO_UPDATE
    assert [name for name, data in stored.items() if not _is_text(data)] == []
    assert _read_manifest(), "the binary manifest is missing: " + HOW_TO_UPDATE
