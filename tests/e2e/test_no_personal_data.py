"""No personal data in what ops and privacy officers see: a leak scan on a real hub.

Valid, invalid and refused messages with known BSNs, names, birth dates and free-text
reasons go through a hub logging at DEBUG (one line per message and stage). Then the hub's
whole log, its /metrics text, the audit topic, the DLQ headers and the output of every
ops command (errors included) are scanned: none of those strings may appear. A positive
control proves the strings did flow: the provider's inbox holds them, as it should.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import publish, read_inbox
from schemas.bsn import is_valid_bsn
from tests.e2e.conftest import REPO, HubEnv
from tests.e2e.test_referral_flow import wait_for_stages
from tests.e2e.test_router_scenarios import Chain

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

EXAMPLES = REPO / "schemas" / "examples"
GP, PROVIDER, OJG, WIJ = "huisarts-wijert", "aanbieder-noorderlicht", "ojg-wijert", "wij-zuid"


def _bsns(start: int) -> Iterator[str]:
    return (str(n) for n in range(start, start + 10_000) if is_valid_bsn(str(n)))


_pool = _bsns(999_970_000)
VALID, SCHEMA, REFUSED, IJW, REGIE_A, REGIE_B = (next(_pool) for _ in range(6))
INVALID = str(int(VALID) + 1)  # fails the elfproef
assert not is_valid_bsn(INVALID)
NAMES = ("Femke Vledderhuizen", "Sietse Bolhuis", "Tjitske Oosterwolde", "Zuidbroekhuis")
REASONS = (
    "Aanhoudende nachtmerries sinds de verhuizing naar Zuidlaren",
    "Vader drinkt en de buren hoorden geschreeuw",
    "Slaapt slecht na de scheiding van haar ouders",
)
BIRTH_DATES = ("2012-05-17", "2013-07-19", "2011-09-23")
SECRETS = (VALID, INVALID, SCHEMA, REFUSED, IJW, REGIE_A, REGIE_B, *NAMES, *REASONS, *BIRTH_DATES)


def _native(example: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / f"{example}.json").read_text())
    body["message_id"] = f"{body['message_id']}-{uuid.uuid4().hex[:6]}"
    return body | changes


def _jw315() -> bytes:
    xml = (EXAMPLES / "aanbieder-jw315.xml").read_text()
    xml = xml.replace("999990019", IJW).replace("Proefpersoon", NAMES[3])
    xml = xml.replace("2014-03-02", BIRTH_DATES[2])
    return xml.encode()


@pytest.fixture
def debug_hub(hub_env: HubEnv, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = tmp_path / "hub.log"
    with log.open("ab") as handle:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"],
            env={**hub_env.env, "KETENHUB_LOG_LEVEL": "DEBUG"},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    wait_for_stages(hub, log)
    yield hub, log
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=30)


async def test_no_bsn_name_or_reason_in_logs_metrics_audit_or_command_output(
    hub_env: HubEnv, debug_hub: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    hub, log = debug_hub
    chain = Chain(hub_env)
    kid = {"bsn": VALID, "birth_date": BIRTH_DATES[0]}
    reason = f"{REASONS[0]}; {NAMES[0]} is bang in het donker."
    valid = await chain.send(GP, _native("huisarts-verwijzing", child=kid, reason=reason))
    invalid = await chain.send(
        GP, _native("huisarts-verwijzing", child=kid | {"bsn": INVALID}, reason=REASONS[1])
    )
    extra = {"bsn": SCHEMA, "birth_date": BIRTH_DATES[1], "naam": NAMES[1]}
    schema = await chain.send(GP, _native("huisarts-verwijzing", child=extra, reason=REASONS[1]))
    refused = await chain.send(
        OJG,
        _native(
            "ojg-verwijzing",
            child={"bsn": REFUSED, "birth_date": BIRTH_DATES[1]},
            reason=f"{REASONS[2]} ({NAMES[2]})",
        ),
    )
    garbage = f"BSN {VALID} {NAMES[0]} {REASONS[0]}".encode()
    names = TopicNames(hub_env.prefix)
    kafka = KafkaConnection(hub_env.bootstrap)
    await publish(kafka, names.partner_out(GP), [garbage])
    await publish(kafka, names.partner_out("aanbieder-noorderlicht"), [_jw315()])
    household = [
        {"bsn": REGIE_A, "birth_date": BIRTH_DATES[0]},
        {"bsn": REGIE_B, "birth_date": BIRTH_DATES[2]},
    ]
    claim = await chain.send(WIJ, _native("wij-regie-claim", household=household))
    assert (await chain.answer(WIJ, claim))["type"] == "ack"
    conflict = await chain.send(OJG, _native("ojg-regie-claim", household=household[1:]))

    answers = {m: await chain.answer(GP, m) for m in (valid, invalid, schema)}
    answers |= {m: await chain.answer(OJG, m) for m in (refused, conflict)}
    assert answers[valid]["type"] == "ack"
    assert answers[invalid]["reason_code"] == "invalid-bsn"
    assert answers[schema]["reason_code"] == "schema-invalid"
    assert answers[refused]["reason_code"] == "no-legal-basis"
    assert answers[conflict]["reason_code"] == "regie-conflict"
    await chain.inbox(GP, lambda ms: len([m for m in ms if m["_kind"] == "nack"]) >= 3)
    rigg = await read_inbox(kafka, names.partner_in("rigg-groningen"), until=bool, max_wait_s=60)
    assert rigg, "the JW315 reached the RIGG"

    # Positive control: the strings really flowed, to where they belong.
    provider = await asyncio.to_thread(_cli, hub_env, ["inbox", PROVIDER, "--json"])
    assert VALID in provider and NAMES[0] in provider and BIRTH_DATES[0] in provider

    exposed: dict[str, str] = {}
    exposed["metrics"] = _get(f"http://127.0.0.1:{hub_env.metrics_port}/metrics")
    hub_ids = [str(a["hub_message_id"]) for a in answers.values()]
    commands: list[list[str]] = [
        ["audit", "--bsn", VALID],
        ["audit", "--bsn", VALID, "--json"],
        ["audit", "--bsn", REGIE_B],
        ["audit", "--bsn", INVALID],
        ["audit", "--bsn", SCHEMA],
        ["audit", "--message", refused],
        ["dlq", "list"],
        ["dlq", "list", "--json"],
        ["inbox", GP],
        ["inbox", OJG],
        ["state", "show", "--bsn", REGIE_A],
        ["state", "show", "--bsn", INVALID],
        ["send", "--as", "nobody", str(tmp_path / "missing.json")],
    ]
    for hub_id in hub_ids:
        commands += [["trace", hub_id], ["trace", hub_id, "--json"]]
    bad = tmp_path / "bad-bsn.json"
    bad.write_text(json.dumps(_native("huisarts-verwijzing", child=kid | {"bsn": INVALID})))
    named = tmp_path / "named.json"
    named.write_text(json.dumps(_native("huisarts-verwijzing", child=extra, reason=REASONS[1])))
    commands += [["validate", "--as", GP, str(bad)], ["validate", "--as", GP, str(named)]]
    for args in commands:
        exposed[" ".join(args)] = await asyncio.to_thread(_cli, hub_env, args)
    assert f"{PROVIDER}: referral x1, basis statutory" in exposed[f"audit --bsn {VALID}"]

    audit = await read_inbox(kafka, names.audit, idle_timeout_s=2)
    assert len(audit) >= 5
    exposed["audit topic"] = "\n".join(m.value.decode() for m in audit)
    dlq = await read_inbox(kafka, names.dlq, idle_timeout_s=1)
    assert len(dlq) == 3
    exposed["dlq headers"] = repr([m.headers for m in dlq])

    hub.send_signal(signal.SIGTERM)
    assert hub.wait(timeout=30) == 0
    exposed["hub log"] = log.read_text()
    lines = exposed["hub log"].splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(events) == len([line for line in lines if line.strip()]), "JSON lines only"
    traced = [e for e in events if e.get("event") in ("ingested", "routed", "rejected")]
    assert len(traced) >= 10 and all(len(e["trace_id"]) == 32 for e in traced)

    leaks = [
        (where, secret) for where, text in exposed.items() for secret in SECRETS if secret in text
    ]
    assert not leaks, f"personal data in ops output: {leaks}"


def _cli(env: HubEnv, args: list[str]) -> str:
    """A command's whole output, stdout and stderr (in-process: a subprocess per command
    would cost an interpreter start and the imports each time)."""
    result = CliRunner().invoke(app, args, env=env.env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        text: str = response.read().decode()
    return text
