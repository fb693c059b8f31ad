"""Every flow the default policy allows can really be delivered: the recipient kind's adapter
encodes the (minimised) canonical Bundle of that event. A gap here would turn a lawful
delivery into a dead letter at run time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import AdapterError, DecodeContext, Decoded
from adapters.registry import load_adapters
from routing.minimise import minimise
from schemas import fhir
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind
from tests.conftest import default_policy, default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
REGISTRY = default_registry()
ADAPTERS = load_adapters()
POLICY = default_policy()


def _decoded_examples() -> dict[tuple[PartnerKind, MessageEvent], Decoded]:
    """Each golden native example decoded as the first partner of its kind that accepts it."""
    found: dict[tuple[PartnerKind, MessageEvent], Decoded] = {}
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix not in (".json", ".xml") or path.name.endswith(".fhir.json"):
            continue
        kind = PartnerKind(path.name.split("-", 1)[0])
        for partner in REGISTRY.of_kind(kind):
            ctx = DecodeContext(partner, REGISTRY, str(uuid.uuid4()), datetime.now(UTC))
            try:
                decoded = ADAPTERS.get(partner.adapter_name).decode(path.read_bytes(), ctx)
            except AdapterError:
                continue
            found.setdefault((kind, decoded.event), decoded)
            break
    return found


DECODED = _decoded_examples()


@pytest.mark.parametrize(
    "flow", POLICY.flows, ids=lambda f: f"{f.event.value}:{f.sender.value}->{f.recipient.value}"
)
def test_the_recipient_adapter_encodes_every_allowed_flow(flow: object) -> None:
    from routing.policy import Flow

    assert isinstance(flow, Flow)
    decoded = DECODED.get((flow.sender, flow.event))
    assert decoded is not None, f"no golden example of {flow.event} sent by a {flow.sender}"
    recipient = REGISTRY.of_kind(flow.recipient)[0]
    bundle = minimise(decoded.bundle, POLICY.minimisation_for(flow.recipient))
    payload = ADAPTERS.get(recipient.adapter_name).encode(bundle)
    assert payload


@pytest.mark.parametrize("kind", list(PartnerKind))
def test_every_kind_receives_notices_and_acknowledgements(kind: PartnerKind) -> None:
    partner = REGISTRY.of_kind(kind)[0]
    adapter = ADAPTERS.get(partner.adapter_name)
    now = datetime.now(UTC)
    notice = fhir.notification_bundle(
        hub_message_id=str(uuid.uuid4()), recipient_id=partner.id, at=now,
        subject="signal-match", about=(("school-montessori", "Montessori", "050 000 1201"),),
        regarding="M-1",
    )  # fmt: skip
    ack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()), in_response_to=str(uuid.uuid4()),
        partner_message_id="M-1", recipient_id=partner.id, at=now,
    )  # fmt: skip
    assert b"signal-match" in adapter.encode(notice)
    assert b"ack" in adapter.encode(ack)
