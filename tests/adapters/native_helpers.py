"""Helpers for the tests of the native-JSON adapters: golden examples, variants, strategies."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import strategies as st

from adapters.base import AdapterError, DecodeContext, Decoded
from adapters.json_adapter import JsonAdapter
from adapters.testing import assert_no_personal_data, decode_context
from hub.tools.demo_traffic import random_bsn
from schemas import fhir
from schemas.native import Child
from schemas.partners import PartnerRegistry
from tests.conftest import default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples"
REGISTRY: PartnerRegistry = default_registry()
SIBLING_BSN = "999990020"
SIBLING_BIRTH_DATE = "2017-08-14"
AT = datetime(2026, 11, 23, 10, tzinfo=UTC)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((EXAMPLES / f"{name}.json").read_bytes())
    return data


def variant(name: str, **changes: Any) -> bytes:
    """The example with changes: ``child__bsn="..."`` sets a nested field, ``None`` deletes it,
    ``household__1__bsn`` indexes a list."""
    data = example(name)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target: Any = data
        for parent in parents:
            target = target[int(parent)] if isinstance(target, list) else target[parent]
        key: Any = int(leaf) if isinstance(target, list) else leaf
        if value is None:
            del target[key]
        else:
            target[key] = value
    return orjson.dumps(data)


def context(sender_id: str, hub_message_id: str | None = None) -> DecodeContext:
    sender = REGISTRY.get(sender_id)
    assert sender is not None, sender_id
    return DecodeContext(sender, REGISTRY, hub_message_id or str(uuid.uuid4()), AT)


def decode(adapter: JsonAdapter, payload: bytes, sender_id: str) -> Decoded:
    decoded = adapter.decode(payload, context(sender_id))
    fhir.validate_bundle(decoded.bundle)
    return decoded


def decode_error(adapter: JsonAdapter, payload: bytes, sender_id: str) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        adapter.decode(payload, context(sender_id))
    error = caught.value
    for text in (error.message, str(error), repr(error)):
        assert_no_personal_data(text, PERSONAL_DATA, "error text")
    assert error.__cause__ is None
    return error


def round_trips(adapter: JsonAdapter, payload: bytes, sender_id: str) -> bool:
    """native -> FHIR -> native keeps every field (compared in JSON form, offsets included)."""
    decoded = decode(adapter, payload, sender_id)
    native = adapter.to_native(decoded.bundle)
    original = type(native).model_validate_json(payload)
    return native.model_dump(mode="json") == original.model_dump(mode="json")


PERSONAL_DATA = (
    "999990019",
    SIBLING_BSN,
    "999990032",
    "999990044",
    "999990056",
    "2014-03-02",
    SIBLING_BIRTH_DATE,
)
"""Values of the examples that must never show in an error."""


def minimised(bundle: dict[str, Any], *paths: str) -> dict[str, Any]:
    """A copy of ``bundle`` without ``Type`` resources or ``Type.field`` elements (what the
    router's minimisation does)."""
    copy: dict[str, Any] = orjson.loads(orjson.dumps(bundle))
    entries = []
    for entry in copy["entry"]:
        res = entry["resource"]
        if res["resourceType"] in paths:
            continue
        for path in paths:
            kind, _, name = path.partition(".")
            if kind == res["resourceType"] and name:
                res.pop(name, None)
        entries.append(entry)
    copy["entry"] = entries
    return copy


# Hypothesis strategies for native values.

MESSAGE_IDS = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)


@st.composite
def sent_ats(draw: st.DrawFn) -> datetime:
    offset = draw(st.integers(min_value=-12 * 4, max_value=14 * 4)) * 15
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    return moment.replace(tzinfo=timezone(timedelta(minutes=offset)))


@st.composite
def children(draw: st.DrawFn) -> Child:
    return Child(
        bsn=random_bsn(random.Random(draw(st.integers(0, 2**32)))),
        birth_date=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1))),
    )


def json_of(model: Any) -> bytes:
    return bytes(model.model_dump_json().encode())


class EncodeNativeRoundTrip:
    """Mixin for an ``AdapterConformance`` of a JSON adapter whose partners receive another
    form than they send (``signaal-ontvangen`` for a ``signaal``): the kit's round trip then
    goes through ``encode_native``, the inverse of ``decode``, instead of ``encode``."""

    def test_valid_example_round_trips(self, valid_example: bytes) -> None:
        adapter = getattr(self, "adapter")  # noqa: B009  # set by the AdapterConformance subclass
        assert isinstance(adapter, JsonAdapter)
        ctx = decode_context(getattr(self, "registry"), getattr(self, "sender_id"))  # noqa: B009
        first = adapter.decode(valid_example, ctx)
        second = adapter.decode(adapter.encode_native(first.bundle), ctx)
        assert second == first, "decode(encode_native(bundle)) differs from the first decode"
