"""The libraries' versions in every unit's key: read from the dist-info folders' names, they must
say what importlib.metadata says, and move whenever a library is upgraded."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from entretiens import unitcache


def test_the_versions_are_those_importlib_metadata_reads() -> None:
    # The same text as before: the units kept by the last release stay valid.
    expected = ", ".join(f"{name} {metadata.version(name)}" for name in unitcache.LIBRARIES)
    unitcache.libraries.cache_clear()
    try:
        assert unitcache.libraries() == expected
    finally:
        unitcache.libraries.cache_clear()


def test_the_versions_are_read_without_importing_importlib_metadata() -> None:
    code = "; ".join(
        [
            "import sys",
            "from entretiens import unitcache",
            "unitcache.libraries()",
            "print('importlib.metadata' in sys.modules)",
        ]
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "False"


def _path_with(tmp_path: Path, *folders: str) -> list[str]:
    first = tmp_path / "first"
    for name in folders:
        (first / name).mkdir(parents=True)
    return [str(first), *sys.path]


def test_an_upgraded_library_found_first_moves_the_versions(tmp_path: Path) -> None:
    # A newer lxml installed earlier on the path (a user site, a new venv): what it runs is that one.
    found = unitcache._dist_info_versions(_path_with(tmp_path, "lxml-99.1.dist-info", "Jinja2-7.0.dist-info"))
    assert found["lxml"] == "99.1"
    assert found["jinja2"] == "7.0"
    assert found["pyyaml"] == metadata.version("PyYAML")
    assert found["markdown_it_py"] == metadata.version("markdown-it-py")


@pytest.mark.parametrize(
    "folders",
    [
        ["lxml-99.1.egg-info"],  # its version is in its files, not its name
        ["lxml-99.1.dist-info", "lxml-99.2.dist-info"],  # which one is used is importlib's choice
        ["lxml.dist-info"],  # no version in the name
        ["lxml-99.1-x.dist-info"],  # not a name a wheel installs
    ],
)
def test_a_folder_that_does_not_settle_the_version_is_asked_of_importlib_metadata(
    tmp_path: Path, folders: list[str]
) -> None:
    found = unitcache._dist_info_versions(_path_with(tmp_path, *folders))
    assert found["lxml"] is None
    # The later copy of the library is not taken instead.
    assert found["pyyaml"] == metadata.version("PyYAML")


def test_names_are_compared_as_their_projects(tmp_path: Path) -> None:
    assert unitcache._normal("markdown-it-py") == unitcache._normal("Markdown_It.py") == "markdown_it_py"
    found = unitcache._dist_info_versions(_path_with(tmp_path, "Markdown_It_Py-9.dist-info", "other-1.dist-info"))
    assert found["markdown_it_py"] == "9"
    assert "other" not in found
