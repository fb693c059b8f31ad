"""Hostile and broken iJw input for the message types beyond the first six: each case with
the sending partner and the one reject code it must get. Shared by the adapter tests and the
hostile-input suite on a real broker (``tests/e2e/test_hostile_input_e2e.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.codes import RejectReason as R
from tests.adapters.ijw_cases import PROVIDER, RIGG, billion_laughs, golden, xxe


@dataclass(frozen=True)
class IjwHostile:
    id: str
    partner: str
    payload: bytes
    reason: R


def _swap(bericht: str, old: bytes, new: bytes) -> bytes:
    payload = golden(bericht)
    assert old in payload, old
    return payload.replace(old, new, 1)


IJW_HOSTILE = [
    IjwHostile(
        "jw306-impossible-date",
        RIGG,
        _swap(
            "JW306",
            b"<jw306:DagtekeningRetour>2026-12-10<",
            b"<jw306:DagtekeningRetour>2026-02-30<",
        ),
        R.SCHEMA_INVALID,
    ),
    IjwHostile(
        "jw308-retourcode-outside-wj001",
        RIGG,
        _swap("JW308", b"<jw308:RetourCode>0200<", b"<jw308:RetourCode>9999<"),
        R.SCHEMA_INVALID,
    ),
    IjwHostile("jw317-from-the-rigg", RIGG, golden("JW317"), R.UNSUPPORTED_TYPE),
    IjwHostile(
        "jw317-changes-nothing",
        PROVIDER,
        _swap("JW317", b"<jw317:TeWijzigenProducten>", b"<jw317:NieuweProducten>")
        .replace(b"</jw317:TeWijzigenProducten>", b"</jw317:NieuweProducten>")
        .replace(b"<jw317:TeWijzigenProduct>", b"<jw317:NieuwProduct>")
        .replace(b"</jw317:TeWijzigenProduct>", b"</jw317:NieuwProduct>")
        .replace(b"<jw317:ToewijzingNummer>300201</jw317:ToewijzingNummer>", b""),
        R.RULE_VIOLATION,
    ),
    IjwHostile(
        "jw318-for-another-municipality",
        RIGG,
        _swap("JW318", b"<jw318:Ontvanger>0014<", b"<jw318:Ontvanger>0363<"),
        R.SENDER_MISMATCH,
    ),
    IjwHostile(
        "jw319-refusal-without-reason",
        RIGG,
        _swap("JW319", b"<jw319:VerzoekAntwoord>2<", b"<jw319:VerzoekAntwoord>1<"),
        R.RULE_VIOLATION,
    ),
    IjwHostile("jw319-xxe", RIGG, xxe(golden("JW319")), R.XML_UNSAFE),
    IjwHostile(
        "jw320-as-another-provider",
        PROVIDER,
        _swap("JW320", b"<jw320:Ontvanger>73000001<", b"<jw320:Ontvanger>73000002<"),
        R.SENDER_MISMATCH,
    ),
    IjwHostile(
        "jw323-totals-do-not-add-up",
        PROVIDER,
        _swap("JW323", b"<ijw:TotaalBedrag>21000<", b"<ijw:TotaalBedrag>99000<"),
        R.RULE_VIOLATION,
    ),
    IjwHostile(
        "jw323-bsn-elfproef",
        PROVIDER,
        _swap("JW323", b"<jw323:Bsn>999990019<", b"<jw323:Bsn>999990018<"),
        R.INVALID_BSN,
    ),
    IjwHostile(
        "jw323-declaratienummer-too-long",
        PROVIDER,
        _swap(
            "JW323",
            b"<jw323:DeclaratieNummer>DECL2027001<",
            b"<jw323:DeclaratieNummer>DECL2027001XYZ<",
        ),
        R.SCHEMA_INVALID,
    ),
    IjwHostile(
        "jw323-entity-bomb",
        PROVIDER,
        billion_laughs(),
        R.XML_UNSAFE,
    ),
    IjwHostile(
        "jw325-to-an-unknown-provider",
        RIGG,
        _swap("JW325", b"<jw325:Ontvanger>73000001<", b"<jw325:Ontvanger>99999999<"),
        R.UNKNOWN_RECIPIENT,
    ),
    IjwHostile(
        "jw301-unclosed-element",
        RIGG,
        golden("JW301").replace(b"<jw301:Relaties>", b"<jw301:Relaties-x>", 1),
        R.MALFORMED,
    ),
    IjwHostile(
        "jw302-header-only-with-a-bad-code",
        PROVIDER,
        _swap(
            "JW302",
            b"</jw302:XsdVersieRetour>",
            b"</jw302:XsdVersieRetour><jw302:RetourCodes><jw302:RetourCode>02</jw302:RetourCode></jw302:RetourCodes>",
        ),
        R.SCHEMA_INVALID,
    ),
]
