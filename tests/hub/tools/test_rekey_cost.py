"""The cost of a migration, measured through the real stages: what it writes is exact."""

from __future__ import annotations

from hub.tools.rekey_cost import measure


def test_a_migration_writes_a_pointer_an_audit_record_and_the_table_rows_and_no_hop() -> None:
    cost = measure(households=10)
    figures = dict(cost.figures())
    assert cost.migrating.forwarded == cost.steady.forwarded == 10
    assert figures["extra state records per household"] == 1.0  # the forward pointer
    assert figures["extra audit records per household"] == 1.0  # "rekeyed"
    assert figures["extra canonical records per household"] == 0.0  # handed over in place
    assert figures["extra households records per household"] == 3.0  # 2 moved, 1 renamed
    assert figures["extra deliveries records per household"] == 0.0  # nobody is told
    assert figures["extra records per migrated household"] == 5.0
    assert float(str(figures["migrating message, median µs"])) > 0


def test_the_json_record_has_plain_keys_and_the_same_figures() -> None:
    record = measure(households=10).record()
    assert record["extra_records"] == 5.0
    assert record["extra_records_by_topic"] == {
        "audit": 1.0, "canonical": 0.0, "deliveries": 0.0, "households": 3.0, "state": 1.0,
    }  # fmt: skip
