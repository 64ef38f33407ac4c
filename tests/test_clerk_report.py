"""The clerk's delivery report (#12, item 6): German HTML with the provider's name, a summary
with correct plurals, plain sentences with line numbers, delivered values only where safe, no id
and no pseudonym; read in Chromium with the network blocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.words import plural
from ingest.load import Folders, ingest_landing
from reports.clerk_report import provider_name, summary
from reports.delivery import write_delivery_reports
from reports.pdf import CHROMIUM_ENV

KEY = b"clerk-report-test-key"
PROVIDER = "08115003"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
HEADER = (
    "person_id;geburtsjahr;geschlecht;staatsangehoerigkeit;einreisedatum;au_beginn;au_ende;"
    "wohngemeinde_ags"
)


def test_names_and_plurals():
    assert provider_name("08115") == "Landkreis Böblingen (08115)"
    assert provider_name("08111") == "Stadtkreis Stuttgart (08111)"
    assert provider_name(PROVIDER) == "Gemeinde 08115003 im Landkreis Böblingen"
    assert provider_name(PROVIDER, "en") == "municipality 08115003 in Landkreis Böblingen"
    assert plural(1, "Zeile", "Zeilen") == "1 Zeile"
    assert plural(1234, "Zeile", "Zeilen") == "1.234 Zeilen"  # German thousands separator


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("clerk")
    landing, reports = home / "landing", home / "reports"
    landing.mkdir()
    rows = [HEADER] + [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 41)]
    rows[5] = "P-5;neunzehnhundertneunzig;m;SYR;;2017-03-01;;08115003"  # line 6: year not an int
    rows[8] = "P-8;19x0;m;SYR;;2017-03-01;;08115003"  # line 9: year not an integer either
    rows[12] = "P-12;1990;q;SYR;;2017-03-01;;08115003"  # line 13: "q" is no sex code
    rows[20] = "P-1;1990;m;SYR;;2017-03-01;;08115003"  # line 21: duplicate person id P-1
    (landing / f"personen_{PROVIDER}_2026-03-31.csv").write_text("\n".join(rows) + "\n")
    # A workbook that is none: the whole file is rejected.
    (landing / f"stellen_{PROVIDER}_2026-03-31.xlsx").write_bytes(b"not a workbook")
    folders = Folders(landing, home / "archive", home / "quarantine", home)
    result = ingest_landing(home / "build.duckdb", folders, KEY)
    write_delivery_reports(result, home / "build.duckdb", reports)
    return reports / PROVIDER


def test_german_page_names_the_provider_and_english_is_separate(report_dir):
    html = (report_dir / "aktuell.html").read_text(encoding="utf-8")
    assert "Gemeinde 08115003 im Landkreis Böblingen" in html
    assert 'lang="de"' in html and "Delivery report" not in html  # German only
    assert "aktuell_en.html" in html
    en = (report_dir / "aktuell_en.html").read_text(encoding="utf-8")
    assert "Delivery report" in en and "Lieferbericht" not in en


def test_the_report_in_chromium_offline(report_dir):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium missing: run `make test` (installs it as root)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        outside: list[str] = []
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                      else (outside.append(r.request.url), r.abort()))  # fmt: skip
        page = context.new_page()
        page.goto((report_dir / "aktuell.html").resolve().as_uri())
        summary_text = page.inner_text("#summary")
        verdicts = page.eval_on_selector_all(
            "#files tbody tr", "rows => rows.map(r => r.cells[1].innerText)"
        )
        problems = page.eval_on_selector_all("li.problem", "xs => xs.map(x => x.innerText)")
        body = page.inner_text("body")
        browser.close()
    assert outside == []
    # 5 of 40 rows bad (lines 6, 9: year; 13: sex code; 2 and 21 share the id P-1) = 12.5 %
    # > 5 %: the personen file is rejected whole, its 5 bad rows listed so the clerk can fix
    # them; the workbook is rejected too.
    assert summary_text == "0 Dateien angenommen, 2 abgelehnt; 5 Zeilen zurückgewiesen."
    assert verdicts == ["abgelehnt", "abgelehnt"]
    assert len(problems) == 3  # year (2 rows), sex code (1 row), duplicate id (2 rows)
    year = next(p for p in problems if "„geburtsjahr“" in p)
    assert year.startswith("2 Zeilen in Spalte „geburtsjahr“ wurden zurückgewiesen")
    assert "Zeile 6: neunzehnhundertneunzig; Zeile 9: 19x0" in year  # as delivered
    duplicate = next(p for p in problems if "„person_id“" in p)
    assert "Zeilen 2, 21" in duplicate and "Gelieferte Werte" not in duplicate  # no id value
    assert "Datei abgelehnt." in body and "Was tun:" in body
    assert "P-1" not in body  # no clear id
    assert not any(len(w) == 64 and all(c in "0123456789abcdef" for c in w)
                   for w in body.split())  # fmt: skip  # and no pseudonym


def test_quarantined_rows_are_plain_sentences_with_values(tmp_path):
    landing, reports = tmp_path / "landing", tmp_path / "reports"
    landing.mkdir()
    rows = [HEADER] + [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 41)]
    rows[5] = "P-5;neunzehn;m;SYR;;2017-03-01;;08115003"  # line 6: year not an integer
    rows[8] = "P-8;19x0;m;SYR;;2017-03-01;;08115003"  # line 9: year not an integer
    (landing / f"personen_{PROVIDER}_2026-03-31.csv").write_text("\n".join(rows) + "\n")
    folders = Folders(landing, tmp_path / "archive", tmp_path / "quarantine", tmp_path)
    result = ingest_landing(tmp_path / "build.duckdb", folders, KEY)
    write_delivery_reports(result, tmp_path / "build.duckdb", reports)
    html = (reports / PROVIDER / "aktuell.html").read_text(encoding="utf-8")
    # 2 of 40 rows = 5 %, not more: accepted with 2 rows rejected.
    assert summary(result.verdicts, "de") == (
        "0 Dateien angenommen, 1 mit zurückgewiesenen Zeilen angenommen, 0 abgelehnt; "
        "2 Zeilen zurückgewiesen."
    )
    assert "angenommen, mit zurückgewiesenen Zeilen" in html
    assert "2 Zeilen in Spalte „geburtsjahr“ wurden zurückgewiesen: keine Ganzzahl" in html
    assert "Betroffen: Zeilen 6, 9." in html
    # The values exactly as delivered (a type error: the gate never parsed them).
    assert "Zeile 6: <code>neunzehn</code>; Zeile 9: <code>19x0</code>" in html
    assert "type:int" not in html  # no rule ids for the clerk


def _deliver(tmp_path: Path, stand: str) -> tuple[Path, object]:
    """One clean personen file of PROVIDER with this stand, ingested and reported."""
    landing = tmp_path / "landing"
    landing.mkdir(exist_ok=True)
    rows = [HEADER] + [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 11)]
    (landing / f"personen_{PROVIDER}_{stand}.csv").write_text("\n".join(rows) + "\n")
    folders = Folders(landing, tmp_path / "archive", tmp_path / "quarantine", tmp_path)
    result = ingest_landing(tmp_path / "build.duckdb", folders, KEY)
    write_delivery_reports(result, tmp_path / "build.duckdb", tmp_path / "reports")
    return tmp_path / "reports" / PROVIDER, result


def test_a_pdf_of_the_german_report_where_a_browser_is_installed(tmp_path, monkeypatch):
    assert Path(CHROMIUM).exists(), "Chromium missing: run `make test` (installs it as root)"
    monkeypatch.setenv(CHROMIUM_ENV, CHROMIUM)
    folder, result = _deliver(tmp_path, "2026-03-31")
    stamp = f"{result.started_at:%Y%m%dT%H%M%S}"
    current, dated = folder / "aktuell.pdf", folder / f"lieferbericht_{stamp}.pdf"
    assert dated.read_bytes().startswith(b"%PDF-")
    assert b"/Type /Page" in dated.read_bytes()  # at least one page
    assert current.read_bytes() == dated.read_bytes()  # aktuell.pdf is this delivery's report
    assert not list(folder.glob("*.partial"))


def test_no_browser_no_pdf_and_no_stale_one(tmp_path, monkeypatch):
    # a PDF of an earlier delivery must not stay `aktuell.pdf` next to a newer HTML report
    folder = tmp_path / "reports" / PROVIDER
    folder.mkdir(parents=True)
    (folder / "aktuell.pdf").write_bytes(b"%PDF- an older delivery's report")
    monkeypatch.setenv(CHROMIUM_ENV, "off")
    folder, _ = _deliver(tmp_path, "2026-06-30")
    assert (folder / "aktuell.html").exists()
    assert not list(folder.glob("*.pdf"))


def test_a_browser_that_fails_leaves_the_html_and_no_pdf(tmp_path, monkeypatch):
    # a "browser" that exits 1 without printing: the report is still written, no PDF, no debris
    fake = tmp_path / "broken-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    folder, _ = _deliver(tmp_path, "2026-03-31")
    assert (folder / "aktuell.html").exists()
    assert not list(folder.glob("*.pdf")) and not list(folder.glob("*.partial"))


def test_rule_texts_are_the_suites_and_built_once_per_extract(monkeypatch):
    # Every report asks for an extract's rule texts once per delivered file and language (4,810
    # times after a `bw` ingest): the suite is built once per extract and process, and the
    # texts, which every caller then shares, cannot be changed by one of them.
    import expectations.extract_suites as suites
    from reports import delivery

    delivery.rule_texts.cache_clear()
    real = suites.build_suite
    built: list[str] = []
    monkeypatch.setattr(suites, "build_suite", lambda name: built.append(name) or real(name))
    try:
        first = delivery.rule_texts("personen")
        assert delivery.rule_texts("personen") is first
        delivery.rule_texts("ziele")
        assert built == ["personen", "ziele"]  # one suite per extract, not one per call
        expected = {
            (e.meta.get("rule"), e.meta.get("column")): (
                e.meta.get("text_de"),
                e.meta.get("text_en"),
            )
            for e in real("personen").expectations
            if e.meta
        }
        assert expected and dict(first) == expected  # the suite's texts, each of them
        with pytest.raises(TypeError):
            first[("rule", "column")] = ("de", "en")  # shared: read-only
        assert delivery.rule_texts(None) == {}  # a file of no known extract: no texts
    finally:
        delivery.rule_texts.cache_clear()
