"""Offline Data Docs (#12, item 8): the gate's HTML summary renders in Chromium with every
network request aborted — no failed request, the list of suites and expectations is there."""

from __future__ import annotations

from pathlib import Path

from expectations import extract_gate
from tests.test_extract_gate import parsed, run, stelle

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_data_docs_render_with_the_network_blocked(tmp_path):
    from playwright.sync_api import sync_playwright

    good = run(parsed("stellen", [stelle()]), "stellen")
    bad = run(parsed("stellen", [stelle(qualifikation="MASTER")]), "stellen")  # 2: not a code
    index = extract_gate.write_data_docs([good, bad], tmp_path / "docs")
    html = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "docs").rglob("*.html"))
    assert "cdn" not in html.lower() and "<script" not in html and "http" not in html

    assert Path(CHROMIUM).exists(), "Chromium missing: run `make test` (installs it as root)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        outside: list[str] = []
        failed: list[str] = []
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                      else (outside.append(r.request.url), r.abort()))  # fmt: skip
        page = context.new_page()
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(index.resolve().as_uri())
        suites = page.eval_on_selector_all(
            "#suites tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
        )
        page.click("#suites tbody tr:nth-child(2) a")
        page.wait_for_load_state("load")
        rows = page.eval_on_selector_all(
            "#expectations tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
        )
        browser.close()
    assert outside == [] and failed == []
    assert len(suites) == 2  # one row per gate run
    assert suites[0][2] == "bestanden / passed" and suites[1][2] == "nicht bestanden / failed"
    assert int(suites[1][5]) >= 1  # at least the code expectation failed
    code_rows = [r for r in rows if r[1] == "qualifikation" and r[3] == "verletzt / failed"]
    assert code_rows, rows
    (row,) = code_rows
    assert row[5] == "1" and "MASTER" in row[6]  # 1 unexpected row, the offending code shown
