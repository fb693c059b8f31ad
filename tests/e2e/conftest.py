"""A real Apache Kafka broker for the end-to-end tests, started and stopped by the suite.

Uses ``KETENHUB_TEST_BOOTSTRAP`` when set (an existing cluster); otherwise the project's own
local Kafka on free ports in a temporary directory, so it never collides with `make run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.local import KafkaDistribution, LocalKafka, free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka | None]:
    if os.environ.get("KETENHUB_TEST_BOOTSTRAP"):
        yield None
        return
    with broker_of_our_own(tmp_path_factory.mktemp("kafka")) as kafka:
        yield kafka


@contextmanager
def broker_of_our_own(run_dir: Path, **options: Any) -> Iterator[LocalKafka]:
    """The project's local Kafka on free ports in ``run_dir``, stopped afterwards."""
    kafka = LocalKafka(
        KafkaDistribution(REPO / ".ketenhub" / "cache"),
        run_dir,
        port=free_port(),
        controller_port=free_port(),
        **options,
    )
    kafka.start(say=lambda line: None)
    try:
        yield kafka
    finally:
        kafka.stop(say=lambda line: None)


@pytest.fixture(scope="session")
def bootstrap(local_kafka: LocalKafka | None) -> str:
    return os.environ.get("KETENHUB_TEST_BOOTSTRAP") or (
        local_kafka.bootstrap if local_kafka else ""
    )


@dataclass
class HubEnv:
    """Environment for one isolated hub: its own topic prefix on the shared broker."""

    bootstrap: str
    prefix: str
    home: Path
    metrics_port: int

    @property
    def kafka(self) -> KafkaConnection:
        return KafkaConnection(self.bootstrap)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KETENHUB_BOOTSTRAP": self.bootstrap,
            "KETENHUB_TOPIC_PREFIX": self.prefix,
            "KETENHUB_HOME": str(self.home),
            "KETENHUB_METRICS_PORT": str(self.metrics_port),
            "KETENHUB_INSTANCE_ID": f"test-{self.prefix}",
            "KETENHUB_PARTITIONS": "3",
        }

    def cli(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            env=self.env, capture_output=True, text=True, check=check, timeout=timeout,
        )  # fmt: skip

    def start_hub(self, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as handle:
            return subprocess.Popen(
                [sys.executable, "-m", "hub", "run"],
                env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip


def new_hub_env(bootstrap: str, home: Path, tag: str) -> HubEnv:
    """A hub environment with a fresh topic prefix (``tag`` + random) and its topics made."""
    env = HubEnv(bootstrap, tag + uuid.uuid4().hex[:10], home, free_port())
    env.cli("topics", "create")
    return env


@pytest.fixture
def hub_env(bootstrap: str, tmp_path: Path) -> HubEnv:
    return new_hub_env(bootstrap, tmp_path / "home", "t")
