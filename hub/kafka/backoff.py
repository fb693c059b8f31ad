"""Waiting for Kafka: retries with backoff that a stop request (SIGTERM) always interrupts.

A broker that is away (not up yet, restarting, a network blip) is a transient failure: the hub
waits and tries again with a clear log line, instead of crashing into a restart loop or
dead-lettering messages that did nothing wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError
from confluent_kafka import KafkaException

from observability.logging import get_logger

log = get_logger(__name__)
RETRY_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
KAFKA_ERRORS = (KafkaError, KafkaException)
"""What either Kafka client (aiokafka on the partner side, librdkafka in the stages) raises."""
T = TypeVar("T")


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1-based); capped at the last step."""
    return RETRY_BACKOFF_S[max(1, min(attempt, len(RETRY_BACKOFF_S))) - 1]


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True when the caller should stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def retry_kafka(
    operation: Callable[[], Awaitable[T]], stop: asyncio.Event, *, stage: str, what: str
) -> T | None:
    """Run ``operation`` until it gets past Kafka errors; None if stopped while waiting.

    Logs ``kafka-unavailable`` with the error type and the next delay on every failure; the
    error text is left out on purpose (it names hosts, not people, but it is noisy).
    """
    attempt = 0
    while not stop.is_set():
        try:
            return await operation()
        except KAFKA_ERRORS as exc:
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning("kafka-unavailable", stage=stage, during=what, attempt=attempt,
                        error_type=type(exc).__name__, retry_in_s=delay)  # fmt: skip
            if await pause(stop, delay):
                break
    return None
