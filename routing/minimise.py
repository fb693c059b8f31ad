"""Data minimisation: remove what a recipient kind may not see from a canonical Bundle."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

ALWAYS_KEPT = frozenset({"MessageHeader"})
WITHHELD = {"coding": [{"system": "urn:ketenhub:codesystem:withheld", "code": "withheld"}]}
REQUIRED = frozenset({"Flag.code"})
"""Elements FHIR R4 requires (1..1): replaced by a 'withheld' code instead of removed, so the
minimised Bundle stays valid FHIR and says honestly that something was held back."""


def minimise(bundle: Mapping[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``bundle`` without the dropped resource types and ``Type.field`` elements.

    References to a dropped resource stay in place: they are ``urn:uuid`` ids that say
    nothing by themselves, and keeping them keeps the Bundle's shape valid.
    """
    if not drop:
        return dict(bundle)
    types = {d for d in drop if "." not in d} - ALWAYS_KEPT
    fields: dict[str, set[str]] = {}
    for item in drop:
        if "." in item:
            resource_type, name = item.split(".", 1)
            fields.setdefault(resource_type, set()).add(name)
    result = copy.deepcopy(dict(bundle))
    entries = []
    for entry in result.get("entry", []):
        resource = entry["resource"]
        resource_type = resource["resourceType"]
        if resource_type in types:
            continue
        for name in fields.get(resource_type, ()):
            if f"{resource_type}.{name}" in REQUIRED and name in resource:
                resource[name] = copy.deepcopy(WITHHELD)
            else:
                resource.pop(name, None)
        entries.append(entry)
    result["entry"] = entries
    return result
