"""A partner SDK client configured from the hub's settings: for ``send``, ``inbox`` and the demo.

The SDK (``hub.sdk``) takes plain connection facts, as a partner's own system would give
them; this is where the hub's settings and secret store become those facts.
"""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context

from hub.context import resolve_kafka
from hub.sdk import PartnerClient
from hub.settings import Settings


def client_for(settings: Settings, partner_id: str, **options: Any) -> PartnerClient:
    """A ``PartnerClient`` that logs in as ``partner_id`` (on a SASL cluster, with its secret).

    ``options`` go to ``PartnerClient`` (``group_id``, ``from_beginning``, ...).
    """
    kafka = resolve_kafka(settings, user=partner_id)
    ssl = None
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        ssl = create_ssl_context(cafile=kafka.ssl_cafile)
    password = kafka.password.get_secret_value() if kafka.password is not None else None
    return PartnerClient(
        partner_id,
        bootstrap=kafka.bootstrap,
        password=password if kafka.sasl_mechanism else None,
        ssl_context=ssl,
        topic_prefix=settings.topic_prefix,
        max_bytes=settings.max_payload_bytes,
        **options,
    )
