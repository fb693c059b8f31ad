"""The first flow end to end on a real broker: GP referral -> provider inbox, ack, nack, DLQ."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from hub.stages.records import HEADER_DLQ_REASON
from schemas.envelope import header_value
from tests.e2e.conftest import REPO, HubEnv

pytestmark = pytest.mark.kafka

GP = "huisarts-wijert"
PROVIDER = "aanbieder-noorderlicht"
OTHER_PROVIDER = "aanbieder-kompas"
GOLDEN = REPO / "schemas" / "examples" / "huisarts-verwijzing.json"


def referral(message_id: str, bsn: str = "999990019") -> bytes:
    body = json.loads(GOLDEN.read_text())
    body["message_id"] = message_id
    body["child"]["bsn"] = bsn
    return json.dumps(body).encode()


def wait_for_stages(hub: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            pytest.fail(f"hub exited with {hub.returncode}:\n{log.read_text()[-3000:]}")
        if log.exists() and log.read_text().count('"stage-started"') >= 2:
            return
        time.sleep(0.2)
    pytest.fail(f"hub did not start within {timeout}s:\n{log.read_text()[-3000:]}")


def stop_hub(hub: subprocess.Popen[bytes], timeout: float = 30) -> int:
    hub.send_signal(signal.SIGTERM)
    return hub.wait(timeout=timeout)


@pytest.fixture
def hub_log(tmp_path: Path) -> Path:
    return tmp_path / "hub.log"


@pytest.fixture
def running_hub(hub_env: HubEnv, hub_log: Path) -> Iterator[subprocess.Popen[bytes]]:
    hub = hub_env.start_hub(hub_log)
    wait_for_stages(hub, hub_log)
    yield hub
    if hub.poll() is None:
        stop_hub(hub)


def bodies(messages: list[InboxMessage], kind: str) -> list[dict[str, object]]:
    return [json.loads(m.value) for m in messages if m.kind == kind]


async def notices_until(hub_env: HubEnv, kinds: list[str], partner: str = GP) -> list[InboxMessage]:
    """Read a partner's inbox until it holds at least these notice kinds (with repeats)."""

    def enough(messages: list[InboxMessage]) -> bool:
        got = [m.kind for m in messages]
        return all(got.count(k) >= kinds.count(k) for k in set(kinds))

    names = TopicNames(hub_env.prefix)
    messages = await read_inbox(
        hub_env.kafka, names.partner_in(partner), until=enough, max_wait_s=60
    )
    assert enough(messages), f"timed out waiting for {kinds}; got {[m.kind for m in messages]}"
    return messages


async def test_valid_referral_reaches_the_provider_once_and_the_gp_gets_an_ack(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    message_id = f"HIS-{uuid.uuid4().hex[:12]}"
    await publish(hub_env.kafka, names.partner_out(GP), [referral(message_id)])

    gp_inbox = await notices_until(hub_env, ["ack"])
    (ack,) = bodies(gp_inbox, "ack")
    assert ack["in_response_to"] == message_id
    assert ack["delivered_to"] == [PROVIDER]

    provider_inbox = await read_inbox(hub_env.kafka, names.partner_in(PROVIDER), idle_timeout_s=2)
    (delivered,) = bodies(provider_inbox, "forward")
    assert len(provider_inbox) == 1
    assert delivered["type"] == "verwijzing-ontvangen"
    assert delivered["referral_id"] == message_id
    assert delivered["referrer_partner"] == GP
    assert delivered["client"] == {"bsn": "999990019", "birth_date": "2014-03-02"}
    assert delivered["hub_message_id"] == ack["hub_message_id"]

    other = await read_inbox(hub_env.kafka, names.partner_in(OTHER_PROVIDER), idle_timeout_s=1)
    assert other == []


async def test_back_to_back_transactions_log_no_retries_and_only_json(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes], hub_log: Path
) -> None:
    """A demo's hub log was three quarters NotEnoughReplicasError retries: the local broker's
    transactional produce verification answered a transaction that followed the previous
    one too closely. Bursts of referrals keep ingest's transactions back to back."""
    names = TopicNames(hub_env.prefix)
    for n in range(10):
        burst = [referral(f"HIS-burst-{n}-{k}") for k in range(10)]
        await publish(hub_env.kafka, names.partner_out(GP), burst)
        await asyncio.sleep(0.02)
    await notices_until(hub_env, ["ack"] * 100)
    lines = hub_log.read_text().splitlines()
    assert not [line for line in lines if "NotEnoughReplicas" in line], lines[:5]
    for line in lines:
        assert isinstance(json.loads(line), dict), line


async def test_garbage_gets_a_nack_and_a_dlq_record_and_the_hub_keeps_running(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    garbage = b"\x00\x17MSH|^~\\&|HIS|not json"
    message_id = f"HIS-{uuid.uuid4().hex[:12]}"
    await publish(hub_env.kafka, names.partner_out(GP), [garbage, referral(message_id)])

    gp_inbox = await notices_until(hub_env, ["nack", "ack"])
    (nack,) = bodies(gp_inbox, "nack")
    assert nack["reason_code"] == "malformed"
    assert nack["reason"] == "payload is not valid UTF-8 JSON"
    (ack,) = bodies(gp_inbox, "ack")
    assert ack["in_response_to"] == message_id

    dlq = await read_inbox(hub_env.kafka, names.dlq, idle_timeout_s=1)
    assert [m.value for m in dlq] == [garbage]
    assert header_value(list(dlq[0].headers), HEADER_DLQ_REASON) == "malformed"
    assert running_hub.poll() is None


async def test_an_invalid_bsn_is_refused_without_echoing_personal_data(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    bad_bsn = "999990018"
    await publish(hub_env.kafka, names.partner_out(GP), [referral("HIS-BAD-BSN", bad_bsn)])

    gp_inbox = await notices_until(hub_env, ["nack"])
    (nack,) = bodies(gp_inbox, "nack")
    assert nack["reason_code"] == "invalid-bsn"
    assert nack["in_response_to"] == "HIS-BAD-BSN"
    dlq = await read_inbox(hub_env.kafka, names.dlq, idle_timeout_s=1)
    assert len(dlq) == 1
    exposed = json.dumps(nack) + repr(dlq[0].headers)
    assert bad_bsn not in exposed
    assert "2014-03-02" not in exposed
    provider = await read_inbox(hub_env.kafka, names.partner_in(PROVIDER), idle_timeout_s=1)
    assert provider == []


async def test_a_resent_referral_is_acknowledged_again_but_not_delivered_twice_across_restart(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes], hub_log: Path
) -> None:
    names = TopicNames(hub_env.prefix)
    payload = referral(f"HIS-{uuid.uuid4().hex[:12]}")
    await publish(hub_env.kafka, names.partner_out(GP), [payload])
    await notices_until(hub_env, ["ack"])

    assert stop_hub(running_hub) == 0, "SIGTERM must end the hub cleanly"
    restarted = hub_env.start_hub(hub_log)
    try:
        wait_for_stages(restarted, hub_log)
        await publish(hub_env.kafka, names.partner_out(GP), [payload])
        await notices_until(hub_env, ["ack", "ack"])
    finally:
        assert stop_hub(restarted) == 0
    provider = await read_inbox(hub_env.kafka, names.partner_in(PROVIDER), idle_timeout_s=2)
    assert len(bodies(provider, "forward")) == 1


def test_partner_tools_send_and_inbox(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    file = tmp_path / "verwijzing.json"
    file.write_bytes(referral("HIS-CLI-1"))
    sent = hub_env.cli("send", "--as", GP, str(file))
    assert f"{hub_env.prefix}.partner.{GP}.out" in sent.stdout

    deadline = time.monotonic() + 60
    lines: list[dict[str, object]] = []
    while time.monotonic() < deadline and not lines:
        out = hub_env.cli("inbox", GP, "--json", "--timeout", "1").stdout
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [line["kind"] for line in lines] == ["ack"]
    assert lines[0]["body"]["in_response_to"] == "HIS-CLI-1"  # type: ignore[index]

    table = hub_env.cli("inbox", PROVIDER, "--timeout", "1").stdout
    header, row = table.splitlines()  # a pipe: the header and one tab-separated row
    assert header.split("\t") == ["partition:offset", "kind", "hub message id", "summary"]
    assert "referral_id=HIS-CLI-1" in row
    assert "999990019" not in table, "the summary table shows no personal data"


def test_send_as_an_unknown_partner_is_a_clear_error(hub_env: HubEnv, tmp_path: Path) -> None:
    file = tmp_path / "x.json"
    file.write_text("{}")
    result = hub_env.cli("send", "--as", "nobody", str(file), check=False)
    assert result.returncode == 2
    assert "unknown partner 'nobody'" in result.stderr


async def test_metrics_count_the_flow(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    names = TopicNames(hub_env.prefix)
    await publish(hub_env.kafka, names.partner_out(GP), [referral("HIS-METRICS-1"), b"nope"])
    await notices_until(hub_env, ["ack", "nack"])
    url = f"http://127.0.0.1:{hub_env.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    ingest = f'partner="{GP}",stage="ingest"'
    assert f'ketenhub_messages_in_total{{event="referral",{ingest}}} 1.0' in text
    assert f'ketenhub_messages_in_total{{event="unknown",{ingest}}} 1.0' in text
    assert 'ketenhub_rejects_total{reason="malformed",stage="ingest"} 1.0' in text
    forward = f'kind="forward",partner="{PROVIDER}",stage="route"'
    assert f'ketenhub_messages_out_total{{event="referral",{forward}}} 1.0' in text
    assert "999990019" not in text
