"""The route stage's fast acks and nacks are the adapters' own, byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.notices import encode_response
from adapters.registry import load_adapters
from schemas import fhir
from schemas.codes import RejectReason

ADAPTERS = load_adapters()
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
"""Text as a header or a registry gives it: any Unicode but lone surrogates."""
SOURCES = st.one_of(
    st.none(),
    st.builds(lambda t, p, o: f"{t}:{p}:{o}", TEXT, st.integers(0, 10**12), st.integers(0, 10**30)),
    st.builds(lambda t, p, o: f"{t}:{p}:{o}", TEXT, TEXT, TEXT),
    TEXT,
)


def _outcome(make: Callable[[], bytes]) -> bytes | type[Exception]:
    try:
        return make()
    except Exception as exc:  # both paths must fail alike on what the model path refuses
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(
    in_response_to=st.one_of(st.uuids().map(str), TEXT),
    partner_message_id=st.none() | TEXT,
    at=st.datetimes(timezones=st.just(UTC)),
    delivered_to=st.lists(TEXT, max_size=3).map(tuple),
    reject=st.none() | st.sampled_from(RejectReason),
    reason=TEXT,
    duplicate=st.booleans(),
    source=SOURCES,
)
def test_encode_response_is_every_built_in_adapters_encoding_of_the_response_bundle(
    in_response_to: str,
    partner_message_id: str | None,
    at: datetime,
    delivered_to: tuple[str, ...],
    reject: RejectReason | None,
    reason: str,
    duplicate: bool,
    source: str | None,
) -> None:
    values = dict(
        in_response_to=in_response_to, partner_message_id=partner_message_id, at=at,
        delivered_to=delivered_to, reject=reject, reason=reason, duplicate=duplicate,
        source=source,
    )  # fmt: skip
    fast = _outcome(lambda: encode_response(**values))  # type: ignore[arg-type]
    for name in sorted(ADAPTERS.built_in):
        encode = ADAPTERS.get(name).encode
        slow = _outcome(
            lambda: encode(  # noqa: B023 - called at once, in this iteration
                fhir.response_bundle(
                    hub_message_id="6f1c6f0e-4b7a-4f2e-9a55-0c1f3b1e8a10",
                    recipient_id="partner", **values,  # type: ignore[arg-type]
                )
            )
        )  # fmt: skip
        assert fast == slow, name


def test_a_usual_ack_takes_the_fast_path_and_names_its_outbox_record() -> None:
    raw = encode_response(
        in_response_to="m-1", partner_message_id="p-1", at=datetime(2026, 1, 1, tzinfo=UTC),
        delivered_to=("aanbieder-a",), source="ketenhub.partner.x.out:3:17",
    )  # fmt: skip
    assert raw == (
        b'{"type":"ack","in_response_to":"p-1","hub_message_id":"m-1",'
        b'"delivered_to":["aanbieder-a"],"duplicate":false,"at":"2026-01-01T00:00:00Z",'
        b'"source":{"topic":"ketenhub.partner.x.out","partition":3,"offset":17}}'
    )
