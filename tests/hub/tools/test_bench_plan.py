"""The shadow's record plan: the pipeline's counted I/O, reproduced record for record."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.tools.bench_plan import (
    Hop,
    Output,
    ShadowPlan,
    TopicIo,
    is_delivery,
    plan_from_counts,
    role_of,
    spread,
)


def io(records: int, value: int = 100, headers: int = 10) -> TopicIo:
    return TopicIo(records=records, value_bytes=records * value, header_bytes=records * headers)


COUNTS = {
    "canonical": io(1000, 2100, 440),
    "households": io(1090, 32, 0),
    "dlq": io(10, 900, 300),
    "partner.huisarts-wijert.in": io(600, 300, 98),
    "partner.wij-zuid.in": io(400, 700, 105),
    "audit": io(2500, 800, 50),
    "state": io(900, 1200, 0),
}


@given(
    total=st.integers(min_value=0, max_value=5_000),
    inputs=st.integers(min_value=1, max_value=2_000),
    phase=st.floats(min_value=0, max_value=0.999),
)
def test_spread_gives_each_input_its_share_and_all_of_them_the_total(
    total: int, inputs: int, phase: float
) -> None:
    counts = [spread(total, inputs, i, phase) for i in range(inputs)]
    assert sum(counts) == total
    share = total / inputs
    assert all(int(share) <= c <= int(share) + 1 for c in counts), "even, never bunched"


def test_the_plan_copies_what_ingest_and_route_wrote_topic_by_topic() -> None:
    plan = plan_from_counts(COUNTS, 1000)
    ingest = {o.role: o for o in plan.ingest.outputs}
    route = {o.role: o for o in plan.route.outputs}
    assert set(ingest) == {"canonical", "households", "dlq", "partner.huisarts-wijert.in",
                           "partner.wij-zuid.in"}  # fmt: skip
    assert ingest["canonical"] == Output(role="canonical", records=1000, value_bytes=2100,
                                         header_bytes=440)  # fmt: skip
    # Ten dead letters, so ten of the inboxes' records are ingest's nacks (6:4 like the inboxes).
    assert (ingest["partner.huisarts-wijert.in"].records, ingest["partner.wij-zuid.in"].records) \
        == (6, 4)  # fmt: skip
    assert route["partner.huisarts-wijert.in"].records == 594
    assert route["partner.wij-zuid.in"].records == 396
    assert (route["audit"].records, route["state"].records) == (2500, 900)
    assert "canonical" not in route and "dlq" not in route
    assert plan.route.inputs == 1000, "route reads one record per canonical record"
    totals: Counter[str] = Counter()
    for hop in (plan.ingest, plan.route):
        for output in hop.outputs:
            totals[output.role] += output.records
    assert totals == {role: c.records for role, c in COUNTS.items()}, "nothing lost or added"


def test_the_plan_says_its_fan_out_and_what_its_observer_counts() -> None:
    plan = plan_from_counts(COUNTS, 1000)
    assert plan.records_per_message == {"ingest": 2.11, "route": 4.39, "total": 6.5}
    assert plan.deliveries == 10 + 600 + 400


def test_a_hop_writes_exactly_its_records_over_its_inputs() -> None:
    hop = plan_from_counts(COUNTS, 1000).route
    written: Counter[str] = Counter()
    per_input = []
    for index in range(hop.inputs):
        writes = list(hop.writes_for(index))
        per_input.append(sum(count for _, count in writes))
        for output, count in writes:
            written[output.role] += count
    assert written == {o.role: o.records for o in hop.outputs}
    # 4.39 records per input on average: each output gives an input its share rounded down or up.
    assert min(per_input) >= 2 and max(per_input) <= 6


def test_a_plan_survives_json_for_the_worker_process() -> None:
    plan = plan_from_counts(COUNTS, 1000)
    assert ShadowPlan.model_validate_json(plan.model_dump_json()) == plan


def test_a_plan_needs_canonical_records_and_messages() -> None:
    with pytest.raises(ValueError, match="canonical"):
        plan_from_counts({"audit": io(5)}, 10)
    with pytest.raises(ValueError, match="message"):
        plan_from_counts(COUNTS, 0)
    with pytest.raises(ValueError):
        Hop(reads=("canonical",), inputs=0, outputs=())


def test_roles_and_deliveries() -> None:
    assert role_of("bench-1.partner.wij-zuid.in", "bench-1") == "partner.wij-zuid.in"
    assert role_of("bench-1-shadow.canonical", "bench-1") is None
    assert is_delivery("dlq") and is_delivery("partner.wij-zuid.in")
    assert not is_delivery("partner.wij-zuid.out") and not is_delivery("audit")


def test_a_hop_repeats_its_plan_for_a_mix_drained_several_times_over() -> None:
    hop = plan_from_counts(COUNTS, 1000).ingest
    assert [list(hop.writes_for(i)) for i in range(50)] == [
        list(hop.writes_for(i + 2 * hop.inputs)) for i in range(50)
    ]
