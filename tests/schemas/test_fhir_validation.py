"""Shape-memoised FHIR validation accepts and rejects exactly what fhir.resources does."""

from __future__ import annotations

import copy
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.registry import load_adapters
from schemas import fhir
from schemas.fhir_validation import MAX_PLANNED_LEAVES, FhirValidator, describe
from tests.conftest import PROVIDER, decode_context, default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples"
IJW_SENDERS = {"aanbieder": PROVIDER, "rigg": "rigg-groningen"}
PROPERTY_EXAMPLES = 400

JsonPath = tuple[str | int, ...]


def _ijw_bundles() -> dict[str, bytes]:
    """The canonical Bundles of the iJw examples, as their adapters build them (they carry
    primitive extensions: ``_birthDate``, ``_family``, ``_given``, ``_line``)."""
    registry, adapters = default_registry(), load_adapters()
    bundles = {}
    for path in sorted(EXAMPLES.glob("*.xml")):
        sender = registry.get(IJW_SENDERS[path.name.split("-")[0]])
        assert sender is not None
        decoded = adapters.get(sender.adapter_name).decode(
            path.read_bytes(), decode_context(registry, sender.id)
        )
        bundles[path.stem] = orjson.dumps(decoded.bundle)
    return bundles


GOLDEN_BUNDLES: dict[str, bytes] = {
    **{path.name.removesuffix(".fhir.json"): path.read_bytes()
       for path in sorted(EXAMPLES.glob("*.fhir.json"))},
    **_ijw_bundles(),
}  # fmt: skip
GOLDEN = sorted(GOLDEN_BUNDLES)


def _golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(GOLDEN_BUNDLES[name])
    return loaded


def _outcome(validate: Callable[[], object]) -> tuple[str, str]:
    """What a validation did: ("ok", "") or the exception's type and full text."""
    try:
        validate()
    except Exception as exc:  # not only ValidationError: an unknown resourceType is a KeyError
        return type(exc).__name__, str(exc)
    return "ok", ""


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    return found


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_bundles_are_accepted_on_first_and_second_sight(name: str) -> None:
    bundle = _golden(name)
    validator = FhirValidator(Bundle)
    validator.validate(bundle)
    assert (validator.known_shapes(), validator.planned_shapes()) == (1, 1)
    validator.validate(bundle)
    validator.validate(copy.deepcopy(bundle))
    assert validator.known_shapes() == 1
    fhir.validate_bundle(bundle)
    fhir.validate_bundle(bundle)


def test_bundles_of_one_shape_share_one_plan() -> None:
    validator = FhirValidator(Bundle)
    validator.validate(_golden("huisarts-signaal"))
    validator.validate(_golden("ojg-signaal"))
    assert validator.known_shapes() == 1


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("birthDate", "2014-13-45"),
        ("birthDate", "2014-02-30"),
        ("birthDate", "2014-03-02T10:00:00Z"),
        ("id", "has a space"),
        ("id", ""),
        ("id", "x" * 256),
    ],
)
def test_values_in_a_known_shape_are_still_checked(where: str, value: str) -> None:
    validator = FhirValidator(Bundle)
    bundle = _golden("huisarts-verwijzing")
    validator.validate(bundle)
    bad = copy.deepcopy(bundle)
    _patient(bad)[where] = value
    assert describe(bad)[0] == describe(bundle)[0]
    with pytest.raises(ValidationError) as planned:
        validator.validate(bad)
    with pytest.raises(ValidationError) as direct:
        Bundle.model_validate(bad)
    assert str(planned.value) == str(direct.value)


def test_validate_bundle_words_a_bad_value_in_a_known_shape_as_before() -> None:
    bundle = _golden("huisarts-verwijzing")
    fhir.validate_bundle(bundle)
    _patient(bundle)["birthDate"] = "2014-13-45"
    with pytest.raises(fhir.FhirInvalidError, match=r"^invalid FHIR at entry\.2\.resource\."):
        fhir.validate_bundle(bundle)


def test_a_primitive_extension_is_planned_and_its_values_still_checked() -> None:
    """FHIRPrimitiveExtension's own validator asks only which keys are there and not null."""
    validator = FhirValidator(Bundle)
    bundle = _golden("huisarts-verwijzing")
    _patient(bundle)["_birthDate"] = {"extension": [{"url": "urn:x", "valueString": "y"}]}
    validator.validate(bundle)
    assert (validator.known_shapes(), validator.planned_shapes()) == (1, 1)
    _patient(bundle)["birthDate"] = "2014-13-45"
    with pytest.raises(ValidationError):
        validator.validate(bundle)
    _patient(bundle)["birthDate"] = "2014-03-02"
    _patient(bundle)["_birthDate"]["extension"][0]["valueString"] = ""
    with pytest.raises(ValidationError):
        validator.validate(bundle)


@pytest.mark.parametrize("empty", [{}, {"extension": None}, {"id": None, "fhir_comments": None}])
def test_a_primitive_extension_with_nothing_in_it_is_refused(empty: dict[str, Any]) -> None:
    validator = FhirValidator(Bundle)
    bundle = _golden("aanbieder-jw315")
    validator.validate(bundle)
    assert validator.planned_shapes() == 1
    _patient(bundle)["_birthDate"] = empty
    with pytest.raises(ValidationError, match="One of field value is required"):
        validator.validate(bundle)


def test_ijw_bundles_are_planned() -> None:
    """iJw Bundles hold primitive extensions in lists too (``_given``, ``_line``)."""
    validator = FhirValidator(Bundle)
    for name in GOLDEN:
        if name.startswith(("aanbieder-", "rigg-")):
            validator.validate(_golden(name))
    assert validator.known_shapes() == validator.planned_shapes() >= 4


def test_an_invalid_shape_is_not_remembered() -> None:
    validator = FhirValidator(Bundle)
    bundle = _golden("huisarts-verwijzing")
    bundle["unknown"] = "x"
    for _ in range(2):
        with pytest.raises(ValidationError):
            validator.validate(bundle)
    assert validator.known_shapes() == 0


def test_the_shapes_held_are_bounded() -> None:
    validator = FhirValidator(Bundle, max_shapes=2)
    for name in ("huisarts-verwijzing", "ojg-toestemming", "veiligheidshuis-opschalen"):
        validator.validate(_golden(name))
        assert validator.known_shapes() <= 2


def test_a_mapping_that_is_not_a_dict_is_validated_in_full() -> None:
    validator = FhirValidator(Bundle)
    bundle = types.MappingProxyType(_golden("huisarts-verwijzing"))
    direct = _outcome(lambda: Bundle.model_validate(bundle))
    assert _outcome(lambda: validator.validate(bundle)) == direct
    assert validator.known_shapes() == 0


def test_the_shape_holds_resource_types_and_leaf_types_not_other_values() -> None:
    bundle = _golden("huisarts-verwijzing")
    other = copy.deepcopy(bundle)
    _patient(other)["birthDate"] = "1999-01-01"
    assert describe(other)[0] == describe(bundle)[0]
    patient = _patient(other)
    patient["resourceType"] = "Organization"
    assert describe(other)[0] != describe(bundle)[0]
    patient["resourceType"] = "Patient"
    patient["birthDate"] = 19990101
    assert describe(other)[0] != describe(bundle)[0]


# The property: random mutations of golden Bundles, judged by the memoised validator and by
# fhir.resources directly.

_ODD_STRINGS = [
    "",
    " ",
    "\t",
    " padded ",
    "two  spaces",
    "a\nb",
    "ñandú",
    "日本語",
    "\x00",
    "2014",
    "2014-02",
    "2014-13",
    "2014-02-29",
    "2016-02-29",
    "2014-13-45",
    "0000-01-01",
    "2026-11-23T09:15:00",
    "2026-11-23T09:15:00Z",
    "2026-11-23T09:15:00.123+01:00",
    "2026-11-23T24:00:00+01:00",
    "2016-12-31T23:59:60Z",
    "2026-11-23 09:15:00+01:00",
    "urn:uuid:cb0fa7ce-6270-55a5-8d95-c7bf585810d8",
    "http://x y",
    "/Patient/1",
    "Patient/1",
    "string",
    "true",
    "false",
    "1",
    "-1",
    "1.5",
    "yes",
    "active",
    "message",
    "x" * 256,
]
_RESOURCE_TYPES = [
    "Bundle",
    "Patient",
    "Organization",
    "ServiceRequest",
    "MessageHeader",
    "Consent",
    "Communication",
    "OperationOutcome",
    "Coding",
    "Reference",
    "Resource",
    "DomainResource",
    "NoSuchResource",
]
_KEYS = ["id", "extension", "text", "url", "valueString", "_birthDate", "fhir_comments"]
_STRINGS = st.one_of(st.sampled_from(_ODD_STRINGS), st.text(max_size=12))
"""Same-type values: the document keeps its shape, so its values meet a plan."""
_SCALARS = st.one_of(
    _STRINGS,
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, width=32),
)


def _nodes(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _at(document: Any, path: JsonPath) -> Any:
    for step in path:
        document = document[step]
    return document


def _set(document: Any, path: JsonPath, value: Any) -> None:
    _at(document, path[:-1])[path[-1]] = value


def _mutate(document: dict[str, Any], data: st.DataObject) -> None:
    nodes = list(_nodes(document))
    where: dict[str, list[JsonPath]] = {
        "leaf": [p for p, v in nodes if p and not isinstance(v, dict | list)],
        "delete": [p for p, v in nodes if isinstance(v, dict) and v],
        "add": [p for p, v in nodes if isinstance(v, dict)],
        "type": [p for p, v in nodes if isinstance(v, dict) and "resourceType" in v],
        "grow": [p for p, v in nodes if p and isinstance(v, list) and v],
    }
    where["wrap"] = where["leaf"]
    where["text"] = [p for p, v in nodes if p and isinstance(v, str) and p[-1] != "resourceType"]
    kinds = [kind for kind, paths in where.items() if paths]
    kind = data.draw(st.sampled_from([*kinds, *(["text"] * 3 if where["text"] else [])]))
    path = data.draw(st.sampled_from(where[kind]))
    node = _at(document, path)
    if kind == "text":
        _set(document, path, data.draw(_STRINGS))
    elif kind == "leaf":
        _set(document, path, data.draw(_SCALARS))
    elif kind == "wrap":
        _set(document, path, [node])
    elif kind == "delete":
        del node[data.draw(st.sampled_from(sorted(node)))]
    elif kind == "add":
        key = data.draw(st.one_of(st.sampled_from(_KEYS), st.text(min_size=1, max_size=8)))
        node[key] = data.draw(_SCALARS)
    elif kind == "type":
        node["resourceType"] = data.draw(st.sampled_from(_RESOURCE_TYPES))
    else:
        node.append(copy.deepcopy(node[data.draw(st.integers(0, len(node) - 1))]))


@pytest.fixture(scope="module")
def warm_validators() -> dict[str, FhirValidator]:
    """One validator per golden file, kept across examples: shapes of accepted mutations are
    planned too, and met again by later examples."""
    return {}


@settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    golden=st.sampled_from(GOLDEN),
    mutations=st.integers(min_value=1, max_value=3),
    data=st.data(),
)
def test_memoised_validation_agrees_with_fhir_resources(
    warm_validators: dict[str, FhirValidator], golden: str, mutations: int, data: st.DataObject
) -> None:
    bundle = _golden(golden)
    validator = warm_validators.setdefault(golden, FhirValidator(Bundle))
    validator.validate(bundle)
    for _ in range(mutations):
        _mutate(bundle, data)
    direct = _outcome(lambda: Bundle.model_validate(bundle))
    assert _outcome(lambda: validator.validate(bundle)) == direct
    assert _outcome(lambda: validator.validate(bundle)) == direct


@pytest.mark.parametrize("name", ["huisarts-verwijzing", "ojg-toestemming", "aanbieder-jw315"])
def test_every_odd_string_in_every_leaf_is_judged_as_fhir_resources_does(name: str) -> None:
    bundle = _golden(name)
    validator = FhirValidator(Bundle)
    validator.validate(bundle)
    paths = [p for p, v in _nodes(bundle) if isinstance(v, str) and p[-1] != "resourceType"]
    rejected = 0
    for path in paths:
        original = _at(bundle, path)
        for value in _ODD_STRINGS:
            _set(bundle, path, value)
            direct = _outcome(lambda: Bundle.model_validate(bundle))
            assert _outcome(lambda: validator.validate(bundle)) == direct, (path, value)
            rejected += direct[0] != "ok"
        _set(bundle, path, original)
    assert validator.known_shapes() == 1
    assert rejected > len(paths)


def test_absurd_nesting_is_left_to_fhir_resources() -> None:
    bundle = _golden("huisarts-verwijzing")
    extension: dict[str, Any] = {"url": "urn:x", "valueString": "y"}
    for _ in range(300):
        extension = {"url": "urn:x", "extension": [extension]}
    _patient(bundle)["extension"] = [extension]
    validator = FhirValidator(Bundle)
    direct = _outcome(lambda: Bundle.model_validate(bundle))
    assert _outcome(lambda: validator.validate(bundle))[0] == direct[0]


def test_an_oversized_shape_is_validated_in_full_and_not_held() -> None:
    bundle = _golden("huisarts-verwijzing")
    patient = _patient(bundle)
    patient["name"] = [{"given": [f"n{i}" for i in range(MAX_PLANNED_LEAVES)]}]
    validator = FhirValidator(Bundle)
    validator.validate(bundle)
    assert validator.known_shapes() == 0
