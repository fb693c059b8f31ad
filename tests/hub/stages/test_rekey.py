"""A key rotation through the real ingest and route stages (no broker): a household on the
previous key moves to its new pseudonym when a message names one of its children, with
its regie, consents and dedupe memory, and nobody is told of anything."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.pseudonyms import Pseudonymiser, version_of
from hub.stages.rekey import known_as
from observability.metrics import HubMetrics
from schemas.audit import AuditAction
from tests.hub.stages.test_household_moves import ANNA, BRAM, Hub, native

OLD = Pseudonymiser(b"test-key")
NEW = Pseudonymiser(b"the-second-key", 2)
KID = {"bsn": "999990032", "birth_date": "2013-06-01"}  # 13: child and parent consent


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
    hub = Hub(replace(hub_context, pseudonyms=OLD))
    hub.send("wij-zuid", native("wij-regie-claim", household=[KID, BRAM]))
    hub.send("wij-zuid", consent(KID))
    table = hub.ingest.households.members
    old_household = table[OLD.child(KID["bsn"])]
    assert version_of(old_household) == 1
    rotate(hub)

    referral = native("ojg-verwijzing", child=KID)
    hops = hub.send("ojg-wijert", referral)
    new_household = NEW.successor(old_household)
    assert hops == [old_household, new_household], "the state went round as in a merge"
    assert version_of(new_household) == 2
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
