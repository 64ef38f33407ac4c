"""Variables of `cases.*`: one row per case, by topic (each builder one topic)."""

from __future__ import annotations

from contract.spec import CODE_LISTS, OUTCOME_VALUES
from export.codebook.model import (
    AGE_BANDS,
    AGE_BANDS_WIDE,
    AGE_GROUPS,
    BOOLEAN,
    CASES,
    CATEGORY,
    FIELDS,
    ID,
    INTEGER,
    MONTH,
    NUMBER,
    OUTCOME_DOMAINS,
    OUTCOME_WINDOW,
    PROSPECTS,
    REFERRALS,
    REGIONS,
    STATUS_CATEGORIES,
    TOP_NATIONALITIES,
    Variable,
    variable,
)
from ingest.pseudonymise import id_sql_text


def identity() -> list[Variable]:
    """The case and its person (study pseudonyms) and the area (Kreis, RB)."""
    t = CASES
    out = [
        variable(
            "case_id",
            t,
            "Fall (Studienpseudonym)",
            "case (study pseudonym)",
            ID,
            f"imw_pseudonym($study || ':' || c.provider, {id_sql_text('c.case_id')})",
            "HMAC-SHA256 with the study key over study name, provider and the warehouse id of the "
            "case (its 32 hex characters); unique per study, not linkable across studies",
        ),
        variable(
            "person_id",
            t,
            "Person (Studienpseudonym)",
            "person (study pseudonym)",
            ID,
            f"imw_pseudonym($study || ':' || c.provider, {id_sql_text('c.person_id')})",
            "as case_id, over the warehouse id of the case's person (faelle.person_id); "
            "several cases of one person share it",
        ),
        variable(
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
        variable(
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
    ]
    return out


def age_sex() -> list[Variable]:
    """Age and sex at case start."""
    t = CASES
    out = [
        variable(
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
        variable(
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
        variable(
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
        variable(
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
    ]
    return out


def origin() -> list[Variable]:
    """Nationality and arrival."""
    t = CASES
    out = [
        variable(
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
        variable(
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
        variable(
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
        variable(
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
        variable(
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
    ]
    return out


def case_start() -> list[Variable]:
    """Residence status, case type and start of the case."""
    t = CASES
    out = [
        variable(
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
        variable(
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
        variable(
            "case_type",
            t,
            "Fallart",
            "case type",
            CATEGORY,
            "c.case_type",
            "faelle.fallart",
            codes=CODE_LISTS["fallart"],
        ),
        variable(
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
        variable(
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
        variable(
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
    ]
    return out


def course() -> list[Variable]:
    """How the case ended."""
    t = CASES
    out = [
        variable(
            "is_closed",
            t,
            "Fall abgeschlossen",
            "case closed",
            BOOLEAN,
            "c.is_closed",
            "1 when faelle.abschluss_datum is set; 0 = open at the provider's stand (censored)",
        ),
        variable(
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
        variable(
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
    ]
    return out


def intensity() -> list[Variable]:
    """Counselling intensity: contacts, minutes, goal links, referrals."""
    t = CASES
    out = [
        variable(
            "contacts",
            t,
            "Beratungskontakte",
            "counselling contacts",
            INTEGER,
            "c.contacts",
            "number of kontakte of the case (whole duration)",
            indicators=("CM07",),
        ),
        variable(
            "contact_minutes",
            t,
            "Beratungsminuten",
            "counselling minutes",
            INTEGER,
            "c.contact_minutes",
            "sum of kontakte.dauer_min",
        ),
        variable(
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
        variable(
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
        variable(
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
        variable(
            f"referrals_{r.code.lower()}",
            t,
            f"Verweisungen: {r.label_de}",
            f"referrals: {r.label_en}",
            INTEGER,
            f"c.referrals_{r.code.lower()}",
            f"contacts with verweisung {r.code}",
        )
        for r in REFERRALS
    ]
    return out


def plans() -> list[Variable]:
    """Integration plans and their reviews."""
    t = CASES
    out = [
        variable(
            "has_plan",
            t,
            "Integrationsplan vorhanden",
            "has an integration plan",
            BOOLEAN,
            "c.has_plan",
            "1 when any plan (plaene) belongs to the case, signed or not",
        ),
        variable(
            "plan_versions",
            t,
            "Planversionen",
            "plan versions",
            INTEGER,
            "c.plan_versions",
            "number of plan versions over all plans of the case",
        ),
        variable(
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
        variable(
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
        variable(
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
    ]
    return out


def goals() -> list[Variable]:
    """Goals agreed and assessed, in total and per field of action."""
    t = CASES
    out = [
        variable(
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
    for f in FIELDS:
        c = f.code.lower()
        out += [
            variable(
                f"goals_{c}_agreed",
                t,
                f"Ziele {f.label_de}: vereinbart",
                f"goals {f.label_en}: agreed",
                INTEGER,
                f"c.goals_{c}_agreed",
                f"ziele with handlungsfeld {f.code}",
                indicators=("CM04",),
            ),
            variable(
                f"goals_{c}_met",
                t,
                f"Ziele {f.label_de}: erreicht",
                f"goals {f.label_en}: met",
                INTEGER,
                f"c.goals_{c}_met",
                "of those, status ERREICHT",
                indicators=("CM05",),
            ),
            variable(
                f"goals_{c}_partly",
                t,
                f"Ziele {f.label_de}: teilweise erreicht",
                f"goals {f.label_en}: partly met",
                INTEGER,
                f"c.goals_{c}_partly",
                "of those, status TEILWEISE",
                indicators=("CM05",),
            ),
            variable(
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
    return out


def outcomes() -> list[Variable]:
    """Outcome observations (ergebnisse) per domain and derived outcomes."""
    t = CASES
    out: list[Variable] = []
    for d in OUTCOME_DOMAINS:
        c = d.code.lower()
        none = f"missing when no {d.code} outcome was observed for the case"
        out += [
            variable(
                f"outcome_{c}_first",
                t,
                f"Ergebnis {d.label_de}: erster Wert",
                f"outcome {d.label_en}: first value",
                CATEGORY,
                f"c.outcome_{c}_first",
                f"ergebnisse.wert of the earliest observation with bereich {d.code}, "
                f"{OUTCOME_WINDOW}",
                missing=none,
                codes=OUTCOME_VALUES[d.code],
            ),
            variable(
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
            variable(
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
        variable(
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
        variable(
            "moved_out_of_au",
            t,
            "aus der Anschlussunterbringung ausgezogen",
            "moved out of follow-up accommodation",
            BOOLEAN,
            "c.moved_out_of_au",
            "1 when the first WOHNEN observation is AU and the last is not AU; 0 when both are AU",
            missing="missing when no WOHNEN outcome was observed or the first was not AU",
        ),
        variable(
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
