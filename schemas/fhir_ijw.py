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
    BerichtIdentificatie,
    Client,
    Contact,
    Geboortedatum,
    Header,
    Huis,
    IjwModel,
    Jw301,
    Jw301Client,
    Jw302,
    Jw305,
    Jw305Client,
    Jw307,
    Jw307Client,
    Jw315,
    Jw315Client,
    Jw316,
    Naam,
    Omvang,
    Product,
    RetourHeader,
    StartProduct,
    StopProduct,
    ToegewezenProduct,
    Verwijzer,
    XsdVersie,
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
    client: Client = message.client  # type: ignore[attr-defined]
    header: Header = message.header  # type: ignore[attr-defined]
    patient = _patient(ids.patient, client)
    resources: list[FhirDict] = []
    if isinstance(message, Jw315 | Jw316):
        resources = [
            _service_request(ids.next(), p, ids.patient)
            for p in message.client.aangevraagde_producten
        ]
    elif isinstance(message, Jw301 | Jw302):
        resources = [
            _assignment(ids.next(), p, ids.patient, message.header)
            for p in message.client.toegewezen_producten
        ]
    elif isinstance(message, Jw305):
        resources = [
            _episode(ids.next(), p, ids.patient, header.afzender)
            for p in message.client.start_producten
        ]
    elif isinstance(message, Jw307):
        resources = [
            _episode(ids.next(), p, ids.patient, header.afzender)
            for p in message.client.stop_producten
        ]
    focus = resources
    if isinstance(header, RetourHeader):
        answer = _answer(ids.next(), message, bericht, ids.patient, resources)
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
            {"fullUrl": _urn(r["id"]), "resource": r} for r in (message_header, patient, *resources)
        ],
    }


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
    contacts: tuple[Contact, ...] = getattr(client, "contactgegevens", ())
    if contacts:
        patient["address"] = [_address(c) for c in contacts]
    return _with_extensions(patient, extensions)


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


def _address(contact: Contact) -> FhirDict:
    address: FhirDict = {}
    extensions = [_ext(ADRESSOORT_URL, valueCode=contact.soort.value)]
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
    return _with_extensions(episode, extensions)


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
    patient_id: str,
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
        "basedOn": [_ref(r["id"]) for r in answered],
        "status": "rejected" if rejecting else "accepted",
        "intent": "order",
        "code": {"coding": [_coding(EVENT_SYSTEM, bericht.event.value)]},
        "for": _ref(patient_id),
        "owner": _party(header.ontvanger),
        "authoredOn": header.dagtekening_retour.isoformat(),
    }
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
    else:
        header = Header(afzender=sender, ontvanger=receiver, **common)
    (patient,) = _resources(bundle, "Patient")
    client = _client_fields(patient)
    if bericht in (Bericht.JW315, Bericht.JW316):
        requests = _resources(bundle, "ServiceRequest")
        jw315_client = Jw315Client(
            **client,
            gezagsdrager_bekend=_ja_nee(_one(patient, GEZAGSDRAGER_URL)),
            aangevraagde_producten=tuple(_aangevraagd(r) for r in requests),
            retour_codes=_codes_of(patient),
        )
        if bericht is Bericht.JW315:
            return bericht, Jw315(header=header, client=jw315_client)
        return bericht, Jw316(header=header, client=jw315_client)
    if bericht in (Bericht.JW301, Bericht.JW302):
        tasks = [
            t
            for t in _resources(bundle, "Task")
            if t["code"]["coding"][0]["code"] == MessageEvent.ASSIGNMENT.value
        ]
        jw301_client = Jw301Client(
            **client,
            contactgegevens=tuple(_contact(a) for a in patient.get("address", [])),
            toegewezen_producten=tuple(_toegewezen(t) for t in tasks),
            retour_codes=_codes_of(patient),
        )
        if bericht is Bericht.JW301:
            return bericht, Jw301(header=header, client=jw301_client)
        return bericht, Jw302(header=header, client=jw301_client)
    episodes = _resources(bundle, "EpisodeOfCare")
    if bericht is Bericht.JW305:
        return bericht, Jw305(
            header=header,
            client=Jw305Client(**client, start_producten=tuple(_start(e) for e in episodes)),
        )
    return bericht, Jw307(
        header=header,
        client=Jw307Client(**client, stop_producten=tuple(_stop(e) for e in episodes)),
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
    return Contact(soort=soort, adres=adres, retour_codes=_codes_of(address))


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
