"""One-shot set-up for the test suite on a fresh machine: real Kafka jars and Debian's chromium.

Run by the README's test command before pytest (`python -m tests.prepare`). Idempotent and
quick when everything is already in place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def ensure_chromium() -> None:
    """Install Debian's chromium (headless browser for dashboard tests) if it is missing."""
    if shutil.which("chromium"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("chromium missing and cannot apt-get it: browser tests will be skipped",
              file=sys.stderr)
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"],
                   check=True, env=env)


def ensure_kafka() -> None:
    """Resolve and cache the pinned Apache Kafka jars from Maven Central."""
    from streams.broker import fetch_kafka

    fetch_kafka()


def main() -> None:
    ensure_chromium()
    ensure_kafka()


if __name__ == "__main__":
    main()
