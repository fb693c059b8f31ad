"""The iJw 3.2 subset: XSDs, golden examples, safe parsing and privacy-safe rejections."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from adapters import ijw
from adapters.base import AdapterError
from hub.tools.bench_inprocess import bench_context
from hub.tools.bench_mix import BenchMix
from schemas.codes import RejectReason
from schemas.ijw import BASIS_NS, XSD_DIR, Bericht
from schemas.ijw.models import (
    IjwModel,
    Jw301,
    Jw302,
    Jw305,
    Jw307,
    Jw315,
    Jw316,
    Jw317,
    Jw318,
    Jw319,
    Jw320,
    Jw323,
    Jw325,
    RedenBeeindiging,
    TypeVerwijzer,
    Verwijzer,
    model_of,
)
from tests.adapters.ijw_cases import (
    BSN,
    PERSONAL,
    billion_laughs,
    golden,
    oversized,
    plain_doctype,
    xxe,
)

ALL = tuple(Bericht)


def _error(payload: bytes, accepted: tuple[Bericht, ...] = ALL) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        ijw.parse(payload, accepted)
    for value in PERSONAL:
        assert value not in caught.value.message
        assert value not in str(caught.value)
    return caught.value


def test_every_xsd_compiles_and_imports_the_basisschema() -> None:
    for bericht in Bericht:
        assert bericht.xsd.parent == XSD_DIR
        schema = ijw.schema_of(bericht)
        assert isinstance(schema, etree.XMLSchema)
    assert (XSD_DIR / "basisschema.xsd").exists()
    assert (XSD_DIR / "README.md").read_text().count("3.2") >= 1


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_the_fast_local_name_is_lxmls_own(bericht: Bericht) -> None:
    elements = [*etree.fromstring(golden(bericht.value)).iter(), etree.Element("Plain")]
    for element in elements:
        local = etree.QName(element).localname
        expected = None if local in ijw.NOT_CARRIED else local
        assert ijw._carried_name(element.tag) == expected


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_golden_example_is_valid_against_its_xsd(bericht: Bericht) -> None:
    tree = etree.fromstring(golden(bericht.value)).getroottree()
    assert ijw.schema_of(bericht).validate(tree), ijw.schema_of(bericht).error_log
    root = tree.getroot()
    assert etree.QName(root).namespace == bericht.namespace
    code = root.find(f"{{{bericht.namespace}}}Header/{{{bericht.namespace}}}BerichtCode")
    assert code is not None and code.text == str(bericht.code)


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_golden_example_parses_into_its_model(bericht: Bericht) -> None:
    parsed_as, message = ijw.parse(golden(bericht.value), ALL)
    assert parsed_as is bericht
    assert isinstance(message, model_of(bericht.value))
    if isinstance(message, Jw319 | Jw320):
        assert message.antwoord is not None
        assert message.antwoord.referentie_aanbieder == "NL-VOW-2027-0007"
    elif isinstance(message, Jw323):
        assert message.declaratie.clienten[0].bsn == BSN
    elif isinstance(message, Jw325):
        assert message.declaratie_antwoord is not None
        assert message.declaratie_antwoord.declaratie_nummer == "DECL2027001"
        assert message.declaratie_antwoord.clienten == ()  # all accepted (TR342)
    elif isinstance(message, Jw317 | Jw318):
        assert message.client is not None and message.client.bsn == BSN
    else:
        client = message.client  # type: ignore[attr-defined]
        assert client.bsn == BSN
        assert client.geboortedatum.datum == date(2014, 3, 2)


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_render_is_the_inverse_of_parse(bericht: Bericht) -> None:
    _, message = ijw.parse(golden(bericht.value), ALL)
    rendered = ijw.render(bericht, message)
    assert rendered.startswith(b"<?xml")
    assert ijw.parse(rendered, ALL) == (bericht, message)


def test_golden_content() -> None:
    _, jw315 = ijw.parse(golden("JW315"), ALL)
    assert isinstance(jw315, Jw315)
    (product,) = jw315.client.aangevraagde_producten
    assert product.verwijzer.type is TypeVerwijzer.HUISARTS
    assert product.verwijzer.zorgverlener_code == "01000001"
    assert jw315.header.afzender == "73000001" and jw315.header.ontvanger == "0014"
    _, jw301 = ijw.parse(golden("JW301"), ALL)
    assert isinstance(jw301, Jw301)
    assert jw301.client.toegewezen_producten[0].referentie_aanbieder == product.referentie_aanbieder
    _, jw307 = ijw.parse(golden("JW307"), ALL)
    assert isinstance(jw307, Jw307)
    assert jw307.client.stop_producten[0].reden_beeindiging is RedenBeeindiging.VOLGENS_PLAN
    _, jw302 = ijw.parse(golden("JW302"), ALL)
    _, jw316 = ijw.parse(golden("JW316"), ALL)
    assert isinstance(jw302, Jw302) and isinstance(jw316, Jw316)
    assert jw302.header.bericht_identificatie == jw301.header.bericht_identificatie
    assert jw316.header.bericht_identificatie == jw315.header.bericht_identificatie
    _, jw305 = ijw.parse(golden("JW305"), ALL)
    assert isinstance(jw305, Jw305)


def test_commentaar_is_validated_but_not_carried() -> None:
    payload = golden("JW315").replace(
        b"<jw315:AangevraagdeProducten>",
        b"<jw315:Commentaar>Moeder belt liever na 17 uur.</jw315:Commentaar>\n"
        b"    <jw315:AangevraagdeProducten>",
    )
    _, message = ijw.parse(payload, ALL)
    assert b"Moeder" not in ijw.render(Bericht.JW315, message)
    empty = payload.replace(b"Moeder belt liever na 17 uur.", b"   ")
    assert _error(empty).code is RejectReason.SCHEMA_INVALID


def _swap(bericht: str, old: bytes, new: bytes) -> bytes:
    payload = golden(bericht)
    assert old in payload, old
    return payload.replace(old, new, 1)


BAD_CASES = [
    # (id, payload, code, text the message must contain)
    ("bsn-elfproef", _swap("JW315", BSN.encode(), b"999990018"), RejectReason.INVALID_BSN, "Bsn"),
    ("bsn-8-digits", _swap("JW305", BSN.encode(), b"99999001"), RejectReason.INVALID_BSN, "Bsn"),
    ("bsn-letters", _swap("JW301", BSN.encode(), b"99999001X"), RejectReason.INVALID_BSN, "Bsn"),
    (
        "code-list",
        _swap("JW315", b"<ijw:Eenheid>04</ijw:Eenheid>", b"<ijw:Eenheid>99</ijw:Eenheid>"),
        RejectReason.SCHEMA_INVALID,
        "Omvang/Eenheid is not a code of its code list",
    ),
    (
        "reden-beeindiging",
        _swap("JW307", b">31<", b">30<"),
        RejectReason.SCHEMA_INVALID,
        "RedenBeeindiging",
    ),
    (
        "missing-element",
        _swap("JW305", b"<jw305:Geslacht>2</jw305:Geslacht>", b""),
        RejectReason.SCHEMA_INVALID,
        "expected Geslacht",
    ),
    (
        "unknown-element",
        _swap("JW301", b"<jw301:Contactgegevens>", b"<jw301:Ouders/><jw301:Contactgegevens>"),
        RejectReason.SCHEMA_INVALID,
        "Ouders is not expected here",
    ),
    (
        "bad-date",
        _swap("JW315", b"2026-12-07", b"2026-13-07"),
        RejectReason.SCHEMA_INVALID,
        "ToewijzingIngangsdatum",
    ),
    (
        "date-with-zone",
        _swap("JW305", b"<jw305:Begindatum>2026-12-09", b"<jw305:Begindatum>2026-12-09Z"),
        RejectReason.SCHEMA_INVALID,
        "Begindatum",
    ),
    (
        "bericht-code",
        _swap("JW305", b">438<", b">439<"),
        RejectReason.SCHEMA_INVALID,
        "BerichtCode",
    ),
    (
        "agb-format",
        _swap("JW315", b"<jw315:Afzender>73000001", b"<jw315:Afzender>7300001"),
        RejectReason.SCHEMA_INVALID,
        "Afzender does not have the required format",
    ),
    (
        "identificatie-too-long",
        _swap("JW315", b"NL2026000042", b"NL20260000420"),
        RejectReason.SCHEMA_INVALID,
        "Identificatie is too long",
    ),
    (
        "verwijzer-naam-and-code",
        _swap(
            "JW315",
            b"<ijw:ZorgverlenerCode>",
            b"<ijw:Naam>Dokter Proef</ijw:Naam><ijw:ZorgverlenerCode>",
        ),
        RejectReason.RULE_VIOLATION,
        "CD066: Client/AangevraagdeProducten/AangevraagdProduct[1]/Verwijzer/Naam",
    ),
    ("not-xml", b'{"type": "verwijzing"}', RejectReason.MALFORMED, "well-formed"),
    ("empty", b"", RejectReason.MALFORMED, "payload is empty"),
    ("truncated", golden("JW315")[:400], RejectReason.MALFORMED, "well-formed"),
    ("undeclared-entity", _swap("JW315", b"Proefpersoon", b"&xxe;"), RejectReason.MALFORMED, ""),
    (
        "utf-16",
        golden("JW315").decode().replace("UTF-8", "UTF-16").encode("utf-16"),
        RejectReason.MALFORMED,
        "UTF-8",
    ),
    ("xxe", xxe(golden("JW315")), RejectReason.XML_UNSAFE, "DOCTYPE"),
    ("billion-laughs", billion_laughs(), RejectReason.XML_UNSAFE, "ENTITY"),
    ("doctype", plain_doctype(golden("JW301")), RejectReason.XML_UNSAFE, "DOCTYPE"),
    ("oversized", oversized(golden("JW315")), RejectReason.PAYLOAD_TOO_LARGE, "bytes"),
    ("wrong-root", b"<Bericht/>", RejectReason.UNSUPPORTED_TYPE, "jw315:Bericht"),
    (
        "wrong-root-name",
        _swap("JW315", b"<jw315:Bericht ", b"<jw315:Verzoek ").replace(
            b"</jw315:Bericht>", b"</jw315:Verzoek>"
        ),
        RejectReason.UNSUPPORTED_TYPE,
        "root element",
    ),
    (
        "other-release",
        golden("JW315").replace(b"/ijw/3_2/jw315/", b"/ijw/3_1/jw315/"),
        RejectReason.UNSUPPORTED_TYPE,
        "root element",
    ),
]


@pytest.mark.parametrize(
    ("payload", "code", "text"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_input_is_rejected_with_its_own_code(
    payload: bytes, code: RejectReason, text: str
) -> None:
    error = _error(payload)
    assert error.code is code, error.message
    assert text in error.message


def test_schema_errors_name_the_message_but_no_values() -> None:
    error = _error(_swap("JW315", b"<ijw:Volume>2</ijw:Volume>", b"<ijw:Volume>-7</ijw:Volume>"))
    assert error.code is RejectReason.SCHEMA_INVALID
    assert error.partner_message_id == "JW315:NL2026000042"
    assert "-7" not in error.message


def test_an_insane_message_id_is_not_echoed() -> None:
    error = _error(_swap("JW315", b"NL2026000042", b"NL 2026\t042").replace(BSN.encode(), b"1"))
    assert error.partner_message_id is None


def test_a_message_of_another_direction_is_unsupported() -> None:
    error = _error(golden("JW301"), (Bericht.JW315, Bericht.JW305))
    assert error.code is RejectReason.UNSUPPORTED_TYPE
    assert "jw315:Bericht, jw305:Bericht" in error.message


def test_entities_are_never_resolved_even_past_the_prescreen() -> None:
    """Belt and braces: the parser itself neither loads DTDs nor resolves entities."""
    payload = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]><r>&e;</r>'
    root = etree.fromstring(payload, ijw._parser())
    text = [str(part) for part in root.itertext()]
    assert text == ["&e;"], "the entity stays an unresolved reference"


def test_the_model_takes_a_verwijzer_the_xsd_takes() -> None:
    """Naam and ZorgverlenerCode together is a rule (CD066), judged in ``rules``."""
    verwijzer = Verwijzer(type=TypeVerwijzer.HUISARTS, naam="x", zorgverlener_code="01000001")
    assert verwijzer.naam == "x"


def test_render_refuses_a_model_its_xsd_rejects() -> None:
    _, message = ijw.parse(golden("JW301"), ALL)
    assert isinstance(message, Jw301)
    bad = message.model_copy(
        update={"header": message.header.model_copy(update={"afzender": "73000001"})}
    )
    with pytest.raises(AdapterError) as caught:
        ijw.render(Bericht.JW301, bad)
    assert caught.value.code is RejectReason.SCHEMA_INVALID
    assert "Afzender" in caught.value.message


def test_rendered_xml_uses_the_basisschema_namespace_for_composite_types() -> None:
    _, message = ijw.parse(golden("JW305"), ALL)
    root = etree.fromstring(ijw.render(Bericht.JW305, message))
    assert root.find(f".//{{{BASIS_NS}}}Identificatie") is not None
    assert root.find(f".//{{{Bericht.JW305.namespace}}}Bsn") is not None


def _built(bericht: Bericht, message: IjwModel) -> bytes:
    """``render``'s bytes the plain way: each element built with ``etree.SubElement``."""
    ns = bericht.namespace
    root = etree.Element(f"{{{ns}}}Bericht", nsmap={bericht.prefix: ns, "ijw": BASIS_NS})
    header = etree.SubElement(root, f"{{{ns}}}Header")
    for name, value in (("BerichtCode", bericht.code), ("BerichtVersie", 3),
                        ("BerichtSubversie", 2)):  # fmt: skip
        etree.SubElement(header, f"{{{ns}}}{name}").text = str(value)

    def write(parent: etree._Element, model: IjwModel) -> None:
        child_ns = BASIS_NS if type(model).basis else ns
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if value is None or value == ():
                continue
            element = etree.SubElement(parent, f"{{{child_ns}}}{field.alias}")
            if isinstance(value, tuple):
                for item in value:
                    sub = etree.SubElement(element, f"{{{ns}}}{ijw.WRAPPERS[str(field.alias)]}")
                    if isinstance(item, IjwModel):
                        write(sub, item)
                    else:
                        sub.text = ijw._text(item)
            elif isinstance(value, IjwModel):
                write(element, value)
            else:
                element.text = ijw._text(value)

    for name, field in type(message).model_fields.items():
        value = getattr(message, name)
        if name == "header":
            write(header, value)
        elif isinstance(value, IjwModel):
            write(etree.SubElement(root, f"{{{ns}}}{field.alias}"), value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _with_text(model: IjwModel, fields: frozenset[str], text: str) -> IjwModel:
    """The model with ``text`` in every field of those names, at any depth."""
    update: dict[str, object] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in fields and isinstance(value, str):
            update[name] = text
        elif isinstance(value, IjwModel):
            update[name] = _with_text(value, fields, text)
        elif isinstance(value, tuple) and value and isinstance(value[0], IjwModel):
            update[name] = tuple(_with_text(v, fields, text) for v in value)
    return model.model_copy(update=update)


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_render_writes_the_bytes_an_element_by_element_build_does(bericht: Bericht) -> None:
    _, message = ijw.parse(golden(bericht.value), ALL)
    assert ijw.render(bericht, message) == _built(bericht, message)


def test_render_escapes_what_xml_text_must_not_hold_as_it_is() -> None:
    _, message = ijw.parse(golden("JW301"), ALL)
    text = 'O\'Brien & <Zn> "B"\te\u0301é ]]> &amp;'  # the XSD's names take no line break
    odd = _with_text(message, frozenset({"achternaam", "voornamen"}), text)
    assert odd != message, "the golden JW301 names someone"
    rendered = ijw.render(Bericht.JW301, odd)
    assert rendered == _built(Bericht.JW301, odd)
    assert b"&amp;amp;" in rendered and b"&lt;Zn&gt;" in rendered
    assert ijw.parse(rendered, ALL) == (Bericht.JW301, odd)


def test_render_writes_the_bench_mix_s_ijw_as_an_element_by_element_build_does() -> None:
    ctx = bench_context()
    rendered = 0
    for message in BenchMix(ctx.registry).messages(600):
        if message.payload.lstrip().startswith(b"<"):
            bericht, model = ijw.parse(message.payload, ALL)
            assert ijw.render(bericht, model) == _built(bericht, model)
            rendered += 1
    assert rendered > 30


@given(
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n\r&<>")
    )
)
def test_escaped_text_reads_back_as_itself(text: str) -> None:
    root = etree.fromstring(f"<a>{ijw._escaped(text)}</a>".encode(), ijw._parser())
    assert (root.text or "") == text
