"""``ketenhub bench`` on the suite's real broker: it runs, cleans up and reports sane numbers.

Never asserts speed: the machine running the tests decides that, not the code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import list_topics
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.kafka

KEYS = ("passthrough_msgs_per_s", "shadow_msgs_per_s", "pipeline_msgs_per_s",
        "faststream_msgs_per_s", "ratio", "ratio_to_shadow", "ratio_to_faststream",
        "inprocess_us_per_msg", "kafka_client_us_per_msg", "hub_cpu_us_per_msg",
        "scaleout_ratio", "p50_ms", "p95_ms", "p99_ms", "floor_p50_ms", "floor_p99_ms",
        "peak_rss_mb", "cpu_s_per_1000")  # fmt: skip
LOADS = {"30": 30.0, "300": 300.0, "half": None, "floor": 5.0}


@pytest.mark.timeout(420)
async def test_bench_json_on_a_real_broker(bootstrap: str, tmp_path: Path) -> None:
    kafka = KafkaConnection(bootstrap)
    before = set(await list_topics(kafka))
    # A home of its own: a broker this checkout runs for `make run` is not the suite's.
    env = {**os.environ, "KETENHUB_BOOTSTRAP": bootstrap, "KETENHUB_PARTITIONS": "3",
           "KETENHUB_HOME": str(tmp_path)}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "hub", "bench", "--messages", "300", "--json",
         "--warmup", "3"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert isinstance(data[key], int | float), key
        assert data[key] > 0, (key, data)
    assert data["messages"] == 300
    assert data["p50_ms"] <= data["p95_ms"] <= data["p99_ms"]
    assert data["floor_p50_ms"] <= data["floor_p99_ms"]
    assert sum(data["mix"].values()) >= 300
    assert set(data["latency_at"]) == set(LOADS)
    for label, offered in LOADS.items():
        level = data["latency_at"][label]
        assert offered is None or level["offered_msgs_per_s"] == offered, label
        assert 0 < level["p50_ms"] <= level["p95_ms"] <= level["p99_ms"], (label, level)
        assert level["count"] > 0 and level["achieved_msgs_per_s"] > 0, label
    assert data["scaleout_msgs_per_s"]["1"] == data["pipeline_msgs_per_s"]
    assert data["scaleout_msgs_per_s"]["2"] > 0
    # The shadow reproduced the pipeline's I/O: each message became several records.
    fanout = data["fanout_records_per_msg"]
    assert fanout["ingest"] >= 1 and fanout["route"] >= 1, fanout
    assert data["pipeline_io_records"]["canonical"] >= 300 * 0.9
    assert data["inprocess_phases_us"]["kafka_client"] == data["kafka_client_us_per_msg"]
    warmup = data["warmup"]
    assert (warmup["seconds"], warmup["msgs_per_s"]) == (3, 300)
    assert warmup["last_step_cores"]["hub"] > 0, "the warm-up ran a hub"
    cores = warmup["last_step_cores"]
    assert 0 < cores["hub main thread"] <= cores["hub"] + 0.01, cores  # a part of the hub's
    assert "hub main thread" in data["drain_cores"]["pipeline"]
    created = set(await list_topics(kafka)) - before
    assert not [t for t in created if t.startswith("bench-")], "the benchmark deletes its topics"
