"""What a full build's work costs at its libraries' own speed: the floor under #16's targets.

    .venv/bin/python -m bench.work_floor --home DIR [--data DIR]
                                         [--parts read,sql,solver,gx,forecast,ingest]
                                         [--years 2017,...] [--threads 2]
                                         [--memory-limit 1GB] [--json FILE]

`DIR` is a home whose last build was a full one: `python -m bench.run --keep --no-incremental`
keeps the last round's, and `imw build --full-refresh --home DIR` makes one of any home (with
re-deliveries the last build is incremental, and **sql** refuses it).

Each part repeats, alone and in this process, one piece of that build's work that the build
hands to a library, and measures the time spent inside the library. The parts run one after the
other (`--parts` picks some), so on an idle machine each has the cores to itself:

- **read** (with `--data`, the bench's data folder the home's files came from,
  `bench/.cache/<scale>-seed<seed>-<stand>`): the bench's floor (`bench.floor`) in this process,
  plain DuckDB reading the same files into text tables, with its CPU time.
- **sql**: every SQL model and data test of the home's last dbt run, executed by DuckDB alone from
  the SQL dbt ran (`warehouse/dbt-target/run/`), one after the other on a copy of the build
  database with the build's threads and memory limit. Each model writes a table beside its own
  (`<name>__floor`, dropped at once), so it reads exactly the rows the build's model read. No
  dbt: no parsing, no Jinja, no threads of its own, no bookkeeping. Python models (the disclosure
  pattern) are left out.
- **solver**: the disclosure pattern of the build's marts in one process (`protect_by_year`, no
  memo: every part anew; `IMW_DISCLOSURE_WORKERS=1`), and within it the CPU time spent inside
  HiGHS (`highspy`): the simplex (`run`), every other call on a solver (passing the model, a new
  objective, reading the solution), and the set-up of each linear program (`_Program.__init__`).
  `--years` protects only those years' parts (each year's pattern is its own: a `federal` year
  takes a quarter of an hour in one process).
- **gx**: the ingest of the home's delivered files (`archive/`) into a fresh home in a temporary
  folder, and within it the CPU time of the extract gate's Great Expectations validation
  (`gx_runtime.validate` as `expectations.extract_gate` calls it) and of the whole gate
  (`validate_extract`: the frame handed to GX and the validation).
- **forecast**: the needs forecast of the build database computed anew
  (`build_forecast(anew=True)`), and within it the CPU time of statsmodels' ETS fits and
  simulations (`forecast.inflow`) and of numpy's multinomial draws of the survival bootstrap.

One part is not a library's: **ingest** ingests the home's delivered files twice into fresh
homes: as the build does, the next chunk read and typed on a thread of its own while the build's
thread pseudonymises, checks and writes the one before (`core.read_ahead`), and then with the two
halves one after the other on one thread (`ingest_in_halves`), each half timed alone (wall and
process CPU); before both, one file of each extract is ingested and thrown away, so that what a
process does once (Great Expectations' import, the suites) is charged to neither. It shows
what the overlap gains of what it could: both halves' CPU shared by the 2 cores without a gap is
the least wall time the ingest's work allows as it is designed. It is printed as a table of its
own (`ingest_markdown`); its CPU is the ingest's, not a library's, and stays out of the sum.

The CPU times of library calls are thread CPU times (`time.thread_time`) of the calling thread:
the simplex runs on one thread (`threads=1`), GX validates on the loader's thread, and the
forecast's draws and fits on the thread that asks for them. DuckDB's SQL runs on its own
threads, so **sql** reports the process's CPU time around each statement.

The sum of these is the work the build needs of its libraries as it is designed (the same
statements, the same linear programs, the same expectations, the same simulations); a wall time
on 2 cores cannot fall below half of it. What the build spends beyond it is its own code and
orchestration. The figures are printed as a Markdown table (and written as JSON with `--json`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import BUILD_DB_NAME, Settings, applied_environment

PARTS = ("read", "sql", "solver", "gx", "forecast", "ingest")
_CREATES = re.compile(r"\bcreate\s+(or\s+replace\s+)?(temp\w*\s+)?(table|view)\b", re.IGNORECASE)
"""How a model's SQL begins in a full build (a table or view made anew); an incremental run's
inserts into the table and deletes from it instead."""
_MISSED = (
    "{what} were not seen: the code no longer calls them where this measurement times them "
    "(bench/work_floor.py must follow it); no figure rather than a zero"
)


@dataclass
class Clock:
    """CPU seconds of the calling threads, added up across threads (thread-safe)."""

    seconds: float = 0.0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def timing(self) -> Iterator[None]:
        started = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - started
            with self._lock:
                self.seconds += spent
                self.calls += 1

    def wrap(self, function: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.timing():
                return function(*args, **kwargs)

        return timed


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _settings(home: Path) -> Settings:
    """The home's folders and files as the build names them (no environment read)."""
    return Settings.from_env(home=home, environ={})


# --------------------------------------------------------------------------------------------
# read
# --------------------------------------------------------------------------------------------
def measure_read(data: Path, scratch: Path) -> dict:
    """`read` (module docstring): the bench's floor on the data folder `data`, its database in a
    folder of `scratch`."""
    from bench.data import load_dataset
    from bench.floor import read_floor

    dataset = load_dataset(data)
    with tempfile.TemporaryDirectory(prefix="imw-floor-read-", dir=scratch) as folder:
        wall, cpu = time.perf_counter(), _process_cpu()
        figures = read_floor(dataset, Path(folder) / "floor.duckdb")
        wall, cpu = time.perf_counter() - wall, _process_cpu() - cpu
    return {
        "files": len(dataset.files),
        "rows": figures["rows"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
    }


# --------------------------------------------------------------------------------------------
# sql
# --------------------------------------------------------------------------------------------
def sql_statements(home: Path) -> list[dict]:
    """The SQL models and data tests of the home's last dbt run, in the order they finished
    (a node finishes after the nodes it reads, so the order is one dbt could have run them in):
    unique_id, kind, materialization, the SQL dbt ran, the relation a model writes (None for a
    test) and dbt's own time for the node."""
    target = _settings(home).dbt_target_dir
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    statements = []
    for result in results:
        node = manifest["nodes"].get(result["unique_id"])
        if node is None or node["resource_type"] not in ("model", "test"):
            continue  # hooks, seeds
        if node.get("language") == "python":
            continue  # the disclosure pattern: the solver part
        compiled = Path(node["compiled_path"])
        if not compiled.is_absolute():
            compiled = _settings(home).warehouse_dir / compiled
        run_sql = Path(str(compiled).replace("/dbt-target/compiled/", "/dbt-target/run/", 1))
        sql = run_sql.read_text()
        if node["resource_type"] == "model" and not _CREATES.search(sql):
            raise ValueError(
                f"{home}: the last dbt run built {result['unique_id']} incrementally (its SQL "
                "only adds rows): the floor is that of a full build. Run `imw build "
                "--full-refresh` on the home first."
            )
        statements.append(
            {
                "unique_id": result["unique_id"],
                "kind": node["resource_type"],
                "materialized": node["config"].get("materialized"),
                "sql": sql,
                "relation": node.get("relation_name") if node["resource_type"] == "model" else None,
                "dbt_s": float(result.get("execution_time") or 0.0),
            }
        )
    return statements


def beside(sql: str, relation: str) -> tuple[str, str]:
    """A model's SQL writing `<name>__floor` instead of its relation (or dbt's `__dbt_tmp` of
    it), and that relation. A model's SQL names its own relation only as its target."""
    floor = relation[:-1] + '__floor"'
    return sql.replace(relation[:-1] + '__dbt_tmp"', floor).replace(relation, floor), floor


def measure_sql(home: Path, threads: int, memory_limit: str, scratch: Path | None = None) -> dict:
    """`sql` (module docstring): the copy of the build database in a folder of `scratch` (the
    home by default: the copy is as large as the database)."""
    import duckdb

    statements = sql_statements(home)
    if not statements:
        raise ValueError(f"{home}: the last dbt run has no SQL model or test to measure")
    with tempfile.TemporaryDirectory(prefix="imw-floor-sql-", dir=scratch or home) as folder:
        # dbt's SQL names the database by the file's stem: a copy of the same name
        copy = Path(folder) / BUILD_DB_NAME
        shutil.copy(_settings(home).build_db, copy)
        con = duckdb.connect(str(copy))
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute(f"SET temp_directory = '{Path(folder) / 'spill'}'")
        nodes = []
        for statement in statements:
            sql, written = statement["sql"], None
            if statement["relation"]:
                sql, written = beside(sql, statement["relation"])
            wall, cpu = time.perf_counter(), _process_cpu()
            con.execute(sql)
            if statement["kind"] == "test":
                con.fetchall()
            wall, cpu = time.perf_counter() - wall, _process_cpu() - cpu
            if written:
                kind = "VIEW" if statement["materialized"] == "view" else "TABLE"
                con.execute(f"DROP {kind} IF EXISTS {written}")
            nodes.append(
                {
                    "unique_id": statement["unique_id"],
                    "kind": statement["kind"],
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "dbt_s": round(statement["dbt_s"], 3),
                }
            )
        con.close()
    figures: dict[str, Any] = {}
    for kind in ("model", "test"):
        own = [n for n in nodes if n["kind"] == kind]
        figures[f"{kind}s"] = {
            "nodes": len(own),
            "wall_s": round(sum(n["wall_s"] for n in own), 1),
            "cpu_s": round(sum(n["cpu_s"] for n in own), 1),
            "dbt_node_s": round(sum(n["dbt_s"] for n in own), 1),
        }
    figures["slowest"] = sorted(nodes, key=lambda n: -n["cpu_s"])[:10]
    figures["threads"], figures["memory_limit"] = threads, memory_limit
    return figures


# --------------------------------------------------------------------------------------------
# solver
# --------------------------------------------------------------------------------------------
class _TimedSolver:
    """A HiGHS object whose calls are timed: `run` on `simplex`, every other call on `other`."""

    def __init__(self, highs: Any, simplex: Clock, other: Clock) -> None:
        object.__setattr__(self, "_highs", highs)
        object.__setattr__(self, "_clocks", (simplex, other))

    def run(self) -> Any:
        with self._clocks[0].timing():
            return self._highs.run()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._highs, name)
        return self._clocks[1].wrap(found) if callable(found) else found


@contextmanager
def solver_timed(simplex: Clock, other: Clock, setup: Clock) -> Iterator[None]:
    """Within the scope, every `engine._Program` times its calls into HiGHS (this process
    only: run it with `IMW_DISCLOSURE_WORKERS=1`)."""
    from disclosure import engine

    original = engine._Program.__init__

    def init(self: Any, a: Any, b: Any) -> None:
        with setup.timing():
            original(self, a, b)
        self._highs = _TimedSolver(self._highs, simplex, other)

    engine._Program.__init__ = init
    try:
        yield
    finally:
        engine._Program.__init__ = original


def measure_solver(home: Path, years: frozenset[str] | None = None) -> dict:
    """`solver` (module docstring); `years`: only these years' parts (all when None)."""
    import duckdb

    from bench.disclosure_ab import marts_cells
    from disclosure.chunks import protect_by_year
    from disclosure.engine import WORKERS_ENV

    with duckdb.connect(str(_settings(home).build_db), read_only=True) as con:
        every_year, cells_of = marts_cells(con)
        chosen = [y for y in every_year if years is None or y in years]
        if not chosen:
            raise ValueError(f"none of the years {sorted(years or ())} in the marts {every_year}")
        simplex, other, setup = Clock(), Clock(), Clock()
        # every program in this process, where it is timed
        with applied_environment({WORKERS_ENV: "1"}), solver_timed(simplex, other, setup):
            wall, cpu = time.perf_counter(), _process_cpu()
            chunked = protect_by_year(chosen, cells_of, None)
            wall, cpu = time.perf_counter() - wall, _process_cpu() - cpu
    # the engine counts the programs of its final audits: none of them seen is a miss
    solved = (chunked.figures.get("solved_anew") or {}).get("linear_programs") or 0
    if solved and not simplex.calls:
        raise RuntimeError(_MISSED.format(what="the disclosure engine's calls into HiGHS"))
    return {
        "years": chosen,
        "pattern_wall_s": round(wall, 1),
        "pattern_cpu_s": round(cpu, 1),
        "suppressed": chunked.pattern.height,
        "programs": simplex.calls,
        "simplex_cpu_s": round(simplex.seconds, 1),
        "other_calls_cpu_s": round(other.seconds, 1),
        "setup_cpu_s": round(setup.seconds, 1),
        "setups": setup.calls,
    }


# --------------------------------------------------------------------------------------------
# gx
# --------------------------------------------------------------------------------------------
def delivered_files(home: Path) -> list[Path]:
    """The files the home's builds accepted or refused, as delivered (`archive/`, `quarantine/`)."""
    settings = _settings(home)
    found = []
    for root in (settings.archive_dir, settings.quarantine_dir):
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return sorted(found)


def _ingest_fresh(files: list[Path], scratch: Path) -> tuple[float, float, int]:
    """The ingest of `files` into a fresh home in a temporary folder of `scratch`: its wall
    seconds, the process's CPU seconds and the number of verdicts."""
    from bench.data import link_files
    from ingest.load import Folders, ingest_landing

    with tempfile.TemporaryDirectory(prefix="imw-floor-ingest-", dir=scratch) as folder:
        settings = _settings(Path(folder))
        link_files(files, settings.landing)
        settings.ensure_dirs()
        folders = Folders.of(settings)
        key = b"work-floor-measurement-key-0123456789"
        wall, cpu = time.perf_counter(), _process_cpu()
        result = ingest_landing(settings.build_db, folders, key)
        return time.perf_counter() - wall, _process_cpu() - cpu, len(result.verdicts)


def measure_gx(home: Path, scratch: Path | None = None) -> dict:
    """`gx` (module docstring): the fresh home in a folder of `scratch` (the home by default)."""
    import expectations.extract_gate as gate

    files = delivered_files(home)
    validation, whole = Clock(), Clock()
    originals = gate.validate, gate.validate_extract
    gate.validate = validation.wrap(gate.validate)
    gate.validate_extract = whole.wrap(gate.validate_extract)
    try:
        wall, cpu, verdicts = _ingest_fresh(files, scratch or home)
    finally:
        gate.validate, gate.validate_extract = originals
    if not validation.calls or not whole.calls:
        raise RuntimeError(_MISSED.format(what="the extract gate's calls into Great Expectations"))
    return {
        "files": len(files),
        "verdicts": verdicts,
        "ingest_wall_s": round(wall, 1),
        "ingest_cpu_s": round(cpu, 1),
        "gx_validate_cpu_s": round(validation.seconds, 1),
        "gx_validations": validation.calls,
        "extract_gate_cpu_s": round(whole.seconds, 1),
    }


# --------------------------------------------------------------------------------------------
# ingest
# --------------------------------------------------------------------------------------------
@dataclass
class Half:
    """Wall and process CPU seconds of one half of the ingest run alone, and its chunks."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    chunks: int = 0

    @contextmanager
    def timing(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _process_cpu()
        try:
            yield
        finally:
            self.wall_s += time.perf_counter() - wall
            self.cpu_s += _process_cpu() - cpu


_END = object()


@contextmanager
def ingest_in_halves(reading: Half, loading: Half) -> Iterator[None]:
    """The ingest's read-ahead (`ingest.load.read_ahead`) replaced by the same chunks made on
    the build's thread, one after the other with the work on them: nothing overlaps, so the
    process's CPU and wall time while a chunk is read and typed is `reading`'s, and while the
    chunk is pseudonymised, checked and written (the consumer's work between two chunks)
    `loading`'s."""
    import ingest.load as load

    original = load.read_ahead

    def one_after_the_other(items: Any, depth: int = 1, *, name: str = "") -> Iterator[Any]:
        iterator = iter(items)
        while True:
            with reading.timing():
                item = next(iterator, _END)
            if item is _END:
                return
            reading.chunks += 1
            with loading.timing():  # the consumer's work on the chunk, until it asks again
                yield item

    load.read_ahead = one_after_the_other
    try:
        yield
    finally:
        load.read_ahead = original


def measure_ingest(home: Path, scratch: Path | None = None) -> dict:
    """`ingest` (module docstring): the ingest of the home's delivered files as the build runs
    it, then with its two halves one after the other, each on a fresh home, after a warm-up."""
    files = delivered_files(home)
    # one file of each extract first, thrown away: what a process does once (Great Expectations'
    # import, the suites) is then charged to neither of the two ingests
    _ingest_fresh(_one_file_per_extract(files), scratch or home)
    wall, cpu, verdicts = _ingest_fresh(files, scratch or home)
    reading, loading = Half(), Half()
    with ingest_in_halves(reading, loading):
        serial_wall, serial_cpu, serial_verdicts = _ingest_fresh(files, scratch or home)
    if not reading.chunks:
        raise RuntimeError(_MISSED.format(what="the ingest's chunks"))
    if serial_verdicts != verdicts:
        raise RuntimeError(f"the two ingests gave {verdicts} and {serial_verdicts} verdicts")
    rest_wall = serial_wall - reading.wall_s - loading.wall_s
    rest_cpu = serial_cpu - reading.cpu_s - loading.cpu_s
    return {
        "files": len(files),
        "verdicts": verdicts,
        "chunks": reading.chunks,
        "overlapped_wall_s": round(wall, 1),
        "overlapped_cpu_s": round(cpu, 1),
        "serial_wall_s": round(serial_wall, 1),
        "serial_cpu_s": round(serial_cpu, 1),
        "reading_wall_s": round(reading.wall_s, 1),
        "reading_cpu_s": round(reading.cpu_s, 1),
        "loading_wall_s": round(loading.wall_s, 1),
        "loading_cpu_s": round(loading.cpu_s, 1),
        "rest_wall_s": round(rest_wall, 1),
        "rest_cpu_s": round(rest_cpu, 1),
        # both halves' CPU shared by 2 cores without a gap, and the rest as it ran
        "perfect_overlap_wall_s": round((reading.cpu_s + loading.cpu_s) / 2 + rest_wall, 1),
    }


def _one_file_per_extract(files: list[Path]) -> list[Path]:
    """The first of `files` of each extract, by the contract's file name (`parse_file_name`); a
    file whose name it refuses is left out."""
    from ingest.readers import parse_file_name
    from ingest.rejections import FileRejection

    first: dict[str, Path] = {}
    for f in files:
        with suppress(FileRejection):
            first.setdefault(parse_file_name(f).extract, f)
    return list(first.values())


def ingest_markdown(figures: dict) -> str:
    """The `ingest` part's table: each half alone, both one after the other, and as the build
    overlaps them, with the least wall time a perfect overlap on 2 cores would leave."""

    def busy(cpu: float, wall: float) -> str:
        return f"{cpu / wall:.2f}" if wall > 0 else ""

    rows = [
        ("reading and typing the chunks, alone", "reading"),
        ("pseudonymising, checking and writing them, alone", "loading"),
        ("the rest (the screening of names, the checkpoint)", "rest"),
        ("**one after the other** (no overlap)", "serial"),
        ("**as the build runs it** (the next chunk read ahead)", "overlapped"),
    ]
    lines = [
        f"| the ingest of {figures['files']:,} files in {figures['chunks']} chunks | wall s "
        "| CPU s | busy cores |",
        "|---|---:|---:|---:|",
    ]
    for label, key in rows:
        wall, cpu = figures[f"{key}_wall_s"], figures[f"{key}_cpu_s"]
        lines.append(f"| {label} | {wall} | {cpu} | {busy(cpu, wall)} |")
    lines.append(
        f"| both halves on 2 cores without a gap, and the rest | "
        f"≥ {figures['perfect_overlap_wall_s']} | | |"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# forecast
# --------------------------------------------------------------------------------------------
class _TimedDraws:
    """A numpy Generator whose `multinomial` is timed (the bootstrap draws nothing else)."""

    def __init__(self, rng: Any, clock: Clock) -> None:
        self._rng, self._clock = rng, clock

    def multinomial(self, *args: Any, **kwargs: Any) -> Any:
        with self._clock.timing():
            return self._rng.multinomial(*args, **kwargs)


def measure_forecast(home: Path) -> dict:
    from core.database import connect
    from forecast import inflow, needs, scenarios
    from forecast.warehouse import build_forecast

    ets, draws = Clock(), Clock()
    bootstrap = needs.bootstrap_curves
    originals = inflow._fit, inflow.InflowModel.paths, bootstrap
    inflow._fit = ets.wrap(inflow._fit)
    inflow.InflowModel.paths = ets.wrap(inflow.InflowModel.paths)
    needs.bootstrap_curves = lambda d, c, days, n, rng: bootstrap(
        d, c, days, n, _TimedDraws(rng, draws)
    )
    try:
        with connect(_settings(home).build_db, read_only=True) as con:
            wall, cpu = time.perf_counter(), _process_cpu()
            built = build_forecast(con, scenarios.load(), anew=True)
            wall, cpu = time.perf_counter() - wall, _process_cpu() - cpu
    finally:
        inflow._fit, inflow.InflowModel.paths, needs.bootstrap_curves = originals
    # (a series too short for ETS is forecast flat, without a fit; a forecast always draws)
    if built.result.caseload.height and not draws.calls:
        raise RuntimeError(_MISSED.format(what="the forecast's bootstrap draws"))
    return {
        "forecast_wall_s": round(wall, 1),
        "forecast_cpu_s": round(cpu, 1),
        "rows": built.result.caseload.height + built.result.backtest.height,
        "ets_cpu_s": round(ets.seconds, 1),
        "ets_calls": ets.calls,
        "multinomial_cpu_s": round(draws.seconds, 1),
        "multinomial_calls": draws.calls,
    }


# --------------------------------------------------------------------------------------------
def floor_rows(figures: dict) -> list[tuple[str, float, str]]:
    """The rows of the floor, per part measured: what the library did, its CPU seconds, and the
    part's own figures beside it."""
    rows: list[tuple[str, float, str]] = []
    if "read" in figures:
        r = figures["read"]
        rows.append(
            (
                "DuckDB: reading the delivered files (the bench's floor)",
                r["cpu_s"],
                f"{r['files']:,} files, {r['rows']:,} rows into text tables, {r['wall_s']} s wall",
            )
        )
    if "sql" in figures:
        q = figures["sql"]
        for kind, name in (("models", "dbt's SQL models"), ("tests", "dbt's data tests")):
            rows.append(
                (
                    f"DuckDB: {name}",
                    q[kind]["cpu_s"],
                    f"{q[kind]['nodes']} {kind}, {q[kind]['wall_s']} s wall ({q['threads']} "
                    f"threads); dbt's node times {q[kind]['dbt_node_s']} s",
                )
            )
    if "solver" in figures:
        v = figures["solver"]
        rows.append(
            (
                "HiGHS: the pattern's linear programs",
                round(v["simplex_cpu_s"] + v["other_calls_cpu_s"] + v["setup_cpu_s"], 1),
                f"simplex {v['simplex_cpu_s']} s in {v['programs']:,} programs, other calls "
                f"{v['other_calls_cpu_s']} s, set-up of {v['setups']:,} programs "
                f"{v['setup_cpu_s']} s; the pattern ({', '.join(v['years'])}) in one process "
                f"{v['pattern_wall_s']} s wall, {v['pattern_cpu_s']} CPU-s",
            )
        )
    if "gx" in figures:
        g = figures["gx"]
        rows.append(
            (
                "Great Expectations: the extract gate's validation",
                g["gx_validate_cpu_s"],
                f"{g['gx_validations']} validations; the whole extract gate "
                f"{g['extract_gate_cpu_s']} s; the ingest in one process {g['ingest_wall_s']} s "
                f"wall, {g['ingest_cpu_s']} CPU-s",
            )
        )
    if "forecast" in figures:
        f = figures["forecast"]
        rows.append(
            (
                "statsmodels and numpy: the forecast's fits and draws",
                round(f["ets_cpu_s"] + f["multinomial_cpu_s"], 1),
                f"ETS {f['ets_cpu_s']} s, multinomial draws {f['multinomial_cpu_s']} s; the "
                f"forecast alone {f['forecast_wall_s']} s wall, {f['forecast_cpu_s']} CPU-s",
            )
        )
    return rows


def markdown(figures: dict) -> str:
    lines = [
        "| work at the library's own speed | CPU s | beside it, the part alone |",
        "|---|---:|---|",
    ]
    rows = floor_rows(figures)
    lines += [f"| {name} | {cpu} | {note} |" for name, cpu, note in rows]
    total = round(sum(cpu for _, cpu, _ in rows), 1)
    lines.append(f"| **in all** | **{total}** | on 2 cores at least {total / 2:.1f} s of wall |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.work_floor",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, help="the bench's data folder of the home's files (for `read`)"
    )
    parser.add_argument(
        "--parts", help=f"some of {','.join(PARTS)} (default: all; `read` needs --data)"
    )
    parser.add_argument(
        "--years", help="solver: only these years' parts (comma-separated; default: all)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    chosen = args.parts or ",".join(p for p in PARTS if p != "read" or args.data)
    parts = [p.strip() for p in chosen.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from {', '.join(PARTS)}")
    if "read" in parts and args.data is None:
        parser.error("the part `read` needs --data (the bench's data folder of the home's files)")
    home = args.home.resolve()
    if not _settings(home).build_db.is_file():
        parser.error(f"{home}: no warehouse/build.duckdb (a home built once is needed)")
    figures: dict[str, Any] = {"home": str(home)}
    for part in parts:
        print(f"[work_floor] {part} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        if part == "read":
            figures[part] = measure_read(args.data.resolve(), home)
        elif part == "sql":
            figures[part] = measure_sql(home, args.threads, args.memory_limit)
        elif part == "solver":
            years = frozenset(args.years.split(",")) if args.years else None
            figures[part] = measure_solver(home, years)
        elif part == "gx":
            figures[part] = measure_gx(home)
        elif part == "ingest":
            figures[part] = measure_ingest(home)
        else:
            figures[part] = measure_forecast(home)
        print(
            f"[work_floor] {part}: {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    figures["library_cpu_s"] = {name: cpu for name, cpu, _ in floor_rows(figures)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    tables = [markdown(figures)] if floor_rows(figures) else []
    if "ingest" in figures:
        tables.append(ingest_markdown(figures["ingest"]))
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
