"""``ketenhub state``: what the router remembers about a household, for ops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer
from rich.json import JSON

from hub.cli.support import console, friendly, is_terminal, json_lines, run_async
from hub.context import ConfigError, keyring, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.settings import Settings
from hub.stages.state_restore import restore_states
from routing.state import HouseholdState
from schemas.bsn import is_valid_bsn

state_app = typer.Typer(help="Router state per household (pseudonyms only).", no_args_is_help=True)


@state_app.command("show")
@friendly
def show(
    household: Annotated[
        str | None, typer.Option(help="Household pseudonym, as in topic keys and audit records.")
    ] = None,
    bsn: Annotated[
        str | None,
        typer.Option(
            help="A child's BSN; pseudonymised here with the hub's key and never sent or shown. "
            "Mind your shell history."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (also what a pipe gets).")
    ] = False,
) -> None:
    """Show the regisseur, consents, signals and recent messages the router keeps for a household.

    Reads the compacted ketenhub.state topic, so it shows what a restarted hub would restore.
    """
    settings = Settings()
    if (household is None) == (bsn is None):
        raise ConfigError("give exactly one of --household or --bsn")
    if bsn is not None and not is_valid_bsn(bsn):
        raise ConfigError("that is not a valid BSN (elfproef)")
    states = run_async(
        restore_states(resolve_kafka(settings), TopicNames(settings.topic_prefix).state)
    )
    if bsn is not None:
        candidates = [key.household_of(bsn) for key in keyring(settings).readable]
        household = next((h for h in candidates if h in states), candidates[0])
        household = _followed(states, household)
    assert household is not None
    state = states.get(household)
    if state is None:
        raise LookupError(f"no router state for household {household}")
    if as_json or not is_terminal():
        json_lines([{"household": household, "state": state.model_dump(mode="json")}])
        return
    console.print(f"household {household}", highlight=False)
    console.print(JSON(state.model_dump_json()))


MAX_HOPS = 16


def _followed(states: Mapping[str, HouseholdState], household: str) -> str:
    """Where a household's state lives now: after a merge or a key rotation its old
    pseudonym holds only a pointer (``merged_into``) to the new one."""
    for _ in range(MAX_HOPS):
        state = states.get(household)
        if state is None or state.merged_into is None:
            return household
        household = state.merged_into
    return household
