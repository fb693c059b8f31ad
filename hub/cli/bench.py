"""``ketenhub bench``: throughput and latency of the hub against raw Kafka, or state restore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hub.cli.support import USER_ERRORS, err, json_lines, say_error, user_error
from hub.context import broker_for_command
from hub.settings import Settings
from hub.tools.bench import (
    WARMUP_MSGS_PER_S,
    WARMUP_SECONDS,
    BenchError,
    run_bench,
)
from hub.tools.bench_state import state_bench
from hub.tools.bench_stats import summary_lines, write_report


class RichReporter:
    """A progress bar per phase on stderr, and one line per finished phase."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=True,
        )  # fmt: skip
        self.task: TaskID | None = None

    def phase(self, title: str, total: int) -> None:
        if self.task is None:
            self.progress.start()
        else:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(title, total=total or None)

    def advance(self, done: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done)

    def done(self, line: str) -> None:
        self.progress.console.print(f"[green]✓[/green] {line}", highlight=False)

    def close(self) -> None:
        if self.task is not None:  # a progress that never started would print a blank line
            self.progress.stop()


def bench(
    messages: Annotated[
        int,
        typer.Option(
            min=100,
            help="Messages per drain (pipeline, scale-out, shadow, faststream; the "
            "passthrough copies them 5 times); the latency phases send up to this many each.",
        ),
    ] = 20_000,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the figures as one JSON object on stdout (progress stays on stderr).",
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Write report.md, result.json and a latency plot (latency.png) here."),
    ] = None,
    profile: Annotated[
        bool | None,
        typer.Option(
            help="Also drain the mix through a hub under cProfile (default: with --report)."
        ),
    ] = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split",
            help="Run the hub as two processes (`run --stage ingest` and `run --stage route`), "
            "as a deployment that scales the stages apart would; default: one process.",
        ),
    ] = False,
    warmup: Annotated[
        float,
        typer.Option(
            min=0,
            help=f"Seconds of steady traffic ({WARMUP_MSGS_PER_S:.0f} msg/s) through a hub "
            "before anything is measured, so that a freshly started broker's JVM has compiled "
            "its hot code; 0 measures from a cold start.",
        ),
    ] = WARMUP_SECONDS,
    state: Annotated[
        bool, typer.Option("--state", help="Benchmark router state restore instead.")
    ] = False,
    households: Annotated[int, typer.Option(min=1, help="Households for --state.")] = 1_000_000,
) -> None:
    """Measure the hub like with like, in one run on one broker, and print the figures.

    Uses KETENHUB_BOOTSTRAP or the local Kafka (started when none runs), with topics of its
    own (a unique prefix, deleted afterwards). The phases, in order:

    \b
    warm-up      --warmup seconds of steady traffic through a hub, not measured
    passthrough  a 1:1 copy between two topics (confluent-kafka): Kafka's raw ceiling
    pipeline     `hub run` (ingest + route, exactly-once) drains --messages of the mix;
                 the records it wrote are then counted per topic
    latency      p50/p95/p99 from a partner's publish to the committed delivery, at 30
                 and 300 msg/s offered, at half the drain maximum and at 5 msg/s
    scale-out    two `hub run` processes in one consumer group drain --messages more
    shadow       the pipeline's counted I/O (same topics, partitions, sizes, fan-out) in
                 two transactional hops with no processing: this design's Kafka ceiling
    faststream   the same stage handlers under faststream subscribers, at-least-once
    in-process   both handlers in one thread, no Kafka: CPU per message by phase

    Progress goes to stderr; the figures to stdout (--json: one object). With the defaults
    a run takes about four minutes on a quiet 2-core machine. With --state: restore time and
    memory for N households.
    """
    # Progress on stderr with --json too: a run takes minutes, and stdout stays the JSON's.
    reporter = RichReporter(err)
    try:
        settings = Settings()
        if state:
            with broker_for_command(settings, lambda line: err.print(line, highlight=False)):
                result = asyncio.run(state_bench(settings, households, reporter))
            figures = result.to_json()
            reporter.close()
            if as_json:
                json_lines([figures])
            else:
                for name, value in figures.items():
                    typer.echo(f"{name:28} {value}")
            return
        with broker_for_command(settings, lambda line: err.print(line, highlight=False)):
            outcome = run_bench(
                settings, messages=messages, reporter=reporter, report=report,
                profile=report is not None if profile is None else profile, split=split,
                warmup_s=warmup,
            )  # fmt: skip
        reporter.close()
        if report is not None:
            written = write_report(outcome, report)
            err.print("wrote " + ", ".join(str(p) for p in written), highlight=False)
        if as_json:
            json_lines([outcome.to_json()])
        else:
            for line in summary_lines(outcome):
                typer.echo(line)
            for note in outcome.notes:
                typer.echo(f"note: {note}")
    except (*USER_ERRORS, BenchError) as exc:
        say_error(user_error(exc))
        raise typer.Exit(2) from None
    finally:
        reporter.close()
