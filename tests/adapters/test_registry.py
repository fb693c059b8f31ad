"""Adapters found through the ``ketenhub.adapters`` entry points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from adapters import registry as registry_module
from adapters.aanbieder import AanbiederAdapter
from adapters.base import Adapter
from adapters.huisarts import HuisartsAdapter
from adapters.registry import AdapterLoadError, AdapterRegistry, load_adapters


def test_installed_adapters_are_found() -> None:
    adapters = load_adapters()
    assert {"huisarts", "aanbieder"} <= set(adapters.adapters)
    assert isinstance(adapters.get("huisarts"), HuisartsAdapter)
    assert isinstance(adapters.get("aanbieder"), AanbiederAdapter)
    for name, adapter in adapters.adapters.items():
        assert isinstance(adapter, Adapter)
        assert adapter.name == name


def test_unknown_adapter_lists_the_installed_ones() -> None:
    with pytest.raises(AdapterLoadError, match="edifact") as caught:
        load_adapters().get("edifact")
    assert "installed: aanbieder, huisarts" in str(caught.value)


def test_empty_registry_says_none_installed() -> None:
    with pytest.raises(AdapterLoadError, match=r"installed: none"):
        AdapterRegistry({}).get("huisarts")


def test_the_protocol_rejects_objects_without_encode() -> None:
    class DecodeOnly:
        name = "half"

        def decode(self, payload: bytes, ctx: Any) -> Any: ...

    assert not isinstance(DecodeOnly(), Adapter)


@dataclass
class _FakeEntryPoint:
    name: str
    factory: Any

    def load(self) -> Any:
        return self.factory


def test_entry_point_that_is_no_adapter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_entry_points(group: str) -> list[_FakeEntryPoint]:
        assert group == "ketenhub.adapters"
        return [_FakeEntryPoint("huisarts", HuisartsAdapter), _FakeEntryPoint("broken", object)]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    with pytest.raises(AdapterLoadError, match="'broken'"):
        load_adapters()
