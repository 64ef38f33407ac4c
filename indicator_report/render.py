"""Render the report from the published database and swap it in atomically.

Layout next to the published database (`$IMW_HOME/published/`)::

    report -> .report-versions/<publish_id>-<time>/     symlink, replaced atomically
    .report-versions/<…>/index.html, wirkung.html, english.html, kennzahl/<ID>.html,
                         kreis/<AGS>.html

The Wirkung page reads the outcome analysis that `imw analyse-outcomes` published into the home
(`Settings.published_outcomes_dir`, passed in by the caller; indicator_report/outcomes.py).

A new version is written completely into a temp folder, renamed into `.report-versions/`, then
`report` is pointed at it with `os.replace` of a new symlink — the same scheme as the Parquet set
(publish/analyst_db.py): a reader sees the whole old report or the whole new one, never half. The
previous version stays until the next run, so a reader in it can finish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from core.files import publish_version
from core.resources import threads
from indicator_report import content, outcomes, queries, svg
from indicator_report import formatting as fmt

TEMPLATES = Path(__file__).parent / "templates"
REPORT_DIR_NAME = "report"
VERSIONS_DIR_NAME = ".report-versions"
BETTER_DE = {"higher": "höher", "lower": "niedriger", "neutral": "ohne Wertung"}


@dataclass(frozen=True)
class ReportResult:
    path: Path
    """The stable `report` link (or folder given as --out)."""
    index: Path
    pages: int
    bytes: int
    seconds: float
    year: str
    publish_id: str
    charts: int = 0
    """Charts in the report."""
    charts_rendered: int = 0
    """Of them, rendered in this run (the others kept from the report before; `chart_cache`)."""
    workers_started_before: bool = False
    """Its chart processes were started before it (`start_workers`)."""


class OutDirError(RuntimeError):
    """The output folder exists, is not a report link and is not empty."""


def report_dir(published_db: Path) -> Path:
    """Where the report of `published_db` goes by default: `report` beside it."""
    return published_db.parent / REPORT_DIR_NAME


def start_workers(workers: int | None = None) -> int:
    """Start the processes the next report of this process renders its charts with
    (`svg.start_workers`; `workers` as in `render_pages`), for a caller with CPU to spare
    before it: the build starts them when dbt has built its last model. A `bw` correction's
    report, six of its 94 charts rendered, took 1.81–2.25 s with its processes started by its
    first chart and 1.14–1.53 s with them started 1.2 s before (2026-12-06). Returns the number
    started."""
    return svg.start_workers(_workers(workers))


def _workers(workers: int | None) -> int:
    """The report's chart processes: `workers`, by default the warehouse's threads."""
    return threads() if workers is None else workers


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_pages(
    published_db: Path,
    period: str | None = None,
    outcomes_dir: Path | None = None,
    workers: int | None = None,
    chart_cache: Path | None = None,
) -> tuple[dict[str, str], str, str]:
    """Every page of the report as {relative path: html}; also the year and the publish id.

    `outcomes_dir`: the published outcome analysis (`Settings.published_outcomes_dir`) for the
    Wirkung page; None or an empty place: the page says that none is published. `workers`:
    processes that render the charts (default `core.resources.threads()`, i.e. `IMW_THREADS` or
    the CPUs; 1: all in this process); `chart_cache`: a folder of the charts rendered before
    (`Settings.report_charts`, `svg.rendering`). The pages are the same either way."""
    return _counted_render(published_db, period, outcomes_dir, workers, chart_cache)[0]


def _counted_render(
    published_db: Path,
    period: str | None,
    outcomes_dir: Path | None,
    workers: int | None,
    chart_cache: Path | None,
) -> tuple[tuple[dict[str, str], str, str], svg.ChartCount]:
    count = svg.ChartCount()
    with svg.rendering(_workers(workers), chart_cache, count):
        return _render_pages(published_db, period, outcomes_dir), count


def _render_pages(
    published_db: Path, period: str | None, outcomes_dir: Path | None
) -> tuple[dict[str, str], str, str]:
    data = queries.load(published_db)
    wirkung = outcomes.wirkung_page(outcomes.load(outcomes_dir))
    ctx = content.build_context(data, period)
    env = _environment()
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    common = {
        "css": css,
        "lang": "de",
        "build": data.build,
        "reference_date": fmt.day(ctx.reference_date),
        "generated": fmt.day(datetime.now(UTC).date()),
        "year": ctx.year,
        "year_label": ctx.label(ctx.year),
        "previous": ctx.previous,
        "symbols": fmt.SYMBOL_KEY,
        "unit_labels": fmt.UNIT_LABEL_DE,
        "better_de": BETTER_DE,
    }
    ids = list(ctx.defs)
    kreise = ctx.kreise.to_dicts()
    indicator_pages = [content.indicator_page(ctx, i) for i in ids]
    kreis_pages = [content.kreis_page(ctx, k) for k in kreise]
    counter = content.Counter()
    finance = content.finance_section(ctx, counter)
    eligibility = content.eligibility_section(ctx, counter)
    dq = content.data_quality_section(ctx, counter)
    method_table, definitions_table = counter.table(), counter.table()
    pages = {
        "index.html": env.get_template("index.html.j2").render(
            **common,
            key_results=content.key_results(ctx),
            method=content.method_section(ctx),
            method_table=method_table,
            definitions_table=definitions_table,
            finance=finance,
            eligibility=eligibility,
            dq=dq,
            kreise=kreise,
            wirkung=wirkung,
        ),
        "wirkung.html": env.get_template("wirkung.html.j2").render(**common, w=wirkung),
        "english.html": env.get_template("english.html.j2").render(
            **{**common, "lang": "en"},
            rows=[{"id": i, "d": ctx.defs[i], "k": content.key_result(ctx, i)} for i in ids],
            findings_en=content.FINDINGS_EN,
            requests_en=content.REQUESTS_EN,
        ),
    }
    template = env.get_template("indicator.html.j2")
    for n, page in enumerate(indicator_pages):
        pages[f"kennzahl/{page['id']}.html"] = template.render(
            **common,
            p=page,
            prev_page=ids[n - 1] if n > 0 else None,
            next_page=ids[n + 1] if n + 1 < len(ids) else None,
        )
    template = env.get_template("kreis.html.j2")
    for page in kreis_pages:
        pages[f"kreis/{page['kreis']['unit_code']}.html"] = template.render(**common, k=page)
    return pages, ctx.year, data.build.publish_id


def _write(folder: Path, pages: dict[str, str]) -> int:
    size = 0
    for rel, text in pages.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        size += len(data)
    return size


def build_report(
    published_db: Path,
    out: Path,
    period: str | None = None,
    outcomes_dir: Path | None = None,
    chart_cache: Path | None = None,
) -> ReportResult:
    """Render the report of `published_db` and swap it in at `out` (a symlink to a version);
    the Wirkung page shows the outcome analysis published at `outcomes_dir`, if any; charts
    found in `chart_cache` are not rendered again (`svg.rendering`)."""
    started = time.perf_counter()
    out = out.absolute()
    if out.is_dir() and not out.is_symlink() and any(out.iterdir()):
        raise OutDirError(
            f"{out} is a folder with files in it; the report is swapped in as a link there. "
            "Give a new or empty folder."
        )
    (pages, year, publish_id), count = _counted_render(
        published_db, period, outcomes_dir, None, chart_cache
    )
    name = f"{publish_id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    _, size = publish_version(out, out.parent / VERSIONS_DIR_NAME, name, lambda d: _write(d, pages))
    return ReportResult(
        path=out,
        index=out / "index.html",
        pages=len(pages),
        bytes=size,
        seconds=time.perf_counter() - started,
        year=year,
        publish_id=publish_id,
        charts=count.charts,
        charts_rendered=count.rendered,
        workers_started_before=count.started_before,
    )
