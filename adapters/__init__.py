"""Partner adapters: native bytes to canonical FHIR and back, one module per partner kind."""

from adapters.base import Adapter, AdapterError, DecodeContext, Decoded
from adapters.registry import AdapterRegistry, load_adapters

__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterRegistry",
    "DecodeContext",
    "Decoded",
    "load_adapters",
]
