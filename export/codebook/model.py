"""The codebook's vocabulary: tables, kinds, quasi-identifier code lists and `Variable`."""

from __future__ import annotations

from dataclasses import dataclass

from contract.spec import CODE_LISTS, Code, code_list

CASES = "cases"
CASE_MONTHS = "case_months"
TABLES = {
    CASES: "one row per case started in the export window",
    CASE_MONTHS: "one row per case and calendar month from the month of first contact to the "
    "month of closure (open cases: the month of the provider's stand)",
}

ID, CATEGORY, INTEGER, NUMBER, BOOLEAN, MONTH = (
    "id", "category", "integer", "number", "boolean", "month",
)  # fmt: skip
KINDS = {
    ID: "string: study pseudonym (64 hex characters)",
    CATEGORY: "string code; Stata: labelled integer (value label = code)",
    INTEGER: "integer",
    NUMBER: "decimal number, rounded to 4 places",
    BOOLEAN: "0/1 (Parquet: boolean)",
    MONTH: "string YYYY-MM",
}

NOT_MISSING = "never missing"

# --- code lists that are not contract code lists -----------------------------------------------
AGE_BANDS_WIDE = (
    Code("U18", "unter 18", "under 18"),
    Code("18_34", "18 bis 34", "18 to 34"),
    Code("35_54", "35 bis 54", "35 to 54"),
    Code("55_PLUS", "55 und älter", "55 and older"),
)
AGE_GROUPS = (
    Code("U18", "minderjährig", "minor"),
    Code("18_PLUS", "volljährig", "adult"),
)
AGE_BANDS = (
    Code("U18", "unter 18", "under 18"),
    Code("18_24", "18 bis 24", "18 to 24"),
    Code("25_34", "25 bis 34", "25 to 34"),
    Code("35_44", "35 bis 44", "35 to 44"),
    Code("45_54", "45 bis 54", "45 to 54"),
    Code("55_PLUS", "55 und älter", "55 and older"),
)
STATUS_CATEGORIES = (
    Code("SCHUTZ", "Schutzstatus", "protection status"),
    Code("HUMANITAER", "humanitärer Aufenthalt", "humanitarian residence"),
    Code("BLEIBERECHT", "Bleiberecht", "right to stay"),
    Code("SONSTIGE", "sonstige Aufenthaltserlaubnis", "other residence permit"),
    Code("NIEDERLASSUNG", "Niederlassungserlaubnis", "settlement permit"),
    Code("DEUTSCH", "eingebürgert", "naturalised"),
    Code("GESTATTUNG", "Aufenthaltsgestattung (Asylverfahren)", "asylum seeker"),
    Code("AUSREISEPFLICHTIG", "ausreisepflichtig", "obliged to leave"),
    Code("UNBEKANNT", "unbekannt", "unknown"),
)
PROSPECTS = (
    Code("JA", "ja", "yes"),
    Code("BEDINGT", "bedingt", "conditional"),
    Code("NEIN", "nein", "no"),
    Code("UNBEKANNT", "unbekannt", "unknown"),
)
OTHER_NATIONALITY = Code("OTHER", "andere Staatsangehörigkeit", "other nationality")

# Regions for generalising nationality (UN M49 regions, adapted to migration to Germany: EU/EFTA
# apart, Turkey with the rest of Europe, the Caucasus with the Near and Middle East).
REGIONS = (
    Code("EU_EFTA", "EU und EFTA", "EU and EFTA"),
    Code("EUROPE_OTHER", "übriges Europa (einschl. Türkei)", "rest of Europe (incl. Turkey)"),
    Code("NEAR_MIDDLE_EAST", "Naher und Mittlerer Osten", "Near and Middle East"),
    Code("SOUTH_CENTRAL_ASIA", "Süd- und Zentralasien", "South and Central Asia"),
    Code(
        "EAST_ASIA_PACIFIC", "Ost- und Südostasien, Ozeanien", "East and South-East Asia, Oceania"
    ),
    Code("NORTH_AFRICA", "Nordafrika", "North Africa"),
    Code("SUB_SAHARAN_AFRICA", "Afrika südlich der Sahara", "sub-Saharan Africa"),
    Code("AMERICAS", "Amerika", "the Americas"),
    Code("OTHER", "sonstige Gebiete", "other territories"),
    Code("UNKNOWN", "staatenlos / unbekannt", "stateless / unknown"),
)
_REGION_MEMBERS = {
    "EU_EFTA": "AUT BEL BGR CHE CYP CZE DEU DNK ESP EST FIN FRA GRC HRV HUN IRL ISL ITA LIE LTU "
    "LUX LVA MLT NLD NOR POL PRT ROU SVK SVN SWE",
    "EUROPE_OTHER": "ALA ALB AND BIH BLR FRO GBR GGY GIB IMN JEY MCO MDA MKD MNE RUS SJM SMR SRB "
    "TUR UKR VAT",
    "NEAR_MIDDLE_EAST": "ARE ARM AZE BHR GEO IRN IRQ ISR JOR KWT LBN OMN PSE QAT SAU SYR YEM",
    "SOUTH_CENTRAL_ASIA": "AFG BGD BTN IND IOT KAZ KGZ LKA MDV NPL PAK TJK TKM UZB",
    "EAST_ASIA_PACIFIC": "ASM AUS BRN CCK CHN COK CXR FJI FSM GUM HKG HMD IDN JPN KHM KIR KOR "
    "LAO MAC MHL MMR MNG MNP MYS NCL NFK NIU NRU NZL PCN PHL PLW PNG PRK PYF SGP SLB THA TKL TLS "
    "TON TUV TWN UMI VNM VUT WLF WSM",
    "NORTH_AFRICA": "DZA EGY ESH LBY MAR SDN TUN",
    "SUB_SAHARAN_AFRICA": "AGO BDI BEN BFA BWA CAF CIV CMR COD COG COM CPV DJI ERI ETH GAB GHA "
    "GIN GMB GNB GNQ KEN LBR LSO MDG MLI MOZ MRT MUS MWI MYT NAM NER NGA REU RWA SEN SHN SLE SOM "
    "SSD STP SWZ SYC TCD TGO TZA UGA ZAF ZMB ZWE",
    "AMERICAS": "ABW AIA ARG ATG BES BHS BLM BLZ BMU BOL BRA BRB CAN CHL COL CRI CUB CUW CYM DMA "
    "DOM ECU FLK GLP GRD GRL GTM GUF GUY HND HTI JAM KNA LCA MAF MEX MSR MTQ NIC PAN PER PRI PRY "
    "SGS SLV SPM SUR SXM TCA TTO URY USA VCT VEN VGB VIR",
    "OTHER": "ATA ATF BVT",
    "UNKNOWN": "XXX",
}
NATIONALITY_REGION: dict[str, str] = {
    iso3: region for region, members in _REGION_MEMBERS.items() for iso3 in members.split()
}
"""ISO 3166-1 alpha-3 (and XXX) → region code; a code not listed maps to OTHER."""

TOP_NATIONALITIES = 8
"""Nationality group: the 8 most frequent nationalities of the exported cases, else OTHER."""


def country_codes() -> tuple[Code, ...]:
    return code_list("staatsangehoerigkeit")


@dataclass(frozen=True)
class Variable:
    name: str
    table: str
    label_de: str
    label_en: str
    kind: str
    sql: str
    """Expression over the export view (`c` cases, `m` case months) — before coarsening."""
    derivation: str
    missing: str = NOT_MISSING
    codes: tuple[Code, ...] | None = None
    """Fixed code list; None for categories whose codes depend on the data (nationality group,
    Kreis, arrival period: given per export)."""
    indicators: tuple[str, ...] = ()
    qi: str | None = None
    """Quasi-identifier it expresses (area, age, sex, nationality, arrival, start), if any."""
    detail: int = 0
    """Generalisation level of its quasi-identifier: 0 = the most detailed, 1, 2 … coarser."""


def variable(name, table, de, en, kind, sql, derivation, **kw) -> Variable:
    return Variable(name, table, de, en, kind, sql, derivation, **kw)


FIELDS = CODE_LISTS["handlungsfeld"]
REFERRALS = CODE_LISTS["verweisung"]
OUTCOME_DOMAINS = CODE_LISTS["bereich"]
OUTCOME_WINDOW = "any time (outcome observations are not limited to the case's duration)"
