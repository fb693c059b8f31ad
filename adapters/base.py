"""The adapter seam: the one place a partner's native format meets the hub."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

import orjson
from pydantic import BaseModel, ValidationError

from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingFacts
from schemas.fhir import FhirDict
from schemas.partners import Partner, PartnerRegistry


class AdapterError(Exception):
    """Input a partner sent that the hub will not accept.

    ``message`` is shown to the partner and logged, so it must never contain a value from the
    input (no BSN, no name, no free text): name the field and the rule instead.
    """

    def __init__(
        self, code: RejectReason, message: str, partner_message_id: str | None = None
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.partner_message_id = partner_message_id


@dataclass(slots=True)
class DecodeContext:
    """What the hub knows about a message before its adapter reads it."""

    sender: Partner
    registry: PartnerRegistry
    hub_message_id: str
    received_at: datetime


@dataclass(slots=True)
class Decoded:
    """A decoded message: the validated Bundle plus what ingest needs to route it.

    ``child_bsn`` names the child the message is about (for household messages: one child of
    the household); ingest turns it, ``child_birth_date`` and ``household_member_bsns`` into
    pseudonyms and an age before anything leaves ingest. ``facts`` carries the
    event-specific routing facts (see ``schemas.envelope.RoutingFacts``); ingest fills in
    ``child_age`` and ``household_members`` itself. Not frozen (see ``routing.decide.Delivery``).
    """

    bundle: FhirDict = field(repr=False)
    event: MessageEvent
    partner_message_id: str
    child_bsn: str = field(repr=False)
    recipient: Partner | None = None
    child_birth_date: date | None = field(default=None, repr=False)
    household_member_bsns: tuple[str, ...] = field(default=(), repr=False)
    leaving_bsns: tuple[str, ...] = field(default=(), repr=False)
    """A household change: the children who left the household (they form one of their own)."""
    facts: RoutingFacts = field(default_factory=RoutingFacts)
    aliases: tuple[str, ...] = ()
    """Keys (never personal data) under which later messages that name no child find this
    message's household: an iJw heenbericht's id and the provider's references, which its
    answers and header-only retours carry (see ``correlation_key``)."""
    correlation_key: str | None = None
    """For a message that names no child (``child_bsn`` empty: an iJw answer or a retour
    without content): a key of what it belongs to, never personal data; ingest keys the
    message's household by the pseudonym of this key instead."""

    @property
    def subject_key(self) -> str:
        """What ingest pseudonymises into the child and household keys."""
        if self.child_bsn:
            return self.child_bsn
        if not self.correlation_key:
            raise ValueError("a Decoded names a child_bsn or a correlation_key")
        return "correlation:" + self.correlation_key


@runtime_checkable
class Adapter(Protocol):
    """**Protocol:** translate one partner kind's native format to canonical FHIR and back.

    ``decode`` raises ``AdapterError`` for anything it will not accept; ``encode`` gets a
    canonical Bundle addressed to a partner of this kind and returns its native bytes.
    """

    name: str

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded: ...

    def encode(self, bundle: Mapping[str, Any]) -> bytes: ...


M = TypeVar("M", bound=BaseModel)
EMPTY_PAYLOAD = "payload is empty"


def require_content(payload: bytes) -> None:
    """An empty (or blank) message is called that, not a syntax error in some format."""
    if not payload.strip():
        raise AdapterError(RejectReason.MALFORMED, EMPTY_PAYLOAD)


def parse_json_model(payload: bytes, models: Mapping[str, type[M]]) -> M:
    """Parse native JSON into the model its ``type`` field names, with privacy-safe errors.

    Errors name the failing fields and rules (pydantic's messages describe the rule, not the
    input), so they are safe to send back and to log.
    """
    require_content(payload)
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise AdapterError(RejectReason.MALFORMED, "payload is not valid UTF-8 JSON") from None
    if not isinstance(raw, dict):
        raise AdapterError(RejectReason.MALFORMED, "payload must be a JSON object")
    safe_id = _safe_message_id(raw.get("message_id"))
    kind = raw.get("type")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise AdapterError(
            RejectReason.UNSUPPORTED_TYPE,
            "field type must be one of: " + ", ".join(sorted(models)),
            safe_id,
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _schema_error(exc, safe_id) from None


def model_json(model: type[BaseModel], fields: dict[str, Any], plain: bool) -> bytes:
    """``model.model_validate(fields).model_dump_json()``, as bytes; straight from the fields
    when ``plain``: the caller checked that the model takes every value as it is (texts are
    ``str``, codes of their enum, datetimes aware, dates and nested dicts in field order).

    What the hub sends its partners was built by the hub: validating it again on the way out
    cost more than the rest of an encode. A property test holds both paths equal; anything
    the caller did not call plain takes the model's path, and its errors.
    """
    if plain:
        try:
            return orjson.dumps(fields, option=orjson.OPT_UTC_Z)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: let the model say what
            pass
    return model.model_validate(fields).model_dump_json().encode()


def plain_texts(*values: object) -> bool:
    """True when every value is a ``str`` (no subclass, no None): what a ``str`` field takes."""
    return all(type(v) is str for v in values)


def plain_datetime(value: object) -> bool:
    """An aware datetime whose UTC offset is whole minutes: what an ``AwareDatetime`` takes
    and writes as orjson does (of an offset's seconds, pydantic drops them, orjson rounds)."""
    if not isinstance(value, datetime):
        return False
    offset = value.utcoffset()
    return offset is not None and not offset.microseconds and not offset.seconds % 60


def _safe_message_id(value: object) -> str | None:
    """The partner's message id, if it is a sane identifier worth echoing in a nack."""
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isprintable():
        return value
    return None


def _schema_error(exc: ValidationError, message_id: str | None) -> AdapterError:
    errors = exc.errors(include_input=False, include_url=False)
    for e in errors:
        if e["type"] == "extra_forbidden":
            # The name of an unexpected field is the sender's text (a BSN, a name, control
            # characters...): never echo it, say where it was instead.
            e["loc"] = (*e["loc"][:-1], "(unknown field)")
    bad_bsn = next(
        (e for e in errors if e["loc"][-1:] == ("bsn",) and e["type"] != "missing"), None
    )
    if bad_bsn is not None:
        return AdapterError(
            RejectReason.INVALID_BSN, f"{_path(bad_bsn['loc'])} fails the elfproef", message_id
        )
    parts = [f"{_path(e['loc'])}: {e['msg']}" for e in errors[:5]]
    return AdapterError(RejectReason.SCHEMA_INVALID, "; ".join(parts), message_id)


def _path(loc: tuple[int | str, ...]) -> str:
    """A field's dotted path (``household.1.bsn``); ``message`` for a rule on the whole."""
    return ".".join(str(p) for p in loc) or "message"
