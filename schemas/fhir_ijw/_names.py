"""Code systems, naming systems and extension URLs of the iJw FHIR mapping."""

from __future__ import annotations

from schemas.ijw.models import (
    NO_REMARK,
)

_NS = "urn:ketenhub:"


GEMEENTE_SYSTEM = _NS + "namingsystem:cbs-gemeentecode"


TOEWIJZINGNUMMER_SYSTEM = _NS + "namingsystem:ijw-toewijzingnummer"


REFERENTIE_AANBIEDER_SYSTEM = _NS + "namingsystem:ijw-referentie-aanbieder"


BESCHIKKINGNUMMER_SYSTEM = _NS + "namingsystem:ijw-beschikkingnummer"


PRODUCTCATEGORIE_SYSTEM = _NS + "codesystem:ijw:jz020-productcategorie"


PRODUCTCODE_SYSTEM = _NS + "codesystem:ijw:productcode"


EENHEID_SYSTEM = _NS + "codesystem:ijw:wj756-eenheid"


FREQUENTIE_SYSTEM = _NS + "codesystem:ijw:wmo757-frequentie"


VERWIJZER_SYSTEM = _NS + "codesystem:ijw:cod327-verwijzer"


REDEN_WIJZIGING_SYSTEM = _NS + "codesystem:ijw:jz002-reden-wijziging"


REDEN_BEEINDIGING_SYSTEM = _NS + "codesystem:ijw:jz588-reden-beeindiging"


STATUS_AANLEVERING_SYSTEM = _NS + "codesystem:ijw:cod467-status-aanlevering"


RETOURCODE_SYSTEM = _NS + "codesystem:ijw:wj001-retourcode"


COMMUNICATIEVORM_SYSTEM = _NS + "codesystem:ijw:cod747-communicatievorm"


JURIDISCHE_STATUS_SYSTEM = _NS + "codesystem:ijw:wj232-juridische-status"


WETTELIJKE_VERTEGENWOORDIGING_SYSTEM = _NS + "codesystem:ijw:wj003-wettelijke-vertegenwoordiging"


SOORT_RELATIE_SYSTEM = _NS + "codesystem:ijw:cod472-soort-relatie"


REDEN_VERZOEK_SYSTEM = _NS + "codesystem:ijw:wj758-reden-verzoek"


VERZOEK_ANTWOORD_SYSTEM = _NS + "codesystem:ijw:wj760-verzoek-antwoord"


REDEN_AFWIJZING_SYSTEM = _NS + "codesystem:ijw:wj759-reden-afwijzing-verzoek"


DECLARATIENUMMER_SYSTEM = _NS + "namingsystem:ijw-declaratienummer"


DECLARATIE_IDENTIFICATIE_SYSTEM = _NS + "namingsystem:ijw-declaratie-identificatie"


_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"


CLAIM_TYPE_SYSTEM = _TERMINOLOGY + "claim-type"


PRIORITY_SYSTEM = _TERMINOLOGY + "processpriority"


ADJUDICATION_SYSTEM = _TERMINOLOGY + "adjudication"


ELEMENT_SYSTEM = _NS + "codesystem:ijw:element"
"""Names the iJw element a Task.input carries (its code is the element name)."""


HEADER_URL = _NS + "extension:ijw-header"


RETOURCODE_URL = _NS + "extension:ijw-retourcode"


DATUMGEBRUIK_URL = _NS + "extension:ijw-datumgebruik"


NAAMGEBRUIK_URL = _NS + "extension:ijw-naamgebruik"


GEZAGSDRAGER_URL = _NS + "extension:ijw-gezagsdrager-bekend"


ADRESSOORT_URL = _NS + "extension:ijw-adressoort"


HUISLETTER_URL = _NS + "extension:ijw-huisletter"


TOEVOEGING_URL = _NS + "extension:ijw-huisnummertoevoeging"


VERWIJZER_TYPE_URL = _NS + "extension:ijw-verwijzer-type"


FREQUENTIE_URL = _NS + "extension:ijw-frequentie"


BUDGET_URL = _NS + "extension:ijw-budget"


BESCHIKKING_INGANG_URL = _NS + "extension:ijw-beschikking-ingangsdatum"


RAAMCONTRACT_URL = _NS + "extension:ijw-raamcontract"


TOEWIJZING_INGANG_URL = _NS + "extension:ijw-toewijzing-ingangsdatum"


STATUS_AANLEVERING_URL = _NS + "extension:ijw-status-aanlevering"


REDEN_BEEINDIGING_URL = _NS + "extension:ijw-reden-beeindiging"


COMMUNICATIEVORM_URL = _NS + "extension:ijw-communicatievorm"


JURIDISCHE_STATUS_URL = _NS + "extension:ijw-juridische-status"


WETTELIJKE_VERTEGENWOORDIGING_URL = _NS + "extension:ijw-wettelijke-vertegenwoordiging"


ORGANISATIE_URL = _NS + "extension:ijw-contact-organisatie"


TELECOM_URL = _NS + "extension:ijw-contact-telecom"


PERIODE_URL = _NS + "extension:ijw-contact-periode"


LANDNUMMER_URL = _NS + "extension:ijw-landnummer"


RELATIE_NUMMER_URL = _NS + "extension:ijw-relatie-nummer"


RELATIE_VOLGORDE_URL = _NS + "extension:ijw-relatie-volgorde"


RELATIE_GEBOORTEDATUM_URL = _NS + "extension:ijw-relatie-geboortedatum"


TOEWIJZINGNUMMER_URL = _NS + "extension:ijw-toewijzingnummer"


PRODUCT_REFERENTIE_URL = _NS + "extension:ijw-product-referentie"


DEBET_CREDIT_URL = _NS + "extension:ijw-debet-credit"


WOONPLAATSBEGINSEL_URL = _NS + "extension:ijw-woonplaatsbeginsel"


DECLARATIE_ANTWOORD_URL = _NS + "extension:ijw-declaratie-antwoord"


_HL7 = "http://hl7.org/fhir/StructureDefinition/"


OWN_NAME_URL = _HL7 + "humanname-own-name"


OWN_PREFIX_URL = _HL7 + "humanname-own-prefix"


PARTNER_NAME_URL = _HL7 + "humanname-partner-name"


PARTNER_PREFIX_URL = _HL7 + "humanname-partner-prefix"


QUALIFIER_URL = _HL7 + "iso21090-EN-qualifier"


STREET_URL = _HL7 + "iso21090-ADXP-streetName"


HOUSE_NUMBER_URL = _HL7 + "iso21090-ADXP-houseNumber"


LOCATOR_URL = _HL7 + "iso21090-ADXP-additionalLocator"


ACCEPTING_CODES = frozenset({NO_REMARK, "0233"})


VERZOEK_AFGEWEZEN = "1"
"""WJ760 1: verzoek afgewezen (2 is aanvraag in onderzoek)."""
"""WJ001 codes that do not reject: 0200 no remark, 0233 class not assessed."""


_GENDER = {"0": "unknown", "1": "male", "2": "female"}


_GESLACHT = {v: k for k, v in _GENDER.items()}
