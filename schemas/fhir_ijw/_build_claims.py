"""JW323 declaratie and JW325 declaratie-antwoord as FHIR Claim and ClaimResponse."""

from __future__ import annotations

from schemas.fhir import FhirDict
from schemas.fhir_ijw._build_client import _bare_patient
from schemas.fhir_ijw._common import (
    _coding,
    _ext,
    _Ids,
    _party,
    _period,
    _ref,
    _retour_exts,
    _with_extensions,
    all_retour_codes,
)
from schemas.fhir_ijw._names import (
    ACCEPTING_CODES,
    ADJUDICATION_SYSTEM,
    CLAIM_TYPE_SYSTEM,
    DEBET_CREDIT_URL,
    DECLARATIE_ANTWOORD_URL,
    DECLARATIE_IDENTIFICATIE_SYSTEM,
    DECLARATIENUMMER_SYSTEM,
    EENHEID_SYSTEM,
    PRIORITY_SYSTEM,
    PRODUCT_REFERENTIE_URL,
    PRODUCTCATEGORIE_SYSTEM,
    PRODUCTCODE_SYSTEM,
    RETOURCODE_SYSTEM,
    TOEWIJZINGNUMMER_URL,
)
from schemas.ijw.models import (
    Declaratie,
    DeclaratieClient,
    Header,
    Jw325,
    Prestatie,
)


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
