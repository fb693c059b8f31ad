"""Encoders that write a partner's JSON straight from a Bundle give the model path's bytes.

``adapters.base.model_json`` skips the model for values its caller checked: for any Bundle,
the referral a provider receives and the signal a partner receives must be byte for byte
what validating and dumping the models gives (the encoders as they were, kept here), and
fail alike where the models refuse.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters import json_adapter
from adapters.aanbieder import AanbiederAdapter
from adapters.base import model_json, plain_datetime
from schemas import fhir
from schemas import fhir_social as fs
from schemas.aanbieder import ReferralReceived, ReferredClient
from schemas.codes import (
    AGB_SYSTEM,
    BSN_SYSTEM,
    CONCERN_CATEGORY_SYSTEM,
    ORGANISATION_CODE_SYSTEM,
    CareCategory,
    ConcernCategory,
    Urgency,
)
from schemas.native import ChildSeen, SignalReceived
from tests.adapters.fhir_builders import bsns
from tests.adapters.native_helpers import minimised

TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    st.text(string.printable, min_size=1, max_size=30),
    st.sampled_from(["", "\x00", "\u2028", '"\\', "é€😀"]),
)
"""Text as a Bundle holds it: any Unicode but lone surrogates (orjson never reads those)."""
OFFSETS = st.one_of(
    st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timedelta(minutes=m)),
    st.integers(-86399, 86399).map(lambda s: timedelta(seconds=s)),
    st.just(timedelta(microseconds=500)),
)
"""Whole minutes (the usual) and offsets with seconds, which pydantic and orjson write apart."""
TIMES = (
    st.builds(
        lambda moment, offset: moment.replace(tzinfo=timezone(offset)),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        OFFSETS,
    )
    | st.datetimes()
)
CODES = st.one_of(st.sampled_from([*CareCategory, *ConcernCategory]).map(str), TEXT)
BSNS = bsns() | st.sampled_from(["", "123456789", "000000000", "12345678x"])


def _outcome(make: Callable[[], bytes]) -> bytes | type[Exception]:
    try:
        return make()
    except Exception as exc:  # both paths must fail alike on what the models refuse
        return type(exc)


def _referral_received_as_it_was(bundle: Mapping[str, Any]) -> bytes:
    header = fhir.resource(bundle, "MessageHeader")
    request = fhir.resource(bundle, "ServiceRequest")
    patient = fhir.resource(bundle, "Patient")
    bsn = next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM)
    requester = request["requester"]["identifier"]
    by_agb = requester["system"] == AGB_SYSTEM
    return (
        ReferralReceived(
            hub_message_id=bundle["id"],
            referral_id=request["identifier"][0]["value"],
            referrer_agb=requester["value"] if by_agb else None,
            referrer_code=None if by_agb else requester["value"],
            referrer_partner=fhir.partner_id_of(header["source"]["endpoint"]),
            referred_at=datetime.fromisoformat(bundle["timestamp"]),
            client=ReferredClient(bsn=bsn, birth_date=date.fromisoformat(patient["birthDate"])),
            urgency=fhir.URGENCY_OF_PRIORITY[request["priority"]],
            care_category=request["category"][0]["coding"][0]["code"],
            reason=request["reasonCode"][0]["text"],
        )
        .model_dump_json()
        .encode()
    )


def _signal_received_as_it_was(bundle: Mapping[str, Any]) -> bytes:
    flag = fhir.resource(bundle, "Flag")
    bsn, birth_date = fs.person_of(fs.referenced(bundle, flag.get("subject", {})))
    start = flag.get("period", {}).get("start")
    child = (
        None if bsn is None and birth_date is None else ChildSeen(bsn=bsn, birth_date=birth_date)
    )
    return (
        SignalReceived(
            hub_message_id=bundle["id"],
            signal_id=fs.partner_message_id_of(bundle, flag) or flag["identifier"][0]["value"],
            signaller=fs.source_partner(bundle),
            signalled_at=datetime.fromisoformat(start) if start else None,
            child=child,
            concern_category=fs.code_in(flag.get("code"), CONCERN_CATEGORY_SYSTEM),
        )
        .model_dump_json()
        .encode()
    )


@settings(max_examples=500, deadline=None)
@given(
    ids=st.tuples(TEXT, TEXT, TEXT, TEXT),
    sent_at=TIMES,
    by_agb=st.booleans(),
    bsn=BSNS,
    birth_date=st.dates(),
    urgency=st.sampled_from(Urgency),
    care_category=CODES,
    reason=TEXT,
)
def test_a_provider_receives_the_model_paths_referral_byte_for_byte(
    ids: tuple[str, str, str, str],
    sent_at: datetime,
    by_agb: bool,
    bsn: str,
    birth_date: date,
    urgency: Urgency,
    care_category: str,
    reason: str,
) -> None:
    hub_message_id, sender_id, partner_message_id, referrer = ids
    bundle = fhir.referral_bundle(
        hub_message_id="6f1c6f0e-4b7a-4f2e-9a55-0c1f3b1e8a10", sender_id=sender_id,
        partner_message_id=partner_message_id, sent_at=sent_at, referrer_agb=referrer,
        referrer_system=AGB_SYSTEM if by_agb else ORGANISATION_CODE_SYSTEM,
        recipient_id="aanbieder-x", recipient_agb="01000003", bsn=bsn,
        birth_date=birth_date.isoformat(), urgency=urgency, care_category=care_category,
        reason=reason,
    )  # fmt: skip
    bundle["id"] = hub_message_id
    fast = _outcome(lambda: AanbiederAdapter().encode(bundle))
    assert fast == _outcome(lambda: _referral_received_as_it_was(bundle))


@settings(max_examples=500, deadline=None)
@given(
    ids=st.tuples(TEXT, TEXT, TEXT),
    sent_at=TIMES,
    bsn=BSNS,
    birth_date=st.dates(),
    category=CODES,
    dropped=st.sets(st.sampled_from(["Flag.code", "Patient", "Patient.birthDate", "Flag.period"])),
)
def test_a_partner_receives_the_model_paths_signal_byte_for_byte(
    ids: tuple[str, str, str],
    sent_at: datetime,
    bsn: str,
    birth_date: date,
    category: str,
    dropped: set[str],
) -> None:
    hub_message_id, sender_id, partner_message_id = ids
    bundle = fs.signal_bundle(
        hub_message_id="6f1c6f0e-4b7a-4f2e-9a55-0c1f3b1e8a10", sender_id=sender_id,
        sender=fs.Identifier(AGB_SYSTEM, "01000001"), partner_message_id=partner_message_id,
        sent_at=sent_at, child=(bsn, birth_date), concern_category=category,
    )  # fmt: skip
    bundle = minimised(bundle, *sorted(dropped))
    bundle["id"] = hub_message_id
    fast = _outcome(lambda: json_adapter.signal_received(bundle))
    assert fast == _outcome(lambda: _signal_received_as_it_was(bundle))


def test_plain_datetimes_are_aware_with_whole_minute_offsets() -> None:
    assert plain_datetime(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))))
    assert not plain_datetime(datetime(2026, 1, 1))
    assert not plain_datetime(datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30))))
    assert not plain_datetime("2026-01-01T00:00:00Z")


def test_what_the_caller_did_not_call_plain_is_the_models_to_refuse() -> None:
    fields = {"type": "signaal-ontvangen", "hub_message_id": 1, "signal_id": "s", "signaller": "p"}
    assert _outcome(lambda: model_json(SignalReceived, fields, plain=False)) is ValidationError
    written = model_json(SignalReceived, {**fields, "hub_message_id": "h"}, plain=False)
    assert written.startswith(b'{"type":"signaal-ontvangen","hub_message_id":"h"')
