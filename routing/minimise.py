"""Data minimisation: remove what a recipient kind may not see from a canonical Bundle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALWAYS_KEPT = frozenset({"MessageHeader"})


def _withheld() -> dict[str, Any]:
    """A fresh ``WITHHELD`` (a recipient may change its Bundle), as a literal:
    ``copy.deepcopy`` of the constant cost ~25 times as much, on every forwarded signal."""
    return {"coding": [{"system": "urn:ketenhub:codesystem:withheld", "code": "withheld"}]}


WITHHELD = _withheld()
REQUIRED = frozenset({"Flag.code"})
"""Elements FHIR R4 requires (1..1): replaced by a 'withheld' code instead of removed, so the
minimised Bundle stays valid FHIR and says honestly that something was held back."""


def minimise(bundle: Mapping[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``bundle`` without the dropped resource types and ``Type.field`` elements.

    References to a dropped resource stay in place: they are ``urn:uuid`` ids that say
    nothing by themselves, and keeping them keeps the Bundle's shape valid. ``bundle`` is
    never changed; the copy is new down to the resources it changes and shares the rest
    (a deep copy cost the router more than deciding: one per forward of every message).
    """
    if not drop:
        return dict(bundle)
    types = {d for d in drop if "." not in d} - ALWAYS_KEPT
    fields: dict[str, set[str]] = {}
    for item in drop:
        if "." in item:
            resource_type, name = item.split(".", 1)
            fields.setdefault(resource_type, set()).add(name)
    result = dict(bundle)
    entries = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        resource_type = resource["resourceType"]
        if resource_type in types:
            continue
        names = fields.get(resource_type)
        if names and not names.isdisjoint(resource):
            resource = dict(resource)
            for name in names:
                if f"{resource_type}.{name}" in REQUIRED and name in resource:
                    resource[name] = _withheld()
                else:
                    resource.pop(name, None)
            entry = {**entry, "resource": resource}
        entries.append(entry)
    result["entry"] = entries
    return result
