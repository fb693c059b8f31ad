"""``ketenhub audit`` and ``ketenhub trace``: who received what, on which basis; and the path
of one message through the hub."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer

from hub.cli.support import Listing, err, friendly, json_lines, run_async, show
from hub.context import ConfigError, keyring, load_registry, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.ops.audit_log import (
    AuditQuery,
    read_audit,
    resolve_message_ids,
    trace_message,
)
from hub.settings import Settings
from observability.audit import LogboekRecord
from schemas.audit import AuditAction
from schemas.bsn import is_valid_bsn

_RECEIVED = (AuditAction.DELIVERED, AuditAction.NOTIFIED)


@friendly
def audit(
    bsn: Annotated[
        str | None,
        typer.Option(
            help="A child's BSN: pseudonymised here with the hub's key, never sent or shown. "
            "Mind your shell history."
        ),
    ] = None,
    household: Annotated[
        str | None, typer.Option(help="A household pseudonym (topic keys, `state show`).")
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(help="A hub message id, or the partner's own message id."),
    ] = None,
    disclosures: Annotated[
        bool,
        typer.Option(
            "--disclosures",
            help="Every time an operator was shown a dead letter's payload, and who.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The audit records as stored, one JSON per line.")
    ] = False,
) -> None:
    """Who received what about a child, a household or a message, and on which legal basis.

    Reads ketenhub.audit (one record per processing act, in the Logboek Dataverwerkingen
    shape). The table shows every act: deliveries and notices with their legal basis,
    refusals with their reason code, acknowledgements; then who received something.
    """
    settings = Settings()
    if sum(v is not None for v in (bsn, household, message)) + disclosures != 1:
        raise ConfigError("give exactly one of --bsn, --household, --message or --disclosures")
    about = ""
    query: AuditQuery
    if bsn is not None:
        if not is_valid_bsn(bsn.strip()):
            raise ConfigError("that is not a valid BSN (elfproef)")
        # Under every readable key: the child's records from before a rotation are its too.
        children = tuple(key.child(bsn.strip()) for key in keyring(settings).readable)
        query = AuditQuery(children=children)
        about = f"the child with pseudonym {' or '.join(children)}"
    elif disclosures:
        query, about = AuditQuery(disclosures=True), "disclosures of dead letters' payloads"
    elif household is not None:
        query, about = AuditQuery(household=household), f"household {household}"
    else:
        assert message is not None
        query, about = AuditQuery(message=message), f"message {message}"
    names = TopicNames(settings.topic_prefix)
    result = run_async(read_audit(resolve_kafka(settings), names, query))
    if result.unreadable:
        err.print(
            f"note: {result.unreadable} record(s) on {names.audit} in no known shape were skipped",
            highlight=False,
        )
    if as_json:
        json_lines([record.model_dump(mode="json", by_alias=True) for record in result.records])
        return
    if not result.records:
        err.print(f"no audit records about {about}", highlight=False)  # an empty answer
        return
    title = f"audit: {len(result.records)} record(s) about {about}"
    show(Listing(title, AUDIT_COLUMNS, _rows(result.records)))
    if not disclosures:
        _print_received(result.records)


def _print_received(records: list[LogboekRecord]) -> None:
    """Who received what: a summary beside the rows, so on stderr."""
    messages = dict.fromkeys(
        (r.attributes.message_id, r.attributes.partner_message_id) for r in records
    )
    err.print("Messages (ketenhub trace HUB_MESSAGE_ID shows each one's path):")
    for hub_id, partner_id in messages:
        err.print(
            f"  {hub_id}  ({partner_id or 'partner message id not recorded'})", highlight=False
        )
    received = Counter(
        (r.attributes.recipient_id, r.attributes.event.value, str(r.attributes.legal_basis))
        for r in records
        if r.attributes.action in _RECEIVED and r.attributes.recipient_id and r.attributes.event
    )
    if not received:
        err.print("Nobody received anything.")
        return
    err.print("Received:", highlight=False)
    for (recipient, event, basis), count in sorted(received.items()):
        err.print(f"  {recipient}: {event} x{count}, basis {basis}", highlight=False)


AUDIT_COLUMNS = {
    "at": "time (UTC)", "action": "action", "event": "event", "sender": "from",
    "recipient": "to", "why": "basis / reason", "message_id": "hub message id",
}  # fmt: skip


def _rows(records: list[LogboekRecord]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        a = r.attributes
        why = a.legal_basis.value if a.legal_basis else ""
        why += a.reason_code.value if a.reason_code else ""
        why += f" ({a.notice})" if a.notice else ""
        why += f"dead letter {a.dlq_ref}" if a.dlq_ref else ""
        rows.append({
            "at": r.start_time.strftime("%Y-%m-%d %H:%M:%S"),
            "action": a.action.value,
            "event": a.event.value if a.event else "-",
            "sender": a.sender_id,
            "recipient": a.recipient_id or (f"operator {a.operator}" if a.operator else ""),
            "why": why,
            "message_id": a.message_id,
        })  # fmt: skip
    return rows


@friendly
def trace(
    message_id: Annotated[
        str, typer.Argument(help="A hub message id (from an ack or nack), or a partner's own.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per step.")] = False,
) -> None:
    """The path of one message: published, ingested (or dead-lettered), each routing act and
    each delivery, with times.

    Reads ketenhub.canonical, ketenhub.dlq and ketenhub.audit, then the inboxes of the
    partners involved, for records with the message's kh-message-id header. Shows codes,
    partner ids and pseudonyms only, never message content.
    """
    settings = Settings()
    names = TopicNames(settings.topic_prefix)
    kafka = resolve_kafka(settings)
    partners = [p.id for p in load_registry(settings).partners]

    async def collect() -> list[tuple[str, str, list[dict[str, str]]]]:
        traces = []
        for hub_id in await resolve_message_ids(kafka, names, message_id):
            found = await trace_message(kafka, names, partners, hub_id)
            traces.append((found.message_id, found.trace_id, [s.as_json() for s in found.steps]))
        return traces

    traces = run_async(collect())
    if as_json:
        json_lines([{"message_id": hub_id, "trace_id": trace_id, **step}
                    for hub_id, trace_id, steps in traces for step in steps])  # fmt: skip
        return
    for hub_id, _, steps in traces:
        if not steps:
            raise LookupError(
                f"no record of hub message {hub_id} on {names.canonical}, {names.dlq}, "
                f"{names.audit} or an inbox"
            )
    rows = [
        {**step, "at": step["at"].replace("T", " "), "message_id": hub_id}
        for hub_id, _, steps in traces
        for step in steps
    ]
    title = "; ".join(
        f"hub message {hub_id} (trace id {trace_id})" for hub_id, trace_id, _ in traces
    )
    show(Listing(title, TRACE_COLUMNS, rows))


TRACE_COLUMNS = {"at": "time (UTC)", "stage": "stage", "what": "what", "where": "where",
                 "message_id": "hub message id"}  # fmt: skip
