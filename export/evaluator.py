"""Evaluator exports: privacy-safe case-level datasets for outcome studies (GDPR Art. 9 data).

From the build database's export views (`exports.exp_cases`, `exports.exp_case_months`; dbt
models in dbt_project/models/exports) one export writes, into a fresh folder:

    cases.<fmt>          one row per case started in the window
    case_months.<fmt>    one row per case and calendar month (panel)
    codebook.md, codebook.json
    manifest.json        parameters, row counts, sha256 of every other file, build, k reached

for each format of parquet, csv, dta (Stata 14+, with variable and value labels).

Protection, in this order:

1. Study pseudonyms: case and person ids are HMAC-SHA256 with the study's own key (the bytes of
   the key file) over `study:provider:warehouse pseudonym`, computed in DuckDB
   (`ingest.pseudonymise.install`); two studies cannot join their ids. The key lives only in
   session variables of the export's read-only connection and is never written or logged.
2. Coarsening: birth year → age band at case start, dates → months or day counts, Gemeinde → never
   (only Kreis/RB of the provider), no free text, nationality → the 8 most frequent, else OTHER.
3. k-anonymity on the quasi-identifiers (Kreis, age band, sex, nationality, arrival year, start
   month), counted in distinct persons: `export/anonymity.py` searches every
   combination of generalisation levels for the one of least information loss (non-uniform
   entropy) that suppresses at most `max_suppressed_share` of the cases (default 1 %); without
   one the export fails (exit 1) with a table of the best levels. Optionally ℓ-diversity of the
   status category at case start. Suppressed cases leave the panel too.

Same build + study + key + parameters → byte-identical files (sorted rows, fixed writers, the
Stata time stamp taken from the build).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from core import progress
from core.csv_safety import neutralise
from core.database import connect
from core.files import sha256_of
from core.settings import PROJECT_ROOT, Settings
from export import codebook as cb
from export.anonymity import (
    LOSS_MEASURE,
    AnonymityError,
    AnonymityResult,
    failure_table,
    k_anonymise,
)
from ingest.pseudonymise import install

FORMATS = ("parquet", "csv", "dta")
MIN_KEY_BYTES = 16
MANIFEST_NAME = "manifest.json"
CODEBOOK_MD = "codebook.md"
CODEBOOK_JSON = "codebook.json"
EXPORT_MODELS = ("exp_cases", "exp_case_months")
ANALYSIS_FILES = (
    "outcome_models.csv",
    "outcome_models.parquet",
    "outcome_curves.csv",
    "outcome_curves.parquet",
    "wirkung.md",
    "outcome_analysis.json",
)
"""What `imw analyse-outcomes` adds to an export folder (export/outcome_analysis.py); a new
export of the study replaces them with the rest."""
MAX_SUPPRESSED_SHARE = 0.01
"""Default limit: at most this share of the window's cases may be suppressed."""
STUDY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SQL_TYPES = {
    cb.ID: "VARCHAR",
    cb.CATEGORY: "VARCHAR",
    cb.MONTH: "VARCHAR",
    cb.INTEGER: "INTEGER",
    cb.NUMBER: "DOUBLE",
    cb.BOOLEAN: "TINYINT",
}


class ExportError(RuntimeError):
    """The export failed (exit 1)."""


class ExportLimitError(ExportError):
    """No generalisation meets k (and ℓ) within the suppression limit (exit 1, with the table)."""

    def __init__(self, message: str, table: str):
        super().__init__(f"{message}\n{table}")
        self.table = table


class ExportUsageError(ExportError):
    """The export was asked for wrongly: bad parameters, missing key or build (exit 2)."""


def parse_date(text: str | None, option: str) -> date | None:
    """An optional YYYY-MM-DD parameter of an export (CLI option or job config)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date YYYY-MM-DD") from None


def parse_share(text: str | float) -> float:
    """'1%' or '0.01' → 0.01."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"--max-suppressed {text!r} is not a share (e.g. 1% or 0.01)") from None
    if not 0 <= value < 1:
        raise ValueError(f"--max-suppressed {text!r} must be at least 0 and below 100 %")
    return value


@dataclass(frozen=True)
class ExportParams:
    study: str
    key_file: Path
    date_from: date | None
    date_to: date | None
    formats: Sequence[str]
    k: int
    out: Path
    max_suppressed_share: float = MAX_SUPPRESSED_SHARE
    ell: int | None = None
    """ℓ-diversity of status_category_at_start per class (None: off)."""


@dataclass(frozen=True)
class ExportResult:
    out: Path
    files: dict[str, Path]
    row_counts: dict[str, int]
    k: int
    anonymity: AnonymityResult
    cases_in_window: int
    max_suppressed_share: float
    suppressed_panel_rows: int
    manifest: Path = field(repr=False)

    @property
    def k_reached(self) -> int | None:
        return self.anonymity.k_reached

    @property
    def suppressed_rows(self) -> int:
        return self.anonymity.suppressed_rows

    @property
    def generalisations(self) -> list[str]:
        return self.anonymity.generalisations

    def summary(self) -> str:
        """One line: what was kept, suppressed and generalised, and where it went."""
        n, s = self.cases_in_window, self.suppressed_rows
        share = s / n if n else 0.0
        levels = ", ".join(self.anonymity.chosen.columns) or "none"
        return (
            f"export {self.out}: kept {n - s:,} of {n:,} cases ({s} suppressed = {share:.2%}, "
            f"limit {self.max_suppressed_share:.2%}); k = {self.k} (smallest class "
            f"{self.k_reached}); quasi-identifiers {levels}; loss "
            f"{self.anonymity.chosen.loss:,.1f} bits; {self.row_counts.get(cb.CASE_MONTHS, 0):,} "
            "case-months"
        )


# --- parameters --------------------------------------------------------------------------------
def read_study_key(path: Path) -> bytes:
    """The study key: the key file's bytes as they are (a trailing newline is part of the key)."""
    if not path.is_file():
        raise ExportUsageError(f"key file not found: {path}")
    key = path.read_bytes()
    if len(key) < MIN_KEY_BYTES:
        raise ExportUsageError(
            f"key file {path} is too short ({len(key)} bytes); a study key needs at least "
            f"{MIN_KEY_BYTES} bytes, e.g. `head -c 32 /dev/urandom > study.key`"
        )
    return key


def validate(params: ExportParams) -> None:
    if not STUDY_PATTERN.fullmatch(params.study):
        raise ExportUsageError(
            f"study name {params.study!r}: use 1-64 letters, digits, '_' or '-', starting with a "
            "letter or digit"
        )
    unknown = sorted(set(params.formats) - set(FORMATS))
    if unknown or not params.formats:
        raise ExportUsageError(
            f"format(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}"
        )
    if params.k < 2:
        raise ExportUsageError(f"k = {params.k}: k-anonymity needs k >= 2")
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise ExportUsageError(f"--from {params.date_from} is after --to {params.date_to}")
    if not 0 <= params.max_suppressed_share < 1:
        raise ExportUsageError("max_suppressed_share must be in [0, 1)")
    if params.ell is not None and params.ell < 2:
        raise ExportUsageError(f"l = {params.ell}: l-diversity needs l >= 2 (or leave it off)")


def check_out_folder(out: Path, study: str) -> None:
    """Refuse a non-empty folder unless it holds exactly an earlier export of the same study."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportUsageError(f"--out {out} exists and is not a folder")
    entries = {p.name for p in out.iterdir()}
    if not entries:
        return
    manifest = out / MANIFEST_NAME
    try:
        earlier = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = None
    if not isinstance(earlier, dict) or earlier.get("study") != study:
        raise ExportUsageError(
            f"--out {out} is not empty and not an earlier export of study {study!r}; "
            "choose an empty or new folder"
        )
    foreign = entries - set(earlier.get("files", {})) - {MANIFEST_NAME, *ANALYSIS_FILES}
    if foreign:
        raise ExportUsageError(
            f"--out {out} holds files that are not part of the earlier export "
            f"({', '.join(sorted(foreign)[:3])}); move them away first"
        )


def hide_start_month(
    cases: pl.DataFrame, panel: pl.DataFrame, start_level: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """With the start month generalised (level 1 quarter, 2 year), a case still open at the stand
    would give its start month away: its duration and its panel both end at the stand, which the
    manifest dates. For those cases the duration is left empty and the panel is cut so that it
    ends as if the case had started in the last month of its start period — every open case of
    one start period then has a panel of the same length. Closed cases end at their closure,
    which the export does not date."""
    if start_level == 0:
        return cases, panel
    months_per_period = 3 if start_level == 1 else 12
    month = pl.col("start_month").str.slice(5, 2).cast(pl.Int32)
    trim = (months_per_period - 1 - (month - 1) % months_per_period).alias("trim")
    open_cases = cases.filter(pl.col("is_closed") == 0).select("case_id", trim)
    last = panel.group_by("case_id").agg(pl.col("month_index").max().alias("last"))
    panel = (
        panel.join(open_cases, on="case_id", how="left")
        .join(last, on="case_id")
        .filter(
            pl.col("trim").is_null() | (pl.col("month_index") <= pl.col("last") - pl.col("trim"))
        )
        .drop("trim", "last")
    )
    cases = cases.with_columns(
        duration_days=pl.when(pl.col("is_closed") == 0)
        .then(pl.lit(None, dtype=cases.schema["duration_days"]))
        .otherwise(pl.col("duration_days"))
    )
    return cases, panel


# --- reading the build -------------------------------------------------------------------------
def _connect(build_db: Path) -> duckdb.DuckDBPyConnection:
    if not build_db.exists():
        raise ExportUsageError(
            f"no build database at {build_db}; run `imw build` first (or pass --home)"
        )
    try:
        return connect(build_db, read_only=True)
    except duckdb.IOException as err:
        raise ExportError(
            f"cannot open {build_db} read-only (a build is probably writing it): {err}"
        ) from err


def _select(variables: list[cb.Variable]) -> str:
    return ",\n".join(f"CAST({v.sql} AS {SQL_TYPES[v.kind]}) AS {v.name}" for v in variables)


def _build_time(con: duckdb.DuckDBPyConnection) -> datetime:
    row = con.execute("SELECT max(loaded_at) FROM raw.load_batches").fetchone()
    if row is None or row[0] is None:
        raise ExportError("the build database holds no loaded batch (raw.load_batches is empty)")
    return row[0].replace(microsecond=0)


def _check_views(con: duckdb.DuckDBPyConnection) -> None:
    found = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'exports'"
        ).fetchall()
    }
    missing = [m for m in EXPORT_MODELS if m not in found]
    if missing:
        raise ExportError(
            f"the build database has no export view(s) exports.{', exports.'.join(missing)}; "
            "run `imw build` with this version of the warehouse first"
        )


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


def _read(
    con: duckdb.DuckDBPyConnection, params: ExportParams
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, tuple[cb.Code, ...]]]:
    """Cases and case-months of the window, coarsened, with study ids and both QI levels."""
    window = {"date_from": params.date_from, "date_to": params.date_to}
    con.execute(
        """
        CREATE TEMP TABLE export_window AS
        SELECT * FROM exports.exp_cases
        WHERE ($date_from IS NULL OR first_contact_date >= $date_from)
          AND ($date_to IS NULL OR first_contact_date <= $date_to)
        """,
        window,
    )
    con.execute(
        f"""
        CREATE TEMP TABLE export_top_nationalities AS
        SELECT nationality FROM export_window WHERE nationality IS NOT NULL
        GROUP BY nationality ORDER BY count(*) DESC, nationality LIMIT {cb.TOP_NATIONALITIES:d}
        """
    )
    regions = pl.DataFrame(
        {"iso3": list(cb.NATIONALITY_REGION), "region": list(cb.NATIONALITY_REGION.values())}
    )
    con.register("export_regions_frame", regions.to_arrow())
    con.execute("CREATE TEMP TABLE export_regions AS SELECT * FROM export_regions_frame")
    con.unregister("export_regions_frame")

    study = {"study": params.study}
    cases = _frame(
        con,
        f"SELECT {_select(cb.variables(cb.CASES))} FROM export_window AS c",
        study,
    )
    panel = _frame(
        con,
        f"""
        SELECT {_select(cb.variables(cb.CASE_MONTHS))}
        FROM exports.exp_case_months AS m
        SEMI JOIN export_window AS w ON m.provider = w.provider AND m.case_id = w.case_id
        """,
        study,
    )
    codes = _data_codes(con, cases)
    return cases, panel, codes


def _data_codes(
    con: duckdb.DuckDBPyConnection, cases: pl.DataFrame
) -> dict[str, tuple[cb.Code, ...]]:
    """Code lists that depend on the reference data or on the exported cases."""
    kreise = con.execute(
        "SELECT kreis_ags, kreis_name, rb_ags, rb_name FROM reference.kreise_bw ORDER BY kreis_ags"
    ).fetchall()
    countries = {c.code: c for c in cb.country_codes()}
    top = sorted(cases.get_column("nationality_group").drop_nulls().unique().to_list())
    top = [c for c in top if c != cb.OTHER_NATIONALITY.code]

    def present(column: str) -> tuple[cb.Code, ...]:
        values = sorted(cases.get_column(column).drop_nulls().unique().to_list())
        return tuple(cb.Code(p, p, p) for p in values)

    return {
        "kreis": tuple(cb.Code(k, name, name) for k, name, _, _ in kreise),
        "rb": tuple(
            cb.Code(rb, f"Regierungsbezirk {name}", f"Regierungsbezirk {name}")
            for rb, name in sorted({(rb, name) for _, _, rb, name in kreise})
        ),
        "nationality_group": (
            *(countries.get(c, cb.Code(c, c, c)) for c in top),
            cb.OTHER_NATIONALITY,
        ),
        "arrival_period": present("arrival_period"),
        "arrival_period_4": present("arrival_period_4"),
        "start_quarter": present("start_quarter"),
    }


# --- build facts for the manifest --------------------------------------------------------------
def git_commit(root: Path = PROJECT_ROOT) -> dict[str, object] | None:
    """HEAD of the project checkout and whether tracked files differ from it; None without git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "tracked_files_modified": bool(dirty)}


def dbt_model_checksums(manifest_path: Path) -> dict[str, str] | None:
    """Checksums of the export models and every model and seed they are built from."""
    try:
        nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError):
        return None
    todo = [f"model.imw.{m}" for m in EXPORT_MODELS]
    seen: dict[str, str] = {}
    while todo:
        unique_id = todo.pop()
        node = nodes.get(unique_id)
        if unique_id in seen or node is None:
            continue
        seen[unique_id] = node.get("checksum", {}).get("checksum", "")
        todo.extend(node.get("depends_on", {}).get("nodes", []))
    return dict(sorted(seen.items()))


# --- writing -----------------------------------------------------------------------------------
def _typed(frame: pl.DataFrame, table: str, codes: dict[str, tuple[cb.Code, ...]]) -> pl.DataFrame:
    """Categories as Enums over their full code list (stable Stata values, factors in R)."""
    casts = {}
    for v in cb.variables(table):
        if v.kind == cb.CATEGORY and v.name in frame.columns:
            code_list = v.codes if v.codes is not None else codes[v.name]
            allowed = [c.code for c in code_list]
            unknown = set(frame.get_column(v.name).drop_nulls().unique()) - set(allowed)
            if unknown:
                raise ExportError(
                    f"{table}.{v.name} holds codes outside its code list: {sorted(unknown)[:5]}"
                )
            casts[v.name] = pl.Enum(allowed)
    return frame.cast(casts)


def _stata_label(v: cb.Variable) -> str:
    for label in (f"{v.label_de} / {v.label_en}", v.label_de, v.label_en):
        if len(label) <= 80:
            return label
    return v.label_de[:80]


def _write_table(
    frame: pl.DataFrame, stem: str, folder: Path, formats: Sequence[str], build_time: datetime,
    study: str,
) -> list[Path]:  # fmt: skip
    written = []
    labels = {v.name: v for v in cb.variables(stem)}
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        path = folder / f"{stem}.{fmt}"
        if fmt == "parquet":
            frame.write_parquet(path, compression="zstd", statistics=False)
        elif fmt == "csv":
            neutralise(frame).write_csv(
                path, null_value="", float_precision=4, line_terminator="\n"
            )
        else:
            if frame.height == 0:
                # pandas cannot label an empty categorical; an empty file needs no labels
                frame = frame.with_columns(pl.col(pl.Enum).cast(pl.String))
            frame.to_pandas().to_stata(
                path,
                version=118,
                write_index=False,
                variable_labels={c: _stata_label(labels[c]) for c in frame.columns},
                data_label=f"IMW evaluator export, study {study}, {stem}"[:80],
                time_stamp=build_time,
            )
        written.append(path)
    return written


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` (absent, empty or an earlier export of the study) by the finished `tmp`."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)


# --- the export --------------------------------------------------------------------------------
def run_export(settings: Settings, params: ExportParams) -> ExportResult:
    """Write one study's export into `params.out`; see the module docstring."""
    validate(params)
    key = read_study_key(Path(params.key_file))
    out = Path(params.out).resolve()
    check_out_folder(out, params.study)

    with _connect(settings.build_db) as con:
        _check_views(con)
        build_time = _build_time(con)
        install(con, key)
        cases, panel, codes = _read(con, params)
    in_window = {cb.CASES: cases.height, cb.CASE_MONTHS: panel.height}

    progress.report("export", f"{cases.height:,} cases · {panel.height:,} case-months in window")
    try:
        anon = k_anonymise(cases, params.k, params.max_suppressed_share, params.ell)
    except AnonymityError as err:
        raise ExportLimitError(str(err), failure_table(err.best, cases.height)) from None
    progress.report("export", f"k-anonymised (k = {params.k})")
    qis = anon.columns
    dropped = {v.name for t in cb.TABLES for v in cb.variables(t) if v.qi and v.name not in qis}
    cases, panel = hide_start_month(cases.filter(anon.keep), panel, anon.chosen.levels[-1])
    cases = cases.select([v.name for v in cb.variables(cb.CASES) if v.name not in dropped]).sort(
        "case_id"
    )
    panel = (
        panel.join(cases.select("case_id"), on="case_id", how="semi")
        .select([v.name for v in cb.variables(cb.CASE_MONTHS) if v.name not in dropped])
        .sort("case_id", "month_index")
    )
    cases = _typed(cases, cb.CASES, codes)
    panel = _typed(panel, cb.CASE_MONTHS, codes)
    frames = {cb.CASES: cases, cb.CASE_MONTHS: panel}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        written: list[Path] = []
        for stem, frame in frames.items():
            written += _write_table(frame, stem, tmp, params.formats, build_time, params.study)
            progress.report("export", f"wrote {stem} ({frame.height:,} rows, {params.formats})")
        k_info = {
            "k": params.k,
            "k_reached": anon.k_reached,
            "counted_in": "distinct persons (study person_id) per combination",
            "l_diversity": (
                {"l": params.ell, "of": "status_category_at_start", "kind": "distinct"}
                if params.ell
                else None
            ),
            "quasi_identifiers": qis,
            "levels": anon.chosen.as_dict(anon.rows)["levels"],
            "generalisations": anon.generalisations,
            "search": "every node of the generalisation lattice (export/anonymity.py)",
            "nodes_evaluated": anon.nodes_evaluated,
            "feasible_nodes": anon.feasible_nodes,
            "loss_measure": LOSS_MEASURE,
            "loss_bits": round(anon.chosen.loss, 4),
            "max_suppressed_share": params.max_suppressed_share,
            "suppressed_cases": anon.suppressed_rows,
            "suppressed_share": round(anon.suppressed_rows / anon.rows, 6) if anon.rows else 0.0,
            "suppressed_case_months": in_window[cb.CASE_MONTHS] - panel.height,
            "steps": [step.as_dict(anon.rows) for step in anon.path],
        }
        book = cb.codebook(params.study, frames, codes, k_info)
        (tmp / CODEBOOK_JSON).write_text(_json(book), encoding="utf-8")
        (tmp / CODEBOOK_MD).write_text(cb.codebook_markdown(book), encoding="utf-8")
        written += [tmp / CODEBOOK_JSON, tmp / CODEBOOK_MD]
        row_counts = {stem: frame.height for stem, frame in frames.items()}
        manifest = {
            "study": params.study,
            "parameters": {
                "from": params.date_from.isoformat() if params.date_from else None,
                "to": params.date_to.isoformat() if params.date_to else None,
                "formats": [f for f in FORMATS if f in params.formats],
                "k": params.k,
                "max_suppressed_share": params.max_suppressed_share,
                "l_diversity": params.ell,
            },
            "row_counts": row_counts,
            "rows_in_window_before_suppression": in_window,
            "k_anonymity": k_info,
            "build": {
                "latest_load_at_utc": build_time.isoformat(),
                "git": git_commit(),
                "dbt_models": dbt_model_checksums(settings.dbt_target_dir / "manifest.json"),
            },
            "files": {p.name: {"sha256": sha256_of(p), "bytes": p.stat().st_size} for p in written},
        }
        (tmp / MANIFEST_NAME).write_text(_json(manifest), encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(
        out=out,
        files={p.name: out / p.name for p in [*written, tmp / MANIFEST_NAME]},
        row_counts=row_counts,
        k=params.k,
        anonymity=anon,
        cases_in_window=in_window[cb.CASES],
        max_suppressed_share=params.max_suppressed_share,
        suppressed_panel_rows=in_window[cb.CASE_MONTHS] - panel.height,
        manifest=out / MANIFEST_NAME,
    )
