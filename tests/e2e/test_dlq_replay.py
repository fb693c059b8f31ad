"""Dead letters on a real broker: list, show, replay after a fix, and never deliver twice.

The story: a GP refers a child to a provider the hub does not know yet (unknown-recipient),
and sends garbage. The operator adds the provider to the registry, restarts the hub and
replays. The referral is delivered once; replaying it again (--again) earns a duplicate ack,
not a second delivery; the garbage fails again and says it is a replay.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from hub.settings import DEFAULTS
from hub.stages.records import HEADER_REPLAY_OF
from schemas.envelope import header_value
from tests.e2e.conftest import HubEnv
from tests.e2e.test_referral_flow import GP, notices_until, referral, stop_hub, wait_for_stages

pytestmark = pytest.mark.kafka

LATE_PROVIDER = "aanbieder-kompas"
LATE_AGB = "73000002"


@dataclass
class RegistryEnv(HubEnv):
    """A hub whose partner registry can change between runs."""

    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **self.extra}


def _registry_without(partner_id: str, path: Path) -> Path:
    text = (DEFAULTS / "partners.toml").read_text()
    blocks = re.split(r"(?m)^(?=\[\[partner\]\])", text)
    kept = [b for b in blocks if f'id = "{partner_id}"' not in b]
    assert len(kept) == len(blocks) - 1, "the default registry names the provider once"
    path.write_text("".join(kept))
    return path


@pytest.fixture
def env(hub_env: HubEnv, tmp_path: Path) -> RegistryEnv:
    partners = _registry_without(LATE_PROVIDER, tmp_path / "partners-before.toml")
    return RegistryEnv(hub_env.bootstrap, hub_env.prefix, hub_env.home, hub_env.metrics_port,
                       extra={"KETENHUB_PARTNERS_FILE": str(partners)})  # fmt: skip


@pytest.fixture
def hub(env: RegistryEnv, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The running hub (a list, so a test can restart it); stopped at the end."""
    log = tmp_path / "hub-0.log"
    running = [env.start_hub(log)]
    wait_for_stages(running[0], log)
    yield running
    if running[-1].poll() is None:
        stop_hub(running[-1])


def _restart(env: RegistryEnv, hub: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    assert stop_hub(hub[-1]) == 0
    log = tmp_path / f"hub-{len(hub)}.log"
    hub.append(env.start_hub(log))
    wait_for_stages(hub[-1], log)


def _dlq_json(env: RegistryEnv) -> list[dict[str, Any]]:
    """``dlq list --json``: one object per dead letter."""
    result = env.cli("dlq", "list", "--json")
    return [json.loads(line) for line in result.stdout.splitlines()]


def _bodies(messages: list[InboxMessage], kind: str) -> list[dict[str, Any]]:
    return [json.loads(m.value) for m in messages if m.kind == kind]


async def test_replay_after_a_fix_delivers_once_and_never_twice(
    env: RegistryEnv, hub: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    names = TopicNames(env.prefix)
    message_id = f"HIS-{uuid.uuid4().hex[:12]}"
    late = json.loads(referral(message_id))
    late["addressed_to_agb"] = LATE_AGB
    late_payload = json.dumps(late).encode()
    garbage = b"\x00not json at all"
    await publish(env.kafka, names.partner_out(GP), [late_payload, garbage])
    await notices_until(env, ["nack", "nack"])

    listed = _dlq_json(env)
    assert sorted((r["partner"], r["reason"]) for r in listed) == [
        (GP, "malformed"), (GP, "unknown-recipient")
    ]  # fmt: skip
    [letter] = [r for r in listed if r["reason"] == "unknown-recipient"]
    ref = letter["ref"]
    table = env.cli("dlq", "list").stdout
    assert ref in table and "999990019" not in table, "no payload in listings"
    shown = env.cli("dlq", "show", ref).stdout
    assert "unknown-recipient" in shown and "999990019" not in shown
    none_yet = env.cli("audit", "--disclosures", check=False)
    assert none_yet.returncode == 0 and none_yet.stdout == "", "none yet: an empty answer"
    with_payload = env.cli("dlq", "show", ref, "--payload", "--operator", "ops.tester")
    assert with_payload.stdout.encode() == late_payload, "the payload alone, byte for byte"
    assert "personal data" in with_payload.stderr
    [disclosed] = [
        json.loads(line) for line in env.cli("audit", "--disclosures", "--json").stdout.splitlines()
    ]
    assert disclosed["name"] == "ketenhub.dlq.disclosed"
    attributes = disclosed["attributes"]
    assert (attributes["ketenhub.operator"], attributes["ketenhub.dlq_ref"]) == ("ops.tester", ref)
    assert attributes["ketenhub.message_id"] == (letter["message_id"] or f"dlq:{ref}")
    assert "999990019" not in json.dumps(disclosed)

    # The fix: the provider joins the registry; topics for it exist; the hub restarts.
    env.extra = {}
    env.cli("topics", "create")
    _restart(env, hub, tmp_path)

    dry = env.cli("dlq", "replay", "--reason", "unknown-recipient", "--dry-run")
    assert "1 record(s) would be replayed" in dry.stdout
    replayed = env.cli("dlq", "replay", "--reason", "unknown-recipient")
    assert "replayed 1 record(s)" in replayed.stdout, replayed.stdout + replayed.stderr

    gp = await notices_until(env, ["nack", "nack", "ack"])
    [ack] = _bodies(gp, "ack")
    assert ack["in_response_to"] == message_id and ack["delivered_to"] == [LATE_PROVIDER]
    provider = await read_inbox(env.kafka, names.partner_in(LATE_PROVIDER), idle_timeout_s=1)
    assert [b["referral_id"] for b in _bodies(provider, "forward")] == [message_id]

    once_more = env.cli("dlq", "replay", ref)
    assert "nothing to replay (1 skipped)" in once_more.stdout
    assert "replayed before" in once_more.stdout

    again = env.cli("dlq", "replay", ref, "--again")
    assert "replayed 1 record(s)" in again.stdout
    gp = await notices_until(env, ["nack", "nack", "ack", "ack"])
    acks = _bodies(gp, "ack")
    assert [a["duplicate"] for a in acks] == [False, True], "acknowledged again as a duplicate"
    provider = await read_inbox(env.kafka, names.partner_in(LATE_PROVIDER), idle_timeout_s=2)
    assert len(_bodies(provider, "forward")) == 1, "a replay never delivers twice"

    # The garbage is replayed too (a tiny replay needs no --yes) and fails again, as a replay.
    refused = env.cli("dlq", "replay", "--all", "--again", "--confirm-above", "1", check=False)
    assert refused.returncode == 2 and "refusing to replay 2 records" in refused.stderr
    rest = env.cli("dlq", "replay", "--reason", "malformed")
    assert "replayed 1 record(s)" in rest.stdout
    await notices_until(env, ["nack", "nack", "nack", "ack", "ack"])
    records = _dlq_json(env)
    [again_refused] = [r for r in records if r["replay_of"] is not None]
    [original] = [r for r in records if r["reason"] == "malformed" and r["replay_of"] is None]
    assert again_refused["replay_of"] == original["ref"]
    assert original["replayed_to"].startswith(names.partner_out(GP))
    dlq = await read_inbox(env.kafka, names.dlq, idle_timeout_s=1)
    assert [header_value(list(m.headers), HEADER_REPLAY_OF) for m in dlq].count(
        original["ref"]
    ) == 1
    assert all(h.poll() is None for h in hub[-1:])
