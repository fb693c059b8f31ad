"""The key census: households, forward pointers and table rows counted per key version."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.keyring import KeyRing
from hub.ops.key_census import VersionCount, census, stranded
from hub.stages.pseudonyms import Pseudonymiser
from routing.state import ConsentRecord, HouseholdState, Regie
from schemas.partners import PartnerKind

OLD, NEW = Pseudonymiser(b"o" * 16), Pseudonymiser(b"n" * 16, 2)
REGIE = Regie(partner_id="wij-zuid", kind=PartnerKind.WIJ, since=datetime.now(UTC),
              partner_message_id="M-1")  # fmt: skip
CONSENT = ConsentRecord(consent_id="T", child="c", given_by=(), purposes=(), recipients=(),
                        recipient_kinds=(), recorded_by="wij-zuid")  # fmt: skip


def test_counts_per_version_current_first() -> None:
    moved = OLD.household_of("1")
    states = {
        moved: HouseholdState(merged_into=NEW.successor(moved)),
        NEW.successor(moved): HouseholdState(regie=REGIE),
        OLD.household_of("2"): HouseholdState(regie=REGIE, consents=(CONSENT,)),
        OLD.household_of("3"): HouseholdState(),
    }
    members = {OLD.child("1"): NEW.successor(moved), NEW.child("1"): NEW.successor(moved),
               OLD.child("2"): OLD.household_of("2")}  # fmt: skip
    counts = census(KeyRing(NEW, OLD), states, members)
    assert counts == [
        VersionCount(2, "current", households=1, with_regie=1, children=1),
        VersionCount(1, "previous", households=2, with_regie=1, with_consents=1, moved=1,
                     children=2),
    ]  # fmt: skip
    assert stranded(counts, 1).households == 2


def test_an_unused_key_counts_zero_and_an_older_one_still_named_is_retired() -> None:
    counts = census(KeyRing(NEW), {OLD.household_of("1"): HouseholdState()}, {})
    assert counts == [VersionCount(2, "current"), VersionCount(1, "retired", households=1)]
    assert stranded([], 1) == VersionCount(1, "previous")
