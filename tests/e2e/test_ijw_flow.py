"""iJw end to end on a real broker: a provider's JW315 reaches the RIGG, the RIGG's JW301
reaches the provider, both as iJw XML, and each sender gets its JSON acknowledgement."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import ijw
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from schemas.ijw import Bericht
from schemas.ijw.models import Jw301, Jw315
from tests.e2e.conftest import REPO, HubEnv
from tests.e2e.test_referral_flow import stop_hub, wait_for_stages

pytestmark = pytest.mark.kafka

PROVIDER = "aanbieder-noorderlicht"
RIGG = "rigg-groningen"
EXAMPLES = REPO / "schemas" / "examples"


@pytest.fixture
def running_hub(hub_env: HubEnv, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / "hub.log"
    hub = hub_env.start_hub(log)
    wait_for_stages(hub, log)
    yield hub
    if hub.poll() is None:
        stop_hub(hub)


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


GP = "huisarts-wijert"
REFUSAL = "refused JW319"
"""A second answer on the JW317, now refusing it (WJ760 1, reason WJ759 3)."""


def _payload(example: str) -> bytes:
    if example != REFUSAL:
        return (EXAMPLES / example).read_bytes()
    return (
        (EXAMPLES / "rigg-jw319.xml")
        .read_bytes()
        .replace(b"RIGG-A-00103", b"RIGG-A-00104")
        .replace(
            b"<jw319:VerzoekAntwoord>2</jw319:VerzoekAntwoord>",
            b"<jw319:VerzoekAntwoord>1</jw319:VerzoekAntwoord>"
            b"<jw319:RedenAfwijzingVerzoek>3</jw319:RedenAfwijzingVerzoek>",
        )
    )


CYCLE = [
    # (sender, example, recipient, bericht)
    (PROVIDER, "aanbieder-jw315.xml", RIGG, Bericht.JW315),
    (RIGG, "rigg-jw316.xml", PROVIDER, Bericht.JW316),
    (RIGG, "rigg-jw301.xml", PROVIDER, Bericht.JW301),
    (PROVIDER, "aanbieder-jw302.xml", RIGG, Bericht.JW302),
    (PROVIDER, "aanbieder-jw305.xml", RIGG, Bericht.JW305),
    (RIGG, "rigg-jw306.xml", PROVIDER, Bericht.JW306),
    (PROVIDER, "aanbieder-jw317.xml", RIGG, Bericht.JW317),
    (RIGG, "rigg-jw318.xml", PROVIDER, Bericht.JW318),
    (RIGG, "rigg-jw319.xml", PROVIDER, Bericht.JW319),
    (PROVIDER, "aanbieder-jw320.xml", RIGG, Bericht.JW320),
    (RIGG, REFUSAL, PROVIDER, Bericht.JW319),
    (PROVIDER, "aanbieder-jw307.xml", RIGG, Bericht.JW307),
    (RIGG, "rigg-jw308.xml", PROVIDER, Bericht.JW308),
    (PROVIDER, "aanbieder-jw323.xml", RIGG, Bericht.JW323),
    (RIGG, "rigg-jw325.xml", PROVIDER, Bericht.JW325),
]


def _ijw_forwards(messages: list[InboxMessage]) -> list[InboxMessage]:
    """The iJw XML forwarded to a partner (a provider also gets the GP's referral as JSON)."""
    return [m for m in messages if m.kind == "forward" and m.value.lstrip().startswith(b"<")]


async def test_a_referral_runs_the_whole_ijw_cycle_and_the_gp_hears_of_it(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    """GP referral, then JW315 … JW325 in native iJw, each step waiting for the last: every
    message reaches its addressee as the iJw it was, every sender gets its ack, and the GP
    hears that the care it referred to was assigned, started and stopped, and that a later
    request of the provider was refused (a JW319 names no child: it reaches the household by
    the provider's reference in the JW317), nothing more."""
    names = TopicNames(hub_env.prefix)
    referral = (EXAMPLES / "huisarts-verwijzing.json").read_bytes()
    await publish(hub_env.kafka, names.partner_out(GP), [referral])
    await _inbox_until(hub_env, PROVIDER, ["forward"])
    acks = {PROVIDER: 0, RIGG: 0}
    forwards = {PROVIDER: 1, RIGG: 0}
    for sender, example, recipient, bericht in CYCLE:
        payload = _payload(example)
        await publish(hub_env.kafka, names.partner_out(sender), [payload])
        acks[sender] += 1
        forwards[recipient] += 1
        inbox = await _inbox_until(
            hub_env, recipient, ["forward"] * forwards[recipient] + ["ack"] * acks[recipient]
        )
        last = _ijw_forwards(inbox)[-1]
        delivered, message = ijw.parse(last.value, tuple(Bericht))
        assert delivered is bericht
        assert message == ijw.parse(payload, (bericht,))[1]
        sender_inbox = await _inbox_until(hub_env, sender, ["ack"] * acks[sender])
        assert not [m for m in sender_inbox if m.kind == "nack"], bericht
    gp_inbox = await _inbox_until(hub_env, GP, ["ack"] + ["notify"] * 4)
    subjects = [json.loads(m.value)["subject"] for m in gp_inbox if m.kind == "notify"]
    assert subjects == ["assignment-granted", "care-started", "assignment-refused", "care-ended"]
    about = {
        a["partner"] for m in gp_inbox if m.kind == "notify" for a in json.loads(m.value)["about"]
    }
    assert about == {PROVIDER}
    for received in gp_inbox:
        assert b"999990019" not in received.value and b"Proefpersoon" not in received.value
    assert running_hub.poll() is None
