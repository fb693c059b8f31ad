"""A refused login is told apart from an outage; nothing is asked of a cluster without SASL."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import errors as kafka_errors
from pydantic import SecretStr

from hub.kafka import login as kafka_login
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import free_port
from hub.kafka.login import LoginRefused, check_login

SASL = dict(security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
            username="ketenhub", password=SecretStr("s3cret-pw"))  # fmt: skip


def _refuse(calls: list[tuple[str, int]]) -> Any:
    async def create_conn(host: str, port: int, **options: Any) -> Any:
        calls.append((host, port))
        raise kafka_errors.SaslAuthenticationFailed("invalid credentials")

    return create_conn


async def test_a_refusal_names_the_user_and_where_to_fix_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(kafka_login, "create_conn", _refuse(calls))
    with pytest.raises(LoginRefused) as caught:
        await check_login(KafkaConnection("kafka-1:9093,kafka-2:9093", **SASL))  # type: ignore[arg-type]
    text = str(caught.value)
    assert "kafka-1:9093 refused the login of user 'ketenhub' (SCRAM-SHA-512)" in text
    assert "KETENHUB_KAFKA_PASSWORD" in text and "s3cret-pw" not in text
    assert calls == [("kafka-1", 9093), ("kafka-2", 9093)], "every server refused"


async def test_without_sasl_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(kafka_login, "create_conn", _refuse(calls))
    await check_login(KafkaConnection("kafka-1:9092"))
    assert calls == []


async def test_servers_that_cannot_be_reached_are_passed_over() -> None:
    nobody = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    assert await check_login(KafkaConnection(nobody, **SASL)) is None  # type: ignore[arg-type]


class _Conn:
    closed = False

    def close(self) -> None:
        self.closed = True


async def test_one_refusal_is_not_the_answer_when_another_server_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A broker picks up new SCRAM credentials a moment after the others."""
    accepted = _Conn()

    async def create_conn(host: str, port: int, **options: Any) -> Any:
        if host == "kafka-1":
            raise kafka_errors.SaslAuthenticationFailed("not yet")
        return accepted

    monkeypatch.setattr(kafka_login, "create_conn", create_conn)
    kafka = KafkaConnection("kafka-1:9093,kafka-2:9093", **SASL)  # type: ignore[arg-type]
    assert await check_login(kafka) == "kafka-2:9093"
    assert accepted.closed


async def test_a_mechanism_the_listener_lacks_is_refused_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    async def create_conn(host: str, port: int, **options: Any) -> Any:
        calls.append(host)
        raise kafka_errors.UnsupportedSaslMechanismError("enabled: ['SCRAM-SHA-512']")

    monkeypatch.setattr(kafka_login, "create_conn", create_conn)
    kafka = KafkaConnection("kafka-1:9093,kafka-2:9093", **SASL)  # type: ignore[arg-type]
    with pytest.raises(LoginRefused, match="KETENHUB_KAFKA_SASL_MECHANISM") as caught:
        await check_login(kafka)
    assert "SCRAM-SHA-512" in str(caught.value) and calls == ["kafka-1"]
