"""What every ``ketenhub`` command shares: consoles and the user-error convention."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from aiokafka import errors as kafka_errors
from pydantic import ValidationError
from rich.console import Console

from hub.context import ConfigError
from hub.kafka.broker_features import BrokerTooOld
from hub.kafka.local import LocalKafkaError
from hub.kafka.login import LoginRefused
from hub.settings import settings_problems

console = Console()
err = Console(stderr=True)
P = ParamSpec("P")
KAFKA_REFUSALS = (
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.TransactionalIdAuthorizationFailed,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.SaslAuthenticationFailed,
)
R = TypeVar("R")


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into one red line and exit code 2, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (LocalKafkaError, ConfigError, LookupError, BrokerTooOld, LoginRefused) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except KAFKA_REFUSALS as exc:
            err.print(f"[red]Kafka refused:[/red] {type(exc).__name__}: {exc}; check the "
                      "user's ACLs (`ketenhub partners provision`)", highlight=False)  # fmt: skip
            raise typer.Exit(2) from None
        except kafka_errors.KafkaConnectionError as exc:
            err.print(f"[red]error:[/red] {exc}: is Kafka up at that address, and (with "
                      "SASL) are the user and password right?", highlight=False)  # fmt: skip
            raise typer.Exit(2) from None
        except kafka_errors.KafkaTimeoutError as exc:
            err.print(f"[red]Kafka did not answer in time:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            err.print(f"[red]configuration error:[/red] {settings_problems(exc)}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)
