"""What each page of the report says, computed from the published frames (polars).

Every number shown comes from a published row; derived figures (changes against the year before,
ranges across Kreise, funnel limits, residues) are computed only from published, unsuppressed
numbers, so nothing the published tables hide can reappear here.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from disclosure import CELL_MINIMUM
from indicator_report import charts
from indicator_report import formatting as fmt
from indicator_report.queries import Published

# DOMAIN.md: the Court of Audit's findings and Parliament's requests, as the report names them.
FINDINGS_DE = {
    1: "Das Auszahlungsverfahren ist sehr aufwendig.",
    2: "Die Fördersätze sind zu hoch und führen zu Überfinanzierung.",
    3: "Es bauen sich Ausgabereste auf.",
    4: "Die Kennzahlen waren rein quantitativ – keine Grundlage, Qualität und Intensität zu "
    "beurteilen.",
    5: "Integrationspläne wurden zu wenig genutzt; Zielvereinbarungen spielten keine echte Rolle.",
    6: "Ein Zusammenhang zwischen Beratung und Integrationserfolg war nicht messbar.",
    7: "Die Beratung wurde teilweise auf Ausreisepflichtige ausgedehnt.",
}
REQUESTS_DE = {
    1: "Bedarf an Unterstützung prognostizieren.",
    2: "Ausgabereste vorrangig verwenden.",
    3: "Integrationspläne verbindlich machen.",
    4: "Fördersätze senken, Auszahlung vereinfachen, Förderung auf Geflüchtete in der "
    "Anschlussunterbringung mit Bleibeperspektive beschränken.",
    5: "Aussagekräftige Kennzahlen aufbauen, erheben und auswerten.",
}
FINDINGS_EN = {
    1: "The payout procedure is very laborious.",
    2: "Funding rates are too high and lead to overfinancing.",
    3: "Unspent budget residues build up.",
    4: "The indicators were purely quantitative.",
    5: "Integration plans were not used enough; goal agreements played no real role.",
    6: "No link between counselling and integration outcomes was measurable.",
    7: "Counselling was partly extended to people obliged to leave.",
}
REQUESTS_EN = {
    1: "Forecast the need for support.",
    2: "Use unspent residues first.",
    3: "Make integration plans mandatory.",
    4: "Lower funding rates, simplify payouts, restrict funding to refugees in follow-up "
    "accommodation with prospect of staying.",
    5: "Build, collect and evaluate meaningful indicators.",
}
# DOMAIN.md: the funding rates quoted (EUR per FTE and year).
QUOTED_RATES = (("niedrigster Satz 51.000 €", 51_000.0), ("Durchschnitt 64.000 €", 64_000.0))
SUPPRESSION_MIN_N = CELL_MINIMUM
CALENDAR_QUARTERS = 8


@dataclass(frozen=True)
class Figure:
    number: int
    title: str
    description: str
    rendering: Future[str]

    @property
    def svg(self) -> str:
        """The rendered chart (waits for its worker when the report renders in a pool)."""
        return self.rendering.result()


@dataclass
class Counter:
    """Figure and table numbers of one page (printed as 'Abbildung 3', 'Tabelle 2')."""

    figures: int = 0
    tables: int = 0

    def figure(self, chart, title: str, description: str) -> Figure:
        self.figures += 1
        return Figure(self.figures, title, description, charts.submit(chart, title, description))

    def table(self) -> int:
        self.tables += 1
        return self.tables


def parse_audit(text: str | None) -> tuple[list[int], list[int]]:
    """'4, 5; request 3, 5' → ([4, 5], [3, 5])."""
    findings: list[int] = []
    requests: list[int] = []
    for part in (text or "").split(";"):
        numbers = [int(n) for n in re.findall(r"\d+", part)]
        (requests if "request" in part else findings).extend(numbers)
    return findings, requests


@dataclass
class Context:
    """The published data, indexed once for all pages."""

    data: Published
    year: str
    previous: str | None
    reference_date: date
    periods: pl.DataFrame  # period, period_type, period_complete, label, short_label
    defs: dict[str, dict]
    units: pl.DataFrame
    kreise: pl.DataFrame  # unit_code, unit_name, rb_code, rb_name
    by_indicator: dict[str, pl.DataFrame] = field(default_factory=dict)
    memo: dict[str, object] = field(default_factory=dict, repr=False)
    """Frames computed once for many pages (provider_deliveries)."""

    def unit_of(self, indicator_id: str) -> str:
        return self.defs[indicator_id]["unit"]

    def rows(self, indicator_id: str) -> pl.DataFrame:
        return self.by_indicator.get(indicator_id, self.data.values.clear())

    def label(self, period: str) -> str:
        row = self.periods.filter(pl.col("period") == period)
        return row["label"][0] if row.height else period


def build_context(data: Published, period: str | None) -> Context:
    r = data.build.reference_date
    to_date = (
        pl.when(pl.col("period_complete"))
        .then(pl.lit(""))
        .otherwise(pl.lit(f" (bis {fmt.day_month(r)})"))
    )
    quarter = pl.col("period").str.contains("Q")
    periods = (
        data.values.select("period", "period_type", "period_complete")
        .unique()
        .sort("period")
        .with_columns(
            (
                pl.when(quarter)
                .then(
                    pl.col("period").str.slice(5, 1)
                    + pl.lit(". Quartal ")
                    + pl.col("period").str.slice(0, 4)
                )
                .otherwise(pl.col("period"))
                + to_date
            ).alias("label"),
            (pl.col("period").str.replace("Q", " Q", literal=True) + to_date).alias("short_label"),
        )
    )
    years = periods.filter(pl.col("period_type") == "YEAR")
    complete_years = years.filter(pl.col("period_complete"))["period"].to_list()
    if period is None:
        if not complete_years:
            raise ValueError("the published database has no complete year to report on")
        period = complete_years[-1]
    if period not in years["period"].to_list():
        raise ValueError(
            f"no year {period!r} in the published database (years: "
            f"{', '.join(years['period'].to_list()) or 'none'})"
        )
    previous = str(int(period) - 1)
    previous = previous if previous in years["period"].to_list() else None
    units = data.units
    rb_names = units.filter(pl.col("level") == "RB").select(
        pl.col("unit_code").alias("rb_code"), pl.col("unit_name").alias("rb_name")
    )
    kreise = (
        units.filter(pl.col("level") == "KREIS")
        .select("unit_code", "unit_name", pl.col("parent_code").alias("rb_code"))
        .join(rb_names, on="rb_code", how="left")
        .sort("rb_code", "unit_name")
    )
    defs = {row["indicator_id"]: row for row in data.definitions.to_dicts()}
    by_indicator = {
        key[0]: frame
        for key, frame in data.values.partition_by("indicator_id", as_dict=True).items()
    }
    return Context(data, period, previous, r, periods, defs, units, kreise, by_indicator)


def _one(frame: pl.DataFrame, **eq) -> dict | None:
    for col, val in eq.items():
        frame = frame.filter(pl.col(col) == val)
    return frame.to_dicts()[0] if frame.height else None


def land_row(ctx: Context, indicator_id: str, period: str | None) -> dict | None:
    if period is None:
        return None
    return _one(ctx.rows(indicator_id), level="LAND", period=period)


# --- 1. Kernergebnisse ---------------------------------------------------------------------------


def assess(delta: float | None, better: str) -> str:
    """'better', 'worse', 'same', 'neutral' (no better direction) or 'none' (not comparable)."""
    if delta is None:
        return "none"
    if better not in ("higher", "lower"):
        return "neutral"
    if delta == 0:
        return "same"
    return "better" if (delta > 0) == (better == "higher") else "worse"


ARROWS = {"better": "up", "worse": "down", "same": "flat", "neutral": "flat", "none": "none"}
ASSESSMENT_DE = {
    "better": "verbessert",
    "worse": "verschlechtert",
    "same": "unverändert",
    "neutral": "ohne Wertungsrichtung",
    "none": "nicht vergleichbar",
}


def key_result(ctx: Context, indicator_id: str) -> dict:
    d = ctx.defs[indicator_id]
    unit = d["unit"]
    now, before = land_row(ctx, indicator_id, ctx.year), land_row(ctx, indicator_id, ctx.previous)
    v_now = None if now is None else now["value"]
    v_before = None if before is None else before["value"]
    delta = None if v_now is None or v_before is None else v_now - v_before
    verdict = assess(delta, d["better_direction"])
    direction = (
        "none" if delta is None else ("up" if delta > 0 else "down" if delta < 0 else "flat")
    )
    return {
        "id": indicator_id,
        "name": d["name_de"],
        "name_en": d["name_en"],
        "value": fmt.cell(bool(now and now["suppressed"]), v_now, unit, "value")
        if now
        else fmt.NOTHING,
        "previous": fmt.value(v_before, unit) if before else fmt.NOTHING,
        "change": fmt.change(delta, unit),
        "direction": direction,
        "verdict": verdict,
        "verdict_de": ASSESSMENT_DE[verdict],
        "delta": delta,
        "relative": None if delta is None or not v_before else abs(delta / v_before),
    }


def finding_sentence(ctx: Context, results: list[dict]) -> str:
    """One plain sentence from the numbers: how many indicators moved which way, and the largest
    move among those with a direction."""
    prev = ctx.previous
    if not results:
        return (
            "Keine Kennzahl dieses Berichts misst diesen Punkt unmittelbar; die Wirkungsanalyse "
            "stützt sich auf die Evaluationsexporte auf Fallebene."
        )
    if prev is None:
        return f"Für {ctx.year} liegt kein Vorjahr zum Vergleich vor."
    counts = {k: sum(r["verdict"] == k for r in results) for k in ASSESSMENT_DE}
    judged = counts["better"] + counts["worse"] + counts["same"]
    sentence = ""
    if judged:
        parts = [
            f"{counts[k]} {ASSESSMENT_DE[k]}" for k in ("better", "worse", "same") if counts[k]
        ]
        sentence = (
            f"Von {judged} gewerteten Kennzahl{'en' if judged != 1 else ''} "
            f"{'haben' if judged != 1 else 'hat'} sich gegenüber {prev} "
            + ", ".join(parts[:-1])
            + (" und " if len(parts) > 1 else "")
            + parts[-1]
            + "."
        )
    rest = counts["neutral"] + counts["none"]
    if rest:
        sentence += (
            f" {rest} Kennzahl{'en' if rest != 1 else ''} ohne Wertungsrichtung oder ohne "
            "Vergleichswert " + ("sind" if rest != 1 else "ist") + " nicht gewertet."
        )
    moved = [r for r in results if r["verdict"] in ("better", "worse") and r["relative"]]
    if moved:
        top = max(moved, key=lambda r: r["relative"])
        sentence += (
            f" Am stärksten bewegte sich „{top['name']}“: {top['previous']} ({prev}) → "
            f"{top['value']} ({ctx.year}), {top['verdict_de']}."
        )
    return sentence.strip()


def key_results(ctx: Context) -> list[dict]:
    """One block per set of indicators: findings and requests answered by the same indicators
    (e.g. findings 1–3 and requests 1, 2 by FI/PA) share one block, so the page stays short."""
    per_indicator = {i: parse_audit(d["audit_finding"]) for i, d in ctx.defs.items()}
    results = {i: key_result(ctx, i) for i in ctx.defs}
    blocks: dict[tuple[str, ...], dict] = {}
    for kind, texts, idx in (("Befund", FINDINGS_DE, 0), ("Ersuchen", REQUESTS_DE, 1)):
        for number, text in texts.items():
            ids = tuple(i for i, refs in per_indicator.items() if number in refs[idx])
            block = blocks.get(ids)
            if block is None:
                members = [results[i] for i in ids]
                block = blocks[ids] = {
                    "items": [],
                    "indicators": members,
                    "sentence": finding_sentence(ctx, members),
                }
            block["items"].append({"kind": kind, "number": number, "text": text})
    return list(blocks.values())


# --- 3. Indicator pages ------------------------------------------------------------------------


def _table_rows(ctx: Context, frame: pl.DataFrame, unit: str, names: pl.DataFrame) -> list[dict]:
    rows = frame.join(names, on=["level", "unit_code"], how="left").with_columns(
        pl.coalesce("unit_name_right", "unit_name", "unit_code").alias("name")
    )
    out = []
    for r in rows.to_dicts():
        out.append(
            {
                "level": r["level"],
                "code": r["unit_code"],
                "name": r["name"],
                "numerator": fmt.cell(r["suppressed"], r["numerator"], unit, "count"),
                "denominator": fmt.cell(r["suppressed"], r["denominator"], unit, "count"),
                "value": fmt.cell(r["suppressed"], r["value"], unit, "value"),
                "base_n": fmt.cell(r["suppressed"], r["base_n"], unit, "base_n"),
                "suppression": r["suppression"] if r["suppressed"] else None,
            }
        )
    return out


def suppression_note(frame: pl.DataFrame) -> str:
    """The footnote every table carries."""
    primary = frame.filter(pl.col("suppressed") & (pl.col("suppression") == "primary")).height
    secondary = frame.filter(pl.col("suppressed") & (pl.col("suppression") != "primary")).height
    if not primary and not secondary:
        return "In dieser Tabelle ist kein Wert geheim gehalten."
    parts = []
    if primary:
        parts.append(
            ("1 Wert beruht" if primary == 1 else f"{primary} Werte beruhen")
            + f" auf weniger als {SUPPRESSION_MIN_N} Fällen oder Personen (primäre Geheimhaltung)"
        )
    if secondary:
        parts.append(
            ("1 weiterer Wert ist" if secondary == 1 else f"{secondary} weitere Werte sind")
            + " zusätzlich gesperrt, damit sich geheim gehaltene Werte nicht aus Summen "
            "errechnen lassen (sekundäre Geheimhaltung)"
        )
    return "Geheimhaltung („.“): " + "; ".join(parts) + "."


def indicator_table(ctx: Context, indicator_id: str, period: str) -> tuple[list[dict], str]:
    unit = ctx.unit_of(indicator_id)
    rows = ctx.rows(indicator_id).filter(
        (pl.col("period") == period) & pl.col("level").is_in(["LAND", "RB", "KREIS"])
    )
    names = ctx.units.select("level", "unit_code", "unit_name")
    order = pl.concat(
        [
            pl.DataFrame({"level": ["LAND"], "unit_code": ["08"], "sort_key": ["0"]}),
            ctx.units.filter(pl.col("level") == "RB").select(
                "level", "unit_code", (pl.col("unit_code") + "0").alias("sort_key")
            ),
            ctx.kreise.select(
                pl.lit("KREIS").alias("level"),
                "unit_code",
                (pl.col("rb_code") + "1" + pl.col("unit_name")).alias("sort_key"),
            ),
        ]
    )
    rows = rows.join(order, on=["level", "unit_code"], how="left").sort("sort_key", nulls_last=True)
    return _table_rows(ctx, rows, unit, names), suppression_note(rows)


def indicator_page(ctx: Context, indicator_id: str) -> dict:
    d = ctx.defs[indicator_id]
    unit = d["unit"]
    counter = Counter()
    frame = ctx.rows(indicator_id)
    quarterly = frame.filter(pl.col("period_type") == "QUARTER").height > 0
    ptype = "QUARTER" if quarterly else "YEAR"
    series = frame.filter(pl.col("period_type") == ptype).join(
        ctx.periods.select("period", "short_label"), on="period"
    )
    figures = []
    land = (
        series.filter((pl.col("level") == "LAND") & pl.col("value").is_not_null())
        .sort("period")
        .select(
            pl.col("short_label").alias("period_label"),
            "value",
            pl.when(pl.col("period_complete")).then(pl.lit("ja")).otherwise(pl.lit("nein"))
            .alias("complete"),
        )
    )  # fmt: skip
    if land.height:
        regions = (
            series.filter((pl.col("level") == "RB") & pl.col("value").is_not_null())
            .join(
                ctx.units.filter(pl.col("level") == "RB").select(
                    "unit_code", pl.col("unit_name").alias("rb")
                ),
                on="unit_code",
                how="left",
            )
            .sort("period")
            .select(
                pl.col("short_label").alias("period_label"),
                ("RB " + pl.coalesce("rb", "unit_code")).alias("series"),
                "value",
            )
        )
        band = (
            series.filter((pl.col("level") == "KREIS") & pl.col("value").is_not_null())
            .group_by("period", "short_label")
            .agg(pl.col("value").min().alias("lo"), pl.col("value").max().alias("hi"))
            .sort("period")
            .select(pl.col("short_label").alias("period_label"), "lo", "hi")
        )
        figures.append(
            counter.figure(
                charts.Later(charts.trend, land, regions, band, unit, quarterly),
                f"{d['name_de']}: Land und Regierungsbezirke je "
                f"{'Quartal' if quarterly else 'Jahr'}",
                f"Landeswert ({fmt.UNIT_LABEL_DE.get(unit, unit)}) als schwarze Linie, "
                "Regierungsbezirke als farbige Linien, grau die Spanne der nicht geheim "
                "gehaltenen Kreiswerte; offene Punkte: Zeitraum noch nicht vollständig.",
            )
        )
    year_rows = frame.filter(pl.col("period") == ctx.year)
    land_now = _one(year_rows, level="LAND")
    points = year_rows.filter(
        (pl.col("level") == "KREIS") & pl.col("value").is_not_null() & (pl.col("denominator") > 0)
    ).select("unit_code", "denominator", "value")
    hidden = year_rows.filter((pl.col("level") == "KREIS") & pl.col("suppressed")).height
    if land_now and land_now["value"] is not None and points.height:
        p = land_now["value"]
        limits = charts.control_limits(
            p, points["denominator"].min(), points["denominator"].max(), unit
        )
        limit_text = (
            "mit 95-%- und 99,8-%-Kontrollgrenzen um den Landeswert"
            if limits is not None
            else "ohne Kontrollgrenzen (für Eurobeträge gibt es kein Zählmodell)"
        )
        figures.append(
            counter.figure(
                charts.Later(charts.funnel, points, limits, p, unit),
                f"{d['name_de']} {ctx.label(ctx.year)}: Trichterdiagramm der Kreise",
                f"Jeder Punkt ist ein Kreis: Wert gegen Nenner (logarithmische Achse), "
                f"{limit_text}; die waagrechte Linie ist der Landeswert "
                f"{fmt.value(p, unit)}. {points.height} Kreise dargestellt"
                + (f", {hidden} geheim gehalten." if hidden else "."),
            )
        )
    table, note = indicator_table(ctx, indicator_id, ctx.year)
    findings, requests = parse_audit(d["audit_finding"])
    return {
        "id": indicator_id,
        "d": d,
        "unit_label": fmt.UNIT_LABEL_DE.get(unit, unit),
        "figures": figures,
        "table": table,
        "table_number": counter.table(),
        "note": note,
        "period_label": ctx.label(ctx.year),
        "findings": [(n, FINDINGS_DE[n]) for n in findings if n in FINDINGS_DE],
        "requests": [(n, REQUESTS_DE[n]) for n in requests if n in REQUESTS_DE],
        "key": key_result(ctx, indicator_id),
    }


# --- 7. Kreis pages ----------------------------------------------------------------------------


def _year_units(ctx: Context) -> dict[tuple[str, str], pl.DataFrame]:
    """The report year's rows of every unit, split once for all Kreis pages (a filter of all
    published values per Kreis and three per indicator took 0.7 s of a `bw` report)."""
    if "year_units" not in ctx.memo:
        year = ctx.data.values.filter(pl.col("period") == ctx.year)
        ctx.memo["year_units"] = year.partition_by("level", "unit_code", as_dict=True)
    return ctx.memo["year_units"]  # type: ignore[return-value]


def _by_indicator(rows: pl.DataFrame | None) -> dict[str, dict]:
    """A unit's rows of one period by indicator id (one each)."""
    return {} if rows is None else {row["indicator_id"]: row for row in rows.to_dicts()}


def kreis_page(ctx: Context, kreis: dict) -> dict:
    counter = Counter()
    code, rb = kreis["unit_code"], kreis["rb_code"]
    units = _year_units(ctx)
    own = units.get(("KREIS", code), ctx.data.values.clear())
    own_rows, rb_rows, land_rows = (
        _by_indicator(units.get(key)) for key in (("KREIS", code), ("RB", rb), ("LAND", "08"))
    )
    rows = []
    for indicator_id, d in ctx.defs.items():
        unit = d["unit"]
        k, r, la = (found.get(indicator_id) for found in (own_rows, rb_rows, land_rows))

        def show(row, kind, col, unit=unit):
            return (
                fmt.NOT_MEANINGFUL
                if row is None
                else fmt.cell(row["suppressed"], row[col], unit, kind)
            )

        rows.append(
            {
                "id": indicator_id,
                "name": d["name_de"],
                "numerator": show(k, "count", "numerator"),
                "denominator": show(k, "count", "denominator"),
                "value": show(k, "value", "value"),
                "rb": show(r, "value", "value"),
                "land": show(la, "value", "value"),
                "suppression": k["suppression"] if k and k["suppressed"] else None,
            }
        )
    table_number = counter.table()
    return {
        "kreis": kreis,
        "rows": rows,
        "table_number": table_number,
        "note": suppression_note(own),
        "period_label": ctx.label(ctx.year),
        "providers": provider_section(ctx, counter, kreis),
    }


# --- 4.–5. Finanzen, Förderberechtigung ---------------------------------------------------------


def _land_years(ctx: Context, indicator_id: str) -> pl.DataFrame:
    return (
        ctx.rows(indicator_id)
        .filter((pl.col("level") == "LAND") & (pl.col("period_type") == "YEAR"))
        .sort("period")
    )


def _land_lines(ctx: Context, ids: list[str], ptype: str) -> tuple[pl.DataFrame, list[str]]:
    frames = [
        ctx.rows(i)
        .filter((pl.col("level") == "LAND") & (pl.col("period_type") == ptype))
        .filter(pl.col("value").is_not_null())
        .with_columns(pl.lit(f"{i} {ctx.defs[i]['name_de']}").alias("series"))
        for i in ids
        if i in ctx.defs
    ]
    if not frames:
        return pl.DataFrame(), []
    rows = (
        pl.concat(frames)
        .join(ctx.periods.select("period", "short_label"), on="period")
        .sort("period")
        .select(pl.col("short_label").alias("period_label"), "series", "value")
    )
    order = (
        ctx.periods.filter(pl.col("period_type") == ptype).sort("period")["short_label"].to_list()
    )
    return rows, order


def finance_section(ctx: Context, counter: Counter) -> dict:
    figures, notes = [], []
    fi01 = _land_years(ctx, "FI01").filter(pl.col("denominator") > 0)
    if fi01.height:
        bars = fi01.select(
            pl.col("period").alias("year"),
            pl.col("numerator").alias("Förderung (ausgezahlt)"),
            pl.col("denominator").alias("Ist-Kosten"),
        ).unpivot(index="year", variable_name="series", value_name="amount")
        figures.append(
            counter.figure(
                charts.Later(charts.grouped_bars, bars, "Euro"),
                "Förderung und Ist-Kosten je Förderjahr (FI01, Land)",
                "Ausgezahlte Förderung gegen die Ist-Kosten der Förderjahre mit "
                "Verwendungsnachweis; liegt die Förderung über den Kosten, ist überfinanziert.",
            )
        )
    grants = ctx.rows("FI01").filter(
        (pl.col("level") == "TRAEGER") & (pl.col("period") == ctx.year)
        & pl.col("value").is_not_null()
    )  # fmt: skip
    if grants.height:
        over = grants.filter(pl.col("value") > 1)
        excess = over.select((pl.col("numerator") - pl.col("denominator")).sum()).item()
        median_over = over["value"].median() if over.height else None
        notes.append(
            f"{ctx.label(ctx.year)}: {over.height} von {grants.height} Antragstellern mit "
            f"Verwendungsnachweis waren überfinanziert (Förderquote über 1)"
            + (
                f", im Median mit einer Quote von {fmt.value(median_over, 'ratio')}; zusammen "
                f"{fmt.decimal(excess, '#,##0')} € mehr Förderung als Kosten."
                if over.height
                else "."
            )
        )
        figures.append(
            counter.figure(
                charts.Later(
                    charts.histogram, grants.select("value"), "Förderquote (Förderung ÷ Ist-Kosten)"
                ),
                f"Verteilung der Förderquote über die Antragsteller {ctx.label(ctx.year)} (FI01)",
                "Anzahl der Antragsteller je Klasse der Förderquote; rechts der roten Linie bei "
                "1 ist die Förderung höher als die Kosten.",
            )
        )
    fi02 = _land_years(ctx, "FI02").filter(pl.col("value").is_not_null())
    if fi02.height:
        chart = charts.Later(
            charts.lines,
            fi02.select(
                pl.col("period").alias("period_label"),
                pl.lit("FI02 Förderung je VZÄ (Land)").alias("series"),
                "value",
            ),
            "EUR per FTE",
            False,
            fi02["period"].to_list(),
        )
        refs = pl.DataFrame(
            {"amount": [a for _, a in QUOTED_RATES], "label": [t for t, _ in QUOTED_RATES]}
        )
        figures.append(
            counter.figure(
                charts.Later(charts.with_reference_lines, chart, refs),
                "Förderung je VZÄ und Jahr (FI02, Land)",
                "Ausgezahlte Förderung je Ist-VZÄ gegen die zitierten Fördersätze "
                "(51.000 € niedrigster Satz, 64.000 € Durchschnitt).",
            )
        )
    fi04 = _land_years(ctx, "FI04").filter(pl.col("denominator") > 0)
    if fi04.height:
        bars = fi04.select(
            pl.col("period").alias("year"),
            pl.col("denominator").alias("Ansatz + Reste Vorjahr"),
            pl.col("numerator").alias("Auszahlungen"),
            (pl.col("denominator") - pl.col("numerator")).alias("Rest"),
        ).unpivot(index="year", variable_name="series", value_name="amount")
        figures.append(
            counter.figure(
                charts.Later(charts.grouped_bars, bars, "Euro"),
                "Mittelabfluss und Ausgabereste je Haushaltsjahr (FI04, Land)",
                "Verfügbare Mittel (Ansatz und Reste des Vorjahres), Auszahlungen im Jahr und der "
                "nicht abgeflossene Rest.",
            )
        )
    rows, order = _land_lines(ctx, ["PA01"], "QUARTER")
    if rows.height:
        figures.append(
            counter.figure(
                charts.Later(charts.lines, rows, "share", True, order),
                "Auszahlungen binnen 30 Tagen je Quartal (PA01, Land)",
                "Anteil der Mittelabrufe, die binnen 30 Tagen nach Eingang ausgezahlt wurden.",
            )
        )
    rows, order = _land_lines(ctx, ["PA02"], "QUARTER")
    if rows.height:
        figures.append(
            counter.figure(
                charts.Later(charts.lines, rows, "queries per request", True, order),
                "Rückfragen je Mittelabruf je Quartal (PA02, Land)",
                "Durchschnittliche Zahl der Rückfragen der Bewilligungsstelle je eingegangenem "
                "Mittelabruf.",
            )
        )
    return {"figures": figures, "notes": notes}


def eligibility_section(ctx: Context, counter: Counter) -> dict:
    ids = [i for i in ("EL01", "EL02", "EL03") if i in ctx.defs]
    rows, order = _land_lines(ctx, ids, "QUARTER")
    figures = []
    if rows.height:
        figures.append(
            counter.figure(
                charts.Later(charts.lines, rows, "share", True, order),
                "Förderberechtigung der Beratung je Quartal (EL01–EL03, Land)",
                "Anteile der Beratungskontakte mit Bleibeperspektive, mit Ausreisepflichtigen und "
                "außerhalb der Anschlussunterbringung.",
            )
        )
    table_rows = []
    year = ctx.data.values.filter(
        (pl.col("period") == ctx.year) & pl.col("indicator_id").is_in(ids)
    )
    for kreis in ctx.kreise.to_dicts():
        row = {"name": kreis["unit_name"], "rb": kreis["rb_name"]}
        for i in ids:
            r = _one(year, indicator_id=i, level="KREIS", unit_code=kreis["unit_code"])
            row[i] = (
                fmt.NOT_MEANINGFUL
                if r is None
                else fmt.cell(r["suppressed"], r["value"], "share", "value")
            )
        table_rows.append(row)
    land = {
        i: fmt.value((_one(year, indicator_id=i, level="LAND") or {}).get("value"), "share")
        for i in ids
    }
    kreis_rows = year.filter(pl.col("level") == "KREIS")
    return {
        "figures": figures,
        "ids": ids,
        "names": {i: ctx.defs[i]["name_de"] for i in ids},
        "rows": table_rows,
        "land": land,
        "table_number": counter.table(),
        "note": suppression_note(kreis_rows),
    }


# --- 6. Datenqualität, and the providers on the Kreis pages -----------------------------------

DQ_LAND_NAMES = {"DQ01": "vollständige Lieferungen (DQ01)", "DQ02": "angenommene Zeilen (DQ02)"}


def dq_land_phrase(indicator_id: str, row: dict | None, year_label: str) -> str:
    """One part of chapter 6's first sentence: the Land's DQ01 or DQ02 in the report year, in words
    where there is nothing to divide (no published row, or denominator 0) — a table symbol ("x")
    does not belong in prose."""
    name = DQ_LAND_NAMES[indicator_id]
    if row is not None and row["suppressed"]:
        return f"{name}: geheim gehalten"
    if row is None or not row["denominator"]:
        empty = {
            "DQ01": "keine meldepflichtigen Träger",
            "DQ02": f"keine Lieferungen mit Stand {year_label}",
        }[indicator_id]
        return f"{name}: {empty}"
    return f"{name} {fmt.value(row['value'], 'share')}"


def dq_land_sentence(ctx: Context) -> str:
    """'Landesweit 2025: vollständige Lieferungen (DQ01) 76,9 %; angenommene Zeilen (DQ02): …'"""
    year_label = ctx.label(ctx.year)
    parts = [dq_land_phrase(i, land_row(ctx, i, ctx.year), year_label) for i in ("DQ01", "DQ02")]
    return f"Landesweit {year_label}: " + "; ".join(parts) + "."


def calendar_quarters(ctx: Context) -> pl.DataFrame:
    """The delivery calendar's quarters, the last CALENDAR_QUARTERS published: period,
    short_label."""
    return (
        ctx.periods.filter(pl.col("period_type") == "QUARTER")
        .sort("period")
        .tail(CALENDAR_QUARTERS)
        .select("period", "short_label")
    )


def _quarter_span(quarters: pl.DataFrame) -> str:
    """'2024 Q3 – 2026 Q2' (whether the last is to date, its label says elsewhere)."""
    first, last = quarters["period"][0], quarters["period"][-1]
    return f"{first[:4]} {first[4:]} – {last[:4]} {last[4:]}"


@dataclass(frozen=True)
class ProviderDeliveries:
    calendar: pl.DataFrame
    """kreis, provider, period, period_label, status: one row per obliged provider (DQ01
    denominator > 0) and calendar quarter."""
    table: pl.DataFrame
    """kreis, unit_code, name, numerator, denominator, value (DQ02 of the report year),
    delivered_latest, rejected_latest (DQ02 of the latest quarter): one row per provider with a
    DQ02 row in either."""
    year_rows: pl.DataFrame
    """The DQ02 rows of the report year behind `table` (for its suppression footnote)."""


def provider_deliveries(ctx: Context, kreis: str | None = None) -> ProviderDeliveries:
    """The provider-level (TRAEGER) delivery frames: of the providers whose parent is `kreis`, or
    of all providers when None. A provider's Kreis is its `units.parent_code`. Computed once for
    all providers (44 Kreis pages ask), then filtered."""
    every = ctx.memo.get("provider_deliveries")
    if every is None:
        every = ctx.memo["provider_deliveries"] = _provider_deliveries(ctx)
    if kreis is None:
        return every
    table = every.table.filter(pl.col("kreis") == kreis)
    return ProviderDeliveries(
        every.calendar.filter(pl.col("kreis") == kreis),
        table,
        every.year_rows.filter(pl.col("unit_code").is_in(table["unit_code"].implode())),
    )


def _provider_deliveries(ctx: Context) -> ProviderDeliveries:
    quarters = calendar_quarters(ctx)
    latest_q = quarters["period"].to_list()[-1] if quarters.height else None
    parents = ctx.units.filter(pl.col("level") == "TRAEGER").select(
        "unit_code",
        pl.col("unit_name").alias("traeger_name"),
        pl.col("parent_code").alias("kreis"),
    )
    dq01 = ctx.rows("DQ01").filter(
        (pl.col("level") == "TRAEGER") & pl.col("period").is_in(quarters["period"].to_list())
        & (pl.col("denominator") > 0)
    )  # fmt: skip
    dq02 = ctx.rows("DQ02").filter(pl.col("level") == "TRAEGER")
    delivered = dq02.select("period", "unit_code", pl.col("denominator").alias("rows_delivered"))
    calendar = (
        dq01.join(delivered, on=["period", "unit_code"], how="left")
        .join(quarters, on="period")
        .join(parents.select("unit_code", "kreis"), on="unit_code", how="left")
        .select(
            "kreis",
            pl.col("unit_code").alias("provider"),
            "period",
            pl.col("short_label").alias("period_label"),
            pl.when(pl.col("numerator") >= pl.col("denominator"))
            .then(pl.lit("vollständig"))
            .when(pl.col("rows_delivered") > 0)
            .then(pl.lit("unvollständig"))
            .otherwise(pl.lit("fehlt"))
            .alias("status"),
        )
        .sort("provider", "period")
    )
    year_rows = dq02.filter(pl.col("period") == ctx.year)
    latest = dq02.filter(pl.col("period") == latest_q).select(
        "unit_code",
        pl.col("denominator").alias("delivered_latest"),
        (pl.col("denominator") - pl.col("numerator")).alias("rejected_latest"),
    )
    table = (
        year_rows.join(latest, on="unit_code", how="full", coalesce=True)
        .join(parents, on="unit_code", how="left")
        .select(
            "kreis",
            "unit_code",
            pl.coalesce("traeger_name", "unit_name", pl.lit("")).alias("name"),
            "numerator",
            "denominator",
            "value",
            "delivered_latest",
            "rejected_latest",
        )
        .sort("unit_code")
    )
    return ProviderDeliveries(calendar, table, year_rows)


def _provider_rows(table: pl.DataFrame) -> list[dict]:
    """The provider table's cells (ProviderDeliveries.table)."""
    return [
        {
            "code": r["unit_code"],
            "name": r["name"],
            "delivered": fmt.count(r["denominator"], "share"),
            "accepted": fmt.count(r["numerator"], "share"),
            "share": fmt.value(r["value"], "share") if r["denominator"] else fmt.NOT_MEANINGFUL,
            "rejected": fmt.count(
                None if r["denominator"] is None else r["denominator"] - (r["numerator"] or 0),
                "share",
            ),
            "rejected_latest": fmt.count(r["rejected_latest"], "share"),
        }
        for r in table.to_dicts()
    ]


def provider_section(ctx: Context, counter: Counter, kreis: dict) -> dict:
    """The Kreis page's 'Lieferungen der Träger': the delivery calendar and the table of the
    providers whose parent is the Kreis."""
    quarters = calendar_quarters(ctx)
    labels = quarters["short_label"].to_list()
    latest_q = quarters["period"].to_list()[-1] if quarters.height else None
    d = provider_deliveries(ctx, kreis["unit_code"])
    delivered = d.table.filter(
        (pl.col("denominator").fill_null(0) > 0) | (pl.col("delivered_latest").fill_null(0) > 0)
    )
    if not d.calendar.height and not delivered.height:
        span = f" ({_quarter_span(quarters)})" if quarters.height else ""
        return {
            "figures": [],
            "rows": [],
            "empty": (
                f"Im Kreis {kreis['unit_name']} war in den letzten {CALENDAR_QUARTERS} "
                f"Quartalen{span} kein Träger meldepflichtig, und {ctx.label(ctx.year)} und im "
                "jüngsten Quartal wurden keine Zeilen geliefert."
            ),
        }
    figures = []
    if d.calendar.height:
        figures.append(
            counter.figure(
                charts.Later(
                    charts.calendar, d.calendar.select("provider", "period_label", "status"), labels
                ),
                f"Lieferkalender der meldepflichtigen Träger im Kreis {kreis['unit_name']} (DQ01)",
                "Je Träger und Quartal: vollständig (alle 8 Extrakte mit Stand bis "
                "Quartalsende), unvollständig (im Quartal geliefert, aber nicht vollständig) oder "
                "fehlt (nichts mit Stand im Quartal geliefert); nur Quartale, in denen der Träger "
                "meldepflichtig war.",
            )
        )
    return {
        "figures": figures,
        "rows": _provider_rows(d.table),
        "table_number": counter.table(),
        "latest_quarter": ctx.label(latest_q) if latest_q else fmt.NOTHING,
        "note": suppression_note(d.year_rows),
        "empty": None,
    }


def _kreis_label() -> pl.Expr:
    """'Esslingen (08116)': Kreis names are not unique (Heilbronn, Karlsruhe: Stadt and Land)."""
    return pl.coalesce(pl.col("unit_name") + " (" + pl.col("unit_code") + ")", "unit_code")


def _rejected(r: dict, den: str, num: str) -> str:
    if r[f"{den}_suppressed"]:
        return fmt.SUPPRESSED
    if r[den] is None:
        return fmt.NOTHING
    return fmt.count(r[den] - (r[num] or 0), "share")


def data_quality_section(ctx: Context, counter: Counter) -> dict:
    """Chapter 6: the Land's sentence, the delivery calendar of the Kreise (KREIS rows of DQ01)
    and the table of the Kreise; the providers one by one are on the Kreis pages."""
    quarters = calendar_quarters(ctx)
    periods = quarters["period"].to_list()
    latest_q = periods[-1] if periods else None
    names = ctx.kreise.select("unit_code", "unit_name", "rb_name")
    dq01 = ctx.rows("DQ01").filter(pl.col("period").is_in(periods))
    dq02 = ctx.rows("DQ02")
    cells = (
        dq01.filter((pl.col("level") == "KREIS") & (pl.col("denominator") > 0))
        .drop("unit_name")
        .join(names, on="unit_code", how="left")
        .join(quarters, on="period")
        .sort("unit_code", "period")
        .select(
            _kreis_label().alias("kreis"),
            pl.col("short_label").alias("period_label"),
            pl.col("value").alias("share"),
            (
                pl.col("numerator").cast(pl.Int64).cast(pl.String)
                + "/"
                + pl.col("denominator").cast(pl.Int64).cast(pl.String)
            ).alias("label"),
        )
    )
    figures = []
    if cells.height:
        figures.append(
            counter.figure(
                charts.Later(
                    charts.kreis_calendar,
                    cells,
                    quarters["short_label"].to_list(),
                    cells["kreis"].unique(maintain_order=True).to_list(),
                ),
                "Lieferkalender der Kreise: vollständige Lieferungen je Quartal (DQ01)",
                "Je Kreis und Quartal: Träger mit vollständiger Lieferung (alle 8 Extrakte mit "
                "Stand bis Quartalsende) von den meldepflichtigen Trägern des Kreises, als Zahl "
                "„vollständig/meldepflichtig“ und als Farbe (hell 0 %, dunkelblau 100 %); nur "
                "Kreise und Quartale mit meldepflichtigen Trägern. Die einzelnen Träger zeigen "
                "die Kreisseiten.",
            )
        )

    def pick(frame: pl.DataFrame, period: str | None, prefix: str) -> pl.DataFrame:
        return frame.filter(pl.col("period") == period).select(
            "level",
            "unit_code",
            pl.col("numerator").alias(f"{prefix}_num"),
            pl.col("denominator").alias(prefix),
            pl.col("value").alias(f"{prefix}_value"),
            pl.col("suppressed").alias(f"{prefix}_suppressed"),
        )

    # Providers with at least one of the calendar's quarters not complete, per Kreis and in all.
    providers = provider_deliveries(ctx).calendar.filter(pl.col("status") != "vollständig")
    land = ctx.units.filter(pl.col("level") == "LAND").select("level", "unit_code")
    gaps = pl.concat(
        [
            providers.group_by(pl.col("kreis").alias("unit_code"))
            .agg(pl.col("provider").n_unique().alias("gaps"))
            .select(pl.lit("KREIS").alias("level"), "unit_code", "gaps"),
            land.with_columns(pl.lit(providers["provider"].n_unique(), pl.UInt32).alias("gaps")),
        ]
    )
    obliged_any = dq01.filter(pl.col("denominator") > 0).select("level", "unit_code").unique()
    key = ["level", "unit_code"]
    frame = (
        pl.concat(
            [
                obliged_any,
                dq02.filter(
                    pl.col("period").is_in([ctx.year, latest_q]) & (pl.col("denominator") > 0)
                ).select(key),
            ]
        )
        .filter(pl.col("level").is_in(["LAND", "KREIS"]))
        .unique()
        .join(pick(dq01, latest_q, "obliged"), on=key, how="left")
        .join(pick(dq02, ctx.year, "delivered"), on=key, how="left")
        .join(pick(dq02, latest_q, "latest"), on=key, how="left")
        .join(gaps, on=key, how="left")
        .join(names, on="unit_code", how="left")
        .join(
            ctx.units.select("level", "unit_code", pl.col("unit_name").alias("any_name")),
            on=key,
            how="left",
        )
        .with_columns(pl.coalesce("unit_name", "any_name", "unit_code").alias("name"))
        .sort(pl.col("level") != "LAND", "unit_code")
    )
    rows = [
        {
            "level": r["level"],
            "code": r["unit_code"],
            "name": r["name"],
            "page": r["unit_name"] is not None,  # a Kreis of `units`: it has a page
            "rb": r["rb_name"] or "",
            "obliged": fmt.cell(bool(r["obliged_suppressed"]), r["obliged"], "share", "count"),
            "complete": fmt.cell(bool(r["obliged_suppressed"]), r["obliged_num"], "share", "count"),
            "gaps": fmt.count(r["gaps"], "share"),
            "delivered": fmt.cell(
                bool(r["delivered_suppressed"]), r["delivered"], "share", "count"
            ),
            "accepted": fmt.cell(
                bool(r["delivered_suppressed"]), r["delivered_num"], "share", "count"
            ),
            "share": fmt.cell(
                bool(r["delivered_suppressed"]), r["delivered_value"], "share", "value"
            ),
            "rejected": _rejected(r, "delivered", "delivered_num"),
            "rejected_latest": _rejected(r, "latest", "latest_num"),
        }
        for r in frame.to_dicts()
    ]
    shown = frame.select(key)
    note_rows = pl.concat(
        [
            dq01.filter(pl.col("period") == latest_q).join(shown, on=key),
            dq02.filter(pl.col("period").is_in([ctx.year, latest_q])).join(shown, on=key),
        ]
    )
    return {
        "sentence": dq_land_sentence(ctx),
        "figures": figures,
        "land": [r for r in rows if r["level"] == "LAND"],
        "rows": [r for r in rows if r["level"] == "KREIS"],
        "table_number": counter.table(),
        "latest_quarter": ctx.label(latest_q) if latest_q else fmt.NOTHING,
        "quarters": _quarter_span(quarters) if quarters.height else fmt.NOTHING,
        "note": suppression_note(note_rows),
    }


# --- 2. Methodik --------------------------------------------------------------------------------


def method_section(ctx: Context) -> dict:
    years = ctx.periods.filter(pl.col("period_type") == "YEAR").sort("period")
    incomplete = ctx.periods.filter(~pl.col("period_complete")).sort("period")["label"].to_list()
    counts = (
        ctx.data.values.filter(pl.col("suppressed"))
        .group_by("suppression")
        .len()
        .sort("suppression")
        .to_dicts()
    )
    cells = ctx.data.values.filter(pl.col("level") != "TRAEGER").height
    d1 = _land_years(ctx, "DQ01").select(
        "period", pl.col("numerator").alias("n1"), pl.col("denominator").alias("d1"),
        pl.col("value").alias("v1"),
    )  # fmt: skip
    d2 = _land_years(ctx, "DQ02").select(
        "period", pl.col("numerator").alias("n2"), pl.col("denominator").alias("d2"),
        pl.col("value").alias("v2"),
    )  # fmt: skip
    dq_rows = [
        {
            "period": ctx.label(r["period"]),
            "d1_num": fmt.count(r["n1"], "share"),
            "d1_den": fmt.count(r["d1"], "share"),
            "d1": fmt.value(r["v1"], "share"),
            "d2_num": fmt.count(r["n2"], "share"),
            "d2_den": fmt.count(r["d2"], "share"),
            "d2": fmt.value(r["v2"], "share"),
        }
        for r in d1.join(d2, on="period", how="full", coalesce=True).sort("period").to_dicts()
    ]
    return {
        "years": [ctx.label(p) for p in years["period"].to_list()],
        "first_year": years["period"][0] if years.height else "",
        "incomplete": incomplete,
        "suppressed": {c["suppression"]: c["len"] for c in counts},
        "cells": cells,
        "dq_rows": dq_rows,
        "definitions": list(ctx.defs.values()),
    }
