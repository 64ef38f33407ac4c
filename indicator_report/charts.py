"""The report's charts: Vega-Lite specs built with altair, rendered to static SVG by vl-convert
(`indicator_report.svg`: no browser and no network), with German number formats.

Every chart gets a title and a description; `submit()` puts them into the SVG as `<title>` and
`aria-label` (role="img"), so screen readers announce what the chart shows. The SVG comes as a
future: rendered in worker processes while the report builds its other charts.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl

from core.digests import code_digest, frame_digest
from indicator_report import svg as svg_render

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
LAND_COLOUR = "#111111"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
GOOD, BAD, NEUTRAL = "#1a7f37", "#b42318", "#555555"
STATUS_COLOURS = {"vollständig": "#1a7f37", "unvollständig": "#E69F00", "fehlt": "#b42318"}
WIDTH = 560


def axis_format(unit: str) -> str:
    """d3-format of the value axis (rendered with the de-DE locale: 45 %, 1.234,5)."""
    return {"share": ".1~%", "EUR per FTE": ",.0f", "EUR per case": ",.0f"}.get(unit, ",.2~f")


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#222", titleColor="#222")
        .configure_legend(
            labelFontSize=11, titleFontSize=11, orient="bottom", columns=3, labelLimit=0
        )
        .configure_title(fontSize=13, anchor="start", color="#111")
        .configure_view(stroke=None)
    )


@functools.cache
def _config() -> dict:
    """`_configure`'s Vega-Lite `config`: the same for every chart, so made once."""
    return _configure(alt.Chart().mark_point()).to_dict(validate=False)["config"]


def spec(chart: alt.TopLevelMixin, description: str) -> dict:
    """The chart's Vega-Lite spec, configured, with its description."""
    # Altair's JSON-schema validation costs more than the rendering itself (≈ 0.4 s a chart);
    # the specs are fixed code, and the tests render every chart in a browser.
    # Without altair's row limit (5,000 rows): it keeps notebooks from embedding large data in
    # a page, but the report embeds only the rendered SVG. The federal bench's delivery calendar
    # (2,615 providers × 8 quarters = 20,920 rows) failed the build's report step on it.
    with alt.data_transformers.disable_max_rows():
        out = chart.to_dict(validate=False)
    # The description and the config go into the dict, as `.properties(description=…)` and
    # `_configure` put them (its `configure(font=…)` replaces any config the chart had), not
    # through altair, which copies the whole chart at each of those six calls. The same spec
    # (`tests/test_indicator_report.py`).
    return {**out, "description": description, "config": copy.deepcopy(_config())}


class Later:
    """A chart of this module not built yet: `build(*args)`, an argument itself a `Later` built
    first. Its `key` is a digest of what the chart's spec is a function of — the builder, its
    arguments (a frame by `frame_digest`: its names, types and values), this module's code and
    the versions of altair and polars — so `submit` finds a chart kept from an earlier report
    without building it: building a chart and its Vega-Lite spec with altair took ≈ 1.2 s of a
    report of 94 charts (`bw`, 2026-12-05), rendering none of them."""

    __slots__ = ("args", "build")

    def __init__(self, build: Callable[..., alt.TopLevelMixin], *args: object):
        self.build, self.args = build, args

    def chart(self) -> alt.TopLevelMixin:
        return self.build(*(a.chart() if isinstance(a, Later) else a for a in self.args))

    def key(self) -> bytes:
        digest = hashlib.sha256(_BUILDERS + self.build.__qualname__.encode())
        for arg in self.args:
            digest.update(b"\0" + _argument_digest(arg))
        return digest.digest()


_BUILDERS = code_digest([Path(__file__)], ("altair", "polars"))
"""What a chart's spec depends on besides its builder's arguments."""


def _argument_digest(arg: object) -> bytes:
    if isinstance(arg, Later):
        return b"chart " + arg.key()
    if isinstance(arg, pl.DataFrame):
        return b"frame " + frame_digest(arg)  # its names and types included
    return f"{type(arg).__qualname__} {arg!r}".encode()


def submit(chart: alt.TopLevelMixin | Later, title: str, description: str) -> Future[str]:
    """Static SVG of `chart`, with its title and description for assistive technology: rendered
    in the worker processes of an enclosing `svg.rendering`, else at once. A `Later` is built
    only when its SVG is not kept from an earlier report."""
    if isinstance(chart, Later):
        later = chart
        return svg_render.submit(
            lambda: spec(later.chart(), description), title, description, built_from=later.key()
        )
    return svg_render.submit(spec(chart, description), title, description)


def trend(
    land: pl.DataFrame, regions: pl.DataFrame, band: pl.DataFrame, unit: str, quarterly: bool
) -> alt.LayerChart:
    """LAND value per period (filled points: complete period), RB lines, the Kreise's range.

    land: period_label, value, complete ("ja"/"nein"); regions: period_label, series, value;
    band: period_label, lo, hi.
    """
    order = land["period_label"].to_list()
    label_expr = (
        "indexof(datum.label, 'Q1') >= 0 ? slice(datum.label, 0, 4) : ''" if quarterly else None
    )
    x = alt.X(
        "period_label:O",
        sort=order,
        title="Quartal" if quarterly else "Jahr",
        axis=alt.Axis(labelAngle=0, labelExpr=label_expr) if label_expr else alt.Axis(labelAngle=0),
    )
    y_axis = alt.Axis(format=axis_format(unit), title=None)
    series = ["Land", *sorted(regions["series"].unique().to_list())]
    colour = alt.Color(
        "series:N",
        title="Linien",
        scale=alt.Scale(domain=series, range=[LAND_COLOUR, *SERIES_COLOURS][: len(series)]),
    )
    # The band has no legend entry of its own (the fill channel is the points'): the caption
    # names it.
    band_layer = (
        alt.Chart(band)
        .mark_area(color="#c4c4c4", opacity=0.6)
        .encode(x=x, y=alt.Y("lo:Q", axis=y_axis), y2="hi:Q")
    )
    rb_layer = (
        alt.Chart(regions)
        .mark_line(strokeWidth=1.5)
        .encode(x=x, y=alt.Y("value:Q", axis=y_axis), color=colour)
    )
    land_data = land.with_columns(pl.lit("Land").alias("series"))
    land_line = (
        alt.Chart(land_data)
        .mark_line(strokeWidth=2.5)
        .encode(x=x, y=alt.Y("value:Q", axis=y_axis), color=colour)
    )
    land_points = (
        alt.Chart(land_data)
        .mark_point(size=36, strokeWidth=1.5, color=LAND_COLOUR, opacity=1)
        .encode(
            x=x,
            y=alt.Y("value:Q", axis=y_axis),
            fill=alt.Fill(
                "complete:N",
                title="Zeitraum vollständig",
                scale=alt.Scale(domain=["ja", "nein"], range=[LAND_COLOUR, "#ffffff"]),
            ),
        )
    )
    return alt.layer(band_layer, rb_layer, land_line, land_points).properties(
        width=WIDTH, height=240
    )


def control_limits(p: float, n_min: float, n_max: float, unit: str) -> pl.DataFrame | None:
    """95 % and 99.8 % limits around the LAND value p for denominators n_min … n_max.

    Shares: binomial, p ± z·sqrt(p(1−p)/n). Counts per unit of exposure (contacts per
    case-month, cases per FTE, queries per request): Poisson, p ± z·sqrt(p/n). Euro ratios have
    no count model: None (the plot shows the Land line only).
    """
    if unit == "share":
        spread = np.sqrt(p * (1 - p))
    elif unit in ("contacts per case-month", "cases per FTE", "queries per request"):
        spread = np.sqrt(p)
    else:
        return None
    lo_n = max(n_min * 0.8, 1.0)
    n = np.geomspace(lo_n, max(n_max * 1.1, lo_n * 1.5), 80)
    se = spread / np.sqrt(n)
    upper_cap = 1.0 if unit == "share" else np.inf
    return pl.DataFrame(
        {
            "n": n,
            "lo95": np.clip(p - 1.959964 * se, 0, upper_cap),
            "hi95": np.clip(p + 1.959964 * se, 0, upper_cap),
            "lo998": np.clip(p - 3.090232 * se, 0, upper_cap),
            "hi998": np.clip(p + 3.090232 * se, 0, upper_cap),
        }
    )


def funnel(points: pl.DataFrame, limits: pl.DataFrame | None, p: float, unit: str) -> alt.Chart:
    """Kreise as points (value against denominator) inside control limits around the LAND value.

    points: unit_name, denominator, value.
    """
    x = alt.X("denominator:Q", title="Nenner", scale=alt.Scale(type="log", nice=False),
              axis=alt.Axis(format=",.0f", tickCount=6))  # fmt: skip
    y_axis = alt.Axis(format=axis_format(unit), title=None)
    layers: list[alt.Chart] = []
    if limits is not None:
        long = limits.unpivot(
            index="n", on=["lo95", "hi95", "lo998", "hi998"], variable_name="limit"
        ).with_columns(
            pl.when(pl.col("limit").str.ends_with("95"))
            .then(pl.lit("95-%-Grenze"))
            .otherwise(pl.lit("99,8-%-Grenze"))
            .alias("grenze")
        )
        layers.append(
            alt.Chart(long)
            .mark_line(strokeWidth=1.2, color="#555555")
            .encode(
                x=alt.X("n:Q", scale=alt.Scale(type="log", nice=False)),
                y=alt.Y("value:Q", axis=y_axis),
                detail="limit:N",
                strokeDash=alt.StrokeDash(
                    "grenze:N",
                    title="Kontrollgrenzen",
                    scale=alt.Scale(
                        domain=["95-%-Grenze", "99,8-%-Grenze"], range=[[5, 3], [1, 2]]
                    ),
                ),
            )
        )
    layers.append(
        alt.Chart(pl.DataFrame({"p": [p], "label": ["Landeswert"]}))
        .mark_rule(color=LAND_COLOUR, strokeWidth=1.5)
        .encode(y=alt.Y("p:Q", axis=y_axis))
    )
    layers.append(
        alt.Chart(points)
        .mark_circle(size=60, opacity=0.85, color=SERIES_COLOURS[0])
        .encode(x=x, y=alt.Y("value:Q", axis=y_axis))
    )
    return alt.layer(*layers).properties(width=WIDTH, height=260)


def lines(rows: pl.DataFrame, unit: str, quarterly: bool, order: list[str]) -> alt.Chart:
    """Several LAND series over time. rows: period_label, series, value."""
    series = rows["series"].unique(maintain_order=True).to_list()
    label_expr = (
        "indexof(datum.label, 'Q1') >= 0 ? slice(datum.label, 0, 4) : ''" if quarterly else None
    )
    axis = alt.Axis(labelAngle=0, labelExpr=label_expr) if label_expr else alt.Axis(labelAngle=0)
    return (
        alt.Chart(rows)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("period_label:O", sort=order, title="Quartal" if quarterly else "Jahr",
                    axis=axis),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format(unit))),
            color=alt.Color("series:N", title=None,
                            scale=alt.Scale(domain=series, range=SERIES_COLOURS[: len(series)])),
        )
        .properties(width=WIDTH, height=220)
    )  # fmt: skip


def grouped_bars(rows: pl.DataFrame, value_title: str) -> alt.Chart:
    """Two or three amounts per year side by side. rows: year, series, amount (EUR)."""
    series = rows["series"].unique(maintain_order=True).to_list()
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Jahr", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("series:N", sort=series),
            y=alt.Y("amount:Q", title=value_title, axis=alt.Axis(format=",.0f")),
            color=alt.Color("series:N", title=None, sort=series,
                            scale=alt.Scale(domain=series, range=SERIES_COLOURS[: len(series)])),
        )
        .properties(width=WIDTH, height=220)
    )  # fmt: skip


def with_reference_lines(chart: alt.Chart, refs: pl.DataFrame) -> alt.LayerChart:
    """Horizontal reference lines (refs: amount, label) over a chart, labelled at the left."""
    rule = alt.Chart(refs).mark_rule(strokeDash=[4, 3], color=BAD).encode(y="amount:Q")
    text = (
        alt.Chart(refs)
        .mark_text(align="left", dx=4, dy=-6, color=BAD, fontSize=11)
        .encode(y="amount:Q", x=alt.value(0), text="label:N")
    )
    return alt.layer(chart, rule, text)


def histogram(values: pl.DataFrame, title_x: str) -> alt.Chart:
    """Count of units per bin of FI01 (values: value), with the line at 1 (cost covered)."""
    bars = (
        alt.Chart(values)
        .mark_bar(color=SERIES_COLOURS[0])
        .encode(
            x=alt.X("value:Q", bin=alt.Bin(step=0.05), title=title_x,
                    axis=alt.Axis(format=",.2f")),
            y=alt.Y("count():Q", title="Antragsteller"),
        )
    )  # fmt: skip
    rule = alt.Chart(pl.DataFrame({"x": [1.0]})).mark_rule(color=BAD, strokeWidth=2).encode(x="x:Q")
    return alt.layer(bars, rule).properties(width=WIDTH, height=200)


def calendar(rows: pl.DataFrame, order: list[str]) -> alt.Chart:
    """Obliged provider × quarter: status. rows: provider, period_label, status."""
    return (
        alt.Chart(rows)
        .mark_rect(stroke="#ffffff", strokeWidth=1)
        .encode(
            x=alt.X("period_label:O", sort=order, title="Quartal", axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("provider:N", title="Träger (AGS)", axis=alt.Axis(labelFontSize=9)),
            color=alt.Color(
                "status:N",
                title="Lieferung",
                scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
            ),
        )
        .properties(width=WIDTH - 80, height=alt.Step(11))
    )


# Share complete: light (0 %) to the report's accent blue (100 %), interpolated in RGB. The cell
# labels turn white from 75 %, where white text contrasts better than black (both ≈ 4.5:1 there;
# 8.5:1 for white at 100 %, 5.4:1 for black at 67 %).
SHARE_SCALE = alt.Scale(domain=[0, 1], range=["#eef3f8", "#0b4f8a"], interpolate="rgb")
DARK_FROM = 0.75


def kreis_calendar(rows: pl.DataFrame, order: list[str], kreise: list[str]) -> alt.LayerChart:
    """Kreis × quarter: the share of obliged providers with a complete delivery as the colour, each
    cell labelled "complete/obliged". rows: kreis, period_label, share, label; `kreise` the y
    order (by AGS)."""
    x = alt.X("period_label:O", sort=order, title="Quartal", axis=alt.Axis(labelAngle=-30))
    # Titles without an axis title: screen readers announce each cell with them.
    y = alt.Y("kreis:N", sort=kreise, title="Kreis", axis=alt.Axis(title=None, labelLimit=0))
    cells = (
        alt.Chart(rows)
        .mark_rect(stroke="#ffffff", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "share:Q",
                title="Anteil vollständig",
                scale=SHARE_SCALE,
                legend=alt.Legend(format=".0%", gradientLength=240, values=[0, 0.5, 1]),
            ),
        )
    )
    labels = (
        alt.Chart(rows)
        .mark_text(fontSize=10)
        .encode(
            x=x,
            y=y,
            text=alt.Text("label:N", title="vollständig/meldepflichtig"),
            color=alt.condition(
                f"datum.share >= {DARK_FROM}", alt.value("#ffffff"), alt.value("#111111")
            ),
        )
    )
    return alt.layer(cells, labels).properties(width=WIDTH - 80, height=alt.Step(18))


def forest(rows: pl.DataFrame, outcomes: list[str], terms: list[str]) -> alt.LayerChart:
    """Hazard ratios with their 95 % intervals per exposure term, one colour per outcome, on a log
    axis with the line of no difference at 1. rows: outcome, term, hr, lo, hi."""
    title = "Hazard-Ratio mit 95-%-Konfidenzintervall (logarithmische Achse)"
    # Ticks at 1-2-5 steps around 1; the domain runs from the step below the lowest interval to
    # the step above the highest (a log axis's own ticks crowd between 0,5 and 1).
    steps = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
    low = min([1.0, *rows["lo"].to_list()])
    high = max([1.0, *rows["hi"].to_list()])
    domain = [max(v for v in steps if v <= low), min(v for v in steps if v >= high)]
    ticks = [v for v in steps if domain[0] <= v <= domain[1]]
    scale = alt.Scale(type="log", domain=domain, nice=False)
    y = alt.Y("term:N", sort=terms, title=None, axis=alt.Axis(labelLimit=240))
    y_offset = alt.YOffset("outcome:N", sort=outcomes)
    colour = alt.Color(
        "outcome:N",
        title="Ergebnis",
        sort=outcomes,
        scale=alt.Scale(domain=outcomes, range=SERIES_COLOURS[: len(outcomes)]),
    )
    one = (
        alt.Chart(pl.DataFrame({"hr": [1.0]}))
        .mark_rule(color=LAND_COLOUR, strokeDash=[4, 3], strokeWidth=1.2)
        .encode(x=alt.X("hr:Q", scale=scale, title=title))
    )
    intervals = (
        alt.Chart(rows)
        .mark_rule(strokeWidth=2)
        .encode(
            x=alt.X("lo:Q", scale=scale, title=title, axis=alt.Axis(values=ticks, format=",.3~f")),
            x2="hi:Q",
            y=y,
            yOffset=y_offset,
            color=colour,
        )
    )
    points = (
        alt.Chart(rows)
        .mark_point(filled=True, size=60, opacity=1)
        .encode(x=alt.X("hr:Q", scale=scale, title=title), y=y, yOffset=y_offset, color=colour)
    )
    return alt.layer(one, intervals, points).properties(
        width=WIDTH - 200, height=max(120, 22 * rows.height)
    )


def incidence_curves(rows: pl.DataFrame, outcomes: list[str], groups: list[str]) -> alt.FacetChart:
    """Kaplan–Meier cumulative incidence per group, one panel per outcome, with the pointwise 95 %
    band. rows: outcome, group, month, incidence, lo, hi (a curve's first row at the entry month
    with 0, so that every curve starts at 0)."""
    colour = alt.Color(
        "group:N",
        title="Gruppe",
        sort=groups,
        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1),
        scale=alt.Scale(domain=groups, range=SERIES_COLOURS[: len(groups)]),
    )
    x = alt.X("month:Q", title="Monate seit dem Erstkontakt", axis=alt.Axis(format="d"))
    y_axis = alt.Axis(format=".0%", title="Anteil mit Ergebnis")
    band = (
        alt.Chart()
        .mark_area(interpolate="step-after", opacity=0.2)
        .encode(x=x, y=alt.Y("lo:Q", axis=y_axis), y2="hi:Q", color=colour)
    )
    line = (
        alt.Chart()
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(x=x, y=alt.Y("incidence:Q", axis=y_axis), color=colour)
    )
    return (
        alt.layer(band, line, data=rows)
        .properties(width=WIDTH - 80, height=150)
        .facet(
            facet=alt.Facet(
                "outcome:N",
                sort=outcomes,
                title=None,
                header=alt.Header(labelFontSize=12, labelFontWeight="bold", labelLimit=0,
                                  labelAnchor="start"),
            ),
            columns=1,
        )
    )  # fmt: skip
