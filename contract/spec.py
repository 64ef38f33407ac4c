"""Extract contract v1.1 — the single definition of what providers and the funding authority
deliver.

Readers, validation, the municipal documentation (`docs/extract-contract.md`), the dbt sources and
staging models and the code-list seeds are all derived from the objects in this module
(see `contract.codegen`). Change the contract here and regenerate; a test fails when a derived file
is stale.

Delivered column names are German (the municipalities' software speaks German); `field` is the
English name used inside the warehouse from the staging layer on.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from functools import cache

CONTRACT_VERSION = "1.1"
AUTHORITY_PROVIDER = "08"
ID_MAX_LENGTH = 64
MIN_BIRTH_YEAR = 1900
MAX_BAD_ROW_SHARE = 0.05

# Limits on what a delivered file may be: beyond them the file is rejected whole before it is
# parsed, so no single file can exhaust the build's memory or stop it (see the contract doc).
PROGRAMME_START = dt.date(2017, 1, 1)
"""A `stand` before the programme began is a typo."""
STAND_TOLERANCE_DAYS = 1
"""A `stand` may be at most this many days after the day the file arrives (time zones)."""
CSV_MAX_HEADER_CHARS = 65_536
CSV_MAX_SURPLUS_FIELDS = 100
"""Rows with up to this many fields more than the header are row errors; more: file rejected."""
XLSX_MAX_CELLS = 10_000_000
"""Rows × columns of the first sheet, as declared (`<dimension>`) and as used by its cells."""
XLSX_MAX_INFLATED_BYTES = 256 * 1024 * 1024
"""Uncompressed size of the whole workbook (every part of the ZIP container)."""
ECHO_MAX_CHARS = 80
"""Longest delivered value quoted in a report; longer ones are cut and end in "…"."""

FILE_NAME_PATTERN = re.compile(
    r"^(?P<extract>[a-z]+)_(?P<provider>08[0-9]{3}(?:[0-9]{3})?|08)"
    r"_(?P<stand>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"\.(?P<suffix>csv|xlsx)$",
    re.IGNORECASE,
)
"""`<extract>_<provider>_<stand>.<csv|xlsx>`; provider is an AGS (8 or 5 digits, or 08)."""


class ColumnType(enum.StrEnum):
    ID = "id"
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"
    CODE = "code"
    TEXT = "text"
    AGS8 = "ags8"
    AGS = "ags5|ags8"
    BOOL = "bool"


DUCKDB_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "UHUGEINT",  # warehouse id: the HMAC-SHA256 pseudonym's first 128 bits
    ColumnType.INT: "INTEGER",
    ColumnType.DECIMAL: "DECIMAL(18,2)",
    ColumnType.DATE: "DATE",
    ColumnType.CODE: "VARCHAR",
    ColumnType.TEXT: "BOOLEAN",  # free text is never stored, only whether it is present
    ColumnType.AGS8: "VARCHAR",
    ColumnType.AGS: "VARCHAR",
    ColumnType.BOOL: "BOOLEAN",
}

TYPE_DOC_DE: dict[ColumnType, str] = {
    ColumnType.ID: "Kennung (Text, 1–64 Zeichen)",
    ColumnType.INT: "Ganzzahl ohne Trennzeichen",
    ColumnType.DECIMAL: "Dezimalzahl (`1234,56`, `1.234,56` oder `1234.56`)",
    ColumnType.DATE: "Datum (`JJJJ-MM-TT` oder `TT.MM.JJJJ`)",
    ColumnType.CODE: "Code",
    ColumnType.TEXT: "Freitext (wird nie gespeichert, nur ob vorhanden)",
    ColumnType.AGS8: "AGS, 8 Stellen",
    ColumnType.AGS: "AGS, 5 oder 8 Stellen",
    ColumnType.BOOL: "Wahrheitswert (`ja/nein`, `j/n`, `1/0`, `true/false`)",
}

TRUE_SPELLINGS = ("ja", "j", "1", "true")
FALSE_SPELLINGS = ("nein", "n", "0", "false")


# --------------------------------------------------------------------------------------------
# Code lists
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    code: str
    label_de: str
    label_en: str


@dataclass(frozen=True)
class StatusCode(Code):
    category: str
    prospect: str


def _codes(*rows: tuple[str, str, str]) -> tuple[Code, ...]:
    return tuple(Code(*row) for row in rows)


STATUS_CODES: tuple[StatusCode, ...] = tuple(
    StatusCode(*row)
    for row in (
        ("AE_25_1", "Asylberechtigung (Art. 16a GG)", "asylum (Art. 16a GG)", "SCHUTZ", "JA"),
        ("AE_25_2_FL", "Flüchtlingseigenschaft (GFK)", "refugee status (GFK)", "SCHUTZ", "JA"),
        ("AE_25_2_SUB", "subsidiärer Schutz", "subsidiary protection", "SCHUTZ", "JA"),
        ("AE_25_3", "nationales Abschiebungsverbot", "national ban on deportation", "SCHUTZ", "JA"),
        (
            "AE_22_23",
            "Aufnahme aus dem Ausland / Landesaufnahme",
            "admission from abroad / state admission",
            "SCHUTZ",
            "JA",
        ),
        (
            "AE_24",
            "vorübergehender Schutz (Ukraine)",
            "temporary protection (Ukraine)",
            "SCHUTZ",
            "JA",
        ),
        (
            "AE_25_5",
            "humanitär, Ausreise unmöglich",
            "humanitarian, departure impossible",
            "HUMANITAER",
            "JA",
        ),
        (
            "AE_25A_25B",
            "Bleiberecht für gut integrierte Personen",
            "right to stay for integrated persons",
            "BLEIBERECHT",
            "JA",
        ),
        (
            "AE_104C",
            "Chancen-Aufenthaltsrecht",
            "opportunity residence",
            "BLEIBERECHT",
            "BEDINGT",
        ),
        (
            "AE_SONST",
            "sonstige Aufenthaltserlaubnis (Familie, Arbeit)",
            "other residence permit (family, work)",
            "SONSTIGE",
            "JA",
        ),
        ("NE", "Niederlassungserlaubnis", "settlement permit", "NIEDERLASSUNG", "JA"),
        ("EINGEBUERGERT", "eingebürgert", "naturalised", "DEUTSCH", "JA"),
        (
            "GEST_GUT",
            "Aufenthaltsgestattung, gute Bleibeperspektive",
            "asylum seeker from a country with good prospects",
            "GESTATTUNG",
            "BEDINGT",
        ),
        (
            "GEST_SONST",
            "sonstige Aufenthaltsgestattung",
            "other asylum seeker",
            "GESTATTUNG",
            "NEIN",
        ),
        ("DUL_60A", "Duldung", "Duldung", "AUSREISEPFLICHTIG", "NEIN"),
        (
            "DUL_60B",
            "Duldung bei ungeklärter Identität",
            "Duldung, unclear identity",
            "AUSREISEPFLICHTIG",
            "NEIN",
        ),
        ("DUL_60C", "Ausbildungsduldung", "training Duldung", "AUSREISEPFLICHTIG", "BEDINGT"),
        ("DUL_60D", "Beschäftigungsduldung", "employment Duldung", "AUSREISEPFLICHTIG", "BEDINGT"),
        (
            "AUSREISE",
            "vollziehbar ausreisepflichtig ohne Duldung",
            "enforceably obliged to leave, no Duldung",
            "AUSREISEPFLICHTIG",
            "NEIN",
        ),
        ("UNBEKANNT", "unbekannt", "unknown", "UNBEKANNT", "UNBEKANNT"),
    )
)

HANDLUNGSFELDER = _codes(
    ("SPRACHE", "Sprache", "language"),
    ("BILDUNG", "Bildung", "education"),
    ("ARBEIT", "Arbeit", "work"),
    ("WOHNEN", "Wohnen", "housing"),
    ("GESUNDHEIT", "Gesundheit", "health"),
    ("FAMILIE", "Familie", "family"),
    ("TEILHABE", "gesellschaftliche Teilhabe", "social participation"),
    ("AUFENTHALT", "Aufenthalt", "residence"),
    ("FINANZEN", "Finanzen", "finances"),
)


def _country_codes() -> tuple[Code, ...]:
    import gettext

    import pycountry

    german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"])
    countries = sorted(pycountry.countries, key=lambda c: c.alpha_3)
    return (
        *(Code(c.alpha_3, german.gettext(c.name), c.name) for c in countries),
        Code("XXX", "staatenlos / unbekannt", "stateless / unknown"),
    )


CODE_LISTS: dict[str, tuple[Code, ...]] = {
    "geschlecht": _codes(
        ("m", "männlich", "male"),
        ("w", "weiblich", "female"),
        ("d", "divers", "diverse"),
        ("u", "unbekannt / keine Angabe", "unknown / not stated"),
    ),
    "status_code": STATUS_CODES,
    "fallart": _codes(
        ("CM", "Case Management", "case management"),
        ("KB", "Kurzberatung", "short counselling"),
    ),
    "abschluss_grund": _codes(
        ("ZIELE_ERREICHT", "Ziele erreicht", "goals achieved"),
        (
            "AUSZUG_AU",
            "Auszug aus der Anschlussunterbringung",
            "moved out of follow-up accommodation",
        ),
        ("WEGZUG", "Wegzug", "moved away"),
        ("HOECHSTDAUER", "Höchstdauer erreicht", "maximum duration reached"),
        ("KONTAKTABBRUCH", "Kontaktabbruch", "contact broken off"),
        ("AUSREISE", "Ausreise", "departure"),
        ("SONSTIGES", "Sonstiges", "other"),
    ),
    "handlungsfeld": HANDLUNGSFELDER,
    "ziel_status": _codes(
        ("OFFEN", "offen", "open"),
        ("ERREICHT", "erreicht", "met"),
        ("TEILWEISE", "teilweise erreicht", "partly met"),
        ("NICHT_ERREICHT", "nicht erreicht", "not met"),
        ("ENTFALLEN", "entfallen", "dropped"),
    ),
    "kontaktart": _codes(
        ("PERSOENLICH", "persönlich", "in person"),
        ("TELEFON", "telefonisch", "telephone"),
        ("DIGITAL", "digital", "digital"),
        ("AUFSUCHEND", "aufsuchend", "outreach"),
    ),
    "thema": (
        *HANDLUNGSFELDER,
        Code(
            "ALLTAG",
            "Alltagsbewältigung (allgemeine Sozialberatung)",
            "everyday social counselling",
        ),
        Code("SONSTIGES", "Sonstiges", "other"),
    ),
    "verweisung": _codes(
        ("SPRACHKURS", "Sprachkurs", "language course"),
        ("JOBCENTER", "Jobcenter", "job centre"),
        ("AGENTUR_FUER_ARBEIT", "Agentur für Arbeit", "employment agency"),
        (
            "MIGRATIONSBERATUNG",
            "Migrationsberatung für Erwachsene",
            "migration counselling for adults",
        ),
        ("JUGENDMIGRATIONSDIENST", "Jugendmigrationsdienst", "youth migration service"),
        ("GESUNDHEITSDIENST", "Gesundheitsdienst", "health service"),
        ("SCHULE_KITA", "Schule / Kita", "school / day care"),
        ("SCHULDNERBERATUNG", "Schuldnerberatung", "debt counselling"),
        ("RECHTSBERATUNG", "Rechtsberatung", "legal advice"),
        ("SONSTIGE", "sonstige Stelle", "other service"),
    ),
    "bereich": _codes(
        ("SPRACHE", "Sprache", "language"),
        ("ARBEIT", "Arbeit", "work"),
        ("WOHNEN", "Wohnen", "housing"),
        ("BILDUNG", "Bildung", "education"),
    ),
    "qualifikation": _codes(
        (
            "BACHELOR",
            "Bachelor (Soziale Arbeit o. ä.)",
            "bachelor's degree (social work or similar)",
        ),
        ("GLEICHWERTIG", "gleichwertige Qualifikation", "equivalent qualification"),
        (
            "MITTLERER_ABSCHLUSS",
            "mittlerer Abschluss mit Erfahrung",
            "intermediate with experience",
        ),
    ),
}

OUTCOME_VALUES: dict[str, tuple[Code, ...]] = {
    "SPRACHE": _codes(
        ("KEINE", "keine Deutschkenntnisse", "no German"),
        ("A1", "A1", "A1"),
        ("A2", "A2", "A2"),
        ("B1", "B1", "B1"),
        ("B2", "B2", "B2"),
        ("C1", "C1", "C1"),
        ("C2", "C2", "C2"),
    ),
    "ARBEIT": _codes(
        ("KEINE", "keine Erwerbstätigkeit", "not employed"),
        ("MINIJOB", "Minijob", "marginal employment"),
        ("SVB", "sozialversicherungspflichtig beschäftigt", "employed subject to social insurance"),
        ("AUSBILDUNG", "Ausbildung", "vocational training"),
        ("SELBSTSTAENDIG", "selbstständig", "self-employed"),
        ("MASSNAHME", "Maßnahme", "labour-market programme"),
    ),
    "WOHNEN": _codes(
        ("AU", "Anschlussunterbringung", "follow-up accommodation"),
        ("EIGENE_WOHNUNG", "eigene Wohnung", "own flat"),
        ("SONSTIGE", "sonstige Unterkunft", "other accommodation"),
    ),
    "BILDUNG": _codes(
        ("KEINE", "keine", "none"),
        ("INTEGRATIONSKURS", "Integrationskurs", "integration course"),
        ("SCHULE", "Schule", "school"),
        ("BERUFSSCHULE", "Berufsschule", "vocational school"),
        ("STUDIUM", "Studium", "university"),
        ("ANERKENNUNG", "Anerkennungsverfahren", "recognition of qualifications"),
    ),
}
"""Allowed `ergebnisse.wert` per `ergebnisse.bereich` (a conditional code list)."""


@cache
def code_list(name: str) -> tuple[Code, ...]:
    if name == "staatsangehoerigkeit":
        return _country_codes()
    if name == "wert":
        return tuple({c.code: c for codes in OUTCOME_VALUES.values() for c in codes}.values())
    return CODE_LISTS[name]


def code_values(name: str) -> tuple[str, ...]:
    return tuple(c.code for c in code_list(name))


# --------------------------------------------------------------------------------------------
# Columns, row rules and extracts
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A reference to another extract of the same provider (funding extracts: of `08`)."""

    extract: str
    column: str


@dataclass(frozen=True)
class Column:
    name: str
    field: str
    type: ColumnType
    description_en: str
    rule_de: str = ""
    required: bool = False
    unique: bool = False
    codes: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_exclusive: bool = False
    max_is_stand_year: bool = False
    not_after_stand: bool = False
    ref: Ref | None = None
    default: str | None = None

    @property
    def raw_name(self) -> str:
        """The column's name in the raw layer (free text is stored only as presence)."""
        return f"{self.name}_vorhanden" if self.type is ColumnType.TEXT else self.name

    @property
    def stored_field(self) -> str:
        return f"has_{self.field}" if self.type is ColumnType.TEXT else self.field

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def is_pseudonymised(self) -> bool:
        return self.type is ColumnType.ID


class RuleKind(enum.StrEnum):
    DATE_ORDER = "date_order"  # column >= other (both present)
    REQUIRED_IFF = "required_iff"  # column present exactly when other present
    REQUIRED_UNLESS = "required_unless"  # column required unless other == value
    UNIQUE_KEY = "unique_key"  # combination of columns unique
    SAME_WITHIN = "same_within"  # column constant within groups of other
    NO_OVERLAP = "no_overlap"  # [from, to] periods within a group do not overlap
    CODE_BY = "code_by"  # column's code list depends on other's value


@dataclass(frozen=True)
class RowRule:
    kind: RuleKind
    columns: tuple[str, ...]
    text_de: str
    text_en: str
    value: str | None = None


@dataclass(frozen=True)
class Extract:
    name: str
    table: str
    source: str  # "provider" or "authority"
    title_de: str
    description_en: str
    grain_en: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = field(default=())

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def raw_table(self) -> str:
        return self.name

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")


C = ColumnType


def _id(name: str, field_: str, desc: str, **kw) -> Column:
    return Column(name, field_, C.ID, desc, **kw)


PROVIDER_EXTRACTS: tuple[Extract, ...] = (
    Extract(
        "personen",
        "persons",
        "provider",
        "eine Zeile je Person",
        "Persons counselled by the provider.",
        "one row per person",
        (
            _id(
                "person_id",
                "person_id",
                "Pseudonym of the provider's person id.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            Column(
                "geburtsjahr",
                "birth_year",
                C.INT,
                "Year of birth.",
                rule_de="Pflicht, 1900 bis Jahr des Stands",
                required=True,
                min_value=MIN_BIRTH_YEAR,
                max_is_stand_year=True,
            ),
            Column("geschlecht", "sex", C.CODE, "Sex.", rule_de="m, w, d, u", codes="geschlecht"),
            Column(
                "staatsangehoerigkeit",
                "nationality",
                C.CODE,
                "Nationality, ISO 3166-1 alpha-3 (XXX = stateless or unknown).",
                rule_de="ISO 3166-1 alpha-3 oder XXX (staatenlos/unbekannt)",
                codes="staatsangehoerigkeit",
            ),
            Column(
                "einreisedatum",
                "arrival_date",
                C.DATE,
                "Date of entry into Germany.",
                rule_de="optional, <= Stand",
                not_after_stand=True,
            ),
            Column(
                "au_beginn",
                "au_start",
                C.DATE,
                "Start of follow-up accommodation (AU).",
                rule_de="Pflicht: Beginn der Anschlussunterbringung",
                required=True,
            ),
            Column(
                "au_ende",
                "au_end",
                C.DATE,
                "End of follow-up accommodation (AU).",
                rule_de="optional, >= au_beginn",
            ),
            Column(
                "wohngemeinde_ags",
                "residence_ags",
                C.AGS8,
                "AGS of the municipality of residence.",
                rule_de="Pflicht, 8 Stellen, beginnt mit 08",
                required=True,
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("au_ende", "au_beginn"),
                "au_ende darf nicht vor au_beginn liegen",
                "au_ende must not be before au_beginn",
            ),
        ),
    ),
    Extract(
        "aufenthalt",
        "residence_status",
        "provider",
        "Verlauf des Aufenthaltsstatus",
        "Residence status history of each person.",
        "one row per person and status period",
        (
            _id(
                "person_id",
                "person_id",
                "Pseudonym of the person.",
                rule_de="Pflicht, existiert in personen",
                required=True,
                ref=Ref("personen", "person_id"),
            ),
            Column(
                "status_code",
                "status_code",
                C.CODE,
                "Residence status code (docs/domain.md).",
                rule_de="Statusliste (siehe Codelisten)",
                required=True,
                codes="status_code",
            ),
            Column(
                "gueltig_ab",
                "valid_from",
                C.DATE,
                "First day the status applies.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "gueltig_bis",
                "valid_to",
                C.DATE,
                "Last day the status applies (empty: open).",
                rule_de="optional, >= gueltig_ab",
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("gueltig_bis", "gueltig_ab"),
                "gueltig_bis darf nicht vor gueltig_ab liegen",
                "gueltig_bis must not be before gueltig_ab",
            ),
            RowRule(
                RuleKind.NO_OVERLAP,
                ("person_id", "gueltig_ab", "gueltig_bis"),
                "Zeiträume einer Person dürfen sich nicht überschneiden",
                "status periods of one person must not overlap",
            ),
        ),
    ),
    Extract(
        "faelle",
        "cases",
        "provider",
        "Fälle",
        "Counselling cases (case management or short counselling).",
        "one row per case",
        (
            _id(
                "fall_id",
                "case_id",
                "Pseudonym of the case.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            _id(
                "person_id",
                "person_id",
                "Pseudonym of the counselled person.",
                rule_de="existiert in personen",
                required=True,
                ref=Ref("personen", "person_id"),
            ),
            _id(
                "stellen_id",
                "position_id",
                "Pseudonym of the position handling the case.",
                rule_de="existiert in stellen",
                required=True,
                ref=Ref("stellen", "stellen_id"),
            ),
            Column(
                "fallart",
                "case_type",
                C.CODE,
                "CM = case management, KB = short counselling.",
                rule_de="CM (Case Management), KB (Kurzberatung)",
                required=True,
                codes="fallart",
            ),
            Column(
                "erstkontakt_datum",
                "first_contact_date",
                C.DATE,
                "Date of first contact.",
                rule_de="Pflicht, <= Stand",
                required=True,
                not_after_stand=True,
            ),
            Column(
                "abschluss_datum",
                "closure_date",
                C.DATE,
                "Date the case was closed.",
                rule_de="optional, >= erstkontakt_datum, <= Stand",
                not_after_stand=True,
            ),
            Column(
                "abschluss_grund",
                "closure_reason",
                C.CODE,
                "Reason for closure.",
                rule_de="Pflicht genau dann, wenn abschluss_datum gefüllt ist",
                codes="abschluss_grund",
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("abschluss_datum", "erstkontakt_datum"),
                "abschluss_datum darf nicht vor erstkontakt_datum liegen",
                "abschluss_datum must not be before erstkontakt_datum",
            ),
            RowRule(
                RuleKind.REQUIRED_IFF,
                ("abschluss_grund", "abschluss_datum"),
                "abschluss_grund ist genau dann anzugeben, wenn abschluss_datum gefüllt ist",
                "abschluss_grund is required exactly when abschluss_datum is filled",
            ),
        ),
    ),
    Extract(
        "plaene",
        "plan_versions",
        "provider",
        "Integrationspläne, eine Zeile je Planversion",
        "Integration plans, one row per plan version (Fortschreibung).",
        "one row per plan and version",
        (
            _id(
                "plan_id",
                "plan_id",
                "Pseudonym of the plan.",
                rule_de="Pflicht; (plan_id, version) eindeutig",
                required=True,
            ),
            Column(
                "version",
                "version",
                C.INT,
                "Version number of the plan.",
                rule_de=">= 1",
                required=True,
                min_value=1,
            ),
            _id(
                "fall_id",
                "case_id",
                "Pseudonym of the plan's case.",
                rule_de="existiert in faelle; gleich für alle Versionen eines Plans",
                required=True,
                ref=Ref("faelle", "fall_id"),
            ),
            Column(
                "erstellt_am",
                "created_on",
                C.DATE,
                "Date the version was drawn up.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "unterzeichnet_am",
                "signed_on",
                C.DATE,
                "Date the version was signed (empty: unsigned draft).",
                rule_de="optional (Entwurf), >= erstellt_am",
            ),
            Column(
                "naechste_pruefung_am",
                "review_due_on",
                C.DATE,
                "Review due date of this version.",
                rule_de="optional: Prüftermin",
            ),
        ),
        (
            RowRule(
                RuleKind.UNIQUE_KEY,
                ("plan_id", "version"),
                "(plan_id, version) darf nur einmal vorkommen",
                "(plan_id, version) must be unique",
            ),
            RowRule(
                RuleKind.DATE_ORDER,
                ("unterzeichnet_am", "erstellt_am"),
                "unterzeichnet_am darf nicht vor erstellt_am liegen",
                "unterzeichnet_am must not be before erstellt_am",
            ),
            RowRule(
                RuleKind.SAME_WITHIN,
                ("fall_id", "plan_id"),
                "alle Versionen eines Plans gehören zum selben Fall",
                "all versions of a plan belong to the same case",
            ),
        ),
    ),
    Extract(
        "ziele",
        "goals",
        "provider",
        "in einem Plan vereinbarte Ziele",
        "Goals agreed in an integration plan.",
        "one row per goal",
        (
            _id(
                "ziel_id",
                "goal_id",
                "Pseudonym of the goal.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            _id(
                "plan_id",
                "plan_id",
                "Pseudonym of the plan the goal was agreed in.",
                rule_de="existiert in plaene",
                required=True,
                ref=Ref("plaene", "plan_id"),
            ),
            Column(
                "handlungsfeld",
                "field",
                C.CODE,
                "Field of action (Handlungsfeld).",
                rule_de="Handlungsfelder (siehe Codelisten)",
                required=True,
                codes="handlungsfeld",
            ),
            Column(
                "vereinbart_am",
                "agreed_on",
                C.DATE,
                "Date the goal was agreed.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "zieldatum", "target_date", C.DATE, "Target date.", rule_de="optional: Zieldatum"
            ),
            Column(
                "messkriterium",
                "measurable_criterion",
                C.TEXT,
                "Whether the goal has a measurable criterion (the text itself is never stored).",
                rule_de="optional, Freitext; wird nie gespeichert, nur „vorhanden: ja/nein“",
            ),
            Column(
                "status",
                "status",
                C.CODE,
                "Assessment status of the goal.",
                rule_de="OFFEN, ERREICHT, TEILWEISE, NICHT_ERREICHT, ENTFALLEN",
                required=True,
                codes="ziel_status",
            ),
            Column(
                "bewertet_am",
                "assessed_on",
                C.DATE,
                "Date the goal was assessed.",
                rule_de="Pflicht, außer bei Status OFFEN",
            ),
        ),
        (
            RowRule(
                RuleKind.REQUIRED_UNLESS,
                ("bewertet_am", "status"),
                "bewertet_am ist Pflicht, außer bei Status OFFEN",
                "bewertet_am is required unless status is OFFEN",
                value="OFFEN",
            ),
        ),
    ),
    Extract(
        "kontakte",
        "contacts",
        "provider",
        "Beratungskontakte",
        "Counselling contacts.",
        "one row per contact",
        (
            _id(
                "kontakt_id",
                "contact_id",
                "Pseudonym of the contact.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            _id(
                "fall_id",
                "case_id",
                "Pseudonym of the contact's case.",
                rule_de="existiert in faelle",
                required=True,
                ref=Ref("faelle", "fall_id"),
            ),
            Column(
                "datum",
                "contact_date",
                C.DATE,
                "Date of the contact.",
                rule_de="Pflicht, <= Stand",
                required=True,
                not_after_stand=True,
            ),
            Column(
                "dauer_min",
                "duration_min",
                C.INT,
                "Duration in minutes.",
                rule_de="1 bis 600",
                required=True,
                min_value=1,
                max_value=600,
            ),
            Column(
                "kontaktart",
                "contact_mode",
                C.CODE,
                "Mode of contact.",
                rule_de="PERSOENLICH, TELEFON, DIGITAL, AUFSUCHEND",
                required=True,
                codes="kontaktart",
            ),
            Column(
                "thema",
                "topic",
                C.CODE,
                "Main topic of the contact.",
                rule_de="Handlungsfelder, ALLTAG (allgemeine Sozialberatung), SONSTIGES",
                required=True,
                codes="thema",
            ),
            _id(
                "ziel_id",
                "goal_id",
                "Pseudonym of the agreed goal the contact worked on.",
                rule_de="optional: bearbeitetes Ziel; existiert in ziele",
                ref=Ref("ziele", "ziel_id"),
            ),
            Column(
                "verweisung",
                "referral",
                C.CODE,
                "Referral made in the contact.",
                rule_de="optional: Verweisung (siehe Codelisten)",
                codes="verweisung",
            ),
        ),
    ),
    Extract(
        "ergebnisse",
        "outcomes",
        "provider",
        "Ergebnisbeobachtungen (für Wirkungsstudien)",
        "Outcome observations for outcome studies.",
        "one row per case, observation date and domain",
        (
            _id(
                "fall_id",
                "case_id",
                "Pseudonym of the case.",
                rule_de="existiert in faelle",
                required=True,
                ref=Ref("faelle", "fall_id"),
            ),
            Column(
                "erhoben_am",
                "observed_on",
                C.DATE,
                "Date of the observation.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "bereich",
                "domain",
                C.CODE,
                "Outcome domain.",
                rule_de="SPRACHE, ARBEIT, WOHNEN, BILDUNG",
                required=True,
                codes="bereich",
            ),
            Column(
                "wert",
                "outcome_value",
                C.CODE,
                "Observed value (code list per domain).",
                rule_de="Werteliste je Bereich (siehe Codelisten)",
                required=True,
                codes="wert",
            ),
        ),
        (
            RowRule(
                RuleKind.UNIQUE_KEY,
                ("fall_id", "erhoben_am", "bereich"),
                "(fall_id, erhoben_am, bereich) darf nur einmal vorkommen",
                "(fall_id, erhoben_am, bereich) must be unique",
            ),
            RowRule(
                RuleKind.CODE_BY,
                ("wert", "bereich"),
                "wert muss zur Werteliste des Bereichs passen",
                "wert must be in the code list of its bereich",
            ),
        ),
    ),
    Extract(
        "stellen",
        "positions",
        "provider",
        "geförderte Stellen",
        "Funded integration-manager positions.",
        "one row per position",
        (
            _id(
                "stellen_id",
                "position_id",
                "Pseudonym of the position.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            Column(
                "vzae",
                "fte",
                C.DECIMAL,
                "Full-time equivalent of the position.",
                rule_de="0,25 bis 1,0",
                required=True,
                min_value=0.25,
                max_value=1.0,
            ),
            Column(
                "qualifikation",
                "qualification",
                C.CODE,
                "Qualification of the holder.",
                rule_de="BACHELOR, GLEICHWERTIG, MITTLERER_ABSCHLUSS",
                required=True,
                codes="qualifikation",
            ),
            Column(
                "beginn",
                "start_date",
                C.DATE,
                "Start of the position.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "ende", "end_date", C.DATE, "End of the position.", rule_de="optional, >= beginn"
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("ende", "beginn"),
                "ende darf nicht vor beginn liegen",
                "ende must not be before beginn",
            ),
        ),
    ),
)

AUTHORITY_EXTRACTS: tuple[Extract, ...] = (
    Extract(
        "bewilligungen",
        "grants",
        "authority",
        "Bewilligungen (Zuwendungsbescheide)",
        "Grants (funding decisions).",
        "one row per grant",
        (
            _id(
                "bescheid_nr",
                "grant_id",
                "Pseudonym of the grant's decision number.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            Column(
                "antragsteller_ags",
                "applicant_ags",
                C.AGS,
                "AGS of the applicant, i.e. the provider.",
                rule_de="Pflicht, AGS mit 5 oder 8 Stellen (der Träger)",
                required=True,
            ),
            Column(
                "bewilligt_am",
                "granted_on",
                C.DATE,
                "Date of the decision.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "zeitraum_von",
                "period_from",
                C.DATE,
                "First day of the funding period.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "zeitraum_bis",
                "period_to",
                C.DATE,
                "Last day of the funding period.",
                rule_de="Pflicht, >= zeitraum_von",
                required=True,
            ),
            Column(
                "foerdersumme_eur",
                "amount_eur",
                C.DECIMAL,
                "Granted amount in EUR.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
            Column(
                "vzae_bewilligt",
                "fte_granted",
                C.DECIMAL,
                "Granted full-time equivalents.",
                rule_de="Pflicht, > 0",
                required=True,
                min_value=0,
                min_exclusive=True,
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("zeitraum_bis", "zeitraum_von"),
                "zeitraum_bis darf nicht vor zeitraum_von liegen",
                "zeitraum_bis must not be before zeitraum_von",
            ),
        ),
    ),
    Extract(
        "mittelabrufe",
        "payout_requests",
        "authority",
        "Mittelabrufe (Auszahlungsanträge)",
        "Payout requests.",
        "one row per payout request",
        (
            _id(
                "abruf_id",
                "request_id",
                "Pseudonym of the payout request.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            _id(
                "bescheid_nr",
                "grant_id",
                "Pseudonym of the grant.",
                rule_de="existiert in bewilligungen",
                required=True,
                ref=Ref("bewilligungen", "bescheid_nr"),
            ),
            Column(
                "jahr",
                "funding_year",
                C.INT,
                "Funding year the request is for.",
                rule_de="Pflicht: Förderjahr, für das abgerufen wird",
                required=True,
            ),
            Column(
                "eingegangen_am",
                "received_on",
                C.DATE,
                "Date the request was received.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "betrag_beantragt_eur",
                "amount_requested_eur",
                C.DECIMAL,
                "Requested amount in EUR.",
                rule_de="Pflicht, > 0",
                required=True,
                min_value=0,
                min_exclusive=True,
            ),
            Column(
                "rueckfragen",
                "queries",
                C.INT,
                "Number of queries the authority had to send back.",
                rule_de="Pflicht, >= 0: Rückfragen der Bewilligungsstelle",
                required=True,
                min_value=0,
            ),
            Column(
                "ausgezahlt_am",
                "paid_on",
                C.DATE,
                "Date of payment.",
                rule_de="optional, >= eingegangen_am",
            ),
            Column(
                "betrag_ausgezahlt_eur",
                "amount_paid_eur",
                C.DECIMAL,
                "Paid amount in EUR.",
                rule_de=">= 0, Pflicht genau dann, wenn ausgezahlt_am gefüllt ist",
                min_value=0,
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("ausgezahlt_am", "eingegangen_am"),
                "ausgezahlt_am darf nicht vor eingegangen_am liegen",
                "ausgezahlt_am must not be before eingegangen_am",
            ),
            RowRule(
                RuleKind.REQUIRED_IFF,
                ("betrag_ausgezahlt_eur", "ausgezahlt_am"),
                "betrag_ausgezahlt_eur ist genau dann anzugeben, wenn ausgezahlt_am gefüllt ist",
                "betrag_ausgezahlt_eur is required exactly when ausgezahlt_am is filled",
            ),
        ),
    ),
    Extract(
        "verwendungsnachweise",
        "proofs_of_use",
        "authority",
        "Verwendungsnachweise je Bewilligung und Jahr",
        "Proofs of use per grant and year.",
        "one row per grant and funding year",
        (
            _id(
                "bescheid_nr",
                "grant_id",
                "Pseudonym of the grant.",
                rule_de="existiert in bewilligungen",
                required=True,
                ref=Ref("bewilligungen", "bescheid_nr"),
            ),
            Column(
                "jahr", "funding_year", C.INT, "Funding year.", rule_de="Pflicht", required=True
            ),
            Column(
                "personalkosten_ist_eur",
                "staff_cost_eur",
                C.DECIMAL,
                "Actual staff costs in EUR.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
            Column(
                "sachkosten_ist_eur",
                "material_cost_eur",
                C.DECIMAL,
                "Actual material costs in EUR.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
            Column(
                "vzae_ist",
                "fte_actual",
                C.DECIMAL,
                "Actual full-time equivalents.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
            Column(
                "eingegangen_am",
                "received_on",
                C.DATE,
                "Date the proof was received.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "geprueft_am",
                "checked_on",
                C.DATE,
                "Date the proof was checked.",
                rule_de="optional",
            ),
            Column(
                "rueckforderung_eur",
                "recovery_eur",
                C.DECIMAL,
                "Amount reclaimed in EUR (empty = 0).",
                rule_de=">= 0, Vorgabe 0",
                min_value=0,
                default="0",
            ),
        ),
        (
            RowRule(
                RuleKind.UNIQUE_KEY,
                ("bescheid_nr", "jahr"),
                "(bescheid_nr, jahr) darf nur einmal vorkommen",
                "(bescheid_nr, jahr) must be unique",
            ),
        ),
    ),
    Extract(
        "haushalt",
        "budget",
        "authority",
        "Haushalt je Jahr",
        "Budget per year.",
        "one row per budget year",
        (
            Column(
                "jahr",
                "budget_year",
                C.INT,
                "Budget year.",
                rule_de="Pflicht, eindeutig",
                required=True,
                unique=True,
            ),
            Column(
                "ansatz_eur",
                "appropriation_eur",
                C.DECIMAL,
                "Appropriation in EUR.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
            Column(
                "reste_vorjahr_eur",
                "carryover_eur",
                C.DECIMAL,
                "Unspent residues carried over from the previous year, EUR.",
                rule_de="Pflicht, >= 0",
                required=True,
                min_value=0,
            ),
        ),
    ),
    Extract(
        "meldepflichten",
        "delivery_obligations",
        "authority",
        "Meldepflichten (wer aufgrund welcher Bewilligung Falldaten liefert)",
        "Delivery obligations: which providers a grant obliges to deliver case data, and from when "
        "(contract 1.1).",
        "one row per grant, obliged provider and start of the obligation",
        (
            _id(
                "bescheid_nr",
                "grant_id",
                "Pseudonym of the grant that creates the obligation.",
                rule_de="existiert in bewilligungen",
                required=True,
                ref=Ref("bewilligungen", "bescheid_nr"),
            ),
            Column(
                "traeger_ags",
                "obliged_provider",
                C.AGS,
                "AGS of the obliged provider (the one that delivers the case data).",
                rule_de="Pflicht, AGS mit 5 oder 8 Stellen, beginnt mit 08 (der liefernde Träger)",
                required=True,
            ),
            Column(
                "gueltig_ab",
                "valid_from",
                C.DATE,
                "First day of the obligation.",
                rule_de="Pflicht",
                required=True,
            ),
            Column(
                "gueltig_bis",
                "valid_to",
                C.DATE,
                "Last day of the obligation (empty = open).",
                rule_de="optional, >= gueltig_ab",
            ),
        ),
        (
            RowRule(
                RuleKind.DATE_ORDER,
                ("gueltig_bis", "gueltig_ab"),
                "gueltig_bis darf nicht vor gueltig_ab liegen",
                "gueltig_bis must not be before gueltig_ab",
            ),
            RowRule(
                RuleKind.UNIQUE_KEY,
                ("bescheid_nr", "traeger_ags", "gueltig_ab"),
                "(bescheid_nr, traeger_ags, gueltig_ab) darf nur einmal vorkommen",
                "(bescheid_nr, traeger_ags, gueltig_ab) must be unique",
            ),
        ),
    ),
)

EXTRACTS: dict[str, Extract] = {e.name: e for e in (*PROVIDER_EXTRACTS, *AUTHORITY_EXTRACTS)}


def extract(name: str) -> Extract:
    return EXTRACTS[name]
