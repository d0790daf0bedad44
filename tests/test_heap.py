"""A build hands large freed buffers back to the system: the C library's mapping threshold is
fixed for the process, where it would rise and keep them in the heap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sampleshow import copy_sample_show

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="the threshold is the GNU C library's",
)

#: Frees a 16 MiB buffer (the library then raises its threshold to that size, unless fixed),
#: then makes 64 MiB of 4 MiB buffers, each followed by a small block that stays (so the heap
#: cannot shrink from its top), frees the buffers, and prints the resident MiB held then.
_FRAGMENTS = """
import sys
from pathlib import Path

def resident():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

if sys.argv[1] == "build":
    from entretiens import pipeline
    built = pipeline.build(Path(sys.argv[2]), use_cache=False)
    assert built.files and not built.errors, built.problems
elif sys.argv[1] == "fix":
    from entretiens import heap
    print("fixed", heap.fix_threshold())
big = bytearray(16 << 20)
del big
start = resident()
buffers, small = [], []
for _ in range(16):
    buffers.append(bytearray(4 << 20))
    small.append(bytearray(1000))
held = resident()
del buffers
print("kept", resident() - start, "of", held - start)
"""


#: The variables by which a host sets the library's thresholds.
_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def _kept(*args: str, setting: tuple[str, str] | None = None) -> tuple[str, int, int]:
    """Run the fragments: (what was printed before, MiB still resident after the free, MiB held).

    In the environment of the tests, without the library's settings the machine may have (the
    cases assume its defaults), plus ``setting`` if given.
    """
    env = {name: value for name, value in os.environ.items() if name not in _SETTINGS}
    if setting is not None:
        env[setting[0]] = setting[1]
    done = subprocess.run(
        [sys.executable, "-c", _FRAGMENTS, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    lines = done.stdout.splitlines()
    words = lines[-1].split()
    return "\n".join(lines[:-1]), int(words[1]), int(words[3])


def test_freed_buffers_stay_resident_without_the_fix() -> None:
    """The case the fix is for, as the library behaves by default."""
    _, kept, held = _kept("none")
    assert held >= 60
    assert kept >= 60


def test_fixed_threshold_hands_freed_buffers_back() -> None:
    printed, kept, held = _kept("fix")
    assert printed == "fixed True"
    assert held >= 60
    assert kept <= 4


def test_a_build_fixes_the_threshold(tmp_path: Path) -> None:
    show = copy_sample_show(tmp_path / "show")
    _, kept, held = _kept("build", str(show))
    # Without the fix the buffers are partly made of heap the build freed, resident already.
    assert held >= 60
    assert kept <= 4


@pytest.mark.parametrize(
    "setting",
    [("MALLOC_MMAP_THRESHOLD_", "1048576"), ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1048576")],
)
def test_a_threshold_set_by_the_host_is_kept(setting: tuple[str, str]) -> None:
    """The host's own setting stands: the call leaves it, and the library behaves as they set it."""
    name = setting[0]
    printed, kept, _ = _kept("fix", setting=setting)
    assert printed == "fixed False"
    if name == "MALLOC_MMAP_THRESHOLD_":
        # A fixed threshold of 1 MiB: the 4 MiB buffers were mapped, and went back.
        assert kept <= 4
