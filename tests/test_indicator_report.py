"""The Kennzahlenbericht: rendered from a hand-made published database (version-2 shape, see
tests/report_fixture.py), checked in its HTML and in a real headless Chromium.

The browser is Debian's `chromium` driven by playwright (`make test` installs it when missing);
without it these tests fail — they are never skipped.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pytest

from cli.main import main as imw_main
from core.outcome_results import DESIGN_DE
from indicator_report.queries import PublishedShapeError
from indicator_report.render import VERSIONS_DIR_NAME, build_report, render_pages
from tests.report_fixture import (
    LEAK_STRINGS,
    OUTCOME_LABELS,
    OUTCOME_LEAK_STRINGS,
    make_published,
    make_published_outcomes,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("report")
    db = make_published(home / "published" / "indicators.duckdb")
    outcomes = make_published_outcomes(home / "published" / "outcomes")
    result = build_report(db, home / "published" / "report", outcomes_dir=outcomes)
    assert result.index.is_file()
    return result.path


def pages(report: Path) -> dict[str, str]:
    return {
        str(p.relative_to(report)): p.read_text(encoding="utf-8")
        for p in sorted(report.rglob("*.html"))
    }


def visible(html: str) -> str:
    """The page's text without tags, whitespace collapsed (NBSP kept as a plain space)."""
    text = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def row_cells(html: str, first_cell: str) -> list[str]:
    """Cells of the table row whose header cell contains `first_cell` (text only)."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells = [visible(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if cells and first_cell in cells[0]:
            return cells
    raise AssertionError(f"no row {first_cell!r}")


# --- content -----------------------------------------------------------------------------------


def test_every_page_is_written(report):
    names = set(pages(report))
    # index + Wirkung + English summary + one page per catalogue indicator (22) + one per Kreis
    # (3).
    assert len(names) == 3 + 22 + 3
    assert {"index.html", "wirkung.html", "english.html", "kennzahl/CM01.html",
            "kreis/08116.html"} <= names  # fmt: skip


def test_no_suppressed_value_appears_anywhere(report):
    # The fixture's two suppressed cells still carry numbers; none may print, in any page,
    # table, chart (SVG aria labels and data) or attribute. Bounded by non-digits so SVG path
    # coordinates such as 114.321 are not mistaken for 4.321.
    pattern = re.compile(
        r"(?<![\d.,])(" + "|".join(re.escape(s) for s in LEAK_STRINGS) + r"|49\s?%|66\s?%)(?!\d)"
    )
    for name, html in pages(report).items():
        assert not pattern.findall(html.replace("\u00a0", " ")), name


def test_indicator_table_uses_the_statistical_symbols(report):
    html = (report / "kennzahl" / "CM01.html").read_text(encoding="utf-8")
    # Esslingen: primary suppression → "." in numerator, denominator, value and base_n.
    assert row_cells(html, "Esslingen") == ["Esslingen", "08116", ".", ".", ".", "."]
    # Böblingen: secondary suppression, marked with a superscript s.
    assert row_cells(html, "Böblingen") == ["Böblingen", "08115", ".", ".", ". s", "."]
    # Land: 450 / 1.000 = 45,0 %, 320 cases.
    assert row_cells(html, "Baden-Württemberg") == [
        "Baden-Württemberg", "08", "450", "1.000", "45,0 %", "320"
    ]  # fmt: skip
    text = visible(html)
    assert "Zeichenerklärung" in text
    assert "1 Wert beruht auf weniger als 5 Fällen oder Personen (primäre Geheimhaltung)" in text
    assert "1 weiterer Wert ist zusätzlich gesperrt" in text
    # CM09 in Esslingen has no closed case: nothing ("–") and a value that is not meaningful.
    cm09 = (report / "kennzahl" / "CM09.html").read_text(encoding="utf-8")
    assert row_cells(cm09, "Esslingen") == ["Esslingen", "08116", "–", "–", "x", "–"]
    assert "In dieser Tabelle ist kein Wert geheim gehalten." in visible(cm09)


def test_every_table_has_the_symbol_key_and_a_footnote(report):
    for name, html in pages(report).items():
        if name == "english.html":
            continue  # one key in English below its one table
        tables = len(re.findall(r"</table>\s*<div class=\"key\">", html))
        assert tables == html.count("<table"), name
        assert html.count('class="footnote"') >= tables, name


def test_change_and_arrow_follow_the_better_direction(report):
    html = (report / "kennzahl" / "CM01.html").read_text(encoding="utf-8")
    # CM01 (higher is better): 40,0 % → 45,0 % = +5,0 percentage points, green arrow up.
    assert "45,0 % (2024: 40,0 %; +5,0 Pp." in visible(html)
    assert 'class="arrow verdict-better"' in html and "▲" in html
    el02 = (report / "kennzahl" / "EL02.html").read_text(encoding="utf-8")
    # EL02 (lower is better): 2,0 % → 3,0 % = +1,0 Pp., red.
    assert "3,0 % (2024: 2,0 %; +1,0 Pp." in visible(el02)
    assert 'class="arrow verdict-worse"' in el02


def test_key_results_sentence_is_generated_from_the_numbers(report):
    text = visible((report / "index.html").read_text(encoding="utf-8"))
    # Finding 7: EL01 and EL03 better, EL02 worse; EL02 moved most (+50 % against 6,25 % and
    # 20 %).
    assert (
        "Von 3 gewerteten Kennzahlen haben sich gegenüber 2024 2 verbessert und 1 "
        "verschlechtert. Am stärksten bewegte sich „Kontakte mit Ausreisepflichtigen“: 2,0 % "
        "(2024) → 3,0 % (2025), verschlechtert."
    ) in text
    # Finding 6 has no indicator in the catalogue: said so, not left blank.
    assert "Keine Kennzahl dieses Berichts misst diesen Punkt unmittelbar" in text
    html = (report / "index.html").read_text(encoding="utf-8")
    # All 7 findings and 5 requests are named, in 6 blocks of identical indicator sets (the
    # catalogue's audit_finding column): findings 1–3 + requests 1, 2 (FI, PA); findings 4, 5 +
    # request 3 (CM); finding 6 (none); finding 7 (EL); request 4 (EL, FI, PA); request 5 (CM, DQ).
    assert len(re.findall(r"<h3>Befund \d", html)) == 7
    assert len(re.findall(r"<h3>Ersuchen \d", html)) == 5
    assert html.count('<div class="finding">') == 6


def test_german_numbers_dates_and_incomplete_periods(report):
    index = visible((report / "index.html").read_text(encoding="utf-8"))
    assert "Stichtag der Daten: 15.05.2026" in index  # TT.MM.JJJJ
    # 2026 and 2026Q2 end after the reference date 15.05.2026: periods to date.
    assert "2026 (bis 15.05.)" in index and "2. Quartal 2026 (bis 15.05.)" in index
    fi02 = (report / "kennzahl" / "FI02.html").read_text(encoding="utf-8")
    # 79.008.000 € over 1.234,5 FTE = 64.000 € per FTE.
    assert row_cells(fi02, "Baden-Württemberg")[2:5] == ["79.008.000", "1.234,5", "64.000 €"]


def chapter(html: str, section_id: str) -> str:
    """The HTML of the index's chapter `section_id`, up to the next chapter."""
    start = html.index(f'<section class="chapter" id="{section_id}">')
    end = html.find('<section class="chapter"', start + 1)
    return html[start : end if end > 0 else len(html)]


def svg_labels(html: str) -> list[str]:
    """The aria labels of the drawn marks in the page's first chart (Vega labels each mark with
    its fields: "Quartal: 2025 Q1; …")."""
    svg = re.search(r"<svg.*?</svg>", html, flags=re.S).group(0)
    return [unescape(a) for a in re.findall(r'aria-label="(Quartal: [^"]*)"', svg)]


def test_finance_and_data_quality_sections(report):
    index = visible((report / "index.html").read_text(encoding="utf-8"))
    # FI01 per applicant 2025: 1,10 and 1,30 over 1, 0,90 not; excess 100 + 300 = 400 €.
    assert (
        "2025: 2 von 3 Antragstellern mit Verwendungsnachweis waren überfinanziert "
        "(Förderquote über 1), im Median mit einer Quote von 1,20; zusammen 400 € mehr "
        "Förderung als Kosten."
    ) in index
    html = (report / "index.html").read_text(encoding="utf-8")
    dq = chapter(html, "datenqualitaet")
    # The Land's sentence: the generic grid's LAND rows of 2025 (i = 1), DQ01 and DQ02 each
    # 1.000 × 0,35 = 350 of 1.000 = 35,0 %.
    assert (
        "Landesweit 2025: vollständige Lieferungen (DQ01) 35,0 %; angenommene Zeilen (DQ02) 35,0 %."
    ) in visible(dq)
    # The Kreis table: Esslingen (08116) has one provider, 08116003, and equal Kreis rows.
    assert row_cells(dq, "Esslingen") == [
        "Esslingen (08116)",  # the name links its page; the AGS tells Stadt and Landkreis apart
        "Stuttgart",  # its RB 081
        "1",  # DQ01 2026Q2 (the latest quarter): 1 obliged provider
        "1",  # … of whom 1 complete
        "1",  # 08116003 was not complete in 2 of the 8 quarters (2025Q1, 2025Q3): 1 provider
        "1.000",  # DQ02 2025: 1.000 rows delivered
        "950",  # 950 accepted
        "95,0 %",  # 950 / 1.000
        "50",  # 1.000 − 950 rejected
        "50",  # DQ02 2026Q2: 100 − 50 rejected
    ]
    assert '<a href="kreis/08116.html">Esslingen</a>' in dq
    # The Land row first: the generic grid's LAND rows.
    assert row_cells(dq, "Baden-Württemberg") == [
        "Baden-Württemberg",
        "",  # no RB
        "1.000",  # DQ01 2026Q2 (i = 4): denominator 1.000
        "500",  # 1.000 × (0,30 + 0,05 × 4)
        "3",  # all 3 providers: 08115 and 08212 have generic shares below 1 in every quarter
        "1.000",  # DQ02 2025 (i = 1): 1.000 delivered
        "350",  # 1.000 × 0,35 accepted
        "35,0 %",
        "650",  # 1.000 − 350
        "500",  # DQ02 2026Q2: 1.000 − 500
    ]
    # Land + the 3 Kreise, each with obliged providers and delivered rows.
    assert len(table_rows(dq)) == 1 + 1 + 3  # header, Land, 3 Kreise
    # The figure is the Kreise's calendar, not the providers': 3 Kreise × 8 quarters 2024Q3 …
    # 2026Q2, every cell with obliged providers (denominator > 0), each a rectangle and a label.
    assert "Lieferkalender der Kreise: vollständige Lieferungen je Quartal (DQ01)" in visible(dq)
    assert "Lieferkalender der meldepflichtigen Träger" not in html
    assert "08116003" not in html  # no provider on the main page
    labels = svg_labels(dq)
    assert len(labels) == 2 * 3 * 8
    # Esslingen's labels "complete/obliged" per quarter, in the order of the quarters: 0/1 in
    # 2025Q1 and 2025Q3 (the fixture's two gaps), 1/1 in the other six.
    assert [a.rsplit(": ", 1)[1] for a in labels if "Esslingen (08116)" in a
            and "vollständig/meldepflichtig" in a] == [
        "1/1", "1/1", "0/1", "1/1", "0/1", "1/1", "1/1", "1/1"
    ]  # fmt: skip
    # … and their colour's share: 100 % where 1/1, 0 % where 0/1.
    assert [a.rsplit(": ", 1)[1] for a in labels if "Esslingen (08116)" in a
            and "Anteil vollständig" in a] == [
        "100%", "100%", "0%", "100%", "0%", "100%", "100%", "100%"
    ]  # fmt: skip

    # The providers are on their Kreis's page: 08116003 on Esslingen's.
    kreis = (report / "kreis" / "08116.html").read_text(encoding="utf-8")
    # DQ02 of 08116003 in 2025: 1.000 delivered, 950 accepted, 95,0 %, 50 rejected; in 2026Q2
    # (the latest quarter) 50 of 100 rows accepted → 50 rejected.
    assert row_cells(kreis, "08116003")[2:7] == ["1.000", "950", "95,0 %", "50", "50"]
    text = visible(kreis)
    assert "Lieferungen der Träger (DQ01, DQ02)" in text
    # The page's own Counter: its first figure, its second table.
    assert (
        "Abbildung 1: Lieferkalender der meldepflichtigen Träger im Kreis Esslingen (DQ01)" in text
    )
    assert "Tabelle 2: Gelieferte und angenommene Zeilen je Träger im Kreis Esslingen, 2025" in text
    svg = re.search(r"<svg.*?</svg>", kreis, flags=re.S).group(0)
    # 1 provider × 8 quarters = 8 rectangles + the legend's 3 status symbols.
    assert svg.count('role="graphics-symbol"') == 8 + 3
    # 2025Q1: 0/1 with 250 rows delivered → unvollständig; 2025Q3: 0/1 and none → fehlt.
    assert [a.rsplit(": ", 1)[1] for a in svg_labels(kreis)] == [
        "vollständig", "vollständig", "unvollständig", "vollständig", "fehlt", "vollständig",
        "vollständig", "vollständig",
    ]  # fmt: skip
    # The Kreis's own DQ01 of 2025 in the table of all indicators: 1 of 1 = 100,0 %.
    assert row_cells(kreis, "DQ01")[1:4] == ["1", "1", "100,0 %"]


def test_dq_land_phrase_says_in_words_when_there_is_nothing_to_divide():
    from indicator_report.content import dq_land_phrase

    def row(numerator, denominator, value):
        return {"numerator": numerator, "denominator": denominator, "value": value,
                "suppressed": False}  # fmt: skip

    # Denominator 0 (no rows with a stand in 2025; demo's DQ02): words, not the symbol "x".
    assert dq_land_phrase("DQ02", row(0.0, 0.0, None), "2025") == (
        "angenommene Zeilen (DQ02): keine Lieferungen mit Stand 2025"
    )
    assert dq_land_phrase("DQ01", row(0.0, 0.0, None), "2025") == (
        "vollständige Lieferungen (DQ01): keine meldepflichtigen Träger"
    )
    # No published row at all: the same words.
    assert dq_land_phrase("DQ01", None, "2025") == (
        "vollständige Lieferungen (DQ01): keine meldepflichtigen Träger"
    )
    assert dq_land_phrase("DQ02", None, "2026 (bis 15.05.)") == (
        "angenommene Zeilen (DQ02): keine Lieferungen mit Stand 2026 (bis 15.05.)"
    )
    # Otherwise the value: 10 of 13 = 76,9 %; 48.385 of 48.385 = 100,0 %.
    assert dq_land_phrase("DQ01", row(10.0, 13.0, 10 / 13), "2025") == (
        "vollständige Lieferungen (DQ01) 76,9\u00a0%"
    )
    assert dq_land_phrase("DQ02", row(48385.0, 48385.0, 1.0), "2026") == (
        "angenommene Zeilen (DQ02) 100,0\u00a0%"
    )


def test_a_kreis_without_obliged_providers_or_deliveries_says_so(report):
    from indicator_report import content, queries

    ctx = content.build_context(queries.load(report.parent / "indicators.duckdb"), None)
    # Göppingen (08117) has no provider in the fixture: no figure, no table, one sentence.
    page = content.kreis_page(
        ctx, {"unit_code": "08117", "unit_name": "Göppingen", "rb_code": "081",
              "rb_name": "Stuttgart"},
    )  # fmt: skip
    assert page["providers"] == {
        "figures": [],
        "rows": [],
        "empty": "Im Kreis Göppingen war in den letzten 8 Quartalen (2024 Q3 – 2026 Q2) kein "
        "Träger meldepflichtig, und 2025 und im jüngsten Quartal wurden keine Zeilen geliefert.",
    }
    # Esslingen's providers, computed once for the Kreis page: 08116003 in 8 quarters.
    deliveries = content.provider_deliveries(ctx, "08116")
    assert deliveries.calendar["provider"].unique().to_list() == ["08116003"]
    assert deliveries.calendar.height == 8
    assert deliveries.table["unit_code"].to_list() == ["08116003"]


def table_rows(html: str) -> list[list[str]]:
    """Every body row of every table on the page, as the text of its cells."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        if cells:
            rows.append([unescape(visible(c)).strip() for c in cells])
    return rows


def test_wirkung_page_shows_the_forest_plot_the_curves_and_the_design(report):
    html = (report / "wirkung.html").read_text(encoding="utf-8")
    text = visible(html)
    # Two charts, each an inline SVG: the forest plot and the Kaplan–Meier curves.
    assert html.count("<figure") == 2 and html.count("<svg") == 2
    assert "Abbildung 1: Hazard-Ratios der Fallarbeit je Ergebnis" in text
    assert "Abbildung 2: Kaplan–Meier" in text
    # The first body row: the signed plan's model for first employment (tests/report_fixture.py):
    # HR 2,02 [1,57–2,58], p 0,00001 → "< 0,001", 440 events of 1.700 cases in 23.456
    # case-months.
    employment = OUTCOME_LABELS["first_employment"]
    assert table_rows(html)[1] == [
        employment, "unterschriebener Integrationsplan liegt vor", "2,02", "1,57–2,58",
        "< 0,001", "440", "1.700", "23.456",
    ]  # fmt: skip
    # Goal-linked contacts and B1: 4,68 [2,23–9,83] on 270 events of 1.500 cases.
    assert [OUTCOME_LABELS["first_b1"], "Anteil zielbezogener Kontakte (0 → 1)", "4,68",
            "2,23–9,83", "< 0,001", "270", "1.500", "23.456"] in table_rows(html)  # fmt: skip
    # Only exposure terms: the baseline-hazard band (HR 1,5) is not an exposure.
    assert "time_band" not in html
    # The data window and the model from outcome_analysis.json and outcome_models.parquet.
    assert "Fälle mit Beginn vom 01.01.2023 bis 31.12.2025 (Datenstand 15.01.2026)" in text
    assert "Evaluationsexport der Studie „integration-2026“ (k-anonym, k = 5)" in text
    assert "Adjustiert für: Altersgruppe, Bleibeperspektive bei Fallbeginn, Quartal" in text
    # 4 RB in the export: errors not clustered, and the page says why.
    assert "nicht geclustert: Der Export enthält nur 4 Werte für Regierungsbezirk" in text
    # The design's limits, the text the analysis writes into wirkung.md (one definition).
    assert DESIGN_DE in text
    assert "natürliches Experiment" in text and "Ersuchen 3" in text
    # The index links the page from its table of contents and its chapter 8.
    index = (report / "index.html").read_text(encoding="utf-8")
    assert '<a href="#wirkung">Wirkung</a>' in index and 'href="wirkung.html"' in index
    assert "Fälle mit Beginn vom 01.01.2023 bis 31.12.2025" in visible(index)


def test_wirkung_page_withholds_small_numbers(report):
    html = (report / "wirkung.html").read_text(encoding="utf-8")
    # Nothing the cell minimum (5) withholds prints: not in a table, a chart's data or its aria
    # labels (bounded by non-digits, so that SVG coordinates do not count).
    pattern = re.compile(
        r"(?<![\d.,])(" + "|".join(re.escape(s) for s in OUTCOME_LEAK_STRINGS) + r")(?!\d)"
    )
    assert not pattern.findall(html.replace("\u00a0", " "))
    rows = table_rows(html)
    # Moving out of AU rests on 4 events: no number of its model, and the page says so.
    assert ["Auszug aus der AU", "alle", ".", ".", ".", ".", ".", "."] in rows
    assert (
        "Nicht gezeigt, weil auf weniger als 5 Ereignissen beruhend: Auszug aus der AU"
        in visible(html)
    )
    employment, b1 = OUTCOME_LABELS["first_employment"], OUTCOME_LABELS["first_b1"]
    # Plan within 8 weeks, first employment: month 6 20,0 % with 70 at risk, month 12 40,0 %
    # with 40; month 24's next event row has 3 at risk: withheld.
    assert [employment, "Plan binnen 8 Wochen", "20,0 %", "70", "40,0 %", "40", ".", "."] in rows
    # No plan: 3,0 % (150 at risk at month 8), 7,0 % (60 at month 14), no event after month 24.
    assert [employment, "kein Plan binnen 8 Wochen", "3,0 %", "150", "7,0 %", "60", "–",
            "–"] in rows  # fmt: skip
    # Plan within 8 weeks, B1: 4 at risk from the start, so the whole curve is withheld.
    assert [b1, "Plan binnen 8 Wochen", *["."] * 6] in rows
    # B1 without a plan: month 24 → the event row of month 26 with 12 at risk, 15,0 %.
    assert [b1, "kein Plan binnen 8 Wochen", "3,0 %", "180", "10,0 %", "90", "15,0 %",
            "12"] in rows  # fmt: skip
    # No number at risk below 5 anywhere in the table (every second month column).
    at_risk = [r[3::2] for r in rows if len(r) == 8 and "Wochen" in r[1]]
    assert len(at_risk) == 5  # 5 curves: 2 + 2 + 1 (moving out: one group only)
    for cells in at_risk:
        assert all(c in (".", "–") or int(c.replace(".", "")) >= 5 for c in cells), cells


def test_wirkung_page_without_an_analysis_names_the_command(tmp_path):
    db = make_published(tmp_path / "published" / "indicators.duckdb", QUICK)
    # Nothing published at the given place (a fresh home): the page says so in one paragraph.
    result = build_report(db, tmp_path / "published" / "report",
                          outcomes_dir=tmp_path / "published" / "outcomes")  # fmt: skip
    html = (result.path / "wirkung.html").read_text(encoding="utf-8")
    assert "Es ist noch keine Ereignisanalyse veröffentlicht" in visible(html)
    assert "imw analyse-outcomes --export ORDNER" in visible(html)
    assert "<figure" not in html and "<table" not in html
    assert "Dazu ist noch keine Ereignisanalyse veröffentlicht." in visible(
        (result.path / "index.html").read_text(encoding="utf-8")
    )


QUICK = ("CM01", "FI04")  # two indicators: a report in a few seconds, for the wiring tests


def test_report_is_swapped_in_atomically(tmp_path):
    db = make_published(tmp_path / "published" / "indicators.duckdb", QUICK)
    out = tmp_path / "published" / "report"
    first = build_report(db, out, period="2024")
    first_target = out.resolve()
    second = build_report(db, out)
    assert out.is_symlink() and out.resolve() != first_target
    assert "Kennzahlenbericht 2025" in (out / "index.html").read_text(encoding="utf-8")
    versions = sorted(p.name for p in (tmp_path / "published" / VERSIONS_DIR_NAME).iterdir())
    # The previous version stays for readers still in it; no temp folder is left.
    assert versions == sorted([first_target.name, out.resolve().name])
    third = build_report(db, out)
    remaining = {p.resolve() for p in (tmp_path / "published" / VERSIONS_DIR_NAME).iterdir()}
    assert first_target not in remaining and len(remaining) == 2
    assert first.year == "2024" and second.year == third.year == "2025"


def test_report_refuses_todays_published_shape(tmp_path):
    db = make_published(tmp_path / "indicators.duckdb", QUICK)
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE units")
        con.execute("ALTER TABLE indicator_values DROP COLUMN period_complete")
    with pytest.raises(PublishedShapeError, match=r"indicator_values\.period_complete.*units\."):
        build_report(db, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_cli_writes_into_the_published_folder(tmp_path, capsys):
    home = tmp_path / "home"
    make_published(home / "published" / "indicators.duckdb", QUICK)
    (home / "elsewhere").mkdir()
    (home / "elsewhere" / "notes.txt").write_text("someone's file")
    # An --out folder with someone's files in it is never replaced.
    assert imw_main(["report", "--home", str(home), "--out", str(home / "elsewhere")]) == 2
    assert (home / "elsewhere" / "notes.txt").read_text() == "someone's file"
    # The outcome analysis published in the home (Settings.published_outcomes_dir) is shown.
    make_published_outcomes(home / "published" / "outcomes")
    assert imw_main(["report", "--home", str(home), "--period", "2024"]) == 0
    index = home / "published" / "report" / "index.html"
    assert "Kennzahlenbericht 2024" in index.read_text(encoding="utf-8")
    wirkung = (home / "published" / "report" / "wirkung.html").read_text(encoding="utf-8")
    assert wirkung.count("<figure") == 2
    assert str(index) in capsys.readouterr().out
    # A year that was not published is a usage error.
    assert imw_main(["report", "--home", str(home), "--period", "2019"]) == 2


# --- in the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium missing: run `make test` (installs it as root)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _local_target(page_url: str, href: str) -> tuple[Path, str]:
    base = Path(unquote(urlparse(page_url).path)).parent
    path, _, fragment = href.partition("#")
    return ((base / unquote(path)).resolve() if path else Path(unquote(urlparse(page_url).path)),
            fragment)  # fmt: skip


def test_every_page_renders_offline_in_chromium(report, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    outside: list[str] = []

    def block(route):
        if not route.request.url.startswith("file://"):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", block)
    page = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))

    todo, seen, charts_seen = [(report / "index.html").resolve()], set(), 0
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        # Every chart has drawn marks (Vega gives each drawn item role graphics-symbol).
        marks = page.eval_on_selector_all(
            "figure svg",
            "svgs => svgs.map(s => s.querySelectorAll('[role=graphics-symbol]').length)",
        )
        assert all(n > 0 for n in marks), (path, marks)
        charts_seen += len(marks)
        # Every chart has a title and a label for screen readers.
        assert page.locator("figure svg > title").count() == len(marks), path
        # Symbol key and footnote under every table.
        tables = page.locator("table").count()
        assert page.locator("table + div.key p.footnote").count() == tables, path
        if path.name != "english.html":
            assert tables == 0 or "Zeichenerklärung" in page.inner_text("body"), path
        for href in page.eval_on_selector_all(
            "a[href]", "as => as.map(a => a.getAttribute('href'))"
        ):
            assert not re.match(r"^[a-z]+://", href), (path, href)  # nothing outside the report
            target, fragment = _local_target(page.url, href)
            assert target.is_file(), (path, href)  # the link resolves
            if fragment and target == path:
                assert page.locator(f"#{fragment}").count() == 1, (path, href)
            if target.suffix == ".html" and target not in seen:
                todo.append(target)
    assert len(seen) == 3 + 22 + 3  # every page reached by links from index.html
    # Charts: 22 Kennzahlen pages with trend + funnel, except FI04 (Land only: no funnel); the
    # Wirkung page's forest plot and curves.
    assert charts_seen >= 2 * 22 - 1 + 2
    assert outside == [] and failed == [] and errors == []

    for name, rel in (("index", "index.html"), ("indicator", "kennzahl/CM01.html")):
        page.goto((report / rel).resolve().as_uri())
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 20_000, shot  # a rendered page, not a blank one
        print(f"screenshot: {shot}")

    page.goto((report / "index.html").resolve().as_uri())
    pdf = tmp_path / "index.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    n_pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    # Eight chapters, each from a new page; the fixture's tables and charts fill 10–30 pages.
    assert 8 <= n_pages <= 30, n_pages
    print(f"pdf: {pdf} ({n_pages} pages)")
    context.close()


@pytest.mark.parametrize(
    "rel", ["index.html", "kennzahl/CM01.html", "kreis/08116.html", "wirkung.html"]
)
def test_accessibility_has_no_serious_violations(report, browser, rel):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page()
    page.goto((report / rel).resolve().as_uri())
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    page.close()


def test_report_asset_runs_after_publish_in_the_nightly_build(tmp_path):
    import dagster as dg

    from orchestration.definitions import NIGHTLY_BUILD, build_definitions
    from orchestration.resources import WarehouseResource

    loaded = build_definitions()
    graph = loaded.resolve_asset_graph()
    assert graph.get(dg.AssetKey("report")).parent_keys == {dg.AssetKey("published_indicators")}
    job_keys = loaded.resolve_job_def(NIGHTLY_BUILD).asset_layer.asset_graph.get_all_asset_keys()
    assert dg.AssetKey("report") in job_keys
    home = tmp_path / "home"
    make_published(home / "published" / "indicators.duckdb", QUICK)
    result = dg.materialize(
        [loaded.get_assets_def(dg.AssetKey("report"))],
        resources={"warehouse": WarehouseResource(home=str(home))},
    )
    assert result.success
    assert (home / "published" / "report" / "index.html").is_file()


def test_a_chart_of_more_than_altairs_5000_rows_renders():
    """The delivery calendar of a federal-sized programme: 2,615 providers × 8 quarters = 20,920
    rows, over altair's default limit of 5,000 (the federal bench's report step failed on it).
    The report embeds only the rendered SVG, so `charts.submit` renders without that limit."""
    import altair as alt
    import polars as pl

    from indicator_report import charts

    quarters = [f"{year} Q{q}" for year in (2025, 2026) for q in range(1, 5)]  # 8 quarters
    providers = [f"{n:08d}" for n in range(2_615)]  # 2,615 providers
    rows = pl.DataFrame(
        {
            "provider": [p for p in providers for _ in quarters],
            "period_label": quarters * len(providers),
            "status": ["vollständig", "unvollständig", "fehlt", "vollständig"] * 5_230,
        }
    )
    assert rows.height == 20_920  # 2,615 × 8, and 4 statuses × 5,230
    before = dict(alt.data_transformers.options)
    with pytest.raises(alt.MaxRowsError):  # the process's default refuses this chart
        charts.calendar(rows, quarters).to_dict(validate=False)
    out = charts.submit(
        charts.calendar(rows, quarters), "Lieferkalender", "Je Träger und Quartal"
    ).result()
    assert out.startswith("<svg ") and "<title>Lieferkalender</title>" in out
    # every row drawn: 20,920 rectangles + the legend's 3 status symbols (graphics-symbol role)
    assert out.count('role="graphics-symbol"') == 20_923
    # the limit is lifted only for the report's own rendering, not for the process
    assert dict(alt.data_transformers.options) == before
    with pytest.raises(alt.MaxRowsError):
        charts.calendar(rows, quarters).to_dict(validate=False)


def test_charts_rendered_by_worker_processes_give_the_same_pages(tmp_path):
    """The report's charts render in a pool of processes (vl-convert renders one at a time per
    process); the pages are byte for byte those of one process rendering every chart."""
    db = make_published(tmp_path / "published" / "indicators.duckdb")
    outcomes = make_published_outcomes(tmp_path / "published" / "outcomes")
    alone, year, publish_id = render_pages(db, outcomes_dir=outcomes, workers=1)
    pooled = render_pages(db, outcomes_dir=outcomes, workers=2)
    assert pooled == (alone, year, publish_id)
    assert sum(page.count("<svg ") for page in alone.values()) > 10  # charts were rendered


def test_charts_rendered_by_workers_started_before_the_report_give_the_same_pages(
    tmp_path, monkeypatch
):
    """`render.start_workers` (the build calls it when dbt has built its last model) starts the
    next report's chart processes ahead: the report renders with exactly those (no pool of its
    own), its pages are byte for byte those of one process, and the started pool is used once.
    Started with another number of processes than the report uses, they are ended and the
    report starts its own; one process starts none."""
    from indicator_report import render, svg

    db = make_published(tmp_path / "published" / "indicators.duckdb", QUICK)
    alone = render_pages(db, workers=1)
    pools: list[object] = []
    new_pool = svg._new_pool

    def counted(workers: int):
        pools.append(new_pool(workers))
        return pools[-1]

    monkeypatch.setattr(svg, "_new_pool", counted)
    assert render.start_workers(2) == 2
    ready = svg._STARTED[0][1].result(timeout=60)  # the pool, its two warm-up tasks submitted
    assert len(ready._processes) == 2  # both processes started before any chart (CPython's)
    pooled, count = render._counted_render(db, None, None, 2, None)
    assert pooled == alone
    assert count.rendered >= 3 and pools == [ready]  # every chart rendered by the started pool
    assert count.started_before
    assert svg._STARTED == []  # taken by that report: the next one starts its own
    assert render_pages(db, workers=2) == alone and len(pools) == 2

    assert render.start_workers(3) == 3  # three processes, for a report that uses two
    svg._STARTED[0][1].result(timeout=60)
    assert render_pages(db, workers=2) == alone
    assert len(pools) == 4 and pools[2]._shutdown_thread  # the three ended, a pool of two made
    assert svg._STARTED == []
    assert render.start_workers(1) == 0 and svg._STARTED == []  # one process: nothing to start


def test_a_chart_gets_the_same_svg_whatever_its_process_rendered_before():
    """vega numbers the gradients it defines per process (gradient_0, gradient_1, …): the same
    chart came out with another id the second time, and two processes could give two charts of
    one page the same id. The ids are named after the chart."""
    import altair as alt
    import polars as pl

    from indicator_report import charts

    def heat(values: list[float]) -> alt.Chart:  # a continuous colour legend: one gradient
        frame = pl.DataFrame({"x": ["a", "b"], "v": values})
        return alt.Chart(frame).mark_rect().encode(x="x:N", color="v:Q")

    first = charts.submit(heat([1.0, 3.0]), "Karte", "Zwei Werte").result()
    again = charts.submit(heat([1.0, 3.0]), "Karte", "Zwei Werte").result()
    other = charts.submit(heat([2.0, 9.0]), "Karte", "Zwei andere Werte").result()
    assert first == again  # the old ids: gradient_0, then gradient_1
    ids = [re.findall(r'id="(gradient[^"]*)"', svg) for svg in (first, other)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]  # one each, not shared
    assert f"url(#{ids[0][0]})" in first  # the legend still points at its gradient


def test_a_later_chart_is_built_only_when_its_svg_is_not_kept(tmp_path):
    """`charts.Later` (every chart of the report): keyed by its builder and arguments, a chart
    kept from an earlier report is taken without being built (no altair objects, no spec); its
    SVG is the one of the chart built at once; a changed number, dtype, argument or inner chart
    gives another key, an equal copy of a frame the same."""
    import polars as pl

    from indicator_report import charts, svg

    built: list[str] = []

    def bars(frame: pl.DataFrame, title: str):  # charts.grouped_bars, counting its builds
        built.append(title)
        return charts.grouped_bars(frame, title)

    def amounts(values: list) -> pl.DataFrame:
        return pl.DataFrame({"year": ["2024", "2025"], "series": ["A", "A"], "amount": values})

    at_once = charts.submit(charts.grouped_bars(amounts([1.0, 2.0]), "Euro"), "T", "D").result()
    cache = tmp_path / "charts"
    # built and rendered in the first report, kept in the second (neither built nor rendered)
    for builds, rendered in ((1, 1), (1, 0)):
        count = svg.ChartCount()
        with svg.rendering(1, cache=cache, count=count):
            later = charts.submit(charts.Later(bars, amounts([1.0, 2.0]), "Euro"), "T", "D")
            assert later.result() == at_once
        assert len(built) == builds
        assert (count.charts, count.rendered) == (1, rendered)

    key = charts.Later(bars, amounts([1.0, 2.0]), "Euro").key()
    assert charts.Later(bars, amounts([1.0, 2.0]), "Euro").key() == key  # an equal copy
    assert charts.Later(bars, amounts([1.0, 2.5]), "Euro").key() != key  # a number
    assert charts.Later(bars, amounts([1, 2]), "Euro").key() != key  # integers, not floats
    assert charts.Later(bars, amounts([1.0, 2.0]), "EUR").key() != key  # an argument
    assert charts.Later(charts.grouped_bars, amounts([1.0, 2.0]), "Euro").key() != key  # builder
    refs = pl.DataFrame({"amount": [1.5], "label": ["Satz"]})
    lines = charts.Later(charts.lines, amounts([1.0, 2.0]).rename({"year": "period_label"}),
                         "Euro", False, ["2024", "2025"])  # fmt: skip
    outer = charts.Later(charts.with_reference_lines, lines, refs).key()
    lines.args = (lines.args[0], "EUR", *lines.args[2:])
    assert charts.Later(charts.with_reference_lines, lines, refs).key() != outer  # inner chart
    assert built == ["Euro"]  # keys are made without building


def test_charts_kept_between_reports_give_the_pages_a_full_rendering_gives(tmp_path):
    """`svg.rendering(cache=…)`: a chart whose spec did not change is taken from the folder of
    the last report's charts instead of being rendered again; the pages are those of a rendering
    without the folder, after a changed number and after a damaged file, and the folder keeps
    the charts of the last report only."""
    db = make_published(tmp_path / "published" / "indicators.duckdb", QUICK)
    cache = tmp_path / "warehouse" / "report_charts"
    first = build_report(db, tmp_path / "one" / "report", chart_cache=cache)
    assert first.charts >= 3 and first.charts_rendered == first.charts  # nothing kept yet
    kept_before = {p.name for p in cache.iterdir()}
    assert 0 < len(kept_before) <= first.charts  # charts with the same spec share a file
    again = build_report(db, tmp_path / "two" / "report", chart_cache=cache)
    assert (again.charts, again.charts_rendered) == (first.charts, 0)  # every chart kept
    assert _pages(tmp_path / "two" / "report") == _pages(tmp_path / "one" / "report")

    # one number changes (the Land's CM01 in 2025): only the charts that show it are rendered
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE indicator_values SET numerator = numerator + 1, value = value + 0.01 "
            "WHERE indicator_id = 'CM01' AND unit_code = '08' AND period = '2025'"
        )
    changed = build_report(db, tmp_path / "three" / "report", chart_cache=cache)
    assert 0 < changed.charts_rendered < changed.charts
    plain, _, _ = render_pages(db, workers=1)  # the same database, every chart rendered
    assert _pages(tmp_path / "three" / "report") == _strip_generated(plain)
    kept_after = {p.name for p in cache.iterdir()}
    replaced = kept_before - kept_after
    assert len(replaced) == len(kept_after - kept_before) == changed.charts_rendered
    assert not any(name.endswith(".tmp") for name in kept_after)

    # a damaged file (cut short) is not taken: that chart is rendered again, the pages the same
    damaged = cache / sorted(kept_after)[0]
    damaged.write_text(damaged.read_text(encoding="utf-8")[:100], encoding="utf-8")
    mended = build_report(db, tmp_path / "four" / "report", chart_cache=cache)
    assert mended.charts_rendered == 1
    assert _pages(tmp_path / "four" / "report") == _pages(tmp_path / "three" / "report")


def _pages(report: Path) -> dict[str, str]:
    return _strip_generated(
        {str(p.relative_to(report)): p.read_text(encoding="utf-8") for p in report.rglob("*.html")}
    )


def _strip_generated(pages: dict[str, str]) -> dict[str, str]:
    """The pages without the day they were generated (a test running past midnight)."""
    return {rel: re.sub(r"\d{2}\.\d{2}\.\d{4}", "DD.MM.YYYY", html) for rel, html in pages.items()}


def test_every_chart_gets_the_spec_altairs_own_calls_give(tmp_path, monkeypatch):
    """`charts.spec` writes the description and the report's config into the spec's dict
    instead of asking altair for them (altair copies the whole chart at each call): every chart
    of the fixture's report, of every kind, gets the spec `.properties(description=…)` and
    `_configure` give."""
    import altair as alt
    import polars as pl

    from indicator_report import charts

    real, kinds = charts.spec, []

    def both(chart, description):
        got = real(chart, description)
        with alt.data_transformers.disable_max_rows():
            want = charts._configure(chart.properties(description=description)).to_dict(
                validate=False
            )
        assert got == want
        kinds.append(type(chart).__name__)
        return got

    monkeypatch.setattr(charts, "spec", both)
    db = make_published(tmp_path / "published" / "indicators.duckdb")
    outcomes = make_published_outcomes(tmp_path / "published" / "outcomes")
    render_pages(db, outcomes_dir=outcomes, workers=1)
    assert len(kinds) > 10  # every chart compared, not one
    assert {"Chart", "LayerChart", "FacetChart"} <= set(kinds)
    # a chart with a config of its own gets the report's instead, as `configure(font=…)`
    # replaced it
    own = (
        alt.Chart(pl.DataFrame({"x": [1, 2]}))
        .mark_bar()
        .encode(x="x:Q")
        .configure_axis(grid=False)
        .configure_header(labelFontSize=9)
    )
    assert real(own, "zwei Balken") == both(own, "zwei Balken")
    assert "header" not in real(own, "zwei Balken")["config"]
    assert "grid" not in real(own, "zwei Balken")["config"]["axis"]
    # each spec has a config of its own: changing one changes no other
    first, second = real(own, "eins"), real(own, "zwei")
    first["config"]["axis"]["labelColor"] = "#f00"
    assert second["config"]["axis"]["labelColor"] == "#222"
    assert charts._config()["axis"]["labelColor"] == "#222"
