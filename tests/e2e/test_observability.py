"""Observability end to end: a real Prometheus scrapes a running hub; the audit log and the
message trace answer for real traffic; lag, DLQ size and end-to-end latency are exported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.kafka.local import free_port
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import publish
from tests.e2e.conftest import REPO, HubEnv
from tests.e2e.test_referral_flow import (
    GP,
    PROVIDER,
    bodies,
    notices_until,
    referral,
    stop_hub,
    wait_for_stages,
)

pytestmark = pytest.mark.kafka

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "ketenhub.json"


def _get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        text: str = response.read().decode()
    return text


def _metrics(env: HubEnv) -> str:
    return _get(f"http://127.0.0.1:{env.metrics_port}/metrics")


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


@pytest.fixture
def running_hub(hub_env: HubEnv, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / "hub.log"
    hub = hub_env.start_hub(log)
    wait_for_stages(hub, log)
    yield hub
    if hub.poll() is None:
        stop_hub(hub)


@pytest.fixture
def prometheus_bin() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed: run scripts/ensure-prometheus.sh (make test does)")
    return binary


@pytest.fixture
def prometheus(prometheus_bin: str, hub_env: HubEnv, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus on a free loopback port scraping the test hub every second."""
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(ALERTS)],
                "scrape_configs": [
                    {
                        "job_name": "ketenhub",
                        "static_configs": [{"targets": [f"127.0.0.1:{hub_env.metrics_port}"]}],
                    }
                ],
            }
        )
    )
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited:\n{(tmp_path / 'prometheus.log').read_text()}")
            try:
                if "Ready" in _get(f"{base}/-/ready", timeout=1):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("prometheus did not get ready in 30 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _query(base: str, expr: str) -> dict[str, Any]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    result: dict[str, Any] = json.loads(_get(url))
    return result


async def test_a_real_prometheus_scrapes_the_hub_and_loads_the_alert_rules(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes], prometheus: str
) -> None:
    names = TopicNames(hub_env.prefix)
    sent = [referral(f"HIS-PROM-{i}-{uuid.uuid4().hex[:6]}") for i in range(3)]
    await publish(hub_env.kafka, names.partner_out(GP), [*sent, b"not json"])
    await notices_until(hub_env, ["ack", "ack", "ack", "nack"])

    expr = f'sum(ketenhub_messages_in_total{{partner="{GP}", stage="ingest"}})'
    deadline = time.monotonic() + 60
    value = 0.0
    while time.monotonic() < deadline:
        result = _query(prometheus, expr)["data"]["result"]
        value = float(result[0]["value"][1]) if result else 0.0
        if value >= 4:
            break
        time.sleep(0.5)
    assert value == 4, f"Prometheus saw {value} messages in from {GP}"

    up = _query(prometheus, 'up{job="ketenhub"}')["data"]["result"]
    assert [float(r["value"][1]) for r in up] == [1.0]
    rules = json.loads(_get(f"{prometheus}/api/v1/rules"))["data"]["groups"]
    loaded = {r["name"]: r["health"] for group in rules for r in group["rules"]}
    assert "KetenhubPartnerSilent" in loaded and "KetenhubDown" in loaded
    assert set(loaded.values()) == {"ok"}, loaded
    # Every dashboard query runs against the real thing (no typo, no unknown function).
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            answer = _query(prometheus, target["expr"])
            assert answer["status"] == "success", (panel["title"], answer)


async def test_lag_dlq_latency_and_decision_metrics_are_exported(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    await publish(hub_env.kafka, names.partner_out(GP), [referral("HIS-OBS-1"), b"\x00garbage"])
    await notices_until(hub_env, ["ack", "nack"])
    deadline = time.monotonic() + 45
    text = _metrics(hub_env)
    while time.monotonic() < deadline:
        text = _metrics(hub_env)
        if (_sample(text, "ketenhub_dlq_records") or 0) >= 1 and _sample(
            text, "ketenhub_consumer_lag_records", stage="route"
        ) is not None:
            break
        time.sleep(1)
    assert _sample(text, "ketenhub_dlq_records") == 1
    assert _sample(text, "ketenhub_dead_letters_total", stage="ingest", reason="malformed") == 1
    assert _sample(text, "ketenhub_consumer_lag_records", stage="ingest") == 0
    assert _sample(text, "ketenhub_consumer_lag_records", stage="route") == 0
    forward = _sample(text, "ketenhub_end_to_end_latency_seconds_count", kind="forward")
    assert forward == 1
    seconds = _sample(text, "ketenhub_end_to_end_latency_seconds_sum", kind="forward")
    assert seconds is not None and 0 < seconds < 30
    assert (
        _sample(
            text,
            "ketenhub_deliveries_total",
            event="referral",
            recipient_kind="aanbieder",
            basis="statutory",
        )
        == 1
    )
    assert _sample(text, "ketenhub_router_households") == 1
    assert (
        _sample(text, "ketenhub_messages_in_total", stage="ingest", partner=GP, event="unknown")
        == 1
    )


async def test_audit_and_trace_answer_for_a_referral(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    message = f"HIS-AUDIT-{uuid.uuid4().hex[:8]}"
    await publish(hub_env.kafka, names.partner_out(GP), [referral(message, "999990032")])
    [ack] = bodies(await notices_until(hub_env, ["ack"]), "ack")
    hub_id = str(ack["hub_message_id"])

    by_bsn = hub_env.cli("audit", "--bsn", "999990032", "--json").stdout.splitlines()
    records = [json.loads(line) for line in by_bsn]
    assert sorted(r["attributes"]["ketenhub.action"] for r in records) == [
        "acknowledged",
        "delivered",
    ]
    [delivered] = [r for r in records if r["attributes"]["ketenhub.action"] == "delivered"]
    assert delivered["trace_id"] == uuid.UUID(hub_id).hex
    assert delivered["attributes"]["ketenhub.recipient"] == PROVIDER
    assert delivered["attributes"]["ketenhub.legal_basis"] == "statutory"
    assert delivered["attributes"]["dpl.core.processing_activity_id"].endswith(":referral")
    assert "999990032" not in "\n".join(by_bsn)

    table = hub_env.cli("audit", "--bsn", "999990032")
    assert f"{PROVIDER}: referral x1, basis statutory" in table.stderr  # the summary
    assert "999990032" not in table.stdout + table.stderr
    household = delivered["attributes"]["ketenhub.household"]
    for question in (["--household", household], ["--message", message]):
        header, *rows = hub_env.cli("audit", *question).stdout.splitlines()
        assert header.endswith("\thub message id") and len(rows) == 2, rows
        assert all(row.endswith(f"\t{hub_id}") for row in rows), rows
    nobody = hub_env.cli("audit", "--bsn", "999990044", check=False)
    assert nobody.returncode == 0 and "no audit records" in nobody.stderr, "an empty answer"
    invalid = hub_env.cli("audit", "--bsn", "999990018", check=False)
    assert invalid.returncode == 2 and "999990018" not in invalid.stderr

    steps = [
        json.loads(line) for line in hub_env.cli("trace", hub_id, "--json").stdout.splitlines()
    ]
    stages = [s["stage"] for s in steps]
    assert stages[:2] == ["partner", "ingest"]
    assert stages.count("route") == 2 and stages.count("delivery") == 2
    assert {s["trace_id"] for s in steps} == {uuid.UUID(hub_id).hex}
    assert any(s["what"].startswith(f"forward to {PROVIDER}") for s in steps)
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    by_partner_id = hub_env.cli("trace", message).stdout
    assert hub_id in by_partner_id and "forward to" in by_partner_id


async def test_trace_of_a_dead_lettered_message(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    await publish(hub_env.kafka, names.partner_out(GP), [b"{broken"])
    [nack] = bodies(await notices_until(hub_env, ["nack"]), "nack")
    out = hub_env.cli("trace", str(nack["hub_message_id"]), "--json").stdout
    steps = [json.loads(line) for line in out.splitlines()]
    assert [s["stage"] for s in steps] == ["dlq", "delivery"]
    assert "malformed" in steps[0]["what"] and steps[1]["what"].startswith(f"nack to {GP}")
    [letter] = map(json.loads, hub_env.cli("dlq", "list", "--json").stdout.splitlines())
    hub_env.cli("dlq", "show", letter["ref"], "--payload", "--operator", "ops.trace")
    out = hub_env.cli("trace", str(nack["hub_message_id"]), "--json").stdout
    shown = [json.loads(line) for line in out.splitlines()][-1]
    assert shown["stage"] == "dlq"
    assert shown["what"] == f"payload of dead letter {letter['ref']} shown to operator ops.trace"
    unknown = hub_env.cli("trace", str(uuid.uuid4()), check=False)
    assert unknown.returncode == 2 and "no record of hub message" in unknown.stderr
