"""``entretiens deploy`` that SIGKILLs its own process right after its Nth upload: a deploy cut off mid-way.

Usage: ``python deploy_killer.py N deploy ARGS...``. Only files of the show count, not the
manifest. The process dies as a power cut would kill it: no cleanup, no exception handlers.
"""

from __future__ import annotations

import os
import signal
import sys

from entretiens.cli import cli
from entretiens.deploy import s3
from entretiens.deploy.manifest import MANIFEST_KEY
from entretiens.deploy.targets import Stored


def main() -> None:
    """Patch the bucket target's upload, then run the command line."""
    limit = int(sys.argv[1])
    done = 0
    original = s3.S3Target.put

    def put(self: s3.S3Target, key: str, *args: object, **kwargs: object) -> Stored:
        nonlocal done
        stored = original(self, key, *args, **kwargs)  # type: ignore[arg-type]
        if key != MANIFEST_KEY:
            done += 1
            if done >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
        return stored

    s3.S3Target.put = put  # type: ignore[method-assign]
    cli(sys.argv[2:])


if __name__ == "__main__":
    main()
