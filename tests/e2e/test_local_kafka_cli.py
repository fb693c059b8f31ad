"""`ketenhub kafka start|status|stop` on a real broker: idempotent, and honest about state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kafka.local import free_port, free_port_and_next
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.kafka


def test_start_is_idempotent_and_stop_stops(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Share the jar cache so the test never downloads; everything else is private to the test.
    (home / "cache").mkdir(parents=True)
    (home / "cache" / "kafka-4.1.1").symlink_to(REPO / ".ketenhub" / "cache" / "kafka-4.1.1")
    port = free_port_and_next()  # its controller binds port + 1
    env = {**os.environ, "KETENHUB_HOME": str(home), "KETENHUB_KAFKA_PORT": str(port)}
    env.pop("KETENHUB_BOOTSTRAP", None)

    def ketenhub(*args: str, **extra: str | None) -> subprocess.CompletedProcess[str]:
        shell = {**env, **extra}
        return subprocess.run(
            [sys.executable, "-m", "hub", *(args if args[0] == "topics" else ("kafka", *args))],
            env={k: v for k, v in shell.items() if v is not None},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    try:
        first = ketenhub("start")
        assert first.returncode == 0, first.stderr
        assert f"Kafka is up at 127.0.0.1:{port}" in first.stdout
        assert "log:" in first.stdout
        again = ketenhub("start")
        assert again.returncode == 0 and "already running" in again.stdout
        status = ketenhub("status")
        assert status.returncode == 0 and "running" in status.stdout
        # A second shell in the same checkout, without KETENHUB_KAFKA_PORT: the same broker.
        second = ketenhub("status", KETENHUB_KAFKA_PORT=None)
        assert (
            second.returncode == 0
            and second.stdout.splitlines()[0] == (status.stdout.splitlines()[0])
        )
        assert f"127.0.0.1:{port} (pid " in second.stdout
        assert ketenhub("topics", "list", KETENHUB_KAFKA_PORT=None).returncode == 0
        other = ketenhub("topics", "list", KETENHUB_KAFKA_PORT=str(free_port()))
        assert other.returncode == 2 and other.stdout == ""
        [line] = other.stderr.splitlines()
        assert f"runs at 127.0.0.1:{port}" in line and f"KETENHUB_KAFKA_PORT={port}" in line
    finally:
        stopped = ketenhub("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    down = ketenhub("status")
    assert down.returncode == 1 and "not running" in down.stdout
