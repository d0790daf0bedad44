"""Shared fixtures: the shows tests start from, and one small show per way a show can be broken.

Shows are built by `showbuilder.make_show`, the one builder (plain functions, so modules that
need a show outside a fixture import it; `check_fixtures.make_clean_show` is a preset of it,
written line by line for tests that point at a line). Fixtures here give a test a ready folder:

- ``sample_show``: a copy of the bundled sample show (the repository root);
- ``published_show``: a two-episode show already published once, with its `published.yaml`;
- ``damaged_state``: that published show with its `published.yaml` damaged in one way, one
  fixture instance per way (see `STATE_DAMAGES`), with the problems the loader must report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from entretiens.publish import publish
from s3server import bucket, nothing_live, s3, s3_server  # noqa: F401  (one SeaweedFS per session, a bucket per test)
from sampleshow import copy_sample_show
from showbuilder import make_show

#: The moment shows built by the fixtures are published at: after every episode's date.
NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class PublishedShow:
    """A show folder and the output folder it was published into."""

    root: Path
    out: Path

    @property
    def state_file(self) -> Path:
        return self.root / "published.yaml"


@pytest.fixture
def sample_show(tmp_path: Path) -> Path:
    """A copy of the bundled sample show, safe to publish and edit."""
    return copy_sample_show(tmp_path / "sample")


@pytest.fixture(scope="session")
def _published_once(tmp_path_factory: pytest.TempPathFactory) -> PublishedShow:
    root = make_show(tmp_path_factory.mktemp("published") / "show")
    out = root.parent / "out"
    publish(root, out, now=NOW)
    lines = (root / "published.yaml").read_text(encoding="utf-8").splitlines()
    assert [line.split(":")[0] for line in lines[3:7]] == ["podcast_guid", "episodes", "  001-first", "  002-second"]
    assert lines[7] == "changes:"
    # The damages below are written against the GUIDs, line by line: the date record is left out
    # (a file without it is valid, as older versions wrote it); tests/test_dates.py damages it.
    (root / "published.yaml").write_text("".join(line + "\n" for line in lines[:7]), encoding="utf-8")
    return PublishedShow(root, out)


@pytest.fixture
def published_show(tmp_path: Path, _published_once: PublishedShow) -> PublishedShow:
    """Two episodes (`001-first`, `002-second`) published once into ``tmp_path/out``.

    Its `published.yaml` has 7 lines: a 3-line header, `podcast_guid` (4), `episodes:` (5),
    then one line per episode (6 and 7). Published once per session, copied for each test.
    """
    shown = PublishedShow(tmp_path / "show", tmp_path / "out")
    shutil.copytree(_published_once.root, shown.root, symlinks=True)
    shutil.copytree(_published_once.out, shown.out, symlinks=True)
    return shown


# --- published.yaml, damaged -------------------------------------------------------------------


#: (rule, line, field) of one problem the loader reports.
Expected = tuple[str, int | None, str | None]


@dataclass(frozen=True)
class StateDamage:
    """One way `published.yaml` gets damaged, and every problem that must be reported for it."""

    name: str
    #: Damages the state file of a `published_show` in place.
    apply: Callable[[Path], None]
    expected: tuple[Expected, ...]
    #: Words the message must hold, to tell the host what happened.
    says: str


def _rewrite(change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        path.write_bytes(change(path.read_text(encoding="utf-8")).encode("utf-8"))

    return apply


def _replace_line(number: int, *lines: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        kept = text.splitlines(keepends=True)
        return "".join([*kept[: number - 1], *(f"{line}\n" for line in lines), *kept[number:]])

    return change


def _conflict(text: str) -> str:
    """What `git merge` leaves when two branches each pinned a different GUID for one episode."""
    kept = text.splitlines(keepends=True)
    ours = kept[6]
    theirs = ours.replace(ours.split(": ")[1][:8], "0badc0de")
    return "".join([*kept[:6], "<<<<<<< HEAD\n", ours, "=======\n", theirs, ">>>>>>> other-branch\n"])


def _not_utf8(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"episodes:", b"\xe9pisodes:"))


def _a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


STATE_DAMAGES = (
    StateDamage(
        "truncated-in-a-guid",
        _rewrite(lambda text: text[:-10]),
        (("state-file", 7, None),),
        "cut short",
    ),
    StateDamage(
        "truncated-in-a-slug",
        _rewrite(lambda text: text[: text.index("  002-second") + 6]),
        (("yaml-syntax", 8, None),),
        "could not find expected ':'",
    ),
    StateDamage(
        "truncated-after-episodes",
        _rewrite(lambda text: text[: text.index("episodes:") + len("episodes:")]),
        (("state-file", 5, None), ("state-file", 5, "episodes")),
        "must map episode slugs to GUIDs",
    ),
    StateDamage("merge-conflict-markers", _rewrite(_conflict), (("yaml-syntax", 8, None),), "YAML syntax error"),
    StateDamage(
        "duplicate-slug",
        _rewrite(lambda text: text + text.splitlines(keepends=True)[5]),
        (("yaml-syntax", 8, None),),
        "appears twice",
    ),
    StateDamage(
        "unknown-key",
        _rewrite(lambda text: text + "published_by: someone\n"),
        (("state-file", 8, "published_by"),),
        "unknown key 'published_by'",
    ),
    StateDamage(
        "misspelt-episodes",
        _rewrite(lambda text: text.replace("episodes:", "episode:")),
        (("state-file", 5, "episode"), ("state-file", None, "episodes")),
        "unknown key 'episode'",
    ),
    StateDamage(
        "not-a-mapping",
        _rewrite(lambda text: "- 001-first\n- 002-second\n"),
        (("state-file", 1, None),),
        "must be a mapping",
    ),
    StateDamage(
        "podcast-guid-not-a-uuid",
        _rewrite(_replace_line(4, "podcast_guid: my-show")),
        (("state-file", 4, "podcast_guid"),),
        "'my-show' is not a UUID",
    ),
    StateDamage(
        "episodes-a-list",
        _rewrite(lambda text: text.replace("  001-first: ", "  - ").replace("  002-second: ", "  - ")),
        (("state-file", 5, "episodes"),),
        "must map episode slugs to GUIDs",
    ),
    StateDamage(
        "guid-a-number",
        _rewrite(_replace_line(6, "  001-first: 12")),
        (("state-file", 6, "episodes.001-first"),),
        "the GUID must be text",
    ),
    StateDamage(
        "guid-empty",
        _rewrite(_replace_line(7, "  002-second: ''")),
        (("state-file", 7, "episodes.002-second"),),
        "the GUID must be text",
    ),
    StateDamage("not-utf8", _not_utf8, (("yaml-syntax", None, None),), "not UTF-8"),
    StateDamage("a-folder", _a_folder, (("yaml-syntax", None, None),), "cannot read the file"),
)


@dataclass(frozen=True)
class DamagedState:
    """A published show whose `published.yaml` was then damaged in one way."""

    show: PublishedShow
    damage: StateDamage


@pytest.fixture(params=STATE_DAMAGES, ids=[damage.name for damage in STATE_DAMAGES])
def damaged_state(request: pytest.FixtureRequest, published_show: PublishedShow) -> DamagedState:
    """The published show with its `published.yaml` damaged, once per way in `STATE_DAMAGES`."""
    damage: StateDamage = request.param
    damage.apply(published_show.state_file)
    return DamagedState(published_show, damage)


def as_another_user() -> list[str]:
    """A command prefix that drops root's right to write anywhere (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("ENTRETIENS_REQUIRE_TOOLS") == "1":
            pytest.fail("setpriv (util-linux) is required to test permissions as root (ENTRETIENS_REQUIRE_TOOLS=1)")
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A temporary folder every user can enter (pytest's own are private to their user)."""
    folder = Path(tempfile.mkdtemp(prefix="entretiens-test-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)
