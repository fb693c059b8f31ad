"""The router's rules end to end on a real broker, through the partners' own native formats.

One hub serves the whole module; every test uses its own children (BSNs), so its own
households, and its own message ids.
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from schemas.bsn import is_valid_bsn
from tests.e2e.conftest import REPO, HubEnv, new_hub_env
from tests.e2e.test_referral_flow import wait_for_stages

pytestmark = pytest.mark.kafka

EXAMPLES = REPO / "schemas" / "examples"
TEST_BSNS = iter(str(n) for n in range(999991000, 999999999) if is_valid_bsn(str(n)))


def bsn() -> str:
    return next(TEST_BSNS)


@pytest.fixture(scope="module")
def env(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> HubEnv:
    return new_hub_env(bootstrap, tmp_path_factory.mktemp("router") / "home", "r")


@pytest.fixture(scope="module")
def hub(env: HubEnv) -> Iterator[subprocess.Popen[bytes]]:
    log = env.home.parent / "hub.log"
    process = env.start_hub(log)
    wait_for_stages(process, log)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def native(example: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / f"{example}.json").read_text())
    body["message_id"] = f"{body['message_id']}-{uuid.uuid4().hex[:6]}"
    body.update(changes)
    return body


class Chain:
    """The partners of one scenario, talking to the hub as their systems would."""

    def __init__(self, env: HubEnv) -> None:
        self.kafka = KafkaConnection(env.bootstrap)
        self.names = TopicNames(env.prefix)

    async def send(self, partner: str, body: dict[str, Any]) -> str:
        await publish(self.kafka, self.names.partner_out(partner), [json.dumps(body).encode()])
        return str(body["message_id"])

    async def inbox(
        self, partner: str, until: Callable[[list[dict[str, Any]]], bool] | None = None
    ) -> list[dict[str, Any]]:
        def parsed(messages: list[InboxMessage]) -> list[dict[str, Any]]:
            out = []
            for m in messages:
                try:
                    out.append(json.loads(m.value) | {"_kind": m.kind})
                except ValueError:
                    out.append({"_kind": m.kind, "_xml": True})
            return out

        messages = await read_inbox(
            self.kafka, self.names.partner_in(partner),
            until=None if until is None else (lambda ms: until(parsed(ms))),
            # Waiting for an answer, a quiet inbox proves nothing (a hub that just restarted
            # waits for its group to rebalance); only max_wait_s gives up.
            idle_timeout_s=1.5 if until is None else 60, max_wait_s=60,
        )  # fmt: skip
        result = parsed(messages)
        if until is not None:
            assert until(result), f"{partner} never got what was expected; inbox: {result}"
        return result

    async def answer(self, partner: str, message_id: str) -> dict[str, Any]:
        """Send-and-wait: the ack or nack the partner gets for its message."""

        def answered(ms: list[dict[str, Any]]) -> bool:
            return any(m.get("in_response_to") == message_id for m in ms)

        inbox = await self.inbox(partner, answered)
        return next(m for m in inbox if m.get("in_response_to") == message_id)

    async def notices(self, partner: str, subject: str, count: int = 1) -> list[dict[str, Any]]:
        def enough(ms: list[dict[str, Any]]) -> bool:
            return len([m for m in ms if m.get("subject") == subject]) >= count

        return [m for m in await self.inbox(partner, enough) if m.get("subject") == subject]


def child(number: str, born: str = "2014-03-02") -> dict[str, str]:
    return {"bsn": number, "birth_date": born}


@pytest.fixture
def chain(env: HubEnv, hub: subprocess.Popen[bytes]) -> Chain:
    return Chain(env)


async def test_one_regisseur_a_second_claim_is_refused_and_the_regisseur_told(chain: Chain) -> None:
    a, b = bsn(), bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a), child(b)]))
    assert (await chain.answer("wij-zuid", claim))["type"] == "ack"
    second = await chain.send("ojg-wijert", native("ojg-regie-claim", household=[child(b)]))
    nack = await chain.answer("ojg-wijert", second)
    assert nack["type"] == "nack" and nack["reason_code"] == "regie-conflict"
    assert "wij-zuid" in nack["reason"] and a not in json.dumps(nack)
    [notice] = [n for n in await chain.notices("wij-zuid", "regie-conflict")
                if n["regarding"] == claim]  # fmt: skip
    assert [p["partner"] for p in notice["about"]] == ["ojg-wijert"]


async def test_a_signal_about_a_sibling_reaches_the_regisseur_minimised(chain: Chain) -> None:
    a, b = bsn(), bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a), child(b)]))
    await chain.answer("wij-zuid", claim)
    signal_id = await chain.send(
        "school-montessori", native("school-zorgsignaal", pupil=child(b, "2012-01-05"))
    )
    assert (await chain.answer("school-montessori", signal_id))["type"] == "ack"

    def got_signal(ms: list[dict[str, Any]]) -> bool:
        return any(m.get("type") == "signaal-ontvangen" and m.get("child", {}).get("bsn") == b
                   for m in ms)  # fmt: skip

    inbox = await chain.inbox("wij-zuid", got_signal)
    [received] = [m for m in inbox if m.get("type") == "signaal-ontvangen"
                  and m.get("child", {}).get("bsn") == b]  # fmt: skip
    assert received.get("concern_category") in (None, "withheld"), "WIJ never sees the category"


async def test_two_signals_about_one_child_match_and_both_signallers_learn_who(
    chain: Chain,
) -> None:
    c = bsn()
    gp_signal = await chain.send("huisarts-wijert", native("huisarts-signaal", child=child(c)))
    await chain.answer("huisarts-wijert", gp_signal)
    school_signal = await chain.send(
        "school-montessori", native("school-zorgsignaal", pupil=child(c))
    )
    await chain.answer("school-montessori", school_signal)
    [to_gp] = [n for n in await chain.notices("huisarts-wijert", "signal-match")
               if n["regarding"] == gp_signal]  # fmt: skip
    [to_school] = [n for n in await chain.notices("school-montessori", "signal-match")
                   if n["regarding"] == school_signal]  # fmt: skip
    assert [p["partner"] for p in to_gp["about"]] == ["school-montessori"]
    assert to_gp["about"][0]["contact"], "a match says how to reach the other professional"
    assert [p["partner"] for p in to_school["about"]] == ["huisarts-wijert"]
    assert c not in json.dumps(to_school), "a notice never carries the BSN"
    # With no regisseur, the signal itself went to the WIJ team of the area.
    await chain.inbox(
        "wij-zuid",
        lambda ms: any(
            m.get("type") == "signaal-ontvangen" and m.get("child", {}).get("bsn") == c for m in ms
        ),
    )


async def test_signals_about_siblings_make_a_family_match(chain: Chain) -> None:
    a, b = bsn(), bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a), child(b)]))
    await chain.answer("wij-zuid", claim)
    first = await chain.send("huisarts-wijert", native("huisarts-signaal", child=child(a)))
    await chain.answer("huisarts-wijert", first)
    second = await chain.send("school-montessori", native("school-zorgsignaal", pupil=child(b)))
    await chain.answer("school-montessori", second)
    [to_gp] = [n for n in await chain.notices("huisarts-wijert", "family-match")
               if n["regarding"] == first]  # fmt: skip
    assert [p["partner"] for p in to_gp["about"]] == ["school-montessori"]
    regisseur = await chain.notices("wij-zuid", "family-match")
    assert any({p["partner"] for p in n["about"]} == {"huisarts-wijert", "school-montessori"}
               for n in regisseur)  # fmt: skip


async def test_consent_gates_an_ojg_referral_and_revocation_stops_it_at_once(chain: Chain) -> None:
    c = bsn()
    kid = child(c, "2013-06-01")  # 13: child and parent must both consent

    async def ojg_referral() -> dict[str, Any]:
        body = native("ojg-verwijzing", child=kid)
        return await chain.answer("ojg-wijert", await chain.send("ojg-wijert", body))

    refused = await ojg_referral()
    assert refused["type"] == "nack" and refused["reason_code"] == "no-legal-basis"

    consent_id = f"TOE-{uuid.uuid4().hex[:8]}"
    consent = native(
        "wij-toestemming", consent_id=consent_id, child=kid, given_by=["parent"],
        purposes=["verwijzing"], recipients=["aanbieder-kompas"], recipient_kinds=[],
    )  # fmt: skip
    only_parent = await chain.answer("wij-zuid", await chain.send("wij-zuid", consent))
    assert only_parent["type"] == "nack" and only_parent["reason_code"] == "consent-incomplete"

    consent = native(
        "wij-toestemming", consent_id=consent_id, child=kid, given_by=["child", "parent"],
        purposes=["verwijzing"], recipients=["aanbieder-kompas"], recipient_kinds=[],
    )  # fmt: skip
    assert (await chain.answer("wij-zuid", await chain.send("wij-zuid", consent)))["type"] == "ack"
    delivered = await ojg_referral()
    assert delivered["type"] == "ack" and delivered["delivered_to"] == ["aanbieder-kompas"]

    revoke = native("wij-toestemming-ingetrokken", consent_id=consent_id, child=kid)
    assert (await chain.answer("wij-zuid", await chain.send("wij-zuid", revoke)))["type"] == "ack"
    after = await ojg_referral()
    assert after["type"] == "nack" and after["reason_code"] == "no-legal-basis"
    provider = await chain.inbox("aanbieder-kompas")
    mine = [m for m in provider if m.get("client", {}).get("bsn") == c]
    assert len(mine) == 1, "exactly the one referral made while consent was in force"


async def test_escalation_takes_regie_and_de_escalation_returns_it(chain: Chain) -> None:
    a = bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a)]))
    await chain.answer("wij-zuid", claim)
    up = await chain.send("veiligheidshuis-groningen", native("veiligheidshuis-opschalen",
                          household=[child(a)]))  # fmt: skip
    assert (await chain.answer("veiligheidshuis-groningen", up))["type"] == "ack"
    assert any(n["regarding"] == claim for n in await chain.notices("wij-zuid", "regie-escalated"))
    # While escalated, WIJ cannot close and another claim conflicts with the Veiligheidshuis.
    close = await chain.send("wij-zuid", native("wij-regie-afsluiting", household=[child(a)]))
    assert (await chain.answer("wij-zuid", close))["reason_code"] == "not-regisseur"
    down = await chain.send("veiligheidshuis-groningen", native("veiligheidshuis-afschalen",
                            child=child(a)))  # fmt: skip
    assert (await chain.answer("veiligheidshuis-groningen", down))["type"] == "ack"
    assert any(n["regarding"] == claim for n in await chain.notices("wij-zuid", "regie-returned"))
    close = await chain.send("wij-zuid", native("wij-regie-afsluiting", household=[child(a)]))
    assert (await chain.answer("wij-zuid", close))["type"] == "ack"


async def test_regie_transfer_offer_and_accept(chain: Chain) -> None:
    a = bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a)]))
    await chain.answer("wij-zuid", claim)
    offer = await chain.send(
        "wij-zuid", native("wij-regie-overdracht-aanbod", household=[child(a)], to="wij-west")
    )
    assert (await chain.answer("wij-zuid", offer))["type"] == "ack"
    offered = await chain.notices("wij-west", "regie-transfer-offered")
    assert any(p["partner"] == "wij-zuid" for n in offered for p in n["about"])
    accept = native("wij-regie-overdracht-akkoord", household=[child(a)], offer_message_id=offer,
                    sender={"code": "WIJ-WEST"})  # fmt: skip
    assert (await chain.answer("wij-west", await chain.send("wij-west", accept)))["type"] == "ack"
    assert any(
        n["regarding"] == offer for n in await chain.notices("wij-zuid", "regie-transferred")
    )
    again = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a)]))
    nack = await chain.answer("wij-zuid", again)
    assert nack["reason_code"] == "regie-conflict" and "wij-west" in nack["reason"]


async def test_state_show_finds_the_household_by_bsn(chain: Chain, env: HubEnv) -> None:
    """Ops look a household up by BSN; the output shows pseudonyms and partner ids only."""
    a = bsn()
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[child(a)]))
    await chain.answer("wij-zuid", claim)
    shown = env.cli("state", "show", "--bsn", a)
    assert '"partner_id": "wij-zuid"' in shown.stdout
    assert a not in shown.stdout
    unknown = env.cli("state", "show", "--bsn", bsn(), check=False)
    assert unknown.returncode == 2 and "no router state" in unknown.stderr


async def test_decisions_survive_a_killed_hub(
    chain: Chain, env: HubEnv, hub: subprocess.Popen[bytes]
) -> None:
    """SIGKILL, restart from the state topic: regie and consent decisions are all still there."""
    a = bsn()
    kid = child(a, "2010-02-02")  # 16: the young person consents alone
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[kid]))
    await chain.answer("wij-zuid", claim)
    consent = native("wij-toestemming", consent_id=f"T-{uuid.uuid4().hex[:6]}", child=kid,
                     given_by=["child"], purposes=["verwijzing"], recipients=["aanbieder-kompas"],
                     recipient_kinds=[])  # fmt: skip
    await chain.answer("wij-zuid", await chain.send("wij-zuid", consent))

    hub.kill()
    hub.wait(timeout=10)
    log = env.home.parent / "hub-restarted.log"
    restarted = env.start_hub(log)
    try:
        wait_for_stages(restarted, log)
        second = await chain.send("ojg-wijert", native("ojg-regie-claim", household=[kid]))
        assert (await chain.answer("ojg-wijert", second))["reason_code"] == "regie-conflict"
        body = native("ojg-verwijzing", child=kid)
        referral = await chain.answer("ojg-wijert", await chain.send("ojg-wijert", body))
        assert referral["type"] == "ack" and referral["delivered_to"] == ["aanbieder-kompas"]
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0
