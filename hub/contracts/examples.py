"""Message examples for the contracts: the golden examples, and what the hub makes of them.

What a kind sends: its golden examples as they are. What it receives: the golden examples of
the other kinds taken along the hub's own path (decode with the sender's adapter, minimise
for the recipient kind, encode with the recipient's adapter), plus an ack, a nack and a
notice built by the same functions the stages use. Fixed ids and times keep them stable.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from adapters.base import AdapterError, DecodeContext
from adapters.registry import AdapterRegistry
from hub.contracts.catalog import JSON, KindContract, MessageType
from routing.minimise import minimise
from routing.policy import Policy
from schemas import fhir
from schemas.codes import RejectReason
from schemas.ids import derived_id
from schemas.partners import Partner, PartnerKind, PartnerRegistry

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "schemas" / "examples"
HUB_ID = "00000000-0000-4000-8000-000000000001"
AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
PER_MESSAGE = 3
"""At most this many examples per message type: enough to show the variants."""


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    payload: Any
    """Parsed JSON, or the XML text."""


def golden_files(kind: PartnerKind | None = None) -> list[Path]:
    """The golden native examples (``<kind>-<type>.json|xml``), not their FHIR twins."""
    pattern = f"{kind.value}-*" if kind else "*-*"
    return sorted(
        f for f in EXAMPLES_DIR.glob(pattern)
        if f.suffix in (".json", ".xml") and not f.name.endswith(".fhir.json")
    )  # fmt: skip


def kind_of_file(file: Path) -> PartnerKind:
    return PartnerKind(file.name.split("-", 1)[0])


def message_of(payload: bytes, types: tuple[MessageType, ...]) -> MessageType | None:
    """Which of ``types`` a native payload is: by JSON ``type``, or by the XML namespace."""
    if payload.lstrip().startswith(b"<"):
        namespace = etree.QName(etree.fromstring(payload)).namespace
        return next(
            (t for t in types if t.bericht is not None and t.bericht.namespace == namespace), None
        )
    try:
        kind = json.loads(payload).get("type")
    except (ValueError, AttributeError):
        return None
    return next((t for t in types if t.content_type == JSON and t.type_value == kind), None)


def _payload(raw: bytes, content_type: str) -> Any:
    return json.loads(raw) if content_type == JSON else raw.decode()


def examples_for(
    contract: KindContract, registry: PartnerRegistry, adapters: AdapterRegistry, policy: Policy
) -> tuple[dict[str, list[Example]], dict[str, list[Example]]]:
    """(examples per sent message name, examples per received message name)."""
    sent: dict[str, list[Example]] = defaultdict(list)
    for file in golden_files(contract.kind):
        raw = file.read_bytes()
        if (t := message_of(raw, contract.sends)) is not None:
            sent[t.name].append(Example(file.stem, f"schemas/examples/{file.name}",
                                        _payload(raw, t.content_type)))  # fmt: skip
    received: dict[str, list[Example]] = defaultdict(list)
    # The last of its kind: the golden examples are written as the first (huisarts-wijert,
    # wij-zuid), and a partner never receives its own message.
    recipient = next(reversed(registry.of_kind(contract.kind)), None)
    if recipient is not None:
        for name, example in _forwards(contract, recipient, registry, adapters, policy):
            received[name].append(example)
        for name, example in _answers(contract, recipient, registry, adapters):
            received[name].append(example)
    return _capped(sent), _capped(received)


def _forwards(
    contract: KindContract, recipient: Partner, registry: PartnerRegistry,
    adapters: AdapterRegistry, policy: Policy,
) -> list[tuple[str, Example]]:  # fmt: skip
    found: list[tuple[str, Example]] = []
    drop = policy.minimisation_for(contract.kind)
    for file in golden_files():
        sender = _sender_of(file, registry)
        if sender is None or sender.id == recipient.id:
            continue
        raw = file.read_bytes()
        try:
            decoded = adapters.get(sender.adapter_name).decode(
                raw, DecodeContext(sender, registry, HUB_ID, AT)
            )
            encoded = adapters.get(recipient.adapter_name).encode(minimise(decoded.bundle, drop))
        except AdapterError:
            continue  # this kind does not receive that message
        t = message_of(encoded, contract.receives)
        if t is not None:
            summary = f"{file.name} from a {sender.kind.value}, as the hub delivers it"
            found.append((t.name, Example(f"from-{file.stem}", summary,
                                          _payload(encoded, t.content_type))))  # fmt: skip
    return found


def _answers(
    contract: KindContract, recipient: Partner, registry: PartnerRegistry,
    adapters: AdapterRegistry,
) -> list[tuple[str, Example]]:  # fmt: skip
    adapter = adapters.get(recipient.adapter_name)
    out = f"ketenhub.partner.{recipient.id}.out"
    ack = fhir.response_bundle(
        hub_message_id=derived_id(HUB_ID, "ack"), in_response_to=HUB_ID,
        partner_message_id="HIS-WIJERT-2026-000123", recipient_id=recipient.id, at=AT,
        delivered_to=("aanbieder-noorderlicht",), source=f"{out}:0:41",
    )  # fmt: skip
    nack = fhir.response_bundle(
        hub_message_id=derived_id(HUB_ID, "nack"), in_response_to=HUB_ID,
        partner_message_id=None, recipient_id=recipient.id, at=AT,
        reject=RejectReason.MALFORMED, reason="payload is not valid UTF-8 JSON",
        source=f"{out}:0:42",
    )  # fmt: skip
    regisseur = next(iter(registry.of_kind(PartnerKind.WIJ)))
    notice = fhir.notification_bundle(
        hub_message_id=derived_id(HUB_ID, "notice-0"), recipient_id=recipient.id, at=AT,
        subject="regie-granted", about=((regisseur.id, regisseur.name, regisseur.contact),),
        regarding="HIS-WIJERT-2026-000123",
    )  # fmt: skip
    found = []
    for label, bundle in (("an ack", ack), ("an unreadable send's nack", nack),
                          ("a regie notice", notice)):  # fmt: skip
        encoded = adapter.encode(bundle)
        t = message_of(encoded, contract.receives)
        if t is not None:
            found.append((t.name, Example(label.split()[-1], label, json.loads(encoded))))
    return found


def _sender_of(file: Path, registry: PartnerRegistry) -> Partner | None:
    """The registered partner a golden example was written as (its identifier appears)."""
    text = file.read_text()
    return next(
        (p for p in registry.of_kind(kind_of_file(file))
         if any(code in text for code in (*p.sender_codes(), *p.municipality_codes))),
        None,
    )  # fmt: skip


def _capped(found: dict[str, list[Example]]) -> dict[str, list[Example]]:
    return {name: examples[:PER_MESSAGE] for name, examples in found.items()}
