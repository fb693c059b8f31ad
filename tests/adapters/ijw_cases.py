"""Golden iJw messages and hostile variants, shared by the iJw schema and adapter tests."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
GOLDEN = {
    "JW315": EXAMPLES / "aanbieder-jw315.xml",
    "JW302": EXAMPLES / "aanbieder-jw302.xml",
    "JW305": EXAMPLES / "aanbieder-jw305.xml",
    "JW307": EXAMPLES / "aanbieder-jw307.xml",
    "JW317": EXAMPLES / "aanbieder-jw317.xml",
    "JW320": EXAMPLES / "aanbieder-jw320.xml",
    "JW323": EXAMPLES / "aanbieder-jw323.xml",
    "JW301": EXAMPLES / "rigg-jw301.xml",
    "JW316": EXAMPLES / "rigg-jw316.xml",
    "JW306": EXAMPLES / "rigg-jw306.xml",
    "JW308": EXAMPLES / "rigg-jw308.xml",
    "JW318": EXAMPLES / "rigg-jw318.xml",
    "JW319": EXAMPLES / "rigg-jw319.xml",
    "JW325": EXAMPLES / "rigg-jw325.xml",
}
PROVIDER = "aanbieder-noorderlicht"
OTHER_PROVIDER = "aanbieder-kompas"
RIGG = "rigg-groningen"
BSN = "999990019"
NAME = "Proefpersoon"
BIRTH_DATE = "2014-03-02"
PERSONAL = (BSN, NAME, BIRTH_DATE, "Proefstraat", "9700AA")
"""Values that must never appear in an error text."""


def golden(bericht: str) -> bytes:
    return GOLDEN[bericht].read_bytes()


def with_doctype(payload: bytes, doctype: bytes) -> bytes:
    """The payload with a DOCTYPE right after its XML declaration."""
    declaration, rest = payload.split(b"?>", 1)
    return declaration + b"?>\n" + doctype + rest


def xxe(payload: bytes) -> bytes:
    """An external entity pointing at a local file, used in the client's name."""
    doctype = b'<!DOCTYPE Bericht [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return with_doctype(payload, doctype).replace(NAME.encode(), b"&xxe;", 1)


def billion_laughs() -> bytes:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10)
    )
    return b'<?xml version="1.0"?>\n<!DOCTYPE lolz [' + entities + b"]>\n<lolz>&lol9;</lolz>"


def plain_doctype(payload: bytes) -> bytes:
    return with_doctype(payload, b"<!DOCTYPE Bericht>")


def oversized(payload: bytes, size: int = 300 * 1024) -> bytes:
    closing = payload.rstrip().rsplit(b"</", 1)
    return closing[0] + b"<!--" + b"x" * size + b"-->" + b"</" + closing[1]
