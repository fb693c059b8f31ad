"""``ketenhub check``: is this hub ready to run, and if not, what to fix."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.support import console, friendly
from hub.kafka.preflight import check_setup


@friendly
def check(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per check.")] = False,
) -> None:
    """Check the setup before `run`, as the hub's own Kafka user, and say what to fix.

    Checks the configuration (settings, partner registry, policy, adapters, secrets), that
    Kafka answers, that it accepts the hub's login, that every broker speaks the requests
    the hub needs, and that every topic exists with the partitions the settings give. Exit
    0 when all is well, 1 when something is not (each problem on its own line).
    """
    findings = asyncio.run(check_setup())
    if as_json:
        for finding in findings:
            sys.stdout.write(json.dumps(asdict(finding)) + "\n")
    else:
        table = Table("check", "", "detail", box=None, pad_edge=False)
        for finding in findings:
            mark = "[green]ok[/green]" if finding.ok else "[red]FAIL[/red]"
            table.add_row(finding.check, mark, finding.detail)
        console.print(table)
    if not all(finding.ok for finding in findings):
        raise typer.Exit(1)
