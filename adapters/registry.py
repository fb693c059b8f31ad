"""Find adapters through the ``ketenhub.adapters`` entry-point group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points

from adapters.base import Adapter

ENTRY_POINT_GROUP = "ketenhub.adapters"


class AdapterLoadError(RuntimeError):
    """An entry point exists but does not give a usable adapter."""


@dataclass(frozen=True)
class AdapterRegistry:
    adapters: Mapping[str, Adapter]

    def get(self, name: str) -> Adapter:
        try:
            return self.adapters[name]
        except KeyError:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise AdapterLoadError(f"no adapter named {name!r} (installed: {known})") from None


def load_adapters() -> AdapterRegistry:
    """Instantiate every registered adapter and check it against the ``Adapter`` protocol."""
    found: dict[str, Adapter] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        factory = ep.load()
        adapter = factory()
        if not isinstance(adapter, Adapter):
            raise AdapterLoadError(f"entry point {ep.name!r} does not implement Adapter")
        found[ep.name] = adapter
    return AdapterRegistry(found)
