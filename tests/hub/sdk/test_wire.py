"""The SDK states the wire contract on its own: it must equal what the hub writes, and the
SDK must not pull in the hub's stages or Kafka plumbing (a partner embeds it)."""

from __future__ import annotations

import subprocess
import sys

import hub.sdk
from hub.kafka.topics import TopicNames
from hub.sdk import wire
from hub.stages import records
from routing.decide import DeliveryKind as RouterDeliveryKind


def test_header_names_and_kinds_are_the_hubs() -> None:
    assert wire.HEADER_MESSAGE_ID == records.HEADER_MESSAGE_ID
    assert wire.HEADER_KIND == records.HEADER_KIND
    assert wire.HEADER_EVENT == records.HEADER_EVENT
    assert wire.HEADER_SENT_AT == records.HEADER_SENT_AT
    assert {k.value for k in wire.DeliveryKind} == {k.value for k in RouterDeliveryKind}


def test_topic_names_are_the_hubs() -> None:
    names = TopicNames("acme")
    assert wire.outbox_topic("wij-zuid", "acme") == names.partner_out("wij-zuid")
    assert wire.inbox_topic("wij-zuid", "acme") == names.partner_in("wij-zuid")
    assert wire.consumer_group("wij-zuid", "acme").startswith("acme.partner.wij-zuid.")


def test_the_sdk_imports_nothing_of_the_hubs_shell() -> None:
    probe = "import sys, hub.sdk; print(' '.join(m for m in sys.modules if m.startswith('hub.')))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded and all(m == "hub.sdk" or m.startswith("hub.sdk.") for m in loaded), loaded


def test_public_api_is_complete() -> None:
    public = {n for n in dir(hub.sdk) if not n.startswith("_")} - {
        "client", "correlation", "messages", "wire",
    }  # fmt: skip
    assert public == set(hub.sdk.__all__)
