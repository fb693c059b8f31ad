"""A second instance joins and leaves: regie decisions follow the partitions (real broker)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub.local_kafka import free_port
from tests.e2e.conftest import HubEnv
from tests.e2e.test_referral_flow import wait_for_stages
from tests.e2e.test_router_scenarios import Chain, bsn, child, native

pytestmark = pytest.mark.kafka


def start_instance(env: HubEnv, name: str, log: Path) -> subprocess.Popen[bytes]:
    variables = {**env.env, "KETENHUB_INSTANCE_ID": name, "KETENHUB_METRICS_PORT": str(free_port())}
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "run"], env=variables, stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


async def test_state_moves_with_partitions_when_an_instance_leaves(
    hub_env: HubEnv, tmp_path: Path
) -> None:
    chain = Chain(hub_env)
    a = start_instance(hub_env, "a", tmp_path / "a.log")
    b = None
    try:
        wait_for_stages(a, tmp_path / "a.log")
        b = start_instance(hub_env, "b", tmp_path / "b.log")
        wait_for_stages(b, tmp_path / "b.log")
        await asyncio.sleep(8)  # let the group rebalance over both instances
        households = [bsn() for _ in range(12)]
        for number in households:
            claim = await chain.send(
                "wij-zuid", native("wij-regie-claim", household=[child(number)])
            )
            assert (await chain.answer("wij-zuid", claim))["type"] == "ack"
        b_log = (tmp_path / "b.log").read_text()
        assert "stage-started" in b_log
        b.send_signal(signal.SIGTERM)
        assert b.wait(timeout=30) == 0
        b = None
        for number in households:
            second = await chain.send(
                "ojg-wijert", native("ojg-regie-claim", household=[child(number)])
            )
            nack = await chain.answer("ojg-wijert", second)
            assert nack["type"] == "nack" and nack["reason_code"] == "regie-conflict", number
        assert "state-restored-on-rebalance" in (tmp_path / "a.log").read_text()
    finally:
        for process in (a, b):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
