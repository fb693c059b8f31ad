"""Small helpers shared by building and reading the iJw FHIR Bundles."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from schemas.codes import (
    AGB_SYSTEM,
    BSN_SYSTEM,
)
from schemas.fhir import FhirDict
from schemas.fhir_ijw._names import (
    EENHEID_SYSTEM,
    ELEMENT_SYSTEM,
    FREQUENTIE_SYSTEM,
    FREQUENTIE_URL,
    GEMEENTE_SYSTEM,
    RETOURCODE_SYSTEM,
    RETOURCODE_URL,
)
from schemas.ids import derived_id
from schemas.ijw.models import (
    IjwModel,
    Omvang,
    Product,
)


class IjwMappingError(ValueError):
    """A Bundle that does not hold the iJw message its event names; text names paths only."""


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


def all_retour_codes(message: IjwModel) -> list[str]:
    """Every WJ001 code of a retourbericht, header first, in document order."""
    codes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, IjwModel):
            values = node.__dict__  # the field values (a getattr that misses costs ~2 us)
            codes.extend(values.get("retour_codes", ()))
            for name in type(node).model_fields:
                if name != "retour_codes":
                    walk(values[name])
        elif isinstance(node, tuple):
            for item in node:
                walk(item)

    walk(message)
    return codes


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


def _make(model: type[IjwModel], **fields: Any) -> IjwModel:
    return model.model_validate(fields)


def _task_code(task: Mapping[str, Any]) -> str:
    return str(task["code"]["coding"][0]["code"])


def _bsn(patient: Mapping[str, Any]) -> str:
    return str(next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM))


def _coded(extension: Mapping[str, Any] | None) -> str | None:
    return None if extension is None else str(extension["valueCoding"]["code"])


def _inputs(task: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {i["type"]["coding"][0]["code"]: i for i in task.get("input", [])}


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
