"""Variables of `case_months.*`: one row per case and calendar month, by topic."""

from __future__ import annotations

from contract.spec import CODE_LISTS, OUTCOME_VALUES
from export.codebook.model import (
    BOOLEAN,
    CASE_MONTHS,
    CATEGORY,
    ID,
    INTEGER,
    MONTH,
    OUTCOME_DOMAINS,
    PROSPECTS,
    STATUS_CATEGORIES,
    Variable,
    variable,
)
from ingest.pseudonymise import id_sql_text


def month_identity() -> list[Variable]:
    """The case month."""
    t = CASE_MONTHS
    out = [
        variable(
            "case_id",
            t,
            "Fall (Studienpseudonym)",
            "case (study pseudonym)",
            ID,
            f"imw_pseudonym($study || ':' || m.provider, {id_sql_text('m.case_id')})",
            "as case_id of the cases table: join the two tables on it",
        ),
        variable(
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
        variable(
            "month_index",
            t,
            "Fallmonat (0 = Monat des Erstkontakts)",
            "case month (0 = month of first contact)",
            INTEGER,
            "m.month_index",
            "calendar months since the month of first contact",
        ),
    ]
    return out


def month_intensity() -> list[Variable]:
    """Counselling in the month."""
    t = CASE_MONTHS
    out = [
        variable(
            "contacts",
            t,
            "Beratungskontakte im Monat",
            "contacts in the month",
            INTEGER,
            "m.contacts",
            "kontakte of the case with datum in the month",
            indicators=("CM07",),
        ),
        variable(
            "contact_minutes",
            t,
            "Beratungsminuten im Monat",
            "counselling minutes in the month",
            INTEGER,
            "m.contact_minutes",
            "sum of their dauer_min",
        ),
        variable(
            "goal_linked_contacts",
            t,
            "zielbezogene Kontakte im Monat",
            "goal-linked contacts in the month",
            INTEGER,
            "m.goal_linked_contacts",
            "of those, contacts with a ziel_id",
            indicators=("CM08",),
        ),
        variable(
            "referrals",
            t,
            "Verweisungen im Monat",
            "referrals in the month",
            INTEGER,
            "m.referrals",
            "of those, contacts with a verweisung",
        ),
    ]
    return out


def month_plans_goals() -> list[Variable]:
    """Plan in place and goals in the month."""
    t = CASE_MONTHS
    out = [
        variable(
            "has_signed_plan",
            t,
            "unterschriebener Plan bis Monatsende",
            "signed plan by the end of the month",
            BOOLEAN,
            "m.has_signed_plan",
            "1 when the case's first signature is on or before the last day of the month",
            indicators=("CM01",),
        ),
        variable(
            "goals_agreed",
            t,
            "im Monat vereinbarte Ziele",
            "goals agreed in the month",
            INTEGER,
            "m.goals_agreed",
            "ziele of the case with vereinbart_am in the month",
            indicators=("CM04",),
        ),
        variable(
            "goals_met",
            t,
            "im Monat als erreicht bewertete Ziele",
            "goals assessed as met",
            INTEGER,
            "m.goals_met",
            "ziele with bewertet_am in the month and status ERREICHT",
            indicators=("CM05",),
        ),
        variable(
            "goals_partly",
            t,
            "im Monat als teilweise erreicht bewertete Ziele",
            "goals assessed as partly met",
            INTEGER,
            "m.goals_partly",
            "ziele with bewertet_am in the month and status TEILWEISE",
            indicators=("CM05",),
        ),
        variable(
            "goals_not_met",
            t,
            "im Monat als nicht erreicht bewertete Ziele",
            "goals assessed as not met",
            INTEGER,
            "m.goals_not_met",
            "ziele with bewertet_am in the month and status NICHT_ERREICHT",
            indicators=("CM05",),
        ),
    ]
    return out


def month_status() -> list[Variable]:
    """Residence status in the month and closure."""
    t = CASE_MONTHS
    out = [
        variable(
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
        variable(
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
    for d in OUTCOME_DOMAINS:
        c = d.code.lower()
        out.append(
            variable(
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
        variable(
            "is_closed_in_month",
            t,
            "Fallabschluss im Monat",
            "case closed in the month",
            BOOLEAN,
            "m.is_closed_in_month",
            "1 in the month of faelle.abschluss_datum (the event)",
        ),
        variable(
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
