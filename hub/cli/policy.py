"""``ketenhub policy``: check the policy file and explain it in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.support import Listing, console, err, friendly, json_lines, show
from hub.context import load_policy
from hub.settings import Settings
from routing.explain import explain, household_summary
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
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per flow.")] = False,
) -> None:
    """Validate the policy file and list its flows; exit 2 with the problem if it is invalid."""
    policy = _policy(file)
    flows = sorted(policy.flows, key=lambda f: (f.event.value, f.sender.value))
    rows = [f.model_dump(mode="json") for f in flows]
    show(Listing("policy flows", FLOW_COLUMNS, rows), as_json=as_json)
    for line in household_summary(policy):  # the rows are the flows; the rest is told
        err.print(line, highlight=False)
    err.print(
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
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object: the flow and its explanation.")
    ] = False,
) -> None:
    """Say in plain words what the hub would do with such a message, and why."""
    policy = _policy(file)
    lines = explain(policy, event, sender, recipient)
    if as_json:
        flow = policy.flow(event, sender, recipient)
        json_lines([{
            "event": event.value, "sender": sender.value, "recipient": recipient.value,
            "delivered": flow is not None,
            "bases": [b.value for b in flow.bases] if flow else [],
            "purpose": flow.purpose if flow else None,
            "removed": list(policy.minimisation_for(recipient)) if flow else [],
            "explanation": lines,
        }])  # fmt: skip
        return
    for line in lines:
        console.print(line, highlight=False)


FLOW_COLUMNS = {"event": "event", "sender": "sender", "recipient": "recipient",
                "bases": "bases", "purpose": "purpose"}  # fmt: skip
