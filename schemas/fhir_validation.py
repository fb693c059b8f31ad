"""FHIR validation memoised per shape: full fhir.resources validity at a fraction of the cost.

fhir.resources decides most of a document's validity from its *shape* alone: which keys a
dict holds (``extra="forbid"``), list or scalar, nesting, the model class picked by each
``resourceType``, nulls in lists, the one-of-many choice types and required elements. Only the
primitive leaf values (a date, an id, a code) are checked against their FHIR type one by one.
The hub sends the same few shapes over and over with other values, so the first time a shape
is seen it is validated in full and, when valid, a plan is made: the validator every leaf's
model field would use. Later documents of that shape only run their leaves through the plan;
a leaf that fails sends the document back to full validation, which then gives the errors.
A shape whose classes do anything the plan does not model is simply validated in full.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension
from fhir_core.constraints import FHIR_PRIMITIVES_MAPS
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.fields import FieldInfo

Shape = tuple[object, ...]

_STRUCTURAL_KEYS: Final = frozenset({"resourceType", "resource_type"})
"""Keys whose value picks or checks a model class, so the value is part of the shape.

``FHIRAbstractModel.__init__`` takes either key out of any dict and compares it with the
class's resource type; ``resourceType`` also picks a Bundle entry's resource class.
"""

_BASE_VALIDATORS: Final = {
    name: getattr(d.func, "__func__", d.func)
    for name, d in FHIRAbstractModel.__pydantic_decorators__.model_validators.items()
}
"""FHIRAbstractModel's model validators, which judge shape only."""
_SHAPE_ONLY_VALIDATORS: Final = {
    **_BASE_VALIDATORS,
    "validate_extension_or_fhir_comment_required": (
        FHIRPrimitiveExtension.validate_extension_or_fhir_comment_required.__func__
    ),
}
"""Every model validator known to judge shape only; a class with any other is out.

A primitive extension (``_birthDate`` and the like, which iJw Bundles carry) must hold an
``id``, an ``extension`` or ``fhir_comments``: whether each is present and not null is part
of the shape (its key, and ``NoneType`` for a null leaf).
"""
_OWN_METHODS: Final = (
    "__init__",
    "model_post_init",
    "model_validate",
    "_validate_one_of_many",
    "_validate_required_primitive_elements",
    "__get_pydantic_core_schema__",
)
"""Hooks whose FHIRAbstractModel behaviour the plan relies on; a class overriding one is out."""
_ELEMENT_HOOKS: Final = ("fhir_model_validator", "__get_pydantic_core_schema__", "get_model_klass")
"""The same for the field types of complex elements (``fhir_core.types.FhirBase``)."""


class _Unplannable(Exception):
    """The shape uses something the plan does not model; it gets full validation always."""


Check = Callable[[Any], object]
"""Validates one leaf value, raising when the model field would reject it."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """The validator of each non-null leaf of a shape, in walk order."""

    checks: tuple[Check, ...]


_NO_PLAN: Final = _Plan(checks=())
"""Marks a valid shape that cannot be planned, so it is not planned again each time."""


def describe(document: dict[str, Any]) -> tuple[Shape, list[Any]]:
    """The shape of a JSON document and its non-null leaf values, in document order.

    The shape lists each dict's keys, each list's length, each leaf's type and the value of
    every structural key; tuples, ints and types mark the three, so a shape reads back one way.
    """
    shape: list[object] = []
    leaves: list[Any] = []
    _describe_dict(document, shape, leaves)
    return tuple(shape), leaves


def _describe_dict(node: dict[str, Any], shape: list[object], leaves: list[Any]) -> None:
    shape.append(tuple(node))
    for key, item in node.items():
        kind = type(item)
        if kind is dict:
            _describe_dict(item, shape, leaves)
        elif kind is list:
            _describe_list(item, shape, leaves)
        else:
            shape.append(kind)
            if key in _STRUCTURAL_KEYS:
                shape.append(item)
            elif item is not None:
                leaves.append(item)


def _describe_list(node: list[Any], shape: list[object], leaves: list[Any]) -> None:
    shape.append(len(node))
    for item in node:
        kind = type(item)
        if kind is dict:
            _describe_dict(item, shape, leaves)
        elif kind is list:
            _describe_list(item, shape, leaves)
        else:
            shape.append(kind)
            if item is not None:
                leaves.append(item)


MAX_PLANNED_LEAVES = 500
"""A partner shapes its Bundles (entries, list lengths): memory per held shape grows with its
size, so only Bundles of ordinary size (the hub's run to 50-150 leaves) get a plan."""


class FhirValidator:
    """Validates documents against one fhir.resources model, memoising a plan per shape.

    Accepts and rejects exactly what ``model.model_validate`` does, and raises the same
    errors: every rejection comes from ``model.model_validate`` itself. Holds up to
    ``max_shapes`` shapes and starts afresh when full; only valid shapes are kept.
    """

    def __init__(self, model: type[FHIRAbstractModel], max_shapes: int = 4096) -> None:
        self._model = model
        self._max_shapes = max_shapes
        self._plans: dict[Shape, _Plan] = {}
        self._planner = _Planner()

    def validate(self, document: Mapping[str, Any]) -> None:
        """Raise pydantic's ``ValidationError`` when ``document`` is not a valid instance."""
        if type(document) is not dict:
            self._model.model_validate(document)
            return
        try:
            shape, leaves = describe(document)
            plan = self._plans.get(shape)
        except (TypeError, RecursionError):  # an unhashable resourceType; absurd nesting
            self._model.model_validate(document)
            return
        if plan is not None and plan is not _NO_PLAN:
            try:
                for check, leaf in zip(plan.checks, leaves, strict=True):
                    check(leaf)
            except Exception:  # any leaf failure: the model decides, and words the errors
                self._model.model_validate(document)
            return
        instance = self._model.model_validate(document)
        if plan is None and len(leaves) <= MAX_PLANNED_LEAVES:
            if len(self._plans) >= self._max_shapes:
                self._plans.clear()
            self._plans[shape] = self._planner.plan(document, instance, len(leaves))

    def known_shapes(self) -> int:
        """How many valid shapes are held; for tests and metrics."""
        return len(self._plans)

    def planned_shapes(self) -> int:
        """How many held shapes have a plan (the rest are always validated in full)."""
        return sum(plan is not _NO_PLAN for plan in self._plans.values())


class _Planner:
    """Reads plans off validated model instances, remembering what it learnt of each class."""

    def __init__(self) -> None:
        self._fields: dict[type[FHIRAbstractModel], dict[str, tuple[str, FieldInfo]]] = {}
        self._leaf_checks: dict[tuple[type[FHIRAbstractModel], str, bool], Check] = {}
        self._adapters: dict[tuple[object, ...], Check] = {}

    def plan(self, document: dict[str, Any], instance: BaseModel, leaf_count: int) -> _Plan:
        """The plan for ``document``'s shape, or ``_NO_PLAN`` when anything is not understood."""
        checks: list[Check] = []
        try:
            self._walk(document, instance, checks)
        except Exception:  # whatever is not understood is validated in full
            return _NO_PLAN
        if len(checks) != leaf_count:
            return _NO_PLAN
        return _Plan(checks=tuple(checks))

    def _walk(self, node: dict[str, Any], instance: object, checks: list[Check]) -> None:
        """Append the check of each leaf under ``node``, in ``describe``'s order.

        Walks the dict alongside the model instance validated from it, so each key is read as
        the field the model used and each entry's resource as the class the model picked.
        """
        if not isinstance(instance, FHIRAbstractModel):
            raise _Unplannable(f"{type(instance).__qualname__} is not a FHIR model")
        cls = type(instance)
        fields = self._fields_of(cls)
        seen: set[str] = set()
        for key, item in node.items():
            if key in _STRUCTURAL_KEYS:
                if key in fields or type(item) in (dict, list):
                    raise _Unplannable(f"{key} is not just a class check")
                continue
            found = fields.get(key)
            if found is None:
                raise _Unplannable(f"{key} fills no one field of {cls.__qualname__}")
            name, info = found
            if name in seen:
                raise _Unplannable(f"{name} given twice")
            seen.add(name)
            value = getattr(instance, name)
            kind = type(item)
            if kind is dict:
                _complex_field(info, in_list=False)
                self._walk(item, value, checks)
            elif kind is list:
                if type(value) is not list or len(value) != len(item):
                    raise _Unplannable(f"{name} is not read as the list it is")
                for element, element_value in zip(item, value, strict=True):
                    if type(element) is dict:
                        _complex_field(info, in_list=True)
                        self._walk(element, element_value, checks)
                    elif type(element) is list:
                        raise _Unplannable(f"{name} holds a list in a list")
                    elif element is not None:
                        checks.append(self._leaf_check(cls, name, in_list=True))
            elif item is not None:
                checks.append(self._leaf_check(cls, name, in_list=False))

    def _fields_of(self, cls: type[FHIRAbstractModel]) -> dict[str, tuple[str, FieldInfo]]:
        fields = self._fields.get(cls)
        if fields is None:
            if not _plain_model(cls):
                raise _Unplannable(f"{cls.__qualname__} validates more than its fields")
            fields = self._fields[cls] = _fields_by_key(cls)
        return fields

    def _leaf_check(self, cls: type[FHIRAbstractModel], name: str, *, in_list: bool) -> Check:
        key = (cls, name, in_list)
        check = self._leaf_checks.get(key)
        if check is None:
            leaf_type = _leaf_type(cls.model_fields[name], in_list=in_list)
            check = self._leaf_checks[key] = self._adapter(leaf_type, cls.model_config)
        return check

    def _adapter(self, leaf_type: Any, config: ConfigDict) -> Check:
        """The validator of one FHIR primitive type under a model's config, made once.

        A TypeAdapter of the field's own annotation builds the same core schema pydantic
        builds for that field inside the model, so a leaf passes here iff it passes there.
        """
        key = (leaf_type, tuple(sorted(config.items())))
        check = self._adapters.get(key)
        if check is None:
            check = TypeAdapter(leaf_type, config=config).validator.validate_python
            self._adapters[key] = check
        return check


def _plain_model(cls: type[FHIRAbstractModel]) -> bool:
    """True when ``cls`` validates only through FHIRAbstractModel's own validators."""
    decorators = cls.__pydantic_decorators__
    if decorators.validators or decorators.field_validators or decorators.root_validators:
        return False
    own = {
        name: getattr(d.func, "__func__", d.func) for name, d in decorators.model_validators.items()
    }
    if any(_SHAPE_ONLY_VALIDATORS.get(name) is not func for name, func in own.items()):
        return False
    below = cls.__mro__[: cls.__mro__.index(FHIRAbstractModel)]
    return not any(hook in vars(k) for k in below for hook in _OWN_METHODS)


def _fields_by_key(cls: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    """The field each JSON key fills: by alias, or by name (``populate_by_name``).

    A key that could fill two fields is left out, so a document using it gets no plan.
    """
    claims: dict[str, list[tuple[str, FieldInfo]]] = {}
    for name, info in cls.model_fields.items():
        for key in {info.alias or name, name}:
            claims.setdefault(key, []).append((name, info))
    return {key: fields[0] for key, fields in claims.items() if len(fields) == 1}


def _complex_field(info: FieldInfo, *, in_list: bool) -> None:
    """Check a dict's field is a FHIR element type of fhir_core's making, nothing more.

    Those find the model class by name (or, for a resource, by ``resourceType``) and have it
    validate the dict; a type of other making might do anything with the value.
    """
    inner = _strip_none(info.annotation)
    if in_list:
        inner = _strip_none(_strip_list(inner))
    if info.metadata or not (isinstance(inner, type) and issubclass(inner, FhirBase)):
        raise _Unplannable("a dict under a field that is not a FHIR element")
    below = inner.__mro__[: inner.__mro__.index(FhirBase)]
    if any(
        hook in vars(k)
        for k in below
        if k is not FhirElementOrResourceBase
        for hook in _ELEMENT_HOOKS
    ):
        raise _Unplannable(f"{inner.__qualname__} validates in its own way")


def _leaf_type(info: FieldInfo, *, in_list: bool) -> object:
    """The primitive FHIR type a leaf of this field is validated against."""
    if info.metadata:
        raise _Unplannable("field constraints beyond the FHIR type")
    inner = _strip_none(info.annotation)
    if in_list:
        inner = _strip_none(_strip_list(inner))
    try:
        primitive = inner in FHIR_PRIMITIVES_MAPS
    except TypeError:
        primitive = False
    if not primitive:
        raise _Unplannable(f"leaf under {info.annotation}, not a FHIR primitive")
    return inner


def _strip_none(annotation: object) -> object:
    """``X | None`` to ``X``; any other union is not modelled."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(rest) != 1:
        raise _Unplannable(f"union {annotation}")
    return rest[0]


def _strip_list(annotation: object) -> object:
    if typing.get_origin(annotation) is not list:
        raise _Unplannable(f"{annotation} is not a list")
    (inner,) = typing.get_args(annotation)
    return inner
