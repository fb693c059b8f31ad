"""The iJw product classes as FHIR resources, the MessageHeader and the answer Task."""

from __future__ import annotations

from schemas.codes import (
    AGB_SYSTEM,
    EVENT_SYSTEM,
    MessageEvent,
    partner_endpoint,
)
from schemas.fhir import FhirDict
from schemas.fhir_ijw._common import (
    _coding,
    _ext,
    _frequentie,
    _Ids,
    _input,
    _party,
    _period,
    _quantity,
    _ref,
    _retour_exts,
    _with_extensions,
    all_retour_codes,
)
from schemas.fhir_ijw._names import (
    _NS,
    ACCEPTING_CODES,
    BESCHIKKING_INGANG_URL,
    BESCHIKKINGNUMMER_SYSTEM,
    BUDGET_URL,
    ELEMENT_SYSTEM,
    FREQUENTIE_SYSTEM,
    GEMEENTE_SYSTEM,
    HEADER_URL,
    PRODUCTCATEGORIE_SYSTEM,
    PRODUCTCODE_SYSTEM,
    RAAMCONTRACT_URL,
    REDEN_AFWIJZING_SYSTEM,
    REDEN_BEEINDIGING_SYSTEM,
    REDEN_BEEINDIGING_URL,
    REDEN_VERZOEK_SYSTEM,
    REDEN_WIJZIGING_SYSTEM,
    REFERENTIE_AANBIEDER_SYSTEM,
    RETOURCODE_SYSTEM,
    STATUS_AANLEVERING_SYSTEM,
    STATUS_AANLEVERING_URL,
    TOEWIJZING_INGANG_URL,
    TOEWIJZINGNUMMER_SYSTEM,
    VERWIJZER_SYSTEM,
    VERWIJZER_TYPE_URL,
    VERZOEK_AFGEWEZEN,
    VERZOEK_ANTWOORD_SYSTEM,
    WOONPLAATSBEGINSEL_URL,
)
from schemas.ijw import Bericht
from schemas.ijw.models import (
    AangevraagdProduct,
    Antwoord,
    Header,
    IjwModel,
    Jw325Header,
    Omvang,
    Product,
    RetourHeader,
    StartProduct,
    StopProduct,
    ToegewezenProduct,
    Verwijzer,
    Verzoek,
    XsdVersie,
)


def _xsd_versie_exts(versie: XsdVersie, suffix: str = "") -> list[FhirDict]:
    """The two XsdVersie parts of the header: the message's own, or (``suffix`` ``Retour``,
    ``Declaratie``) those of the message a retour or JW325 answers."""
    return [
        _ext(f"basisschemaXsdVersie{suffix}", valueString=versie.basisschema_xsd_versie),
        _ext(f"berichtXsdVersie{suffix}", valueString=versie.bericht_xsd_versie),
    ]


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
        *_xsd_versie_exts(header.xsd_versie),
    ]
    # A retourbericht copies the answered message's header: its Ontvanger sends the retour.
    sender, receiver = header.afzender, header.ontvanger
    if isinstance(header, RetourHeader):
        sender, receiver = receiver, sender
        parts += [
            _ext("identificatieRetour", valueString=header.identificatie_retour),
            _ext("dagtekeningRetour", valueDate=header.dagtekening_retour.isoformat()),
            *_xsd_versie_exts(header.xsd_versie_retour, "Retour"),
        ]
        if header.xslt_versie is not None:
            parts.append(_ext("xsltVersie", valueString=header.xslt_versie))
        parts += _retour_exts(header.retour_codes)
    elif isinstance(header, Jw325Header):
        answered = header.declaratie_identificatie
        parts += [
            _ext("declaratieIdentificatie", valueString=answered.identificatie),
            _ext("declaratieDagtekening", valueDate=answered.dagtekening.isoformat()),
            *_xsd_versie_exts(header.xsd_versie_declaratie, "Declaratie"),
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
