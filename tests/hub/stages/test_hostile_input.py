"""Hostile input at ingest: every bad message ends in a specific reject code, one DLQ record
with the original bytes, and a nack to its sender; nothing crashes and no personal data leaks.

The cases are data (``HOSTILE``), so the suite can say how many distinct bad inputs it
tries (``HOSTILE_COUNT`` plus the hypothesis properties at the end). Each case checks:

- the DLQ record: reason code, untouched original bytes, partner and source headers;
- the nack: same code, same (printable, value-free) reason text as the DLQ detail;
- no canonical record, no ``internal-error``;
- the BSN the payload carries (valid or not) appears in no header, key or nack body.
"""

# ruff: noqa: RUF001  (look-alike characters are the point of several cases)

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import (
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_PARTNER,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_KIND,
    HEADER_REPLAY_OF,
    InRecord,
    OutRecord,
)
from hub.stages.route import RouteStage
from observability.metrics import HubMetrics
from schemas.codes import RejectReason
from schemas.envelope import header_value
from schemas.notices import Ack, Nack
from tests.conftest import GOLDEN_BSN, GOLDEN_REFERRAL, GP, PROVIDER

R = RejectReason
RIGG = "rigg-groningen"
RIGG_EXAMPLE = GOLDEN_REFERRAL.parent / "rigg-jw301.xml"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_REFERRAL.read_text())
FIELDS: tuple[tuple[str, ...], ...] = (
    ("type",),
    ("message_id",),
    ("sent_at",),
    ("referrer",),
    ("referrer", "agb"),
    ("child",),
    ("child", "bsn"),
    ("child", "birth_date"),
    ("urgency",),
    ("care_category",),
    ("addressed_to_agb",),
    ("reason",),
)
"""Every field of the GP referral (schemas/examples/huisarts-verwijzing.json)."""
OBJECT_FIELDS = {("referrer",), ("child",)}


@dataclass(frozen=True)
class Hostile:
    id: str
    payload: bytes | None
    reason: RejectReason
    partner: str = GP
    topic: str | None = None
    """Default: the partner's outbox."""
    secrets: tuple[str, ...] = (GOLDEN_BSN,)
    """Strings that must not appear in any header, key or nack body."""
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    @property
    def source_topic(self) -> str:
        return self.topic or f"t.partner.{self.partner}.out"

    @property
    def nacked(self) -> bool:
        return self.reason is not R.UNKNOWN_PARTNER


def referral(change: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    body = json.loads(json.dumps(GOLDEN))
    if change is not None:
        change(body)
    return json.dumps(body, ensure_ascii=False).encode()


def setting(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for part in path[:-1]:
            body = body[part]
        body[path[-1]] = value

    return change


def dropping(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for part in path[:-1]:
            body = body[part]
        del body[path[-1]]

    return change


def raw_referral(fragment_from: bytes, fragment_to: bytes) -> bytes:
    """The golden referral with raw JSON text replaced (for what json.dumps cannot write)."""
    payload = json.dumps(GOLDEN).encode()
    assert fragment_from in payload
    return payload.replace(fragment_from, fragment_to, 1)


# --- not JSON, not an object, not UTF-8 -------------------------------------------------

_GOLDEN_BYTES = referral()
NOT_JSON = [
    Hostile("hl7-garbage", b"\x00\x17MSH|^~\\&|HIS|not json", R.MALFORMED),
    Hostile("invalid-utf8", b'{"type": "verwijzing", "reason": "\xff\xfe"}', R.MALFORMED),
    Hostile("overlong-utf8-nul", b'{"type": "verwijzing\xc0\x80"}', R.MALFORMED),
    Hostile("utf16-json", json.dumps(GOLDEN).encode("utf-16"), R.MALFORMED),
    Hostile("utf8-bom", b"\xef\xbb\xbf" + _GOLDEN_BYTES, R.MALFORMED),
    Hostile("truncated-half", _GOLDEN_BYTES[: len(_GOLDEN_BYTES) // 2], R.MALFORMED),
    Hostile("truncated-last-brace", _GOLDEN_BYTES[:-1], R.MALFORMED),
    Hostile("trailing-garbage", _GOLDEN_BYTES + b"x", R.MALFORMED),
    Hostile("two-documents", _GOLDEN_BYTES + _GOLDEN_BYTES, R.MALFORMED),
    Hostile("js-comment", _GOLDEN_BYTES + b" // resent", R.MALFORMED),
    Hostile("single-quotes", b"{'type': 'verwijzing'}", R.MALFORMED),
    Hostile("json-array", b"[" + _GOLDEN_BYTES + b"]", R.MALFORMED),
    Hostile("json-number", b"42", R.MALFORMED),
    Hostile("json-null", b"null", R.MALFORMED),
    Hostile("json-string", b'"verwijzing"', R.MALFORMED),
    Hostile("json-true", b"true", R.MALFORMED),
    Hostile("nan-literal", b"NaN", R.MALFORMED),
    Hostile("huge-exponent", b'{"type": "verwijzing", "x": 1e999999}', R.MALFORMED),
    Hostile("empty-payload", b"", R.MALFORMED),
    Hostile("tombstone", None, R.MALFORMED),
    Hostile("whitespace-only", b" \n\t\r ", R.MALFORMED),
    Hostile("nested-arrays-100k", b"[" * 100_000 + b"]" * 100_000, R.MALFORMED),
    Hostile("nested-objects-60k", b'{"a":' * 60_000 + b"1" + b"}" * 60_000, R.MALFORMED),
    Hostile("unclosed-arrays-100k", b"[" * 100_000, R.MALFORMED),
    Hostile("nested-arrays-at-limit", b"[" * 1024 + b"]" * 1024, R.MALFORMED),
    Hostile(
        "deep-value-in-field",
        raw_referral(b'"reason": "', b'"reason": ' + b"[" * 1000 + b"]" * 1000 + b', "r": "'),
        R.SCHEMA_INVALID,
    ),
    Hostile(
        "lone-high-surrogate-in-id",
        raw_referral(b'"HIS-WIJERT-2026-000123"', b'"HIS-\\ud800"'),
        R.MALFORMED,
    ),
    Hostile(
        "lone-low-surrogate-in-reason",
        raw_referral(b'"reason": "', b'"reason": "\\udc00'),
        R.MALFORMED,
    ),
    Hostile(
        "reversed-surrogate-pair",
        raw_referral(b'"reason": "', b'"reason": "\\ude00\\ud83d'),
        R.MALFORMED,
    ),
    Hostile(
        "raw-surrogate-bytes", raw_referral(b'"reason": "', b'"reason": "\xed\xa0\x80'), R.MALFORMED
    ),
]

# --- size ---------------------------------------------------------------------------------

_LIMIT = 512 * 1024  # the default KETENHUB_MAX_PAYLOAD_BYTES the fixture's settings use


def _sized(total: int) -> bytes:
    """A referral of exactly ``total`` bytes (its reason padded; far too long for the schema)."""
    base = len(referral(setting(("reason",), "")))
    payload = referral(setting(("reason",), "x" * (total - base)))
    assert len(payload) == total
    return payload


SIZE = [
    Hostile("one-byte-over-the-limit", _sized(_LIMIT + 1), R.PAYLOAD_TOO_LARGE),
    Hostile("exactly-the-limit", _sized(_LIMIT), R.SCHEMA_INVALID),
    Hostile(
        "oversized-valid-json",
        referral(setting(("reason",), "x" * (_LIMIT + 10))),
        R.PAYLOAD_TOO_LARGE,
    ),
    Hostile("oversized-garbage", b"\x00" * (2 * _LIMIT), R.PAYLOAD_TOO_LARGE),
    Hostile("oversized-whitespace", b" " * (_LIMIT + 1), R.PAYLOAD_TOO_LARGE),
    Hostile("reason-4001-chars", referral(setting(("reason",), "x" * 4001)), R.SCHEMA_INVALID),
    Hostile("message-id-65-chars", referral(setting(("message_id",), "A" * 65)), R.SCHEMA_INVALID),
    Hostile(
        "ten-thousand-extra-fields",
        referral(lambda body: body.update({f"f{i}": i for i in range(10_000)})),
        R.SCHEMA_INVALID,
    ),
]

# --- wrong types for every field, and every field missing --------------------------------

_WRONG_SCALARS: tuple[tuple[str, Any], ...] = (
    ("null", None),
    ("int", 42),
    ("float", 4.2),
    ("true", True),
    ("false", False),
    ("list", ["x"]),
    ("object", {"a": 1}),
    ("empty-list", []),
    ("empty-object", {}),
)
_WRONG_FOR_OBJECTS: tuple[tuple[str, Any], ...] = (
    ("null", None),
    ("int", 42),
    ("string", "x"),
    ("list", [{}]),
    ("true", True),
)
LAX_DATES = {(("sent_at",), "int"), (("sent_at",), "float")}
"""Numbers pydantic's lax mode would read as dates (42 -> 1970-01-01T00:00:42Z): the suite found
them accepted; schemas/native.py now takes dates as ISO text only. Tested apart, below."""


def _expected_for(path: tuple[str, ...]) -> RejectReason:
    if path == ("type",):
        return R.UNSUPPORTED_TYPE
    if path == ("child", "bsn"):
        return R.INVALID_BSN
    return R.SCHEMA_INVALID


WRONG_TYPES = [
    Hostile(
        f"{'.'.join(path)}-as-{label}",
        referral(setting(path, value)),
        _expected_for(path),
    )
    for path in FIELDS
    for label, value in (_WRONG_FOR_OBJECTS if path in OBJECT_FIELDS else _WRONG_SCALARS)
    if (path, label) not in LAX_DATES
]
LAX_DATE_CASES = [
    Hostile("sent_at-as-int", referral(setting(("sent_at",), 42)), R.SCHEMA_INVALID),
    Hostile("sent_at-as-float", referral(setting(("sent_at",), 4.2)), R.SCHEMA_INVALID),
    Hostile(
        "child.birth_date-as-zero", referral(setting(("child", "birth_date"), 0)), R.SCHEMA_INVALID
    ),
]
MISSING = [
    Hostile(
        f"{'.'.join(path)}-missing",
        referral(dropping(path)),
        R.UNSUPPORTED_TYPE if path == ("type",) else R.SCHEMA_INVALID,
    )
    for path in FIELDS
]
WRONG_VALUES = [
    Hostile("type-unknown", referral(setting(("type",), "ontslag")), R.UNSUPPORTED_TYPE),
    Hostile("type-wrong-case", referral(setting(("type",), "VERWIJZING")), R.UNSUPPORTED_TYPE),
    Hostile("type-with-nul", referral(setting(("type",), "verwijzing\x00")), R.UNSUPPORTED_TYPE),
    Hostile("urgency-unknown", referral(setting(("urgency",), "spoed")), R.SCHEMA_INVALID),
    Hostile(
        "care-category-unknown", referral(setting(("care_category",), "ggz")), R.SCHEMA_INVALID
    ),
    Hostile(
        "sent-at-naive", referral(setting(("sent_at",), "2026-11-23T09:15:00")), R.SCHEMA_INVALID
    ),
    Hostile("sent-at-not-a-time", referral(setting(("sent_at",), "gisteren")), R.SCHEMA_INVALID),
    Hostile(
        "birth-date-impossible",
        referral(setting(("child", "birth_date"), "2014-02-30")),
        R.SCHEMA_INVALID,
    ),
    Hostile(
        "agb-seven-digits", referral(setting(("referrer", "agb"), "0100000")), R.SCHEMA_INVALID
    ),
    Hostile("message-id-empty", referral(setting(("message_id",), "")), R.SCHEMA_INVALID),
    Hostile("reason-empty", referral(setting(("reason",), "")), R.SCHEMA_INVALID),
]

# --- BSN --------------------------------------------------------------------------------


def _bad_bsn(label: str, bsn: Any, secret: str | None = None) -> Hostile:
    secrets = (secret,) if secret else ((bsn,) if isinstance(bsn, str) and len(bsn) > 3 else ())
    return Hostile(
        f"bsn-{label}", referral(setting(("child", "bsn"), bsn)), R.INVALID_BSN, secrets=secrets
    )


BSNS = [
    _bad_bsn("check-digit-off-by-one", "999990018"),
    _bad_bsn("check-digit-typo", "999990091"),
    _bad_bsn("sequential", "123456789"),
    _bad_bsn("all-zeros", "000000000"),
    _bad_bsn("eight-digits", "99999001"),
    _bad_bsn("ten-digits", "9999900190"),
    _bad_bsn("with-spaces", "999 990 019", secret="999 990 019"),
    _bad_bsn("with-dots", "999.990.019"),
    _bad_bsn("leading-space", " 999990019", secret=" 999990019"),
    _bad_bsn("trailing-newline", "999990019\n", secret="999990019\n"),
    _bad_bsn("letters", "99999OO19"),
    _bad_bsn("negative", "-99990019"),
    _bad_bsn("arabic-indic-digits", "٩٩٩٩٩٠٠١٩"),
    _bad_bsn("fullwidth-digits", "９９９９９００１９"),
    _bad_bsn("devanagari-digits", "९९९९९००१९"),
    _bad_bsn("superscript-digits", "⁹⁹⁹⁹⁹⁰⁰¹⁹"),
    _bad_bsn("with-zero-width-space", "99999\u200b0019", secret="99999\u200b0019"),
    _bad_bsn("with-nul", "999990019\x00", secret="999990019\x00"),
    _bad_bsn("as-number", 999990019, secret=GOLDEN_BSN),
]

# --- identity and routing ---------------------------------------------------------------

IDENTITY = [
    Hostile("unknown-partner-topic", _GOLDEN_BYTES, R.UNKNOWN_PARTNER, partner="onbekend"),
    Hostile(
        "foreign-prefix-topic",
        _GOLDEN_BYTES,
        R.UNKNOWN_PARTNER,
        topic=f"other.partner.{GP}.out",
        partner="?",
    ),
    Hostile(
        "claims-another-gps-agb",
        referral(setting(("referrer", "agb"), "01000002")),
        R.SENDER_MISMATCH,
    ),
    Hostile(
        "claims-a-providers-agb",
        referral(setting(("referrer", "agb"), "73000001")),
        R.SENDER_MISMATCH,
    ),
    Hostile(
        "claims-own-agb-in-fullwidth-digits",
        referral(setting(("referrer", "agb"), "０１０００００１")),
        R.SENDER_MISMATCH,
    ),
    Hostile(
        "another-gp-sends-on-this-outbox",
        referral(setting(("referrer", "agb"), "01000001")),
        R.SENDER_MISMATCH,
        partner="huisarts-hoogkerk",
    ),
    Hostile(
        "addressed-to-unknown-agb",
        referral(setting(("addressed_to_agb",), "99999999")),
        R.UNKNOWN_RECIPIENT,
    ),
    Hostile(
        "addressed-to-a-gp",
        referral(setting(("addressed_to_agb",), "01000002")),
        R.UNKNOWN_RECIPIENT,
    ),
    Hostile(
        "addressed-to-itself",
        referral(setting(("addressed_to_agb",), "01000001")),
        R.UNKNOWN_RECIPIENT,
    ),
    Hostile("gp-json-on-a-provider-outbox", _GOLDEN_BYTES, R.MALFORMED, partner=PROVIDER),
]

# --- odd unicode and control characters ---------------------------------------------------

_ODD_IDS = {
    "nul": "HIS-1\x00",
    "rtl-override": "HIS-\u202e1-SIH",
    "emoji": "HIS-\U0001f600",
    "zero-width-space": "HIS\u200b-1",
    "newline": "HIS-1\n",
    "cyrillic-homoglyph": "НIS-1",
    "escape-sequence": "HIS-\x1b[2J",
    "space": "HIS 1",
}
ODD = (
    [
        Hostile(f"message-id-{label}", referral(setting(("message_id",), value)), R.SCHEMA_INVALID)
        for label, value in _ODD_IDS.items()
    ]
    + [
        Hostile(f"reason-{label}", referral(setting(("reason",), value)), R.SCHEMA_INVALID)
        for label, value in {
            "nul": "Angstklachten\x00; verzoek om diagnostiek.",
            "bell": "Angstklachten\x07",
            "escape-sequence": "\x1b]0;owned\x07Angstklachten",
            "vertical-tab": "Angst\x0bklachten",
            "backspace": "Angst\x08klachten",
        }.items()
    ]
    + [
        Hostile(
            "agb-rtl-override",
            referral(setting(("referrer", "agb"), "\u202e01000001")),
            R.SCHEMA_INVALID,
        ),
        Hostile(
            "care-category-zero-width",
            referral(setting(("care_category",), "jeugd-ggz\u200b")),
            R.SCHEMA_INVALID,
        ),
        Hostile(
            "urgency-trailing-nul", referral(setting(("urgency",), "routine\x00")), R.SCHEMA_INVALID
        ),
        Hostile(
            "birth-date-arabic-digits",
            referral(setting(("child", "birth_date"), "٢٠١٤-٠٣-٠٢")),
            R.SCHEMA_INVALID,
        ),
        Hostile(
            "extra-field-named-by-a-bsn",
            referral(lambda body: body.update({"\x00" + GOLDEN_BSN: "x"})),
            R.SCHEMA_INVALID,
        ),
        Hostile(
            "extra-field-named-by-a-name-in-child",
            referral(lambda body: body["child"].update({"\u202eJanssen, Piet": True})),
            R.SCHEMA_INVALID,
            secrets=(GOLDEN_BSN, "Janssen"),
        ),
        Hostile(
            "extra-field-named-bsn-elsewhere",
            referral(lambda body: body["referrer"].update({"bsn": GOLDEN_BSN})),
            R.SCHEMA_INVALID,
        ),
    ]
)

# --- XML, through the RIGG's iJw adapter ----------------------------------------------------

_XML = RIGG_EXAMPLE.read_bytes()
_DECL = b'<?xml version="1.0" encoding="UTF-8"?>'
_BODY = _XML[len(_DECL) :]
_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
        for i in range(10)
    )
    + b"]>"
)


def _xml(label: str, payload: bytes, reason: RejectReason) -> Hostile:
    return Hostile(f"xml-{label}", payload, reason, partner=RIGG)


XML = [
    _xml("billion-laughs", _DECL + _LAUGHS + b"<lolz>&lol9;</lolz>", R.XML_UNSAFE),
    _xml(
        "xxe-local-file",
        _DECL
        + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + _BODY.replace(b"RIGG-T-00077", b"&e;"),
        R.XML_UNSAFE,
    ),
    _xml(
        "external-dtd",
        _DECL + b'<!DOCTYPE x SYSTEM "http://127.0.0.1:1/evil.dtd">' + _BODY,
        R.XML_UNSAFE,
    ),
    _xml(
        "parameter-entity",
        _DECL + b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/"> %p;]><x/>',
        R.XML_UNSAFE,
    ),
    _xml(
        "quadratic-blowup",
        _DECL
        + b'<!DOCTYPE x [<!ENTITY a "'
        + b"a" * 50_000
        + b'">]><x>'
        + b"&a;" * 5_000
        + b"</x>",
        R.XML_UNSAFE,
    ),
    _xml(
        "doctype-hidden-in-comment",
        _XML.replace(b"<jw301:Client>", b"<!-- <!DOCTYPE --><jw301:Client>"),
        R.XML_UNSAFE,
    ),
    _xml(
        "xinclude",
        _XML.replace(
            b"<jw301:Client>",
            b'<xi:include xmlns:xi="http://www.w3.org/'
            b'2001/XInclude" href="file:///etc/passwd" parse="text"/><jw301:Client>',
        ),
        R.SCHEMA_INVALID,
    ),
    _xml(
        "utf16-with-xxe",
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e '
            'SYSTEM "file:///etc/passwd">]><x>&e;</x>'
        ).encode("utf-16"),
        R.MALFORMED,
    ),
    _xml(
        "lowercase-doctype",
        _DECL + b'<!doctype x [<!entity e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        R.MALFORMED,
    ),
    _xml("nested-10k", _DECL + b"<a>" * 10_000 + b"</a>" * 10_000, R.MALFORMED),
    _xml("not-well-formed", _XML[:200], R.MALFORMED),
    _xml("json-instead-of-xml", _GOLDEN_BYTES, R.MALFORMED),
    _xml("wrong-root", _DECL + b'<jw999:Bericht xmlns:jw999="urn:x"/>', R.UNSUPPORTED_TYPE),
    _xml("invalid-bsn", _XML.replace(b"999990019", b"999990018"), R.INVALID_BSN),
    _xml("empty", b"", R.MALFORMED),
]

HOSTILE: list[Hostile] = [
    *NOT_JSON,
    *SIZE,
    *WRONG_TYPES,
    *MISSING,
    *WRONG_VALUES,
    *BSNS,
    *IDENTITY,
    *ODD,
    *XML,
]
HOSTILE_COUNT = len(HOSTILE) + len(LAX_DATE_CASES)


def _ingest(hub_context: HubContext, case: Hostile, metrics: HubMetrics) -> list[OutRecord]:
    record = InRecord(case.source_topic, 0, 7, case.payload, headers=list(case.headers))
    return IngestStage(hub_context, metrics).handle(record)


def assert_refused(records: list[OutRecord], case: Hostile) -> Nack | None:
    dlqs = [r for r in records if r.topic == "t.dlq"]
    inboxes = [r for r in records if r.topic.endswith(".in")]
    assert len(dlqs) == 1 and len(records) == 1 + len(inboxes), [r.topic for r in records]
    [dlq] = dlqs
    assert header_value(dlq.headers, HEADER_DLQ_REASON) == case.reason.value
    assert dlq.value == (case.payload or b""), "the DLQ keeps the original bytes, untouched"
    assert header_value(dlq.headers, HEADER_DLQ_PARTNER) == case.partner
    assert header_value(dlq.headers, HEADER_DLQ_SOURCE) == f"{case.source_topic}:0:7"
    detail = header_value(dlq.headers, HEADER_DLQ_DETAIL) or ""
    assert detail and detail.isprintable(), detail
    exposed = [value for r in records for _, value in r.headers]
    exposed += [r.key or b"" for r in records]
    nack: Nack | None = None
    if case.nacked:
        [inbox] = inboxes
        assert inbox.topic == f"t.partner.{case.partner}.in"
        assert header_value(inbox.headers, HEADER_KIND) == "nack"
        nack = Nack.model_validate_json(inbox.value)
        assert nack.reason_code is case.reason
        assert nack.reason == detail
        exposed.append(inbox.value)
    else:
        assert inboxes == [], "nobody to nack for a topic no partner owns"
    for secret in case.secrets:
        for value in exposed:
            assert secret.encode() not in value, f"{secret!r} leaked"
            escaped = json.dumps(secret)[1:-1].encode()
            assert escaped not in value, f"{secret!r} leaked (JSON-escaped)"
    return nack


def test_the_cases_are_distinct() -> None:
    ids = [case.id for case in HOSTILE + LAX_DATE_CASES]
    assert len(ids) == len(set(ids))
    inputs = [(c.source_topic, c.payload) for c in HOSTILE + LAX_DATE_CASES]
    assert len(inputs) == len(set(inputs))
    assert HOSTILE_COUNT >= 180


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.id)
def test_hostile_input_is_refused_specifically(
    hub_context: HubContext, metrics: HubMetrics, case: Hostile
) -> None:
    records = _ingest(hub_context, case, metrics)
    assert_refused(records, case)
    assert (
        metrics.registry.get_sample_value(
            "ketenhub_rejects_total", {"stage": "ingest", "reason": case.reason.value}
        )
        == 1
    )


@pytest.mark.parametrize("case", LAX_DATE_CASES, ids=lambda c: c.id)
def test_numbers_for_dates_are_refused(
    hub_context: HubContext, metrics: HubMetrics, case: Hostile
) -> None:
    assert_refused(_ingest(hub_context, case, metrics), case)


def test_the_huge_nesting_is_orjsons_depth_limit_not_a_crash(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[" * 100_000)
    case = next(c for c in HOSTILE if c.id == "nested-arrays-100k")
    nack = assert_refused(_ingest(hub_context, case, metrics), case)
    assert nack is not None and nack.reason == "payload is not valid UTF-8 JSON"


def test_a_partners_message_id_is_echoed_only_when_tame(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    tame = Hostile("x", referral(setting(("urgency",), "spoed")), R.SCHEMA_INVALID)
    nack = assert_refused(_ingest(hub_context, tame, metrics), tame)
    assert nack is not None and nack.in_response_to == GOLDEN["message_id"]
    for case in ODD:
        message_id = orjson.loads(case.payload or b"{}")["message_id"]
        if message_id.isascii() and message_id.isprintable():
            continue  # "HIS 1": wrong, but tame enough to name in the nack
        nack = assert_refused(_ingest(hub_context, case, HubMetrics()), case)
        assert nack is not None and nack.in_response_to is None, case.id


def test_unknown_field_names_are_never_echoed(hub_context: HubContext, metrics: HubMetrics) -> None:
    case = next(c for c in ODD if c.id == "extra-field-named-by-a-name-in-child")
    nack = assert_refused(_ingest(hub_context, case, metrics), case)
    assert nack is not None
    assert nack.reason == "child.(unknown field): Extra inputs are not permitted"


def test_a_forged_replay_header_is_ignored(hub_context: HubContext, metrics: HubMetrics) -> None:
    """Partners can set any header; only a well-formed kh-replay-of is carried to the DLQ."""
    for forged in (b"\xff\xfe", b"0:1; DROP", b"9" * 40, b"-1:5"):
        case = Hostile("forged", b"nope", R.MALFORMED, headers=((HEADER_REPLAY_OF, forged),))
        records = _ingest(hub_context, case, HubMetrics())
        assert_refused(records, case)
        assert all(header_value(r.headers, HEADER_REPLAY_OF) is None for r in records)
    good = Hostile("replayed", b"nope", R.MALFORMED, headers=((HEADER_REPLAY_OF, b"2:17"),))
    records = _ingest(hub_context, good, metrics)
    [dlq] = [r for r in records if r.topic == "t.dlq"]
    assert header_value(dlq.headers, HEADER_REPLAY_OF) == "2:17"


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("emoji", "Angst 😟 en schoolverzuim"),
        ("rtl-override", "Angst \u202eklachten"),
        ("arabic", "قلق ومشاكل في المدرسة"),
        ("combining-marks", "Ange\u0301st"),
        ("c1-next-line", "Angst\u0085klachten"),
        ("tabs-and-newlines", "Angst\tklachten\r\nverzoek"),
    ],
)
def test_legitimate_unicode_in_free_text_is_delivered_unchanged(
    hub_context: HubContext, metrics: HubMetrics, label: str, reason: str
) -> None:
    """Not hostile: free text may be in any script (FHIR only forbids C0 controls)."""
    payload = referral(setting(("reason",), reason))
    out = IngestStage(hub_context, metrics).handle(InRecord(f"t.partner.{GP}.out", 0, 1, payload))
    [canonical] = [r for r in out if r.topic != "t.households"]
    assert canonical.topic == "t.canonical"
    bundle = orjson.loads(canonical.value)
    texts = [
        e["resource"]["reasonCode"][0]["text"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    assert texts == [reason]


def test_a_replayed_message_id_is_acknowledged_again_and_delivered_once(
    hub_context: HubContext,
) -> None:
    """A resend, and a replay of the same message (new offset, kh-replay-of header)."""
    ingest, route = IngestStage(hub_context, HubMetrics()), RouteStage(hub_context, HubMetrics())
    sends = [
        InRecord(f"t.partner.{GP}.out", 0, 1, _GOLDEN_BYTES),
        InRecord(f"t.partner.{GP}.out", 0, 2, _GOLDEN_BYTES),
        InRecord(f"t.partner.{GP}.out", 3, 9, _GOLDEN_BYTES, headers=[(HEADER_REPLAY_OF, b"0:4")]),
    ]
    forwards: list[OutRecord] = []
    acks: list[Ack] = []
    for send in sends:
        [canonical] = [r for r in ingest.handle(send) if r.topic == "t.canonical"]
        out = route.handle(
            InRecord(
                canonical.topic, 0, send.offset, canonical.value, canonical.key, canonical.headers
            )
        )
        route.batch_committed()
        forwards += [r for r in out if header_value(r.headers, HEADER_KIND) == "forward"]
        acks += [
            Ack.model_validate_json(r.value)
            for r in out
            if r.topic == f"t.partner.{GP}.in" and header_value(r.headers, HEADER_KIND) == "ack"
        ]
    assert [f.topic for f in forwards] == [f"t.partner.{PROVIDER}.in"]
    assert [a.duplicate for a in acks] == [False, True, True]
    assert {a.in_response_to for a in acks} == {GOLDEN["message_id"]}


# --- generated inputs ---------------------------------------------------------------------

GENERATED_EXAMPLES = 300
ALLOWED_FOR_ANY_BYTES = {R.MALFORMED, R.UNSUPPORTED_TYPE, R.SCHEMA_INVALID, R.PAYLOAD_TOO_LARGE}
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_generated = settings(
    max_examples=GENERATED_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _refusal(records: list[OutRecord], payload: bytes) -> RejectReason:
    case_reason = header_value(records[0].headers, HEADER_DLQ_REASON)
    assert case_reason is not None, "not refused"
    reason = R(case_reason)
    assert_refused(records, Hostile("generated", payload, reason))
    return reason


@_generated
@given(payload=st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_specifically(hub_context: HubContext, payload: bytes) -> None:
    records = IngestStage(hub_context, HubMetrics()).handle(
        InRecord(f"t.partner.{GP}.out", 0, 7, payload)
    )
    assert _refusal(records, payload) in ALLOWED_FOR_ANY_BYTES


@_generated
@given(body=st.dictionaries(st.text(), _json, max_size=8))
def test_arbitrary_json_objects_are_refused_specifically(
    hub_context: HubContext, body: dict[str, Any]
) -> None:
    payload = orjson.dumps(body)
    records = IngestStage(hub_context, HubMetrics()).handle(
        InRecord(f"t.partner.{GP}.out", 0, 7, payload)
    )
    assert _refusal(records, payload) in {R.UNSUPPORTED_TYPE, R.SCHEMA_INVALID}


@_generated
@given(path=st.sampled_from(FIELDS), value=_json)
def test_any_value_in_any_field_is_accepted_or_refused_specifically(
    hub_context: HubContext, path: tuple[str, ...], value: Any
) -> None:
    payload = orjson.dumps(orjson.loads(referral(setting(path, value))))
    records = IngestStage(hub_context, HubMetrics()).handle(
        InRecord(f"t.partner.{GP}.out", 0, 7, payload)
    )
    if any(r.topic == "t.canonical" for r in records):
        return  # a value that happens to be valid (e.g. another urgency code)
    assert _refusal(records, payload) in {
        R.UNSUPPORTED_TYPE,
        R.SCHEMA_INVALID,
        R.INVALID_BSN,
        R.SENDER_MISMATCH,
        R.UNKNOWN_RECIPIENT,
    }


@_generated
@given(payload=st.binary(max_size=1024) | st.text(max_size=512).map(str.encode))
def test_arbitrary_bytes_to_the_xml_adapter_are_refused_specifically(
    hub_context: HubContext, payload: bytes
) -> None:
    records = IngestStage(hub_context, HubMetrics()).handle(
        InRecord(f"t.partner.{RIGG}.out", 0, 7, payload)
    )
    reason = header_value(records[0].headers, HEADER_DLQ_REASON)
    assert reason is not None and R(reason) is not R.INTERNAL_ERROR
    assert_refused(records, Hostile("generated", payload, R(reason), partner=RIGG))
