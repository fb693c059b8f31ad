"""A conformance kit for partner adapters, to run in the adapter author's own pytest suite.

Subclass ``AdapterConformance`` in a test module, name the subclass ``Test...`` and set its
class attributes; pytest then runs every check of the kit against your adapter, one test
per example::

    from pathlib import Path

    from adapters.testing import AdapterConformance
    from schemas.codes import RejectReason
    from schemas.partners import PartnerRegistry

    from my_adapter import SchoolAdapter

    HERE = Path(__file__).parent


    class TestSchoolAdapter(AdapterConformance):
        adapter = SchoolAdapter()
        registry = PartnerRegistry.from_toml(HERE / "partners.toml")
        sender_id = "school-de-wissel"  # a partner in that registry that uses this adapter
        valid_examples = ((HERE / "examples/signal.json").read_bytes(),)
        invalid_examples = (
            (b"not json", RejectReason.MALFORMED),
            ((HERE / "examples/bad-bsn.json").read_bytes(), RejectReason.INVALID_BSN),
        )
        personal_data = ("999990019", "2014-03-02")  # values in the examples: never in errors

The kit checks what the hub relies on, and nothing about the native format itself, so it
works the same for JSON, XML or any other bytes:

- the adapter implements the ``Adapter`` protocol and its ``name`` is the adapter the sender
  uses in the registry;
- every valid example decodes to a FHIR message Bundle that passes
  ``schemas.fhir.validate_bundle``, whose ``MessageHeader.eventCoding`` (from ``EVENT_SYSTEM``)
  is ``Decoded.event``, whose id is the hub message id, with a non-empty partner message id,
  a valid child BSN and, when set, a recipient from the registry;
- round trip: ``encode`` of that Bundle decodes again to an equal Bundle. A partner that
  receives a message in another form than it sends it (a ``signaal`` out, a
  ``signaal-ontvangen`` in) overrides ``native_of`` with the inverse of ``decode``; one that
  never receives what it sends sets ``round_trip = False``;
- every invalid example raises ``AdapterError`` with exactly the expected code and a
  non-empty message;
- no error message, ``str(error)``, echoed message id or chained exception contains a
  ``personal_data`` string or any nine-digit number that passes the elfproef;
- an ack and a nack (``schemas.fhir.response_bundle``) encode to non-empty bytes without
  personal data.

To leave out one check, set it to ``None`` in the subclass with a comment saying why
(``test_valid_example_round_trips = None``); pytest then does not collect it.

The kit's failure messages name examples by index and never print their content, so a
failing run does not copy personal data into CI logs either. The kit does not import
pytest at module level: importing ``adapters.testing`` costs nothing outside a test run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from adapters.base import Adapter, AdapterError, DecodeContext, Decoded
from schemas import fhir
from schemas.bsn import is_valid_bsn
from schemas.codes import EVENT_SYSTEM, MessageEvent, RejectReason
from schemas.partners import PartnerRegistry

if TYPE_CHECKING:
    import pytest

__all__ = [
    "AdapterConformance",
    "assert_no_personal_data",
    "decode_context",
]

RECEIVED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
"""The ``received_at`` of every context the kit makes, so decoding is reproducible."""

_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")


def decode_context(
    registry: PartnerRegistry,
    sender_id: str,
    hub_message_id: str | None = None,
    received_at: datetime = RECEIVED_AT,
) -> DecodeContext:
    """The context ingest would give ``sender_id``'s messages; a fresh hub message id by default.

    ``hub_message_id`` must be a UUID string, as ingest's ids are.
    """
    sender = registry.get(sender_id)
    if sender is None:
        known = ", ".join(p.id for p in registry.partners) or "none"
        raise ValueError(f"sender {sender_id!r} is not in the registry (partners: {known})")
    return DecodeContext(
        sender=sender,
        registry=registry,
        hub_message_id=hub_message_id or kit_uuid(),
        received_at=received_at,
    )


def kit_uuid() -> str:
    """A fresh id for the kit's own messages without a run of nine digits: about one random
    UUID in a thousand has one that passes the elfproef, and would fail the privacy checks."""
    while True:
        value = str(uuid.uuid4())
        if not _NINE_DIGITS.search(value):
            return value


def assert_no_personal_data(
    text: str, personal_data: Iterable[str] = (), what: str = "text"
) -> None:
    """Fail when ``text`` holds a ``personal_data`` string or a nine-digit valid BSN.

    Matching ignores case. The failure names what leaked by its index in ``personal_data``,
    never by its value. ``what`` says in the failure message where the text came from.
    """
    folded = text.casefold()
    for index, value in enumerate(personal_data):
        if value.strip() and value.casefold() in folded:
            raise AssertionError(f"{what} contains personal_data[{index}]")
    if any(is_valid_bsn(match) for match in _NINE_DIGITS.findall(text)):
        raise AssertionError(f"{what} contains a nine-digit number that passes the elfproef")


class AdapterConformance:
    """Base class of an adapter's conformance tests: subclass it as ``Test<YourAdapter>``.

    Set ``adapter``, ``registry``, ``sender_id``, ``valid_examples``, ``invalid_examples``
    and ``personal_data`` (see the module docstring); ``round_trip`` is optional.
    """

    adapter: ClassVar[Adapter]
    """The adapter under test (an instance)."""
    registry: ClassVar[PartnerRegistry]
    """A registry with the sending partner and every recipient the examples address."""
    sender_id: ClassVar[str]
    """The partner id the examples come from; it must use this adapter."""
    valid_examples: ClassVar[Sequence[bytes]] = ()
    """Native messages the adapter accepts."""
    invalid_examples: ClassVar[Sequence[tuple[bytes, RejectReason]]] = ()
    """Native messages the adapter rejects, each with the exact reject code expected."""
    personal_data: ClassVar[Sequence[str]] = ()
    """Strings from the examples that must never show in an error (BSNs, names, dates...)."""
    round_trip: ClassVar[bool] = True
    """Whether ``encode`` of a decoded Bundle must decode again to the same Bundle."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per example: pytest calls this hook for the tests of this class."""
        if "valid_example" in metafunc.fixturenames:
            metafunc.parametrize(
                "valid_example",
                list(self.valid_examples),
                ids=[f"valid-{i}" for i in range(len(self.valid_examples))],
            )
        if "invalid_example" in metafunc.fixturenames:
            metafunc.parametrize(
                "invalid_example",
                list(self.invalid_examples),
                ids=[
                    f"invalid-{i}-{code.value}" for i, (_, code) in enumerate(self.invalid_examples)
                ],
            )

    # -- the adapter itself --------------------------------------------------------------

    def test_configuration(self) -> None:
        """The subclass sets what the kit needs, and the sender uses this adapter."""
        missing = [name for name in ("adapter", "registry", "sender_id") if not hasattr(self, name)]
        assert not missing, f"set {', '.join(missing)} on {type(self).__name__}"
        assert isinstance(self.registry, PartnerRegistry), "registry must be a PartnerRegistry"
        sender = decode_context(self.registry, self.sender_id).sender
        assert sender.adapter_name == self.adapter.name, (
            f"partner {self.sender_id!r} uses adapter {sender.adapter_name!r} in the registry, "
            f"not {self.adapter.name!r}: the hub would never hand it this adapter"
        )
        assert self.valid_examples, "give at least one valid example"
        assert self.invalid_examples, "give at least one invalid example"
        for i, example in enumerate(self.valid_examples):
            assert isinstance(example, bytes), f"valid_examples[{i}] must be bytes"
        for i, (example, code) in enumerate(self.invalid_examples):
            assert isinstance(example, bytes), f"invalid_examples[{i}] must be bytes"
            assert isinstance(code, RejectReason), f"invalid_examples[{i}] needs a RejectReason"

    def test_adapter_satisfies_the_protocol(self) -> None:
        """An ``Adapter`` with a name, as the entry-point loader checks it."""
        assert isinstance(self.adapter, Adapter), (
            f"{type(self.adapter).__name__} lacks name, decode or encode of the Adapter protocol"
        )
        assert isinstance(self.adapter.name, str), "adapter.name must be a str"
        assert self.adapter.name.strip(), "adapter.name must not be empty"

    # -- valid input ---------------------------------------------------------------------

    def test_valid_example_decodes_to_a_valid_bundle(self, valid_example: bytes) -> None:
        """A FHIR message Bundle with the routing facts ingest relies on."""
        ctx = decode_context(self.registry, self.sender_id)
        decoded = self._decode_valid(valid_example, ctx)
        bundle = decoded.bundle
        try:
            fhir.validate_bundle(bundle)
        except fhir.FhirInvalidError as exc:
            raise AssertionError(f"the decoded Bundle is not valid FHIR: {exc}") from None
        assert bundle.get("type") == "message", "the Bundle must be of type 'message'"
        first = bundle["entry"][0]["resource"]
        assert first["resourceType"] == "MessageHeader", "a message Bundle starts with its header"
        coding = first.get("eventCoding", {})
        assert coding.get("system") == EVENT_SYSTEM, f"eventCoding.system must be {EVENT_SYSTEM}"
        assert isinstance(decoded.event, MessageEvent), "Decoded.event must be a MessageEvent"
        assert coding.get("code") == decoded.event.value, (
            f"eventCoding.code {coding.get('code')!r} is not Decoded.event {decoded.event.value!r}"
        )
        assert bundle.get("id") == ctx.hub_message_id, "Bundle.id must be the hub message id"
        assert isinstance(decoded.partner_message_id, str), "partner_message_id must be a str"
        assert decoded.partner_message_id.strip(), "partner_message_id must not be empty"
        if decoded.child_bsn or not decoded.correlation_key:
            assert is_valid_bsn(decoded.child_bsn), "Decoded.child_bsn must be a valid BSN"
        for i, bsn in enumerate(decoded.household_member_bsns):
            assert is_valid_bsn(bsn), f"household_member_bsns[{i}] must be a valid BSN"
        if decoded.recipient is not None:
            known = self.registry.get(decoded.recipient.id)
            assert known == decoded.recipient, (
                f"recipient {decoded.recipient.id!r} is not that partner of the registry"
            )

    def test_valid_example_round_trips(self, valid_example: bytes) -> None:
        """``decode(encode(decoded.bundle))`` gives the very same Bundle.

        The Bundle is the comparison point because it is the one form every adapter shares
        and the one the hub routes: comparing native bytes would fail on harmless differences
        (key order, whitespace, XML prefixes, a ``+01:00`` written as ``+0100``), and comparing
        native models would need the kit to know each format. If native -> FHIR -> native ->
        FHIR ends where it started, ``encode`` kept everything ``decode`` carries into the hub.

        Both decodes use one context (same hub message id and receipt time), because the
        Bundle's ids and timestamps derive from it; everything else must come from the bytes.
        """
        if not self.round_trip:
            import pytest

            pytest.skip("round_trip = False: this adapter's partner never receives this message")
        ctx = decode_context(self.registry, self.sender_id)
        first = self._decode_valid(valid_example, ctx)
        try:
            native = self.native_of(first.bundle)
        except AdapterError as error:
            raise AssertionError(
                f"cannot encode the decoded {first.event.value} Bundle: {error.code.value}: "
                f"{self._shown(error)}. If the partner never receives it, set round_trip = "
                "False; if it receives another form, override native_of"
            ) from None
        assert isinstance(native, bytes), "encode must return bytes"
        assert native, "encode returned no bytes"
        try:
            second = self.adapter.decode(native, ctx)
        except AdapterError as error:
            raise AssertionError(
                f"the re-encoded {first.event.value} is rejected by decode: {error.code.value}: "
                f"{self._shown(error)}. If the partner receives another form than it sends, "
                "override native_of with the inverse of decode"
            ) from None
        differences = list(_diff_paths(first.bundle, second.bundle))
        assert not differences, "the Bundle changes on a round trip at " + ", ".join(
            differences[:8]
        )
        changed = [
            f.name for f in fields(Decoded) if getattr(first, f.name) != getattr(second, f.name)
        ]
        assert not changed, "Decoded changes on a round trip in " + ", ".join(changed)

    def native_of(self, bundle: Mapping[str, Any]) -> bytes:
        """The native bytes the round trip decodes again: ``adapter.encode`` by default.

        Override it when the partner receives a message in another form than it sends it,
        with whatever turns a Bundle back into the form the partner *sends*.
        """
        return self.adapter.encode(bundle)

    # -- invalid input -------------------------------------------------------------------

    def test_invalid_example_is_rejected_with_its_code(
        self, invalid_example: tuple[bytes, RejectReason]
    ) -> None:
        """``AdapterError`` with exactly the expected code and a message for people."""
        payload, expected = invalid_example
        error = self._decode_invalid(payload)
        assert error.code is expected, (
            f"rejected as {error.code.value!r}, expected {expected.value!r}"
        )
        assert isinstance(error.message, str), "AdapterError.message must be a str"
        assert error.message.strip(), "AdapterError.message must not be empty"

    def test_errors_contain_no_personal_data(
        self, invalid_example: tuple[bytes, RejectReason]
    ) -> None:
        """The message goes to the partner and the logs: it names fields and rules, not values.

        Checked too: ``str(error)``, the echoed partner message id, and every exception a
        traceback would print with it (its ``__cause__`` and unsuppressed ``__context__``).
        """
        error = self._decode_invalid(invalid_example[0])
        self._assert_private(error.message, "AdapterError.message")
        self._assert_private(str(error), "str(AdapterError)")
        self._assert_private(repr(error), "repr(AdapterError)")
        if error.partner_message_id is not None:
            self._assert_private(error.partner_message_id, "AdapterError.partner_message_id")
        for depth, chained in enumerate(_chained(error), start=1):
            self._assert_private(
                str(chained), f"chained exception {depth} ({type(chained).__name__})"
            )

    # -- responses -----------------------------------------------------------------------

    def test_encodes_an_ack(self) -> None:
        """The sender gets an ack as native bytes without personal data."""
        sample = self._sample()
        recipients = (sample.recipient.id,) if sample and sample.recipient else ()
        bundle = self._response(sample.partner_message_id if sample else "kit-1", None, recipients)
        self._assert_encodes_privately(bundle, "the ack")

    def test_encodes_a_nack(self) -> None:
        """The sender gets a nack, with and without its own message id, without personal data."""
        sample = self._sample()
        for partner_message_id in (sample.partner_message_id if sample else "kit-1", None):
            bundle = self._response(partner_message_id, RejectReason.SCHEMA_INVALID, ())
            self._assert_encodes_privately(bundle, "the nack")

    # -- helpers -------------------------------------------------------------------------

    def _decode_valid(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        try:
            decoded = self.adapter.decode(payload, ctx)
        except AdapterError as error:
            index = self._index_of_valid(payload)
            raise AssertionError(
                f"valid_examples[{index}] is rejected: {error.code.value}: {self._shown(error)}"
            ) from None
        assert isinstance(decoded, Decoded), "decode must return adapters.base.Decoded"
        return decoded

    def _decode_invalid(self, payload: bytes) -> AdapterError:
        ctx = decode_context(self.registry, self.sender_id)
        try:
            self.adapter.decode(payload, ctx)
        except AdapterError as error:
            return error
        except Exception as exc:
            raise AssertionError(
                f"decode raised {type(exc).__name__}, not AdapterError: ingest would reject the "
                "message as internal-error, and the partner would not learn what is wrong"
            ) from None
        raise AssertionError("an invalid example was accepted")

    def _index_of_valid(self, payload: bytes) -> int | str:
        return next((i for i, v in enumerate(self.valid_examples) if v == payload), "?")

    def _sample(self) -> Decoded | None:
        """The first valid example, decoded, to answer as the hub would; None if it fails."""
        if not self.valid_examples:
            return None
        try:
            ctx = decode_context(self.registry, self.sender_id)
            return self.adapter.decode(self.valid_examples[0], ctx)
        except AdapterError:
            return None

    def _shown(self, error: AdapterError) -> str:
        """The error's message for a failure report, unless it leaks personal data itself."""
        try:
            assert_no_personal_data(error.message, self.personal_data)
        except AssertionError:
            return "<message withheld: it contains personal data>"
        return error.message

    def _response(
        self,
        partner_message_id: str | None,
        reject: RejectReason | None,
        delivered_to: tuple[str, ...],
    ) -> fhir.FhirDict:
        return fhir.response_bundle(
            hub_message_id=kit_uuid(),
            in_response_to=kit_uuid(),
            partner_message_id=partner_message_id,
            recipient_id=self.sender_id,
            at=RECEIVED_AT,
            delivered_to=delivered_to,
            reject=reject,
            reason="" if reject is None else "child.birth_date: Field required",
        )

    def _assert_encodes_privately(self, bundle: Mapping[str, Any], what: str) -> None:
        fhir.validate_bundle(bundle)
        native = self.adapter.encode(bundle)
        assert isinstance(native, bytes), f"encode of {what} must return bytes"
        assert native, f"encode of {what} returned no bytes"
        self._assert_private(native.decode("utf-8", errors="replace"), f"encoded {what}")

    def _assert_private(self, text: str, what: str) -> None:
        assert_no_personal_data(text, self.personal_data, what)


def _chained(error: BaseException) -> Iterator[BaseException]:
    """The exceptions a traceback of ``error`` would print with it."""
    seen = {id(error)}
    current: BaseException | None = error
    while current is not None:
        nxt = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if nxt is None or id(nxt) in seen:
            return
        seen.add(id(nxt))
        yield nxt
        current = nxt


def _diff_paths(a: object, b: object, path: str = "Bundle") -> Iterator[str]:
    """Where two JSON-like values differ, as paths only: a diff that prints no values."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{path}.{key}"
            else:
                yield from _diff_paths(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path} (length {len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from _diff_paths(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path
