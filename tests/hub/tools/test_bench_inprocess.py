"""The in-process bench: its phase split follows the stages' code wherever it moves."""

from __future__ import annotations

import gc
import time

import pytest

from hub.tools.bench_inprocess import PHASES, _PhaseClock, heap_as_in_hub_run, main, measure


def test_every_phase_is_measured_and_the_phases_add_up_to_the_total() -> None:
    cost = measure(150, warmup=50)
    assert tuple(cost.phases_us) == PHASES
    exercised = [p for p in PHASES if p != "validation"]  # built-in adapters: not validated
    idle = [p for p in exercised if cost.phases_us[p] <= 0]
    assert not idle, f"no time in {idle}: a seam no longer follows the stages' code"
    assert sum(cost.phases_us.values()) == pytest.approx(cost.us_per_msg, rel=0.01)


def test_an_untrusted_adapters_bundles_are_validated_and_counted_as_validation() -> None:
    trusted = measure(60, warmup=30)
    untrusted = measure(60, warmup=30, trusted=False)
    assert trusted.phases_us["validation"] == 0
    assert untrusted.phases_us["validation"] > 0


def test_the_phase_clock_counts_nested_time_once_for_the_inner_phase() -> None:
    clock = _PhaseClock()
    start = time.perf_counter_ns()
    clock.enter("outer")
    clock.enter("inner")
    time.sleep(0.002)
    clock.leave()
    clock.leave()
    elapsed = time.perf_counter_ns() - start
    assert clock.spent_ns["inner"] >= 2_000_000
    assert clock.spent_ns["inner"] > clock.spent_ns["outer"]
    assert sum(clock.spent_ns.values()) <= elapsed


def test_several_runs_give_their_median_and_each_figure() -> None:
    cost = measure(60, warmup=30, phases=False, runs=3)
    assert len(cost.runs_us) == 3
    assert cost.us_per_msg == sorted(cost.runs_us)[1]
    assert cost.to_json()["inprocess_runs_us"] == [round(us, 1) for us in cost.runs_us]


def test_one_run_reports_itself_as_its_only_run() -> None:
    cost = measure(40, warmup=20, phases=False)
    assert cost.runs_us == ()
    assert cost.to_json()["inprocess_runs_us"] == [round(cost.us_per_msg, 1)]


@pytest.mark.parametrize("argv", [["0"], ["10", "--median-of", "0"], ["10", "--runs", "0"]])
def test_the_command_refuses_counts_below_one_with_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_the_measured_messages_run_with_the_heap_frozen_as_in_hub_run() -> None:
    """What lives before the clock starts is out of the collector's way (as ``hub run``
    freezes its start-up heap), what survives a full collection joins it, and afterwards the
    process's collector is as it was: nothing frozen, no hook of the measurement left."""
    hooks = gc.callbacks[:]
    gc.unfreeze()
    host = [{"host": i} for i in range(10_000)]  # the bench process's own objects
    try:
        with heap_as_in_hub_run():
            frozen = gc.get_freeze_count()
            assert frozen >= len(host)
            assert len(gc.callbacks) == len(hooks) + 1
            survivors = [[i] for i in range(1_000)]  # lists: tracked by the collector
            gc.collect()  # a full collection: its survivors are frozen too
            assert gc.get_freeze_count() >= frozen + len(survivors)
        assert gc.get_freeze_count() == 0
        assert gc.callbacks == hooks
    finally:
        gc.unfreeze()
        gc.callbacks[:] = hooks
