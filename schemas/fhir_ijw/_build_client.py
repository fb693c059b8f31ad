"""The iJw Client as a FHIR Patient (names, addresses, relations)."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.codes import (
    BSN_SYSTEM,
)
from schemas.fhir import FhirDict
from schemas.fhir_ijw._common import _coding, _ext, _retour_exts, _with_extensions
from schemas.fhir_ijw._names import (
    _GENDER,
    ADRESSOORT_URL,
    COMMUNICATIEVORM_SYSTEM,
    COMMUNICATIEVORM_URL,
    DATUMGEBRUIK_URL,
    GEZAGSDRAGER_URL,
    HOUSE_NUMBER_URL,
    HUISLETTER_URL,
    JURIDISCHE_STATUS_SYSTEM,
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
    SOORT_RELATIE_SYSTEM,
    STREET_URL,
    TELECOM_URL,
    TOEVOEGING_URL,
    WETTELIJKE_VERTEGENWOORDIGING_SYSTEM,
    WETTELIJKE_VERTEGENWOORDIGING_URL,
)
from schemas.ijw.models import (
    Client,
    Contact,
    Jw301Client,
    Naam,
    Relatie,
)


def _patient(patient_id: str, client: Client) -> FhirDict:
    birth = client.geboortedatum
    patient: FhirDict = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": BSN_SYSTEM, "value": client.bsn}],
        "name": [_human_name(client.naam)],
        "gender": _GENDER[client.geslacht.value],
        "birthDate": birth.datum.isoformat(),
    }
    if birth.datum_gebruik is not None:
        patient["_birthDate"] = {
            "extension": [_ext(DATUMGEBRUIK_URL, valueCode=birth.datum_gebruik.value)]
        }
    extensions = _retour_exts(getattr(client, "retour_codes", ()))
    gezag = getattr(client, "gezagsdrager_bekend", None)
    if gezag is not None:
        extensions.insert(0, _ext(GEZAGSDRAGER_URL, valueBoolean=gezag.value == "1"))
    if isinstance(client, Jw301Client):
        extensions[:0] = _jw301_client_extensions(client)
        if client.communicatie is not None and client.communicatie.taal is not None:
            patient["communication"] = [{"language": {"text": client.communicatie.taal}}]
        if client.relaties:
            patient["contact"] = [_relatie(r) for r in client.relaties]
        patient["address"] = [_address(c) for c in client.contactgegevens]
    return _with_extensions(patient, extensions)


def _jw301_client_extensions(client: Jw301Client) -> list[FhirDict]:
    extensions: list[FhirDict] = []
    if client.communicatie is not None:
        vorm = _coding(COMMUNICATIEVORM_SYSTEM, client.communicatie.vorm)
        extensions.append(_ext(COMMUNICATIEVORM_URL, valueCoding=vorm))
    if client.juridische_status is not None:
        status = _coding(JURIDISCHE_STATUS_SYSTEM, client.juridische_status)
        extensions.append(_ext(JURIDISCHE_STATUS_URL, valueCoding=status))
    if client.wettelijke_vertegenwoordiging is not None:
        wv = _coding(WETTELIJKE_VERTEGENWOORDIGING_SYSTEM, client.wettelijke_vertegenwoordiging)
        extensions.append(_ext(WETTELIJKE_VERTEGENWOORDIGING_URL, valueCoding=wv))
    return extensions


def _bare_patient(patient_id: str, bsn: str, retour_codes: Iterable[str]) -> FhirDict:
    """A client named by BSN only (JW317, JW323): nothing more is known of them here."""
    patient: FhirDict = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": BSN_SYSTEM, "value": bsn}],
    }
    return _with_extensions(patient, _retour_exts(retour_codes))


def _relatie(relatie: Relatie) -> FhirDict:
    """A Relatie as Patient.contact: relationship (COD472), name, gender, address, telecom."""
    extensions = [_ext(RELATIE_NUMMER_URL, valueString=relatie.nummer)]
    if relatie.volgorde is not None:
        extensions.append(_ext(RELATIE_VOLGORDE_URL, valueInteger=relatie.volgorde))
    if relatie.geboortedatum is not None:
        birth = [_ext("datum", valueDate=relatie.geboortedatum.datum.isoformat())]
        if relatie.geboortedatum.datum_gebruik is not None:
            birth.append(_ext("datumGebruik", valueCode=relatie.geboortedatum.datum_gebruik.value))
        extensions.append({"url": RELATIE_GEBOORTEDATUM_URL, "extension": birth})
    extensions += _retour_exts(relatie.retour_codes)
    contact: FhirDict = {
        "extension": extensions,
        "relationship": [{"coding": [_coding(SOORT_RELATIE_SYSTEM, relatie.soort)]}],
        "name": _human_name(relatie.naam),
    }
    telecom = _telecom(relatie.contact)
    if telecom:
        contact["telecom"] = telecom
    contact["address"] = _address(relatie.contact, with_telecom=True)
    if relatie.geslacht is not None:
        contact["gender"] = _GENDER[relatie.geslacht.value]
    if relatie.contact.organisatie is not None:
        contact["organization"] = {"display": relatie.contact.organisatie}
    return contact


def _telecom(contact: Contact) -> list[FhirDict]:
    points: list[FhirDict] = []
    if contact.telefoon is not None:
        for rank, phone in enumerate((contact.telefoon.telefoon01, contact.telefoon.telefoon02)):
            if phone is not None:
                points.append(
                    {
                        "extension": [_ext(LANDNUMMER_URL, valueString=phone.landnummer)],
                        "system": "phone",
                        "value": phone.telefoonnummer,
                        "rank": rank + 1,
                    }
                )
    if contact.emailadres is not None:
        points.append({"system": "email", "value": contact.emailadres})
    return points


def _human_name(naam: Naam) -> FhirDict:
    family_parts = [_ext(OWN_NAME_URL, valueString=naam.geslachtsnaam.achternaam)]
    family = naam.geslachtsnaam.achternaam
    if naam.geslachtsnaam.voorvoegsel:
        family_parts.insert(0, _ext(OWN_PREFIX_URL, valueString=naam.geslachtsnaam.voorvoegsel))
        family = f"{naam.geslachtsnaam.voorvoegsel} {family}"
    if naam.partnernaam is not None:
        if naam.partnernaam.voorvoegsel:
            family_parts.append(_ext(PARTNER_PREFIX_URL, valueString=naam.partnernaam.voorvoegsel))
        family_parts.append(_ext(PARTNER_NAME_URL, valueString=naam.partnernaam.achternaam))
    name: FhirDict = {"family": family, "_family": {"extension": family_parts}}
    given: list[str] = []
    given_ext: list[FhirDict] = []
    for value, qualifier in ((naam.voornamen, "BR"), (naam.voorletters, "IN")):
        if value is not None:
            given.append(value)
            given_ext.append({"extension": [_ext(QUALIFIER_URL, valueCode=qualifier)]})
    if given:
        name["given"], name["_given"] = given, given_ext
    if naam.naam_gebruik is not None:
        name["extension"] = [_ext(NAAMGEBRUIK_URL, valueCode=naam.naam_gebruik.value)]
    return name


def _address(contact: Contact, *, with_telecom: bool = False) -> FhirDict:
    """A Contact as an Address; its organisation, phones and e-mail as extensions on it,
    unless they are carried elsewhere (``with_telecom``: a Relatie's contact)."""
    address: FhirDict = {}
    extensions = [_ext(ADRESSOORT_URL, valueCode=contact.soort.value)]
    if not with_telecom:
        if contact.organisatie is not None:
            extensions.append(_ext(ORGANISATIE_URL, valueString=contact.organisatie))
        extensions += [_ext(TELECOM_URL, valueContactPoint=t) for t in _telecom(contact)]
    if contact.periode is not None:
        period: FhirDict = {}
        if contact.periode.begindatum is not None:
            period["start"] = contact.periode.begindatum.isoformat()
        if contact.periode.einddatum is not None:
            period["end"] = contact.periode.einddatum.isoformat()
        extensions.append(_ext(PERIODE_URL, valuePeriod=period))
    adres = contact.adres
    if adres is not None:
        line_parts: list[FhirDict] = []
        text: list[str] = []
        if adres.straatnaam is not None:
            line_parts.append(_ext(STREET_URL, valueString=adres.straatnaam))
            text.append(adres.straatnaam)
        if adres.huis is not None:
            huis = adres.huis
            line_parts.append(_ext(HOUSE_NUMBER_URL, valueString=str(huis.huisnummer)))
            if huis.huisletter is not None:
                line_parts.append(_ext(HUISLETTER_URL, valueString=huis.huisletter))
            if huis.huisnummer_toevoeging is not None:
                line_parts.append(_ext(TOEVOEGING_URL, valueString=huis.huisnummer_toevoeging))
            if huis.aanduiding_woonadres is not None:
                line_parts.append(_ext(LOCATOR_URL, valueString=huis.aanduiding_woonadres.value))
            suffix = "".join(
                p for p in (huis.huisletter, huis.huisnummer_toevoeging) if p is not None
            )
            text.append(f"{huis.huisnummer}{suffix}")
        if line_parts:
            address["line"] = [" ".join(text)]
            address["_line"] = [{"extension": line_parts}]
        if adres.postcode is not None:
            address["postalCode"] = adres.postcode
        if adres.plaatsnaam is not None:
            address["city"] = adres.plaatsnaam
        if adres.land_code is not None:
            address["country"] = adres.land_code
    extensions += _retour_exts(contact.retour_codes)
    return {"extension": extensions, **address}
