"""Households that merge and split through the real ingest and route stages (no broker):
records go round as the loop would move them, canonical records included."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.context import HubContext
from hub.stages.household_moves import HOPS, MOST_HOPS, ForwardLoop, nothing_to_prepare
from hub.stages.ingest import IngestStage
from hub.stages.records import HEADER_KIND, InRecord, OutRecord
from hub.stages.route import RouteStage
from observability.audit import LogboekRecord
from observability.metrics import HubMetrics
from routing.state import HouseholdState
from schemas.audit import AuditAction
from schemas.envelope import RoutingEnvelope, header_value

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"
ANNA = {"bsn": "999990019", "birth_date": "2014-03-02"}
BRAM = {"bsn": "999990020", "birth_date": "2017-08-14"}


def native(example: str, **changes: Any) -> bytes:
    body: dict[str, Any] = json.loads((EXAMPLES / f"{example}.json").read_text())
    body["message_id"] = f"M-{uuid.uuid4().hex[:8]}"
    body.update(changes)
    return json.dumps(body).encode()


@dataclass
class Hub:
    """Ingest and route, with the topics as lists."""

    ctx: HubContext
    ingest: IngestStage = field(init=False)
    route: RouteStage = field(init=False)
    inboxes: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    audit: list[LogboekRecord] = field(default_factory=list)
    offset: int = 0

    def __post_init__(self) -> None:
        self.ingest = IngestStage(self.ctx, HubMetrics())
        self.route = RouteStage(self.ctx, HubMetrics())

    def send(self, partner: str, payload: bytes, most_hops: int = 50) -> list[str]:
        """Publish, then run the stages until nothing is left; the households of the
        canonical records it took, in order. More than ``most_hops`` of them fails the test
        (a message going round households for good would never end it)."""
        self.offset += 1
        pending = self.ingest.handle(InRecord(f"t.partner.{partner}.out", 0, self.offset, payload))
        self.ingest.batch_committed()
        hops = []
        while pending:
            record, pending = pending[0], pending[1:]
            if record.topic == self.ctx.names.canonical:
                hops.append(RoutingEnvelope.from_headers(record.headers).household)
                assert len(hops) <= most_hops, f"still going round after {most_hops}: {hops}"
                self.offset += 1
                pending += self.route.handle(self._in(record))
                self.route.batch_committed()
            elif record.topic == self.ctx.names.audit:
                self.audit.append(LogboekRecord.model_validate_json(record.value))
            elif record.topic.endswith(".in"):
                partner_id = record.topic.split(".")[2]
                body = json.loads(record.value) | {
                    "_kind": header_value(record.headers, HEADER_KIND)
                }
                self.inboxes[partner_id].append(body)
        return hops

    def _in(self, record: OutRecord) -> InRecord:
        return InRecord(record.topic, 0, self.offset, record.value, record.key, record.headers,
                        timestamp_ms=1)  # fmt: skip

    def notices(self, partner: str, subject: str) -> list[dict[str, Any]]:
        return [m for m in self.inboxes[partner] if m.get("subject") == subject]


def test_two_households_merge_both_regisseurs_told_the_earlier_kept_then_one_child_leaves(
    hub_context: HubContext,
) -> None:
    hub = Hub(hub_context)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA]))
    hub.send("ojg-wijert", native("ojg-regie-claim", household=[BRAM]))
    table = hub.ingest.households.members
    anna, bram = (hub_context.pseudonyms.child(c["bsn"]) for c in (ANNA, BRAM))
    here, there = table[anna], table[bram]
    assert here != there

    hops = hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[ANNA, BRAM], left=[]))
    assert hops == [there, here]  # B's state went along to A
    assert table[bram] == here
    [told_ojg] = hub.notices("ojg-wijert", "household-merged")
    [told_wij] = hub.notices("wij-zuid", "household-merged")
    assert told_ojg["about"][0]["partner"] == "wij-zuid"
    assert told_wij["about"][0]["partner"] == "ojg-wijert"
    [merged] = [r for r in hub.audit if r.attributes.action is AuditAction.MERGED]
    assert (merged.attributes.regie_kept, merged.attributes.regie_set_aside) == (
        "wij-zuid", "ojg-wijert",
    )  # fmt: skip
    states = hub.route.states
    regie = states[here].regie
    assert regie is not None and regie.partner_id == "wij-zuid"
    assert states[there].merged_into == here

    hub.send("school-montessori", native("school-zorgsignaal", pupil=BRAM))
    assert [m["type"] for m in hub.inboxes["wij-zuid"]].count("signaal-ontvangen") == 1

    hops = hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[ANNA], left=[BRAM]))
    new = table[bram]
    assert new not in (here, there) and table[anna] == here
    assert hops == [here, new]
    assert hub.notices("wij-zuid", "household-split")
    assert not [s for s in states[here].signals if s.child == bram]
    assert [s.child for s in states[new].signals] == [bram]
    assert states[new].regie == states[here].regie  # the child keeps its regisseur
    hub.send("huisarts-wijert", native("huisarts-signaal", child=ANNA))
    assert not hub.notices("huisarts-wijert", "family-match")  # Bram is not family any more
    hub.send("huisarts-wijert", native("huisarts-signaal", child=BRAM))
    assert len(hub.notices("huisarts-wijert", "signal-match")) == 1  # in Bram's own part


def test_a_message_still_addressed_to_a_merged_household_follows_it(
    hub_context: HubContext,
) -> None:
    hub = Hub(hub_context)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA]))
    hub.send("school-montessori", native("school-zorgsignaal", pupil=BRAM))
    table = hub.ingest.households.members
    bram = hub_context.pseudonyms.child(BRAM["bsn"])
    old = table[bram]
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA, BRAM]))
    assert table[bram] != old
    late = hub.ingest.households.members.copy()
    table[bram] = old  # as if ingest had keyed this one before it learnt of the merge
    hops = hub.send("huisarts-wijert", native("huisarts-signaal", child=BRAM))
    assert hops == [old, late[bram]]
    assert len(hub.notices("school-montessori", "signal-match")) == 1


def test_two_ingest_instances_merging_the_same_households_opposite_ways_end_in_one(
    hub_context: HubContext,
) -> None:
    """Two ingest instances, one not yet aware of the other's merge, merge A into B and B
    into A: the forward pointers point at each other. The message that brings the second
    state must not go round them for good; the household it reaches last keeps both."""
    hub = Hub(hub_context)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA]))
    hub.send("school-montessori", native("school-zorgsignaal", pupil=BRAM))
    table = hub.ingest.households.members
    anna, bram = (hub_context.pseudonyms.child(c["bsn"]) for c in (ANNA, BRAM))
    stale = dict(table)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA, BRAM]))  # B into A
    assert table[bram] == stale[anna]
    table.update(stale)  # the other instance: it has not read the merge's table records yet
    hops = hub.send("wij-zuid", native("wij-regie-claim", household=[BRAM, ANNA]))  # A into B
    assert len(hops) <= 3, hops
    live = {h: s for h, s in hub.route.states.items() if s.merged_into is None}
    households = {stale[anna], stale[bram]}
    assert [h for h in households if h in live] == [hops[-1]]
    assert all(hub.route.states[h].merged_into == hops[-1] for h in households - {hops[-1]})
    # Both claims' regie survives in the one household, and a later message reaches it.
    assert live[hops[-1]].regie is not None
    table.update(stale)
    later = hub.send("huisarts-wijert", native("huisarts-signaal", child=ANNA))
    assert later[-1] == hops[-1]
    assert len(hub.route.states[hops[-1]].signals) == 2  # the school's (B's) and the GP's


def test_a_message_passed_on_too_often_fails_instead_of_going_round(
    hub_context: HubContext,
) -> None:
    """The backstop behind the cycle rule: past ``MOST_HOPS`` the route stage raises, which
    its loop turns into a DLQ record, rather than passing the message on again."""
    hub = Hub(hub_context)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA]))
    household = hub_context.pseudonyms.household_of(ANNA["bsn"])
    hub.route.states[household] = HouseholdState(merged_into="elsewhere")
    pending = hub.ingest.handle(
        InRecord("t.partner.huisarts-wijert.out", 0, 99, native("huisarts-signaal", child=ANNA))
    )
    canonical = next(r for r in pending if r.topic == hub_context.names.canonical)
    tired = [*canonical.headers, (HOPS, str(MOST_HOPS).encode())]
    with pytest.raises(ForwardLoop):
        hub.route.handle(InRecord(canonical.topic, 0, 1, canonical.value, canonical.key, tired))
    fresh = hub.route.handle(InRecord(canonical.topic, 0, 2, canonical.value, canonical.key,
                                      canonical.headers))  # fmt: skip
    assert header_value(fresh[0].headers, HOPS) == "1"


def test_what_route_skips_preparing_prepare_would_not_have_changed(
    hub_context: HubContext,
) -> None:
    """``nothing_to_prepare`` against ``prepare`` itself, for every canonical record of a
    merge, a split and plain messages: skipped ones it would leave as they are, and the
    ones it changes are not skipped."""
    hub = Hub(hub_context)
    moves, seen = hub.route.moves, {"skipped": 0, "prepared": 0}
    real_decide = moves.decide

    def decide(record: InRecord, envelope: RoutingEnvelope, before: HouseholdState,
               now: datetime) -> Any:  # fmt: skip
        prepared = moves.prepare(record, envelope, before, now)
        changes = prepared.decisions or prepared.out or prepared.state != before
        if nothing_to_prepare(record, envelope):
            seen["skipped"] += 1
            assert not changes and not prepared.handover_only, envelope.event
        elif changes:
            seen["prepared"] += 1
        return real_decide(record, envelope, before, now)

    object.__setattr__(moves, "decide", decide)
    hub.send("wij-zuid", native("wij-regie-claim", household=[ANNA]))
    hub.send("ojg-wijert", native("ojg-regie-claim", household=[BRAM]))
    hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[ANNA, BRAM], left=[]))
    hub.send("school-montessori", native("school-zorgsignaal", pupil=BRAM))
    hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[ANNA], left=[BRAM]))
    hub.send("huisarts-wijert", native("huisarts-signaal", child=BRAM))
    assert seen["skipped"] >= 3 and seen["prepared"] >= 2, seen
