"""What every ``ketenhub`` command shares: where output goes and how it looks, and the
user-error convention.

The output contract (STYLE.md, "Command-line output"): a rich table for a person on a
terminal; in a pipe the same rows in full, tab-separated under a header line, nothing cut or
wrapped; ``--json`` one object per line; data on stdout, messages on stderr.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from aiokafka import errors as kafka_errors
from confluent_kafka import KafkaError, KafkaException
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hub.context import ConfigError
from hub.kafka.broker_features import BrokerTooOld
from hub.kafka.local import LocalKafkaError
from hub.kafka.login import LoginRefused
from hub.kafka.reader import NotAuthorized
from hub.ops.dlq import DlqError
from hub.settings import settings_problems

console = Console(soft_wrap=True)
"""Data, on stdout. ``soft_wrap``: a long line stays one line in a pipe."""
err = Console(stderr=True, soft_wrap=True)
"""Messages, warnings and progress, on stderr."""
P = ParamSpec("P")
KAFKA_REFUSALS = (
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.TransactionalIdAuthorizationFailed,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.SaslAuthenticationFailed,
    NotAuthorized,
)
USER_ERRORS = (
    LocalKafkaError, ConfigError, LookupError, BrokerTooOld, LoginRefused, DlqError,
    kafka_errors.KafkaError, KafkaException, ValidationError, OSError,
)  # fmt: skip
"""What a user can fix: each becomes one line (``user_error``), never a traceback."""
R = TypeVar("R")


def user_error(exc: BaseException) -> str:
    """The one line that says what went wrong and what to do, for an exception of
    ``USER_ERRORS``, starting with its label (``error:``, ``configuration error:``...). Codes
    and settings only: no payload, no secret."""
    if isinstance(exc, KAFKA_REFUSALS):
        return (f"Kafka refused: {type(exc).__name__}: {exc}; check the user's ACLs "
                "(`ketenhub partners provision`)")  # fmt: skip
    if isinstance(exc, kafka_errors.KafkaConnectionError):
        return (f"error: {exc}: is Kafka up at that address, and (with SASL) are the user and "
                "password right?")  # fmt: skip
    if isinstance(exc, kafka_errors.KafkaTimeoutError):
        return f"Kafka did not answer in time: {exc}"
    if isinstance(exc, kafka_errors.KafkaError):
        return f"error: Kafka: {type(exc).__name__}: {exc}"
    if isinstance(exc, KafkaException):
        return _librdkafka_error(exc)
    if isinstance(exc, ValidationError):
        return f"configuration error: {settings_problems(exc)}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"error: {exc.filename}: {exc.strerror or exc}"
    return f"error: {exc}"


def _librdkafka_error(exc: KafkaException) -> str:
    """The line for an error of confluent-kafka (librdkafka): its code name says what."""
    error = exc.args[0] if exc.args else None
    name = error.name() if isinstance(error, KafkaError) else type(exc).__name__
    if "AUTHORIZATION" in name or "AUTHENTICATION" in name:
        return f"Kafka refused: {name}; check the user's ACLs (`ketenhub partners provision`)"
    if name in ("_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "_RESOLVE"):
        return (f"error: Kafka: {name}: is Kafka up at that address, and (with SASL) are the "
                "user and password right?")  # fmt: skip
    return f"error: Kafka: {name}"


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into one red line and exit code 2, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            say_error(user_error(exc))
            raise typer.Exit(2) from None

    return wrapper


def say_error(line: str) -> None:
    """A ``user_error`` line on stderr, its label red, the rest as plain text (a value in it
    cannot inject markup)."""
    label, _, rest = line.partition(": ")
    err.print(Text.assemble((f"{label}: ", "red"), printable(rest, keep="\n")))


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def printable(text: str, keep: str = "") -> str:
    """Text safe for a terminal and for one tab-separated cell: control and format characters
    (tab, newline, NUL, ESC, RTL override...) are shown as escapes, so a hostile value can
    neither rewrite the screen nor split a row; ``keep`` names the ones to let through."""
    return "".join(
        c if c.isprintable() or c == " " or c in keep else c.encode("unicode_escape").decode()
        for c in text
    )


def cell(value: object) -> str:
    """One value as a table cell: nothing for None, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True)
class Listing:
    """Rows to show, in whichever form the reader needs (``show``).

    ``columns`` maps a row key to its column header, in order; ``rows`` are dicts with at
    least those keys. ``records`` are the JSON objects, when they hold more (or other) than
    the columns; by default the rows themselves. ``styles`` colours a column's cells on a
    terminal: key -> value -> rich style.
    """

    title: str
    columns: Mapping[str, str]
    rows: Sequence[Mapping[str, Any]]
    records: Sequence[Mapping[str, Any]] | None = None
    styles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def is_terminal(out: Console | None = None) -> bool:
    return (out or console).is_terminal


def show(listing: Listing, *, as_json: bool = False, out: Console | None = None) -> None:
    """A rich table on a terminal; tab-separated lines under a header in a pipe (every value
    in full, tabs and newlines in values escaped); with ``as_json`` one object per line."""
    out = out or console
    if as_json:
        json_lines(listing.rows if listing.records is None else listing.records, out)
    elif out.is_terminal:
        table = Table(title=listing.title)
        for header in listing.columns.values():
            table.add_column(header, overflow="fold")
        for row in listing.rows:
            table.add_row(*(_styled(listing, key, row.get(key)) for key in listing.columns))
        out.print(table)
    else:
        lines = [list(listing.columns.values())]
        lines += [[printable(cell(row.get(k))) for k in listing.columns] for row in listing.rows]
        _write(out, "".join("\t".join(line) + "\n" for line in lines))


def _styled(listing: Listing, key: str, value: object) -> Text:
    text = printable(cell(value))
    return Text(text, style=listing.styles.get(key, {}).get(text, ""))


def show_fields(
    title: str,
    fields: Sequence[tuple[str, object]],
    *,
    record: Mapping[str, Any] | None = None,
    as_json: bool = False,
    out: Console | None = None,
) -> None:
    """One thing's fields: a two-column table on a terminal, ``name<TAB>value`` lines in a
    pipe, ``record`` (default: the fields) as one JSON object with ``as_json``."""
    out = out or console
    if as_json:
        json_lines([dict(fields) if record is None else record], out)
        return
    if out.is_terminal:
        table = Table(title=title, show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for name, value in fields:
            table.add_row(Text(printable(name)), Text(printable(cell(value))))
        out.print(table)
        return
    _write(out, "".join(f"{printable(n)}\t{printable(cell(v))}\n" for n, v in fields))


def json_lines(objects: Sequence[Mapping[str, Any]], out: Console | None = None) -> None:
    """One JSON object per line, for programs (``jq``, ``while read``)."""
    _write(
        out or console,
        "".join(json.dumps(o, ensure_ascii=False, default=str) + "\n" for o in objects),
    )


def _write(out: Console, text: str) -> None:
    """Plain text to the console's stream, around rich (no markup, wrapping or colour)."""
    stream = out.file
    stream.write(text)
    stream.flush()
