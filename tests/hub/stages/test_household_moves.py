"""Households that merge and split through the real ingest and route stages (no broker):
records go round as the loop would move them, canonical records included."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import HEADER_KIND, InRecord, OutRecord
from hub.stages.route import RouteStage
from observability.audit import LogboekRecord
from observability.metrics import HubMetrics
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

    def send(self, partner: str, payload: bytes) -> list[str]:
        """Publish, then run the stages until nothing is left; the households of the
        canonical records it took, in order."""
        self.offset += 1
        pending = self.ingest.handle(InRecord(f"t.partner.{partner}.out", 0, self.offset, payload))
        self.ingest.batch_committed()
        hops = []
        while pending:
            record, pending = pending[0], pending[1:]
            if record.topic == self.ctx.names.canonical:
                hops.append(RoutingEnvelope.from_headers(record.headers).household)
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
