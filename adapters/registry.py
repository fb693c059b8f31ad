"""Find adapters through the ``ketenhub.adapters`` entry-point group, and know their provenance.

An adapter registered by this distribution (``ketenhub`` itself) is *built in*: each of its
Bundle builders is proven to give valid FHIR for every native message its models accept (the
property tests in ``tests/adapters/test_fhir_builders.py``, checked with fhir.resources and
with HAPI FHIR's instance validator), so the hub does not validate its output again per
message. An adapter from any other distribution is validated by ingest, every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from adapters.base import Adapter

ENTRY_POINT_GROUP = "ketenhub.adapters"
DISTRIBUTION = "ketenhub"
"""The distribution whose own entry points name the built-in adapters."""


class AdapterLoadError(RuntimeError):
    """An entry point exists but does not give a usable adapter."""


@dataclass(frozen=True)
class AdapterRegistry:
    adapters: Mapping[str, Adapter]
    built_in: frozenset[str] = frozenset()
    """Names of the adapters this distribution ships; none unless the loader found them so."""

    def output_trusted(self, name: str) -> bool:
        """True for a built-in adapter, whose Bundles are proven valid once, in the tests;
        False for any other, whose every Bundle ingest validates."""
        return name in self.built_in

    def get(self, name: str) -> Adapter:
        try:
            return self.adapters[name]
        except KeyError:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise AdapterLoadError(f"no adapter named {name!r} (installed: {known})") from None


def load_adapters() -> AdapterRegistry:
    """Instantiate every registered adapter and check it against the ``Adapter`` protocol."""
    found: dict[str, Adapter] = {}
    built_in: set[str] = set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        factory = ep.load()
        adapter = factory()
        if not isinstance(adapter, Adapter):
            raise AdapterLoadError(f"entry point {ep.name!r} does not implement Adapter")
        found[ep.name] = adapter
        if _ships_with_the_hub(ep):
            built_in.add(ep.name)
        else:
            built_in.discard(ep.name)  # a later entry point of that name replaced ours
    return AdapterRegistry(found, frozenset(built_in))


def _ships_with_the_hub(ep: EntryPoint) -> bool:
    """Registered by this distribution, for a class of its own ``adapters`` package."""
    dist = getattr(ep, "dist", None)
    return dist is not None and dist.name == DISTRIBUTION and ep.module.startswith("adapters.")
