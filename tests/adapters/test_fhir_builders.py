"""Every Bundle a built-in builder makes is valid FHIR R4: proven here, so not per message.

Property tests (hypothesis) over the native models of every built-in adapter, each accepted
message's Bundle checked with fhir.resources; and a sample of them, with the Bundles the
route stage builds itself (acks, nacks, notices), checked by HAPI FHIR's instance validator
(``scripts/fhir-validator``: Java 17, jars from Maven Central on the first run).
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.registry import load_adapters
from schemas import fhir
from schemas.codes import RejectReason
from tests.adapters.fhir_builders import REGISTRY, decode, examples, payloads

VALIDATOR = Path(__file__).resolve().parents[2] / "scripts/fhir-validator/validate.sh"
EXAMPLE_PARAMS = [pytest.param(p, id=p.name) for p in examples()]
PROPERTY_EXAMPLES = 60
HAPI_PER_EXAMPLE = 25
"""Accepted messages per example that HAPI validates too (one JVM for all of them)."""
HUB_OWN_BUNDLES = 100


def test_every_built_in_adapter_is_trusted_and_has_examples() -> None:
    adapters = load_adapters()
    assert adapters.built_in == frozenset(adapters.adapters)
    kinds = {p.name.split("-", 1)[0] for p in examples()}
    assert kinds == {a for a in adapters.adapters}


def accepted_bundles(example: Path, count: int, *, derandomize: bool) -> tuple[list[Any], int]:
    """Up to ``count`` Bundles the example's adapter built of drawn messages, and how many
    messages were drawn."""
    built: list[Any] = []
    drawn = [0]

    @settings(
        max_examples=count * 8,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(payload=payloads(example))
    def draw(payload: bytes) -> None:
        drawn[0] += 1
        if len(built) >= count:
            return
        bundle = decode(example, payload, str(uuid.uuid4()))
        if bundle is not None:
            fhir.validate_bundle(bundle)  # raises, and hypothesis shrinks, on an invalid one
            built.append(bundle)

    draw()
    return built, drawn[0]


@pytest.mark.parametrize("example", EXAMPLE_PARAMS)
def test_whatever_a_built_in_adapter_accepts_becomes_a_valid_bundle(example: Path) -> None:
    built, drawn = accepted_bundles(example, PROPERTY_EXAMPLES, derandomize=False)
    # Not vacuous: a fair share of the drawn messages is accepted (and so checked).
    assert len(built) >= min(PROPERTY_EXAMPLES, drawn) // 8, (len(built), drawn)


_REASONS = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=80
).filter(lambda text: text.strip() == text and text != "")
_IDS = st.uuids().map(str)
_AT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_PARTNERS = st.sampled_from([p.id for p in REGISTRY.partners])


@st.composite
def response_bundles(draw: Any) -> dict[str, Any]:
    reject = draw(st.none() | st.sampled_from(RejectReason))
    return fhir.response_bundle(
        hub_message_id=draw(_IDS),
        in_response_to=draw(_IDS),
        partner_message_id=draw(
            st.none() | st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
        ),
        recipient_id=draw(_PARTNERS),
        at=draw(_AT),
        delivered_to=tuple(draw(st.lists(_PARTNERS, max_size=3, unique=True))),
        reject=reject,
        reason=draw(_REASONS) if reject is not None else "",
        duplicate=draw(st.booleans()),
    )


@st.composite
def notification_bundles(draw: Any) -> dict[str, Any]:
    about = [REGISTRY.get(pid) for pid in draw(st.lists(_PARTNERS, max_size=3, unique=True))]
    return fhir.notification_bundle(
        hub_message_id=draw(_IDS),
        recipient_id=draw(_PARTNERS),
        at=draw(_AT),
        subject=draw(st.sampled_from(["signal-match", "regie-conflict", "care-started"])),
        about=tuple((p.id, p.name, p.contact) for p in about if p is not None),
        regarding=draw(st.none() | st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)),
    )


@settings(max_examples=200, deadline=None)
@given(bundle=st.one_of(response_bundles(), notification_bundles()))
def test_the_hubs_own_acks_nacks_and_notices_are_valid_bundles(bundle: dict[str, Any]) -> None:
    fhir.validate_bundle(bundle)


def drawn_bundles(count: int) -> list[dict[str, Any]]:
    """``count`` acks, nacks and notices, the same ones every run."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None)
    @given(bundle=st.one_of(response_bundles(), notification_bundles()))
    def draw(bundle: dict[str, Any]) -> None:
        drawn.append(bundle)

    draw()
    return drawn


@pytest.mark.fhir_validator
@pytest.mark.timeout(900)  # a fresh clone fetches and builds the validator (Maven) first
def test_hapi_fhir_finds_no_error_in_any_builders_bundles(tmp_path: Path) -> None:
    written = 0
    for example in examples():
        built, _ = accepted_bundles(example, HAPI_PER_EXAMPLE, derandomize=True)
        assert built, f"{example.name}: no drawn message was accepted"
        for index, bundle in enumerate(built):
            (tmp_path / f"{example.stem}-{index:02}.json").write_bytes(orjson.dumps(bundle))
            written += 1
    for index, bundle in enumerate(drawn_bundles(HUB_OWN_BUNDLES)):
        (tmp_path / f"hub-{index:03}.json").write_bytes(orjson.dumps(bundle))
        written += 1
    result = subprocess.run(
        [str(VALIDATOR), str(tmp_path)], capture_output=True, text=True, timeout=900
    )
    lines = result.stdout.splitlines()
    errors = [line for line in lines if "\terror\t" in line or "\tfatal\t" in line]
    assert not errors, "\n".join(errors[:20])
    assert result.returncode == 0, result.stderr[-2000:]
    assert lines and lines[-1].startswith(f"validated {written} resources: 0 errors"), lines[-1:]
    print(lines[-1])
