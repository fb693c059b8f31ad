"""The ``ketenhub`` command line: run the hub, manage local Kafka, act as a partner."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.base import AdapterError, DecodeContext
from adapters.registry import load_adapters
from hub.app import StageChoice, install_signal_handlers, run_hub
from hub.cli.adapters import adapters_app
from hub.cli.audit import audit, trace
from hub.cli.bench import bench
from hub.cli.chaos import chaos
from hub.cli.check import check
from hub.cli.dlq import dlq_app
from hub.cli.docs import docs_app
from hub.cli.keys import keys_app
from hub.cli.partners import partners_app
from hub.cli.policy import policy_app
from hub.cli.report import report_app
from hub.cli.state import state_app
from hub.cli.support import (
    USER_ERRORS,
    Listing,
    console,
    err,
    friendly,
    json_lines,
    run_async,
    show,
    user_error,
)
from hub.context import (
    ConfigError,
    broker_disagreement,
    load_context,
    load_registry,
    local_kafka,
    require_partner,
    resolve_kafka,
)
from hub.heap import keep_heap_frozen, limit_malloc_arenas, settle_heap
from hub.kafka.topics import TopicNames, create_topics, list_topics, topic_specs
from hub.partner_client import client_for
from hub.sdk import Delivery, DeliveryKind, MessageTooLarge, Nack, PartnerClient, Sent
from hub.settings import Settings
from observability.logging import configure_logging, get_logger
from observability.metrics import HubMetrics

log = get_logger(__name__)
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]

app = typer.Typer(
    help="ketenhub: a Kafka integration hub for the Dutch youth-care and social-domain chain.\n\n"
    "Partners publish native messages on ketenhub.partner.<id>.out; the hub translates them to "
    "FHIR, decides who may receive what, and delivers on ketenhub.partner.<id>.in.\n\n"
    "Every setting is an environment variable KETENHUB_<NAME> (see the README); without "
    "KETENHUB_BOOTSTRAP the commands use the project's own local Kafka.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="The project's own single-node Apache Kafka (no Docker).",
                        no_args_is_help=True)  # fmt: skip
topics_app = typer.Typer(help="Create and list the hub's topics.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(adapters_app, name="adapters")
app.add_typer(dlq_app, name="dlq")
app.add_typer(docs_app, name="docs")
app.command()(bench)
app.command()(check)
app.add_typer(policy_app, name="policy")
app.command("chaos")(chaos)
app.add_typer(state_app, name="state")
app.add_typer(keys_app, name="keys")
app.add_typer(report_app, name="report")
app.add_typer(partners_app, name="partners")
app.command()(audit)
app.command()(trace)


def _version(wanted: bool) -> None:
    if wanted:
        try:
            number = version("ketenhub")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        console.print(f"ketenhub {number}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """The options every command shares."""


@kafka_app.command("fetch")
@friendly
def kafka_fetch() -> None:
    """Download the Kafka jars from Maven Central into the local cache (once)."""
    kafka = local_kafka(Settings())
    if kafka.distribution.is_fetched():
        console.print(
            f"Kafka {kafka.distribution.version} jars already in {kafka.distribution.libs}"
        )
    kafka.distribution.fetch(console.print)


@kafka_app.command("start")
@friendly
def kafka_start(
    auth: Annotated[
        bool | None,
        typer.Option(
            "--auth/--no-auth",
            help="SASL/SCRAM-SHA-512 and ACLs (default: as first formatted; else without).",
        ),
    ] = None,
) -> None:
    """Start local Kafka on 127.0.0.1:$KETENHUB_KAFKA_PORT (default 19092); idempotent.

    Fetches the jars first if needed, formats KRaft storage on first start, and returns once
    the broker answers. With --auth every client must log in (SASL_PLAINTEXT, SCRAM-SHA-512)
    and may do only what an ACL allows; the admin's password is written to
    $KETENHUB_SECRETS_DIR/kafka/ketenhub-admin.password. Then run `ketenhub partners
    provision` to create the hub's and the partners' users and ACLs.
    """
    local_kafka(Settings(), auth=auth).start(console.print)


@kafka_app.command("stop")
@friendly
def kafka_stop() -> None:
    """Stop local Kafka (SIGTERM, then SIGKILL after 30 s). Data is kept for the next start."""
    local_kafka(Settings()).stop(console.print)


@kafka_app.command("status")
@friendly
def kafka_status(as_json: JsonOpt = False) -> None:
    """Say whether local Kafka runs, where, and where its log and data are. Exit 1 if down.

    Port and pid are those this checkout's broker recorded at its start; when the settings
    point elsewhere (KETENHUB_KAFKA_PORT, KETENHUB_BOOTSTRAP), a warning says so.
    """
    settings = Settings()
    status = local_kafka(settings).status()
    if as_json:
        json_lines([{"running": status.running, "bootstrap": status.bootstrap,
                     "pid": status.pid, "auth": status.auth, "log": str(status.log),
                     "data": str(status.data)}])  # fmt: skip
    else:
        state = "[green]running[/green]" if status.running else "[yellow]not running[/yellow]"
        security = "SASL/SCRAM + ACLs" if status.auth else "no authentication"
        console.print(
            f"Kafka {state} at {status.bootstrap} (pid {status.pid or '-'}), {security}",
            highlight=False,
        )
        console.print(f"log:  {status.log}\ndata: {status.data}", highlight=False)
    disagreement = broker_disagreement(settings)
    if disagreement is not None:
        err.print(f"[yellow]warning:[/yellow] {disagreement}", highlight=False, markup=True)
    if not status.running:
        raise typer.Exit(1)


@topics_app.command("create")
@friendly
def topics_create() -> None:
    """Create every topic of the design that does not exist yet (idempotent).

    Partitions come from KETENHUB_PARTITIONS, replication from KETENHUB_REPLICATION_FACTOR;
    ketenhub.state and ketenhub.households are compacted, audit and DLQ are kept forever.
    """
    settings = Settings()
    specs = topic_specs(TopicNames(settings.topic_prefix), load_registry(settings), settings)
    created = run_async(create_topics(resolve_kafka(settings), specs, settings.replication_factor))
    new = [name for name, made in created.items() if made]
    console.print(f"{len(new)} topics created, {len(created) - len(new)} already existed.")
    for name in new:
        console.print(f"  + {name}")


@topics_app.command("list")
@friendly
def topics_list(as_json: JsonOpt = False) -> None:
    """List the topics on the cluster."""
    names = run_async(list_topics(resolve_kafka(Settings())))
    show(Listing("topics", {"topic": "topic"}, [{"topic": n} for n in names]), as_json=as_json)


@app.command()
@friendly
def run(
    stage: Annotated[
        StageChoice, typer.Option(help="Run both stages, or only one to scale them apart.")
    ] = StageChoice.ALL,
    metrics_port: Annotated[
        int | None, typer.Option(help="Port for /metrics (default KETENHUB_METRICS_PORT; 0 = off).")
    ] = None,
    log_format: Annotated[str, typer.Option(help="json or console")] = "json",
    log_level: Annotated[
        str,
        typer.Option(
            envvar="KETENHUB_LOG_LEVEL",
            help="DEBUG logs one line per message and stage (with its trace id).",
        ),
    ] = "INFO",
) -> None:
    """Run the hub: ingest (partner outboxes -> canonical FHIR) and route (-> partner inboxes).

    Stops cleanly on SIGTERM or Ctrl-C: the batch in flight commits or aborts as a whole.
    """
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"unknown log level {log_level!r}; one of DEBUG, INFO, WARNING, ERROR")
    if log_format not in ("json", "console"):
        raise ConfigError(f"unknown log format {log_format!r}; json or console")
    configure_logging(level=log_level.upper(), json=log_format == "json")
    try:
        _run_hub(stage, metrics_port)
    except USER_ERRORS as exc:
        if log_format != "json":
            raise
        # Every line of a hub's log is JSON, its last words too.
        log.error("hub-failed", error=user_error(exc))
        raise typer.Exit(2) from None


def _run_hub(stage: StageChoice, metrics_port: int | None) -> None:
    settings = Settings()
    ctx = load_context(settings)
    metrics = HubMetrics()
    limit_malloc_arenas()  # before the metrics server's and the Kafka clients' threads
    settle_heap()
    thaw = keep_heap_frozen()
    port = settings.metrics_port if metrics_port is None else metrics_port
    metrics.serve(port, settings.metrics_host)
    if port:
        log.info("metrics-serving", url=f"http://{settings.metrics_host}:{port}/metrics")

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_hub(ctx, stage, metrics, stop)

    try:
        run_async(main())
    finally:
        thaw()  # a hub run in a longer-lived process (a test) leaves its collector as it was


@app.command()
@friendly
def send(
    files: Annotated[list[Path], typer.Argument(help="Native message files to publish.")],
    as_partner: Annotated[str, typer.Option("--as", help="Partner id to publish as.")],
    wait: Annotated[
        float,
        typer.Option(help="Wait this many seconds for the hub's ack or nack of each (0: no)."),
    ] = 0.0,
) -> None:
    """Publish native message files on a partner's outbox, as that partner would.

    Prints where each landed (topic, partition, offset): every ack and nack names that
    record as its source. On an authenticated cluster this logs in as the partner's own
    Kafka user.
    """
    settings = Settings()
    require_partner(load_registry(settings), as_partner)
    payloads = [_readable(file, settings.max_payload_bytes) for file in files]
    client = client_for(settings, as_partner)

    async def main() -> list[dict[str, Any]]:
        async with client:
            sent = [await client.send(payload) for payload in payloads]
            rows: list[dict[str, Any]] = [
                {"file": str(file), "topic": one.topic, "partition": one.partition,
                 "offset": one.offset, "message_id": one.message_id}
                for file, one in zip(files, sent, strict=True)
            ]  # fmt: skip
            if wait > 0:
                for row, one in zip(rows, sent, strict=True):
                    row["answer"] = await _answer_line(client, one, wait)
            return rows

    rows = run_async(main())
    columns = SENT_COLUMNS | ({"answer": "answer"} if wait > 0 else {})
    show(Listing(f"sent as {as_partner}", columns, rows))


def _readable(file: Path, limit: int) -> bytes:
    """The file's bytes, or one line saying why the hub would not take them."""
    try:
        payload = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    if len(payload) > limit:
        too_large = MessageTooLarge(len(payload), limit, what=str(file))
        raise ConfigError(f"{too_large} (KETENHUB_MAX_PAYLOAD_BYTES); nothing was sent")
    return payload


async def _answer_line(client: PartnerClient, sent: Sent, wait: float) -> str:
    try:
        answer = await client.answer(sent, timeout=wait)
    except TimeoutError:
        return f"no answer within {wait:g} s (is the hub running?)"
    if isinstance(answer, Nack):
        return f"nack {answer.reason_code.value}: {answer.reason}"
    return "ack, delivered to " + (", ".join(answer.delivered_to) or "nobody")


@app.command()
@friendly
def inbox(
    partner: Annotated[str, typer.Argument(help="Partner id whose inbox to read.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Stop after this many seconds without a new message.")
    ] = 2.0,
) -> None:
    """Print what the hub delivered to a partner (its .in topic), oldest first.

    On an authenticated cluster this logs in as the partner's own Kafka user.
    """
    settings = Settings()
    require_partner(load_registry(settings), partner)
    client = client_for(settings, partner, from_beginning=True)
    messages = run_async(_read_inbox(client, timeout))
    rows = [
        {"position": f"{m.partition}:{m.offset}", "kind": m.kind.value if m.kind else "?",
         "message_id": m.hub_message_id, "summary": _summary(m.value)}
        for m in messages
    ]  # fmt: skip
    records = [
        {"offset": m.offset, "partition": m.partition, "kind": m.kind.value if m.kind else "?",
         "message_id": m.hub_message_id, "body": m.body()}
        for m in messages
    ]  # fmt: skip
    title = f"inbox of {partner}: {len(messages)} message(s); --json for bodies"
    show(Listing(title, INBOX_COLUMNS, rows, records), as_json=as_json)


SENT_COLUMNS = {"file": "file", "topic": "topic", "partition": "partition", "offset": "offset"}
INBOX_COLUMNS = {"position": "partition:offset", "kind": "kind",
                 "message_id": "hub message id", "summary": "summary"}  # fmt: skip


async def _read_inbox(client: PartnerClient, idle_s: float) -> list[Delivery]:
    """Everything on the inbox, oldest first, once nothing new came for ``idle_s``."""
    messages: list[Delivery] = []
    loop = asyncio.get_running_loop()
    last_news = loop.time()

    async def collect(delivery: Delivery) -> None:
        nonlocal last_news
        messages.append(delivery)
        last_news = loop.time()

    for kind in DeliveryKind:
        client.on(kind)(collect)
    async with client:
        last_news = loop.time()
        while loop.time() - last_news < idle_s:
            await asyncio.sleep(0.05)
    return sorted(messages, key=lambda m: (m.timestamp_ms, m.partition, m.offset))


SUMMARY_FIELDS = (
    "type", "referral_id", "in_response_to", "reason_code", "care_category", "source",
)  # fmt: skip


def _summary(value: bytes) -> str:
    """The routing facts of a message, never its personal data: the table is for a glance."""
    try:
        body = json.loads(value)
    except ValueError:
        return f"<{len(value)} bytes, not JSON>"
    if not isinstance(body, dict):
        return "<JSON, not an object>"
    return " ".join(f"{k}={_short(body[k])}" for k in SUMMARY_FIELDS if body.get(k) is not None)


def _short(value: Any) -> str:
    """An outbox reference as ``topic:partition:offset``, anything else as it is."""
    if isinstance(value, dict) and {"topic", "partition", "offset"} <= set(value):
        return f"{value['topic']}:{value['partition']}:{value['offset']}"
    return str(value)


@app.command()
@friendly
def validate(
    file: Annotated[Path, typer.Argument(help="A native message file.")],
    as_partner: Annotated[str, typer.Option("--as", help="Partner id whose format it is in.")],
) -> None:
    """Decode a native message as that partner would send it, without Kafka.

    Prints the canonical FHIR Bundle (exit 0), or the reason code and message the partner
    would get in its nack (exit 1).
    """
    settings = Settings()
    registry = load_registry(settings)
    partner = require_partner(registry, as_partner)
    try:
        payload = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    adapter = load_adapters().get(partner.adapter_name)
    context = DecodeContext(partner, registry, str(uuid.uuid4()), datetime.now(UTC))
    try:
        decoded = adapter.decode(payload, context)
    except AdapterError as error:
        err.print(f"[red]{error.code.value}[/red]: {error.message}", highlight=False)
        raise typer.Exit(1) from None
    indent = 2 if console.is_terminal else None  # a pipe gets one object on one line
    sys.stdout.write(json.dumps(decoded.bundle, indent=indent, ensure_ascii=False) + "\n")


@app.command()
@friendly
def demo(
    rate: Annotated[float, typer.Option(help="Messages per second from all GPs together.")] = 5.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    bad_share: Annotated[
        float, typer.Option(help="Share of deliberately bad messages (0..1).")
    ] = 0.08,
) -> None:
    """Run everything locally with simulated partners and a live traffic table.

    Starts local Kafka (unless KETENHUB_BOOTSTRAP is set), creates the topics, starts the hub
    as a child process, lets the GP practices send a steady mix of referrals (some bad on
    purpose) and shows per partner what was sent and delivered. Ctrl-C stops what it started.
    """
    from hub.tools.demo import run_demo

    raise typer.Exit(
        run_demo(Settings(), rate=rate, duration=duration, bad_share=bad_share, console=console)
    )
