"""`imw serve-check` (#12, item 7): a clerk uploads files with their provider's token in a real
Chromium and reads the verdicts; a wrong token and an oversize upload are refused; tokens are
stored hashed; nothing of a check stays on disk."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from reports.check_service import TOKENS_FILE, Limits, issue_token, make_app, provider_of_token

PROVIDER = "08115003"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
HEADER = (
    "person_id;geburtsjahr;geschlecht;staatsangehoerigkeit;einreisedatum;au_beginn;au_ende;"
    "wohngemeinde_ags"
)
LIMIT_BYTES = 20_000  # small, so the oversize case needs only a small file


def test_tokens_are_stored_hashed_and_name_their_provider(settings):
    token = issue_token(settings, PROVIDER)
    stored = (settings.home / TOKENS_FILE).read_text()
    assert token not in stored and PROVIDER in json.loads(stored)
    assert provider_of_token(settings, token) == PROVIDER
    assert provider_of_token(settings, token + "x") is None
    # A new token replaces the old one.
    assert provider_of_token(settings, issue_token(settings, PROVIDER)) == PROVIDER
    assert provider_of_token(settings, token) is None
    with pytest.raises(ValueError):
        issue_token(settings, "12345")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from core.settings import Settings

    settings = Settings.from_env(home=tmp_path_factory.mktemp("serve") / "home", environ={})
    token = issue_token(settings, PROVIDER)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(settings, Limits(max_files=5, max_bytes=LIMIT_BYTES))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/", token, settings
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    clean = [HEADER] + [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 41)]
    broken = list(clean)
    broken[5] = "P-5;neunzehn;m;SYR;;2017-03-01;;08115003"  # line 6: year is not an integer
    out = {
        "clean": folder / f"personen_{PROVIDER}_2026-03-31.csv",
        "broken": folder / "b" / f"personen_{PROVIDER}_2026-04-30.csv",
        "other": folder / "personen_08111000_2026-03-31.csv",  # another provider's file
        "big": folder / "c" / f"personen_{PROVIDER}_2026-05-31.csv",
    }
    out["broken"].parent.mkdir()
    out["big"].parent.mkdir()
    out["clean"].write_text("\n".join(clean) + "\n")
    out["broken"].write_text("\n".join(broken) + "\n")
    out["other"].write_text("\n".join(clean) + "\n")
    # Over the 20,000-byte limit: 1,000 rows of about 40 bytes.
    out["big"].write_text("\n".join([HEADER] + clean[1:] * 25) + "\n")
    return out


def _submit(browser, url: str, token: str, paths: list[Path]):
    page = browser.new_page()
    page.set_default_timeout(600_000)  # a check runs the whole gate; slow on a busy machine
    page.goto(url)
    page.fill("#token", token)
    page.set_input_files("#files", [str(p) for p in paths])
    with page.expect_navigation(timeout=600_000) as nav:
        page.click("#submit")
    return page, nav.value.status


def test_a_clerk_checks_files_in_the_browser(server, files):
    from playwright.sync_api import sync_playwright

    url, token, _ = server
    before = set(Path(tempfile.gettempdir()).glob("imw-serve-check-*"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, status = _submit(browser, url, token, [files["clean"]])
        assert status == 200
        assert page.inner_text("#summary") == (
            "1 Datei angenommen, 0 abgelehnt; 0 Zeilen zurückgewiesen."
        )
        page, status = _submit(browser, url, token, [files["broken"]])
        assert status == 200
        # 1 bad row of 40 (2.5 %): accepted with that row rejected.
        assert page.inner_text("#summary") == (
            "0 Dateien angenommen, 1 mit zurückgewiesenen Zeilen angenommen, 0 abgelehnt; "
            "1 Zeile zurückgewiesen."
        )
        assert "Zeile 6: neunzehn" in page.inner_text("li.problem")

        page, status = _submit(browser, url, "not-the-token", [files["clean"]])
        assert status == 401 and "Zugangsschlüssel unbekannt" in page.inner_text("#error")
        page, status = _submit(browser, url, token, [files["other"]])
        assert status == 403 and "gehört nicht zu Ihrem Zugang" in page.inner_text("#error")
        page, status = _submit(browser, url, token, [files["big"]])
        assert status == 413 and "zu groß" in page.inner_text("#error")
        browser.close()
    # Nothing of the checks is left behind.
    assert set(Path(tempfile.gettempdir()).glob("imw-serve-check-*")) == before
