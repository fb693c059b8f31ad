"""``ketenhub audit`` and ``trace``: argument errors before any Kafka, and the table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from hub.cli.audit import AUDIT_COLUMNS, _rows
from hub.cli.main import app
from hub.ops.audit_log import AuditQuery, is_hub_message_id
from observability import audit
from routing.directory import Directory
from schemas.audit import AuditAction, AuditRecord, LegalBasis
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind
from tests.conftest import GP, PROVIDER, default_registry

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--bsn", "999990019", "--household", "h"],
        ["--household", "h", "--message", "m"],
        ["--message", "m", "--disclosures"],
    ],
)
def test_audit_needs_exactly_one_question(args: list[str]) -> None:
    result = runner.invoke(app, ["audit", *args])
    assert result.exit_code == 2
    assert "exactly one of --bsn, --household, --message or --disclosures" in result.output


def test_an_invalid_bsn_is_refused_without_echoing_it() -> None:
    result = runner.invoke(app, ["audit", "--bsn", "999990018"])
    assert result.exit_code == 2
    assert "not a valid BSN" in result.output
    assert "999990018" not in result.output


def _record(action: AuditAction, recipient: str, basis: LegalBasis | None) -> audit.LogboekRecord:
    message_id = str(uuid.uuid4())
    envelope = RoutingEnvelope(
        message_id=message_id,
        event=MessageEvent.REFERRAL,
        sender_id=GP,
        sender_kind=PartnerKind.HUISARTS,
        partner_message_id="HIS-7",
        household="h" * 32,
        child="c" * 32,
        received_at=datetime.now(UTC),
    )
    record = AuditRecord(
        message_id=message_id,
        at=datetime.now(UTC),
        action=action,
        event=MessageEvent.REFERRAL,
        sender_id=GP,
        recipient_id=recipient,
        household="h" * 32,
        basis=basis,
    )
    [entry] = audit.from_route(
        [record],
        envelope,
        ended=datetime.now(UTC),
        kind_of=Directory.from_registry(default_registry()).kind,
        instance_id="t",
    )
    return entry


def test_queries_match_child_household_and_either_message_id() -> None:
    entry = _record(AuditAction.DELIVERED, PROVIDER, LegalBasis.STATUTORY)
    assert AuditQuery(child="c" * 32).matches(entry)
    assert not AuditQuery(child="d" * 32).matches(entry)
    assert AuditQuery(household="h" * 32).matches(entry)
    assert AuditQuery(message="HIS-7").matches(entry)
    assert AuditQuery(message=entry.attributes.message_id).matches(entry)
    assert is_hub_message_id(entry.attributes.message_id) and not is_hub_message_id("HIS-7")


def test_the_table_shows_who_received_what_on_which_basis() -> None:
    record = _record(AuditAction.DELIVERED, PROVIDER, LegalBasis.STATUTORY)
    [row] = _rows([record])
    assert [row[k] for k in AUDIT_COLUMNS][1:] == [
        "delivered", "referral", GP, PROVIDER, "statutory", record.attributes.message_id
    ]  # fmt: skip


def _disclosure(message_id: str | None = None) -> audit.LogboekRecord:
    return audit.payload_disclosure(
        dlq_ref="0:3", message_id=message_id, partner_id=GP, operator="j.devries",
        at=datetime.now(UTC), instance_id="t",
    )  # fmt: skip


def test_disclosures_are_their_own_question_and_part_of_their_message() -> None:
    message_id = str(uuid.uuid4())
    shown = _disclosure(message_id)
    delivered = _record(AuditAction.DELIVERED, PROVIDER, LegalBasis.STATUTORY)
    assert AuditQuery(disclosures=True).matches(shown)
    assert not AuditQuery(disclosures=True).matches(delivered)
    assert AuditQuery(message=message_id).matches(shown)
    assert not AuditQuery(household="h" * 32).matches(shown)


def test_the_table_shows_which_operator_was_shown_which_dead_letter() -> None:
    [row] = _rows([_disclosure()])
    assert [row[k] for k in AUDIT_COLUMNS][1:-1] == [
        "disclosed", "-", GP, "operator j.devries", "dead letter 0:3"
    ]  # fmt: skip
