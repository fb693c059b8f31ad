"""The partner SDK on the real broker, against a running hub: a partner in under 30 lines."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from hub.sdk import Ack, Delivery, Nack, PartnerClient
from schemas.codes import RejectReason
from schemas.huisarts import HuisartsReferral
from tests.e2e.conftest import REPO, HubEnv
from tests.e2e.test_referral_flow import hub_log, running_hub  # noqa: F401  (fixtures)

pytestmark = pytest.mark.kafka


async def test_a_partner_in_under_30_lines_gets_its_ack_and_its_nack_matched(
    hub_env: HubEnv,
    running_hub: subprocess.Popen[bytes],  # noqa: F811
) -> None:
    # --- the partner: everything a GP system needs (this block is the under-30-lines claim)
    gp = PartnerClient("huisarts-wijert", bootstrap=hub_env.bootstrap,
                       topic_prefix=hub_env.prefix)  # fmt: skip
    answered: list[Delivery] = []

    @gp.on_ack
    async def acked(delivery: Delivery) -> None:
        answered.append(delivery)

    @gp.on_nack
    async def nacked(delivery: Delivery) -> None:
        answered.append(delivery)

    referral = HuisartsReferral.model_validate_json(
        (REPO / "schemas/examples/huisarts-verwijzing.json").read_bytes()
    )
    async with gp:
        good = await gp.send(referral)
        bad = await gp.send(b"\x00\x17MSH|^~\\&|HIS|not json")
        ack = await gp.answer(good, timeout=60)
        nack = await gp.answer(bad, timeout=60)
    # --- end of the partner
    assert isinstance(ack, Ack) and ack.in_response_to == referral.message_id
    assert ack.delivered_to == ("aanbieder-noorderlicht",)
    assert isinstance(nack, Nack) and nack.reason_code is RejectReason.MALFORMED
    assert nack.in_response_to is None  # unreadable bytes: no partner id to echo ...
    assert nack.source == bad.ref  # ... but the outbox record it answers
    assert ack.source == good.ref
    assert sorted((d.kind, d.sent == good, d.sent == bad) for d in answered) == [
        ("ack", True, False),
        ("nack", False, True),
    ]


def guide_example() -> str:
    """The SDK example of docs/partners.md, as written there."""
    guide = (REPO / "docs/partners.md").read_text()
    [block] = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    return str(block)


def test_the_guides_example_is_at_most_fifteen_lines() -> None:
    lines = [line for line in guide_example().splitlines() if line.strip()]
    assert len(lines) <= 15, len(lines)


async def test_the_guides_example_runs_against_the_hub(
    hub_env: HubEnv,
    running_hub: subprocess.Popen[bytes],  # noqa: F811
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(guide_example(), "docs/partners.md", "exec"), namespace)
    referral = HuisartsReferral.model_validate_json(
        (REPO / "schemas/examples/huisarts-verwijzing.json").read_bytes()
    )
    result = await namespace["gp_system"](
        referral, bootstrap=hub_env.bootstrap, topic_prefix=hub_env.prefix
    )
    assert re.fullmatch(rf"{hub_env.prefix}\.partner\.huisarts-wijert\.out partition \d+ "
                        r"offset \d+: ack", result), result  # fmt: skip
