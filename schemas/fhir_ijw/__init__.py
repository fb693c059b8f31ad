"""Canonical FHIR R4 message Bundles for the iJw (Jeugdwet) messages, and back.

Like ``schemas.fhir``, Bundles are plain dicts, validated once with ``validate_bundle`` where
they are made. The mapping (see ``schemas/ijw/README.md``):

- JW315 verzoek om toewijzing: one ServiceRequest per AangevraagdProduct, ``status`` active,
  ``intent`` **proposal** (the provider proposes care; the municipality's JW301 is the order),
  ``requester`` the Verwijzer (AGB identifier, or its name as ``display``) + Patient.
- JW301 toewijzing: one Task per ToegewezenProduct (``identifier`` ToewijzingNummer,
  ``basedOn`` the JW315's ReferentieAanbieder, ``executionPeriod``, product and Omvang as
  ``input``) + Patient with the Contactgegevens as addresses (organisation, phones, e-mail and
  period as extensions on each), ``communication`` (Taal), the Communicatievorm, juridische
  status and wettelijke vertegenwoordiging as extensions, and one ``contact`` per Relatie.
- JW305 / JW307: one EpisodeOfCare per Start-/StopProduct, ``active`` with ``period.start``
  or ``finished`` with ``period.end`` and the JZ588 end reason; StatusAanlevering 3
  (verwijderen) is ``entered-in-error``.
- JW317 verzoek om wijziging: a request Task (``intent`` proposal, ReferentieAanbieder,
  WJ758 ``reasonCode``) and one Task per product ``partOf`` it (its ``code`` the iJw element:
  OngewijzigdProduct, TeWijzigenProduct, NieuwProduct) + Patient (BSN only).
- JW319 antwoordbericht: one Task ``basedOn`` the request's ReferentieAanbieder, ``rejected``
  (WJ760 1, WJ759 ``statusReason``) or ``in-progress`` (WJ760 2); Woonplaatsbeginsel as an
  extension.
- JW323 declaratie: a Patient (BSN only) and a Claim per Client, an item per Prestatie; the
  declaration's number, period, date and total on every Claim. JW325: a ClaimResponse
  (totals, ``outcome``, rejecting codes as ``error``) + the returned Prestaties as Claims.
- Retourberichten (JW302, JW306, JW308, JW316, JW318, JW320): the content of the answered
  message (as above, each class with its WJ001 retourcodes as extensions; none when the
  retour is its header only) + one answer Task, ``status`` accepted when every retourcode
  accepts (0200, 0233), else rejected with the first other code as ``statusReason``.

Each Bundle has a MessageHeader (event from ``EVENT_SYSTEM``, source/destination endpoints,
focus) carrying the iJw header (BerichtIdentificatie, XsdVersie, retour fields) as one
extension; Afzender and Ontvanger are its ``sender`` and ``destination.receiver``.

The package: ``_names`` (systems and URLs), ``_common`` (helpers), ``_build_*`` (iJw to FHIR:
client, products and answers, claims) and ``_read_*`` (back); this module puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from schemas.codes import (
    MessageEvent,
    partner_message_id_system,
)
from schemas.fhir import FhirDict
from schemas.fhir_ijw._build_claims import _claim_response, _claims
from schemas.fhir_ijw._build_client import _bare_patient, _patient
from schemas.fhir_ijw._build_products import (
    _answer,
    _antwoord,
    _assignment,
    _change_request,
    _episode,
    _message_header,
    _service_request,
)
from schemas.fhir_ijw._common import (
    IjwMappingError,
    _bsn,
    _codes_of,
    _Ids,
    _make,
    _one,
    _resources,
    _task_code,
    _urn,
    all_retour_codes,
)
from schemas.fhir_ijw._names import (
    ACCEPTING_CODES,
    ADJUDICATION_SYSTEM,
    ADRESSOORT_URL,
    BESCHIKKING_INGANG_URL,
    BESCHIKKINGNUMMER_SYSTEM,
    BUDGET_URL,
    CLAIM_TYPE_SYSTEM,
    COMMUNICATIEVORM_SYSTEM,
    COMMUNICATIEVORM_URL,
    DATUMGEBRUIK_URL,
    DEBET_CREDIT_URL,
    DECLARATIE_ANTWOORD_URL,
    DECLARATIE_IDENTIFICATIE_SYSTEM,
    DECLARATIENUMMER_SYSTEM,
    EENHEID_SYSTEM,
    ELEMENT_SYSTEM,
    FREQUENTIE_SYSTEM,
    FREQUENTIE_URL,
    GEMEENTE_SYSTEM,
    GEZAGSDRAGER_URL,
    HEADER_URL,
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
    PRIORITY_SYSTEM,
    PRODUCT_REFERENTIE_URL,
    PRODUCTCATEGORIE_SYSTEM,
    PRODUCTCODE_SYSTEM,
    QUALIFIER_URL,
    RAAMCONTRACT_URL,
    REDEN_AFWIJZING_SYSTEM,
    REDEN_BEEINDIGING_SYSTEM,
    REDEN_BEEINDIGING_URL,
    REDEN_VERZOEK_SYSTEM,
    REDEN_WIJZIGING_SYSTEM,
    REFERENTIE_AANBIEDER_SYSTEM,
    RELATIE_GEBOORTEDATUM_URL,
    RELATIE_NUMMER_URL,
    RELATIE_VOLGORDE_URL,
    RETOURCODE_SYSTEM,
    RETOURCODE_URL,
    SOORT_RELATIE_SYSTEM,
    STATUS_AANLEVERING_SYSTEM,
    STATUS_AANLEVERING_URL,
    STREET_URL,
    TELECOM_URL,
    TOEVOEGING_URL,
    TOEWIJZING_INGANG_URL,
    TOEWIJZINGNUMMER_SYSTEM,
    TOEWIJZINGNUMMER_URL,
    VERWIJZER_SYSTEM,
    VERWIJZER_TYPE_URL,
    VERZOEK_AFGEWEZEN,
    VERZOEK_ANTWOORD_SYSTEM,
    WETTELIJKE_VERTEGENWOORDIGING_SYSTEM,
    WETTELIJKE_VERTEGENWOORDIGING_URL,
    WOONPLAATSBEGINSEL_URL,
)
from schemas.fhir_ijw._read_claims import _declaratie_message
from schemas.fhir_ijw._read_client import _client_fields, _contact, _ja_nee, _jw301_client_fields
from schemas.fhir_ijw._read_products import (
    _aangevraagd,
    _antwoord_of,
    _start,
    _stop,
    _toegewezen,
    _verzoek,
)
from schemas.ijw import Bericht
from schemas.ijw.models import (
    BerichtIdentificatie,
    Header,
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
    RetourHeader,
    XsdVersie,
    model_of,
)

__all__ = [
    "ACCEPTING_CODES",
    "ADJUDICATION_SYSTEM",
    "ADRESSOORT_URL",
    "BESCHIKKINGNUMMER_SYSTEM",
    "BESCHIKKING_INGANG_URL",
    "BUDGET_URL",
    "CLAIM_TYPE_SYSTEM",
    "COMMUNICATIEVORM_SYSTEM",
    "COMMUNICATIEVORM_URL",
    "DATUMGEBRUIK_URL",
    "DEBET_CREDIT_URL",
    "DECLARATIENUMMER_SYSTEM",
    "DECLARATIE_ANTWOORD_URL",
    "DECLARATIE_IDENTIFICATIE_SYSTEM",
    "EENHEID_SYSTEM",
    "ELEMENT_SYSTEM",
    "FREQUENTIE_SYSTEM",
    "FREQUENTIE_URL",
    "GEMEENTE_SYSTEM",
    "GEZAGSDRAGER_URL",
    "HEADER_URL",
    "HOUSE_NUMBER_URL",
    "HUISLETTER_URL",
    "JURIDISCHE_STATUS_SYSTEM",
    "JURIDISCHE_STATUS_URL",
    "LANDNUMMER_URL",
    "LOCATOR_URL",
    "NAAMGEBRUIK_URL",
    "ORGANISATIE_URL",
    "OWN_NAME_URL",
    "OWN_PREFIX_URL",
    "PARTNER_NAME_URL",
    "PARTNER_PREFIX_URL",
    "PERIODE_URL",
    "PRIORITY_SYSTEM",
    "PRODUCTCATEGORIE_SYSTEM",
    "PRODUCTCODE_SYSTEM",
    "PRODUCT_REFERENTIE_URL",
    "QUALIFIER_URL",
    "RAAMCONTRACT_URL",
    "REDEN_AFWIJZING_SYSTEM",
    "REDEN_BEEINDIGING_SYSTEM",
    "REDEN_BEEINDIGING_URL",
    "REDEN_VERZOEK_SYSTEM",
    "REDEN_WIJZIGING_SYSTEM",
    "REFERENTIE_AANBIEDER_SYSTEM",
    "RELATIE_GEBOORTEDATUM_URL",
    "RELATIE_NUMMER_URL",
    "RELATIE_VOLGORDE_URL",
    "RETOURCODE_SYSTEM",
    "RETOURCODE_URL",
    "SOORT_RELATIE_SYSTEM",
    "STATUS_AANLEVERING_SYSTEM",
    "STATUS_AANLEVERING_URL",
    "STREET_URL",
    "TELECOM_URL",
    "TOEVOEGING_URL",
    "TOEWIJZINGNUMMER_SYSTEM",
    "TOEWIJZINGNUMMER_URL",
    "TOEWIJZING_INGANG_URL",
    "VERWIJZER_SYSTEM",
    "VERWIJZER_TYPE_URL",
    "VERZOEK_AFGEWEZEN",
    "VERZOEK_ANTWOORD_SYSTEM",
    "WETTELIJKE_VERTEGENWOORDIGING_SYSTEM",
    "WETTELIJKE_VERTEGENWOORDIGING_URL",
    "WOONPLAATSBEGINSEL_URL",
    "IjwMappingError",
    "all_retour_codes",
    "from_bundle",
    "to_bundle",
]


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


def from_bundle(bundle: Mapping[str, Any]) -> tuple[Bericht, IjwModel]:
    """The iJw message a canonical Bundle holds: the inverse of ``to_bundle``."""
    try:
        return _read(bundle)
    except (KeyError, IndexError, TypeError, StopIteration, ValueError) as exc:
        raise IjwMappingError(
            f"Bundle does not hold an iJw message ({type(exc).__name__})"
        ) from None


def _xsd_versie(parts: Mapping[str, Any], suffix: str = "") -> XsdVersie:
    """The XsdVersie that ``_xsd_versie_exts`` wrote (own, ``Retour`` or ``Declaratie``)."""
    return XsdVersie(
        basisschema_xsd_versie=parts[f"basisschemaXsdVersie{suffix}"]["valueString"],
        bericht_xsd_versie=parts[f"berichtXsdVersie{suffix}"]["valueString"],
    )


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
        "xsd_versie": _xsd_versie(parts),
    }
    header: Header
    if bericht.is_retour:
        header = RetourHeader(
            afzender=receiver,
            ontvanger=sender,
            identificatie_retour=parts["identificatieRetour"]["valueString"],
            dagtekening_retour=date.fromisoformat(parts["dagtekeningRetour"]["valueDate"]),
            xslt_versie=parts["xsltVersie"]["valueString"] if "xsltVersie" in parts else None,
            xsd_versie_retour=_xsd_versie(parts, "Retour"),
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
            xsd_versie_declaratie=_xsd_versie(parts, "Declaratie"),
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
