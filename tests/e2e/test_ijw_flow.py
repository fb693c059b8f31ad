"""iJw end to end on a real broker: a provider's JW315 reaches the RIGG, the RIGG's JW301
reaches the provider, both as iJw XML, and each sender gets its JSON acknowledgement."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import ijw
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from schemas.ijw import Bericht
from schemas.ijw.models import Jw301, Jw315
from tests.e2e.conftest import REPO, HubEnv

pytestmark = pytest.mark.kafka

PROVIDER = "aanbieder-noorderlicht"
RIGG = "rigg-groningen"
EXAMPLES = REPO / "schemas" / "examples"


def _wait_for_stages(hub: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            pytest.fail(f"hub exited with {hub.returncode}:\n{log.read_text()[-3000:]}")
        if log.exists() and log.read_text().count('"stage-started"') >= 2:
            return
        time.sleep(0.2)
    pytest.fail(f"hub did not start within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def running_hub(hub_env: HubEnv, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / "hub.log"
    hub = hub_env.start_hub(log)
    _wait_for_stages(hub, log)
    yield hub
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=30)


async def _inbox_until(hub_env: HubEnv, partner: str, kinds: list[str]) -> list[InboxMessage]:
    def enough(messages: list[InboxMessage]) -> bool:
        got = [m.kind for m in messages]
        return all(got.count(k) >= kinds.count(k) for k in set(kinds))

    topic = TopicNames(hub_env.prefix).partner_in(partner)
    messages = await read_inbox(hub_env.kafka, topic, until=enough, max_wait_s=60)
    assert enough(messages), f"{partner}: waited for {kinds}, got {[m.kind for m in messages]}"
    return messages


def _only(messages: list[InboxMessage], kind: str) -> InboxMessage:
    (message,) = [m for m in messages if m.kind == kind]
    return message


async def test_jw315_reaches_the_rigg_and_the_jw301_reaches_the_provider(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    jw315 = (EXAMPLES / "aanbieder-jw315.xml").read_bytes()
    await publish(hub_env.kafka, names.partner_out(PROVIDER), [jw315])

    rigg_inbox = await _inbox_until(hub_env, RIGG, ["forward"])
    bericht, delivered = ijw.parse(_only(rigg_inbox, "forward").value, tuple(Bericht))
    assert bericht is Bericht.JW315 and isinstance(delivered, Jw315)
    assert delivered.client.bsn == "999990019"
    assert delivered == ijw.parse(jw315, tuple(Bericht))[1]

    provider_inbox = await _inbox_until(hub_env, PROVIDER, ["ack"])
    ack = json.loads(_only(provider_inbox, "ack").value)
    assert ack["in_response_to"] == "JW315:NL2026000042"
    assert ack["delivered_to"] == [RIGG]

    jw301 = (EXAMPLES / "rigg-jw301.xml").read_bytes()
    await publish(hub_env.kafka, names.partner_out(RIGG), [jw301])
    provider_inbox = await _inbox_until(hub_env, PROVIDER, ["ack", "forward"])
    bericht, assignment = ijw.parse(_only(provider_inbox, "forward").value, tuple(Bericht))
    assert bericht is Bericht.JW301 and isinstance(assignment, Jw301)
    assert assignment.client.bsn == "999990019"
    assert assignment.client.toegewezen_producten[0].referentie_aanbieder == "NL-VOT-2026-0042"

    rigg_inbox = await _inbox_until(hub_env, RIGG, ["forward", "ack"])
    rigg_ack = json.loads(_only(rigg_inbox, "ack").value)
    assert rigg_ack["in_response_to"] == "JW301:RIGG-T-00077"
    assert rigg_ack["delivered_to"] == [PROVIDER]
    assert running_hub.poll() is None


async def test_an_xxe_attempt_is_refused_and_dead_lettered(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    evil = (
        (EXAMPLES / "aanbieder-jw315.xml")
        .read_bytes()
        .replace(b"?>", b'?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    )
    await publish(hub_env.kafka, names.partner_out(PROVIDER), [evil])
    nack = json.loads(_only(await _inbox_until(hub_env, PROVIDER, ["nack"]), "nack").value)
    assert nack["reason_code"] == "xml-unsafe"
    assert "999990019" not in json.dumps(nack)
    dlq = await read_inbox(hub_env.kafka, names.dlq, idle_timeout_s=1)
    assert [m.value for m in dlq] == [evil]
    assert await read_inbox(hub_env.kafka, names.partner_in(RIGG), idle_timeout_s=1) == []
