"""The partner registry: loading, uniqueness, lookups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.registry import load_adapters
from hub.settings import DEFAULTS
from schemas.partners import Partner, PartnerKind, PartnerRegistry


def _partner(
    id: str, kind: str = "huisarts", agb: str | None = None, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": id, "kind": kind, "name": id.title(), **extra}
    if agb is not None:
        data["agb"] = agb
    return data


def test_default_registry_loads_with_gps_and_providers() -> None:
    registry = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
    gps = registry.of_kind(PartnerKind.HUISARTS)
    providers = registry.of_kind(PartnerKind.AANBIEDER)
    assert {p.id for p in gps} >= {"huisarts-wijert"}
    assert {p.id for p in providers} >= {"aanbieder-noorderlicht"}
    assert all(p.kind is PartnerKind.HUISARTS for p in gps)
    assert all(p.kind is PartnerKind.AANBIEDER for p in providers)
    assert len(gps) + len(providers) <= len(registry.partners)


IDENTIFIED_BY = {
    PartnerKind.HUISARTS: "agb",
    PartnerKind.AANBIEDER: "agb",
    PartnerKind.OJG: "code",
    PartnerKind.SCHOOL: "brin",
    PartnerKind.VEILIGHEIDSHUIS: "code",
    PartnerKind.WIJ: "code",
}


def test_default_partners_have_their_identifier_and_a_known_adapter() -> None:
    registry = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
    installed = set(load_adapters().adapters)
    for partner in registry.partners:
        assert partner.adapter_name in installed, partner.id
        if partner.kind in IDENTIFIED_BY:
            value = getattr(partner, IDENTIFIED_BY[partner.kind])
            assert value is not None, partner.id
            assert value in partner.sender_codes()


def test_default_registry_has_the_social_domain_chain() -> None:
    registry = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
    for kind in (PartnerKind.OJG, PartnerKind.VEILIGHEIDSHUIS):
        assert len(registry.of_kind(kind)) >= 1
    assert len(registry.of_kind(PartnerKind.SCHOOL)) >= 2
    wij = registry.of_kind(PartnerKind.WIJ)
    wij_areas = [p.area for p in wij]
    assert len(set(wij_areas)) == len(wij_areas), "one WIJ team per area"
    gp_areas = {p.area for p in registry.of_kind(PartnerKind.HUISARTS)}
    assert gp_areas <= set(wij_areas), "every GP area has its WIJ team"
    direct = registry.get("aanbieder-hoogkerk-direct")
    assert direct is not None
    assert direct.kind is PartnerKind.AANBIEDER
    assert direct.area == "west"
    for partner in (*wij, *registry.of_kind(PartnerKind.SCHOOL), direct):
        assert partner.contact, partner.id


def test_sender_codes_are_whichever_identifiers_are_set() -> None:
    gp = Partner.model_validate(_partner("huisarts-a", agb="01000009"))
    school = Partner.model_validate(_partner("school-a", "school", brin="12AB"))
    wij = Partner.model_validate(_partner("wij-a", "wij", code="WIJ-A"))
    both = Partner.model_validate(_partner("ojg-a", "ojg", agb="01000010", code="OJG-A"))
    assert gp.sender_codes() == {"01000009"}
    assert school.sender_codes() == {"12AB"}
    assert wij.sender_codes() == {"WIJ-A"}
    assert both.sender_codes() == {"01000010", "OJG-A"}
    assert Partner.model_validate(_partner("rigg-a", "rigg")).sender_codes() == frozenset()


@pytest.mark.parametrize("brin", ["1AB", "12ABC", "AB12", "12ab", ""])
def test_bad_brin_is_rejected(brin: str) -> None:
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner("school-a", "school", brin=brin))


@pytest.mark.parametrize("code", ["wij-zuid", "-WIJ", "W", "WIJ ZUID", "X" * 33])
def test_bad_organisation_code_is_rejected(code: str) -> None:
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner("wij-a", "wij", code=code))


def test_duplicate_brin_or_code_is_rejected() -> None:
    with pytest.raises(ValidationError, match="organisation codes must be unique"):
        PartnerRegistry.model_validate(
            {
                "partners": [
                    _partner("wij-a", "wij", code="WIJ-A"),
                    _partner("ojg-a", "ojg", code="WIJ-A"),
                ]
            }
        )
    with pytest.raises(ValidationError, match="BRIN numbers"):
        PartnerRegistry.model_validate(
            {
                "partners": [
                    _partner("school-a", "school", brin="12AB"),
                    _partner("school-b", "school", brin="12AB"),
                ]
            }
        )


def test_by_agb_and_get(registry: PartnerRegistry) -> None:
    wijert = registry.by_agb("01000001")
    assert wijert is not None
    assert wijert.id == "huisarts-wijert"
    assert registry.get("huisarts-wijert") == wijert
    noorderlicht = registry.by_agb("73000001")
    assert noorderlicht is not None
    assert noorderlicht.id == "aanbieder-noorderlicht"
    assert registry.by_agb("99999999") is None
    assert registry.get("nobody") is None


def test_of_kind_with_no_partners_is_empty() -> None:
    registry = PartnerRegistry.model_validate({"partners": [_partner("huisarts-a")]})
    assert registry.of_kind(PartnerKind.VEILIGHEIDSHUIS) == ()


def test_by_agb_ignores_partners_without_agb() -> None:
    registry = PartnerRegistry.model_validate(
        {"partners": [_partner("school-een", "school"), _partner("huisarts-a", agb="01000009")]}
    )
    assert registry.by_agb("01000009") is not None
    school = registry.get("school-een")
    assert school is not None
    assert school.agb is None


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="partner ids must be unique"):
        PartnerRegistry.model_validate(
            {"partners": [_partner("huisarts-a", agb="01000001"), _partner("huisarts-a")]}
        )


def test_duplicate_agbs_are_rejected() -> None:
    with pytest.raises(ValidationError, match="AGB codes must be unique"):
        PartnerRegistry.model_validate(
            {
                "partners": [
                    _partner("huisarts-a", agb="01000001"),
                    _partner("aanbieder-b", "aanbieder", agb="01000001"),
                ]
            }
        )


def test_several_partners_without_agb_are_fine() -> None:
    registry = PartnerRegistry.model_validate(
        {"partners": [_partner("school-a", "school"), _partner("school-b", "school")]}
    )
    assert len(registry.of_kind(PartnerKind.SCHOOL)) == 2


@pytest.mark.parametrize(
    "bad_id",
    ["Huisarts-a", "a", "-huisarts", "huisarts_a", "huisarts.a", "huisarts a", "x" * 64, ""],
)
def test_bad_partner_ids_are_rejected(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner(bad_id))


@pytest.mark.parametrize("good_id", ["ab", "0a", "huisarts-wijert", "a" * 63])
def test_good_partner_ids_are_accepted(good_id: str) -> None:
    assert Partner.model_validate(_partner(good_id)).id == good_id


@pytest.mark.parametrize("bad_agb", ["0100000", "010000011", "0100000a", ""])
def test_bad_agb_is_rejected(bad_agb: str) -> None:
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner("huisarts-a", agb=bad_agb))


def test_unknown_kind_and_extra_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner("tandarts-a", "tandarts"))
    with pytest.raises(ValidationError):
        Partner.model_validate(_partner("huisarts-a", email="x@example.org"))


def test_adapter_name_defaults_to_kind() -> None:
    assert Partner.model_validate(_partner("huisarts-a")).adapter_name == "huisarts"
    custom = Partner.model_validate(_partner("huisarts-a", adapter="edifact"))
    assert custom.adapter_name == "edifact"


def test_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text(
        '[[partner]]\nid = "huisarts-x"\nkind = "huisarts"\nname = "X"\nagb = "01000099"\n'
    )
    registry = PartnerRegistry.from_toml(path)
    assert [p.id for p in registry.partners] == ["huisarts-x"]


def test_from_toml_rejects_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    entry = '[[partner]]\nid = "huisarts-x"\nkind = "huisarts"\nname = "X"\n'
    path.write_text(entry + entry)
    with pytest.raises(ValidationError):
        PartnerRegistry.from_toml(path)


def test_empty_toml_gives_an_empty_registry(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text("")
    assert PartnerRegistry.from_toml(path).partners == ()


def test_a_partner_goes_by_exactly_its_sender_codes() -> None:
    for partner in PartnerRegistry.from_toml(DEFAULTS / "partners.toml").partners:
        for identifier in (
            *partner.sender_codes(),
            "",
            "00000000",
            "nobody",
            *partner.municipality_codes,
        ):
            assert partner.goes_by(identifier) == (identifier in partner.sender_codes()), identifier
