"""A key rotation through the real ingest and route stages (no broker): a household on the
previous key moves to its new pseudonym when a message names one of its children, with
its regie, consents and dedupe memory, and nobody is told of anything."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from hub.context import HubContext
from hub.kafka.partitioner import partition_of
from hub.stages.ingest import IngestStage
from hub.stages.pseudonyms import Pseudonymiser, version_of
from hub.stages.records import InRecord, OutRecord
from hub.stages.rekey import known_as, successor
from observability.metrics import HubMetrics
from schemas.audit import AuditAction
from tests.hub.stages.test_household_moves import ANNA, BRAM, Hub, native

OLD = Pseudonymiser(b"test-key")
NEW = Pseudonymiser(b"the-second-key", 2)
KID = {"bsn": "999990032", "birth_date": "2013-06-01"}  # 13: child and parent consent


class PartitionedHub(Hub):
    """The harness with each record in the partition its key gives, as on the broker."""

    def _in(self, record: OutRecord) -> InRecord:
        assert record.key is not None
        partition = partition_of(record.key.decode(), self.ctx.settings.partitions)
        return InRecord(record.topic, partition, self.offset, record.value, record.key,
                        record.headers, timestamp_ms=1)  # fmt: skip


def rotate(hub: Hub) -> None:
    """What a restart after `ketenhub keys rotate` gives ingest: the new key current, the
    old one readable, the household table it had."""
    ctx = replace(hub.ctx, pseudonyms=NEW, previous_pseudonyms=OLD)
    hub.ingest = IngestStage(ctx, HubMetrics(), households=hub.ingest.households)


def consent(child: dict[str, str]) -> bytes:
    return native(
        "wij-toestemming", consent_id=f"TOE-{uuid.uuid4().hex[:6]}", child=child,
        given_by=["child", "parent"], purposes=["verwijzing"],
        recipients=["aanbieder-kompas"], recipient_kinds=[],
    )  # fmt: skip


def answers(hub: Hub, partner: str) -> list[dict[str, Any]]:
    return [m for m in hub.inboxes[partner] if m["_kind"] in ("ack", "nack")]


def test_a_household_moves_to_the_new_key_with_its_regie_and_consents(
    hub_context: HubContext,
) -> None:
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID, BRAM]))
    hub.send("wij-zuid", consent(KID))
    table = hub.ingest.households.members
    old_household = table[OLD.child(KID["bsn"])]
    assert version_of(old_household) == 1
    rotate(hub)

    referral = native("ojg-verwijzing", child=KID)
    hops = hub.send("ojg-wijert", referral)
    new_household = successor(NEW, old_household, hub_context.settings.partitions)
    assert hops == [old_household], "handed over in place: no hop round the topic"
    assert version_of(new_household) == 2
    n = hub_context.settings.partitions
    assert partition_of(new_household, n) == partition_of(old_household, n)
    states = hub.route.states
    assert states[old_household].merged_into == new_household
    moved = states[new_household]
    assert moved.regie is not None and moved.regie.partner_id == "wij-zuid"
    assert [c.child for c in moved.consents] == [NEW.child(KID["bsn"])], "renamed child"
    [delivered] = [a for a in answers(hub, "ojg-wijert") if a["in_response_to"]]
    assert delivered["type"] == "ack" and delivered["delivered_to"] == ["aanbieder-kompas"]
    assert not [m for m in hub.inboxes["wij-zuid"] if m.get("subject") == "household-merged"]
    [rekeyed] = [r for r in hub.audit if r.attributes.action is AuditAction.REKEYED]
    assert rekeyed.attributes.other_household == old_household
    assert rekeyed.attributes.household == new_household
    assert KID["bsn"] not in rekeyed.to_json().decode()

    # Bram was not named: the table still knows him by his old pseudonym, in the new home.
    assert table[OLD.child(BRAM["bsn"])] == new_household
    assert NEW.child(BRAM["bsn"]) not in table
    second = hub.send("ojg-wijert", native("ojg-regie-claim", household=[BRAM]))
    assert second == [new_household]
    nack = answers(hub, "ojg-wijert")[-1]
    assert (nack["type"], nack["reason_code"]) == ("nack", "regie-conflict")
    assert table[NEW.child(BRAM["bsn"])] == new_household


def test_a_resend_after_the_rotation_is_still_known_as_one(hub_context: HubContext) -> None:
    hub = Hub(replace(hub_context, pseudonyms=OLD))
    signal = native("huisarts-signaal", child=ANNA)
    hub.send("huisarts-wijert", signal)
    rotate(hub)
    hub.send("huisarts-wijert", signal)
    first, again = answers(hub, "huisarts-wijert")
    assert (first["duplicate"], again["duplicate"]) == (False, True)


def test_without_a_previous_key_nothing_is_renamed() -> None:
    members = {OLD.child("999990019"): "h"}
    assert known_as(members, NEW, None, ["999990019"]).previous == {}
    found = known_as(members, NEW, OLD, ["999990019", "999990020"])
    assert found.renamed == ((OLD.child("999990019"), NEW.child("999990019")),)
    assert found(NEW.child("999990019")) == OLD.child("999990019")
    assert found(NEW.child("999990020")) == NEW.child("999990020")


def test_a_message_keyed_to_the_new_pseudonym_at_once_finds_the_state_there(
    hub_context: HubContext,
) -> None:
    """Two referrals ingested before route gets to the first: the second is keyed to the
    new pseudonym already, so it would overtake a state sent round the topic."""
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID]))
    hub.send("wij-zuid", consent(KID))
    rotate(hub)
    canonical = []
    for body in (native("ojg-verwijzing", child=KID), native("ojg-verwijzing", child=KID)):
        hub.offset += 1
        ingested = hub.ingest.handle(InRecord("t.partner.ojg-wijert.out", 0, hub.offset, body))
        canonical += [r for r in ingested if r.topic == hub_context.names.canonical]
    first, second = (hub._in(r) for r in canonical)
    assert first.key != second.key and first.partition == second.partition
    acks = []
    for record in (first, second):
        for out in hub.route.handle(record):
            if out.topic == hub_context.names.partner_in("ojg-wijert"):
                acks.append(json.loads(out.value))
    assert [(a["type"], a["delivered_to"]) for a in acks] == [("ack", ["aanbieder-kompas"])] * 2


def test_a_household_in_another_partition_goes_round_the_topic_as_in_a_merge(
    hub_context: HubContext,
) -> None:
    """The harness puts every record in partition 0: the old household is (mostly) not
    where its key says, so the state travels, and arrives all the same."""
    hub = Hub(replace(hub_context, pseudonyms=OLD))
    n = hub_context.settings.partitions
    kid = next(
        k for k in ({"bsn": b, "birth_date": "2013-06-01"} for b in ("999990032", "999990044",
                    "999990056", "999990068", "999990081"))
        if partition_of(OLD.household_of(k["bsn"]), n) != 0
    )  # fmt: skip
    hub.send("wij-zuid", native("wij-regie-claim", household=[kid]))
    hub.send("wij-zuid", consent(kid))
    old_household = OLD.household_of(kid["bsn"])
    rotate(hub)
    hops = hub.send("ojg-wijert", native("ojg-verwijzing", child=kid))
    assert hops == [old_household, successor(NEW, old_household, n)]
    [ack] = [a for a in answers(hub, "ojg-wijert")]
    assert ack["delivered_to"] == ["aanbieder-kompas"]


def test_a_household_on_the_old_key_that_splits_moves_and_splits_in_one_message(
    hub_context: HubContext,
) -> None:
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID, BRAM]))
    hub.send("school-montessori", native("school-zorgsignaal", pupil=BRAM))
    old_household = hub.ingest.households.members[OLD.child(KID["bsn"])]
    rotate(hub)
    hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[KID], left=[BRAM]))
    table, states = hub.ingest.households.members, hub.route.states
    moved = successor(NEW, old_household, hub_context.settings.partitions)
    bram = table[NEW.child(BRAM["bsn"])]
    assert table[NEW.child(KID["bsn"])] == moved and bram not in (moved, old_household)
    assert version_of(bram) == 2
    assert [s.child for s in states[bram].signals] == [NEW.child(BRAM["bsn"])]
    assert not states[moved].signals
    kept = states[moved].regie
    assert kept is not None and kept.partner_id == "wij-zuid"


def test_a_household_on_the_old_key_named_with_one_on_the_new_key_merges_for_real(
    hub_context: HubContext,
) -> None:
    """Two households together: a real merge (both told), one of them also moving keys."""
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID]))
    old_household = hub.ingest.households.members[OLD.child(KID["bsn"])]
    rotate(hub)
    hub.send("ojg-wijert", native("ojg-regie-claim", household=[BRAM]))
    hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[KID, BRAM], left=[]))
    table, states = hub.ingest.households.members, hub.route.states
    moved = successor(NEW, old_household, hub_context.settings.partitions)
    assert table[NEW.child(KID["bsn"])] == table[NEW.child(BRAM["bsn"])] == moved
    regie = states[moved].regie
    assert regie is not None and regie.partner_id == "wij-zuid", "the earlier regie kept"
    assert hub.notices("ojg-wijert", "household-merged")
    actions = [r.attributes.action for r in hub.audit]
    assert AuditAction.REKEYED in actions and AuditAction.MERGED in actions


def test_each_moved_household_is_counted_once(hub_context: HubContext) -> None:
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID]))
    rotate(hub)
    for _ in range(2):
        hub.send("huisarts-wijert", native("huisarts-signaal", child=KID))
    registry = hub.route.metrics.registry
    assert registry.get_sample_value("ketenhub_households_rekeyed_total", {"event": "signal"}) == 1


def test_a_child_on_the_old_key_in_another_household_does_not_leave_this_one(
    hub_context: HubContext,
) -> None:
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID, BRAM]))
    hub.send("huisarts-wijert", native("huisarts-signaal", child=ANNA))
    table = hub.ingest.households.members
    annas = table[OLD.child(ANNA["bsn"])]
    rotate(hub)
    hub.send("wij-zuid", native("wij-huishouden-wijziging", together=[KID], left=[ANNA]))
    assert NEW.child(ANNA["bsn"]) not in table, "Anna was never in Kid's household"
    assert table[OLD.child(ANNA["bsn"])] == annas


def test_an_ingest_still_on_the_old_key_fails_closed_and_the_resend_goes_through(
    hub_context: HubContext,
) -> None:
    """The window while ingest instances restart one by one (docs/key-rotation.md)."""
    hub = PartitionedHub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID]))
    hub.send("wij-zuid", consent(KID))
    table = hub.ingest.households
    rotate(hub)
    hub.send("ojg-wijert", native("ojg-verwijzing", child=KID))  # moves the household
    lagging = replace(hub.ctx, pseudonyms=OLD, previous_pseudonyms=None)
    hub.ingest = IngestStage(lagging, HubMetrics(), households=table)
    referral = native("ojg-verwijzing", child=KID)
    hub.send("ojg-wijert", referral)
    refused = answers(hub, "ojg-wijert")[-1]
    assert (refused["type"], refused["reason_code"]) == ("nack", "no-legal-basis")
    rotate(hub)  # that instance restarted on the new key
    hub.send("ojg-wijert", referral)
    resent = answers(hub, "ojg-wijert")[-1]
    assert (resent["type"], resent["delivered_to"]) == ("ack", ["aanbieder-kompas"])
