"""The shared machinery of the native-JSON adapters."""

from __future__ import annotations

import importlib

import pytest

from adapters.base import Adapter, AdapterError
from adapters.json_adapter import (
    CONSENT_GIVEN,
    REGIE_CLAIM,
    JsonAdapter,
    identifier_in,
    signal_inbound,
)
from adapters.registry import load_adapters
from schemas.codes import AGB_SYSTEM, RejectReason
from schemas.huisarts import HuisartsSignal
from schemas.native import AgbParty, CodeParty
from schemas.ojg import OjgSignal
from tests.adapters.native_helpers import EXAMPLES, decode

JSON_KINDS = ("huisarts", "ojg", "school", "veiligheidshuis", "wij")


@pytest.mark.parametrize("name", JSON_KINDS)
def test_each_kind_is_registered_as_a_json_adapter(name: str) -> None:
    adapter = load_adapters().get(name)
    assert isinstance(adapter, JsonAdapter)
    assert isinstance(adapter, Adapter)
    assert adapter.name == name


def test_two_inbound_types_for_one_event_are_refused() -> None:
    with pytest.raises(ValueError, match="one inbound message type per type and per event"):
        JsonAdapter(
            "dubbel",
            inbound=(
                signal_inbound(HuisartsSignal, AgbParty),
                signal_inbound(OjgSignal, CodeParty),
            ),
            outbound={},
        )


def test_an_adapter_without_outbound_types_still_answers_acks_only() -> None:
    adapter = JsonAdapter("minimaal", inbound=(REGIE_CLAIM, CONSENT_GIVEN), outbound={})
    bundle = decode(
        load_adapters().get("wij"),  # type: ignore[arg-type]
        (EXAMPLES / "wij-regie-claim.json").read_bytes(),
        "wij-zuid",
    ).bundle
    with pytest.raises(AdapterError) as caught:
        adapter.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE
    assert adapter.to_native(bundle).type == "regie-claim"


@pytest.mark.parametrize("event", ["discharge", "", "care-start"])
def test_unknown_or_unreceivable_events_are_unsupported(event: str) -> None:
    adapter = load_adapters().get("ojg")
    assert isinstance(adapter, JsonAdapter)
    bundle = decode(adapter, (EXAMPLES / "ojg-signaal.json").read_bytes(), "ojg-wijert").bundle
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = event
    with pytest.raises(AdapterError) as caught:
        adapter.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE
    with pytest.raises(AdapterError):
        adapter.to_native(bundle)


def test_identifier_in_refuses_other_systems() -> None:
    assert identifier_in({"identifier": {"system": AGB_SYSTEM, "value": "1"}}, AGB_SYSTEM) == "1"
    for reference in (None, {}, {"reference": "urn:uuid:x"}, {"identifier": {"value": "1"}}):
        with pytest.raises(AdapterError) as caught:
            identifier_in(reference, AGB_SYSTEM)
        assert caught.value.code is RejectReason.SCHEMA_INVALID


@pytest.mark.parametrize("name", JSON_KINDS)
def test_adapter_and_schema_module_list_the_same_inbound_models(name: str) -> None:
    adapter = load_adapters().get(name)
    assert isinstance(adapter, JsonAdapter)
    module = importlib.import_module(f"schemas.{name}")
    models = module.INBOUND
    assert {i.model for i in adapter.inbound.values()} == set(models)
    for model in models:
        schema = model.model_json_schema()
        assert schema["additionalProperties"] is False
        assert {"type", "message_id", "sent_at"} <= set(schema["required"])
