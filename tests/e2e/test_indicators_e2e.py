"""``ketenhub report indicators`` on the audit log of a real run: the demo's traffic through
the hub on the real broker."""

from __future__ import annotations

import json
import random
import signal
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.kafka.topics import TopicNames
from hub.ops.indicators import Indicator, Ratio
from hub.ops.suppression import TOTAL
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from hub.tools.demo_traffic import DemoTraffic, Mistake
from schemas.partners import PartnerKind
from tests.conftest import default_registry
from tests.e2e.conftest import HubEnv
from tests.e2e.test_referral_flow import wait_for_stages

pytestmark = pytest.mark.kafka
MESSAGES = 400


async def _run_demo_traffic(hub_env: HubEnv) -> dict[str, set[str]]:
    """Send the demo's mix through the hub and wait until every message is answered.

    Returns the BSNs of the young people each kind of valid GP referral was about."""
    registry = default_registry()
    traffic = DemoTraffic(registry, random.Random(22), bad_share=0.1)
    names = TopicNames(hub_env.prefix)
    sent: dict[str, list[bytes]] = defaultdict(list)
    referred: dict[str, set[str]] = defaultdict(set)
    direct = {p.agb for p in registry.partners if p.direct_access}
    for _ in range(MESSAGES):
        message = traffic.next_message()
        sent[message.sender.id].append(message.payload)
        if message.sender.kind is PartnerKind.HUISARTS and message.mistake is Mistake.NONE:
            body = json.loads(message.payload)
            if body["type"] != "verwijzing":
                continue
            referred["all"].add(body["child"]["bsn"])
            if body["addressed_to_agb"] in direct:
                referred["direct"].add(body["child"]["bsn"])
    for partner, payloads in sent.items():
        await publish(hub_env.kafka, names.partner_out(partner), payloads)
    for partner, payloads in sent.items():
        answered = await read_inbox(
            hub_env.kafka, names.partner_in(partner), until=_answered(len(payloads)),
            idle_timeout_s=90, max_wait_s=120,
        )  # fmt: skip
        assert _answers(answered) == len(payloads), partner
    return referred


def _answers(messages: list[InboxMessage]) -> int:
    return sum(m.kind in ("ack", "nack") for m in messages)


def _answered(count: int) -> Callable[[list[InboxMessage]], bool]:
    return lambda messages: _answers(messages) >= count


def _cells(lines: list[dict[str, Any]], indicator: str) -> dict[str, dict[str, Any]]:
    return {f["area"]: f for f in lines if f["indicator"] == indicator}


async def test_indicators_of_a_real_run_with_small_cells_suppressed(
    hub_env: HubEnv, tmp_path: Path
) -> None:
    log = tmp_path / "hub.log"
    process = hub_env.start_hub(log)
    try:
        wait_for_stages(process, log)
        referred = await _run_demo_traffic(hub_env)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    plot = tmp_path / "indicators.png"
    result = hub_env.cli("report", "indicators", "--json", "--plot", str(plot), timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    [month] = {f["month"] for f in lines}
    areas = {f["area"] for f in lines}
    assert TOTAL in areas and {"zuid", "west", "noordwest"} <= areas
    assert Counter(f["indicator"] for f in lines) == {
        name.value: len(areas) for name in [*Indicator, *Ratio]
    }
    for figure in lines:  # nothing under 5 is shown, and nothing suppressed has a value
        if figure["suppressed"]:
            assert figure["value"] is None and figure["shown"] in ("<5", "x")
        elif not figure["indicator"].endswith(("-pct", "-days")):
            assert figure["value"] == 0 or figure["value"] >= 5, figure
    for name in Indicator:
        cells = _cells(lines, name.value)
        if any(c["suppressed"] == "small" for a, c in cells.items() if a != TOTAL):
            assert cells[TOTAL]["shown"] in ("x", "<5"), name
    for name, young in (
        (Indicator.REFERRED_BY_HUISARTS, referred["all"]),
        (Indicator.DIRECT_ACCESS, referred["direct"]),
    ):
        cells = _cells(lines, name.value)
        shown = sum(c["value"] or 0 for a, c in cells.items() if a != TOTAL)
        if cells[TOTAL]["value"] is not None:
            assert cells[TOTAL]["value"] == shown == len(young), name
        else:
            assert shown < len(young), name
    assert _cells(lines, Indicator.HOUSEHOLDS_IN_CONTACT.value)[TOTAL]["value"] >= len(
        referred["all"]
    )
    west = hub_env.cli("report", "indicators", "--area", "west", "--csv").stdout.splitlines()
    assert west[0] == "month,area,indicator,value,shown,suppressed"
    assert {row.split(",")[1] for row in west[1:]} == {"west"}
    assert month in west[1]
