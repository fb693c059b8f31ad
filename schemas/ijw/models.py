"""Pydantic models of the iJw 3.2 messages the hub carries (the content it routes and keeps).

Field names are the iJw element names in snake case; their aliases are the element names
themselves, so ``adapters.ijw`` maps XML to models and back without a table per message.
Elements the hub validates but deliberately does not carry (``Commentaar``: free text) have
no field here; see ``schemas/ijw/README.md``.
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, model_validator
from pydantic.alias_generators import to_pascal

from schemas.base import PrivateModel
from schemas.bsn import Bsn

AgbCode = Annotated[str, Field(pattern=r"^[0-9]{8}$")]
Gemeentecode = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
Versie = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")]
Identificatie = Annotated[str, Field(min_length=1, max_length=12)]
Nummer = Annotated[int, Field(ge=0, le=999_999_999)]
RetourCode = Annotated[str, Field(pattern=r"^[0-9A-Z][0-9]{3}$")]
NO_REMARK = "0200"
"""WJ001 0200: geen opmerking over deze berichtklasse (accepted)."""


class IjwModel(PrivateModel):
    """Base of every iJw model: aliases are the iJw element names."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True)
    basis: ClassVar[bool] = False
    """True for the basisschema's composite datatypes (CDT_*): their children live in the
    basisschema namespace, not in the message's."""


# ---- code lists ---------------------------------------------------------------------------


class Geslacht(StrEnum):
    """COD046."""

    ONBEKEND = "0"
    MANNELIJK = "1"
    VROUWELIJK = "2"


class DatumGebruik(StrEnum):
    """COD170."""

    DAG_ONBEKEND = "1"
    DAG_EN_MAAND_ONBEKEND = "2"
    ONBEKEND = "3"


class NaamGebruik(StrEnum):
    """COD700."""

    EIGEN = "1"
    PARTNER = "2"
    PARTNER_EIGEN = "3"
    EIGEN_PARTNER = "4"
    PSEUDONIEM = "5"
    NIET_NATUURLIJK = "6"


class JaNee(StrEnum):
    """COD260."""

    JA = "1"
    NEE = "2"


class TypeVerwijzer(StrEnum):
    """COD327."""

    GEMEENTE = "01"
    HUISARTS = "02"
    JEUGDARTS = "03"
    GECERTIFICEERDE_INSTELLING = "04"
    MEDISCH_SPECIALIST = "05"
    ZELFVERWIJZER = "06"
    JUSTITIE = "08"


class Eenheid(StrEnum):
    """WJ756."""

    MINUUT = "01"
    UUR = "04"
    ETMAAL = "14"
    DAGDEEL = "16"
    STUKS_OUTPUT = "82"
    EUROS = "83"
    STUKS_INSPANNING = "84"


class Frequentie(StrEnum):
    """WMO757."""

    PER_DAG = "1"
    PER_WEEK = "2"
    PER_MAAND = "4"
    TOTAAL = "6"


class RedenWijziging(StrEnum):
    """JZ002."""

    VERVALLEN = "01"
    OVERLEDEN = "02"
    CONTRACTWIJZIGING = "03"
    VERLENGING = "04"
    VERKORTING = "05"
    ANDER_DOMEIN = "06"
    VERHUIZING = "07"
    LEVERINGSVORM = "08"
    ANDERE_AANBIEDER = "09"
    BEKOSTIGING = "10"
    HERINDELING = "11"
    DOOR_AANBIEDER = "12"
    VERWIJDERD = "13"
    ADMINISTRATIEVE_CORRECTIE = "14"


class RedenBeeindiging(StrEnum):
    """JZ588."""

    OVERLIJDEN = "02"
    TIJDELIJK = "20"
    VOLGENS_PLAN = "31"
    DOOR_CLIENT = "32"
    DOOR_AANBIEDER = "33"
    IN_OVERLEG = "34"
    EXTERNE_OORZAAK = "35"
    DOOR_GEMEENTE = "36"
    WIJZIGINGSVERZOEK = "37"
    ANDERE_AANBIEDER = "38"
    ANDER_DOMEIN = "39"


class StatusAanlevering(StrEnum):
    """COD467."""

    EERSTE = "1"
    GEWIJZIGD = "2"
    VERWIJDEREN = "3"
    NVT = "9"


class AdresSoort(StrEnum):
    """COD757."""

    BRP = "01"
    CORRESPONDENTIE = "02"
    VERBLIJF = "03"
    TIJDELIJK = "04"


class AanduidingWoonadres(StrEnum):
    """NUM061."""

    BIJ = "BY"
    TEGENOVER = "TO"


# ---- basisschema composite datatypes ------------------------------------------------------


class BerichtIdentificatie(IjwModel):
    basis = True
    identificatie: Identificatie
    dagtekening: date


class XsdVersie(IjwModel):
    basis = True
    basisschema_xsd_versie: Versie
    bericht_xsd_versie: Versie


class Geboortedatum(IjwModel):
    basis = True
    datum: date
    datum_gebruik: DatumGebruik | None = None


class Achternaam(IjwModel):
    basis = True
    achternaam: str = Field(min_length=1, max_length=200)
    voorvoegsel: str | None = Field(default=None, min_length=1, max_length=10)


class Naam(IjwModel):
    """CDT_VerkorteNaam; with ``partnernaam``/``naam_gebruik`` it is CDT_VolledigeNaam (JW301)."""

    basis = True
    geslachtsnaam: Achternaam
    partnernaam: Achternaam | None = None
    voornamen: str | None = Field(default=None, min_length=1, max_length=200)
    voorletters: str | None = Field(default=None, min_length=1, max_length=6)
    naam_gebruik: NaamGebruik | None = None


class Product(IjwModel):
    basis = True
    categorie: str = Field(pattern=r"^[0-9]{2}$", description="JZ020 productcategorie")
    code: str | None = Field(default=None, min_length=1, max_length=5)


class Omvang(IjwModel):
    basis = True
    volume: int = Field(ge=0, le=99_999_999)
    eenheid: Eenheid
    frequentie: Frequentie


class Verwijzer(IjwModel):
    basis = True
    type: TypeVerwijzer
    naam: str | None = Field(default=None, min_length=1, max_length=64)
    zorgverlener_code: AgbCode | None = None

    @model_validator(mode="after")
    def _naam_or_code(self) -> Verwijzer:
        if self.naam is not None and self.zorgverlener_code is not None:
            raise ValueError("Verwijzer has either Naam or ZorgverlenerCode, not both")
        return self


class Huis(IjwModel):
    basis = True
    huisnummer: int = Field(ge=0, le=99_999)
    huisletter: str | None = Field(default=None, min_length=1, max_length=1)
    huisnummer_toevoeging: str | None = Field(default=None, min_length=1, max_length=4)
    aanduiding_woonadres: AanduidingWoonadres | None = None


class Adres(IjwModel):
    basis = True
    huis: Huis | None = None
    postcode: str | None = Field(default=None, min_length=1, max_length=8)
    straatnaam: str | None = Field(default=None, min_length=1, max_length=24)
    plaatsnaam: str | None = Field(default=None, min_length=1, max_length=80)
    land_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Communicatie(IjwModel):
    """CDT_Communicatie: Vorm (COD747) and an optional Taal."""

    basis = True
    vorm: str = Field(pattern=r"^[123]$", description="COD747 communicatievorm")
    taal: str | None = Field(default=None, min_length=1, max_length=25)


class Telefoon(IjwModel):
    basis = True
    telefoonnummer: str = Field(pattern=r"^[0-9]{1,15}$")
    landnummer: str = Field(min_length=1, max_length=4)


class Telefoonnummers(IjwModel):
    basis = True
    telefoon01: Telefoon
    telefoon02: Telefoon | None = None


def _ends_after_start(start: date, end: date | None, end_name: str, start_name: str) -> None:
    """iJw's rule, and FHIR's (``per-1``) for the Period it becomes: no end before the start."""
    if end is not None and end < start:
        raise ValueError(f"{end_name} must not be before {start_name}")


class OpenPeriode(IjwModel):
    basis = True
    begindatum: date | None = None
    einddatum: date | None = None

    @model_validator(mode="after")
    def _period(self) -> OpenPeriode:
        if self.begindatum is not None:
            _ends_after_start(self.begindatum, self.einddatum, "einddatum", "begindatum")
        return self


class GeslotenPeriode(IjwModel):
    basis = True
    begindatum: date
    einddatum: date

    @model_validator(mode="after")
    def _period(self) -> GeslotenPeriode:
        _ends_after_start(self.begindatum, self.einddatum, "einddatum", "begindatum")
        return self


class BedragMetDC(IjwModel):
    """CDT_BedragMetDC: an amount in euro cents with COD043 debet (D) or credit (C)."""

    basis = True
    bedrag: int = Field(ge=0, le=99_999_999)
    debet_credit: str = Field(pattern=r"^[CD]$")


class TotaalBedragMetDC(IjwModel):
    basis = True
    totaal_bedrag: int = Field(ge=0, le=999_999_999_999)
    debet_credit: str = Field(pattern=r"^[CD]$")


class Referentie(IjwModel):
    """CDT_Referentie: the provider's reference of a prestatie, and the one it corrects."""

    basis = True
    referentie_nummer: str = Field(min_length=1, max_length=20)
    vorig_referentie_nummer: str | None = Field(default=None, min_length=1, max_length=20)


# ---- header -------------------------------------------------------------------------------


class Header(IjwModel):
    """Afzender/Ontvanger are an AGB code or a CBS gemeentecode, depending on the message.

    BerichtCode, BerichtVersie and BerichtSubversie are fixed per message and release: the
    XSD checks them and ``adapters.ijw`` writes them, so no field carries them.
    """

    afzender: str = Field(pattern=r"^[0-9]{4}([0-9]{4})?$")
    ontvanger: str = Field(pattern=r"^[0-9]{4}([0-9]{4})?$")
    bericht_identificatie: BerichtIdentificatie
    xsd_versie: XsdVersie


class RetourHeader(Header):
    """The header of a retourbericht: the answered message's header plus the retour's own."""

    identificatie_retour: Identificatie
    dagtekening_retour: date
    xslt_versie: Versie | None = None
    xsd_versie_retour: XsdVersie
    retour_codes: tuple[RetourCode, ...] = ()


class Jw325Header(Header):
    """The JW325 header: the municipality's own message, naming the declaration it answers."""

    declaratie_identificatie: BerichtIdentificatie
    xslt_versie: Versie | None = None
    xsd_versie_declaratie: XsdVersie
    retour_codes: tuple[RetourCode, ...] = Field(min_length=1)


class Client(IjwModel):
    bsn: Bsn
    geboortedatum: Geboortedatum
    geslacht: Geslacht
    naam: Naam


# ---- JW315 verzoek om toewijzing / JW316 retour -------------------------------------------


class AangevraagdProduct(IjwModel):
    referentie_aanbieder: str = Field(min_length=1, max_length=36)
    beschikking_nummer: Nummer | None = None
    product: Product | None = None
    beschikking_ingangsdatum: date | None = None
    toewijzing_ingangsdatum: date
    toewijzing_einddatum: date | None = None
    omvang: Omvang | None = None
    budget: int | None = Field(default=None, ge=0, le=99_999_999)
    verwijzer: Verwijzer
    raamcontract: JaNee | None = None
    retour_codes: tuple[RetourCode, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> AangevraagdProduct:
        _ends_after_start(self.toewijzing_ingangsdatum, self.toewijzing_einddatum,
                          "toewijzing_einddatum", "toewijzing_ingangsdatum")  # fmt: skip
        return self


class Jw315Client(Client):
    gezagsdrager_bekend: JaNee | None = None
    aangevraagde_producten: tuple[AangevraagdProduct, ...] = Field(min_length=1)
    retour_codes: tuple[RetourCode, ...] = ()


class Jw315(IjwModel):
    """Verzoek om toewijzing: a provider asks the municipality (RIGG) to assign care."""

    header: Header
    client: Jw315Client


class Jw316(IjwModel):
    """Retourbericht on a JW315: its content with a WJ001 retourcode per class.

    ``client`` is absent when the JW315 was refused as a whole (header retourcodes only).
    """

    header: RetourHeader
    client: Jw315Client | None = None


# ---- JW301 toewijzing / JW302 retour ------------------------------------------------------


class Contact(IjwModel):
    soort: AdresSoort
    adres: Adres | None = None
    organisatie: str | None = Field(default=None, min_length=1, max_length=35)
    telefoon: Telefoonnummers | None = None
    emailadres: str | None = Field(default=None, min_length=1, max_length=80)
    periode: OpenPeriode | None = None
    retour_codes: tuple[RetourCode, ...] = ()


class Relatie(IjwModel):
    """A person related to the client (a parent, a guardian): COD472 Soort."""

    nummer: str = Field(min_length=1, max_length=20)
    volgorde: int | None = Field(default=None, ge=0, le=99)
    soort: str = Field(pattern=r"^[0-9]{2}$", description="COD472 soort relatie")
    geboortedatum: Geboortedatum | None = None
    geslacht: Geslacht | None = None
    naam: Naam
    contact: Contact
    retour_codes: tuple[RetourCode, ...] = ()


class ToegewezenProduct(IjwModel):
    toewijzing_nummer: Nummer
    referentie_aanbieder: str | None = Field(default=None, min_length=1, max_length=36)
    product: Product | None = None
    toewijzingsdatum: date
    toewijzingstijd: time
    ingangsdatum: date
    einddatum: date | None = None
    reden_wijziging: RedenWijziging | None = None
    omvang: Omvang | None = None
    budget: int | None = Field(default=None, ge=0, le=99_999_999)
    retour_codes: tuple[RetourCode, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> ToegewezenProduct:
        _ends_after_start(self.ingangsdatum, self.einddatum, "einddatum", "ingangsdatum")
        return self


class Jw301Client(Client):
    communicatie: Communicatie | None = None
    juridische_status: str | None = Field(default=None, pattern=r"^[0-9]{2}$", description="WJ232")
    wettelijke_vertegenwoordiging: str | None = Field(
        default=None, pattern=r"^[0-9]{2}$", description="WJ003"
    )
    relaties: tuple[Relatie, ...] = ()
    contactgegevens: tuple[Contact, ...] = Field(min_length=1)
    toegewezen_producten: tuple[ToegewezenProduct, ...] = Field(min_length=1)
    retour_codes: tuple[RetourCode, ...] = ()


class Jw301(IjwModel):
    """Toewijzing: the municipality (RIGG) assigns youth care to a provider."""

    header: Header
    client: Jw301Client


class Jw302(IjwModel):
    """Retourbericht on a JW301: its content with a WJ001 retourcode per class."""

    header: RetourHeader
    client: Jw301Client | None = None


# ---- JW305 start zorg / JW307 stop zorg, and their retours JW306 / JW308 -----------------


class StartProduct(IjwModel):
    toewijzing_nummer: Nummer | None = None
    product: Product | None = None
    toewijzing_ingangsdatum: date | None = None
    begindatum: date
    status_aanlevering: StatusAanlevering
    retour_codes: tuple[RetourCode, ...] = ()


class Jw305Client(Client):
    start_producten: tuple[StartProduct, ...] = Field(min_length=1)
    retour_codes: tuple[RetourCode, ...] = ()


class Jw305(IjwModel):
    """Start zorg: the provider reports that delivery of care started."""

    header: Header
    client: Jw305Client


class Jw306(IjwModel):
    """Retourbericht on a JW305."""

    header: RetourHeader
    client: Jw305Client | None = None


class StopProduct(IjwModel):
    toewijzing_nummer: Nummer | None = None
    product: Product | None = None
    toewijzing_ingangsdatum: date | None = None
    begindatum: date
    reden_beeindiging: RedenBeeindiging
    einddatum: date
    status_aanlevering: StatusAanlevering
    retour_codes: tuple[RetourCode, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> StopProduct:
        _ends_after_start(self.begindatum, self.einddatum, "einddatum", "begindatum")
        return self


class Jw307Client(Client):
    stop_producten: tuple[StopProduct, ...] = Field(min_length=1)
    retour_codes: tuple[RetourCode, ...] = ()


class Jw307(IjwModel):
    """Stop zorg: the provider reports that delivery of care ended, and why."""

    header: Header
    client: Jw307Client


class Jw308(IjwModel):
    """Retourbericht on a JW307."""

    header: RetourHeader
    client: Jw307Client | None = None


# ---- JW317 verzoek om wijziging / JW318 retour --------------------------------------------


class OngewijzigdProduct(IjwModel):
    toewijzing_nummer: Nummer
    retour_codes: tuple[RetourCode, ...] = ()


class TeWijzigenProduct(IjwModel):
    toewijzing_nummer: Nummer
    gewenste_ingangsdatum: date
    einddatum: date | None = None
    omvang: Omvang | None = None
    budget: int | None = Field(default=None, ge=0, le=99_999_999)
    retour_codes: tuple[RetourCode, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> TeWijzigenProduct:
        _ends_after_start(
            self.gewenste_ingangsdatum, self.einddatum, "einddatum", "gewenste_ingangsdatum"
        )
        return self


class NieuwProduct(IjwModel):
    product: Product | None = None
    gewenste_ingangsdatum: date
    einddatum: date | None = None
    omvang: Omvang | None = None
    budget: int | None = Field(default=None, ge=0, le=99_999_999)
    retour_codes: tuple[RetourCode, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> NieuwProduct:
        _ends_after_start(
            self.gewenste_ingangsdatum, self.einddatum, "einddatum", "gewenste_ingangsdatum"
        )
        return self


class Verzoek(IjwModel):
    """What a provider asks to change: WJ758 RedenVerzoek, and the products as they should be."""

    referentie_aanbieder: str = Field(min_length=1, max_length=36)
    reden_verzoek: str = Field(pattern=r"^[12]$", description="WJ758")
    ongewijzigde_producten: tuple[OngewijzigdProduct, ...] = ()
    te_wijzigen_producten: tuple[TeWijzigenProduct, ...] = ()
    nieuwe_producten: tuple[NieuwProduct, ...] = ()
    retour_codes: tuple[RetourCode, ...] = ()


class Jw317Client(IjwModel):
    bsn: Bsn
    verzoek: Verzoek
    retour_codes: tuple[RetourCode, ...] = ()


class Jw317(IjwModel):
    """Verzoek om wijziging: a provider asks the municipality to change an assignment."""

    header: Header
    client: Jw317Client


class Jw318(IjwModel):
    """Retourbericht on a JW317."""

    header: RetourHeader
    client: Jw317Client | None = None


# ---- JW319 antwoordbericht / JW320 retour -------------------------------------------------


class Woonplaatsbeginsel(IjwModel):
    gemeente: Gemeentecode
    retour_codes: tuple[RetourCode, ...] = ()


class Antwoord(IjwModel):
    """The municipality's answer (WJ760) on a JW315 or JW317, named by its reference: 1 the
    request is refused (with a WJ759 reason, CD085), 2 it is being looked into (CD086: no
    reason). A granted request is answered with a JW301."""

    referentie_aanbieder: str = Field(min_length=1, max_length=36)
    verzoek_antwoord: str = Field(
        pattern=r"^[12]$", description="WJ760: 1 afgewezen, 2 in onderzoek"
    )
    reden_afwijzing_verzoek: str | None = Field(
        default=None, pattern=r"^[1-9]$", description="WJ759"
    )
    woonplaatsbeginsel: Woonplaatsbeginsel | None = None
    retour_codes: tuple[RetourCode, ...] = ()


class Jw319(IjwModel):
    """Antwoordbericht: the answer on a provider's request (JW315 or JW317)."""

    header: Header
    antwoord: Antwoord


class Jw320(IjwModel):
    """Retourbericht on a JW319."""

    header: RetourHeader
    antwoord: Antwoord | None = None


# ---- JW323 declaratie / JW325 declaratie-antwoord -----------------------------------------


class Prestatie(IjwModel):
    product_referentie: Referentie
    toewijzing_nummer: Nummer
    product_categorie: str = Field(pattern=r"^[0-9]{2}$", description="JZ020")
    product_code: str = Field(min_length=1, max_length=5)
    product_periode: GeslotenPeriode
    geleverd_volume: int = Field(ge=0, le=99_999_999)
    eenheid: Eenheid
    product_tarief: int | None = Field(default=None, ge=0, le=99_999_999)
    ingediend_bedrag: BedragMetDC
    retour_codes: tuple[RetourCode, ...] = ()


class DeclaratieClient(IjwModel):
    bsn: Bsn
    prestaties: tuple[Prestatie, ...] = Field(min_length=1)
    retour_codes: tuple[RetourCode, ...] = ()


class Declaratie(IjwModel):
    declaratie_nummer: str = Field(pattern=r"^[a-zA-Z0-9]{1,12}$")
    declaratie_periode: GeslotenPeriode
    declaratie_dagtekening: date
    totaal_ingediend_bedrag: TotaalBedragMetDC
    clienten: tuple[DeclaratieClient, ...] = Field(min_length=1)


class Jw323(IjwModel):
    """Declaratie: a provider's claim for care delivered, one or more clients."""

    header: Header
    declaratie: Declaratie


class DeclaratieAntwoord(IjwModel):
    declaratie_nummer: str = Field(min_length=1, max_length=12)
    totaal_ingediend_bedrag: TotaalBedragMetDC
    totaal_toegekend_bedrag: TotaalBedragMetDC
    clienten: tuple[DeclaratieClient, ...] = ()
    retour_codes: tuple[RetourCode, ...] = ()


class Jw325(IjwModel):
    """Declaratie-antwoord: the municipality's answer on a JW323, with WJ001 codes."""

    header: Jw325Header
    declaratie_antwoord: DeclaratieAntwoord | None = None


IjwMessage = (
    Jw301
    | Jw302
    | Jw305
    | Jw306
    | Jw307
    | Jw308
    | Jw315
    | Jw316
    | Jw317
    | Jw318
    | Jw319
    | Jw320
    | Jw323
    | Jw325
)
"""Any supported iJw message; ``model_of`` gives the class of each ``Bericht``."""


def model_of(bericht: str) -> type[IjwModel]:
    """The model class of a ``schemas.ijw.Bericht``."""
    return _MODELS[bericht]


_MODELS: dict[str, type[IjwModel]] = {
    "JW301": Jw301,
    "JW302": Jw302,
    "JW305": Jw305,
    "JW306": Jw306,
    "JW307": Jw307,
    "JW308": Jw308,
    "JW315": Jw315,
    "JW316": Jw316,
    "JW317": Jw317,
    "JW318": Jw318,
    "JW319": Jw319,
    "JW320": Jw320,
    "JW323": Jw323,
    "JW325": Jw325,
}
