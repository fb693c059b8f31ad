"""Kafka requests aiokafka 0.14 has no class for, sent through its own clients.

The module that needs one (``hub.kafka.auth``) defines the request and response structs with
aiokafka's wire types and sends a ready struct wrapped in ``PreparedRequest``, which checks
the broker speaks exactly that version.
"""

from __future__ import annotations

from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.protocol.api import Request


class UnsupportedRequest(KafkaError):  # type: ignore[misc]
    """The broker does not speak the version of a request the hub needs."""


class PreparedRequest(Request[Any]):  # type: ignore[misc]
    """A request whose struct is already built; aiokafka checks the broker supports it."""

    API_KEY = 0

    def __init__(self, struct: Any, *, needs: str) -> None:
        self._struct = struct
        self._needs = needs
        self.API_KEY = struct.API_KEY  # instance attribute: what prepare() looks up

    def prepare(self, versions: dict[int, tuple[int, int]]) -> Any:
        low, high = versions.get(self._struct.API_KEY, (1, 0))
        if not low <= self._struct.API_VERSION <= high:
            raise UnsupportedRequest(
                f"the broker does not support {type(self._struct).__name__.strip('_')} "
                f"(API {self._struct.API_KEY} v{self._struct.API_VERSION}); {self._needs} is "
                "needed"
            )
        return self._struct

    def build(self, request_struct_class: Any) -> Any:
        return self._struct
