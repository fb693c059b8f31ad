"""The iJw 3.2 rules that can be judged inside one message, checked at ingest.

The XSD judges structure, datatypes, the restrictions (RS) and the code lists; this module
judges what the XSD cannot: conditions (CD: an element required or forbidden depending on
another), constraints (CS) and the technical rules the standard checks per message (TR, the
"xslt" rules). Rules that need another message or the history of a client (the
"berichtoverstijgende" TR rules) or data from outside (external lists) are not checked here;
``schemas/ijw/README.md`` lists every rule with its status.

A violation names the element path and the rule code, never a value of the message.
Retourberichten are judged on the order of their periods only: they echo what the other side
sent, and the other rules are the heenbericht's sender's to keep.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from schemas.ijw.models import (
    AangevraagdProduct,
    Contact,
    Geboortedatum,
    IjwModel,
    Jw301,
    Jw302,
    Jw305,
    Jw306,
    Jw307,
    Jw308,
    Jw315,
    Jw316,
    Jw317,
    Jw318,
    Jw319,
    Jw323,
    Jw325,
    Naam,
    NieuwProduct,
    Omvang,
    Prestatie,
    StartProduct,
    StopProduct,
    TeWijzigenProduct,
    ToegewezenProduct,
)

CUTOFF = date(2020, 12, 31)
"""CD080, CD095, CD096, CS338, CS343: products ending after 2020 follow the 3.x rules."""
PERIOD_UNITS = frozenset({"14", "16", "83", "84"})
"""WJ756 units that need a Frequentie per week, month or in total (CS338, CS343)."""
PERIOD_FREQUENCIES = frozenset({"2", "4", "6"})
CHECKED: dict[str, str] = {
    "CS050": "NaamGebruik fits Partnernaam (1-4 with a partner name, else 1 or 6)",
    "CS318": "a client's NaamGebruik is not 6 (niet-natuurlijk persoon)",
    "CD007": "Communicatie/Taal given exactly when Vorm is 1 (tolk)",
    "CD005": "Adres/LandCode given exactly when Postcode is",
    "CD025": "Adres/Huis given when LandCode is NL",
    "CD034": "Adres/Postcode given for a BRP (01) or verblijf (03) address",
    "CS089": "a Dutch Postcode has the Dutch format (1234AB)",
    "CD009": "Contact/Periode only for a temporary address (Soort 04)",
    "CS003": "an end date is not before its start date",
    "TR002": "a birth date lies at most 120 years before the Dagtekening",
    "CS139": "DatumGebruik fits the Datum (IV009: unknown day and month 01, year 1900)",
    "TR006": "a Contact holds a Telefoon, or Huis and Postcode",
    "TR061": "a client has an address of Soort 01, 02 or 03",
    "TR101": "no two identical lines in one message",
    "CD041": "Omvang given when Product/Code is",
    "CD043": "BeschikkingIngangsdatum given exactly when BeschikkingNummer is",
    "CD066": "a Verwijzer of type 02-05 with a ZorgverlenerCode has no Naam",
    "CD067": "a Verwijzer of type 02-05 without ZorgverlenerCode has a Naam",
    "CD068": "a Verwijzer of another type has no ZorgverlenerCode",
    "CD075": "an end date given when Budget is",
    "CD076": "an end date given when Frequentie is 2",
    "CD077": "no Omvang when Budget is given",
    "CD078": "no Budget when Omvang is given",
    "CD079": "Product given when Budget is not",
    "CD080": "no Omvang without Product/Code for a product ending after 2020 or open-ended",
    "CD095": "no Omvang without Product/Code for a request ending after 2020 or open-ended",
    "CD096": "no Omvang without Product/Code for a new product ending after 2020 or open-ended",
    "CS338": "Eenheid 14, 16, 83 or 84 (after 2020) takes Frequentie 2, 4 or 6",
    "CS343": "Eenheid 14, 16, 83 or 84 (after 2020) takes Frequentie 2, 4 or 6",
    "CS335": "RedenWijziging 13 (verwijderd) only when Ingangsdatum equals Einddatum",
    "CS336": "RedenWijziging 01 is not used",
    "TR302": "the same Product assigned twice only for periods that do not overlap",
    "TR383": "ReferentieAanbieder is unique per AangevraagdProduct",
    "TR386": "the same Product requested twice only for periods that do not overlap",
    "CS058": "StatusAanlevering is 1 (eerste) or 3 (verwijderen)",
    "TR018": "Einddatum is not before Begindatum",
    "TR352": "a verzoek om wijziging names an OngewijzigdProduct or a TeWijzigenProduct",
    "TR353": "a verzoek om wijziging names a TeWijzigenProduct or a NieuwProduct",
    "TR410": "the same new Product twice only for periods that do not overlap",
    "CD085": "RedenAfwijzingVerzoek given when VerzoekAntwoord is 1 (afgewezen)",
    "CD086": "no RedenAfwijzingVerzoek when VerzoekAntwoord is 2 (in onderzoek)",
    "TR377": "Woonplaatsbeginsel given when RedenAfwijzingVerzoek is 8",
    "TR409": "no Woonplaatsbeginsel when RedenAfwijzingVerzoek is not 8",
    "CS100": "declared periods start on or after 2021-01-01",
    "CS340": "DeclaratiePeriode is exactly one calendar month",
    "CS325": "an amount of 0 is Debet (D)",
    "CD060": "VorigReferentieNummer given exactly for a credit (C) Prestatie",
    "CS337": "a ProductPeriode lies within one calendar month",
    "CD087": "ProductTarief given exactly when Eenheid is not 83 (euro)",
    "CS339": "with Eenheid 83 the IngediendBedrag equals the GeleverdVolume",
    "TR137": "a ProductPeriode ends no later than the DeclaratieDagtekening",
    "TR315": "VorigReferentieNummer is unique in the message",
    "TR316": "a debet line is not credited in the same message",
    "TR335": "a ProductPeriode ends at most 5 years before the DeclaratieDagtekening",
    "TR358": "TotaalIngediendBedrag is the signed sum of the IngediendBedragen",
    "TR416": "one debet Prestatie per ToewijzingNummer, product and period in the message",
    "TR342": "a declaratie-antwoord only returns rejected Prestaties",
}
"""Every rule this module checks, with what it says (the README lists the rest)."""


@dataclass(frozen=True)
class Violation:
    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.path}: {CHECKED[self.rule]}"


PERIOD_RULES = frozenset({"CS003", "TR018", "TR137"})
"""The rules that keep every period in order (no end before its start): a retour's echo of
its heenbericht is judged on these alone, so that no FHIR Period the hub makes breaks
``per-1`` (start not after end)."""


def check(message: IjwModel) -> list[Violation]:
    """Every single-message rule the message breaks, in document order."""
    return list(_check(message))


def _check(message: IjwModel) -> Iterator[Violation]:
    echoed = _echoed_heenbericht(message)
    if echoed is not None:
        yield from (v for v in _check(echoed) if v.rule in PERIOD_RULES)
    elif isinstance(message, Jw301):
        yield from _jw301(message)
    elif isinstance(message, Jw315):
        yield from _jw315(message)
    elif isinstance(message, Jw305 | Jw307):
        yield from _start_stop(message)
    elif isinstance(message, Jw317):
        yield from _jw317(message)
    elif isinstance(message, Jw319):
        yield from _jw319(message)
    elif isinstance(message, Jw323):
        yield from _jw323(message)
    elif isinstance(message, Jw325):
        yield from _jw325(message)


_ECHOES: dict[type[IjwModel], type[IjwModel]] = {
    Jw302: Jw301,
    Jw306: Jw305,
    Jw308: Jw307,
    Jw316: Jw315,
    Jw318: Jw317,
}


def _echoed_heenbericht(message: IjwModel) -> IjwModel | None:
    """The heenbericht a retour's content echoes (built unvalidated), or None."""
    heen = _ECHOES.get(type(message))
    client = getattr(message, "client", None)
    if heen is None or client is None:
        return None
    fields = {"header": getattr(message, "header", None), "client": client}
    return heen.model_construct(**fields)


def _v(path: str, rule: str) -> Violation:
    return Violation(path, rule)


def _years_after(day: date, years: int) -> date:
    if day.year + years > date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _birth(path: str, birth: Geboortedatum, dagtekening: date) -> Iterator[Violation]:
    usage = birth.datum_gebruik.value if birth.datum_gebruik is not None else None
    if usage != "3" and dagtekening > _years_after(birth.datum, 120):
        yield _v(f"{path}/Geboortedatum", "TR002")
    # IV009: the unknown parts are 01 (day, month) and 1900 (year).
    day = birth.datum
    if (
        (usage == "1" and day.day != 1)
        or (usage == "2" and (day.day, day.month) != (1, 1))
        or (usage == "3" and day != date(1900, 1, 1))
    ):
        yield _v(f"{path}/Geboortedatum/DatumGebruik", "CS139")


def _naam(path: str, naam: Naam, *, client: bool) -> Iterator[Violation]:
    usage = naam.naam_gebruik.value if naam.naam_gebruik is not None else None
    if usage is None:
        return
    allowed = {"1", "2", "3", "4"} if naam.partnernaam is not None else {"1", "6"}
    if usage not in allowed:
        yield _v(f"{path}/Naam/NaamGebruik", "CS050")
    if client and usage == "6":
        yield _v(f"{path}/Naam/NaamGebruik", "CS318")


def _period_end(path: str, start: date | None, end: date | None) -> Iterator[Violation]:
    if start is not None and end is not None and end < start:
        yield _v(path, "CS003")


def _contact(path: str, contact: Contact) -> Iterator[Violation]:
    adres = contact.adres
    if adres is not None:
        if (adres.postcode is None) != (adres.land_code is None):
            yield _v(f"{path}/Adres/LandCode", "CD005")
        if adres.land_code == "NL" and adres.huis is None:
            yield _v(f"{path}/Adres/Huis", "CD025")
        if contact.soort.value in ("01", "03") and adres.postcode is None:
            yield _v(f"{path}/Adres/Postcode", "CD034")
        dutch = adres.land_code == "NL" and adres.postcode is not None
        if dutch and not _dutch_postcode(adres.postcode or ""):
            yield _v(f"{path}/Adres/Postcode", "CS089")
    if contact.periode is not None:
        if contact.soort.value != "04":
            yield _v(f"{path}/Periode", "CD009")
        yield from _period_end(
            f"{path}/Periode/Einddatum", contact.periode.begindatum, contact.periode.einddatum
        )
    has_house = adres is not None and adres.huis is not None and adres.postcode is not None
    if contact.telefoon is None and not has_house:
        yield _v(path, "TR006")


def _dutch_postcode(value: str) -> bool:
    return (
        len(value) == 6
        and value[0] in "123456789"
        and value[1:4].isdigit()
        and value[4:].isalpha()
        and value[4:].isupper()
        and value[4:].isascii()
    )


def _duplicates(path: str, items: Sequence[IjwModel]) -> Iterator[Violation]:
    if len(items) < 2:  # the usual case: one product, and no serialising it to know
        return
    keys = [item.model_dump_json() for item in items]
    counts = Counter(keys)
    for index, key in enumerate(keys, start=1):
        if counts[key] > 1:
            yield _v(f"{path}[{index}]", "TR101")
            return


def _overlap(start_a: date, end_a: date | None, start_b: date, end_b: date | None) -> bool:
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


def _same_product_overlaps(
    path: str, items: Sequence[tuple[object, date, date | None]], rule: str
) -> Iterator[Violation]:
    for (i, a), (_, b) in combinations(enumerate(items, start=1), 2):
        if a[0] is not None and a[0] == b[0] and _overlap(a[1], a[2], b[1], b[2]):
            yield _v(f"{path}[{i}]/Product", rule)
            return


def _omvang_rules(
    path: str,
    code: str | None,
    end: date | None,
    omvang: Omvang | None,
    budget: int | None,
    *,
    empty_rule: str | None,
    unit_rule: str | None,
) -> Iterator[Violation]:
    if budget is not None and omvang is not None:
        yield _v(f"{path}/Omvang", "CD077")
        yield _v(f"{path}/Budget", "CD078")
    after_cutoff = end is None or end > CUTOFF
    if code is not None and omvang is None and budget is None:
        yield _v(f"{path}/Omvang", "CD041")
    if empty_rule and code is None and after_cutoff and omvang is not None:
        yield _v(f"{path}/Omvang", empty_rule)
    wrong_frequency = (
        omvang is not None
        and omvang.eenheid.value in PERIOD_UNITS
        and omvang.frequentie.value not in PERIOD_FREQUENCIES
    )
    if unit_rule and after_cutoff and wrong_frequency:
        yield _v(f"{path}/Omvang/Frequentie", unit_rule)


def _end_rules(
    path: str, end_element: str, end: date | None, omvang: Omvang | None, budget: int | None
) -> Iterator[Violation]:
    if end is None and budget is not None:
        yield _v(f"{path}/{end_element}", "CD075")
    if end is None and omvang is not None and omvang.frequentie.value == "2":
        yield _v(f"{path}/{end_element}", "CD076")


# ---- per message --------------------------------------------------------------------------


def _jw301(message: Jw301) -> Iterator[Violation]:
    client, dagtekening = message.client, message.header.bericht_identificatie.dagtekening
    yield from _birth("Client", client.geboortedatum, dagtekening)
    yield from _naam("Client", client.naam, client=True)
    communicatie = client.communicatie
    if communicatie is not None and (communicatie.vorm == "1") != (communicatie.taal is not None):
        yield _v("Client/Communicatie/Taal", "CD007")
    for r, relatie in enumerate(client.relaties, start=1):
        path = f"Client/Relaties/Relatie[{r}]"
        if relatie.geboortedatum is not None:
            yield from _birth(path, relatie.geboortedatum, dagtekening)
        yield from _naam(path, relatie.naam, client=False)
        yield from _contact(f"{path}/Contact", relatie.contact)
    for c, contact in enumerate(client.contactgegevens, start=1):
        yield from _contact(f"Client/Contactgegevens/Contact[{c}]", contact)
    if not any(c.soort.value in ("01", "02", "03") for c in client.contactgegevens):
        yield _v("Client/Contactgegevens", "TR061")
    products = client.toegewezen_producten
    base = "Client/ToegewezenProducten/ToegewezenProduct"
    for p, product in enumerate(products, start=1):
        yield from _toegewezen(f"{base}[{p}]", product)
    yield from _duplicates(base, products)
    yield from _same_product_overlaps(
        base, [(p.product, p.ingangsdatum, p.einddatum) for p in products], "TR302"
    )


def _toegewezen(path: str, product: ToegewezenProduct) -> Iterator[Violation]:
    code = product.product.code if product.product is not None else None
    if product.product is None and product.budget is None:
        yield _v(f"{path}/Product", "CD079")
    yield from _end_rules(path, "Einddatum", product.einddatum, product.omvang, product.budget)
    yield from _period_end(f"{path}/Einddatum", product.ingangsdatum, product.einddatum)
    yield from _omvang_rules(
        path,
        code,
        product.einddatum,
        product.omvang,
        product.budget,
        empty_rule="CD080",
        unit_rule="CS338",
    )
    reden = product.reden_wijziging.value if product.reden_wijziging is not None else None
    if reden == "13" and product.einddatum != product.ingangsdatum:
        yield _v(f"{path}/RedenWijziging", "CS335")
    if reden == "01":
        yield _v(f"{path}/RedenWijziging", "CS336")


def _jw315(message: Jw315) -> Iterator[Violation]:
    client = message.client
    yield from _birth(
        "Client", client.geboortedatum, message.header.bericht_identificatie.dagtekening
    )
    products = client.aangevraagde_producten
    base = "Client/AangevraagdeProducten/AangevraagdProduct"
    for p, product in enumerate(products, start=1):
        yield from _aangevraagd(f"{base}[{p}]", product)
    references = Counter(p.referentie_aanbieder for p in products)
    for p, product in enumerate(products, start=1):
        if references[product.referentie_aanbieder] > 1:
            yield _v(f"{base}[{p}]/ReferentieAanbieder", "TR383")
            break
    yield from _duplicates(base, products)
    periods = [(p.product, p.toewijzing_ingangsdatum, p.toewijzing_einddatum) for p in products]
    yield from _same_product_overlaps(base, periods, "TR386")


def _aangevraagd(path: str, product: AangevraagdProduct) -> Iterator[Violation]:
    code = product.product.code if product.product is not None else None
    end = product.toewijzing_einddatum
    if product.product is None and product.budget is None:
        yield _v(f"{path}/Product", "CD079")
    if (product.beschikking_nummer is None) != (product.beschikking_ingangsdatum is None):
        yield _v(f"{path}/BeschikkingIngangsdatum", "CD043")
    yield from _end_rules(path, "ToewijzingEinddatum", end, product.omvang, product.budget)
    yield from _period_end(f"{path}/ToewijzingEinddatum", product.toewijzing_ingangsdatum, end)
    yield from _omvang_rules(
        path, code, end, product.omvang, product.budget, empty_rule="CD095", unit_rule="CS343"
    )
    verwijzer = product.verwijzer
    professional = verwijzer.type.value in ("02", "03", "04", "05")
    if professional and verwijzer.zorgverlener_code is not None and verwijzer.naam is not None:
        yield _v(f"{path}/Verwijzer/Naam", "CD066")
    if professional and verwijzer.zorgverlener_code is None and verwijzer.naam is None:
        yield _v(f"{path}/Verwijzer/Naam", "CD067")
    if not professional and verwijzer.zorgverlener_code is not None:
        yield _v(f"{path}/Verwijzer/ZorgverlenerCode", "CD068")


def _start_stop(message: Jw305 | Jw307) -> Iterator[Violation]:
    client = message.client
    yield from _birth(
        "Client", client.geboortedatum, message.header.bericht_identificatie.dagtekening
    )
    if isinstance(message, Jw305):
        base = "Client/StartProducten/StartProduct"
        items: Sequence[StartProduct | StopProduct] = message.client.start_producten
    else:
        base = "Client/StopProducten/StopProduct"
        items = message.client.stop_producten
    for p, product in enumerate(items, start=1):
        if product.status_aanlevering.value not in ("1", "3"):
            yield _v(f"{base}[{p}]/StatusAanlevering", "CS058")
        if isinstance(product, StopProduct) and product.einddatum < product.begindatum:
            yield _v(f"{base}[{p}]/Einddatum", "TR018")
    yield from _duplicates(base, items)


def _jw317(message: Jw317) -> Iterator[Violation]:
    verzoek = message.client.verzoek
    base = "Client/Verzoek"
    if not verzoek.ongewijzigde_producten and not verzoek.te_wijzigen_producten:
        yield _v(base, "TR352")
    if not verzoek.te_wijzigen_producten and not verzoek.nieuwe_producten:
        yield _v(base, "TR353")
    changed: list[tuple[str, TeWijzigenProduct | NieuwProduct]] = [
        (f"{base}/TeWijzigenProducten/TeWijzigenProduct[{p}]", product)
        for p, product in enumerate(verzoek.te_wijzigen_producten, start=1)
    ] + [
        (f"{base}/NieuweProducten/NieuwProduct[{p}]", product)
        for p, product in enumerate(verzoek.nieuwe_producten, start=1)
    ]
    for path, product in changed:
        new = isinstance(product, NieuwProduct)
        code = (
            product.product.code if isinstance(product, NieuwProduct) and product.product else None
        )
        if isinstance(product, NieuwProduct) and product.product is None and product.budget is None:
            yield _v(f"{path}/Product", "CD079")
        yield from _end_rules(path, "Einddatum", product.einddatum, product.omvang, product.budget)
        yield from _period_end(
            f"{path}/Einddatum", product.gewenste_ingangsdatum, product.einddatum
        )
        yield from _omvang_rules(
            path,
            code if new else None,
            product.einddatum,
            product.omvang,
            product.budget,
            empty_rule="CD096" if new else None,
            unit_rule="CS338",
        )
    news = verzoek.nieuwe_producten
    periods = [(p.product, p.gewenste_ingangsdatum, p.einddatum) for p in news]
    yield from _same_product_overlaps(f"{base}/NieuweProducten/NieuwProduct", periods, "TR410")


def _jw319(message: Jw319) -> Iterator[Violation]:
    antwoord = message.antwoord
    reden = antwoord.reden_afwijzing_verzoek
    if antwoord.verzoek_antwoord == "1" and reden is None:
        yield _v("Antwoord/RedenAfwijzingVerzoek", "CD085")
    if antwoord.verzoek_antwoord == "2" and reden is not None:
        yield _v("Antwoord/RedenAfwijzingVerzoek", "CD086")
    if reden == "8" and antwoord.woonplaatsbeginsel is None:
        yield _v("Antwoord/Woonplaatsbeginsel", "TR377")
    if reden != "8" and antwoord.woonplaatsbeginsel is not None:
        yield _v("Antwoord/Woonplaatsbeginsel", "TR409")


def _signed(amount: int, debet_credit: str) -> int:
    return -amount if debet_credit == "C" else amount


def _jw323(message: Jw323) -> Iterator[Violation]:
    declaratie = message.declaratie
    period = declaratie.declaratie_periode
    if period.begindatum < date(2021, 1, 1):
        yield _v("Declaratie/DeclaratiePeriode/Begindatum", "CS100")
    if not _whole_month(period.begindatum, period.einddatum):
        yield _v("Declaratie/DeclaratiePeriode", "CS340")
    total = declaratie.totaal_ingediend_bedrag
    if total.totaal_bedrag == 0 and total.debet_credit != "D":
        yield _v("Declaratie/TotaalIngediendBedrag/DebetCredit", "CS325")
    signed_sum = 0
    previous: Counter[str] = Counter()
    references = set()
    debets: Counter[tuple[object, ...]] = Counter()
    for c, client in enumerate(declaratie.clienten, start=1):
        base = f"Declaratie/Clienten/Client[{c}]/Prestaties/Prestatie"
        for p, prestatie in enumerate(client.prestaties, start=1):
            path = f"{base}[{p}]"
            yield from _prestatie(path, prestatie, declaratie.declaratie_dagtekening)
            amount = prestatie.ingediend_bedrag
            signed_sum += _signed(amount.bedrag, amount.debet_credit)
            references.add(prestatie.product_referentie.referentie_nummer)
            vorig = prestatie.product_referentie.vorig_referentie_nummer
            if vorig is not None:
                previous[vorig] += 1
                if previous[vorig] > 1:
                    yield _v(f"{path}/ProductReferentie/VorigReferentieNummer", "TR315")
            if amount.debet_credit == "D":
                key = (
                    client.bsn,
                    prestatie.toewijzing_nummer,
                    prestatie.product_categorie,
                    prestatie.product_code,
                    prestatie.product_periode,
                )
                debets[key] += 1
                if debets[key] > 1:
                    yield _v(path, "TR416")
        yield from _duplicates(base, client.prestaties)
    for c, client in enumerate(declaratie.clienten, start=1):
        for p, prestatie in enumerate(client.prestaties, start=1):
            vorig = prestatie.product_referentie.vorig_referentie_nummer
            if prestatie.ingediend_bedrag.debet_credit == "C" and vorig in references:
                path = f"Declaratie/Clienten/Client[{c}]/Prestaties/Prestatie[{p}]"
                yield _v(f"{path}/ProductReferentie/VorigReferentieNummer", "TR316")
    if signed_sum != _signed(total.totaal_bedrag, total.debet_credit):
        yield _v("Declaratie/TotaalIngediendBedrag", "TR358")


def _whole_month(start: date, end: date) -> bool:
    if start.day != 1 or (start.year, start.month) != (end.year, end.month):
        return False
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return (following - end).days == 1


def _prestatie(path: str, prestatie: Prestatie, dagtekening: date) -> Iterator[Violation]:
    period = prestatie.product_periode
    amount = prestatie.ingediend_bedrag
    if period.begindatum < date(2021, 1, 1):
        yield _v(f"{path}/ProductPeriode/Begindatum", "CS100")
    if (period.begindatum.year, period.begindatum.month) != (
        period.einddatum.year,
        period.einddatum.month,
    ):
        yield _v(f"{path}/ProductPeriode", "CS337")
    if period.einddatum < period.begindatum or period.einddatum > dagtekening:
        yield _v(f"{path}/ProductPeriode/Einddatum", "TR137")
    if _years_after(period.einddatum, 5) < dagtekening:
        yield _v(f"{path}/ProductPeriode/Einddatum", "TR335")
    if amount.bedrag == 0 and amount.debet_credit != "D":
        yield _v(f"{path}/IngediendBedrag/DebetCredit", "CS325")
    has_previous = prestatie.product_referentie.vorig_referentie_nummer is not None
    if has_previous != (amount.debet_credit == "C"):
        yield _v(f"{path}/ProductReferentie/VorigReferentieNummer", "CD060")
    euros = prestatie.eenheid.value == "83"
    if euros == (prestatie.product_tarief is not None):
        yield _v(f"{path}/ProductTarief", "CD087")
    if euros and amount.bedrag != prestatie.geleverd_volume:
        yield _v(f"{path}/IngediendBedrag", "CS339")


def _jw325(message: Jw325) -> Iterator[Violation]:
    answer = message.declaratie_antwoord
    if answer is None:
        return
    for label, total in (
        ("TotaalIngediendBedrag", answer.totaal_ingediend_bedrag),
        ("TotaalToegekendBedrag", answer.totaal_toegekend_bedrag),
    ):
        if total.totaal_bedrag == 0 and total.debet_credit != "D":
            yield _v(f"DeclaratieAntwoord/{label}/DebetCredit", "CS325")
    accepting = {"0200", "0233"}
    for c, client in enumerate(answer.clienten, start=1):
        for p, prestatie in enumerate(client.prestaties, start=1):
            path = f"DeclaratieAntwoord/Clienten/Client[{c}]/Prestaties/Prestatie[{p}]"
            amount = prestatie.ingediend_bedrag
            period = prestatie.product_periode
            if period.einddatum < period.begindatum:
                yield _v(f"{path}/ProductPeriode/Einddatum", "TR137")
            if amount.bedrag == 0 and amount.debet_credit != "D":
                yield _v(f"{path}/IngediendBedrag/DebetCredit", "CS325")
            has_previous = prestatie.product_referentie.vorig_referentie_nummer is not None
            if has_previous != (amount.debet_credit == "C"):
                yield _v(f"{path}/ProductReferentie/VorigReferentieNummer", "CD060")
            if all(code in accepting for code in prestatie.retour_codes):
                yield _v(path, "TR342")
