"""One AsyncAPI 3.0 document per partner kind, generated with faststream.

faststream builds the skeleton from a broker that declares what a partner of this kind does
(publish on its outbox, subscribe to its inbox, log in with SCRAM-SHA-512): info, server,
security scheme, channels with their Kafka bindings, operations. The messages are then
filled in per native message type: a JSON Schema from the pydantic model (or, for iJw, the
XML text and its XSD), the ``kh-*`` headers, the key, the correlation, the examples.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import SASLScram512
from faststream.specification import AsyncAPI
from pydantic.json_schema import models_json_schema

from hub.contracts.catalog import KindContract, MessageType
from hub.contracts.examples import Example
from hub.sdk.wire import INBOX_HEADERS, DeliveryKind
from schemas.codes import RejectReason
from schemas.reject_reasons import MEANING

VERSION = "1.0.0"
"""The contract's own version: bump the minor for an added field or message, the major for
anything a partner's code could trip over."""
SERVER = "localhost:19092"
OUTBOX = "ketenhub.partner.{partnerId}.out"
INBOX = "ketenhub.partner.{partnerId}.in"
KAFKA_BINDING = "0.5.0"


def document(
    contract: KindContract,
    sent_examples: Mapping[str, list[Example]],
    received_examples: Mapping[str, list[Example]],
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of one partner kind, as plain JSON data."""
    kind = contract.kind.value
    doc = _skeleton(kind)
    schemas = _schemas(contract)
    messages: dict[str, Any] = {}
    for channel, types, examples in (
        ("outbox", contract.sends, sent_examples),
        ("inbox", contract.receives, received_examples),
    ):
        names = []
        for t in types:
            name = f"{channel}.{t.name}"
            messages[name] = _message(t, channel, examples.get(t.name, []))
            names.append(name)
        doc["channels"][channel]["messages"] = {
            n: {"$ref": f"#/components/messages/{n}"} for n in names
        }
        doc["channels"][channel]["parameters"] = {
            "partnerId": {"$ref": "#/components/parameters/partnerId"}
        }
        doc["operations"][channel]["messages"] = [
            {"$ref": f"#/channels/{channel}/messages/{n}"} for n in names
        ]
    components = doc["components"]
    components["messages"] = messages
    components["schemas"] = schemas
    components["parameters"] = {
        "partnerId": {
            "description": f"Your partner id in the hub's registry (a {kind} partner), "
            "e.g. the one the hub's operator gave you with your Kafka user.",
        }
    }
    sorted_doc: dict[str, Any] = _sorted(doc)
    return sorted_doc


def _skeleton(kind: str) -> dict[str, Any]:
    broker = KafkaBroker(
        SERVER,
        security=SASLScram512("<partner id>", "<secret>"),
        description="The project's local Kafka (`ketenhub kafka start --auth`); the hub's "
        "operator gives you production brokers, your Kafka user (your partner id) and its "
        "SCRAM-SHA-512 secret.",
    )
    broker.publisher(
        OUTBOX,
        title="outbox",
        description="Where you publish your native messages, and nowhere else (your ACL). "
        "Set no headers and any key: the hub keys by household itself. Kafka tells you "
        "topic, partition and offset: every ack or nack names them as its source.",
    )

    @broker.subscriber(INBOX, title="inbox", description=(
        "What the hub delivers to you: messages of other partners in your native format, "
        "minimised for your kind (kh-kind forward), the answers to your sends (ack, nack) "
        "and the hub's notices (notify). Read it with isolation.level=read_committed: the "
        "hub writes transactionally. Your consumer group must start with "
        "ketenhub.partner.<partnerId>. (your ACL)."
    ))  # fmt: skip
    async def inbox(body: bytes) -> None:  # a declaration only: never run
        raise NotImplementedError

    spec = AsyncAPI(
        broker,
        title=f"ketenhub: the {kind} partner contract",
        version=VERSION,
        description=_description(kind),
        schema_version="3.0.0",
    ).to_specification()
    doc: dict[str, Any] = json.loads(spec.to_json())
    scheme = doc["components"]["securitySchemes"]
    for value in scheme.values():
        value["description"] = (
            "SASL/SCRAM-SHA-512: the username is your partner id, the secret comes from the "
            "hub's operator (`ketenhub partners provision`)."
        )
    for channel in ("outbox", "inbox"):
        doc["channels"][channel]["bindings"]["kafka"].pop("topic", None)
    return doc


def _description(kind: str) -> str:
    return (
        f"What a **{kind}** system sends to and receives from ketenhub, the Kafka integration "
        "hub of the youth-care and social-domain chain. Publish on your outbox, read your "
        "inbox; the partner SDK (`hub.sdk.PartnerClient`, docs/partners.md) does both.\n\n"
        "**Correlation.** Every ack and nack carries `source` (topic, partition, offset of "
        "the outbox record it answers), also when the hub could not read your bytes, and "
        "`in_response_to` (your message id) whenever it could read one.\n\n"
        "**Nack reason codes** (stable; new ones may be added):\n\n"
        + "\n".join(f"- `{r.value}`: {MEANING[r]}" for r in RejectReason)
    )


def _schemas(contract: KindContract) -> dict[str, Any]:
    models = {t.model for t in (*contract.sends, *contract.receives) if t.model is not None}
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for t in (*contract.sends, *contract.receives):
        if t.bericht is not None:
            schemas[t.name] = {
                "type": "string",
                "contentMediaType": "application/xml",
                "description": f"An iJw 3.2 {t.name} message (XML, UTF-8). The hub validates it "
                f"against xsd/{t.name}.xsd (beside this document; it imports "
                "xsd/basisschema.xsd) before anything else.",
                "x-xsd": f"xsd/{t.name}.xsd",
            }
    return schemas


def _message(t: MessageType, channel: str, examples: list[Example]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": t.name,
        "title": t.name,
        "summary": t.summary,
        "contentType": t.content_type,
        "payload": {"$ref": f"#/components/schemas/{t.name}"},
        "bindings": {"kafka": {"key": _key(channel, t), "bindingVersion": KAFKA_BINDING}},
    }
    if channel == "inbox":
        message["headers"] = _headers(t)
    if t.delivery in (DeliveryKind.ACK, DeliveryKind.NACK):
        message["correlationId"] = {
            "description": "The outbox record this answers (what Kafka told you on sending).",
            "location": "$message.payload#/source",
        }
    if t.model is not None:
        typed = f' with `"type": "{t.type_value}"`' if t.type_value else ""
        message["description"] = (
            f"JSON{typed}; standalone JSON Schema: schemas/{t.name}.schema.json."
        )
    if examples:
        message["examples"] = [
            {"name": e.name, "summary": e.summary, "payload": e.payload} for e in examples
        ]
    return message


def _key(channel: str, t: MessageType) -> dict[str, Any]:
    if channel == "outbox":
        return {"type": "string", "description": "Your choice (none is fine): the hub ignores it."}
    if t.delivery is DeliveryKind.NACK:
        return {
            "type": "string",
            "description": "The household pseudonym; absent on a nack the hub sent before it "
            "could read your message.",
        }
    return {"type": "string", "description": "The household pseudonym (never a BSN)."}


def _headers(t: MessageType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        name: {"type": "string", "description": text} for name, text in INBOX_HEADERS.items()
    }
    if t.delivery is not None:
        properties["kh-kind"]["const"] = t.delivery.value
    properties["kh-message-id"]["format"] = "uuid"
    properties["kh-sent-at"]["pattern"] = "^[0-9]{1,19}$"
    return {
        "type": "object",
        "properties": properties,
        "required": ["kh-message-id", "kh-kind", "kh-event"],
    }


def _sorted(value: Any) -> Any:
    """Stable key order, so a regenerated document compares equal byte for byte."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
