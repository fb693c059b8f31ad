"""``ketenhub bench`` on the suite's real broker: it runs, cleans up and reports sane numbers.

Never asserts speed: the machine running the tests decides that, not the code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import list_topics
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.kafka

KEYS = ("passthrough_msgs_per_s", "pipeline_msgs_per_s", "ratio", "p50_ms", "p95_ms", "p99_ms",
        "floor_p50_ms", "floor_p99_ms", "peak_rss_mb", "cpu_s_per_1000")  # fmt: skip


@pytest.mark.timeout(420)
async def test_bench_json_on_a_real_broker(bootstrap: str) -> None:
    kafka = KafkaConnection(bootstrap)
    before = set(await list_topics(kafka))
    env = {**os.environ, "KETENHUB_BOOTSTRAP": bootstrap, "KETENHUB_PARTITIONS": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "bench", "--messages", "500", "--json",
         "--warmup", "3"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert isinstance(data[key], int | float), key
        assert data[key] > 0, (key, data)
    assert data["messages"] == 500
    assert data["p50_ms"] <= data["p95_ms"] <= data["p99_ms"]
    assert data["floor_p50_ms"] <= data["floor_p99_ms"]
    assert sum(data["mix"].values()) >= 500
    warmup = data["warmup"]
    assert (warmup["seconds"], warmup["msgs_per_s"]) == (3, 300)
    assert warmup["last_step_cores"]["hub"] > 0, "the warm-up ran a hub"
    created = set(await list_topics(kafka)) - before
    assert not [t for t in created if t.startswith("bench-")], "the benchmark deletes its topics"
