"""The one definition of the evaluator export's variables.

Column order, the codebook (Markdown and JSON) and the Stata variable and value labels all derive
from `VARIABLES`. Each variable names the SQL expression that computes it from the export views
(`exports.exp_cases` as `c`, `exports.exp_case_months` as `m`; dbt_project/models/exports) and,
where it rests on an indicator definition, the indicator ids of docs/indicators.md.

Quasi-identifiers come at several levels of detail (`qi`, `detail`: Kreis → Regierungsbezirk →
none; 6 → 4 → 2 age bands → none; sex → none; nationality group → region → none; arrival year →
2-year → 4-year band → none; start month → quarter → year); an export carries exactly one level
of each, chosen by the search over the generalisation lattice in `export/anonymity.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.spec import CODE_LISTS, OUTCOME_VALUES, Code, code_list

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


def _v(name, table, de, en, kind, sql, derivation, **kw) -> Variable:
    return Variable(name, table, de, en, kind, sql, derivation, **kw)


_FIELDS = CODE_LISTS["handlungsfeld"]
_REFERRALS = CODE_LISTS["verweisung"]
_DOMAINS = CODE_LISTS["bereich"]
_OUTCOME_WINDOW = "any time (outcome observations are not limited to the case's duration)"


def _case_variables() -> list[Variable]:
    t = CASES
    out = [
        _v(
            "case_id",
            t,
            "Fall (Studienpseudonym)",
            "case (study pseudonym)",
            ID,
            "imw_pseudonym($study || ':' || c.provider, c.case_id)",
            "HMAC-SHA256 with the study key over study name, provider and the warehouse pseudonym "
            "of the case; unique per study, not linkable across studies",
        ),
        _v(
            "person_id",
            t,
            "Person (Studienpseudonym)",
            "person (study pseudonym)",
            ID,
            "imw_pseudonym($study || ':' || c.provider, c.person_id)",
            "as case_id, over the warehouse pseudonym of the case's person (faelle.person_id); "
            "several cases of one person share it",
        ),
        _v(
            "kreis",
            t,
            "Stadt-/Landkreis (AGS)",
            "district (AGS)",
            CATEGORY,
            "c.kreis_code",
            "Kreis of the provider that holds the case (first 5 digits of its AGS); never the "
            "Gemeinde",
            qi="area",
            detail=0,
        ),
        _v(
            "rb",
            t,
            "Regierungsbezirk (AGS)",
            "administrative region (AGS)",
            CATEGORY,
            "c.rb_code",
            "Regierungsbezirk of that Kreis (first 3 digits of the AGS)",
            qi="area",
            detail=1,
        ),
        _v(
            "age_band",
            t,
            "Altersgruppe bei Fallbeginn",
            "age band at case start",
            CATEGORY,
            "CASE WHEN c.age_at_start < 18 THEN 'U18' WHEN c.age_at_start < 25 THEN '18_24' "
            "WHEN c.age_at_start < 35 THEN '25_34' WHEN c.age_at_start < 45 THEN '35_44' "
            "WHEN c.age_at_start < 55 THEN '45_54' WHEN c.age_at_start >= 55 THEN '55_PLUS' END",
            "year of first contact minus birth year (only the birth year is delivered), banded",
            missing="missing when the person is not in the provider's personen snapshot",
            codes=AGE_BANDS,
            qi="age",
        ),
        _v(
            "age_band_wide",
            t,
            "Altersgruppe bei Fallbeginn (breit)",
            "age band at case start (wide)",
            CATEGORY,
            "CASE WHEN c.age_at_start < 18 THEN 'U18' WHEN c.age_at_start < 35 THEN '18_34' "
            "WHEN c.age_at_start < 55 THEN '35_54' WHEN c.age_at_start >= 55 THEN '55_PLUS' END",
            "as age_band, in 4 wider bands",
            missing="missing when the person is not in the provider's personen snapshot",
            codes=AGE_BANDS_WIDE,
            qi="age",
            detail=1,
        ),
        _v(
            "age_group",
            t,
            "minderjährig / volljährig bei Fallbeginn",
            "minor / adult at case start",
            CATEGORY,
            "CASE WHEN c.age_at_start < 18 THEN 'U18' WHEN c.age_at_start >= 18 THEN '18_PLUS' END",
            "as age_band, in 2 groups",
            missing="missing when the person is not in the provider's personen snapshot",
            codes=AGE_GROUPS,
            qi="age",
            detail=2,
        ),
        _v(
            "sex",
            t,
            "Geschlecht",
            "sex",
            CATEGORY,
            "c.sex",
            "personen.geschlecht",
            missing="missing when the person is not in the provider's personen snapshot",
            codes=CODE_LISTS["geschlecht"],
            qi="sex",
        ),
        _v(
            "nationality_group",
            t,
            "Staatsangehörigkeit (Gruppe)",
            "nationality (group)",
            CATEGORY,
            "CASE WHEN c.nationality IN (SELECT nationality FROM export_top_nationalities) "
            "THEN c.nationality WHEN c.nationality IS NOT NULL THEN 'OTHER' END",
            f"personen.staatsangehoerigkeit: the {TOP_NATIONALITIES} most frequent nationalities "
            "of the exported cases (ISO 3166-1 alpha-3, XXX = stateless/unknown), else OTHER",
            missing="missing when the person is not in the provider's personen snapshot",
            qi="nationality",
            detail=0,
        ),
        _v(
            "nationality_region",
            t,
            "Staatsangehörigkeit (Region)",
            "nationality (region)",
            CATEGORY,
            "CASE WHEN c.nationality IS NOT NULL THEN coalesce((SELECT r.region FROM "
            "export_regions AS r WHERE r.iso3 = c.nationality), 'OTHER') END",
            "personen.staatsangehoerigkeit mapped to a world region (export/codebook.py REGIONS)",
            missing="missing when the person is not in the provider's personen snapshot",
            codes=REGIONS,
            qi="nationality",
            detail=1,
        ),
        _v(
            "arrival_year",
            t,
            "Einreisejahr",
            "year of arrival",
            INTEGER,
            "c.arrival_year",
            "year of personen.einreisedatum",
            missing="missing when no arrival date is delivered",
            qi="arrival",
            detail=0,
        ),
        _v(
            "arrival_period",
            t,
            "Einreisezeitraum (2 Jahre)",
            "period of arrival (2 years)",
            CATEGORY,
            "CAST(c.arrival_year // 2 * 2 AS VARCHAR) || '-' || CAST(c.arrival_year // 2 * 2 + 1 "
            "AS VARCHAR)",
            "year of personen.einreisedatum in 2-year bands starting in even years, e.g. 2016-2017",
            missing="missing when no arrival date is delivered",
            qi="arrival",
            detail=1,
        ),
        _v(
            "arrival_period_4",
            t,
            "Einreisezeitraum (4 Jahre)",
            "period of arrival (4 years)",
            CATEGORY,
            "CAST(c.arrival_year // 4 * 4 AS VARCHAR) || '-' || CAST(c.arrival_year // 4 * 4 + 3 "
            "AS VARCHAR)",
            "year of personen.einreisedatum in 4-year bands starting in leap years, e.g. 2016-2019",
            missing="missing when no arrival date is delivered",
            qi="arrival",
            detail=2,
        ),
        _v(
            "status_category_at_start",
            t,
            "Aufenthaltsstatus (Kategorie) bei Fallbeginn",
            "residence status category at case start",
            CATEGORY,
            "c.status_category_at_start",
            "category of the aufenthalt row valid at the first contact (docs/domain.md; "
            "none: UNBEKANNT); as in EL02",
            codes=STATUS_CATEGORIES,
            indicators=("EL02",),
        ),
        _v(
            "prospect_at_start",
            t,
            "Bleibeperspektive bei Fallbeginn",
            "prospect of staying at case start",
            CATEGORY,
            "c.prospect_at_start",
            "prospect of that status (docs/domain.md); as in EL01",
            codes=PROSPECTS,
            indicators=("EL01",),
        ),
        _v(
            "case_type",
            t,
            "Fallart",
            "case type",
            CATEGORY,
            "c.case_type",
            "faelle.fallart",
            codes=CODE_LISTS["fallart"],
        ),
        _v(
            "start_month",
            t,
            "Monat des Erstkontakts",
            "month of first contact",
            MONTH,
            "strftime(c.first_contact_date, '%Y-%m')",
            "faelle.erstkontakt_datum, month only",
            qi="start",
            detail=0,
        ),
        _v(
            "start_quarter",
            t,
            "Quartal des Erstkontakts",
            "quarter of first contact",
            CATEGORY,
            "strftime(c.first_contact_date, '%Y') || '-Q' || CAST(quarter(c.first_contact_date) "
            "AS VARCHAR)",
            "faelle.erstkontakt_datum, quarter only (YYYY-Qn)",
            qi="start",
            detail=1,
        ),
        _v(
            "start_year",
            t,
            "Jahr des Erstkontakts",
            "year of first contact",
            INTEGER,
            "year(c.first_contact_date)",
            "faelle.erstkontakt_datum, year only",
            qi="start",
            detail=2,
        ),
        _v(
            "is_closed",
            t,
            "Fall abgeschlossen",
            "case closed",
            BOOLEAN,
            "c.is_closed",
            "1 when faelle.abschluss_datum is set; 0 = open at the provider's stand (censored)",
        ),
        _v(
            "duration_days",
            t,
            "Falldauer in Tagen",
            "case duration in days",
            INTEGER,
            "c.duration_days",
            "abschluss_datum - erstkontakt_datum; for an open case the provider's stand of its "
            "faelle snapshot - erstkontakt_datum (see is_closed)",
            missing="missing for a case open at the stand when the export generalises the start "
            "month (it would give the start day away); such a case's panel ends as if it had "
            "started in the last month of its start period",
        ),
        _v(
            "closure_reason",
            t,
            "Abschlussgrund",
            "reason for closure",
            CATEGORY,
            "c.closure_reason",
            "faelle.abschluss_grund; as in CM09",
            missing="missing while the case is open",
            codes=CODE_LISTS["abschluss_grund"],
            indicators=("CM09",),
        ),
        _v(
            "contacts",
            t,
            "Beratungskontakte",
            "counselling contacts",
            INTEGER,
            "c.contacts",
            "number of kontakte of the case (whole duration)",
            indicators=("CM07",),
        ),
        _v(
            "contact_minutes",
            t,
            "Beratungsminuten",
            "counselling minutes",
            INTEGER,
            "c.contact_minutes",
            "sum of kontakte.dauer_min",
        ),
        _v(
            "contacts_per_case_month",
            t,
            "Kontakte je Fallmonat",
            "contacts per case-month",
            NUMBER,
            "round(c.contacts_per_case_month, 4)",
            "contacts / case-months, case-months = (duration_days + 1) / 30.4375 (CM07 for one "
            "case over its whole duration)",
            indicators=("CM07",),
        ),
        _v(
            "share_goal_linked",
            t,
            "Anteil zielbezogener Kontakte",
            "share of goal-linked contacts",
            NUMBER,
            "round(c.share_goal_linked, 4)",
            "contacts with a ziel_id / contacts (CM08 for one case)",
            missing="missing when the case has no contacts",
            indicators=("CM08",),
        ),
        _v(
            "referrals",
            t,
            "Verweisungen insgesamt",
            "referrals, total",
            INTEGER,
            "c.referrals",
            "contacts with a verweisung",
        ),
    ]
    out += [
        _v(
            f"referrals_{r.code.lower()}",
            t,
            f"Verweisungen: {r.label_de}",
            f"referrals: {r.label_en}",
            INTEGER,
            f"c.referrals_{r.code.lower()}",
            f"contacts with verweisung {r.code}",
        )
        for r in _REFERRALS
    ]
    out += [
        _v(
            "has_plan",
            t,
            "Integrationsplan vorhanden",
            "has an integration plan",
            BOOLEAN,
            "c.has_plan",
            "1 when any plan (plaene) belongs to the case, signed or not",
        ),
        _v(
            "plan_versions",
            t,
            "Planversionen",
            "plan versions",
            INTEGER,
            "c.plan_versions",
            "number of plan versions over all plans of the case",
        ),
        _v(
            "days_to_first_signature",
            t,
            "Tage bis zur ersten Unterschrift",
            "days to first signature",
            INTEGER,
            "c.days_to_first_signature",
            "first signature (earliest unterzeichnet_am over all plan versions) - "
            "erstkontakt_datum; as in CM01/CM02",
            missing="missing when no plan version is signed",
            indicators=("CM01", "CM02"),
        ),
        _v(
            "reviews_due",
            t,
            "fällige Planüberprüfungen",
            "plan reviews due",
            INTEGER,
            "c.reviews_due",
            "plan versions whose naechste_pruefung_am is on or before the end of observation and "
            "whose case was not closed before it (CM06 denominator for one case)",
            indicators=("CM06",),
        ),
        _v(
            "reviews_on_time",
            t,
            "rechtzeitige Planüberprüfungen",
            "plan reviews on time",
            INTEGER,
            "c.reviews_on_time",
            "of those, versions followed by a higher version created by the due date + 14 days "
            "(CM06 numerator)",
            indicators=("CM06",),
        ),
        _v(
            "goals_agreed",
            t,
            "vereinbarte Ziele insgesamt",
            "goals agreed, total",
            INTEGER,
            "c.goals_agreed",
            "ziele of the case's plans",
            indicators=("CM04",),
        ),
    ]
    for f in _FIELDS:
        c = f.code.lower()
        out += [
            _v(
                f"goals_{c}_agreed",
                t,
                f"Ziele {f.label_de}: vereinbart",
                f"goals {f.label_en}: agreed",
                INTEGER,
                f"c.goals_{c}_agreed",
                f"ziele with handlungsfeld {f.code}",
                indicators=("CM04",),
            ),
            _v(
                f"goals_{c}_met",
                t,
                f"Ziele {f.label_de}: erreicht",
                f"goals {f.label_en}: met",
                INTEGER,
                f"c.goals_{c}_met",
                "of those, status ERREICHT",
                indicators=("CM05",),
            ),
            _v(
                f"goals_{c}_partly",
                t,
                f"Ziele {f.label_de}: teilweise erreicht",
                f"goals {f.label_en}: partly met",
                INTEGER,
                f"c.goals_{c}_partly",
                "of those, status TEILWEISE",
                indicators=("CM05",),
            ),
            _v(
                f"goals_{c}_not_met",
                t,
                f"Ziele {f.label_de}: nicht erreicht",
                f"goals {f.label_en}: not met",
                INTEGER,
                f"c.goals_{c}_not_met",
                "of those, status NICHT_ERREICHT",
                indicators=("CM05",),
            ),
        ]
    for d in _DOMAINS:
        c = d.code.lower()
        none = f"missing when no {d.code} outcome was observed for the case"
        out += [
            _v(
                f"outcome_{c}_first",
                t,
                f"Ergebnis {d.label_de}: erster Wert",
                f"outcome {d.label_en}: first value",
                CATEGORY,
                f"c.outcome_{c}_first",
                f"ergebnisse.wert of the earliest observation with bereich {d.code}, "
                f"{_OUTCOME_WINDOW}",
                missing=none,
                codes=OUTCOME_VALUES[d.code],
            ),
            _v(
                f"outcome_{c}_last",
                t,
                f"Ergebnis {d.label_de}: letzter Wert",
                f"outcome {d.label_en}: last value",
                CATEGORY,
                f"c.outcome_{c}_last",
                f"ergebnisse.wert of the latest observation with bereich {d.code}",
                missing=none,
                codes=OUTCOME_VALUES[d.code],
            ),
            _v(
                f"outcome_{c}_months",
                t,
                f"Ergebnis {d.label_de}: Monate zwischen erstem und letztem Wert",
                f"outcome {d.label_en}: months between first and last value",
                INTEGER,
                f"c.outcome_{c}_months",
                "calendar months between the first and the last observation (0 = same month "
                "or one observation)",
                missing=none,
            ),
        ]
    out += [
        _v(
            "language_levels_gained",
            t,
            "gewonnene Sprachniveaus",
            "language levels gained",
            INTEGER,
            "c.language_levels_gained",
            "CEFR steps from the first to the last SPRACHE observation (KEINE = 0, A1 = 1 … "
            "C2 = 6); negative when lower",
            missing="missing when no SPRACHE outcome was observed",
        ),
        _v(
            "moved_out_of_au",
            t,
            "aus der Anschlussunterbringung ausgezogen",
            "moved out of follow-up accommodation",
            BOOLEAN,
            "c.moved_out_of_au",
            "1 when the first WOHNEN observation is AU and the last is not AU; 0 when both are AU",
            missing="missing when no WOHNEN outcome was observed or the first was not AU",
        ),
        _v(
            "employed_svb_or_training",
            t,
            "sozialversicherungspflichtig beschäftigt oder in Ausbildung (letzter Wert)",
            "employed subject to social insurance or in training (last value)",
            BOOLEAN,
            "c.employed_svb_or_training",
            "1 when the last ARBEIT observation is SVB or AUSBILDUNG",
            missing="missing when no ARBEIT outcome was observed",
        ),
    ]
    return out


def _case_month_variables() -> list[Variable]:
    t = CASE_MONTHS
    out = [
        _v(
            "case_id",
            t,
            "Fall (Studienpseudonym)",
            "case (study pseudonym)",
            ID,
            "imw_pseudonym($study || ':' || m.provider, m.case_id)",
            "as case_id of the cases table: join the two tables on it",
        ),
        _v(
            "month",
            t,
            "Kalendermonat",
            "calendar month",
            MONTH,
            "strftime(m.month_start, '%Y-%m')",
            "calendar month of this row; only in exports that keep the start month (a panel's "
            "calendar months would give the start month of a case away)",
            qi="start",
            detail=0,
        ),
        _v(
            "month_index",
            t,
            "Fallmonat (0 = Monat des Erstkontakts)",
            "case month (0 = month of first contact)",
            INTEGER,
            "m.month_index",
            "calendar months since the month of first contact",
        ),
        _v(
            "contacts",
            t,
            "Beratungskontakte im Monat",
            "contacts in the month",
            INTEGER,
            "m.contacts",
            "kontakte of the case with datum in the month",
            indicators=("CM07",),
        ),
        _v(
            "contact_minutes",
            t,
            "Beratungsminuten im Monat",
            "counselling minutes in the month",
            INTEGER,
            "m.contact_minutes",
            "sum of their dauer_min",
        ),
        _v(
            "goal_linked_contacts",
            t,
            "zielbezogene Kontakte im Monat",
            "goal-linked contacts in the month",
            INTEGER,
            "m.goal_linked_contacts",
            "of those, contacts with a ziel_id",
            indicators=("CM08",),
        ),
        _v(
            "referrals",
            t,
            "Verweisungen im Monat",
            "referrals in the month",
            INTEGER,
            "m.referrals",
            "of those, contacts with a verweisung",
        ),
        _v(
            "has_signed_plan",
            t,
            "unterschriebener Plan bis Monatsende",
            "signed plan by the end of the month",
            BOOLEAN,
            "m.has_signed_plan",
            "1 when the case's first signature is on or before the last day of the month",
            indicators=("CM01",),
        ),
        _v(
            "goals_agreed",
            t,
            "im Monat vereinbarte Ziele",
            "goals agreed in the month",
            INTEGER,
            "m.goals_agreed",
            "ziele of the case with vereinbart_am in the month",
            indicators=("CM04",),
        ),
        _v(
            "goals_met",
            t,
            "im Monat als erreicht bewertete Ziele",
            "goals assessed as met",
            INTEGER,
            "m.goals_met",
            "ziele with bewertet_am in the month and status ERREICHT",
            indicators=("CM05",),
        ),
        _v(
            "goals_partly",
            t,
            "im Monat als teilweise erreicht bewertete Ziele",
            "goals assessed as partly met",
            INTEGER,
            "m.goals_partly",
            "ziele with bewertet_am in the month and status TEILWEISE",
            indicators=("CM05",),
        ),
        _v(
            "goals_not_met",
            t,
            "im Monat als nicht erreicht bewertete Ziele",
            "goals assessed as not met",
            INTEGER,
            "m.goals_not_met",
            "ziele with bewertet_am in the month and status NICHT_ERREICHT",
            indicators=("CM05",),
        ),
        _v(
            "status_category",
            t,
            "Aufenthaltsstatus (Kategorie) am Monatsende",
            "residence status category at the end of the month",
            CATEGORY,
            "m.status_category",
            "category of the aufenthalt row valid on the month's last observed day "
            "(docs/domain.md)",
            codes=STATUS_CATEGORIES,
            indicators=("EL02",),
        ),
        _v(
            "prospect",
            t,
            "Bleibeperspektive am Monatsende",
            "prospect of staying at the end of the month",
            CATEGORY,
            "m.prospect",
            "prospect of that status (docs/domain.md)",
            codes=PROSPECTS,
            indicators=("EL01",),
        ),
    ]
    for d in _DOMAINS:
        c = d.code.lower()
        out.append(
            _v(
                f"outcome_{c}",
                t,
                f"Ergebnis {d.label_de} im Monat",
                f"outcome {d.label_en} in the month",
                CATEGORY,
                f"m.outcome_{c}",
                f"ergebnisse.wert of the month's last observation with bereich {d.code}",
                missing="missing when none was observed in the month",
                codes=OUTCOME_VALUES[d.code],
            )
        )
    out += [
        _v(
            "is_closed_in_month",
            t,
            "Fallabschluss im Monat",
            "case closed in the month",
            BOOLEAN,
            "m.is_closed_in_month",
            "1 in the month of faelle.abschluss_datum (the event)",
        ),
        _v(
            "closure_reason",
            t,
            "Abschlussgrund",
            "reason for closure",
            CATEGORY,
            "m.closure_reason",
            "faelle.abschluss_grund, in the month of closure only",
            missing="missing in every month but the month of closure",
            codes=CODE_LISTS["abschluss_grund"],
            indicators=("CM09",),
        ),
    ]
    return out


VARIABLES: tuple[Variable, ...] = (*_case_variables(), *_case_month_variables())


def variables(table: str) -> list[Variable]:
    return [v for v in VARIABLES if v.table == table]


# --- the codebook ------------------------------------------------------------------------------
def _codes_json(codes: tuple[Code, ...]) -> list[dict[str, object]]:
    return [
        {"code": c.code, "label_de": c.label_de, "label_en": c.label_en, "stata_value": i}
        for i, c in enumerate(codes)
    ]


def codebook(
    study: str,
    frames: dict,
    data_codes: dict[str, tuple[Code, ...]],
    k_anonymity: dict[str, object],
) -> dict[str, object]:
    """The machine-readable codebook of one export: every column of every table, in file order.

    `frames` maps table name → its exported frame (polars; only `columns` and `height` are used).
    """
    tables = []
    for table, frame in frames.items():
        by_name = {v.name: v for v in variables(table)}
        columns = []
        for name in frame.columns:
            v = by_name[name]
            entry: dict[str, object] = {
                "name": v.name,
                "label_de": v.label_de,
                "label_en": v.label_en,
                "type": v.kind,
                "type_description": KINDS[v.kind],
                "derivation": v.derivation,
                "indicators": list(v.indicators),
                "missing": v.missing,
                "quasi_identifier": v.qi is not None,
            }
            if v.kind == CATEGORY:
                entry["codes"] = _codes_json(v.codes if v.codes is not None else data_codes[name])
            columns.append(entry)
        tables.append(
            {
                "name": table,
                "description": TABLES[table],
                "rows": frame.height,
                "variables": columns,
            }
        )
    return {
        "study": study,
        "about": "Evaluator export of the Integrationsmanagement indicator warehouse "
        "(Baden-Württemberg). Indicator ids refer to the indicator catalogue (table "
        "indicator_definitions of the analyst database).",
        "rules": [
            "ids are study pseudonyms: they cannot be joined with another study's export",
            "no exact dates: months (YYYY-MM) and day counts only; no Gemeinde; no free text",
            "missing values: empty in CSV, null in Parquet, '.' (numbers) or '' (strings) in Stata",
            "Stata: categories are labelled integers; stata_value is the stored number",
        ],
        "k_anonymity": k_anonymity,
        "tables": tables,
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(book: dict) -> str:
    """The codebook as Markdown, from the JSON codebook (so the two never disagree)."""
    k = book["k_anonymity"]
    lines = [
        f"# Codebook — evaluator export, study `{book['study']}`",
        "",
        book["about"],
        "",
        *(f"- {rule}" for rule in book["rules"]),
        "",
        "## k-anonymity",
        "",
        f"- k = {k['k']} (counted in {k['counted_in']}); smallest class after suppression: "
        f"{k['k_reached']}",
        f"- quasi-identifiers: {', '.join(f'`{q}`' for q in k['quasi_identifiers'])}",
        f"- generalised: {'; '.join(k['generalisations']) or 'nothing'} (search over every "
        f"combination of levels; least {k['loss_measure']}: {k['loss_bits']} bits)",
        "- ℓ-diversity of the status category at case start: "
        + (f"ℓ = {k['l_diversity']['l']}" if k.get("l_diversity") else "off"),
        f"- suppressed: {k['suppressed_cases']} cases and their {k['suppressed_case_months']} "
        "case-months",
        "",
    ]
    for table in book["tables"]:
        lines += [
            f"## `{table['name']}` — {table['description']} ({table['rows']} rows)",
            "",
            "| variable | Bezeichnung | label | type | derivation | indicators | missing |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{v['name']}` | {_cell(v['label_de'])} | {_cell(v['label_en'])} | {v['type']} | "
            f"{_cell(v['derivation'])} | {', '.join(v['indicators'])} | {_cell(v['missing'])} |"
            for v in table["variables"]
        ]
        lines.append("")
        for v in table["variables"]:
            if "codes" not in v:
                continue
            lines += [
                f"### `{table['name']}.{v['name']}` codes",
                "",
                "| code | Bezeichnung | label | Stata value |",
                "|---|---|---|---|",
                *(
                    f"| `{c['code']}` | {_cell(c['label_de'])} | {_cell(c['label_en'])} | "
                    f"{c['stata_value']} |"
                    for c in v["codes"]
                ),
                "",
            ]
    return "\n".join(lines)
