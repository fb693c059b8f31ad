"""A pseudonym key rotation under steady traffic, end to end on the real broker.

Households with a regisseur and a consent get OJG referrals at a steady pace; meanwhile
`ketenhub keys rotate` makes a new key and the hub restarts on it. Every referral is
acknowledged once and delivered once, on its consent; every regie is kept; a resend across
the rotation is still known as one; `keys status` counts who is left on the old key, and
`keys retire` refuses until told, saying how many households would lose their state.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import Any

import pytest

from hub.ops.topic_reader import InboxMessage, read_inbox
from tests.e2e.conftest import HubEnv, new_hub_env
from tests.e2e.test_referral_flow import stop_hub, wait_for_stages
from tests.e2e.test_router_scenarios import Chain, bsn, child, native

pytestmark = pytest.mark.kafka

HOUSEHOLDS = 6
QUIET = 2
"""Households that get no message after the rotation: still on the old key at the end."""
PACE_S = 0.1
PROVIDER = "aanbieder-kompas"


@pytest.fixture(scope="module")
def env(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> HubEnv:
    return new_hub_env(bootstrap, tmp_path_factory.mktemp("keys") / "home", "k")


def _start(env: HubEnv, name: str) -> subprocess.Popen[bytes]:
    log = env.home.parent / f"{name}.log"
    process = env.start_hub(log)
    wait_for_stages(process, log)
    return process


def consent(kid: dict[str, str]) -> dict[str, Any]:
    return native(
        "wij-toestemming", consent_id=f"TOE-{uuid.uuid4().hex[:8]}", child=kid,
        given_by=["child", "parent"], purposes=["verwijzing"], recipients=[PROVIDER],
        recipient_kinds=[],
    )  # fmt: skip


async def _household(chain: Chain) -> dict[str, str]:
    """A household of two children with the WIJ team as regisseur and a consent for the
    elder's referrals to the provider."""
    kid, sibling = child(bsn(), "2013-06-01"), child(bsn(), "2016-01-01")
    claim = await chain.send("wij-zuid", native("wij-regie-claim", household=[kid, sibling]))
    assert (await chain.answer("wij-zuid", claim))["type"] == "ack"
    given = await chain.send("wij-zuid", consent(kid))
    assert (await chain.answer("wij-zuid", given))["type"] == "ack"
    return kid


async def _traffic(
    chain: Chain, kids: list[dict[str, str]], sent: list[str], stop: asyncio.Event
) -> None:
    """OJG referrals, one every ``PACE_S``, round the households, until ``stop``."""
    while not stop.is_set():
        kid = kids[len(sent) % len(kids)]
        sent.append(await chain.send("ojg-wijert", native("ojg-verwijzing", child=kid)))
        await asyncio.sleep(PACE_S)


def _json(env: HubEnv, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in env.cli(*args, "--json").stdout.splitlines()]


async def test_a_rotation_under_traffic_loses_nothing_duplicates_nothing_keeps_regie_and_consent(
    env: HubEnv,
) -> None:
    chain = Chain(env)
    hub = _start(env, "hub-before")
    try:
        kids = [await _household(chain) for _ in range(HOUSEHOLDS)]
        quiet = [await _household(chain) for _ in range(QUIET)]
        resent = native("ojg-verwijzing", child=kids[0])
        first = await chain.answer("ojg-wijert", await chain.send("ojg-wijert", resent))
        assert first["delivered_to"] == [PROVIDER]

        stop, sent = asyncio.Event(), list[str]()
        traffic = asyncio.create_task(_traffic(chain, kids, sent, stop))
        await asyncio.sleep(3)
        before = len(sent)
        rotated = await asyncio.to_thread(env.cli, "keys", "rotate", "--json")
        assert json.loads(rotated.stdout) == {"current": 2, "previous": 1}
        assert stop_hub(hub) == 0
        hub = await asyncio.to_thread(_start, env, "hub-after")
        await asyncio.sleep(4)
        stop.set()
        await traffic
        await chain.send("ojg-wijert", resent)

        def all_answered(messages: list[InboxMessage]) -> bool:
            answered = {json.loads(m.value).get("in_response_to") for m in messages}
            return answered >= {*sent, resent["message_id"]}

        await read_inbox(chain.kafka, chain.names.partner_in("ojg-wijert"), until=all_answered,
                         max_wait_s=120)  # fmt: skip
        ojg = await read_inbox(chain.kafka, chain.names.partner_in("ojg-wijert"), idle_timeout_s=2)
        provider = await read_inbox(chain.kafka, chain.names.partner_in(PROVIDER),
                                    idle_timeout_s=2)  # fmt: skip
        answers = [json.loads(m.value) for m in ojg if m.kind in ("ack", "nack")]
        mine = [a for a in answers if a["in_response_to"] in set(sent)]
        assert sorted(a["in_response_to"] for a in mine) == sorted(sent), "each answered once"
        outcomes = {(a["type"], a.get("reason_code"), a.get("duplicate")) for a in mine}
        bad = {a["in_response_to"] for a in mine if a["type"] != "ack"}
        assert outcomes == {("ack", None, False)}, (
            [(i, i % len(kids)) for i, m in enumerate(sent) if m in bad],
            before,
            len(sent),
        )
        assert all(a["delivered_to"] == [PROVIDER] for a in mine), "every consent kept"
        forwards = [json.loads(m.value) for m in provider if m.kind == "forward"]
        ids = [f["referral_id"] for f in forwards]
        assert sorted(i for i in ids if i in set(sent)) == sorted(sent), "each delivered once"
        again = [a for a in answers if a["in_response_to"] == resent["message_id"]]
        assert [a["duplicate"] for a in again] == [False, True], "the resend is known as one"
        assert ids.count(resent["message_id"]) == 1
        assert len(sent) >= 50, f"steady traffic through the rotation ({len(sent)} referrals)"

        for kid in kids:  # every regie kept: a second claim conflicts with the WIJ team's
            claim = await chain.send("ojg-wijert", native("ojg-regie-claim", household=[kid]))
            nack = await chain.answer("ojg-wijert", claim)
            assert (nack["type"], nack["reason_code"]) == ("nack", "regie-conflict")

        status = {row["version"]: row for row in _json(env, "keys", "status")}
        assert (status[2]["households"], status[2]["with_regie"]) == (HOUSEHOLDS, HOUSEHOLDS)
        assert status[2]["with_consents"] == HOUSEHOLDS
        assert (status[1]["households"], status[1]["moved"]) == (QUIET, HOUSEHOLDS)
        rekeyed = [a for a in _json(env, "audit", "--bsn", kids[0]["bsn"])
                   if a["attributes"]["ketenhub.action"] == "rekeyed"]  # fmt: skip
        assert len(rekeyed) == 1
        assert kids[0]["bsn"] not in json.dumps(rekeyed)
        assert rekeyed[0]["attributes"]["ketenhub.household"].startswith("v2-")
        for kid in (kids[0], quiet[0]):  # found by BSN, moved or not
            shown = _json(env, "state", "show", "--bsn", kid["bsn"])[0]
            assert shown["state"]["regie"]["partner_id"] == "wij-zuid"
            assert len(shown["state"]["consents"]) == 1
        assert shown["household"][:3] != "v2-", "the quiet household is still on key 1"
    finally:
        if hub.poll() is None:
            stop_hub(hub)

    refused = env.cli("keys", "retire", check=False)
    assert refused.returncode == 1
    assert f"{QUIET} household(s) still on key version 1 would lose their state" in refused.stderr
    assert "--yes" in refused.stderr
    assert json.loads(env.cli("keys", "rotate", "--json", check=False).stdout or "{}") == {}
    retired = env.cli("keys", "retire", "--yes")
    assert retired.stdout == "retired\t1\n"
    assert (env.home / "secrets" / "pseudonym" / "v1.retired").exists()
    after = {row["version"]: row for row in _json(env, "keys", "status")}
    assert (after[1]["role"], after[1]["households"]) == ("retired", QUIET)
    assert after[2]["role"] == "current"
