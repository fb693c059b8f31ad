"""``ketenhub check`` on the real broker: all well, then a missing topic and another count."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import HubEnv

pytestmark = pytest.mark.kafka


def _check(env: dict[str, str]) -> tuple[int, dict[str, list[dict[str, object]]]]:
    result = subprocess.run(
        [sys.executable, "-m", "hub", "check", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    found: dict[str, list[dict[str, object]]] = {}
    for line in result.stdout.splitlines():
        finding = json.loads(line)
        found.setdefault(str(finding["check"]), []).append(finding)
    return result.returncode, found


def test_a_ready_hub_passes_every_check(hub_env: HubEnv) -> None:
    code, found = _check(hub_env.env)
    assert code == 0, found
    assert list(found) == ["configuration", "kafka", "brokers", "topics"], "no SASL: no login"
    assert all(f["ok"] for fs in found.values() for f in fs)
    assert str(found["brokers"][0]["detail"]) == "1 of 1 answered, each with what the hub needs"


def test_other_partition_counts_and_missing_topics_fail_the_check(hub_env: HubEnv) -> None:
    # The fixture created the topics with KETENHUB_PARTITIONS=3.
    code, found = _check(hub_env.env | {"KETENHUB_PARTITIONS": "4"})
    assert code == 1
    details = [str(f["detail"]) for f in found["topics"] if not f["ok"]]
    assert f"{hub_env.prefix}.canonical has 3 partitions, the settings say 4" in "\n".join(details)
    assert len(details) == 6, "the hub's six own topics; partner topics keep their 1"

    code, found = _check(hub_env.env | {"KETENHUB_TOPIC_PREFIX": "t" + uuid.uuid4().hex[:10]})
    assert code == 1
    (missing,) = found["topics"]
    assert "missing" in str(missing["detail"])
    assert "run `ketenhub topics create`" in str(missing["detail"])
