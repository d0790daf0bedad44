"""Measure `entretiens publish` on a generated show: time and peak memory, cold and warm.

Usage: python benchmarks/publish_bench.py [--episodes 100] [--minutes 30] [--keep DIR]

It writes a show of N interviews, each with a real MP3 (silent MPEG-1 frames at 64 kbps),
then runs, each in a fresh process so that peak memory is that run's own:

1. cold: first publish (every file probed, every output written);
2. warm: the same publish again (probe cache hit, nothing rewritten);
3. one edit: one episode's notes changed (one page and the feed rewritten).

The targets it checks are in README.md, section "Performance".
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from audiogen import write_mp3  # noqa: E402
from showbuilder import episode, make_show, write_yaml  # noqa: E402

#: Targets on a 2-core machine, for 100 episodes of 30 minutes (see README.md).
TARGETS = {"cold": 30.0, "warm": 4.0, "edit": 6.0, "peak_mb": 150.0}

_RUNNER = """
import json, resource, sys, time
from pathlib import Path
from entretiens.publish import publish
start = time.perf_counter()
result = publish(Path(sys.argv[1]), Path(sys.argv[2]))
elapsed = time.perf_counter() - start
report = result.report
print(json.dumps({
    "seconds": elapsed,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "written": len(report.written) if report else 0,
    "unchanged": len(report.unchanged) if report else 0,
}))
"""


def build_show(folder: Path, episodes: int, minutes: float) -> Path:
    """A show of ``episodes`` interviews sharing one generated recording (copied, not linked)."""
    template = folder / "template.mp3"
    write_mp3(template, seconds=minutes * 60, bitrate=64, sample_rate=44100, channels=1)
    first = datetime.fromisoformat("2015-01-05T10:00:00+01:00")
    shows = {
        f"{n:04d}-guest-{n}": episode(n, date=(first + timedelta(weeks=n)).isoformat(), audio=f"audio/{n:04d}.mp3")
        for n in range(1, episodes + 1)
    }
    for fields in shows.values():
        fields["notes"] = "## Topics\n\n" + "\n".join(
            f"- point {i} with a [link](https://example.org/{i})" for i in range(20)
        )
        fields["chapters"] = [{"start": i * 60, "title": f"Part {i + 1}"} for i in range(min(10, int(minutes)))]
        audio = folder / "show" / fields["audio"]
        audio.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, audio)
    template.unlink()
    return make_show(folder / "show", shows)


def run(show: Path, out: Path) -> dict[str, float]:
    """One publish in a fresh interpreter; its time and peak resident memory."""
    output = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(show), str(out)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--keep", type=Path, help="build the show here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="entretiens-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        show = build_show(folder, args.episodes, args.minutes)
        audio_mb = sum(p.stat().st_size for p in (show / "audio").iterdir()) / 1e6
        print(
            f"show: {args.episodes} episodes x {args.minutes:g} min, {audio_mb:.0f} MB of audio "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        out = folder / "public"
        results = {"cold": run(show, out), "warm": run(show, out)}
        target = show / "episodes" / "0001-guest-1.yaml"
        write_yaml(target, {**yaml.safe_load(target.read_text()), "notes": "Edited notes."})
        results["edit"] = run(show, out)
        failed = False
        print(f"{'run':<6} {'seconds':>8} {'peak MB':>8} {'written':>8} {'unchanged':>10}")
        for name, result in results.items():
            seconds, peak = result["seconds"], result["peak_mb"]
            print(f"{name:<6} {seconds:8.2f} {peak:8.0f} {result['written']:8d} {result['unchanged']:10d}")
            failed |= result["seconds"] > TARGETS[name] or result["peak_mb"] > TARGETS["peak_mb"]
        print("targets:", ", ".join(f"{k} < {v:g}" for k, v in TARGETS.items()), "->", "MISSED" if failed else "met")
        return 1 if failed else 0
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
