"""``ketenhub run``: the stages in one process, metrics over HTTP, clean shutdown on signals."""

from __future__ import annotations

import asyncio
import faulthandler
import io
import signal
import sys
from collections.abc import MutableMapping
from enum import StrEnum

from confluent_kafka import KafkaException

from hub.context import HubContext
from hub.kafka.backoff import retry_kafka
from hub.kafka.connection import KafkaConnection, abort_open_transaction
from hub.kafka.preflight import start_checks
from hub.stages.households import HouseholdTable
from hub.stages.ingest import IngestStage
from hub.stages.loop import StageLoop
from hub.stages.observe import Observer
from hub.stages.route import RouteStage
from hub.stages.state_restore import restore_states
from observability.logging import get_logger
from observability.metrics import HubMetrics
from routing.state import HouseholdState

log = get_logger(__name__)


class StageChoice(StrEnum):
    ALL = "all"
    INGEST = "ingest"
    ROUTE = "route"


async def run_hub(
    ctx: HubContext, stage: StageChoice, metrics: HubMetrics, stop: asyncio.Event
) -> None:
    """Run the chosen stages until ``stop`` is set; in-flight transactions finish first."""
    names, settings = ctx.names, ctx.settings
    brokers = await retry_kafka(
        lambda: start_checks(ctx.kafka), stop, stage=stage, what="broker-check"
    )  # LoginRefused and BrokerTooOld are no Kafka errors: they stop the hub, with the reason
    if brokers is None:
        log.info("stopped-before-start")
        return
    log.info("brokers-checked", brokers=brokers)
    states: MutableMapping[str, HouseholdState] | None = None
    route_txn = f"{names.prefix}-route-{settings.instance_id}"
    if stage in (StageChoice.ALL, StageChoice.ROUTE):
        # A broker that is not up yet is waited for (log line kafka-unavailable), not a crash.
        states = await retry_kafka(
            lambda: _restore_after(ctx.kafka, route_txn, names.state),
            stop, stage="route", what="restore",
        )  # fmt: skip
        if states is None:
            log.info("stopped-before-start")
            return
        log.info("state-restored", households=len(states))
    loops: list[StageLoop] = []
    background: list[asyncio.Task[None]] = []
    if stage in (StageChoice.ALL, StageChoice.INGEST):
        households = HouseholdTable()
        follow = retry_kafka(  # a broker that is not up yet is waited for here too
            lambda: households.follow(ctx.kafka, names.households, stop),
            stop, stage="ingest", what="households",
        )  # fmt: skip
        background.append(asyncio.create_task(follow))
        await _until_ready(households.ready, stop, background[-1])
        ingest = IngestStage(ctx, metrics, households=households)
        loops.append(
            StageLoop(
                ingest, kafka=ctx.kafka, group_id=f"{names.prefix}-ingest",
                transactional_id=f"{names.prefix}-ingest-{settings.instance_id}",
                dlq_topic=names.dlq, metrics=metrics, pattern=ingest.pattern,
                linger_s=settings.batch_linger_ms / 1000,
            )
        )  # fmt: skip
    if states is not None:
        route = RouteStage(ctx, metrics, states)
        loops.append(
            StageLoop(
                route, kafka=ctx.kafka, group_id=f"{names.prefix}-route",
                transactional_id=route_txn,
                dlq_topic=names.dlq, metrics=metrics, topics=route.topics,
                linger_s=settings.batch_linger_ms / 1000,
            )
        )  # fmt: skip
    metrics.precreate([loop.stage.name for loop in loops], [p.id for p in ctx.registry.partners])
    partner_kinds = [(p.id, p.kind) for p in ctx.registry.partners]
    metrics.precreate_flows([loop.stage.name for loop in loops], partner_kinds, ctx.policy.flows)
    if states is not None:
        metrics.router_households.set_function(lambda: len(route.states))
    observer = Observer(loops, metrics, ctx.kafka, names.dlq)
    background.append(asyncio.create_task(observer.run(stop)))
    tasks = [asyncio.create_task(loop.run(stop), name=loop.stage.name) for loop in loops]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                stop.set()
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.gather(*tasks, *background, return_exceptions=True)


ABORT_WAIT_S = 30.0
"""How long a start waits for its own dead transaction to be aborted (a transaction
coordinator not available yet is asked again until then)."""


async def _restore_after(
    kafka: KafkaConnection, transactional_id: str, topic: str
) -> MutableMapping[str, HouseholdState]:
    """Router state, read after this instance's own last transaction is settled.

    A hub that was killed mid-batch left that batch's transaction open on the state topic
    until the broker times it out (a minute), and a restore waits for it only a while
    (``OPEN_TRANSACTION_WAIT_S``). Starting a producer with the same transactional id aborts
    it at once, so the restore reads everything committed, without the wait.
    """
    try:
        await asyncio.wait_for(
            abort_open_transaction(kafka, transactional_id, ABORT_WAIT_S), ABORT_WAIT_S + 5
        )  # the outer bound: a librdkafka call that overstays its own timeout
    except (TimeoutError, KafkaException) as exc:  # only saves a wait: the restore goes on
        log.warning("own-transaction-not-aborted", error_type=type(exc).__name__)
    return await restore_states(kafka, topic)


async def _until_ready(ready: asyncio.Event, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    """Wait for a table to load; a failure of its task surfaces here, not silently later."""
    while not ready.is_set() and not stop.is_set():
        if task.done():
            task.result()
        await asyncio.sleep(0.05)


def install_signal_handlers(stop: asyncio.Event) -> None:
    """SIGTERM and Ctrl-C ask the loops to stop after their current transaction; SIGUSR1
    writes where every task waits to stderr (``kill -USR1 <pid>``: a hub that looks stuck)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)


def dump_tasks() -> None:
    """Every asyncio task's and thread's stack (the stages' Kafka clients block on threads of
    their own), as plain text on stderr (code locations, no data)."""
    faulthandler.dump_traceback(sys.stderr, all_threads=True)
    out = io.StringIO()
    for task in asyncio.all_tasks():
        out.write(f"--- task {task.get_name()}\n")
        task.print_stack(limit=12, file=out)
    sys.stderr.write(out.getvalue())
    sys.stderr.flush()
