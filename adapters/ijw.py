"""iJw (Jeugdwet) XML for the provider and RIGG adapters: safe parsing, XSD validation, the
mapping to and from the models in ``schemas.ijw.models``, and the routing checks.

Parsing is defensive, in this order: a size cap of our own (on top of ingest's), UTF-8 only,
any DOCTYPE or ENTITY declaration refused outright (``xml-unsafe``), then lxml with entity
resolution, DTD loading and network access off, then the message's XSD, its model and the
single-message rules of ``schemas.ijw.rules``. Error texts name elements and rules, never a
value from the message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from enum import Enum
from functools import cache, lru_cache
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from pydantic import ValidationError

from adapters.base import AdapterError, DecodeContext, Decoded, require_content
from schemas import fhir_ijw
from schemas.codes import RejectReason
from schemas.envelope import RoutingFacts
from schemas.ijw import BASIS_NS, XSD_DIR, Bericht, rules
from schemas.ijw.models import (
    Antwoord,
    Header,
    IjwModel,
    Jw315,
    Jw317,
    Jw319,
    Jw323,
    Jw325,
    Jw325Header,
    RetourHeader,
    TypeVerwijzer,
    model_of,
)
from schemas.partners import Partner, PartnerKind, PartnerRegistry

MAX_IJW_BYTES = 256 * 1024
"""iJw messages are small (a JW301 with dozens of products is a few kB); ingest's
``KETENHUB_MAX_PAYLOAD_BYTES`` applies as well, whichever is lower wins."""

WRAPPERS = {
    "AangevraagdeProducten": "AangevraagdProduct",
    "ToegewezenProducten": "ToegewezenProduct",
    "Contactgegevens": "Contact",
    "StartProducten": "StartProduct",
    "StopProducten": "StopProduct",
    "RetourCodes": "RetourCode",
    "Relaties": "Relatie",
    "OngewijzigdeProducten": "OngewijzigdProduct",
    "TeWijzigenProducten": "TeWijzigenProduct",
    "NieuweProducten": "NieuwProduct",
    "Clienten": "Client",
    "Prestaties": "Prestatie",
}
"""Elements that only wrap a repeated child: they become tuples in the models."""
NOT_CARRIED = frozenset({"Commentaar", "BerichtCode", "BerichtVersie", "BerichtSubversie"})
"""Validated by the XSD but not carried: free text (minimisation), and header constants."""

_UNSAFE_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,40}(\[[0-9]{1,4}\])?$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,12}$")


def _parser() -> etree.XMLParser:
    """This thread's parser: lxml parsers are not thread-safe, and a fresh one per message
    costs as much again as the parse itself (libxml2 sets up a new parser context)."""
    parser: etree.XMLParser | None = getattr(_PER_THREAD, "parser", None)
    if parser is None:
        parser = _PER_THREAD.parser = _new_parser()
    return parser


_PER_THREAD = threading.local()
"""One parser per thread (bounded by the threads): lxml's own default parser is kept the
same way. A parse keeps nothing of the one before it."""


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


@cache
def schema_of(bericht: Bericht) -> etree.XMLSchema:
    """The compiled XSD of a message (our own files, imported from ``schemas/ijw``)."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"{bericht.value}.xsd"), _parser()))


# ---- parsing ------------------------------------------------------------------------------


def parse(payload: bytes, accepted: Iterable[Bericht]) -> tuple[Bericht, IjwModel]:
    """Safely parse and validate iJw XML into its model, or raise a specific AdapterError."""
    allowed = tuple(accepted)
    if len(payload) > MAX_IJW_BYTES:
        raise AdapterError(
            RejectReason.PAYLOAD_TOO_LARGE, f"iJw message exceeds {MAX_IJW_BYTES} bytes"
        )
    require_content(payload)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise AdapterError(RejectReason.MALFORMED, "payload is not UTF-8 XML") from None
    if any(marker in payload for marker in _UNSAFE_MARKERS):
        raise AdapterError(
            RejectReason.XML_UNSAFE, "DOCTYPE and ENTITY declarations are not accepted"
        )
    try:
        root = etree.fromstring(payload, _parser())
    except etree.XMLSyntaxError as exc:
        line = f" (line {exc.lineno})" if isinstance(exc.lineno, int) else ""
        raise AdapterError(
            RejectReason.MALFORMED, f"payload is not well-formed XML{line}"
        ) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise AdapterError(RejectReason.XML_UNSAFE, "DTDs are not accepted")
    qname = etree.QName(root)
    bericht = Bericht.of_namespace(qname.namespace)
    if bericht is None or qname.localname != "Bericht" or bericht not in allowed:
        names = ", ".join(f"{b.prefix}:Bericht" for b in allowed)
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"root element must be one of: {names}")
    schema = schema_of(bericht)
    if not schema.validate(tree):
        raise _schema_error(schema.error_log, _message_id(root, bericht))
    try:
        model = model_of(bericht).model_validate(_element_data(root))
    except ValidationError as exc:
        raise _model_error(exc, _message_id(root, bericht)) from None
    violations = rules.check(model)
    if violations:
        shown = "; ".join(str(v) for v in violations[:3])
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        raise AdapterError(RejectReason.RULE_VIOLATION, shown + more, _message_id(root, bericht))
    return bericht, model


def partner_message_id(bericht: Bericht, header: Header) -> str:
    """The hub-wide id of a message: iJw ids are unique per message type and sender only."""
    own = header.identificatie_retour if isinstance(header, RetourHeader) else None
    return f"{bericht.value}:{own or header.bericht_identificatie.identificatie}"


def _message_id(root: etree._Element, bericht: Bericht) -> str | None:
    """The message's own id, for the nack, when it is there and sane (looked up only for a
    nack: valid or not, the message may not hold it where it should)."""
    found = root.find(_id_path(bericht))
    text = (found.text or "").strip() if found is not None else ""
    return f"{bericht.value}:{text}" if _SAFE_ID.match(text) else None


@cache
def _id_path(bericht: Bericht) -> str:
    """Where a message holds its own id, in Clark notation (no prefix map to resolve)."""
    m, b = f"{{{bericht.namespace}}}", f"{{{BASIS_NS}}}"
    if bericht.is_retour:
        return f"{m}Header/{m}IdentificatieRetour"
    return f"{m}Header/{m}BerichtIdentificatie/{b}Identificatie"


@lru_cache(maxsize=4096)
def _carried_name(tag: object) -> str | None:
    """An element's name without its namespace (``QName(element).localname``, read off the
    ``{namespace}name`` tag: an XML name holds no ``}``), or None for an element that is not
    carried. Once per tag: the XSD has accepted the tree, so its tags are the schemas' own."""
    local = str(tag).rpartition("}")[2]
    return None if local in NOT_CARRIED else local


def _element_data(element: etree._Element) -> dict[str, Any]:
    """The children of ``element`` -> plain data keyed by element name (the models' aliases).

    Runs on a tree the XSD has accepted, from a parser that drops comments and processing
    instructions: every child is an element, and an element without children holds text.
    Surrounding blanks go (numbers and dates are whitespace-collapsed in XSD); a value that
    is blank only becomes empty and is refused: FHIR strings cannot be blank. A wrapper of a
    repeated element becomes a list. Each element's name is read once, by its parent.
    """
    data: dict[str, Any] = {}
    for child in element:
        name = _carried_name(child.tag)
        if name is None:
            continue
        if not len(child):
            text = child.text
            data[name] = text.strip() if text else ""
        elif name in WRAPPERS:
            data[name] = [
                _element_data(item) if len(item) else (item.text or "").strip() for item in child
            ]
        else:
            data[name] = _element_data(child)
    return data


_RULES = {
    "SCHEMAV_CVC_PATTERN_VALID": "does not have the required format",
    "SCHEMAV_CVC_ENUMERATION_VALID": "is not a code of its code list",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "is too long",
    "SCHEMAV_CVC_MINLENGTH_VALID": "is empty",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "is below its minimum",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "is above its maximum",
    "SCHEMAV_CVC_TOTALDIGITS_VALID": "has too many digits",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "is not a valid value of its type",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": "misses a required element",
    "SCHEMAV_ELEMENT_CONTENT": "is not expected here",
    "SCHEMAV_CVC_ELT_1": "is not a known message",
}


def _path(raw: str | None) -> str:
    """An error path with namespace prefixes stripped; odd names become '?'."""
    parts = [p.split(":")[-1] for p in (raw or "").split("/") if p]
    return "/".join(p if _NAME.match(p) else "?" for p in parts) or "?"


def _schema_error(log: Any, message_id: str | None) -> AdapterError:
    errors = list(log)
    if any(_path(e.path).split("/")[-1] == "Bsn" for e in errors):
        return AdapterError(
            RejectReason.INVALID_BSN,
            "Client/Bsn is not a valid BSN (nine digits passing the elfproef)",
            message_id,
        )
    texts = []
    for error in errors[:3]:
        rule = _RULES.get(error.type_name, "violates the schema")
        expected = re.search(r"Expected is (?:one of )?\( ([^)]*) \)", error.message or "")
        if expected:
            names = [n.rsplit("}", 1)[-1] for n in expected.group(1).split(", ")]
            safe = [n for n in names if _NAME.match(n)]
            if safe:
                rule += "; expected " + " or ".join(safe)
        texts.append(f"{_path(error.path)} {rule}")
    return AdapterError(RejectReason.SCHEMA_INVALID, "; ".join(texts), message_id)


def _model_error(exc: ValidationError, message_id: str | None) -> AdapterError:
    errors = exc.errors(include_input=False, include_url=False)
    if any(e["loc"][-1:] == ("Bsn",) for e in errors):
        return AdapterError(RejectReason.INVALID_BSN, "Client/Bsn fails the elfproef", message_id)
    parts = [
        f"{'/'.join(str(p) for p in e['loc'] if isinstance(p, str))}: {e['msg']}"
        for e in errors[:3]
    ]
    return AdapterError(RejectReason.SCHEMA_INVALID, "; ".join(parts), message_id)


# ---- writing ------------------------------------------------------------------------------


def render(bericht: Bericht, message: IjwModel) -> bytes:
    """The model as iJw XML, checked against the message's XSD before it leaves the hub.

    Written as text and parsed once (one C call) rather than built element by element with
    ``etree.SubElement`` (~1.6 us each, two thirds of the cost); the parsed tree is what the
    XSD checks and what is serialised. A test holds the bytes to an element-by-element
    build's, over every golden example, the bench mix and text that needs escaping.
    """
    ns, prefix = bericht.namespace, bericht.prefix
    parts = [
        f'<{prefix}:Bericht xmlns:{prefix}="{ns}" xmlns:ijw="{BASIS_NS}"><{prefix}:Header>'
        f"<{prefix}:BerichtCode>{bericht.code}</{prefix}:BerichtCode>"
        f"<{prefix}:BerichtVersie>3</{prefix}:BerichtVersie>"
        f"<{prefix}:BerichtSubversie>2</{prefix}:BerichtSubversie>"
    ]
    values = message.__dict__  # pydantic keeps a model's field values here
    for name, alias in _fields(type(message)):
        value = values[name]
        if name == "header":
            _write(parts, value, prefix)
            parts.append(f"</{prefix}:Header>")
        elif isinstance(value, IjwModel):
            parts.append(f"<{prefix}:{alias}>")
            _write(parts, value, prefix)
            parts.append(f"</{prefix}:{alias}>")
    parts.append(f"</{prefix}:Bericht>")
    root = etree.fromstring("".join(parts).encode(), _parser())
    schema = schema_of(bericht)
    if not schema.validate(root.getroottree()):
        raise _schema_error(schema.error_log, None)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _text(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


_SPECIAL = re.compile(r"[&<>\r]")
_CARRIAGE_RETURN = {"\r": "&#13;"}
"""A carriage return as a character reference: a parser reads a literal one as a line feed."""


def _escaped(value: object) -> str:
    text = _text(value)
    return escape(text, _CARRIAGE_RETURN) if _SPECIAL.search(text) else text


@cache
def _fields(model: type[IjwModel]) -> tuple[tuple[str, str], ...]:
    """(field name, element name) of a model's fields, in order: read once per class."""
    return tuple((name, str(field.alias)) for name, field in model.model_fields.items())


def _write(parts: list[str], model: IjwModel, prefix: str) -> None:
    """The model's elements as XML text; a basisschema datatype's in the ``ijw`` namespace."""
    own = "ijw" if type(model).basis else prefix
    values = model.__dict__
    for name, alias in _fields(type(model)):
        value = values[name]
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            item = WRAPPERS[alias]
            parts.append(f"<{own}:{alias}>")
            for each in value:
                if isinstance(each, IjwModel):
                    parts.append(f"<{prefix}:{item}>")
                    _write(parts, each, prefix)
                    parts.append(f"</{prefix}:{item}>")
                else:
                    parts.append(f"<{prefix}:{item}>{_escaped(each)}</{prefix}:{item}>")
            parts.append(f"</{own}:{alias}>")
        elif isinstance(value, IjwModel):
            parts.append(f"<{own}:{alias}>")
            _write(parts, value, prefix)
            parts.append(f"</{own}:{alias}>")
        else:
            parts.append(f"<{own}:{alias}>{_escaped(value)}</{own}:{alias}>")


# ---- decode and encode --------------------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    """Which header element names the sending and the receiving party of a message.

    A retourbericht copies the header of the message it answers, so its sender is that
    message's Ontvanger and its addressee that message's Afzender.
    """

    sender_element: str
    sender_code: str
    recipient_element: str
    recipient_code: str


def parties(header: Header) -> Parties:
    if isinstance(header, RetourHeader):
        return Parties("Ontvanger", header.ontvanger, "Afzender", header.afzender)
    return Parties("Afzender", header.afzender, "Ontvanger", header.ontvanger)


def rigg_for(registry: PartnerRegistry, gemeentecode: str) -> Partner | None:
    """The one RIGG partner acting for a municipality; None when none or several do."""
    riggs = [p for p in registry.of_kind(PartnerKind.RIGG) if gemeentecode in p.municipality_codes]
    return riggs[0] if len(riggs) == 1 else None


def _check_sender(sides: Parties, sender: Partner, message_id: str) -> None:
    if len(sides.sender_code) == 8:
        ok, what = sender.agb == sides.sender_code, "the AGB code registered for"
    else:
        ok, what = sides.sender_code in sender.municipality_codes, "a municipality served by"
    if not ok:
        raise AdapterError(
            RejectReason.SENDER_MISMATCH,
            f"Header/{sides.sender_element} is not {what} the sending partner",
            message_id,
        )


def _recipient(sides: Parties, registry: PartnerRegistry, message_id: str) -> Partner:
    if len(sides.recipient_code) == 8:
        found = registry.by_agb(sides.recipient_code)
        recipient = found if found is not None and found.kind is PartnerKind.AANBIEDER else None
        what = "a youth-care provider known to the hub"
    else:
        recipient = rigg_for(registry, sides.recipient_code)
        what = "a municipality served by exactly one RIGG known to the hub"
    if recipient is None:
        raise AdapterError(
            RejectReason.UNKNOWN_RECIPIENT,
            f"Header/{sides.recipient_element} is not {what}",
            message_id,
        )
    return recipient


def decode(payload: bytes, ctx: DecodeContext, accepted: Iterable[Bericht]) -> Decoded:
    """iJw XML from a partner -> validated canonical Bundle and its routing facts."""
    bericht, message = parse(payload, accepted)
    header: Header = message.header  # type: ignore[attr-defined]
    message_id = partner_message_id(bericht, header)
    sides = parties(header)
    _check_sender(sides, ctx.sender, message_id)
    recipient = _recipient(sides, ctx.registry, message_id)
    bundle = fhir_ijw.to_bundle(
        message,
        bericht,
        hub_message_id=ctx.hub_message_id,
        sender_id=ctx.sender.id,
        recipient_id=recipient.id,
        partner_message_id=message_id,
        at=ctx.received_at,
    )
    # Proven valid for every message the iJw models accept: see adapters.registry.
    bsn, birth_date = _subject(message)
    facts = _facts(bericht, message)
    return Decoded(
        bundle=bundle,
        event=bericht.event,
        partner_message_id=message_id,
        child_bsn=bsn,
        recipient=recipient,
        child_birth_date=birth_date,
        facts=facts,
        aliases=_aliases(bericht, message),
        correlation_key=None if bsn else _correlation(bericht, message, facts),
    )


def _subject(message: IjwModel) -> tuple[str, date | None]:
    """The BSN (and birth date) of the child a message is about; "" when it names none.

    A JW323 may claim for several clients of several households: the first one keys it.
    """
    client = getattr(message, "client", None)
    if client is not None:
        birth = getattr(client, "geboortedatum", None)
        return client.bsn, birth.datum if birth is not None else None
    if isinstance(message, Jw323):
        return message.declaratie.clienten[0].bsn, None
    if isinstance(message, Jw325) and message.declaratie_antwoord is not None:
        clienten = message.declaratie_antwoord.clienten
        return (clienten[0].bsn, None) if clienten else ("", None)
    return "", None


def _correlation(bericht: Bericht, message: IjwModel, facts: RoutingFacts) -> str:
    """What keys a message that names no child: the provider's reference of the request
    (JW319, JW320), else the message it answers (a retour or JW325 without content)."""
    antwoord = getattr(message, "antwoord", None)
    header: Header = message.header  # type: ignore[attr-defined]
    if isinstance(antwoord, Antwoord):
        return _reference_key(header.ontvanger, antwoord.referentie_aanbieder)
    if isinstance(header, Jw325Header):  # its own header: the JW323 went the other way
        return f"bericht:{header.ontvanger}:{header.afzender}:{facts.related_partner_message_id}"
    return f"bericht:{header.afzender}:{header.ontvanger}:{facts.related_partner_message_id}"


def _reference_key(provider_agb: str, referentie: str) -> str:
    return f"referentie:{provider_agb}:{referentie}"


def _aliases(bericht: Bericht, message: IjwModel) -> tuple[str, ...]:
    """The keys its answers will carry, for a heenbericht: its own id and, for a request,
    the provider's references (a JW319 names only those)."""
    header: Header = message.header  # type: ignore[attr-defined]
    if bericht.answers is not None:
        return ()
    own = f"bericht:{header.afzender}:{header.ontvanger}:{partner_message_id(bericht, header)}"
    references: list[str] = []
    if isinstance(message, Jw315):
        references = [p.referentie_aanbieder for p in message.client.aangevraagde_producten]
    elif isinstance(message, Jw317):
        references = [message.client.verzoek.referentie_aanbieder]
    return (own, *(_reference_key(header.afzender, r) for r in references))


def _facts(bericht: Bericht, message: IjwModel) -> RoutingFacts:
    """Codes for the router: the GP and the kind of referrer behind a JW315, the message a
    retour or JW325 answers."""
    if isinstance(message, Jw315):
        gp = next(
            (
                p.verwijzer.zorgverlener_code
                for p in message.client.aangevraagde_producten
                if p.verwijzer.type is TypeVerwijzer.HUISARTS and p.verwijzer.zorgverlener_code
            ),
            None,
        )
        kinds = (p.verwijzer.type.value for p in message.client.aangevraagde_producten)
        return RoutingFacts(referrer_agb=gp, referrer_type=next(kinds, None))
    if isinstance(message, Jw319):
        return RoutingFacts(verzoek_antwoord=message.antwoord.verzoek_antwoord)
    answered = bericht.answers
    header = getattr(message, "header", None)
    if isinstance(header, Jw325Header):
        original = header.declaratie_identificatie.identificatie
        return RoutingFacts(related_partner_message_id=f"{Bericht.JW323.value}:{original}")
    if answered is not None and isinstance(header, RetourHeader):
        original = header.bericht_identificatie.identificatie
        return RoutingFacts(related_partner_message_id=f"{answered.value}:{original}")
    return RoutingFacts()


def encode(bundle: Mapping[str, Any], produced: Iterable[Bericht]) -> bytes:
    """A canonical Bundle -> the iJw XML a partner of this kind receives."""
    try:
        bericht, message = fhir_ijw.from_bundle(bundle)
    except fhir_ijw.IjwMappingError as exc:
        raise AdapterError(RejectReason.SCHEMA_INVALID, str(exc)) from None
    if bericht not in tuple(produced):
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"cannot receive {bericht.value}")
    return render(bericht, message)
