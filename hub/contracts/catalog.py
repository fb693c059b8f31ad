"""Which native messages each partner kind sends and receives, read from its adapter.

A JSON adapter lists its inbound models and its outbound builders; an iJw adapter its
``SENDS`` and ``RECEIVES`` berichten. Every kind also receives the hub's ack, nack and notice.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from adapters.registry import AdapterRegistry, load_adapters
from hub.sdk.wire import DeliveryKind
from schemas.aanbieder import ReferralReceived
from schemas.ijw import Bericht
from schemas.notices import Ack, HubNotice, Nack
from schemas.partners import PartnerKind

JSON = "application/json"
XML = "application/xml"

EXTRA_RECEIVES: dict[PartnerKind, tuple[type[BaseModel], ...]] = {
    PartnerKind.AANBIEDER: (ReferralReceived,),
}
"""JSON a non-JSON adapter also delivers: a provider gets referrals as JSON beside its iJw."""


@dataclass(frozen=True)
class MessageType:
    """One native message type on a channel: a pydantic model (JSON) or an iJw bericht."""

    name: str
    summary: str
    model: type[BaseModel] | None = None
    bericht: Bericht | None = None
    delivery: DeliveryKind | None = None
    """On the inbox: the ``kh-kind`` it arrives with; None on the outbox."""

    @property
    def content_type(self) -> str:
        return XML if self.bericht is not None else JSON

    @property
    def type_value(self) -> str | None:
        """The JSON ``type`` a message of this model carries, when it is fixed."""
        if self.model is None or "type" not in self.model.model_fields:
            return None
        args = typing.get_args(self.model.model_fields["type"].annotation)
        return str(args[0]) if len(args) == 1 else None


@dataclass(frozen=True)
class KindContract:
    kind: PartnerKind
    sends: tuple[MessageType, ...]
    receives: tuple[MessageType, ...]


HUB_ANSWERS = (
    MessageType("Ack", "The hub accepted one of your sends and delivered it.", Ack,
                delivery=DeliveryKind.ACK),
    MessageType("Nack", "The hub refused one of your sends; reason_code says why.", Nack,
                delivery=DeliveryKind.NACK),
    MessageType("HubNotice", "Something the hub tells you: regie, signal matches, care.",
                HubNotice, delivery=DeliveryKind.NOTIFY),
)  # fmt: skip


def contract_of(kind: PartnerKind, adapters: AdapterRegistry | None = None) -> KindContract:
    adapter = (adapters or load_adapters()).get(kind.value)
    inbound: dict[str, Any] | None = getattr(adapter, "inbound", None)
    forwards: list[MessageType]
    if inbound is not None:
        sends = tuple(_json(i.model) for i in inbound.values())
        by_builder = {id(i.from_fhir): i.model for i in inbound.values()}
        outbound: dict[Any, Any] = getattr(adapter, "outbound", {})
        models = [by_builder.get(id(build)) or _written(build) for build in outbound.values()]
        forwards = [_json(m, DeliveryKind.FORWARD) for m in dict.fromkeys(models)]
    else:
        module = importlib.import_module(type(adapter).__module__)
        sends = tuple(_ijw(b) for b in module.SENDS)
        forwards = [_ijw(b, DeliveryKind.FORWARD) for b in module.RECEIVES]
    forwards += [_json(m, DeliveryKind.FORWARD) for m in EXTRA_RECEIVES.get(kind, ())]
    return KindContract(kind, sends, (*forwards, *HUB_ANSWERS))


def _written(build: Any) -> type[BaseModel]:
    """The model an outbound builder writes: its return type, or for one that writes bytes
    itself, the model named in ``Annotated[bytes, Model]``."""
    written = typing.get_type_hints(build, include_extras=True)["return"]
    if typing.get_origin(written) is typing.Annotated:
        model: type[BaseModel] = typing.get_args(written)[1]
        return model
    return typing.cast(type[BaseModel], written)


def _json(model: type[BaseModel], delivery: DeliveryKind | None = None) -> MessageType:
    doc = inspect.getdoc(model) or model.__name__
    return MessageType(model.__name__, doc.split("\n\n")[0].replace("\n", " "), model,
                       delivery=delivery)  # fmt: skip


def _ijw(bericht: Bericht, delivery: DeliveryKind | None = None) -> MessageType:
    return MessageType(
        bericht.value,
        f"iJw 3.2 {bericht.value} (BerichtCode {bericht.code}), XML valid against "
        f"{bericht.value}.xsd",
        bericht=bericht,
        delivery=delivery,
    )
