"""Transient failures and shutdown on a real broker: no crash loop, nothing lost, nothing twice."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from hub.kafka.local import free_port
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from hub.tools.demo_traffic import random_bsn
from tests.e2e.conftest import REPO, HubEnv
from tests.e2e.test_referral_flow import GP, PROVIDER, stop_hub, wait_for_stages

pytestmark = pytest.mark.kafka

GOLDEN = json.loads((REPO / "schemas" / "examples" / "huisarts-verwijzing.json").read_text())
BURST = 3000


def _wait_for(log: Path, pattern: str, count: int, hub: subprocess.Popen[bytes],
              timeout: float = 30) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.count(pattern) >= count:
            return
        if hub.poll() is not None:
            pytest.fail(f"hub exited with {hub.returncode}:\n{text[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"no {count}x {pattern} within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize("stage", ["all", "ingest", "route"])
def test_a_broker_that_is_down_at_start_gives_retries_not_a_crash_loop(
    tmp_path: Path, stage: str
) -> None:
    nobody = HubEnv(f"127.0.0.1:{free_port()}", "t" + uuid.uuid4().hex[:10],
                    tmp_path / "home", free_port())  # fmt: skip
    log = tmp_path / "hub.log"
    with log.open("ab") as handle:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "--stage", stage],
            env=nobody.env, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for(log, '"kafka-unavailable"', 3, hub)
        assert hub.poll() is None, "still running, still trying"
        lines = [json.loads(line) for line in log.read_text().splitlines()
                 if '"kafka-unavailable"' in line]  # fmt: skip
        assert {line["error_type"] for line in lines} == {"KafkaConnectionError"}
        first = [
            ln
            for ln in lines
            if (ln["stage"], ln["during"]) == (lines[0]["stage"], lines[0]["during"])
        ]
        assert [line["retry_in_s"] for line in first[:3]] == [0.5, 1.0, 2.0], "backoff grows"
    finally:
        started = time.monotonic()
        hub.send_signal(signal.SIGTERM)
        code = hub.wait(timeout=20)
    assert code == 0, log.read_text()[-3000:]
    assert time.monotonic() - started < 5, "SIGTERM is not held up by the backoff"
    assert "Traceback" not in log.read_text()


def _referrals(count: int, tag: str) -> tuple[list[str], list[bytes]]:
    rng = random.Random(tag)
    ids, payloads = [], []
    for i in range(count):
        body = json.loads(json.dumps(GOLDEN))
        body["message_id"] = f"{tag}-{i:05d}"
        body["child"]["bsn"] = random_bsn(rng)
        ids.append(body["message_id"])
        payloads.append(json.dumps(body).encode())
    return ids, payloads


def _acks_so_far(port: int) -> float:
    """Acks the route stage has sent the GP, summed over any other labels the metric has."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    wanted = {("kind", "ack"), ("partner", GP), ("stage", "route")}
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(r"ketenhub_messages_out_total\{(.*)\} (\S+)", line)
        if match and wanted <= set(re.findall(r'(\w+)="([^"]*)"', match.group(1))):
            total += float(match.group(2))
    return total


async def test_sigterm_mid_burst_then_restart_delivers_every_message_exactly_once(
    hub_env: HubEnv, tmp_path: Path
) -> None:
    names = TopicNames(hub_env.prefix)
    ids, payloads = _referrals(BURST, "BURST-" + uuid.uuid4().hex[:6])
    await publish(hub_env.kafka, names.partner_out(GP), payloads)

    log = tmp_path / "hub.log"
    hub = hub_env.start_hub(log)
    wait_for_stages(hub, log)
    deadline = time.monotonic() + 60
    while _acks_so_far(hub_env.metrics_port) < BURST / 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    acked_before_sigterm = _acks_so_far(hub_env.metrics_port)
    assert stop_hub(hub) == 0, "SIGTERM ends the hub cleanly mid-burst"
    first_run = log.read_text()
    assert first_run.count('"stage-stopped"') == 2
    assert 0 < acked_before_sigterm < BURST, "the SIGTERM came mid-burst"

    second_log = tmp_path / "hub-restarted.log"
    restarted = hub_env.start_hub(second_log)
    try:
        wait_for_stages(restarted, second_log)

        def all_acked(messages: list[InboxMessage]) -> bool:
            return sum(m.kind == "ack" for m in messages) >= BURST

        gp = await read_inbox(hub_env.kafka, names.partner_in(GP), until=all_acked,
                              max_wait_s=120)  # fmt: skip
    finally:
        assert stop_hub(restarted) == 0
    gp = await read_inbox(hub_env.kafka, names.partner_in(GP), idle_timeout_s=2)
    provider = await read_inbox(hub_env.kafka, names.partner_in(PROVIDER), idle_timeout_s=2)

    acks = [json.loads(m.value) for m in gp if m.kind == "ack"]
    assert [m.kind for m in gp if m.kind != "ack"] == []
    assert sorted(a["in_response_to"] for a in acks) == sorted(ids), "each acked exactly once"
    assert not any(a["duplicate"] for a in acks), "no batch was processed twice"
    forwards = [json.loads(m.value) for m in provider if m.kind == "forward"]
    assert sorted(f["referral_id"] for f in forwards) == sorted(ids), "each delivered once"
    assert len(provider) == BURST
