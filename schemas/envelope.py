"""The slim routing envelope that travels as Kafka headers beside each canonical Bundle.

The router decides on the envelope alone, so it never has to parse or re-validate the FHIR
Bundle; the Bundle was validated once, at ingest. Only pseudonyms travel here, never a BSN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, get_args

import orjson
from pydantic import AwareDatetime, Field

from schemas.base import PrivateModel
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind

_PREFIX = "kh-"
_NO_UPDATE: Mapping[str, object] = {}
MAX_AGE = 130
"""The oldest a person the hub routes for can be: an older birth date is a wrong one."""
_FACTS = "kh-facts"


class ConsentParty(StrEnum):
    """Who signed a consent; the Dutch age rules in the policy say who must."""

    CHILD = "child"
    PARENT = "parent"
    GUARDIAN = "guardian"


class ConsentFacts(PrivateModel):
    """What the router needs of a Consent: scope and signatories, no names."""

    consent_id: str
    given_by: tuple[ConsentParty, ...] = ()
    purposes: tuple[str, ...] = ()
    recipients: tuple[str, ...] = Field(default=(), description="partner ids")
    recipient_kinds: tuple[PartnerKind, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None


class RoutingFacts(PrivateModel):
    """Event-specific facts for routing, so the router never parses a Bundle.

    Only codes, pseudonyms, partner ids and an age: never a BSN, name or free text.
    """

    child_age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    area: str | None = None
    related_partner_message_id: str | None = None
    regie_target: str | None = Field(default=None, description="partner id, for transfers")
    household_members: tuple[str, ...] = Field(
        default=(), description="child pseudonyms of the household's other children"
    )
    concern_category: str | None = None
    consent: ConsentFacts | None = None
    verzoek_antwoord: str | None = Field(
        default=None,
        pattern=r"^[12]$",
        description="iJw JW319 WJ760 answer on a request: 1 refused, 2 being looked into",
    )
    referrer_agb: str | None = Field(
        default=None,
        pattern=r"^\d{8}$",
        description="AGB of the GP behind an iJw JW315 (its Verwijzer), to link it to the referral",
    )
    merge_into: str | None = Field(
        default=None, description="household pseudonym the households listed in merge_from join"
    )
    merge_from: tuple[str, ...] = Field(
        default=(), description="household pseudonyms that merge into merge_into, in hop order"
    )
    split_children: tuple[str, ...] = Field(
        default=(), description="child pseudonyms that left the household, to split_household"
    )
    split_household: str | None = None
    handover: bool = Field(
        default=False, description="the state of a split-off part arriving at its household"
    )
    referrer_type: str | None = Field(
        default=None,
        pattern=r"^\d{2}$",
        description="iJw COD327 type of the Verwijzer behind a JW315 (04: certified institution)",
    )
    key_migration: str | None = Field(
        default=None,
        description="household pseudonym under the previous key whose state moves to "
        "merge_into, its pseudonym under the current key (a key rotation, not a merge)",
    )
    renamed_children: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(previous-key, current-key) pseudonym of each child this message names "
        "that the router may still know under the previous key",
    )


class RoutingEnvelope(PrivateModel):
    message_id: str
    event: MessageEvent
    sender_id: str
    sender_kind: PartnerKind
    partner_message_id: str
    household: str
    child: str
    recipient_id: str | None = None
    recipient_kind: PartnerKind | None = None
    received_at: AwareDatetime
    source: str | None = Field(
        default=None, description="the outbox record, topic:partition:offset: acks name it"
    )
    facts: RoutingFacts = RoutingFacts()

    def to_headers(self) -> list[tuple[str, bytes]]:
        """One ``kh-<field>`` header per field that is set, in field order, plus the facts
        (``envelope_headers``, which ingest calls without making the model)."""
        return envelope_headers(self.__dict__, self.facts)

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes]]) -> RoutingEnvelope:
        """Validated in full, as ``model_validate`` does, by the models' own validators
        called directly (once per message, on route's hot path)."""
        values: dict[str, object] = {}
        fields = _FIELD_OF_HEADER
        for key, value in headers:
            if key == _FACTS:
                values["facts"] = _FACTS_VALIDATOR.validate_json(value)
            elif (name := fields.get(key)) is not None:
                values[name] = value.decode()
        envelope: RoutingEnvelope = cls.__pydantic_validator__.validate_python(values)
        return envelope


_FACTS_VALIDATOR = RoutingFacts.__pydantic_validator__
_FIELD_OF_HEADER = {_PREFIX + name.replace("_", "-"): name for name in RoutingEnvelope.model_fields}


_TIME_FIELDS = frozenset({"received_at"})
_HEADER_FIELDS = tuple(
    (name, header, name in _TIME_FIELDS)
    for header, name in _FIELD_OF_HEADER.items()
    if name != "facts"
)
if set(RoutingEnvelope.model_fields) - {"facts"} != {n for n, _, _ in _HEADER_FIELDS}:
    raise AssertionError("every envelope field but facts travels as its own header")
if not all(
    issubclass(t, str)
    for n, _, is_time in _HEADER_FIELDS
    if not is_time
    for t in get_args(RoutingEnvelope.model_fields[n].annotation)
    or (RoutingEnvelope.model_fields[n].annotation,)
    if t is not type(None)
):
    raise AssertionError("every other header field is text or a StrEnum (str.encode)")


def envelope_headers(
    fields: Mapping[str, Any], facts: RoutingFacts, update: Mapping[str, object] = _NO_UPDATE
) -> list[tuple[str, bytes]]:
    """``RoutingEnvelope(**fields, facts=facts.model_copy(update=update)).to_headers()``,
    byte for byte, without making either model.

    Ingest writes one envelope per message from values the hub made itself (pseudonyms,
    partner ids, its own clock), and making the two models to write them cost twice what
    writing them does. Route reads the headers back validated in full (``from_headers``),
    so a value out of bounds is refused there as before. The values as
    ``model_dump(mode="json")`` gives them: an enum's value, a time as ISO 8601 with ``Z``;
    the facts as ``model_dump_json(exclude_defaults=True)``. A property test holds both
    paths to the same bytes.
    """
    headers = []
    for name, header, is_time in _HEADER_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        # Text and StrEnum members alike: str.encode writes an enum member's value.
        text = orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1] if is_time else value.encode()
        headers.append((header, text))
    facts_json = _facts_json(facts, update)
    if facts_json != b"{}":
        headers.append((_FACTS, facts_json))
    return headers


def _facts_json(facts: RoutingFacts, update: Mapping[str, object]) -> bytes:
    """``facts.model_copy(update=update).model_dump_json(exclude_defaults=True)``: the
    model's dump of what it holds, the updates that differ from their defaults merged in,
    in field order."""
    if facts is _NO_FACTS or facts.__dict__ == _NO_FACTS.__dict__:
        dumped: dict[str, object] = {}
    else:
        dumped = facts.model_dump(mode="json", exclude_defaults=True)
    for name, value in update.items():
        if value == _FACT_DEFAULTS[name]:
            dumped.pop(name, None)
        else:
            dumped[name] = value
    if len(dumped) > 1:
        dumped = {name: dumped[name] for name in sorted(dumped, key=_FACT_ORDER.__getitem__)}
    return orjson.dumps(dumped)


_NO_FACTS = RoutingFacts()
_FACT_DEFAULTS = {name: field.default for name, field in RoutingFacts.model_fields.items()}
_FACT_ORDER = {name: index for index, name in enumerate(RoutingFacts.model_fields)}


def header_value(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The first header of that name, decoded; Kafka headers are a list, not a dict."""
    return next((v.decode() for k, v in headers if k == name), None)
