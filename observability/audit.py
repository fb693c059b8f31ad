"""Audit records as published on ``ketenhub.audit``: the 'Logboek Dataverwerkingen' shape.

The router core (``routing.decide``) returns plain ``AuditRecord`` values; the route stage
turns each into one ``LogboekRecord`` here, in the shell, and writes it to the audit topic.

The shape follows the Dutch standard *Logboek Dataverwerkingen* (Logius; modelled on
OpenTelemetry spans): ``trace_id`` (16 bytes, hex), ``span_id`` and ``parent_span_id``
(8 bytes, hex), ``name``, ``start_time``, ``end_time``, ``status_code``, ``resource`` and
``attributes``, with the standard's ``dpl.core`` attributes:

- ``dpl.core.processing_activity_id``: a URI naming the processing activity (the register of
  processing activities, AVG art. 30, maps ``urn:ketenhub:verwerkingsactiviteit:<event>``);
- ``dpl.core.data_subject_id``: the child's keyed-hash pseudonym, never the BSN;
- ``dpl.core.data_subject_id_type``: ``urn:ketenhub:pseudonym:child`` (HMAC-SHA256 of the
  BSN under the hub's key, so ``ketenhub audit --bsn`` can find it and nobody can reverse it).

The facts NEN 7513 asks of a log of access to client data are ``ketenhub.*`` attributes:
what happened (``ketenhub.action``, ``ketenhub.event``), when (``start_time``/``end_time``),
about which client (``dpl.core.data_subject_id``, ``ketenhub.household``), by which user or
organisation (``ketenhub.sender``: the hub sees organisations, not their staff; the hub
instance that performed the act is in ``resource``), on whose behalf
(``ketenhub.on_behalf_of``: the sending organisation, on whose instruction the hub acts),
plus the legal basis and the recipient.

The hub's own staff see client data in one place only: a dead letter's original bytes
(``ketenhub dlq show --payload``). Each time is a ``ketenhub.dlq.disclosed`` record with the
operator's account (``ketenhub.operator``) and the dead letter (``ketenhub.dlq_ref``); it has
no event or household (a refused message may not have been readable).

Trace and span ids are derived, never random: the trace id is the hub message id (a UUID,
so exactly 16 bytes), so ingest's log lines, the router's audit records and every delivery
of one message share it, and a retried batch writes identical ids. Each audit record's
parent is the ingest act (``ingest_span_id``, derived from the message id): ingest writes no
audit record of its own (a refused input is in the DLQ), its log lines carry the trace id.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import metadata

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from schemas.audit import AuditAction, AuditRecord, LegalBasis
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingEnvelope
from schemas.partners import PARTNER_ID_PATTERN, PartnerKind

SERVICE_NAME = "ketenhub"
PROCESSING_ACTIVITY_PREFIX = "urn:ketenhub:verwerkingsactiviteit:"
DATA_SUBJECT_ID_TYPE = "urn:ketenhub:pseudonym:child"
"""What ``dpl.core.data_subject_id`` holds: the HMAC pseudonym of the child's BSN."""
DLQ_INSPECTION = "dlq-inspection"
"""The processing activity of an operator reading a refused message (fault handling)."""
OPERATOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
"""An account name, so that no free text reaches the audit log through it."""


class StatusCode(StrEnum):
    """The standard's status: UNSET when handled without an internal error (a refusal of
    bad or unauthorised input too), OK for an act that succeeded, ERROR for a hub fault."""

    UNSET = "STATUS_CODE_UNSET"
    OK = "STATUS_CODE_OK"
    ERROR = "STATUS_CODE_ERROR"


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PARTNER_ID = re.compile(PARTNER_ID_PATTERN)


def trace_id(message_id: str) -> str:
    """The trace id of one hub message: its UUID as 32 hex digits (16 bytes)."""
    if _CANONICAL_UUID.fullmatch(message_id):  # the hub's own ids: skip uuid.UUID's cost
        return message_id.replace("-", "")
    try:
        return uuid.UUID(message_id).hex
    except ValueError:
        return hashlib.sha256(message_id.encode()).hexdigest()[:32]


def span_id(message_id: str, *parts: str) -> str:
    """A deterministic 8-byte span id (16 hex digits) for one act on one message."""
    text = "/".join((message_id, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ingest_span_id(message_id: str) -> str:
    """The span of the ingest act (decode, validate, pseudonymise): the routing acts' parent."""
    return span_id(message_id, "ingest")


def processing_activity(event: MessageEvent | str) -> str:
    return f"{PROCESSING_ACTIVITY_PREFIX}{event}"


class AuditAttributes(BaseModel):
    """The record's ``attributes``: ``dpl.core.*`` from the standard, ``ketenhub.*`` ours.

    Only codes, partner ids and pseudonyms: never a BSN, name or free text.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        hide_input_in_errors=True,
    )

    processing_activity_id: str = Field(alias="dpl.core.processing_activity_id")
    data_subject_id: str | None = Field(alias="dpl.core.data_subject_id")
    data_subject_id_type: str = Field(
        default=DATA_SUBJECT_ID_TYPE, alias="dpl.core.data_subject_id_type"
    )
    action: AuditAction = Field(alias="ketenhub.action")
    event: MessageEvent | None = Field(alias="ketenhub.event")
    message_id: str = Field(alias="ketenhub.message_id")
    partner_message_id: str | None = Field(default=None, alias="ketenhub.partner_message_id")
    household: str | None = Field(alias="ketenhub.household")
    sender_id: str = Field(alias="ketenhub.sender")
    sender_kind: PartnerKind | None = Field(default=None, alias="ketenhub.sender_kind")
    on_behalf_of: str = Field(alias="ketenhub.on_behalf_of")
    recipient_id: str | None = Field(default=None, alias="ketenhub.recipient")
    recipient_kind: PartnerKind | None = Field(default=None, alias="ketenhub.recipient_kind")
    legal_basis: LegalBasis | None = Field(default=None, alias="ketenhub.legal_basis")
    reason_code: RejectReason | None = Field(default=None, alias="ketenhub.reason_code")
    notice: str | None = Field(default=None, alias="ketenhub.notice")
    operator: str | None = Field(default=None, alias="ketenhub.operator", pattern=OPERATOR_PATTERN)
    dlq_ref: str | None = Field(default=None, alias="ketenhub.dlq_ref", pattern=r"^\d+:\d+$")
    area: str | None = Field(default=None, alias="ketenhub.area")
    """The household's area (an area of the partner registry, a WIJ team's), so the
    indicators count per area."""
    regisseur_kind: PartnerKind | None = Field(default=None, alias="ketenhub.regisseur_kind")
    """On an acknowledgement: the kind of the household's regisseur after the message."""
    direct_access: bool | None = Field(default=None, alias="ketenhub.direct_access")
    """On a delivery: the recipient is a direct-access provider (youth care without an
    assignment, the Hoogkerk pilot)."""
    referrer_type: str | None = Field(
        default=None, alias="ketenhub.referrer_type", pattern=r"^\d{2}$"
    )
    """iJw COD327 code of the Verwijzer behind an assignment request (04: a certified
    institution), for how youth reach specialist care."""
    other_household: str | None = Field(default=None, alias="ketenhub.other_household")
    """On a merge: the household that merged in; on a split: the part that left."""
    regie_kept: str | None = Field(default=None, alias="ketenhub.regie_kept")
    regie_set_aside: str | None = Field(default=None, alias="ketenhub.regie_set_aside")
    """On a merge of two households with different regisseurs: who keeps regie, who not."""


class AuditResource(BaseModel):
    """The system that performed the act (the standard's ``resource``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attributes: dict[str, str] = Field(default_factory=dict)


class LogboekRecord(BaseModel):
    """One processing act, as written to ``ketenhub.audit`` (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    span_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    parent_span_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    name: str
    start_time: AwareDatetime
    end_time: AwareDatetime
    status_code: StatusCode
    resource: AuditResource = Field(default_factory=AuditResource)
    attributes: AuditAttributes

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


@cache
def _version() -> str:
    try:
        return metadata.version("ketenhub")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


@cache
def resource(instance_id: str) -> AuditResource:
    """The same for every record of an instance (and frozen): built once."""
    return AuditResource(
        attributes={
            "service.name": SERVICE_NAME,
            "service.version": _version(),
            "service.instance.id": instance_id,
        }
    )


def _status(record: AuditRecord) -> StatusCode:
    if record.reason_code is RejectReason.INTERNAL_ERROR:
        return StatusCode.ERROR
    action = record.action  # by identity: an enum member's hash is a Python call
    if action is AuditAction.REFUSED or action is AuditAction.REJECTED:
        return StatusCode.UNSET
    return StatusCode.OK


def _ms(at: datetime) -> datetime:
    """Milliseconds, as the standard's timestamps have."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def from_route(
    audit: Sequence[AuditRecord],
    envelope: RoutingEnvelope,
    *,
    ended: datetime,
    kind_of: Callable[[str], PartnerKind | None],
    instance_id: str,
) -> list[LogboekRecord]:
    """The published records of one routing decision, one per ``AuditRecord``.

    ``ended`` is when the route stage had built the decision's outputs; each record starts
    at the decision time the core stamped on it.
    """
    trace = trace_id(envelope.message_id)
    parent = ingest_span_id(envelope.message_id)
    origin = resource(instance_id)
    records = []
    for index, record in enumerate(audit):
        recipient_kind = kind_of(record.recipient_id) if record.recipient_id else None
        records.append(
            LogboekRecord(
                trace_id=trace,
                span_id=span_id(envelope.message_id, "route", str(index)),
                parent_span_id=parent,
                name=f"ketenhub.route.{record.action.value}",
                start_time=_ms(record.at),
                end_time=_ms(max(ended, record.at)),
                status_code=_status(record),
                resource=origin,
                attributes=AuditAttributes(
                    processing_activity_id=processing_activity(record.event),
                    data_subject_id=envelope.child,
                    action=record.action,
                    event=record.event,
                    message_id=record.message_id,
                    partner_message_id=envelope.partner_message_id,
                    household=record.household,
                    sender_id=record.sender_id,
                    sender_kind=envelope.sender_kind,
                    on_behalf_of=record.sender_id,
                    recipient_id=record.recipient_id,
                    recipient_kind=recipient_kind,
                    legal_basis=record.basis,
                    reason_code=record.reason_code,
                    notice=record.notice,
                    area=record.area,
                    regisseur_kind=record.regisseur_kind,
                    direct_access=record.direct_access,
                    referrer_type=envelope.facts.referrer_type,
                    other_household=record.other_household,
                    regie_kept=record.regie_kept,
                    regie_set_aside=record.regie_set_aside,
                ),
            )
        )
    return records


def route_records_json(
    audit: Sequence[AuditRecord],
    envelope: RoutingEnvelope,
    *,
    ended: datetime,
    kind_of: Callable[[str], PartnerKind | None],
    instance_id: str,
) -> list[bytes]:
    """``[r.to_json() for r in from_route(...)]``, byte for byte, without the models.

    The route stage writes one or two records per message: building and validating a
    ``LogboekRecord`` (every value here is already a typed value, from the core or from the
    envelope) and serialising it cost several times what this dict and orjson do. A test
    holds the two to the same bytes over the bench mix.
    """
    message_id = envelope.message_id
    trace = trace_id(message_id)
    parent = ingest_span_id(message_id)
    origin = _resource_json(instance_id)
    child, partner_message_id = envelope.child, envelope.partner_message_id
    sender_kind = envelope.sender_kind
    referrer_type = envelope.facts.referrer_type
    ended_ms = _ms(ended)
    starts: dict[datetime, datetime] = {}  # a decision stamps all its records alike
    out = []
    # Enum members go to orjson as they are: it writes their values, as the model does.
    for index, record in enumerate(audit):
        recipient = record.recipient_id
        action, event, at = record.action, record.event, record.at
        start = starts.get(at)
        if start is None:
            start = starts[at] = _ms(at)
        out.append(
            orjson.dumps(
                {
                    "trace_id": trace,
                    "span_id": span_id(message_id, "route", str(index)),
                    "parent_span_id": parent,
                    "name": f"ketenhub.route.{action}",
                    "start_time": start,
                    "end_time": ended_ms if ended >= at else start,
                    "status_code": _status(record),
                    "resource": origin,
                    "attributes": {
                        "dpl.core.processing_activity_id": PROCESSING_ACTIVITY_PREFIX + event,
                        "dpl.core.data_subject_id": child,
                        "dpl.core.data_subject_id_type": DATA_SUBJECT_ID_TYPE,
                        "ketenhub.action": action,
                        "ketenhub.event": event,
                        "ketenhub.message_id": record.message_id,
                        "ketenhub.partner_message_id": partner_message_id,
                        "ketenhub.household": record.household,
                        "ketenhub.sender": record.sender_id,
                        "ketenhub.sender_kind": sender_kind,
                        "ketenhub.on_behalf_of": record.sender_id,
                        "ketenhub.recipient": recipient,
                        "ketenhub.recipient_kind": kind_of(recipient) if recipient else None,
                        "ketenhub.legal_basis": record.basis,
                        "ketenhub.reason_code": record.reason_code,
                        "ketenhub.notice": record.notice,
                        "ketenhub.operator": None,
                        "ketenhub.dlq_ref": None,
                        "ketenhub.area": record.area,
                        "ketenhub.regisseur_kind": record.regisseur_kind,
                        "ketenhub.direct_access": record.direct_access,
                        "ketenhub.referrer_type": referrer_type,
                        "ketenhub.other_household": record.other_household,
                        "ketenhub.regie_kept": record.regie_kept,
                        "ketenhub.regie_set_aside": record.regie_set_aside,
                    },
                },
                option=orjson.OPT_UTC_Z,
            )
        )
    return out


@cache
def _resource_json(instance_id: str) -> dict[str, dict[str, str]]:
    return resource(instance_id).model_dump()


def from_legacy(record: AuditRecord) -> LogboekRecord:
    """A record the hub wrote before it used this shape (the core's ``AuditRecord`` as
    JSON): the same facts, with the data subject unknown (it was not recorded then)."""
    return LogboekRecord(
        trace_id=trace_id(record.message_id),
        span_id=span_id(
            record.message_id,
            "legacy",
            record.action.value,
            record.recipient_id or "",
            record.notice or "",
        ),
        parent_span_id=ingest_span_id(record.message_id),
        name=f"ketenhub.route.{record.action.value}",
        start_time=_ms(record.at),
        end_time=_ms(record.at),
        status_code=_status(record),
        attributes=AuditAttributes(
            processing_activity_id=processing_activity(record.event),
            data_subject_id=None,
            action=record.action,
            event=record.event,
            message_id=record.message_id,
            household=record.household,
            sender_id=record.sender_id,
            on_behalf_of=record.sender_id,
            recipient_id=record.recipient_id,
            legal_basis=record.basis,
            reason_code=record.reason_code,
            notice=record.notice,
            area=record.area,
            regisseur_kind=record.regisseur_kind,
            direct_access=record.direct_access,
        ),
    )


def payload_disclosure(
    *,
    dlq_ref: str,
    message_id: str | None,
    partner_id: str,
    operator: str,
    at: datetime,
    instance_id: str,
) -> LogboekRecord:
    """The record of one dead letter's original bytes shown to an operator: they may hold a
    BSN, names and clinical text, and NEN 7513 asks who saw which client's data, and when.

    Its trace is the refused message's (when it had a hub message id), so ``ketenhub audit
    --message`` and ``trace`` show the disclosure next to the refusal.
    """
    # A dead letter may carry headers a partner set: only a hub message id and a partner
    # id's shape reach the audit log, never whatever text those headers held.
    if message_id is None or not _CANONICAL_UUID.fullmatch(message_id):
        message_id = None
    subject = message_id or f"dlq:{dlq_ref}"
    partner_id = partner_id if _PARTNER_ID.fullmatch(partner_id) else "?"
    return LogboekRecord(
        trace_id=trace_id(subject),
        span_id=span_id(subject, "dlq-disclosed", at.isoformat()),
        name=f"ketenhub.dlq.{AuditAction.DISCLOSED.value}",
        start_time=_ms(at),
        end_time=_ms(at),
        status_code=StatusCode.OK,
        resource=resource(instance_id),
        attributes=AuditAttributes(
            processing_activity_id=processing_activity(DLQ_INSPECTION),
            data_subject_id=None,
            action=AuditAction.DISCLOSED,
            event=None,
            message_id=subject,
            household=None,
            sender_id=partner_id,
            on_behalf_of=SERVICE_NAME,
            operator=operator,
            dlq_ref=dlq_ref,
        ),
    )


def parse(raw: bytes | None) -> LogboekRecord | None:
    """A record read back from ``ketenhub.audit``, in today's or the earlier shape; None for
    anything else (the reader counts and reports those, it never shows their bytes)."""
    if not raw:
        return None
    try:
        return LogboekRecord.model_validate_json(raw)
    except ValidationError:
        pass
    try:
        return from_legacy(AuditRecord.from_json(raw))
    except ValidationError:
        return None
