"""``ketenhub keys``: rotate the pseudonym key, see how far households have moved, retire
the previous key. The design is in docs/key-rotation.md."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from hub.cli.support import Listing, err, friendly, run_async, say_error, show, show_fields
from hub.context import ConfigError, keyring, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.keyring import KeyRing, retire, rotate
from hub.ops.key_census import VersionCount, census, read_household_table, stranded
from hub.secret_store import SecretError
from hub.settings import Settings
from hub.stages.state_restore import restore_states
from observability.logging import configure_logging

keys_app = typer.Typer(
    help="The pseudonym key: rotate it, follow the households moving to the new one, retire "
    "the old one.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
COLUMNS = {
    "version": "key", "role": "role", "households": "households", "with_regie": "with regie",
    "with_consents": "with consents", "moved": "forward pointers", "children": "children",
}  # fmt: skip


def _census(settings: Settings, ring: KeyRing) -> list[VersionCount]:
    configure_logging("WARNING", json=False)  # the hub's own readers' progress: not data
    kafka, names = resolve_kafka(settings), TopicNames(settings.topic_prefix)
    states = run_async(restore_states(kafka, names.state))
    members = run_async(read_household_table(kafka, names.households))
    return census(ring, states, members)


@keys_app.command("rotate")
@friendly
def rotate_command(as_json: JsonOpt = False) -> None:
    """Make a new pseudonym key current; the current one stays readable as the previous.

    Writes the new key to $KETENHUB_SECRETS_DIR/pseudonym/v<N>.key (mode 0600). Restart
    every hub instance to use it: from then on a household on the previous key moves to its
    new pseudonym the next time a message names one of its children, with its regie,
    consents and memory of recent messages. Refused while a previous key is still readable
    (retire it first): no household is ever more than one key behind.
    """
    settings = Settings()
    try:
        ring = rotate(settings)
    except SecretError as exc:
        raise ConfigError(str(exc)) from None
    assert ring.previous is not None
    versions = [("current", ring.current.version), ("previous", ring.previous.version)]
    show_fields("pseudonym keys", versions, as_json=as_json)
    err.print(
        f"key version {ring.current.version} is current, {ring.previous.version} stays "
        "readable. Restart every hub instance to use it; `ketenhub keys status` shows the "
        f"households still on version {ring.previous.version}.",
        highlight=False,
    )


@keys_app.command("status")
@friendly
def status(as_json: JsonOpt = False) -> None:
    """How many households, forward pointers and household-table rows each key names.

    Reads ketenhub.state and ketenhub.households as a restarted hub would. Households on
    the previous key move on their next message; the ones that never get one are what
    `ketenhub keys retire` would strand.
    """
    settings = Settings()
    ring = keyring(settings)
    counts = _census(settings, ring)
    rows = [asdict(c) for c in counts]
    show(Listing("pseudonym keys", COLUMNS, rows), as_json=as_json)
    if ring.previous is not None and not as_json:
        left = stranded(counts, ring.previous.version).households
        err.print(f"{left} household(s) still on key version {ring.previous.version}.",
                  highlight=False)  # fmt: skip


@keys_app.command("retire")
@friendly
def retire_command(
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Retire without asking (cron, scripts).")
    ] = False,
) -> None:
    """Remove the previous pseudonym key for good, after saying what would be lost.

    The households still on it (`ketenhub keys status`) cannot be found by their children's
    BSNs any more: their regie, consents, signals and referrals stay in ketenhub.state but
    no message will reach them; a new message about one of those children starts afresh.
    Asks for confirmation; without a terminal, --yes is required. Exit 0 when retired, 1
    when not confirmed. Restart the hub instances afterwards.
    """
    settings = Settings()
    ring = keyring(settings)
    if ring.previous is None:
        raise ConfigError(f"only key version {ring.current.version} is readable: nothing to retire")
    old = ring.previous.version
    left = stranded(_census(settings, ring), old)
    loss = (
        f"{left.households} household(s) still on key version {old} would lose their state "
        f"({left.with_regie} with a regisseur, {left.with_consents} with consents); "
        f"{left.children} household-table row(s) and {left.moved} forward pointer(s) on it "
        "would be dead"
    )
    err.print(loss, highlight=False)
    if not yes:
        if not sys.stdin.isatty():
            err.print(f"not retired: pass --yes to retire key version {old} anyway")
            raise typer.Exit(1)
        if not typer.confirm(f"Retire key version {old}?"):
            err.print("not retired.")
            raise typer.Exit(1)
    retired = retire(settings)
    show_fields("pseudonym keys", [("retired", retired)])
    err.print(f"key version {retired} is retired; restart every hub instance.", highlight=False)


@keys_app.command("cost")
@friendly
def cost(
    households: Annotated[
        int, typer.Option(min=10, max=100_000, help="Households to build and move.")
    ] = 500,
    as_json: JsonOpt = False,
) -> None:
    """What moving one household to the new key costs: extra µs and records, no Kafka.

    Builds the households under one key in this process (a regisseur, a consent), rotates,
    and sends each a referral twice: the first moves it, the second is an ordinary message
    on the new key. Prints the difference per household. Needs no broker and no secret.
    """
    from hub.tools.rekey_cost import MeasureFailed, measure  # the stages: only when asked

    configure_logging("WARNING", json=False)
    try:
        measured = measure(households)
    except MeasureFailed as exc:
        say_error(f"error: no figures, the migration itself failed: {exc}")
        raise typer.Exit(1) from None
    show_fields("key rotation: cost per migrated household", measured.figures(),
                record=measured.record(), as_json=as_json)  # fmt: skip
