"""The iJw adapters (provider and RIGG) pass the adapter conformance kit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters import ijw
from adapters.aanbieder import AanbiederAdapter
from adapters.rigg import RiggAdapter
from adapters.testing import AdapterConformance
from schemas import fhir_ijw
from schemas.codes import RejectReason
from tests.adapters.ijw_cases import (
    BSN,
    PERSONAL,
    PROVIDER,
    RIGG,
    billion_laughs,
    golden,
    oversized,
    plain_doctype,
    xxe,
)
from tests.conftest import default_registry

BAD_BSN = "999990018"


def _as_sent(bundle: Mapping[str, Any]) -> bytes:
    """The iJw XML a partner sends, back from its Bundle (the inverse of decode)."""
    return ijw.render(*fhir_ijw.from_bundle(bundle))


class TestAanbiederIjwConformance(AdapterConformance):
    adapter = AanbiederAdapter()
    registry = default_registry()
    sender_id = PROVIDER
    valid_examples = tuple(
        golden(b) for b in ("JW315", "JW302", "JW305", "JW307", "JW317", "JW320", "JW323")
    )
    invalid_examples = (
        (xxe(golden("JW315")), RejectReason.XML_UNSAFE),
        (billion_laughs(), RejectReason.XML_UNSAFE),
        (plain_doctype(golden("JW305")), RejectReason.XML_UNSAFE),
        (oversized(golden("JW307")), RejectReason.PAYLOAD_TOO_LARGE),
        (b"<Bericht/>", RejectReason.UNSUPPORTED_TYPE),
        (golden("JW301"), RejectReason.UNSUPPORTED_TYPE),
        (b"not xml at all", RejectReason.MALFORMED),
        (golden("JW315").replace(BSN.encode(), BAD_BSN.encode()), RejectReason.INVALID_BSN),
        (golden("JW305").replace(b">2014-03-02<", b">2014-02-31<"), RejectReason.SCHEMA_INVALID),
        (
            golden("JW315").replace(b">73000001<", b">73000002<"),
            RejectReason.SENDER_MISMATCH,
        ),
        (golden("JW307").replace(b">0014<", b">0363<"), RejectReason.UNKNOWN_RECIPIENT),
    )
    personal_data = (*PERSONAL, BAD_BSN, "2014-02-31")

    def native_of(self, bundle: Mapping[str, Any]) -> bytes:
        return _as_sent(bundle)


class TestRiggIjwConformance(AdapterConformance):
    adapter = RiggAdapter()
    registry = default_registry()
    sender_id = RIGG
    valid_examples = tuple(
        golden(b) for b in ("JW301", "JW316", "JW306", "JW308", "JW318", "JW319", "JW325")
    )
    invalid_examples = (
        (xxe(golden("JW301")), RejectReason.XML_UNSAFE),
        (billion_laughs(), RejectReason.XML_UNSAFE),
        (oversized(golden("JW316")), RejectReason.PAYLOAD_TOO_LARGE),
        (golden("JW315"), RejectReason.UNSUPPORTED_TYPE),
        (golden("JW301").replace(BSN.encode(), BAD_BSN.encode()), RejectReason.INVALID_BSN),
        (
            golden("JW301").replace(b"<jw301:Soort>01<", b"<jw301:Soort>09<"),
            RejectReason.SCHEMA_INVALID,
        ),
        (golden("JW301").replace(b">0014<", b">0363<"), RejectReason.SENDER_MISMATCH),
        (golden("JW316").replace(b">73000001<", b">99999999<"), RejectReason.UNKNOWN_RECIPIENT),
    )
    personal_data = (*PERSONAL, BAD_BSN)

    def native_of(self, bundle: Mapping[str, Any]) -> bytes:
        return _as_sent(bundle)
