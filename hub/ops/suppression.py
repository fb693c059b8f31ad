"""Small-cell suppression of a month x area table of counts, so no aggregate lets one
recognise a person.

Two rules, applied per month (the only sum the report shows is a month's total over its
areas; it offers no sums over months, so reports over different periods cannot be
subtracted to uncover a month):

- *primary*: a count from 1 to 4 is shown as ``<5`` (a zero is shown: it names nobody);
- *complementary*: once any area cell of a month is suppressed, that month's total is
  suppressed too (shown as ``x``). With the total shown, the suppressed cells would follow
  from it, exactly (one cell: total minus the others) or nearly (two cells summing to 2 are
  both 1). A total under 5 is suppressed by the first rule anyway.

Ratios built from suppressed counts are suppressed with them (``derived``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

THRESHOLD = 5
"""Counts below this (and above zero) are not shown."""
TOTAL = "totaal"
"""The area name of a month's total over its areas."""


class Suppressed(StrEnum):
    SMALL = "small"
    """Primary: a count from 1 to THRESHOLD - 1."""
    COMPLEMENTARY = "complementary"
    """A total that would let one recompute a suppressed cell."""
    DERIVED = "derived"
    """A ratio or median computed from a suppressed count."""


SHOWN = {Suppressed.SMALL: f"<{THRESHOLD}", Suppressed.COMPLEMENTARY: "x", Suppressed.DERIVED: "x"}


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: Suppressed | None = None

    @property
    def shown(self) -> str:
        return SHOWN[self.suppressed] if self.suppressed else str(self.value)

    @property
    def public(self) -> int | None:
        """The count when it may be shown, else None."""
        return None if self.suppressed else self.value


def _primary(value: int) -> Cell:
    return Cell(value, Suppressed.SMALL if 0 < value < THRESHOLD else None)


def suppress_month(cells: Mapping[str, int]) -> dict[str, Cell]:
    """One month's area cells and their total (key ``TOTAL``), suppressed."""
    out = {area: _primary(value) for area, value in cells.items()}
    total = _primary(sum(cells.values()))
    if total.suppressed is None and any(c.suppressed for c in out.values()):
        total = Cell(total.value, Suppressed.COMPLEMENTARY)
    out[TOTAL] = total
    return out


def suppress_table(
    table: Mapping[str, Mapping[str, int]], areas: Iterable[str]
) -> dict[str, dict[str, Cell]]:
    """Every month of ``table`` (month -> area -> count) over all ``areas`` (missing = 0)."""
    names = list(areas)
    return {
        month: suppress_month({a: counts.get(a, 0) for a in names})
        for month, counts in table.items()
    }
