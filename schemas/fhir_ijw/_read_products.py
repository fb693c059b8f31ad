"""FHIR ServiceRequest, Task and EpisodeOfCare back to the iJw product classes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from schemas.codes import (
    MessageEvent,
)
from schemas.fhir import FhirDict
from schemas.fhir_ijw._common import (
    _codes_of,
    _date,
    _inputs,
    _omvang,
    _one,
    _product,
    _ref,
    _sub,
    _task_code,
)
from schemas.fhir_ijw._names import (
    BESCHIKKING_INGANG_URL,
    BESCHIKKINGNUMMER_SYSTEM,
    BUDGET_URL,
    FREQUENTIE_URL,
    PRODUCTCATEGORIE_SYSTEM,
    PRODUCTCODE_SYSTEM,
    RAAMCONTRACT_URL,
    REDEN_BEEINDIGING_URL,
    REFERENTIE_AANBIEDER_SYSTEM,
    STATUS_AANLEVERING_URL,
    TOEWIJZING_INGANG_URL,
    VERWIJZER_TYPE_URL,
    WOONPLAATSBEGINSEL_URL,
)
from schemas.fhir_ijw._read_client import _ja_nee
from schemas.ijw.models import (
    AangevraagdProduct,
    Antwoord,
    NieuwProduct,
    OngewijzigdProduct,
    Product,
    StartProduct,
    StopProduct,
    TeWijzigenProduct,
    ToegewezenProduct,
    Verwijzer,
    Verzoek,
    Woonplaatsbeginsel,
)


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
