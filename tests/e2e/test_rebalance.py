"""A second instance joins and leaves: regie decisions follow the partitions (real broker)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from structlog.testing import capture_logs

from hub.context import load_context
from hub.kafka.local import free_port
from hub.kafka.topics import TopicNames
from hub.settings import Settings
from hub.stages.route import RouteStage
from hub.stages.state_restore import restore_states
from hub.stages.state_store import StateStore
from observability.metrics import HubMetrics
from routing.state import HouseholdState
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


def _route_stage(env: HubEnv, states: StateStore) -> RouteStage:
    settings = Settings(bootstrap=env.bootstrap, topic_prefix=env.prefix)
    return RouteStage(load_context(settings, kafka=env.kafka), HubMetrics(), states)


async def test_the_first_assignment_reads_state_changed_since_the_startup_restore(
    hub_env: HubEnv,
) -> None:
    """An instance restores all state at start, then joins the group; meanwhile the running
    instances go on changing state. Skipping the read at the first assignment routed the
    gained households on stale state (a claim, a message id seen before: missed)."""
    names = TopicNames(hub_env.prefix)
    kept, changed, forgotten = "a" * 32, "b" * 32, "c" * 32
    claimed = HouseholdState(area="zuid", recent=("wij-zuid/R-1",)).model_dump_json().encode()
    producer = hub_env.kafka.producer(transactional_id=f"{hub_env.prefix}-test")
    await producer.start()
    try:
        await _in_transaction(producer, names.state, [(kept, b"{}"), (forgotten, b"{}")])
        states = await restore_states(hub_env.kafka, names.state)
        assert set(states) == {kept, forgotten}
        # Another instance routes on while this one joins the group:
        await _in_transaction(producer, names.state, [(changed, claimed), (forgotten, None)])
        # ... and a batch of its is still open when the partitions change hands:
        late = "d" * 32
        await _left_open(producer, names.state, late, claimed)
        stage = _route_stage(hub_env, states)
        assigned = asyncio.ensure_future(stage.partitions_assigned([0, 1, 2]))
        await asyncio.sleep(1.5)
        assert not assigned.done(), "read past a transaction still open on the changelog"
        await producer.commit_transaction()
        await asyncio.wait_for(assigned, 30)
    finally:
        await producer.stop()
    assert set(stage.states) == {kept, changed, late}
    assert stage.states[changed].recent == ("wij-zuid/R-1",)


async def _in_transaction(
    producer: AIOKafkaProducer, topic: str, records: list[tuple[str, bytes | None]]
) -> None:
    await producer.begin_transaction()
    for key, value in records:
        await producer.send(topic, key=key.encode(), value=value)
    await producer.commit_transaction()


async def _left_open(producer: AIOKafkaProducer, topic: str, key: str, value: bytes) -> None:
    """One record written in a transaction that stays open (until the caller ends it)."""
    await producer.begin_transaction()
    await producer.send(topic, key=key.encode(), value=value)
    await producer.flush()


async def test_a_transaction_that_stays_open_is_waited_for_only_a_while(
    hub_env: HubEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An instance that died mid-batch leaves its transaction open until the broker aborts
    it (a minute): a restore must not wait for that, and its state must not count."""
    monkeypatch.setattr("hub.stages.state_restore.OPEN_TRANSACTION_WAIT_S", 1.0)
    names = TopicNames(hub_env.prefix)
    producer = hub_env.kafka.producer(transactional_id=f"{hub_env.prefix}-dead")
    await producer.start()
    try:
        await _in_transaction(producer, names.state, [("a" * 32, b"{}")])
        await _left_open(producer, names.state, "d" * 32, b"{}")
        started = time.monotonic()
        with capture_logs() as logs:
            states = await restore_states(hub_env.kafka, names.state)
        assert 1.0 <= time.monotonic() - started < 10
        assert set(states) == {"a" * 32}
        assert "state-read-before-open-transaction" in [e["event"] for e in logs]
        await producer.abort_transaction()
    finally:
        await producer.stop()


async def test_a_restart_aborts_its_own_open_transaction_before_reading_state(
    hub_env: HubEnv, tmp_path: Path
) -> None:
    """A hub killed mid-batch left its transaction open on the state topic: restarted under
    the same instance id it aborts that at once, and reads state without waiting for it."""
    names = TopicNames(hub_env.prefix)
    dead = hub_env.kafka.producer(transactional_id=f"{hub_env.prefix}-route-reborn")
    await dead.start()
    try:
        await _in_transaction(dead, names.state, [("a" * 32, b"{}")])
        await _left_open(dead, names.state, "d" * 32, b"{}")
        # ... and the process dies here: nothing commits or aborts that transaction
        log = tmp_path / "reborn.log"
        started = time.monotonic()
        hub = start_instance(hub_env, "reborn", log)
        try:
            wait_for_stages(hub, log)
            elapsed = time.monotonic() - started
        finally:
            hub.send_signal(signal.SIGTERM)
            hub.wait(timeout=30)
    finally:
        await dead.stop()
    text = log.read_text()
    assert "state-read-before-open-transaction" not in text, "it waited for its own batch"
    assert '"households": 1' in next(ln for ln in text.splitlines() if '"state-restored"' in ln)
    assert elapsed < 30, elapsed
