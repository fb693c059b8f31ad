"""Single-message iJw rules (CD, CS, TR) are checked at ingest: a message breaking one is
refused as ``rule-violation`` naming the element path and the rule code, never a value."""

from __future__ import annotations

import re

import pytest

from adapters import ijw
from adapters.base import AdapterError
from schemas.codes import RejectReason
from schemas.ijw import Bericht, rules
from schemas.ijw.models import Jw315
from tests.adapters.ijw_cases import PERSONAL, golden

ALL = tuple(Bericht)
P315 = "Client/AangevraagdeProducten/AangevraagdProduct[1]"
P301 = "Client/ToegewezenProducten/ToegewezenProduct[1]"
C301 = "Client/Contactgegevens/Contact"
P323 = "Declaratie/Clienten/Client[1]/Prestaties/Prestatie[1]"


def _swap(bericht: str, *pairs: tuple[bytes, bytes]) -> bytes:
    payload = golden(bericht)
    for old, new in pairs:
        assert old in payload, old
        payload = payload.replace(old, new, 1)
    return payload


OMVANG_301 = (
    b"<jw301:Omvang>\n          <ijw:Volume>2</ijw:Volume>\n          <ijw:Eenheid>04</ijw:Eenheid>"
    b"\n          <ijw:Frequentie>2</ijw:Frequentie>\n        </jw301:Omvang>"
)
CASES = [
    # (rule, path, payload)
    ("CD007", "Client/Communicatie/Taal", _swap("JW301", (b"<ijw:Vorm>1<", b"<ijw:Vorm>2<"))),
    (
        "CS050",
        "Client/Naam/NaamGebruik",
        _swap(
            "JW301",
            (
                b"<ijw:NaamGebruik>1</ijw:NaamGebruik>\n    </jw301:Naam>",
                b"<ijw:NaamGebruik>2</ijw:NaamGebruik>\n    </jw301:Naam>",
            ),
        ),
    ),
    (
        "CS318",
        "Client/Naam/NaamGebruik",
        _swap(
            "JW301",
            (
                b"<ijw:NaamGebruik>1</ijw:NaamGebruik>\n    </jw301:Naam>",
                b"<ijw:NaamGebruik>6</ijw:NaamGebruik>\n    </jw301:Naam>",
            ),
        ),
    ),
    ("CD009", f"{C301}[2]/Periode", _swap("JW301", (b"<jw301:Soort>04<", b"<jw301:Soort>02<"))),
    (
        "CS003",
        f"{C301}[2]/Periode/Einddatum",
        _swap("JW301", (b"<ijw:Einddatum>2027-01-31<", b"<ijw:Einddatum>2026-11-30<")),
    ),
    ("CS089", f"{C301}[1]/Adres/Postcode", _swap("JW301", (b">9700AA<", b">9700 AA<"))),
    (
        "CD005",
        f"{C301}[1]/Adres/LandCode",
        _swap("JW301", (b"<ijw:LandCode>NL</ijw:LandCode>", b"")),
    ),
    (
        "TR006",
        f"{C301}[1]",
        _swap(
            "JW301",
            (b"<ijw:Postcode>9700AA</ijw:Postcode>", b""),
            (b"<ijw:LandCode>NL</ijw:LandCode>", b""),
        ),
    ),
    (
        "TR061",
        "Client/Contactgegevens",
        _swap(
            "JW301",
            (
                b"<jw301:Contactgegevens>\n      <jw301:Contact>\n        <jw301:Soort>01<",
                b"<jw301:Contactgegevens>\n      <jw301:Contact>\n        <jw301:Soort>04<",
            ),
        ),
    ),
    (
        "CS139",
        "Client/Geboortedatum/DatumGebruik",
        _swap("JW305", (b"</ijw:Datum>", b"</ijw:Datum><ijw:DatumGebruik>2</ijw:DatumGebruik>")),
    ),
    (
        "TR002",
        "Client/Geboortedatum",
        _swap("JW301", (b"<ijw:Datum>2014-03-02<", b"<ijw:Datum>1906-03-01<")),
    ),
    (
        "CD041",
        f"{P301}/Omvang",
        _swap("JW301", (OMVANG_301, b"")),
    ),
    (
        "CD080",
        f"{P301}/Omvang",
        _swap(
            "JW301",
            (
                b"<ijw:Code>54001</ijw:Code>\n        </jw301:Product>\n"
                b"        <jw301:Toewijzingsdatum>",
                b"</jw301:Product>\n        <jw301:Toewijzingsdatum>",
            ),
        ),
    ),
    (
        "CS338",
        f"{P301}/Omvang/Frequentie",
        _swap(
            "JW301",
            (
                b"<ijw:Eenheid>04</ijw:Eenheid>\n          <ijw:Frequentie>2<",
                b"<ijw:Eenheid>14</ijw:Eenheid>\n          <ijw:Frequentie>1<",
            ),
        ),
    ),
    (
        "CD077",
        f"{P301}/Omvang",
        _swap("JW301", (b"</jw301:Omvang>", b"</jw301:Omvang><jw301:Budget>100</jw301:Budget>")),
    ),
    (
        "CS336",
        f"{P301}/RedenWijziging",
        _swap(
            "JW301",
            (
                b"</jw301:Einddatum>\n        <jw301:Omvang>",
                b"</jw301:Einddatum><jw301:RedenWijziging>01</jw301:RedenWijziging><jw301:Omvang>",
            ),
        ),
    ),
    (
        "CS335",
        f"{P301}/RedenWijziging",
        _swap(
            "JW301",
            (
                b"</jw301:Einddatum>\n        <jw301:Omvang>",
                b"</jw301:Einddatum><jw301:RedenWijziging>13</jw301:RedenWijziging><jw301:Omvang>",
            ),
        ),
    ),
    (
        "CD076",
        f"{P301}/Einddatum",
        _swap("JW301", (b"<jw301:Einddatum>2027-06-06</jw301:Einddatum>", b"")),
    ),
    (
        "CD068",
        f"{P315}/Verwijzer/ZorgverlenerCode",
        _swap("JW315", (b"<ijw:Type>02</ijw:Type>", b"<ijw:Type>06</ijw:Type>")),
    ),
    (
        "CD067",
        f"{P315}/Verwijzer/Naam",
        _swap("JW315", (b"<ijw:ZorgverlenerCode>01000001</ijw:ZorgverlenerCode>", b"")),
    ),
    (
        "CD043",
        f"{P315}/BeschikkingIngangsdatum",
        _swap(
            "JW315",
            (
                b"</jw315:ReferentieAanbieder>",
                b"</jw315:ReferentieAanbieder><jw315:BeschikkingNummer>12</jw315:BeschikkingNummer>",
            ),
        ),
    ),
    (
        "CS058",
        "Client/StartProducten/StartProduct[1]/StatusAanlevering",
        _swap("JW305", (b"<jw305:StatusAanlevering>1<", b"<jw305:StatusAanlevering>2<")),
    ),
    (
        "TR018",
        "Client/StopProducten/StopProduct[1]/Einddatum",
        _swap("JW307", (b"<jw307:Einddatum>2027-05-28<", b"<jw307:Einddatum>2026-12-08<")),
    ),
    (
        "TR353",
        "Client/Verzoek",
        re.sub(
            rb"<jw317:TeWijzigenProducten>.*</jw317:TeWijzigenProducten>",
            b"<jw317:OngewijzigdeProducten><jw317:OngewijzigdProduct><jw317:ToewijzingNummer>"
            b"300201</jw317:ToewijzingNummer></jw317:OngewijzigdProduct>"
            b"</jw317:OngewijzigdeProducten>",
            golden("JW317"),
            flags=re.DOTALL,
        ),
    ),
    (
        "CD085",
        "Antwoord/RedenAfwijzingVerzoek",
        _swap("JW319", (b"<jw319:VerzoekAntwoord>2<", b"<jw319:VerzoekAntwoord>1<")),
    ),
    (
        "TR409",
        "Antwoord/Woonplaatsbeginsel",
        _swap(
            "JW319",
            (
                b"</jw319:VerzoekAntwoord>",
                b"</jw319:VerzoekAntwoord><jw319:Woonplaatsbeginsel><jw319:Gemeente>0363</jw319:Gemeente></jw319:Woonplaatsbeginsel>",
            ),
        ),
    ),
    (
        "CS340",
        "Declaratie/DeclaratiePeriode",
        _swap(
            "JW323",
            (
                b"<ijw:Einddatum>2027-01-31</ijw:Einddatum>\n    </jw323:DeclaratiePeriode>",
                b"<ijw:Einddatum>2027-01-30</ijw:Einddatum>\n    </jw323:DeclaratiePeriode>",
            ),
        ),
    ),
    (
        "TR358",
        "Declaratie/TotaalIngediendBedrag",
        _swap("JW323", (b"<ijw:TotaalBedrag>21000<", b"<ijw:TotaalBedrag>21001<")),
    ),
    (
        "CD087",
        f"{P323}/ProductTarief",
        _swap("JW323", (b"<jw323:ProductTarief>2625</jw323:ProductTarief>", b"")),
    ),
    (
        "CD060",
        f"{P323}/ProductReferentie/VorigReferentieNummer",
        _swap(
            "JW323",
            (
                b"<ijw:Bedrag>21000</ijw:Bedrag>\n              <ijw:DebetCredit>D<",
                b"<ijw:Bedrag>21000</ijw:Bedrag>\n              <ijw:DebetCredit>C<",
            ),
        ),
    ),
    (
        "CS337",
        f"{P323}/ProductPeriode",
        _swap(
            "JW323",
            (
                b"<ijw:Einddatum>2027-01-31</ijw:Einddatum>\n            </jw323:ProductPeriode>",
                b"<ijw:Einddatum>2027-02-01</ijw:Einddatum>\n            </jw323:ProductPeriode>",
            ),
        ),
    ),
]


@pytest.mark.parametrize(("rule", "path", "payload"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_rule_is_refused_naming_path_and_rule(
    rule: str, path: str, payload: bytes
) -> None:
    with pytest.raises(AdapterError) as caught:
        ijw.parse(payload, ALL)
    error = caught.value
    assert error.code is RejectReason.RULE_VIOLATION, error.message
    assert f"{rule}: {path}" in error.message
    for value in PERSONAL:
        assert value not in error.message


def test_every_rule_under_test_is_a_checked_rule() -> None:
    assert {c[0] for c in CASES} <= set(rules.CHECKED)
    assert len(rules.CHECKED) >= 50


@pytest.mark.parametrize("bericht", [b.value for b in Bericht])
def test_the_golden_examples_keep_every_rule(bericht: str) -> None:
    _, message = ijw.parse(golden(bericht), ALL)
    assert rules.check(message) == []


def test_a_partly_unknown_birth_date_as_iv009_writes_it_is_read() -> None:
    payload = _swap(
        "JW305",
        (b"<ijw:Datum>2014-03-02</ijw:Datum>", b"<ijw:Datum>2014-01-01</ijw:Datum>"),
        (b"</ijw:Datum>", b"</ijw:Datum><ijw:DatumGebruik>2</ijw:DatumGebruik>"),
    )
    _, message = ijw.parse(payload, ALL)
    assert rules.check(message) == []


def test_dates_at_the_end_of_the_calendar_break_no_rule_check() -> None:
    far = _swap("JW301", (b"<ijw:Datum>2014-03-02<", b"<ijw:Datum>9999-12-31<"))
    _, message = ijw.parse(far, ALL)
    assert rules.check(message) == []


@pytest.mark.parametrize(
    ("bericht", "old", "new", "rule", "path"),
    [
        (
            "JW308",
            b"<jw308:Einddatum>2027-06-04<",
            b"<jw308:Einddatum>2026-12-01<",
            "TR018",
            "Client/StopProducten/StopProduct[1]/Einddatum",
        ),
        (
            "JW318",
            b"<jw318:Einddatum>2027-06-06<",
            b"<jw318:Einddatum>2027-01-06<",
            "CS003",
            "Client/Verzoek/TeWijzigenProducten/TeWijzigenProduct[1]/Einddatum",
        ),
    ],
)
def test_a_retour_echoing_a_period_that_ends_before_it_starts_is_refused(
    bericht: str, old: bytes, new: bytes, rule: str, path: str
) -> None:
    """Only the period rules judge a retour's echo: a FHIR Period may not end before it
    starts (per-1), whatever the other side sent."""
    with pytest.raises(AdapterError) as caught:
        ijw.parse(_swap(bericht, (old, new)), ALL)
    assert caught.value.code is RejectReason.RULE_VIOLATION
    assert f"{rule}: {path}" in caught.value.message


def test_a_retour_echo_is_not_judged_on_other_rules() -> None:
    """A JW302 echoing a JW301 whose Omvang misses (CD041) is still read: the rule is the
    municipality's to keep, the provider only returns what it got."""
    payload = _swap(
        "JW302",
        (b"<jw302:Omvang>", b"<jw302:X>"),
    )
    payload = re.sub(rb"<jw302:X>.*?</jw302:Omvang>", b"", payload, flags=re.DOTALL)
    _, message = ijw.parse(payload, ALL)
    assert rules.check(message) == []


def test_a_product_requested_twice_breaks_tr101_and_one_product_never_does() -> None:
    _, jw315 = ijw.parse(golden("JW315"), ALL)
    assert isinstance(jw315, Jw315)
    (product,) = jw315.client.aangevraagde_producten
    assert "TR101" not in {v.rule for v in rules.check(jw315)}
    twice = jw315.model_copy(
        update={
            "client": jw315.client.model_copy(update={"aangevraagde_producten": (product,) * 2})
        }
    )
    tr101 = [v for v in rules.check(twice) if v.rule == "TR101"]
    assert [v.path for v in tr101] == ["Client/AangevraagdeProducten/AangevraagdProduct[1]"]
