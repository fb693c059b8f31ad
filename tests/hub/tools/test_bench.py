"""The benchmark's statistics, JSON shape, report and mix; the lazy state store it led to."""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

import pytest

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import InRecord
from hub.stages.route import RouteStage
from hub.stages.state_store import StateStore, restore_record
from hub.tools.bench_mix import BenchMix, kind_of, with_sibling
from hub.tools.bench_procs import (
    cpu_seconds,
    interpreter,
    main_thread_cpu_seconds,
    memory_mb,
    peak_rss_mb,
)
from hub.tools.bench_state import state_record, state_template
from hub.tools.bench_stats import (
    TAIL_WAIT_S,
    BenchResult,
    Latency,
    LoadLevel,
    Progress,
    StateResult,
    Throughput,
    WarmUp,
    percentile,
    ratio,
    summary_lines,
    tail_missing,
    write_report,
)
from observability.metrics import HubMetrics
from routing.state import HouseholdState
from schemas.partners import PartnerRegistry

HEADLINE_KEYS = {
    "passthrough_msgs_per_s", "pipeline_msgs_per_s", "ratio", "p50_ms", "p95_ms", "p99_ms",
    "peak_rss_mb", "cpu_s_per_1000",
}  # fmt: skip


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5, "order does not matter"
    assert percentile(list(map(float, range(101))), 99) == 99.0
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary() -> None:
    latency = Latency.of([float(v) for v in range(1, 101)])
    assert latency.count == 100
    assert latency.p50_ms == pytest.approx(50.5)
    assert latency.p95_ms == pytest.approx(95.05)
    assert latency.p99_ms == pytest.approx(99.01)
    assert latency.max_ms == 100.0
    with pytest.raises(ValueError):
        Latency.of([])


def test_ratio() -> None:
    assert ratio(250, 1000) == 0.25
    assert ratio(5, 0) == 0.0


def test_throughput_counts_from_ten_per_cent_done() -> None:
    samples = [
        Progress(at=10.0, done=50, cpu_s=1.0),  # startup: not steady yet
        Progress(at=11.0, done=100, cpu_s=2.0),  # 10 % of 1,000: the window starts here
        Progress(at=13.0, done=600, cpu_s=4.0),
        Progress(at=15.0, done=1000, cpu_s=6.0),
    ]
    result = Throughput.of(samples, total=1000, peak_rss_mb=90.0, start=Progress(9.0, 0, 0.0))
    assert result.steady
    assert result.cores == {}, "no party's CPU was sampled"
    assert result.messages == 900
    assert result.seconds == 4.0
    assert result.msgs_per_s == 225.0
    assert result.cpu_s_per_1000 == pytest.approx(1000 * 4.0 / 900)
    assert result.peak_rss_mb == 90.0


def test_throughput_gives_each_partys_cores_over_the_steady_window() -> None:
    samples = [
        Progress(10.0, 50, 1.0, {"hub": 1.0, "broker": 5.0}),
        Progress(11.0, 100, 2.0, {"hub": 2.0, "broker": 5.5, "load generator": 0.1}),
        Progress(13.0, 600, 4.0, {"hub": 4.0, "broker": 6.5, "load generator": 0.2}),
        Progress(15.0, 1000, 6.0, {"hub": 6.0, "broker": 7.5, "load generator": 0.3}),
    ]
    result = Throughput.of(samples, total=1000, peak_rss_mb=90.0, start=Progress(9.0, 0, 0.0))
    assert result.cores == pytest.approx({"hub": 1.0, "broker": 0.5, "load generator": 0.05})
    # 225 msg/s, the broker at half a core: 2.22 CPU s per 1,000 messages.
    assert result.party_cpu_s_per_1000("broker") == pytest.approx(1000 * 0.5 / 225)
    assert result.party_cpu_s_per_1000("nobody") == 0.0


def test_throughput_of_a_run_done_in_one_go_counts_from_the_start_and_says_so() -> None:
    start = Progress(10.0, 0, 0.5, {"hub": 0.5, "broker": 20.0})
    samples = [Progress(at=12.0, done=500, cpu_s=3.0, parties={"hub": 3.0, "broker": 21.0})]
    result = Throughput.of(samples, total=500, peak_rss_mb=1.0, start=start)
    assert result.msgs_per_s == 250.0
    assert result.cpu_s_per_1000 == 5.0
    assert result.cores == {"hub": 1.25, "broker": 0.5}
    assert not result.steady
    with pytest.raises(ValueError):
        Throughput.of([], total=500, peak_rss_mb=1.0, start=start)


def test_a_drain_under_a_second_is_not_steady() -> None:
    samples = [Progress(10.0 + i / 10, 100 * (i + 1), 0.1 * i) for i in range(10)]
    assert not Throughput.of(
        samples, total=1000, peak_rss_mb=1.0, start=Progress(9.0, 0, 0.0)
    ).steady
    slower = [Progress(10.0 + i / 2, 100 * (i + 1), 0.1 * i) for i in range(10)]
    assert Throughput.of(slower, total=1000, peak_rss_mb=1.0, start=Progress(9.0, 0, 0.0)).steady


def _result(levels: bool = False) -> BenchResult:
    def level(share: float) -> LoadLevel:
        cores = {"hub": 0.8 * share, "broker": share, "load generator": 0.2}
        return LoadLevel(share, 400.0 * share, 400.0 * share, Latency.of([5.0, 10.0, 30.0]), cores,
                         "half" if share == 0.5 else "")  # fmt: skip

    return BenchResult(
        messages=1000,
        partitions=6,
        partner_partitions=1,
        passthrough=Throughput(
            1000, 0.1, 10_000.0, 0.05, 60.0, {"passthrough": 0.5, "broker": 0.8}
        ),
        pipeline=Throughput(1000, 2.5, 400.0, 1.9, 95.0, {"hub": 0.9, "broker": 0.4}),
        half_load=level(0.5),
        floor=LoadLevel(0.0125, 5.0, 5.0, Latency.of([40.0, 45.0, 60.0]), label="floor"),
        levels=[level(s) for s in (0.25, 0.5, 0.75, 0.9)] if levels else [],
        mix={"huisarts-verwijzing": 600, "school-zorgsignaal": 400},
        profile=["-- by tottime --", "   ncalls  tottime"],
        cpu_count=2,
        shadow=Throughput(1000, 1.0, 1000.0, 0.12, 50.0, {"shadow": 0.3}),
        faststream=Throughput(1000, 3.0, 320.0, 2.4, 120.0, {"faststream": 1.0}),
        scaleout=Throughput(1000, 2.0, 500.0, 2.0, 190.0, {"hub": 1.6}),
        fanout={"ingest": 2.1, "route": 4.4, "total": 6.5},
        io={"canonical": 1000, "audit": 2500},
        inprocess={"inprocess_us_per_msg": 610.0, "inprocess_phases_us": {"decode": 100.0}},
        fixed_levels=[
            LoadLevel(0.075, 30.0, 30.0, Latency.of([20.0, 22.0, 48.0]), label="30"),
            LoadLevel(0.75, 300.0, 240.0, Latency.of([60.0, 80.0, 140.0]), label="300"),
        ],
        python="CPython 3.11.2 (/usr/bin/python3.11)",
    )


def test_json_has_the_headline_figures_first_and_all_positive() -> None:
    data = _result().to_json()
    assert set(data) >= HEADLINE_KEYS
    assert list(data)[1:3] == ["passthrough_msgs_per_s", "pipeline_msgs_per_s"]
    assert data["ratio"] == 0.04
    assert data["p99_ms"] == pytest.approx(29.6)
    assert data["peak_rss_mb"] == 95.0
    assert data["cpu_s_per_1000"] == 1.9
    assert all(data[key] > 0 for key in HEADLINE_KEYS)
    json.dumps(data)  # plain JSON
    assert [lv["share"] for lv in data["load_levels"]] == [0.0125, 0.075, 0.5, 0.75]
    assert (data["floor_offered_msgs_per_s"], data["floor_p50_ms"]) == (5.0, 45.0)
    assert data["floor_p99_ms"] == pytest.approx(59.7)


COMPARISON_KEYS = (
    "shadow_msgs_per_s", "faststream_msgs_per_s", "ratio_to_shadow", "inprocess_us_per_msg",
    "kafka_client_us_per_msg", "hub_cpu_us_per_msg", "scaleout_ratio",
)  # fmt: skip


def test_json_compares_like_with_like() -> None:
    data = _result().to_json()
    assert all(data[key] > 0 for key in COMPARISON_KEYS), data
    assert data["shadow_msgs_per_s"] == 1000.0
    assert data["ratio_to_shadow"] == 0.4
    assert data["ratio_to_faststream"] == 1.25
    assert data["scaleout_msgs_per_s"] == {"1": 400.0, "2": 500.0}
    assert data["scaleout_ratio"] == 1.25
    # The shadow's own CPU is the Kafka client's cost of exactly the pipeline's I/O.
    assert data["kafka_client_us_per_msg"] == 120.0
    assert data["inprocess_phases_us"] == {"decode": 100.0, "kafka_client": 120.0}
    assert data["hub_cpu_us_per_msg"] == 1900.0
    assert list(data["latency_at"]) == ["floor", "30", "half", "300"], "low to high"
    at_300 = data["latency_at"]["300"]
    assert (at_300["offered_msgs_per_s"], at_300["achieved_msgs_per_s"]) == (300.0, 240.0)
    assert at_300["p50_ms"] <= at_300["p95_ms"] <= at_300["p99_ms"]
    assert data["fanout_records_per_msg"]["total"] == 6.5
    assert [lv["offered_msgs_per_s"] for lv in data["load_levels"]] == [5.0, 30.0, 200.0, 300.0]


def test_json_without_the_comparisons_says_zero_not_a_made_up_figure() -> None:
    result = _result()
    result.shadow = result.faststream = result.scaleout = None
    result.inprocess = {}
    data = result.to_json()
    assert data["shadow_msgs_per_s"] == data["ratio_to_shadow"] == 0
    assert data["kafka_client_us_per_msg"] == data["inprocess_us_per_msg"] == 0
    assert "kafka_client" not in data["inprocess_phases_us"]


def test_summary_lines_name_every_figure() -> None:
    text = "\n".join(summary_lines(_result()))
    for needle in ("10,000.0 msg/s", "400.0 msg/s", "0.040 x passthrough", "p99 29.6 ms", "95.0 MB",
                   "1,000.0 msg/s   (the pipeline's I/O", "6.50 records per message",
                   "(0.40 x shadow", "320.0 msg/s   (same handlers", "pipeline 1.25 x it",
                   "500.0 msg/s   with two hub processes", "(1.25 x one)",
                   "latency at 30.0 msg/s: p50 22.0 ms",
                   "latency at 300.0 msg/s: p50 80.0 ms, p95 134.0 ms, p99 138.8 ms (kept up "
                   "with 240.0)",
                   "latency at 5.0 msg/s (a trickle, no queueing): p50 45.0 ms, p95 58.5 ms, "
                   "p99 59.7 ms",
                   "hub process 1900 µs CPU; in-process 610 µs (decode 100, kafka_client 120)",
                   "CPU at half load  hub 0.40, broker 0.50, load generator 0.20 (cores, of 2)",
                   "CPU in the drains passthrough: passthrough 0.50, broker 0.80; "
                   "pipeline: hub 0.90, broker 0.40 (cores)",
                   "broker            0.080 CPU s per 1,000 messages of the passthrough, "
                   "1.000 of the pipeline",
                   "python            CPython 3.11.2 (/usr/bin/python3.11)",
                   ):  # fmt: skip
        assert needle in text
    assert _result().to_json()["python"] == "CPython 3.11.2 (/usr/bin/python3.11)"


def test_cores_are_reported_per_party_and_only_when_measured() -> None:
    data = _result().to_json()
    assert data["half_load_cores"] == {"hub": 0.4, "broker": 0.5, "load generator": 0.2}
    assert data["cpu_count"] == 2
    assert data["load_levels"][0]["cores"] == {}, "the floor's were not measured here"
    result = _result()
    result.half_load.cores.clear()
    assert "CPU at half load" not in "\n".join(summary_lines(result))
    assert data["drain_cores"]["pipeline"] == {"hub": 0.9, "broker": 0.4}
    assert data["broker_cpu_s_per_1000"] == {"passthrough": 0.08, "pipeline": 1.0}
    result.passthrough.cores.clear()
    result.pipeline.cores.clear()
    text = "\n".join(summary_lines(result))
    assert "CPU in the drains" not in text and "broker  " not in text


def test_a_result_without_a_floor_says_nothing_of_one() -> None:
    result = _result()
    result.floor = None
    assert "floor_p50_ms" not in result.to_json()
    assert "floor" not in result.to_json()["latency_at"]
    assert "a trickle" not in "\n".join(summary_lines(result))


def test_the_warm_up_shows_its_first_and_last_step() -> None:
    result = _result()
    assert result.to_json()["warmup"] is None
    assert "no warm-up: a freshly started broker's first minute is in the figures" in (
        summary_lines(result)
    )
    first = {"hub": 0.51, "broker": 1.204, "load generator": 0.2}
    last = {"hub": 0.6, "broker": 0.386, "load generator": 0.19}
    result.warmup = WarmUp(60.0, 200.0, [first, {"hub": 0.55, "broker": 0.8}, last])
    assert result.to_json()["warmup"] == {
        "seconds": 60.0, "msgs_per_s": 200.0,
        "first_step_cores": {"hub": 0.51, "broker": 1.2, "load generator": 0.2},
        "last_step_cores": {"hub": 0.6, "broker": 0.39, "load generator": 0.19},
    }  # fmt: skip
    assert summary_lines(result)[-1] == (
        "warmed up first   60 s at 200 msg/s; cores in its first and last step: "
        "hub 0.51 -> 0.60, broker 1.20 -> 0.39, load generator 0.20 -> 0.19"
    )
    result.warmup = WarmUp(5.0, 200.0, [{}])
    assert summary_lines(result)[-1] == "warmed up first   5 s at 200 msg/s"


def test_report_writes_markdown_json_and_a_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    written = write_report(_result(levels=True), tmp_path / "report")
    assert {p.name for p in written} == {"report.md", "result.json", "latency.png"}
    report = (tmp_path / "report" / "report.md").read_text()
    assert "![latency against offered load](latency.png)" in report
    assert "| huisarts-verwijzing | 600 |" in report
    assert "Profile of the hub process" in report
    assert (tmp_path / "report" / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "report" / "result.json").read_text())
    offered = [lv["offered_msgs_per_s"] for lv in data["load_levels"]]
    assert offered == [5, 30, 100, 200, 300, 300, 360], "the shares, fixed loads and floor"
    assert "| 5.0 | 0.01 | 5.0 |" in report
    assert "| 0.60 / 0.75 / 0.20 |" in report, "the 75 % level's cores"
    assert report.count(" - / - / - |") == 3, "the floor's and the fixed loads' were not measured"
    assert "| broker CPU s per 1,000 messages | 0.080 | 1.000 |" in report
    remote = _result(levels=True)
    remote.passthrough.cores.pop("broker")
    remote.pipeline.cores.pop("broker")
    write_report(remote, tmp_path / "remote")
    assert "broker CPU s" not in (tmp_path / "remote" / "report.md").read_text()
    assert remote.to_json()["broker_cpu_s_per_1000"] == {"passthrough": None, "pipeline": None}


def test_state_result_memory_per_household() -> None:
    result = StateResult(households=1000, record_bytes=800.0, write_s=1.0, restore_s=0.5,
                         rss_before_mb=50.0, rss_after_mb=51.0, peak_rss_mb=52.0,
                         restored=1000)  # fmt: skip
    data = result.to_json()
    assert data["bytes_per_household"] == pytest.approx(1048.6)
    assert data["restore_households_per_s"] == 2000.0


def test_process_figures_of_this_process_are_positive() -> None:
    sum(range(100_000))
    assert cpu_seconds() > 0
    assert memory_mb() > 0
    now = memory_mb()  # first: RSS may grow between the two reads, and the peak with it
    assert peak_rss_mb() >= now
    assert cpu_seconds(2**31) == 0.0, "a process that does not exist has no figures"


def _spin(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_main_thread_s_cpu_is_apart_from_the_other_threads() -> None:
    """What ``hub main thread`` in the drain figures reads: the Python thread alone."""
    process, main = cpu_seconds(), main_thread_cpu_seconds()
    worker = threading.Thread(target=_spin, args=(0.3,))
    worker.start()
    worker.join()
    assert cpu_seconds() - process >= 0.25
    assert main_thread_cpu_seconds() - main < 0.1
    main = main_thread_cpu_seconds()
    _spin(0.3)
    assert main_thread_cpu_seconds() - main >= 0.25
    assert main_thread_cpu_seconds(2**31) == 0.0


def test_the_interpreter_is_named_by_version_and_its_base_executable() -> None:
    """A virtualenv's python is a link: the figures name the build it links to."""
    version = ".".join(map(str, sys.version_info[:3]))
    assert interpreter() == f"CPython {version} ({os.path.realpath(sys.executable)})"
    assert not os.path.islink(interpreter().split("(")[1].rstrip(")"))


def test_the_mix_is_valid_whole_chain_traffic(
    hub_context: HubContext, registry: PartnerRegistry
) -> None:
    """Every message of the benchmark's mix passes ingest: no reject skews the figures."""
    mix = BenchMix(registry, random.Random(3), children=50)
    messages = mix.messages(120)
    assert len({m.kind for m in messages}) >= 5, "more kinds than GP referrals"
    ingest = IngestStage(hub_context, HubMetrics())
    for offset, message in enumerate(messages):
        out = ingest.handle(
            InRecord(hub_context.names.partner_out(message.sender.id), 0, offset, message.payload)
        )
        assert hub_context.names.canonical in {r.topic for r in out}, message.kind
    assert kind_of(messages[0].sender, b"<xml/>").endswith("-ijw")


def test_state_records_are_real_household_states() -> None:
    template = state_template()
    key, value = state_record(template, 41)
    state = HouseholdState.model_validate_json(value)
    assert state.regie is not None and state.consents and state.signals
    assert state.signals[0].child == state.consents[0].child != "@@CHILD@@"
    assert len(key) == 32
    assert state_record(template, 42)[0] != key


def test_state_store_parses_a_household_on_first_use_only() -> None:
    state = HouseholdState(recent=("huisarts-wijert/HIS-1",), area="zuid")
    store = StateStore()
    restore_record(store, b"h1", state.model_dump_json().encode())
    restore_record(store, b"h2", state.model_dump_json().encode())
    assert len(store) == 2 and "h1" in store and store.parsed() == 0
    assert store["h1"] == state
    assert store.parsed() == 1
    assert store.get("nobody") is None
    store["h3"] = state
    restore_record(store, b"h2", None)
    assert sorted(store) == ["h1", "h3"]
    assert dict(store) == {"h1": state, "h3": state}


def test_route_works_on_a_restored_store(hub_context: HubContext, golden_payload: bytes) -> None:
    """A household restored raw is parsed when its next message comes; resends are known."""
    [canonical] = [
        r
        for r in IngestStage(hub_context, HubMetrics()).handle(
            InRecord(hub_context.names.partner_out("huisarts-wijert"), 0, 0, golden_payload)
        )
        if r.topic == hub_context.names.canonical
    ]
    record = InRecord(canonical.topic, 0, 0, canonical.value, canonical.key, canonical.headers)
    [state] = [
        r for r in RouteStage(hub_context, HubMetrics()).handle(record) if r.topic.endswith("state")
    ]
    store = StateStore()
    restore_record(store, state.key, state.value)
    again = RouteStage(hub_context, HubMetrics(), store).handle(record)
    assert not [r for r in again if r.topic.endswith("aanbieder-noorderlicht.in")]


def test_a_drain_ends_without_a_tail_that_is_not_coming_and_only_then() -> None:
    assert tail_missing(4988, 5000, idle_s=TAIL_WAIT_S + 1), "12 of 5,000 stuck: go on"
    assert not tail_missing(4988, 5000, idle_s=TAIL_WAIT_S - 1), "they may still come"
    assert not tail_missing(4900, 5000, idle_s=TAIL_WAIT_S * 3), "2 % missing is a failure"
    assert not tail_missing(5000, 5000, idle_s=0.0)


def test_the_mix_names_each_child_with_its_own_sibling(registry: PartnerRegistry) -> None:
    mix = BenchMix(registry, random.Random(3))
    named = [json.loads(m.payload) for m in mix.messages(2_000) if b'"household"' in m.payload]
    assert named, "the mix has household messages"
    pairs = {(h["household"][0]["bsn"], h["household"][1]["bsn"]) for h in named}
    for child, sibling in pairs:
        assert mix.siblings[child][0] == sibling
        assert mix.siblings[sibling][0] == child, "siblings both ways: households stay put"
    assert with_sibling(b'{"type": "signaal"}', mix.siblings) == b'{"type": "signaal"}'


def test_the_in_process_figure_shows_the_runs_it_is_the_median_of() -> None:
    result = _result()
    result.inprocess = {
        "inprocess_us_per_msg": 300.0,
        "inprocess_runs_us": [280.0, 300.0, 410.0],
        "inprocess_phases_us": {"decode": 100.0},
    }
    data = result.to_json()
    assert data["inprocess_runs_us"] == [280.0, 300.0, 410.0]
    text = "\n".join(summary_lines(result))
    assert "in-process 300 µs (median of 280, 300, 410; decode 100, kafka_client 120)" in text
