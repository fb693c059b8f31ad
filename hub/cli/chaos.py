"""``ketenhub chaos``: lost and duplicated deliveries under kills, restarts and rebalances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from hub.cli.support import Listing, err, friendly, show
from hub.context import broker_for_command, load_registry, local_kafka, resolve_kafka
from hub.settings import Settings
from hub.tools.chaos import SCENARIOS, ScenarioResult, run_scenario


@friendly
def chaos(
    messages: Annotated[int, typer.Option(help="Referrals per scenario.")] = 2000,
    rate: Annotated[float, typer.Option(help="Messages per second offered.")] = 400.0,
    scenario: Annotated[
        list[str] | None, typer.Option(help=f"Only these scenarios ({', '.join(SCENARIOS)}).")
    ] = None,
    as_json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object per scenario.")
    ] = False,
    logs: Annotated[
        Path | None,
        typer.Option(
            help="Keep the hub processes' logs and the simulated partners' client log "
            "(partners.log) here (default: a temporary directory, and no partner log)."
        ),
    ] = None,
) -> None:
    """Drive referrals through the hub while killing it, restarting the broker and rebalancing.

    Each scenario runs on its own topic prefix with its own hub process(es), then counts from
    the providers' inboxes how many referrals were lost and how many delivered twice. Needs
    the local Kafka for the broker restart (`ketenhub kafka start`); against a cluster set by
    KETENHUB_BOOTSTRAP that scenario runs without the restart and says so.
    """
    settings = Settings()
    chosen = scenario or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise typer.BadParameter(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    with broker_for_command(settings, lambda line: err.print(line, highlight=False)):
        results = _run(settings, chosen, messages, rate, as_json_output, logs)
    _print(results, as_json_output)


def _run(
    settings: Settings, chosen: list[str], messages: int, rate: float, quiet: bool,
    logs: Path | None,
) -> list[ScenarioResult]:  # fmt: skip
    broker = None if settings.bootstrap else local_kafka(settings)
    kafka = resolve_kafka(settings)
    registry = load_registry(settings)
    results: list[ScenarioResult] = []
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ketenhub-chaos-") as scratch, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=err, disable=quiet,
    ) as progress, partner_client_logs(logs):  # fmt: skip
        tasks: dict[str, TaskID] = {s: progress.add_task(s, total=messages) for s in chosen}
        for name in chosen:
            results.append(
                asyncio.run(
                    run_scenario(
                        name, kafka=kafka, broker=broker, settings=settings, registry=registry,
                        messages=messages, rate=rate, workdir=logs or Path(scratch),
                        progress=lambda s, n: progress.update(tasks[s], completed=n),
                    )
                )
            )  # fmt: skip
    return results


@contextlib.contextmanager
def partner_client_logs(logs: Path | None) -> Iterator[None]:
    """The simulated partners' aiokafka lines go to ``partners.log`` under ``--logs``, or
    nowhere: while the broker is down on purpose their client logs each failed reconnect
    (65,000 lines in one 20,000-message run), and what those failures cost is counted
    instead (``partner resends``)."""
    library = logging.getLogger("aiokafka")
    saved = (library.handlers, library.propagate)
    handler: logging.Handler = (
        logging.FileHandler(logs / "partners.log") if logs else logging.NullHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    library.handlers, library.propagate = [handler], False
    try:
        yield
    finally:
        library.handlers, library.propagate = saved
        handler.close()


def _print(results: list[ScenarioResult], as_json_output: bool) -> None:
    """The figures; exit 1 when anything was lost or delivered twice."""
    rows = [
        {**asdict(r), "recoveries": ", ".join(f"{k} {v}" for k, v in r.recoveries.items() if v)
         or "-"}
        for r in results
    ]  # fmt: skip
    title = "chaos: every referral counted in the providers' inboxes"
    show(Listing(title, CHAOS_COLUMNS, rows, [asdict(r) for r in results]), as_json=as_json_output)
    if any(r.lost or r.duplicated for r in results):
        raise typer.Exit(1)


CHAOS_COLUMNS = {
    "scenario": "scenario", "sent": "sent", "delivered": "delivered", "lost": "lost",
    "duplicated": "duplicated", "seconds": "seconds", "msgs_per_s": "msg/s",
    "resent": "partner resends", "recoveries": "hub self-repairs", "note": "note",
}  # fmt: skip
