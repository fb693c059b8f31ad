"""``ketenhub bench --state``: how fast the router gets its memory back, and what it costs.

Writes N realistic ``HouseholdState`` records (a regisseur, a consent and a signal each, a
few remembered messages) to a compacted state topic of its own, then restores them with
``hub.app.restore_states`` in a fresh child process (``python -m hub.tools.bench restore``), whose
memory is its own: resident memory before and after, peak, and so bytes per household.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from hub.context import resolve_kafka
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames, TopicSpec, create_topics, delete_topics
from hub.settings import Settings
from hub.tools.bench import Reporter, wait_for_topics
from hub.tools.bench_stats import StateResult
from routing.state import ConsentRecord, HouseholdState, Regie, SignalRecord
from schemas.envelope import ConsentParty
from schemas.partners import PartnerKind

CHILD = "@@CHILD@@"
SERIAL = "@@SERIAL@@"


def state_template() -> bytes:
    """One household's state as the router writes it, with placeholders for what varies."""
    since = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    state = HouseholdState(
        recent=(f"wij-zuid/WIJ-ZUID-{SERIAL}", f"huisarts-wijert/HIS-WIJERT-{SERIAL}"),
        area="zuid",
        regie=Regie(
            partner_id="wij-zuid", kind=PartnerKind.WIJ, since=since,
            partner_message_id=f"WIJ-ZUID-{SERIAL}",
        ),
        consents=(
            ConsentRecord(
                consent_id=f"TOE-WIJ-{SERIAL}", child=CHILD,
                given_by=(ConsentParty.PARENT,), purposes=("zorgcoordinatie",),
                recipients=("aanbieder-noorderlicht",), recipient_kinds=(PartnerKind.WIJ,),
                valid_from=date(2026, 3, 2), valid_until=date(2027, 3, 1),
                recorded_by="wij-zuid",
            ),
        ),
        signals=(
            SignalRecord(
                child=CHILD, signaller_id="huisarts-wijert",
                signaller_kind=PartnerKind.HUISARTS, partner_message_id=f"HIS-WIJERT-{SERIAL}",
                at=date(2026, 3, 1), active_until=date(2028, 3, 1),
                visible_until=date(2031, 3, 1),
            ),
        ),
    )  # fmt: skip
    return state.model_dump_json().encode()


def pseudonym(domain: str, index: int) -> str:
    """A stand-in for the hub's 32-hex-digit HMAC pseudonyms."""
    return hashlib.blake2b(f"{domain}:{index}".encode(), digest_size=16).hexdigest()


def state_record(template: bytes, index: int) -> tuple[bytes, bytes]:
    household = pseudonym("household", index)
    value = template.replace(CHILD.encode(), pseudonym("child", index).encode()).replace(
        SERIAL.encode(), f"{index:09d}".encode()
    )
    return household.encode(), value


async def write_states(
    kafka: KafkaConnection, topic: str, households: int, reporter: Reporter
) -> tuple[float, float]:
    """Write the records; returns (seconds, average value size in bytes)."""
    template = state_template()
    producer = kafka.producer(
        acks="all", enable_idempotence=True, linger_ms=50, max_batch_size=1024 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    size = 0
    try:
        pending: list[asyncio.Future[Any]] = []
        for index in range(households):
            key, value = state_record(template, index)
            size += len(value)
            pending.append(await producer.send(topic, key=key, value=value))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
                reporter.advance(index + 1)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started, size / max(households, 1)


async def restore_in_child(settings: Settings, topic: str) -> dict[str, Any]:
    env = {**os.environ, "KETENHUB_BOOTSTRAP": resolve_kafka(settings).bootstrap}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.tools.bench", "restore", topic, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        from hub.tools.bench import BenchError

        raise BenchError(f"restore failed ({process.returncode}):\n{err.decode()[-2000:]}")
    figures: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


async def state_bench(settings: Settings, households: int, reporter: Reporter) -> StateResult:
    kafka = resolve_kafka(settings)
    names = TopicNames(f"bench-{uuid.uuid4().hex[:10]}")
    spec = TopicSpec(names.state, settings.partitions, {"cleanup.policy": "compact"})
    await create_topics(kafka, [spec], settings.replication_factor)
    try:
        await wait_for_topics(kafka, [names.state])
        reporter.phase(f"writing {households:,} household states", households)
        write_s, record_bytes = await write_states(kafka, names.state, households, reporter)
        reporter.done(f"wrote {households:,} household states in {write_s:.1f} s")
        reporter.phase("restoring them in a fresh hub process", 0)
        figures = await restore_in_child(settings, names.state)
        reporter.done(f"restored {figures['restored']:,} households in "
                      f"{figures['restore_s']:.1f} s")  # fmt: skip
    finally:
        await delete_topics(kafka, [names.state])
    return StateResult(
        households=households, record_bytes=record_bytes, write_s=write_s,
        restore_s=figures["restore_s"], rss_before_mb=figures["rss_before_mb"],
        rss_after_mb=figures["rss_after_mb"], peak_rss_mb=figures["peak_rss_mb"],
        restored=figures["restored"],
    )  # fmt: skip
