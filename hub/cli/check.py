"""``ketenhub check``: is this hub ready to run, and if not, what to fix."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

import typer

from hub.cli.support import Listing, friendly, show
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
    rows = [{**asdict(f), "mark": "ok" if f.ok else "FAIL"} for f in findings]
    columns = {"check": "check", "mark": "status", "detail": "detail"}
    listing = Listing("ketenhub check", columns, rows, [asdict(f) for f in findings],
                      styles={"mark": {"ok": "green", "FAIL": "red"}})  # fmt: skip
    show(listing, as_json=as_json)
    if not all(finding.ok for finding in findings):
        raise typer.Exit(1)
