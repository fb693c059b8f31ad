"""A FHIR Patient back to the iJw Client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from schemas.codes import (
    BSN_SYSTEM,
)
from schemas.fhir_ijw._common import _coded, _codes_of, _date, _one, _sub
from schemas.fhir_ijw._names import (
    _GESLACHT,
    ADRESSOORT_URL,
    COMMUNICATIEVORM_URL,
    DATUMGEBRUIK_URL,
    HOUSE_NUMBER_URL,
    HUISLETTER_URL,
    JURIDISCHE_STATUS_URL,
    LANDNUMMER_URL,
    LOCATOR_URL,
    NAAMGEBRUIK_URL,
    ORGANISATIE_URL,
    OWN_NAME_URL,
    OWN_PREFIX_URL,
    PARTNER_NAME_URL,
    PARTNER_PREFIX_URL,
    PERIODE_URL,
    QUALIFIER_URL,
    RELATIE_GEBOORTEDATUM_URL,
    RELATIE_NUMMER_URL,
    RELATIE_VOLGORDE_URL,
    STREET_URL,
    TELECOM_URL,
    TOEVOEGING_URL,
    WETTELIJKE_VERTEGENWOORDIGING_URL,
)
from schemas.ijw.models import (
    Achternaam,
    Adres,
    Communicatie,
    Contact,
    Geboortedatum,
    Huis,
    Naam,
    OpenPeriode,
    Relatie,
    Telefoon,
    Telefoonnummers,
)


def _jw301_client_fields(patient: Mapping[str, Any]) -> dict[str, Any]:
    vorm = _coded(_one(patient, COMMUNICATIEVORM_URL))
    taal = [c["language"]["text"] for c in patient.get("communication", [])]
    return {
        "communicatie": (
            Communicatie(vorm=vorm, taal=taal[0] if taal else None) if vorm is not None else None
        ),
        "juridische_status": _coded(_one(patient, JURIDISCHE_STATUS_URL)),
        "wettelijke_vertegenwoordiging": _coded(_one(patient, WETTELIJKE_VERTEGENWOORDIGING_URL)),
        "relaties": tuple(_relatie_of(c) for c in patient.get("contact", [])),
    }


def _telefoon_of(points: list[Mapping[str, Any]]) -> Telefoonnummers | None:
    phones = sorted((p for p in points if p["system"] == "phone"), key=lambda p: p["rank"])
    if not phones:
        return None
    numbers = [
        Telefoon(
            telefoonnummer=p["value"],
            landnummer=_sub(p["extension"], LANDNUMMER_URL)[0]["valueString"],
        )
        for p in phones
    ]
    return Telefoonnummers(
        telefoon01=numbers[0], telefoon02=numbers[1] if len(numbers) > 1 else None
    )


def _email_of(points: list[Mapping[str, Any]]) -> str | None:
    mails = [p["value"] for p in points if p["system"] == "email"]
    return str(mails[0]) if mails else None


def _relatie_of(contact: Mapping[str, Any]) -> Relatie:
    extensions = contact["extension"]
    volgorde = _sub(extensions, RELATIE_VOLGORDE_URL)
    birth = _sub(extensions, RELATIE_GEBOORTEDATUM_URL)
    geboortedatum = None
    if birth:
        parts = {e["url"]: e for e in birth[0]["extension"]}
        geboortedatum = Geboortedatum(
            datum=date.fromisoformat(parts["datum"]["valueDate"]),
            datum_gebruik=parts["datumGebruik"]["valueCode"] if "datumGebruik" in parts else None,
        )
    points = contact.get("telecom", [])
    base = _contact(contact["address"])
    organisation = contact.get("organization", {}).get("display")
    return Relatie(
        nummer=_sub(extensions, RELATIE_NUMMER_URL)[0]["valueString"],
        volgorde=volgorde[0]["valueInteger"] if volgorde else None,
        soort=contact["relationship"][0]["coding"][0]["code"],
        geboortedatum=geboortedatum,
        geslacht=_GESLACHT[contact["gender"]] if "gender" in contact else None,
        naam=_naam(contact["name"]),
        contact=base.model_copy(
            update={
                "organisatie": organisation,
                "telefoon": _telefoon_of(points),
                "emailadres": _email_of(points),
            }
        ),
        retour_codes=_codes_of(contact),
    )


def _ja_nee(extension: Mapping[str, Any] | None) -> str | None:
    if extension is None:
        return None
    return "1" if extension["valueBoolean"] else "2"


def _client_fields(patient: Mapping[str, Any]) -> dict[str, Any]:
    bsn = next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM)
    usage = _sub(patient.get("_birthDate", {}).get("extension", []), DATUMGEBRUIK_URL)
    return {
        "bsn": bsn,
        "geboortedatum": Geboortedatum(
            datum=date.fromisoformat(patient["birthDate"]),
            datum_gebruik=usage[0]["valueCode"] if usage else None,
        ),
        "geslacht": _GESLACHT[patient["gender"]],
        "naam": _naam(patient["name"][0]),
    }


def _naam(name: Mapping[str, Any]) -> Naam:
    family = {e["url"]: e["valueString"] for e in name["_family"]["extension"]}
    partner = None
    if PARTNER_NAME_URL in family:
        partner = Achternaam(
            achternaam=family[PARTNER_NAME_URL], voorvoegsel=family.get(PARTNER_PREFIX_URL)
        )
    given: dict[str, str] = {}
    for value, ext in zip(name.get("given", []), name.get("_given", []), strict=True):
        given[_sub(ext["extension"], QUALIFIER_URL)[0]["valueCode"]] = value
    usage = _sub(name.get("extension", []), NAAMGEBRUIK_URL)
    return Naam(
        geslachtsnaam=Achternaam(
            achternaam=family[OWN_NAME_URL], voorvoegsel=family.get(OWN_PREFIX_URL)
        ),
        partnernaam=partner,
        voornamen=given.get("BR"),
        voorletters=given.get("IN"),
        naam_gebruik=usage[0]["valueCode"] if usage else None,
    )


def _contact(address: Mapping[str, Any]) -> Contact:
    soort = _sub(address["extension"], ADRESSOORT_URL)[0]["valueCode"]
    line = {
        e["url"]: e["valueString"]
        for e in (address.get("_line") or [{"extension": []}])[0]["extension"]
    }
    huis = None
    if HOUSE_NUMBER_URL in line:
        huis = Huis(
            huisnummer=int(line[HOUSE_NUMBER_URL]),
            huisletter=line.get(HUISLETTER_URL),
            huisnummer_toevoeging=line.get(TOEVOEGING_URL),
            aanduiding_woonadres=line.get(LOCATOR_URL),
        )
    fields = (huis, line.get(STREET_URL), address.get("postalCode"), address.get("city"))
    adres = None
    if any(f is not None for f in fields) or "country" in address:
        adres = Adres(
            huis=huis,
            postcode=address.get("postalCode"),
            straatnaam=line.get(STREET_URL),
            plaatsnaam=address.get("city"),
            land_code=address.get("country"),
        )
    extensions = address["extension"]
    organisatie = _sub(extensions, ORGANISATIE_URL)
    points = [e["valueContactPoint"] for e in _sub(extensions, TELECOM_URL)]
    periode = _sub(extensions, PERIODE_URL)
    return Contact(
        soort=soort,
        adres=adres,
        organisatie=organisatie[0]["valueString"] if organisatie else None,
        telefoon=_telefoon_of(points),
        emailadres=_email_of(points),
        periode=(
            OpenPeriode(
                begindatum=_date(periode[0]["valuePeriod"].get("start")),
                einddatum=_date(periode[0]["valuePeriod"].get("end")),
            )
            if periode
            else None
        ),
        retour_codes=_codes_of(address),
    )
