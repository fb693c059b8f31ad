"""The faststream reference: the hub's own stage handlers, driven as a Python team would.

Two faststream batch subscribers (the partner outboxes, the canonical topic) call
``IngestStage.handle`` and ``RouteStage.handle`` on each record and publish what they return
through the broker; the batch's offsets are committed once its records are acknowledged
(``AckPolicy.ACK``): at-least-once, no transactions, no state restore. It is what the hub
would be on the framework its partner side uses, so the pipeline's price for exactly-once and
its own loop shows against it. ``python -m hub.tools.bench_faststream`` runs it with the
hub's settings (``KETENHUB_TOPIC_PREFIX`` names the topics).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.context import load_context
from hub.settings import Settings
from hub.stages.households import HouseholdTable
from hub.stages.ingest import IngestStage
from hub.stages.loop import MAX_BATCH, BatchAware, Stage
from hub.stages.records import InRecord
from hub.stages.route import RouteStage
from observability.metrics import HubMetrics


def in_record(record: ConsumerRecord[bytes, bytes]) -> InRecord:
    return InRecord(
        topic=record.topic, partition=record.partition, offset=record.offset,
        value=record.value, key=record.key, headers=list(record.headers or ()),
        timestamp_ms=record.timestamp,
    )  # fmt: skip


async def raw_bodies(message: Any) -> Any:
    """The records' bytes as they are: the stages decode them (faststream would parse JSON)."""
    return message.body


def build_app(settings: Settings) -> FastStream:
    """The broker with both subscribers, on the hub's context (partners, policy, adapters)."""
    ctx = load_context(settings)
    metrics = HubMetrics()
    ingest = IngestStage(ctx, metrics, households=HouseholdTable())
    route = RouteStage(ctx, metrics, {})
    # Plaintext: the benchmark runs on loopback. Per-message log lines at DEBUG, unprinted.
    broker = KafkaBroker(ctx.kafka.bootstrap, log_level=logging.DEBUG)
    prefix = ctx.names.prefix

    async def handle(stage: Stage, message: Any) -> None:
        raw = message.raw_message
        records: Sequence[ConsumerRecord[bytes, bytes]] = raw if isinstance(raw, tuple) else (raw,)
        sent: list[asyncio.Future[Any]] = []
        for record in records:
            for out in stage.handle(in_record(record)):
                sent.append(
                    await broker.publish(
                        out.value, out.topic, key=out.key, timestamp_ms=out.timestamp_ms,
                        headers={k: v.decode(errors="replace") for k, v in out.headers},
                        no_confirm=True,
                    )
                )  # fmt: skip
        await asyncio.gather(*sent)
        if isinstance(stage, BatchAware):  # acknowledged: the batch's memory changes hold
            stage.batch_committed()

    @broker.subscriber(
        pattern=ctx.names.partner_out_pattern, group_id=f"{prefix}-ingest", batch=True,
        max_records=MAX_BATCH, auto_offset_reset="earliest", ack_policy=AckPolicy.ACK,
        decoder=raw_bodies,
    )  # fmt: skip
    async def on_outbox(body: list[bytes], message: KafkaMessage) -> None:
        await handle(ingest, message)

    @broker.subscriber(
        ctx.names.canonical, group_id=f"{prefix}-route", batch=True, max_records=MAX_BATCH,
        auto_offset_reset="earliest", ack_policy=AckPolicy.ACK, decoder=raw_bodies,
    )  # fmt: skip
    async def on_canonical(body: list[bytes], message: KafkaMessage) -> None:
        await handle(route, message)

    return FastStream(broker)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(build_app(Settings()).run())


if __name__ == "__main__":
    main()
