"""How far a key rotation has got: households, forward pointers and children per key
version, counted from the router state and the household table (pseudonyms only)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from hub.kafka.connection import KafkaConnection
from hub.keyring import KeyRing
from hub.stages.households import HouseholdTable
from hub.stages.pseudonyms import version_of
from routing.state import HouseholdState


@dataclass(frozen=True)
class VersionCount:
    """What one key version still names. ``households`` have state under it (regie,
    consents, signals...: what retiring the key would strand); ``moved`` are the forward
    pointers left behind by households that moved on (or merged); ``children`` are rows of
    the household table."""

    version: int
    role: str
    households: int = 0
    with_regie: int = 0
    with_consents: int = 0
    moved: int = 0
    children: int = 0


def census(
    ring: KeyRing, states: Mapping[str, HouseholdState], members: Mapping[str, str]
) -> list[VersionCount]:
    """One count per readable version (current first), plus any older version still named."""
    roles = {k.version: ("current" if k is ring.current else "previous") for k in ring.readable}
    counts: dict[int, dict[str, int]] = {v: {} for v in roles}
    for household, state in states.items():
        row = counts.setdefault(version_of(household), {})
        if state.merged_into is not None:
            row["moved"] = row.get("moved", 0) + 1
            continue
        row["households"] = row.get("households", 0) + 1
        row["with_regie"] = row.get("with_regie", 0) + (state.regie is not None)
        row["with_consents"] = row.get("with_consents", 0) + bool(state.consents)
    for child in members:
        row = counts.setdefault(version_of(child), {})
        row["children"] = row.get("children", 0) + 1
    return [
        VersionCount(version, roles.get(version, "retired"), **counts[version])
        for version in sorted(counts, reverse=True)
    ]


def stranded(counts: list[VersionCount], version: int) -> VersionCount:
    """The count of ``version`` (zeros when nothing is named under it)."""
    return next((c for c in counts if c.version == version), VersionCount(version, "previous"))


async def read_household_table(kafka: KafkaConnection, topic: str) -> dict[str, str]:
    """The household table as an ingest instance loads it (``HouseholdTable.follow``)."""
    table, stop = HouseholdTable(), asyncio.Event()
    follow = asyncio.create_task(table.follow(kafka, topic, stop))
    ready = asyncio.create_task(table.ready.wait())
    await asyncio.wait({follow, ready}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    ready.cancel()
    await follow  # raises what made it fail, if it did
    return table.members.copy()
