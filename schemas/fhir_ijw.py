"""Canonical FHIR R4 message Bundles for the iJw (Jeugdwet) messages, and back.

Like ``schemas.fhir``, Bundles are plain dicts, validated once with ``validate_bundle`` where
they are made. The mapping (see ``schemas/ijw/README.md``):

- JW315 verzoek om toewijzing: one ServiceRequest per AangevraagdProduct, ``status`` active,
  ``intent`` **proposal** (the provider proposes care; the municipality's JW301 is the order),
  ``requester`` the Verwijzer (AGB identifier, or its name as ``display``) + Patient.
- JW301 toewijzing: one Task per ToegewezenProduct (``identifier`` ToewijzingNummer,
  ``basedOn`` the JW315's ReferentieAanbieder, ``executionPeriod``, product and Omvang as
  ``input``) + Patient with the Contactgegevens as addresses.
- JW316 / JW302 retourberichten: the content of the answered message (as above, each class
  with its WJ001 retourcodes as extensions) + one answer Task, ``status`` accepted when every
  retourcode accepts (0200, 0233), else rejected with the first other code as ``statusReason``.
- JW305 / JW307: one EpisodeOfCare per Start-/StopProduct, ``active`` with ``period.start``
  or ``finished`` with ``period.end`` and the JZ588 end reason; StatusAanlevering 3
  (verwijderen) is ``entered-in-error``.

Each Bundle has a MessageHeader (event from ``EVENT_SYSTEM``, source/destination endpoints,
focus) carrying the iJw header (BerichtIdentificatie, XsdVersie, retour fields) as one
extension; Afzender and Ontvanger are its ``sender`` and ``destination.receiver``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from schemas.codes import (
    AGB_SYSTEM,
    BSN_SYSTEM,
    EVENT_SYSTEM,
    MessageEvent,
    partner_endpoint,
    partner_message_id_system,
)
from schemas.fhir import FhirDict
from schemas.ids import derived_id
from schemas.ijw import Bericht
from schemas.ijw.models import (
    NO_REMARK,
    AangevraagdProduct,
    Achternaam,
    Adres,
    Antwoord,
    BedragMetDC,
    BerichtIdentificatie,
    Client,
    Communicatie,
    Contact,
    Declaratie,
    DeclaratieAntwoord,
    DeclaratieClient,
    Geboortedatum,
    GeslotenPeriode,
    Header,
    Huis,
    IjwModel,
    Jw301,
    Jw301Client,
    Jw302,
    Jw305,
    Jw305Client,
    Jw306,
    Jw307,
    Jw307Client,
    Jw308,
    Jw315,
    Jw315Client,
    Jw316,
    Jw317,
    Jw317Client,
    Jw318,
    Jw319,
    Jw320,
    Jw323,
    Jw325,
    Jw325Header,
    Naam,
    NieuwProduct,
    Omvang,
    OngewijzigdProduct,
    OpenPeriode,
    Prestatie,
    Product,
    Referentie,
    Relatie,
    RetourHeader,
    StartProduct,
    StopProduct,
    Telefoon,
    Telefoonnummers,
    TeWijzigenProduct,
    ToegewezenProduct,
    TotaalBedragMetDC,
    Verwijzer,
    Verzoek,
    Woonplaatsbeginsel,
    XsdVersie,
    model_of,
)

_NS = "urn:ketenhub:"
GEMEENTE_SYSTEM = _NS + "namingsystem:cbs-gemeentecode"
TOEWIJZINGNUMMER_SYSTEM = _NS + "namingsystem:ijw-toewijzingnummer"
REFERENTIE_AANBIEDER_SYSTEM = _NS + "namingsystem:ijw-referentie-aanbieder"
BESCHIKKINGNUMMER_SYSTEM = _NS + "namingsystem:ijw-beschikkingnummer"
PRODUCTCATEGORIE_SYSTEM = _NS + "codesystem:ijw:jz020-productcategorie"
PRODUCTCODE_SYSTEM = _NS + "codesystem:ijw:productcode"
EENHEID_SYSTEM = _NS + "codesystem:ijw:wj756-eenheid"
FREQUENTIE_SYSTEM = _NS + "codesystem:ijw:wmo757-frequentie"
VERWIJZER_SYSTEM = _NS + "codesystem:ijw:cod327-verwijzer"
REDEN_WIJZIGING_SYSTEM = _NS + "codesystem:ijw:jz002-reden-wijziging"
REDEN_BEEINDIGING_SYSTEM = _NS + "codesystem:ijw:jz588-reden-beeindiging"
STATUS_AANLEVERING_SYSTEM = _NS + "codesystem:ijw:cod467-status-aanlevering"
RETOURCODE_SYSTEM = _NS + "codesystem:ijw:wj001-retourcode"
COMMUNICATIEVORM_SYSTEM = _NS + "codesystem:ijw:cod747-communicatievorm"
JURIDISCHE_STATUS_SYSTEM = _NS + "codesystem:ijw:wj232-juridische-status"
WETTELIJKE_VERTEGENWOORDIGING_SYSTEM = _NS + "codesystem:ijw:wj003-wettelijke-vertegenwoordiging"
SOORT_RELATIE_SYSTEM = _NS + "codesystem:ijw:cod472-soort-relatie"
REDEN_VERZOEK_SYSTEM = _NS + "codesystem:ijw:wj758-reden-verzoek"
VERZOEK_ANTWOORD_SYSTEM = _NS + "codesystem:ijw:wj760-verzoek-antwoord"
REDEN_AFWIJZING_SYSTEM = _NS + "codesystem:ijw:wj759-reden-afwijzing-verzoek"
DECLARATIENUMMER_SYSTEM = _NS + "namingsystem:ijw-declaratienummer"
DECLARATIE_IDENTIFICATIE_SYSTEM = _NS + "namingsystem:ijw-declaratie-identificatie"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
CLAIM_TYPE_SYSTEM = _TERMINOLOGY + "claim-type"
PRIORITY_SYSTEM = _TERMINOLOGY + "processpriority"
ADJUDICATION_SYSTEM = _TERMINOLOGY + "adjudication"
ELEMENT_SYSTEM = _NS + "codesystem:ijw:element"
"""Names the iJw element a Task.input carries (its code is the element name)."""

HEADER_URL = _NS + "extension:ijw-header"
RETOURCODE_URL = _NS + "extension:ijw-retourcode"
DATUMGEBRUIK_URL = _NS + "extension:ijw-datumgebruik"
NAAMGEBRUIK_URL = _NS + "extension:ijw-naamgebruik"
GEZAGSDRAGER_URL = _NS + "extension:ijw-gezagsdrager-bekend"
ADRESSOORT_URL = _NS + "extension:ijw-adressoort"
HUISLETTER_URL = _NS + "extension:ijw-huisletter"
TOEVOEGING_URL = _NS + "extension:ijw-huisnummertoevoeging"
VERWIJZER_TYPE_URL = _NS + "extension:ijw-verwijzer-type"
FREQUENTIE_URL = _NS + "extension:ijw-frequentie"
BUDGET_URL = _NS + "extension:ijw-budget"
BESCHIKKING_INGANG_URL = _NS + "extension:ijw-beschikking-ingangsdatum"
RAAMCONTRACT_URL = _NS + "extension:ijw-raamcontract"
TOEWIJZING_INGANG_URL = _NS + "extension:ijw-toewijzing-ingangsdatum"
STATUS_AANLEVERING_URL = _NS + "extension:ijw-status-aanlevering"
REDEN_BEEINDIGING_URL = _NS + "extension:ijw-reden-beeindiging"
COMMUNICATIEVORM_URL = _NS + "extension:ijw-communicatievorm"
JURIDISCHE_STATUS_URL = _NS + "extension:ijw-juridische-status"
WETTELIJKE_VERTEGENWOORDIGING_URL = _NS + "extension:ijw-wettelijke-vertegenwoordiging"
ORGANISATIE_URL = _NS + "extension:ijw-contact-organisatie"
TELECOM_URL = _NS + "extension:ijw-contact-telecom"
PERIODE_URL = _NS + "extension:ijw-contact-periode"
LANDNUMMER_URL = _NS + "extension:ijw-landnummer"
RELATIE_NUMMER_URL = _NS + "extension:ijw-relatie-nummer"
RELATIE_VOLGORDE_URL = _NS + "extension:ijw-relatie-volgorde"
RELATIE_GEBOORTEDATUM_URL = _NS + "extension:ijw-relatie-geboortedatum"
TOEWIJZINGNUMMER_URL = _NS + "extension:ijw-toewijzingnummer"
PRODUCT_REFERENTIE_URL = _NS + "extension:ijw-product-referentie"
DEBET_CREDIT_URL = _NS + "extension:ijw-debet-credit"
WOONPLAATSBEGINSEL_URL = _NS + "extension:ijw-woonplaatsbeginsel"
DECLARATIE_ANTWOORD_URL = _NS + "extension:ijw-declaratie-antwoord"

_HL7 = "http://hl7.org/fhir/StructureDefinition/"
OWN_NAME_URL = _HL7 + "humanname-own-name"
OWN_PREFIX_URL = _HL7 + "humanname-own-prefix"
PARTNER_NAME_URL = _HL7 + "humanname-partner-name"
PARTNER_PREFIX_URL = _HL7 + "humanname-partner-prefix"
QUALIFIER_URL = _HL7 + "iso21090-EN-qualifier"
STREET_URL = _HL7 + "iso21090-ADXP-streetName"
HOUSE_NUMBER_URL = _HL7 + "iso21090-ADXP-houseNumber"
LOCATOR_URL = _HL7 + "iso21090-ADXP-additionalLocator"

ACCEPTING_CODES = frozenset({NO_REMARK, "0233"})
VERZOEK_AFGEWEZEN = "1"
"""WJ760 1: verzoek afgewezen (2 is aanvraag in onderzoek)."""
"""WJ001 codes that do not reject: 0200 no remark, 0233 class not assessed."""

_GENDER = {"0": "unknown", "1": "male", "2": "female"}
_GESLACHT = {v: k for k, v in _GENDER.items()}


class IjwMappingError(ValueError):
    """A Bundle that does not hold the iJw message its event names; text names paths only."""


# ---- building -----------------------------------------------------------------------------


def to_bundle(
    message: IjwModel,
    bericht: Bericht,
    *,
    hub_message_id: str,
    sender_id: str,
    recipient_id: str,
    partner_message_id: str,
    at: datetime,
) -> FhirDict:
    """The canonical message Bundle of a parsed iJw message (not yet validated)."""
    ids = _Ids(hub_message_id)
    header: Header = message.header  # type: ignore[attr-defined]
    patients, resources = _content(ids, message, header)
    focus = resources
    if isinstance(header, RetourHeader):
        answer = _answer(ids.next(), message, bericht, patients, resources)
        resources = [*resources, answer]
        focus = [answer]
    elif isinstance(message, Jw325):
        answer = _claim_response(ids.next(), message, patients, resources)
        resources = [*resources, answer]
        focus = [answer]
    message_header = _message_header(
        ids.header, bericht, header, sender_id, recipient_id, [r["id"] for r in focus]
    )
    return {
        "resourceType": "Bundle",
        "id": hub_message_id,
        "identifier": {
            "system": partner_message_id_system(sender_id),
            "value": partner_message_id,
        },
        "type": "message",
        "timestamp": at.isoformat(),
        "entry": [
            {"fullUrl": _urn(r["id"]), "resource": r}
            for r in (message_header, *patients, *resources)
        ],
    }


def _content(ids: _Ids, message: IjwModel, header: Header) -> tuple[list[FhirDict], list[FhirDict]]:
    """The Patients and the focus resources of a message's content (a retour: the echo)."""
    pid = ids.patient
    if isinstance(message, Jw315 | Jw316) and message.client is not None:
        return [_patient(pid, message.client)], [
            _service_request(ids.next(), p, pid) for p in message.client.aangevraagde_producten
        ]
    if isinstance(message, Jw301 | Jw302) and message.client is not None:
        return [_patient(pid, message.client)], [
            _assignment(ids.next(), p, pid, header) for p in message.client.toegewezen_producten
        ]
    if isinstance(message, Jw305 | Jw306) and message.client is not None:
        return [_patient(pid, message.client)], [
            _episode(ids.next(), p, pid, header.afzender) for p in message.client.start_producten
        ]
    if isinstance(message, Jw307 | Jw308) and message.client is not None:
        return [_patient(pid, message.client)], [
            _episode(ids.next(), p, pid, header.afzender) for p in message.client.stop_producten
        ]
    if isinstance(message, Jw317 | Jw318) and message.client is not None:
        client = message.client
        patient = _bare_patient(pid, client.bsn, client.retour_codes)
        return [patient], _change_request(ids, client.verzoek, pid, header)
    if isinstance(message, Jw319 | Jw320) and message.antwoord is not None:
        return [], [_antwoord(ids.next(), message.antwoord, header)]
    if isinstance(message, Jw323):
        return _claims(ids, message.declaratie.clienten, message.declaratie, header)
    if isinstance(message, Jw325) and message.declaratie_antwoord is not None:
        return _claims(ids, message.declaratie_antwoord.clienten, None, header)
    return [], []


class _Ids:
    """Stable UUIDs per resource of one message, so fullUrls are real ``urn:uuid``s."""

    def __init__(self, hub_message_id: str) -> None:
        self._base = uuid.UUID(hub_message_id)
        self._count = 0
        self.header = self._make("mh")
        self.patient = self._make("pt")

    def _make(self, part: str) -> str:
        return derived_id(self._base, part)

    def next(self) -> str:
        self._count += 1
        return self._make(f"r{self._count}")


def _urn(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _ref(resource_id: str) -> FhirDict:
    return {"reference": _urn(resource_id)}


def _party(code: str) -> FhirDict:
    """An AGB code (8 digits) or a CBS gemeentecode (4 digits) as a logical reference."""
    system = AGB_SYSTEM if len(code) == 8 else GEMEENTE_SYSTEM
    return {"identifier": {"system": system, "value": code}}


def _coding(system: str, code: str) -> FhirDict:
    return {"system": system, "code": code}


def _ext(url: str, **value: Any) -> FhirDict:
    return {"url": url, **value}


def _retour_exts(codes: Iterable[str]) -> list[FhirDict]:
    return [_ext(RETOURCODE_URL, valueCoding=_coding(RETOURCODE_SYSTEM, c)) for c in codes]


def _with_extensions(resource: FhirDict, extensions: list[FhirDict]) -> FhirDict:
    if extensions:
        resource["extension"] = extensions
    return resource


def _message_header(
    header_id: str,
    bericht: Bericht,
    header: Header,
    sender_id: str,
    recipient_id: str,
    focus: list[str],
) -> FhirDict:
    parts = [
        _ext("bericht", valueCode=bericht.value),
        _ext("identificatie", valueString=header.bericht_identificatie.identificatie),
        _ext("dagtekening", valueDate=header.bericht_identificatie.dagtekening.isoformat()),
        _ext("basisschemaXsdVersie", valueString=header.xsd_versie.basisschema_xsd_versie),
        _ext("berichtXsdVersie", valueString=header.xsd_versie.bericht_xsd_versie),
    ]
    # A retourbericht copies the answered message's header: its Ontvanger sends the retour.
    sender, receiver = header.afzender, header.ontvanger
    if isinstance(header, RetourHeader):
        sender, receiver = receiver, sender
        parts += [
            _ext("identificatieRetour", valueString=header.identificatie_retour),
            _ext("dagtekeningRetour", valueDate=header.dagtekening_retour.isoformat()),
            _ext(
                "basisschemaXsdVersieRetour",
                valueString=header.xsd_versie_retour.basisschema_xsd_versie,
            ),
            _ext("berichtXsdVersieRetour", valueString=header.xsd_versie_retour.bericht_xsd_versie),
        ]
        if header.xslt_versie is not None:
            parts.append(_ext("xsltVersie", valueString=header.xslt_versie))
        parts += _retour_exts(header.retour_codes)
    elif isinstance(header, Jw325Header):
        answered = header.declaratie_identificatie
        parts += [
            _ext("declaratieIdentificatie", valueString=answered.identificatie),
            _ext("declaratieDagtekening", valueDate=answered.dagtekening.isoformat()),
            _ext(
                "basisschemaXsdVersieDeclaratie",
                valueString=header.xsd_versie_declaratie.basisschema_xsd_versie,
            ),
            _ext(
                "berichtXsdVersieDeclaratie",
                valueString=header.xsd_versie_declaratie.bericht_xsd_versie,
            ),
        ]
        if header.xslt_versie is not None:
            parts.append(_ext("xsltVersie", valueString=header.xslt_versie))
        parts += _retour_exts(header.retour_codes)
    return {
        "resourceType": "MessageHeader",
        "id": header_id,
        "extension": [{"url": HEADER_URL, "extension": parts}],
        "eventCoding": _coding(EVENT_SYSTEM, bericht.event.value),
        "source": {"endpoint": partner_endpoint(sender_id)},
        "sender": _party(sender),
        "destination": [{"endpoint": partner_endpoint(recipient_id), "receiver": _party(receiver)}],
        "focus": [_ref(f) for f in focus],
    }


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


def _product_codings(product: Product | None) -> tuple[FhirDict | None, FhirDict | None]:
    if product is None:
        return None, None
    category = {"coding": [_coding(PRODUCTCATEGORIE_SYSTEM, product.categorie)]}
    code = {"coding": [_coding(PRODUCTCODE_SYSTEM, product.code)]} if product.code else None
    return category, code


def _service_request(sr_id: str, product: AangevraagdProduct, patient_id: str) -> FhirDict:
    identifiers = [{"system": REFERENTIE_AANBIEDER_SYSTEM, "value": product.referentie_aanbieder}]
    if product.beschikking_nummer is not None:
        identifiers.append(
            {"system": BESCHIKKINGNUMMER_SYSTEM, "value": str(product.beschikking_nummer)}
        )
    request: FhirDict = {
        "resourceType": "ServiceRequest",
        "id": sr_id,
        "identifier": identifiers,
        "status": "active",
        "intent": "proposal",
        "subject": _ref(patient_id),
        "occurrencePeriod": _period(product.toewijzing_ingangsdatum, product.toewijzing_einddatum),
        "requester": _verwijzer(product.verwijzer),
    }
    category, code = _product_codings(product.product)
    if category is not None:
        request["category"] = [category]
    if code is not None:
        request["code"] = code
    extensions: list[FhirDict] = []
    if product.omvang is not None:
        request["quantityQuantity"] = _quantity(product.omvang)
        extensions.append(_frequentie(product.omvang))
    if product.budget is not None:
        extensions.append(_ext(BUDGET_URL, valueInteger=product.budget))
    if product.beschikking_ingangsdatum is not None:
        extensions.append(
            _ext(BESCHIKKING_INGANG_URL, valueDate=product.beschikking_ingangsdatum.isoformat())
        )
    if product.raamcontract is not None:
        extensions.append(_ext(RAAMCONTRACT_URL, valueBoolean=product.raamcontract.value == "1"))
    extensions += _retour_exts(product.retour_codes)
    return _with_extensions(request, extensions)


def _verwijzer(verwijzer: Verwijzer) -> FhirDict:
    reference: FhirDict = {
        "extension": [
            _ext(VERWIJZER_TYPE_URL, valueCoding=_coding(VERWIJZER_SYSTEM, verwijzer.type.value))
        ]
    }
    if verwijzer.zorgverlener_code is not None:
        reference["identifier"] = {"system": AGB_SYSTEM, "value": verwijzer.zorgverlener_code}
    if verwijzer.naam is not None:
        reference["display"] = verwijzer.naam
    return reference


def _period(start: date, end: date | None) -> FhirDict:
    period = {"start": start.isoformat()}
    if end is not None:
        period["end"] = end.isoformat()
    return period


def _quantity(omvang: Omvang) -> FhirDict:
    return {"value": omvang.volume, "system": EENHEID_SYSTEM, "code": omvang.eenheid.value}


def _frequentie(omvang: Omvang) -> FhirDict:
    return _ext(FREQUENTIE_URL, valueCoding=_coding(FREQUENTIE_SYSTEM, omvang.frequentie.value))


def _input(element: str, **value: Any) -> FhirDict:
    return {"type": {"coding": [_coding(ELEMENT_SYSTEM, element)]}, **value}


def _assignment(
    task_id: str, product: ToegewezenProduct, patient_id: str, header: Header
) -> FhirDict:
    inputs = [
        _input("Toewijzingsdatum", valueDate=product.toewijzingsdatum.isoformat()),
        _input("Toewijzingstijd", valueTime=product.toewijzingstijd.isoformat()),
    ]
    if product.product is not None:
        inputs.append(
            _input(
                "Categorie", valueCoding=_coding(PRODUCTCATEGORIE_SYSTEM, product.product.categorie)
            )
        )
        if product.product.code is not None:
            inputs.append(
                _input("Code", valueCoding=_coding(PRODUCTCODE_SYSTEM, product.product.code))
            )
    if product.omvang is not None:
        inputs.append(_input("Omvang", valueQuantity=_quantity(product.omvang)))
        inputs.append(
            _input(
                "Frequentie",
                valueCoding=_coding(FREQUENTIE_SYSTEM, product.omvang.frequentie.value),
            )
        )
    if product.budget is not None:
        inputs.append(_input("Budget", valueInteger=product.budget))
    if product.reden_wijziging is not None:
        inputs.append(
            _input(
                "RedenWijziging",
                valueCoding=_coding(REDEN_WIJZIGING_SYSTEM, product.reden_wijziging.value),
            )
        )
    task: FhirDict = {
        "resourceType": "Task",
        "id": task_id,
        "identifier": [
            {"system": TOEWIJZINGNUMMER_SYSTEM, "value": str(product.toewijzing_nummer)}
        ],
        "status": "requested",
        "intent": "order",
        "code": {"coding": [_coding(EVENT_SYSTEM, MessageEvent.ASSIGNMENT.value)]},
        "for": _ref(patient_id),
        "requester": _party(header.afzender),
        "owner": _party(header.ontvanger),
        "executionPeriod": _period(product.ingangsdatum, product.einddatum),
        "input": inputs,
    }
    if product.referentie_aanbieder is not None:
        task["basedOn"] = [
            {
                "identifier": {
                    "system": REFERENTIE_AANBIEDER_SYSTEM,
                    "value": product.referentie_aanbieder,
                }
            }
        ]
    return _with_extensions(task, _retour_exts(product.retour_codes))


def _episode(
    episode_id: str, product: StartProduct | StopProduct, patient_id: str, provider_agb: str
) -> FhirDict:
    end = product.einddatum if isinstance(product, StopProduct) else None
    status = "finished" if isinstance(product, StopProduct) else "active"
    if product.status_aanlevering.value == "3":
        status = "entered-in-error"
    episode: FhirDict = {
        "resourceType": "EpisodeOfCare",
        "id": episode_id,
        "status": status,
        "patient": _ref(patient_id),
        "managingOrganization": _party(provider_agb),
        "period": _period(product.begindatum, end),
    }
    if product.toewijzing_nummer is not None:
        episode["identifier"] = [
            {"system": TOEWIJZINGNUMMER_SYSTEM, "value": str(product.toewijzing_nummer)}
        ]
    category, code = _product_codings(product.product)
    if category is not None:
        episode["type"] = [category] + ([code] if code is not None else [])
    extensions = [
        _ext(
            STATUS_AANLEVERING_URL,
            valueCoding=_coding(STATUS_AANLEVERING_SYSTEM, product.status_aanlevering.value),
        )
    ]
    if product.toewijzing_ingangsdatum is not None:
        extensions.append(
            _ext(TOEWIJZING_INGANG_URL, valueDate=product.toewijzing_ingangsdatum.isoformat())
        )
    if isinstance(product, StopProduct):
        extensions.append(
            _ext(
                REDEN_BEEINDIGING_URL,
                valueCoding=_coding(REDEN_BEEINDIGING_SYSTEM, product.reden_beeindiging.value),
            )
        )
    return _with_extensions(episode, extensions + _retour_exts(product.retour_codes))


def _product_inputs(product: Product | None) -> list[FhirDict]:
    if product is None:
        return []
    inputs = [_input("Categorie", valueCoding=_coding(PRODUCTCATEGORIE_SYSTEM, product.categorie))]
    if product.code is not None:
        inputs.append(_input("Code", valueCoding=_coding(PRODUCTCODE_SYSTEM, product.code)))
    return inputs


def _omvang_inputs(omvang: Omvang | None, budget: int | None) -> list[FhirDict]:
    inputs: list[FhirDict] = []
    if omvang is not None:
        inputs.append(_input("Omvang", valueQuantity=_quantity(omvang)))
        frequentie = _coding(FREQUENTIE_SYSTEM, omvang.frequentie.value)
        inputs.append(_input("Frequentie", valueCoding=frequentie))
    if budget is not None:
        inputs.append(_input("Budget", valueInteger=budget))
    return inputs


def _change_request(ids: _Ids, verzoek: Verzoek, patient_id: str, header: Header) -> list[FhirDict]:
    """JW317: one Task for the request (ReferentieAanbieder, WJ758 reason) and one Task per
    product it names, ``partOf`` the request: unchanged, to change, or new."""
    request_id = ids.next()
    request: FhirDict = {
        "resourceType": "Task",
        "id": request_id,
        "identifier": [
            {"system": REFERENTIE_AANBIEDER_SYSTEM, "value": verzoek.referentie_aanbieder}
        ],
        "status": "requested",
        "intent": "proposal",
        "code": {"coding": [_coding(EVENT_SYSTEM, MessageEvent.ASSIGNMENT_CHANGE_REQUEST.value)]},
        "reasonCode": {"coding": [_coding(REDEN_VERZOEK_SYSTEM, verzoek.reden_verzoek)]},
        "for": _ref(patient_id),
        "requester": _party(header.afzender),
        "owner": _party(header.ontvanger),
    }
    tasks = [_with_extensions(request, _retour_exts(verzoek.retour_codes))]

    def product_task(
        element: str,
        nummer: int | None,
        inputs: list[FhirDict],
        codes: tuple[str, ...],
        period: FhirDict | None = None,
    ) -> FhirDict:
        task: FhirDict = {
            "resourceType": "Task",
            "id": ids.next(),
            "partOf": [_ref(request_id)],
            "status": "requested",
            "intent": "proposal",
            "code": {"coding": [_coding(ELEMENT_SYSTEM, element)]},
            "for": _ref(patient_id),
        }
        if nummer is not None:
            task["identifier"] = [{"system": TOEWIJZINGNUMMER_SYSTEM, "value": str(nummer)}]
        if period is not None:
            task["executionPeriod"] = period
        if inputs:
            task["input"] = inputs
        return _with_extensions(task, _retour_exts(codes))

    for o in verzoek.ongewijzigde_producten:
        tasks.append(product_task("OngewijzigdProduct", o.toewijzing_nummer, [], o.retour_codes))
    for t in verzoek.te_wijzigen_producten:
        tasks.append(
            product_task(
                "TeWijzigenProduct",
                t.toewijzing_nummer,
                _omvang_inputs(t.omvang, t.budget),
                t.retour_codes,
                _period(t.gewenste_ingangsdatum, t.einddatum),
            )
        )
    for n in verzoek.nieuwe_producten:
        tasks.append(
            product_task(
                "NieuwProduct",
                None,
                _product_inputs(n.product) + _omvang_inputs(n.omvang, n.budget),
                n.retour_codes,
                _period(n.gewenste_ingangsdatum, n.einddatum),
            )
        )
    return tasks


def _antwoord(task_id: str, antwoord: Antwoord, header: Header) -> FhirDict:
    """JW319: the municipality's answer as a Task on the request it names (by reference):
    ``rejected`` (WJ760 1, verzoek afgewezen) with the WJ759 reason, or ``in-progress`` (2,
    aanvraag in onderzoek). A granted request is answered by a JW301, not a JW319."""
    refused = antwoord.verzoek_antwoord == VERZOEK_AFGEWEZEN
    task: FhirDict = {
        "resourceType": "Task",
        "id": task_id,
        "basedOn": [
            {
                "identifier": {
                    "system": REFERENTIE_AANBIEDER_SYSTEM,
                    "value": antwoord.referentie_aanbieder,
                }
            }
        ],
        "status": "rejected" if refused else "in-progress",
        "businessStatus": {"coding": [_coding(VERZOEK_ANTWOORD_SYSTEM, antwoord.verzoek_antwoord)]},
        "intent": "order",
        "code": {"coding": [_coding(EVENT_SYSTEM, MessageEvent.REQUEST_ANSWER.value)]},
        "requester": _party(header.afzender),
        "owner": _party(header.ontvanger),
    }
    if antwoord.reden_afwijzing_verzoek is not None:
        task["statusReason"] = {
            "coding": [_coding(REDEN_AFWIJZING_SYSTEM, antwoord.reden_afwijzing_verzoek)]
        }
    extensions: list[FhirDict] = []
    if antwoord.woonplaatsbeginsel is not None:
        wpb = antwoord.woonplaatsbeginsel
        extensions.append(
            {
                "url": WOONPLAATSBEGINSEL_URL,
                "extension": [
                    _ext(
                        "gemeente",
                        valueIdentifier={"system": GEMEENTE_SYSTEM, "value": wpb.gemeente},
                    ),
                    *_retour_exts(wpb.retour_codes),
                ],
            }
        )
    return _with_extensions(task, extensions + _retour_exts(antwoord.retour_codes))


def _money(cents: int, debet_credit: str) -> FhirDict:
    """Euro cents as FHIR Money in euros; COD043 debet (D) or credit (C) as an extension."""
    return {
        "extension": [_ext(DEBET_CREDIT_URL, valueCode=debet_credit)],
        "value": cents / 100,
        "currency": "EUR",
    }


def _claims(
    ids: _Ids,
    clienten: tuple[DeclaratieClient, ...],
    declaratie: Declaratie | None,
    header: Header,
) -> tuple[list[FhirDict], list[FhirDict]]:
    """JW323 (and the content JW325 echoes): one Patient and one Claim per Client, each
    Claim with an item per Prestatie; the declaration's number, period, date and total on
    every Claim (``declaratie`` is None for a JW325, which names them in its answer)."""
    patients: list[FhirDict] = []
    claims: list[FhirDict] = []
    for index, client in enumerate(clienten):
        patient_id = ids.patient if index == 0 else ids.next()
        patients.append(_bare_patient(patient_id, client.bsn, client.retour_codes))
        claim: FhirDict = {
            "resourceType": "Claim",
            "id": ids.next(),
            "status": "active",
            "type": {"coding": [_coding(CLAIM_TYPE_SYSTEM, "professional")]},
            "use": "claim",
            "patient": _ref(patient_id),
            "provider": _party(header.afzender if declaratie else header.ontvanger),
            "priority": {"coding": [_coding(PRIORITY_SYSTEM, "normal")]},
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": _party(header.ontvanger if declaratie else header.afzender),
                }
            ],
            "item": [_claim_item(i + 1, p) for i, p in enumerate(client.prestaties)],
        }
        if declaratie is not None:
            claim["identifier"] = [
                {"system": DECLARATIENUMMER_SYSTEM, "value": declaratie.declaratie_nummer}
            ]
            claim["billablePeriod"] = _period(
                declaratie.declaratie_periode.begindatum, declaratie.declaratie_periode.einddatum
            )
            claim["created"] = declaratie.declaratie_dagtekening.isoformat()
            total = declaratie.totaal_ingediend_bedrag
            claim["total"] = _money(total.totaal_bedrag, total.debet_credit)
        else:
            claim["created"] = header.bericht_identificatie.dagtekening.isoformat()
        claims.append(claim)
    return patients, claims


def _claim_item(sequence: int, prestatie: Prestatie) -> FhirDict:
    referentie = [
        _ext("referentieNummer", valueString=prestatie.product_referentie.referentie_nummer)
    ]
    if prestatie.product_referentie.vorig_referentie_nummer is not None:
        referentie.append(
            _ext(
                "vorigReferentieNummer",
                valueString=prestatie.product_referentie.vorig_referentie_nummer,
            )
        )
    item: FhirDict = {
        "extension": [
            {"url": PRODUCT_REFERENTIE_URL, "extension": referentie},
            _ext(TOEWIJZINGNUMMER_URL, valueInteger=prestatie.toewijzing_nummer),
            *_retour_exts(prestatie.retour_codes),
        ],
        "sequence": sequence,
        "category": {"coding": [_coding(PRODUCTCATEGORIE_SYSTEM, prestatie.product_categorie)]},
        "productOrService": {"coding": [_coding(PRODUCTCODE_SYSTEM, prestatie.product_code)]},
        "servicedPeriod": _period(
            prestatie.product_periode.begindatum, prestatie.product_periode.einddatum
        ),
        "quantity": {
            "value": prestatie.geleverd_volume,
            "system": EENHEID_SYSTEM,
            "code": prestatie.eenheid.value,
        },
        "net": _money(prestatie.ingediend_bedrag.bedrag, prestatie.ingediend_bedrag.debet_credit),
    }
    if prestatie.product_tarief is not None:
        item["unitPrice"] = {"value": prestatie.product_tarief / 100, "currency": "EUR"}
    return item


def _claim_response(
    response_id: str, message: Jw325, patients: list[FhirDict], claims: list[FhirDict]
) -> FhirDict:
    """JW325: one ClaimResponse on the declaration, with the submitted and the granted total
    and every WJ001 code; ``outcome`` complete when none rejects, partial when some do, error
    when the whole declaration was refused (no clients in the answer)."""
    header = message.header
    answer = message.declaratie_antwoord
    rejecting = [c for c in all_retour_codes(message) if c not in ACCEPTING_CODES]
    outcome = "complete" if not rejecting else ("partial" if claims else "error")
    patient: FhirDict = (
        _ref(patients[0]["id"]) if patients else {"display": "declaratie als geheel"}
    )
    response: FhirDict = {
        "resourceType": "ClaimResponse",
        "id": response_id,
        "identifier": [
            {
                "system": DECLARATIE_IDENTIFICATIE_SYSTEM,
                "value": header.declaratie_identificatie.identificatie,
            }
        ],
        "status": "active",
        "type": {"coding": [_coding(CLAIM_TYPE_SYSTEM, "professional")]},
        "use": "claim",
        "patient": patient,
        "created": header.bericht_identificatie.dagtekening.isoformat(),
        "insurer": _party(header.afzender),
        "requestor": _party(header.ontvanger),
        "outcome": outcome,
    }
    if claims:
        response["request"] = _ref(claims[0]["id"])
    extensions = list(_retour_exts(header.retour_codes))
    if answer is not None:
        response["identifier"].append(
            {"system": DECLARATIENUMMER_SYSTEM, "value": answer.declaratie_nummer}
        )
        submitted, granted = answer.totaal_ingediend_bedrag, answer.totaal_toegekend_bedrag
        response["total"] = [
            {
                "category": {"coding": [_coding(ADJUDICATION_SYSTEM, "submitted")]},
                "amount": _money(submitted.totaal_bedrag, submitted.debet_credit),
            },
            {
                "category": {"coding": [_coding(ADJUDICATION_SYSTEM, "benefit")]},
                "amount": _money(granted.totaal_bedrag, granted.debet_credit),
            },
        ]
        extensions.append(
            {"url": DECLARATIE_ANTWOORD_URL, "extension": _retour_exts(answer.retour_codes)}
        )
    if rejecting:
        response["error"] = [
            {"code": {"coding": [_coding(RETOURCODE_SYSTEM, c)]}} for c in dict.fromkeys(rejecting)
        ]
    return _with_extensions(response, extensions)


def all_retour_codes(message: IjwModel) -> list[str]:
    """Every WJ001 code of a retourbericht, header first, in document order."""
    codes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, IjwModel):
            codes.extend(getattr(node, "retour_codes", ()))
            for name in type(node).model_fields:
                if name != "retour_codes":
                    walk(getattr(node, name))
        elif isinstance(node, tuple):
            for item in node:
                walk(item)

    walk(message)
    return codes


def _answer(
    task_id: str,
    message: IjwModel,
    bericht: Bericht,
    patients: list[FhirDict],
    answered: list[FhirDict],
) -> FhirDict:
    header: RetourHeader = message.header  # type: ignore[attr-defined]
    rejecting = [c for c in all_retour_codes(message) if c not in ACCEPTING_CODES]
    task: FhirDict = {
        "resourceType": "Task",
        "id": task_id,
        "identifier": [
            {
                "system": _NS + "namingsystem:ijw-identificatie-retour",
                "value": header.identificatie_retour,
            }
        ],
        "status": "rejected" if rejecting else "accepted",
        "intent": "order",
        "code": {"coding": [_coding(EVENT_SYSTEM, bericht.event.value)]},
        "owner": _party(header.ontvanger),
        "authoredOn": header.dagtekening_retour.isoformat(),
    }
    if answered:
        task["basedOn"] = [_ref(r["id"]) for r in answered]
    if patients:
        task["for"] = _ref(patients[0]["id"])
    if rejecting:
        task["statusReason"] = {"coding": [_coding(RETOURCODE_SYSTEM, rejecting[0])]}
    return task


# ---- reading back -------------------------------------------------------------------------


def from_bundle(bundle: Mapping[str, Any]) -> tuple[Bericht, IjwModel]:
    """The iJw message a canonical Bundle holds: the inverse of ``to_bundle``."""
    try:
        return _read(bundle)
    except (KeyError, IndexError, TypeError, StopIteration, ValueError) as exc:
        raise IjwMappingError(
            f"Bundle does not hold an iJw message ({type(exc).__name__})"
        ) from None


def _resources(bundle: Mapping[str, Any], resource_type: str) -> list[FhirDict]:
    return [
        dict(e["resource"])
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == resource_type
    ]


def _sub(extensions: Iterable[Mapping[str, Any]], url: str) -> list[Mapping[str, Any]]:
    return [e for e in extensions if e["url"] == url]


def _one(res: Mapping[str, Any], url: str) -> Mapping[str, Any] | None:
    found = _sub(res.get("extension", []), url)
    return found[0] if found else None


def _codes_of(res: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(e["valueCoding"]["code"] for e in _sub(res.get("extension", []), RETOURCODE_URL))


def _read(bundle: Mapping[str, Any]) -> tuple[Bericht, IjwModel]:
    (message_header,) = _resources(bundle, "MessageHeader")
    header_ext = _one(message_header, HEADER_URL)
    if header_ext is None:
        raise KeyError(HEADER_URL)
    parts = {e["url"]: e for e in header_ext["extension"]}
    bericht = Bericht(parts["bericht"]["valueCode"])
    sender = message_header["sender"]["identifier"]["value"]
    receiver = message_header["destination"][0]["receiver"]["identifier"]["value"]
    common = {
        "bericht_identificatie": BerichtIdentificatie(
            identificatie=parts["identificatie"]["valueString"],
            dagtekening=date.fromisoformat(parts["dagtekening"]["valueDate"]),
        ),
        "xsd_versie": XsdVersie(
            basisschema_xsd_versie=parts["basisschemaXsdVersie"]["valueString"],
            bericht_xsd_versie=parts["berichtXsdVersie"]["valueString"],
        ),
    }
    header: Header
    if bericht.is_retour:
        header = RetourHeader(
            afzender=receiver,
            ontvanger=sender,
            identificatie_retour=parts["identificatieRetour"]["valueString"],
            dagtekening_retour=date.fromisoformat(parts["dagtekeningRetour"]["valueDate"]),
            xslt_versie=parts["xsltVersie"]["valueString"] if "xsltVersie" in parts else None,
            xsd_versie_retour=XsdVersie(
                basisschema_xsd_versie=parts["basisschemaXsdVersieRetour"]["valueString"],
                bericht_xsd_versie=parts["berichtXsdVersieRetour"]["valueString"],
            ),
            retour_codes=_codes_of(header_ext),
            **common,
        )
    elif bericht is Bericht.JW325:
        header = Jw325Header(
            afzender=sender,
            ontvanger=receiver,
            declaratie_identificatie=BerichtIdentificatie(
                identificatie=parts["declaratieIdentificatie"]["valueString"],
                dagtekening=date.fromisoformat(parts["declaratieDagtekening"]["valueDate"]),
            ),
            xslt_versie=parts["xsltVersie"]["valueString"] if "xsltVersie" in parts else None,
            xsd_versie_declaratie=XsdVersie(
                basisschema_xsd_versie=parts["basisschemaXsdVersieDeclaratie"]["valueString"],
                bericht_xsd_versie=parts["berichtXsdVersieDeclaratie"]["valueString"],
            ),
            retour_codes=_codes_of(header_ext),
            **common,
        )
    else:
        header = Header(afzender=sender, ontvanger=receiver, **common)
    model = model_of(bericht.value)
    if bericht in (Bericht.JW319, Bericht.JW320):
        answers = [t for t in _resources(bundle, "Task") if _task_code(t) == "request-answer"]
        antwoord = _antwoord_of(answers[0]) if answers else None
        return bericht, _make(model, header=header, antwoord=antwoord)
    if bericht in (Bericht.JW323, Bericht.JW325):
        return bericht, _declaratie_message(bundle, bericht, header)
    patients = _resources(bundle, "Patient")
    if not patients:
        return bericht, _make(model, header=header)
    (patient,) = patients
    if bericht in (Bericht.JW317, Bericht.JW318):
        tasks = _resources(bundle, "Task")
        client317 = Jw317Client(
            bsn=_bsn(patient), verzoek=_verzoek(tasks), retour_codes=_codes_of(patient)
        )
        return bericht, _make(model, header=header, client=client317)
    client = _client_fields(patient)
    retour_codes = _codes_of(patient)
    if bericht in (Bericht.JW315, Bericht.JW316):
        requests = _resources(bundle, "ServiceRequest")
        jw315_client = Jw315Client(
            **client,
            gezagsdrager_bekend=_ja_nee(_one(patient, GEZAGSDRAGER_URL)),
            aangevraagde_producten=tuple(_aangevraagd(r) for r in requests),
            retour_codes=retour_codes,
        )
        return bericht, _make(model, header=header, client=jw315_client)
    if bericht in (Bericht.JW301, Bericht.JW302):
        tasks = [
            t for t in _resources(bundle, "Task") if _task_code(t) == MessageEvent.ASSIGNMENT.value
        ]
        jw301_client = Jw301Client(
            **client,
            **_jw301_client_fields(patient),
            contactgegevens=tuple(_contact(a) for a in patient.get("address", [])),
            toegewezen_producten=tuple(_toegewezen(t) for t in tasks),
            retour_codes=retour_codes,
        )
        return bericht, _make(model, header=header, client=jw301_client)
    episodes = _resources(bundle, "EpisodeOfCare")
    if bericht in (Bericht.JW305, Bericht.JW306):
        starts = tuple(_start(e) for e in episodes)
        client305 = Jw305Client(**client, start_producten=starts, retour_codes=retour_codes)
        return bericht, _make(model, header=header, client=client305)
    stops = tuple(_stop(e) for e in episodes)
    client307 = Jw307Client(**client, stop_producten=stops, retour_codes=retour_codes)
    return bericht, _make(model, header=header, client=client307)


def _make(model: type[IjwModel], **fields: Any) -> IjwModel:
    return model.model_validate(fields)


def _task_code(task: Mapping[str, Any]) -> str:
    return str(task["code"]["coding"][0]["code"])


def _bsn(patient: Mapping[str, Any]) -> str:
    return str(next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM))


def _coded(extension: Mapping[str, Any] | None) -> str | None:
    return None if extension is None else str(extension["valueCoding"]["code"])


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


def _inputs(task: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {i["type"]["coding"][0]["code"]: i for i in task.get("input", [])}


def _omvang_fields(inputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    frequentie = inputs.get("Frequentie")
    return {
        "omvang": _omvang(
            inputs["Omvang"]["valueQuantity"] if "Omvang" in inputs else None,
            frequentie["valueCoding"]["code"] if frequentie else None,
        ),
        "budget": inputs["Budget"]["valueInteger"] if "Budget" in inputs else None,
    }


def _verzoek(tasks: list[FhirDict]) -> Verzoek:
    (request,) = [t for t in tasks if _task_code(t) == MessageEvent.ASSIGNMENT_CHANGE_REQUEST.value]
    parts = [t for t in tasks if t.get("partOf") == [_ref(request["id"])]]

    def of(element: str) -> list[FhirDict]:
        return [t for t in parts if _task_code(t) == element]

    def nummer(task: Mapping[str, Any]) -> int:
        return int(task["identifier"][0]["value"])

    def period(task: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "gewenste_ingangsdatum": date.fromisoformat(task["executionPeriod"]["start"]),
            "einddatum": _date(task["executionPeriod"].get("end")),
        }

    def product(task: Mapping[str, Any]) -> Product | None:
        inputs = _inputs(task)
        category, code = inputs.get("Categorie"), inputs.get("Code")
        return _product(
            {"coding": [category["valueCoding"]]} if category else None,
            {"coding": [code["valueCoding"]]} if code else None,
        )

    return Verzoek(
        referentie_aanbieder=request["identifier"][0]["value"],
        reden_verzoek=request["reasonCode"]["coding"][0]["code"],
        ongewijzigde_producten=tuple(
            OngewijzigdProduct(toewijzing_nummer=nummer(t), retour_codes=_codes_of(t))
            for t in of("OngewijzigdProduct")
        ),
        te_wijzigen_producten=tuple(
            TeWijzigenProduct(
                toewijzing_nummer=nummer(t),
                **period(t),
                **_omvang_fields(_inputs(t)),
                retour_codes=_codes_of(t),
            )
            for t in of("TeWijzigenProduct")
        ),
        nieuwe_producten=tuple(
            NieuwProduct(
                product=product(t),
                **period(t),
                **_omvang_fields(_inputs(t)),
                retour_codes=_codes_of(t),
            )
            for t in of("NieuwProduct")
        ),
        retour_codes=_codes_of(request),
    )


def _antwoord_of(task: Mapping[str, Any]) -> Antwoord:
    reason = task.get("statusReason")
    wpb = _one(task, WOONPLAATSBEGINSEL_URL)
    woonplaatsbeginsel = None
    if wpb is not None:
        gemeente = _sub(wpb["extension"], "gemeente")[0]["valueIdentifier"]["value"]
        woonplaatsbeginsel = Woonplaatsbeginsel(gemeente=gemeente, retour_codes=_codes_of(wpb))
    return Antwoord(
        referentie_aanbieder=task["basedOn"][0]["identifier"]["value"],
        verzoek_antwoord=task["businessStatus"]["coding"][0]["code"],
        reden_afwijzing_verzoek=reason["coding"][0]["code"] if reason else None,
        woonplaatsbeginsel=woonplaatsbeginsel,
        retour_codes=_codes_of(task),
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


def _product(category: Mapping[str, Any] | None, code: Mapping[str, Any] | None) -> Product | None:
    if category is None:
        return None
    return Product(
        categorie=category["coding"][0]["code"],
        code=code["coding"][0]["code"] if code is not None else None,
    )


def _omvang(quantity: Mapping[str, Any] | None, frequentie: str | None) -> Omvang | None:
    if quantity is None or frequentie is None:
        return None
    return Omvang(volume=int(quantity["value"]), eenheid=quantity["code"], frequentie=frequentie)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _aangevraagd(request: Mapping[str, Any]) -> AangevraagdProduct:
    ids = {i["system"]: i["value"] for i in request["identifier"]}
    requester = request["requester"]
    frequentie = _one(request, FREQUENTIE_URL)
    budget = _one(request, BUDGET_URL)
    beschikking_ingang = _one(request, BESCHIKKING_INGANG_URL)
    period = request["occurrencePeriod"]
    return AangevraagdProduct(
        referentie_aanbieder=ids[REFERENTIE_AANBIEDER_SYSTEM],
        beschikking_nummer=(
            int(ids[BESCHIKKINGNUMMER_SYSTEM]) if BESCHIKKINGNUMMER_SYSTEM in ids else None
        ),
        product=_product((request.get("category") or [None])[0], request.get("code")),
        beschikking_ingangsdatum=_date(
            beschikking_ingang["valueDate"] if beschikking_ingang else None
        ),
        toewijzing_ingangsdatum=date.fromisoformat(period["start"]),
        toewijzing_einddatum=_date(period.get("end")),
        omvang=_omvang(
            request.get("quantityQuantity"),
            frequentie["valueCoding"]["code"] if frequentie else None,
        ),
        budget=budget["valueInteger"] if budget else None,
        verwijzer=Verwijzer(
            type=_sub(requester["extension"], VERWIJZER_TYPE_URL)[0]["valueCoding"]["code"],
            naam=requester.get("display"),
            zorgverlener_code=requester["identifier"]["value"]
            if "identifier" in requester
            else None,
        ),
        raamcontract=_ja_nee(_one(request, RAAMCONTRACT_URL)),
        retour_codes=_codes_of(request),
    )


def _toegewezen(task: Mapping[str, Any]) -> ToegewezenProduct:
    inputs: dict[str, Mapping[str, Any]] = {
        i["type"]["coding"][0]["code"]: i for i in task.get("input", [])
    }

    def coding(element: str) -> Mapping[str, Any] | None:
        entry = inputs.get(element)
        return {"coding": [entry["valueCoding"]]} if entry is not None else None

    frequentie = inputs.get("Frequentie")
    reden = inputs.get("RedenWijziging")
    based_on = task.get("basedOn", [])
    return ToegewezenProduct(
        toewijzing_nummer=int(task["identifier"][0]["value"]),
        referentie_aanbieder=based_on[0]["identifier"]["value"] if based_on else None,
        product=_product(coding("Categorie"), coding("Code")),
        toewijzingsdatum=date.fromisoformat(inputs["Toewijzingsdatum"]["valueDate"]),
        toewijzingstijd=time.fromisoformat(inputs["Toewijzingstijd"]["valueTime"]),
        ingangsdatum=date.fromisoformat(task["executionPeriod"]["start"]),
        einddatum=_date(task["executionPeriod"].get("end")),
        reden_wijziging=reden["valueCoding"]["code"] if reden else None,
        omvang=_omvang(
            inputs["Omvang"]["valueQuantity"] if "Omvang" in inputs else None,
            frequentie["valueCoding"]["code"] if frequentie else None,
        ),
        budget=inputs["Budget"]["valueInteger"] if "Budget" in inputs else None,
        retour_codes=_codes_of(task),
    )


def _episode_fields(episode: Mapping[str, Any]) -> dict[str, Any]:
    types = {t["coding"][0]["system"]: t for t in episode.get("type", [])}
    ingang = _one(episode, TOEWIJZING_INGANG_URL)
    status = _one(episode, STATUS_AANLEVERING_URL)
    identifiers = episode.get("identifier", [])
    return {
        "toewijzing_nummer": int(identifiers[0]["value"]) if identifiers else None,
        "product": _product(types.get(PRODUCTCATEGORIE_SYSTEM), types.get(PRODUCTCODE_SYSTEM)),
        "toewijzing_ingangsdatum": _date(ingang["valueDate"] if ingang else None),
        "begindatum": date.fromisoformat(episode["period"]["start"]),
        "status_aanlevering": status["valueCoding"]["code"] if status else None,
        "retour_codes": _codes_of(episode),
    }


def _start(episode: Mapping[str, Any]) -> StartProduct:
    return StartProduct(**_episode_fields(episode))


def _stop(episode: Mapping[str, Any]) -> StopProduct:
    reden = _one(episode, REDEN_BEEINDIGING_URL)
    return StopProduct(
        **_episode_fields(episode),
        reden_beeindiging=reden["valueCoding"]["code"] if reden else None,
        einddatum=date.fromisoformat(episode["period"]["end"]),
    )
