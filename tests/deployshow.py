"""A small show for deploy tests, and helpers to run ``entretiens deploy`` and read what it did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner, Result

from entretiens.cli import cli
from s3server import S3Server
from showbuilder import BASE_URL, episode, make_show, write_yaml

#: Where tests deploy inside their bucket.
PREFIX = "show"

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Alex>Hello.\n\n00:00:01.000 --> 00:00:02.500\n<v Guest>Hi!\n"


def deploy_show(root: Path, *, count: int = 3, show: dict[str, Any] | None = None) -> Path:
    """``count`` episodes; the first has chapters and a WebVTT transcript (so JSON, SRT and VTT go up)."""
    extras = {"chapters": _chapters(), "transcript": "transcripts/001.vtt"}
    episodes = {f"{n:03d}-talk": episode(n, **(extras if n == 1 else {})) for n in range(1, count + 1)}
    (root / "transcripts").mkdir(parents=True, exist_ok=True)
    (root / "transcripts" / "001.vtt").write_text(VTT, encoding="utf-8")
    return make_show(root, episodes, show=show)


def _chapters() -> list[dict[str, Any]]:
    return [{"start": "00:00", "title": "Hello"}, {"start": 1, "title": "The talk"}]


def edit_episode(root: Path, slug: str, **fields: Any) -> None:
    """Change fields of an episode file."""
    import yaml

    path = root / "episodes" / f"{slug}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(fields)
    write_yaml(path, data)


class Deployer:
    """Runs deploys of one show to one bucket and reads the bucket back, anonymously, as listeners do."""

    def __init__(self, s3: S3Server, bucket: str, live: str) -> None:
        self.s3, self.bucket, self.live = s3, bucket, live

    def args(self, *extra: str) -> list[str]:
        """The command line options of a deploy to this bucket, with no ping and a JSON report."""
        return [
            "--to", f"s3://{self.bucket}/{PREFIX}", "--endpoint-url", self.s3.endpoint,
            "--live-feed", self.live, "--no-ping", "--format", "json", *extra,
        ]  # fmt: skip

    def keys(self) -> dict[str, str]:
        """Key (below the prefix) -> ETag."""
        listing = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=f"{PREFIX}/")
        return {item["Key"][len(PREFIX) + 1 :]: item["ETag"] for item in listing.get("Contents", [])}

    def url(self, key: str) -> str:
        """The anonymous HTTP URL of a key."""
        return self.s3.url(self.bucket, f"{PREFIX}/{key}")

    def get(self, key: str, **headers: str) -> requests.Response:
        """An anonymous GET."""
        return requests.get(self.url(key), headers=headers, timeout=10)

    def head(self, key: str) -> requests.Response:
        """An anonymous HEAD."""
        return requests.head(self.url(key), timeout=10)

    def public_url(self, url: str) -> str:
        """The bucket URL behind a URL of the feed: base_url stands for the bucket, as a CDN in front of it would."""
        assert url.startswith(BASE_URL), url
        return self.url(url[len(BASE_URL) :])


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every published file, by path (the output marker left out)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".entretiens-output"
    }


def run_deploy(root: Path, *args: str) -> Result:
    """``entretiens deploy --show ROOT ARGS``, in this process."""
    return CliRunner().invoke(cli, ["deploy", "--show", str(root), *args])


def report(result: Result) -> dict[str, Any]:
    """The ``--format json`` report of a successful deploy."""
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def uploaded(result: Result) -> list[str]:
    """Keys uploaded, in order."""
    return [item["key"] for item in report(result)["uploaded"]]


__all__ = [
    "BASE_URL",
    "PREFIX",
    "Deployer",
    "deploy_show",
    "digests",
    "edit_episode",
    "report",
    "run_deploy",
    "uploaded",
]
