"""HTML pages to PDF with the machine's own Chromium (headless), for the clerk's report.

A clerk forwards or files the delivery report; a PDF is what an authority's document system
takes. The page is printed by the browser that renders it, so the PDF looks like the HTML:
`chromium --headless --print-to-pdf`, one process per page, nothing fetched (the pages carry
their CSS inline; background networking and component updates are off).

Which browser (`IMW_CHROMIUM`): a path to the executable, or `off`; unset, the first of
`chromium`, `chromium-browser`, `google-chrome` on PATH. Without one no PDF is written and the
HTML stays the report. Measured on the 2-core machine: about 1 s per page (the browser's start).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHROMIUM_ENV = "IMW_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 60
WORKERS = 2

log = logging.getLogger(__name__)


def find_browser(environ: Mapping[str, str] | None = None) -> Path | None:
    """The Chromium to print with, or None (`IMW_CHROMIUM=off`, or none installed)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(CHROMIUM_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            log.warning("%s=%s: no such browser; no PDF is written", CHROMIUM_ENV, chosen)
            return None
        return path
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def print_to_pdf(browser: Path, pages: Sequence[tuple[Path, Path]]) -> list[Path]:
    """Print each (html, pdf) pair; return the PDFs written. A page the browser cannot print
    (exit status, time-out) is logged and left without a PDF; the others go on."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda pair: _print_one(browser, *pair), pages))
    return [pdf for pdf in done if pdf is not None]


def _print_one(browser: Path, html: Path, pdf: Path) -> Path | None:
    partial = pdf.with_name(pdf.name + ".partial")
    command = [
        str(browser),
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={partial}",
        html.resolve().as_uri(),
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    try:
        run = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("no PDF of %s: %s", html, error)
        partial.unlink(missing_ok=True)
        return None
    if run.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        tail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        log.warning("no PDF of %s: browser exit %s %s", html, run.returncode, tail[0])
        partial.unlink(missing_ok=True)
        return None
    partial.replace(pdf)
    return pdf
