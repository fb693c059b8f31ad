"""RIGG (regional purchasing of specialist youth care, acting for its municipalities): iJw XML.

A RIGG sends JW301 assignments, JW319 answers on requests, JW325 declaratie answers and the
retours JW316, JW306, JW308 and JW318 on a provider's messages, naming the municipality it
acts for (a CBS gemeentecode in its registry entry's ``municipality_codes``); it receives
JW315 and JW317 requests, JW305/JW307 start and end of care, JW323 declaraties and the retours
JW302 and JW320, and acknowledgements as JSON like every partner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters import ijw
from adapters.base import AdapterError, DecodeContext, Decoded
from adapters.notices import encode_hub_message
from schemas import fhir
from schemas.codes import RejectReason
from schemas.ijw import FROM_MUNICIPALITY, FROM_PROVIDER

SENDS = FROM_MUNICIPALITY
"""The iJw messages a RIGG sends to the hub."""
RECEIVES = FROM_PROVIDER
"""The iJw messages a RIGG receives from the hub."""
_RECEIVED_EVENTS = frozenset(b.event for b in RECEIVES)


class RiggAdapter:
    name = "rigg"

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        return ijw.decode(payload, ctx, SENDS)

    def encode(self, bundle: Mapping[str, Any]) -> bytes:
        hub_message = encode_hub_message(bundle)
        if hub_message is not None:
            return hub_message
        event = fhir.event_of(bundle)
        if event in _RECEIVED_EVENTS:
            return ijw.encode(bundle, RECEIVES)
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"rigg cannot receive {event}")
