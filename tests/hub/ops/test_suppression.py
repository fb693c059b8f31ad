"""Small-cell suppression: no shown figure lets one recompute a count under 5."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.ops.suppression import TOTAL, Suppressed, suppress_month, suppress_table


def test_small_cells_are_shown_as_under_five_and_zero_and_five_are_shown() -> None:
    cells = suppress_month({"zuid": 0, "west": 4, "noordwest": 5, "centrum": 1})
    assert [cells[a].shown for a in ("zuid", "west", "noordwest", "centrum")] == [
        "0",
        "<5",
        "5",
        "<5",
    ]
    assert cells["west"].public is None
    assert cells["noordwest"].public == 5


def test_a_total_that_would_give_away_one_suppressed_cell_is_suppressed() -> None:
    # 3 + 10 + 20 = 33: with the total shown, zuid = 33 - 10 - 20.
    cells = suppress_month({"zuid": 3, "west": 10, "noordwest": 20})
    assert cells["zuid"].suppressed is Suppressed.SMALL
    assert cells[TOTAL].suppressed is Suppressed.COMPLEMENTARY
    assert cells[TOTAL].shown == "x"
    assert cells[TOTAL].public is None
    assert cells["west"].shown == "10"


def test_two_small_cells_whose_sum_the_total_would_reveal_hide_the_total_too() -> None:
    # 1 + 1 + 12 = 14: the total would tell the two small cells sum to 2, so both are 1.
    cells = suppress_month({"zuid": 1, "west": 1, "noordwest": 12})
    assert cells[TOTAL].suppressed is Suppressed.COMPLEMENTARY


def test_a_small_total_is_suppressed_in_its_own_right() -> None:
    cells = suppress_month({"zuid": 2, "west": 0})
    assert cells[TOTAL].suppressed is Suppressed.SMALL
    assert cells[TOTAL].shown == "<5"


def test_a_month_without_small_cells_shows_its_total() -> None:
    cells = suppress_month({"zuid": 0, "west": 7, "noordwest": 5})
    assert cells[TOTAL].shown == "12"
    assert not any(c.suppressed for c in cells.values())


def test_missing_areas_count_as_zero() -> None:
    table = suppress_table({"2026-11": {"zuid": 6}}, ["zuid", "west"])
    assert table["2026-11"]["west"].shown == "0"
    assert table["2026-11"][TOTAL].shown == "6"


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 40)))
def test_no_suppressed_cell_can_be_recomputed_from_what_is_shown(cells: dict[str, int]) -> None:
    """Whatever is shown, a suppressed cell is never fixed by the shown cells and total:
    either the total is hidden, or nothing under 5 was hidden."""
    out = suppress_month(cells)
    hidden = [a for a, c in out.items() if a != TOTAL and c.suppressed]
    if hidden:
        assert out[TOTAL].public is None
    for area, value in cells.items():
        assert (out[area].public is None) == (0 < value < 5)
