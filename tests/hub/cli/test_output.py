"""The output contract: tables on a terminal; in a pipe every row in full, tab-separated under
a header; ``--json`` one object per line; data on stdout, the rest on stderr."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hub.cli import audit as cli_audit
from hub.cli import check as cli_check
from hub.cli import dlq as cli_dlq
from hub.cli import main as cli_main
from hub.cli import report as cli_report
from hub.cli import state as cli_state
from hub.cli.main import app
from hub.cli.support import Listing, show
from hub.kafka.preflight import Finding
from hub.ops.audit_log import AuditResult, Step, Trace
from hub.sdk import Delivery, DeliveryKind, Sent
from routing.state import HouseholdState
from schemas.audit import AuditAction, LegalBasis
from tests.conftest import PROVIDER
from tests.hub.cli.test_audit import _record
from tests.hub.ops.test_dlq import BSN, letter

runner = CliRunner()  # no terminal: what a pipe gets
LONG_ID = "huisarts-" + "x" * 40 + "-praktijk-1"  # 60 of the 63 characters a partner id may have
HUB_ID = str(uuid.uuid4())
HOUSEHOLD = "h" * 64
PARTNERS = f"""[[partner]]
id = "{LONG_ID}"
kind = "huisarts"
name = "Huisartsenpraktijk met een lange naam"
agb = "01234567"
area = "Oosterparkwijk"
"""


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Every Kafka read of the listing commands faked with values wider than 80 columns."""
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    partners = tmp_path / "partners.toml"
    partners.write_text(PARTNERS)
    monkeypatch.setenv("KETENHUB_PARTNERS_FILE", str(partners))
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "unused:9092")
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path / "home"))
    record = _record(AuditAction.DELIVERED, PROVIDER, LegalBasis.STATUTORY)
    audit_result = AuditResult(records=[record])
    dead = letter(7, partner=LONG_ID, source=f"ketenhub.partner.{LONG_ID}.out:0:7")
    state: dict[str, Any] = {"audit": audit_result, "letter": dead, "record": record}

    async def read_audit(*args: Any) -> AuditResult:
        return state["audit"]  # type: ignore[no-any-return]

    async def resolve_message_ids(*args: Any) -> list[str]:
        return [HUB_ID]

    async def trace_message(*args: Any) -> Trace:
        step = Step(datetime.now(UTC), "ingest", "published", f"ketenhub.partner.{LONG_ID}.out:0:7")
        return Trace(HUB_ID, uuid.UUID(HUB_ID).hex, [step])

    async def read_dead_letters(*args: Any) -> list[Any]:
        return [dead]

    async def read_dead_letter(*args: Any) -> Any:
        return dead

    async def read_replays(*args: Any) -> dict[str, Any]:
        return {}

    async def record_disclosure(*args: Any, **kwargs: Any) -> None:
        return None

    async def read_inbox(*args: Any) -> list[Delivery]:
        body = json.dumps({"type": "ack", "in_response_to": LONG_ID}).encode()
        topic = f"ketenhub.partner.{LONG_ID}.in"
        return [Delivery(DeliveryKind.ACK, topic, 0, 3, 0, HUB_ID, "ack", body)]

    class Client:
        """The partner SDK's client, as `send` uses it, without Kafka."""

        def __init__(self, settings: Any, partner: str, **options: Any) -> None:
            self.topic = f"ketenhub.partner.{partner}.out"

        async def __aenter__(self) -> Client:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        async def send(self, payload: bytes) -> Sent:
            return Sent(self.topic, 0, 5, "HIS-1")

    async def list_topics(*args: Any) -> list[str]:
        return [f"ketenhub.partner.{LONG_ID}.out", f"ketenhub.partner.{LONG_ID}.in"]

    async def restore_states(*args: Any) -> dict[str, HouseholdState]:
        return {HOUSEHOLD: HouseholdState(recent=(f"{LONG_ID}:HIS-{HUB_ID}",))}

    async def check_setup(*args: Any) -> list[Finding]:
        return [Finding("topics", True, f"all there, ketenhub.partner.{LONG_ID}.out too")]

    fakes = [
        (cli_audit, "read_audit", read_audit), (cli_audit, "trace_message", trace_message),
        (cli_audit, "resolve_message_ids", resolve_message_ids),
        (cli_dlq, "read_dead_letters", read_dead_letters),
        (cli_dlq, "read_dead_letter", read_dead_letter), (cli_dlq, "read_replays", read_replays),
        (cli_dlq, "record_disclosure", record_disclosure),
        (cli_main, "_read_inbox", read_inbox), (cli_main, "client_for", Client),
        (cli_main, "list_topics", list_topics), (cli_state, "restore_states", restore_states),
        (cli_check, "check_setup", check_setup), (cli_report, "read_all_audit", read_audit),
    ]  # fmt: skip
    for module, name, fake in fakes:
        monkeypatch.setattr(module, name, fake)
    yield state


GOLDEN = "schemas/examples/huisarts-verwijzing.json"
# Each listing and inspection command, and the values (wider than 80 columns together) that a
# pipe must carry whole.
LISTINGS: list[tuple[list[str], list[str]]] = [
    (["partners"], [LONG_ID, f"ketenhub.partner.{LONG_ID}.out", f"ketenhub.partner.{LONG_ID}.in"]),
    (["adapters", "list"], ["adapters.veiligheidshuis:VeiligheidshuisAdapter", LONG_ID]),
    (["topics", "list"], [f"ketenhub.partner.{LONG_ID}.out"]),
    (["dlq", "list"], ["0:7", LONG_ID, f"ketenhub.partner.{LONG_ID}.out:0:7"]),
    (["inbox", LONG_ID], ["0:3", HUB_ID, f"in_response_to={LONG_ID}"]),
    (["audit", "--household", HOUSEHOLD], ["{audited message id}", PROVIDER, "statutory"]),
    (["trace", HUB_ID], [HUB_ID, f"ketenhub.partner.{LONG_ID}.out:0:7"]),
    (["policy", "check"], ["referral", "statutory"]),
    (["check"], [f"all there, ketenhub.partner.{LONG_ID}.out too"]),
    (["report", "indicators"], []),
]
INSPECTIONS: list[tuple[list[str], list[str]]] = [
    (["dlq", "show", "0:7"], [LONG_ID, f"ketenhub.partner.{LONG_ID}.out:0:7"]),
    (["state", "show", "--household", HOUSEHOLD], [HOUSEHOLD, f"{LONG_ID}:HIS-{HUB_ID}"]),
    (["kafka", "status"], []),
    (["policy", "explain", "referral", "huisarts", "aanbieder"], []),
]


def _ids(args: list[str]) -> str:
    return " ".join(args[:2])


@pytest.mark.parametrize(("args", "values"), LISTINGS, ids=[_ids(a) for a, _ in LISTINGS])
def test_a_piped_listing_is_a_header_and_whole_rows(
    offline: dict[str, Any], args: list[str], values: list[str]
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert rows, result.stdout
    assert "…" not in result.stdout and "─" not in result.stdout  # no cut, no table frame
    assert all(row.count("\t") == header.count("\t") for row in rows), result.stdout
    audited = offline["record"].attributes.message_id
    for value in (v.replace("{audited message id}", audited) for v in values):
        assert any(value in row for row in rows), f"{value!r} cut or missing: {result.stdout}"


@pytest.mark.parametrize("args", [a for a, _ in LISTINGS + INSPECTIONS], ids=_ids)
def test_json_is_one_object_per_line(offline: dict[str, Any], args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output  # kafka status: 1, the broker is down
    lines = result.stdout.splitlines()
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines), result.stdout


def test_dlq_list_json_is_one_record_per_line(offline: dict[str, Any]) -> None:
    result = runner.invoke(app, ["dlq", "list", "--json"])
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["ref"] == "0:7" and record["partner"] == LONG_ID


@pytest.mark.parametrize(
    ("args", "values"), INSPECTIONS[:2], ids=[_ids(a) for a, _ in INSPECTIONS[:2]]
)
def test_a_piped_inspection_carries_its_values_whole(
    offline: dict[str, Any], args: list[str], values: list[str]
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for value in values:
        assert value in result.stdout, f"{value!r} cut or missing: {result.stdout}"
    assert "…" not in result.stdout


def test_send_reports_each_file_whole(offline: dict[str, Any]) -> None:
    result = runner.invoke(app, ["send", "--as", LONG_ID, GOLDEN])
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split("\t") == ["file", "topic", "partition", "offset"]
    assert row.split("\t") == [GOLDEN, f"ketenhub.partner.{LONG_ID}.out", "0", "5"]


def test_dlq_show_payload_writes_the_bytes_alone_to_stdout(offline: dict[str, Any]) -> None:
    result = runner.invoke(app, ["dlq", "show", "0:7", "--payload", "--operator", "j.devries"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == offline["letter"].value
    assert BSN.encode() in result.stdout_bytes
    assert LONG_ID in result.stderr and "may contain personal data" in result.stderr


def test_an_empty_answer_exits_0(offline: dict[str, Any]) -> None:
    offline["audit"] = AuditResult()
    for args in (["audit", "--disclosures"], ["audit", "--household", HOUSEHOLD]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert result.stdout == "" and "no audit records about" in result.stderr
    assert runner.invoke(app, ["audit", "--disclosures", "--json"]).stdout == ""


def test_audit_summaries_go_to_stderr(offline: dict[str, Any]) -> None:
    result = runner.invoke(app, ["audit", "--household", HOUSEHOLD])
    assert "Received:" in result.stderr and "Received:" not in result.stdout


def test_validate_in_a_pipe_is_one_json_object_on_one_line(
    offline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETENHUB_PARTNERS_FILE")
    result = runner.invoke(app, ["validate", "--as", "huisarts-wijert", GOLDEN])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert json.loads(line)["resourceType"] == "Bundle"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("ketenhub ") and result.stdout.split()[1][0].isdigit()


def test_a_terminal_gets_a_table_that_folds_instead_of_cutting() -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=40, color_system=None)
    show(Listing("t", {"topic": "topic"}, [{"topic": f"ketenhub.partner.{LONG_ID}.out"}]),
         out=terminal)  # fmt: skip
    drawn = buffer.getvalue()
    assert "┃" in drawn and "…" not in drawn
    assert all(len(line) <= 40 for line in drawn.splitlines())
    letters = "".join(c for c in drawn if c.isalnum() or c in "-.")
    assert f"ketenhub.partner.{LONG_ID}.out" in letters


def test_a_piped_cell_cannot_split_a_row() -> None:
    buffer = io.StringIO()
    show(Listing("t", {"a": "a", "b": "b"}, [{"a": "one\ttwo\nthree", "b": None}]),
         out=Console(file=buffer))  # fmt: skip
    assert buffer.getvalue() == "a\tb\none\\ttwo\\nthree\t\n"


def test_a_real_pipe_keeps_adapters_list_whole() -> None:
    """`ketenhub adapters list | grep veiligheidshuis`, as the issue tried it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENHUB_")}
    listed = subprocess.run(
        [sys.executable, "-m", "hub", "adapters", "list"],
        env={**env, "COLUMNS": "80"}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [row] = [line for line in listed.stdout.splitlines() if "veiligheidshuis" in line.split()[0]]
    assert row.split("\t")[1] == "adapters.veiligheidshuis:VeiligheidshuisAdapter"
    assert row.split("\t")[-1] == "ok"
