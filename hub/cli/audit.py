"""``ketenhub audit`` and ``ketenhub trace``: who received what, on which basis; and the path
of one message through the hub."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.support import console, err, friendly, run_async
from hub.context import ConfigError, load_registry, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.ops.audit_log import (
    AuditQuery,
    read_audit,
    resolve_message_ids,
    trace_message,
)
from hub.settings import Settings
from hub.stages.pseudonyms import Pseudonymiser
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
        child = Pseudonymiser(settings.secret_bytes()).child(bsn.strip())
        query, about = AuditQuery(child=child), f"the child with pseudonym {child}"
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
        for record in result.records:
            sys.stdout.write(record.model_dump_json(by_alias=True) + "\n")
        return
    if not result.records:
        raise LookupError(f"no audit records about {about}")
    console.print(_table(result.records, f"audit: {len(result.records)} record(s) about {about}"))
    if disclosures:
        return
    messages = dict.fromkeys(
        (r.attributes.message_id, r.attributes.partner_message_id) for r in result.records
    )
    console.print("Messages (ketenhub trace HUB_MESSAGE_ID shows each one's path):")
    for hub_id, partner_id in messages:
        console.print(
            f"  {hub_id}  ({partner_id or 'partner message id not recorded'})", highlight=False
        )
    received = Counter(
        (r.attributes.recipient_id, r.attributes.event.value, str(r.attributes.legal_basis))
        for r in result.records
        if r.attributes.action in _RECEIVED and r.attributes.recipient_id and r.attributes.event
    )
    if not received:
        console.print("Nobody received anything.")
        return
    console.print("Received:", highlight=False)
    for (recipient, event, basis), count in sorted(received.items()):
        console.print(f"  {recipient}: {event} x{count}, basis {basis}", highlight=False)


def _table(records: list[LogboekRecord], title: str) -> Table:
    table = Table(title=title)
    for column in ("time (UTC)", "action", "event", "from", "to", "basis / reason"):
        table.add_column(column, overflow="fold")
    for r in records:
        a = r.attributes
        why = a.legal_basis.value if a.legal_basis else ""
        why += a.reason_code.value if a.reason_code else ""
        why += f" ({a.notice})" if a.notice else ""
        why += f"dead letter {a.dlq_ref}" if a.dlq_ref else ""
        table.add_row(
            r.start_time.strftime("%Y-%m-%d %H:%M:%S"),
            a.action.value,
            a.event.value if a.event else "-",
            a.sender_id,
            a.recipient_id or (f"operator {a.operator}" if a.operator else ""),
            why,
        )
    return table


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
        for hub_id, trace_id, steps in traces:
            for step in steps:
                sys.stdout.write(
                    json.dumps({"message_id": hub_id, "trace_id": trace_id, **step}) + "\n"
                )
        return
    for hub_id, trace_id, steps in traces:
        if not steps:
            raise LookupError(
                f"no record of hub message {hub_id} on {names.canonical}, {names.dlq}, "
                f"{names.audit} or an inbox"
            )
        table = Table(title=f"hub message {hub_id} (trace id {trace_id})")
        for column in ("time (UTC)", "stage", "what", "where"):
            table.add_column(column, overflow="fold")
        for step in steps:
            table.add_row(step["at"].replace("T", " "), step["stage"], step["what"], step["where"])
        console.print(table)
