"""Router state in memory: restored as raw JSON, parsed per household on first use.

A restore reads every household's latest state from the compacted changelog, but a router
instance touches only the households that send messages afterwards. Parsing them all into
pydantic models up front cost about 90 µs and 5 KB per household (90 s and 5 GB for a
million); keeping the record's bytes costs about 1 KB and no parsing, and the first message
of a household pays its parse (tens of microseconds) once. ``routing`` keeps its pure API:
the router still gets and returns ``HouseholdState`` values.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from routing.state import HouseholdState


class StateStore(MutableMapping[str, HouseholdState]):
    """Household pseudonym -> ``HouseholdState``; values restored raw are parsed lazily."""

    def __init__(self) -> None:
        self._data: dict[str, HouseholdState | bytes] = {}
        self.restored_to: dict[int, int] = {}
        """Changelog offset per partition the restore read up to: a later read goes on there."""

    def put_raw(self, household: str, value: bytes) -> None:
        """A changelog record's JSON, parsed only when the household is used."""
        self._data[household] = value

    def __getitem__(self, household: str) -> HouseholdState:
        value = self._data[household]
        if isinstance(value, bytes):
            value = HouseholdState.model_validate_json(value)
            self._data[household] = value
        return value

    def __setitem__(self, household: str, state: HouseholdState) -> None:
        self._data[household] = state

    def __delitem__(self, household: str) -> None:
        del self._data[household]

    def __contains__(self, household: object) -> bool:
        return household in self._data  # without parsing it

    def get(  # type: ignore[override]
        self, household: str, default: HouseholdState | None = None
    ) -> HouseholdState | None:
        """The mixin's ``get`` raised and caught a KeyError for every household not met
        yet; route asks for each message's household."""
        if household not in self._data:
            return default
        return self[household]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def parsed(self) -> int:
        """How many households have been parsed (or set) since the restore."""
        return sum(1 for value in self._data.values() if not isinstance(value, bytes))


def restore_record(
    states: MutableMapping[str, HouseholdState], key: bytes | None, value: bytes | None
) -> None:
    """Apply one changelog record; a tombstone (no value) forgets the household.

    A ``StateStore`` keeps the record's JSON as it is, to be parsed on first use.
    """
    if key is None:
        return
    if value is None:
        states.pop(key.decode(), None)
    elif isinstance(states, StateStore):
        states.put_raw(key.decode(), value)
    else:
        states[key.decode()] = HouseholdState.model_validate_json(value)
