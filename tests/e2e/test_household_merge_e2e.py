"""Households that merge and split, end to end on the real broker: two households with
different regisseurs merge (both told, the earlier regie kept), then a child leaves."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import HubEnv, new_hub_env
from tests.e2e.test_referral_flow import wait_for_stages
from tests.e2e.test_router_scenarios import Chain, bsn, child, native

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def env(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> HubEnv:
    return new_hub_env(bootstrap, tmp_path_factory.mktemp("households") / "home", "m")


@pytest.fixture(scope="module")
def hub(env: HubEnv) -> Iterator[subprocess.Popen[bytes]]:
    log = env.home.parent / "hub.log"
    process = env.start_hub(log)
    wait_for_stages(process, log)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def test_two_households_merge_one_regisseur_kept_and_then_one_splits(
    env: HubEnv, hub: subprocess.Popen[bytes]
) -> None:
    chain = Chain(env)
    anna, bram = child(bsn()), child(bsn(), "2017-08-14")
    wij = await chain.send("wij-zuid", native("wij-regie-claim", household=[anna]))
    assert (await chain.answer("wij-zuid", wij))["type"] == "ack"
    ojg = await chain.send("ojg-wijert", native("ojg-regie-claim", household=[bram]))
    assert (await chain.answer("ojg-wijert", ojg))["type"] == "ack"

    change = native("wij-huishouden-wijziging", together=[anna, bram], left=[])
    assert (await chain.answer("wij-zuid", await chain.send("wij-zuid", change)))["type"] == "ack"
    [to_ojg] = await chain.notices("ojg-wijert", "household-merged")
    [to_wij] = await chain.notices("wij-zuid", "household-merged")
    assert [a["partner"] for a in to_ojg["about"]] == ["wij-zuid"]
    assert [a["partner"] for a in to_wij["about"]] == ["ojg-wijert"]

    # One regisseur kept: the WIJ team's earlier regie; a new claim by the OJG conflicts.
    again = await chain.send("ojg-wijert", native("ojg-regie-claim", household=[bram]))
    nack = await chain.answer("ojg-wijert", again)
    assert (nack["type"], nack["reason_code"]) == ("nack", "regie-conflict")

    audit = env.cli("audit", "--bsn", anna["bsn"], "--json").stdout.splitlines()
    merged = [a["attributes"] for a in map(json.loads, audit)
              if a["attributes"]["ketenhub.action"] == "merged"]  # fmt: skip
    assert [(m["ketenhub.regie_kept"], m["ketenhub.regie_set_aside"]) for m in merged] == [
        ("wij-zuid", "ojg-wijert")
    ]

    split = native("wij-huishouden-wijziging", together=[anna], left=[bram])
    assert (await chain.answer("wij-zuid", await chain.send("wij-zuid", split)))["type"] == "ack"
    await chain.notices("wij-zuid", "household-split")
    # Bram's part keeps its regisseur: the WIJ team sees the school's signal about him, and
    # the GP's signal about Anna matches nothing of Bram's any more.
    school = await chain.send("school-montessori", native("school-zorgsignaal", pupil=bram))
    assert (await chain.answer("school-montessori", school))["type"] == "ack"
    gp = await chain.send("huisarts-wijert", native("huisarts-signaal", child=anna))
    ack = await chain.answer("huisarts-wijert", gp)
    assert ack["type"] == "ack"
    inbox = await chain.inbox("huisarts-wijert")
    assert not [m for m in inbox if m.get("subject") == "family-match"]
    signals = [m for m in await chain.inbox("wij-zuid") if m.get("type") == "signaal-ontvangen"]
    assert {m["signal_id"] for m in signals} >= {school, gp}
