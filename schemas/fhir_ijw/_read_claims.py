"""FHIR Claims and ClaimResponse back to JW323 and JW325."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from schemas.fhir_ijw._common import _bsn, _codes_of, _make, _one, _resources, _sub
from schemas.fhir_ijw._names import (
    DEBET_CREDIT_URL,
    DECLARATIE_ANTWOORD_URL,
    DECLARATIENUMMER_SYSTEM,
    PRODUCT_REFERENTIE_URL,
    TOEWIJZINGNUMMER_URL,
)
from schemas.ijw import Bericht
from schemas.ijw.models import (
    BedragMetDC,
    Declaratie,
    DeclaratieAntwoord,
    DeclaratieClient,
    GeslotenPeriode,
    Header,
    IjwModel,
    Jw323,
    Jw325,
    Prestatie,
    Referentie,
    TotaalBedragMetDC,
)


def _cents(money: Mapping[str, Any]) -> int:
    return round(float(money["value"]) * 100)


def _debet_credit(money: Mapping[str, Any]) -> str:
    return str(_sub(money["extension"], DEBET_CREDIT_URL)[0]["valueCode"])


def _prestatie(item: Mapping[str, Any]) -> Prestatie:
    extensions = item["extension"]
    referentie = {
        e["url"]: e["valueString"] for e in _sub(extensions, PRODUCT_REFERENTIE_URL)[0]["extension"]
    }
    period = item["servicedPeriod"]
    tarief = item.get("unitPrice")
    return Prestatie(
        product_referentie=Referentie(
            referentie_nummer=referentie["referentieNummer"],
            vorig_referentie_nummer=referentie.get("vorigReferentieNummer"),
        ),
        toewijzing_nummer=_sub(extensions, TOEWIJZINGNUMMER_URL)[0]["valueInteger"],
        product_categorie=item["category"]["coding"][0]["code"],
        product_code=item["productOrService"]["coding"][0]["code"],
        product_periode=GeslotenPeriode(
            begindatum=date.fromisoformat(period["start"]),
            einddatum=date.fromisoformat(period["end"]),
        ),
        geleverd_volume=item["quantity"]["value"],
        eenheid=item["quantity"]["code"],
        product_tarief=_cents(tarief) if tarief is not None else None,
        ingediend_bedrag=BedragMetDC(
            bedrag=_cents(item["net"]), debet_credit=_debet_credit(item["net"])
        ),
        retour_codes=_codes_of(item),
    )


def _declaratie_message(bundle: Mapping[str, Any], bericht: Bericht, header: Header) -> IjwModel:
    patients = {p["id"]: p for p in _resources(bundle, "Patient")}
    claims = _resources(bundle, "Claim")
    clienten = tuple(
        DeclaratieClient(
            bsn=_bsn(patients[c["patient"]["reference"].removeprefix("urn:uuid:")]),
            prestaties=tuple(_prestatie(i) for i in c["item"]),
            retour_codes=_codes_of(patients[c["patient"]["reference"].removeprefix("urn:uuid:")]),
        )
        for c in claims
    )
    if bericht is Bericht.JW323:
        first = claims[0]
        total = first["total"]
        return Jw323(
            header=header,
            declaratie=Declaratie(
                declaratie_nummer=first["identifier"][0]["value"],
                declaratie_periode=GeslotenPeriode(
                    begindatum=date.fromisoformat(first["billablePeriod"]["start"]),
                    einddatum=date.fromisoformat(first["billablePeriod"]["end"]),
                ),
                declaratie_dagtekening=date.fromisoformat(first["created"]),
                totaal_ingediend_bedrag=TotaalBedragMetDC(
                    totaal_bedrag=_cents(total), debet_credit=_debet_credit(total)
                ),
                clienten=clienten,
            ),
        )
    (response,) = _resources(bundle, "ClaimResponse")
    answer_ext = _one(response, DECLARATIE_ANTWOORD_URL)
    if answer_ext is None:
        return _make(Jw325, header=header)
    numbers = {i["system"]: i["value"] for i in response["identifier"]}
    totals = {t["category"]["coding"][0]["code"]: t["amount"] for t in response["total"]}
    return _make(
        Jw325,
        header=header,
        declaratie_antwoord=DeclaratieAntwoord(
            declaratie_nummer=numbers[DECLARATIENUMMER_SYSTEM],
            totaal_ingediend_bedrag=TotaalBedragMetDC(
                totaal_bedrag=_cents(totals["submitted"]),
                debet_credit=_debet_credit(totals["submitted"]),
            ),
            totaal_toegekend_bedrag=TotaalBedragMetDC(
                totaal_bedrag=_cents(totals["benefit"]),
                debet_credit=_debet_credit(totals["benefit"]),
            ),
            clienten=clienten,
            retour_codes=_codes_of(answer_ext),
        ),
    )
