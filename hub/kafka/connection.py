"""How the hub talks to Kafka: one place that builds every client (the settings of
librdkafka's and of aiokafka's). Reads of whole topics: ``hub.kafka.reader``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from hub.kafka.partitioner import KeyPartitioner

MAX_REQUEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class KafkaConnection:
    """Bootstrap servers plus, for an authenticated cluster, SASL credentials."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    """CA bundle for SSL/SASL_SSL; None trusts the system's CAs."""
    reader_group: str = "ketenhub-reader"
    """The ``group.id`` of group-less readers (``hub.kafka.reader``): never joined, but
    librdkafka looks up its coordinator, which needs DESCRIBE on it; so it lies in the
    group namespace the principal's ACLs cover (``hub.kafka.provision``)."""

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.sasl_mechanism:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value() if self.password else None,
            }
        return kwargs

    def consumer(self, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(*topics, **self.client_kwargs(), **kwargs)

    def producer(self, **kwargs: Any) -> AIOKafkaProducer:
        options = {"max_request_size": MAX_REQUEST_BYTES, "partitioner": KeyPartitioner()} | kwargs
        return AIOKafkaProducer(**self.client_kwargs(), **options)

    def rdkafka_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings for this cluster plus ``overrides``; its log lines go through
        stdlib logging (rendered as JSON like the hub's own), not straight to stderr."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "logger": logging.getLogger("librdkafka"),
        }
        if self.security_protocol in ("SSL", "SASL_SSL") and self.ssl_cafile:
            config["ssl.ca.location"] = self.ssl_cafile
        if self.sasl_mechanism:
            config |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.username,
                "sasl.password": self.password.get_secret_value() if self.password else None,
            }
        return config | overrides

    def rdkafka_admin(self) -> AdminClient:
        return AdminClient(self.rdkafka_config(**{"client.id": "ketenhub-admin"}))

    def admin(self, **kwargs: Any) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(**self.client_kwargs(), client_id="ketenhub-admin", **kwargs)


async def abort_open_transaction(
    kafka: KafkaConnection, transactional_id: str, timeout_s: float
) -> None:
    """Abort what an earlier life of ``transactional_id`` left open, and fence that life.

    InitProducerId (librdkafka's ``init_transactions``) does both; the coordinator answers
    only once the abort markers are written. KafkaException when it has not by ``timeout_s``.
    """
    producer = Producer(kafka.rdkafka_config(**{
        "transactional.id": transactional_id, "client.id": f"{transactional_id}-abort",
    }))  # fmt: skip
    await asyncio.to_thread(producer.init_transactions, timeout_s)
