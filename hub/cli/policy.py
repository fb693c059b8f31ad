"""``ketenhub policy``: check the policy file and explain it in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.support import console, friendly
from hub.context import load_policy
from hub.settings import Settings
from routing.explain import explain, household_summary, summary
from routing.policy import Policy
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind

policy_app = typer.Typer(
    help="The routing policy: legal bases per flow, consent age rules, minimisation.",
    no_args_is_help=True,
)


def _policy(file: Path | None) -> Policy:
    settings = Settings() if file is None else Settings(policy_file=file)
    return load_policy(settings)


@policy_app.command("check")
@friendly
def check(
    file: Annotated[
        Path | None, typer.Argument(help="Policy file (default: KETENHUB_POLICY_FILE).")
    ] = None,
) -> None:
    """Validate the policy file and list its flows; exit 2 with the problem if it is invalid."""
    policy = _policy(file)
    for line in [*summary(policy), *household_summary(policy)]:
        console.print(line, highlight=False)
    console.print(
        f"policy OK: {len(policy.flows)} flows, {len(policy.notices)} notices, "
        f"{len(policy.consent_rules)} consent age rules, "
        f"{len(policy.minimisation)} minimisation profiles, "
        f"{len(policy.household_rules)} household merge/split rules",
        highlight=False,
    )


@policy_app.command("explain")
@friendly
def explain_command(
    event: Annotated[MessageEvent, typer.Argument(help="Message event, e.g. referral.")],
    sender: Annotated[PartnerKind, typer.Argument(help="Sender kind, e.g. huisarts.")],
    recipient: Annotated[PartnerKind, typer.Argument(help="Recipient kind, e.g. aanbieder.")],
    file: Annotated[
        Path | None, typer.Option(help="Policy file (default: the configured one).")
    ] = None,
) -> None:
    """Say in plain words what the hub would do with such a message, and why."""
    for line in explain(_policy(file), event, sender, recipient):
        console.print(line, highlight=False)
