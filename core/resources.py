"""One memory and threads setting for every DuckDB database and worker pool the warehouse uses.

`IMW_MEMORY_LIMIT` (DuckDB's syntax, e.g. `2GB`, `1.5GiB`; default `DEFAULT_MEMORY_LIMIT`) caps
each DuckDB database the warehouse opens: the build process's (ingest, gates, forecast, publish,
reports) and dbt's, which run one after the other. `IMW_THREADS` (default: the CPUs this process
may run on) is DuckDB's threads, the number of disclosure-control workers
(`disclosure.engine.workers`) and of the processes that render the report's charts
(`indicator_report.svg`). `core.database.connect` opens every connection with
both. Beyond its limit DuckDB spills to disk: for the build database
into `warehouse/build.duckdb.tmp` in the home (DuckDB's default, beside the database file), for
in-memory work into `IMW_HOME/warehouse/spill`.

dbt gets the same values: `core.settings.Settings.env` passes them to the dbt process and the
project's `on-run-start` hook (`macros/duckdb_resources.sql`) sets them there. They are not in
`profiles.yml`, because dbt keys its parse cache on the profile's fields: a different limit
would make every build parse the whole project again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

MEMORY_LIMIT_ENV = "IMW_MEMORY_LIMIT"
THREADS_ENV = "IMW_THREADS"
DEFAULT_MEMORY_LIMIT = "1GB"
"""Measured on `bw` (2 cores, 2026-12-04, README "Benchmark"): full builds took 293-295 s with
dbt's DuckDB at 3.3 GB and the rest at DuckDB's default (80 % of the RAM, as before), at 1.5 GB
and at 1 GB everywhere; the process tree's peak fell from 4.02 to 3.34 GiB, and it is now the
disclosure audit's (Python and its workers, outside DuckDB). The full build's ingest peaked at
2.76 GiB with 1.5 GB and at 2.22 GiB with 1 GB (and 500,000 rows per gate call)."""


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class ResourceSettingError(ValueError):
    """`IMW_MEMORY_LIMIT` or `IMW_THREADS` is not a value DuckDB and the engine accept."""


def memory_limit(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    value = env.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    if not _MEMORY.match(value):
        raise ResourceSettingError(
            f"{MEMORY_LIMIT_ENV} must be an amount of memory such as 2GB or 1.5GiB, not {value!r}"
        )
    return value


_OUT_OF_MEMORY = re.compile(
    r"Out of Memory Error"
    r"|(?:could not|failed to) allocate (?:block|data) of size [^()]+\([^()/]+/[^()/]+ used\)"
)
"""DuckDB's own words when its memory limit was reached: "Out of Memory Error: …", or, when the
limit is reached while a transaction commits, its buffer manager's message alone inside another
error ("TransactionContext Error: Failed to commit: could not allocate block of size 1.9 KiB
(15.2 MiB/15.2 MiB used)", seen at the 16MB of `tests/test_dbt_retry.py`, 2026-12-08)."""


def says_out_of_memory(text: str) -> bool:
    """Whether a failure reason is DuckDB's: a query needed more than its memory limit."""
    return _OUT_OF_MEMORY.search(text) is not None


def doubled_memory_limit(value: str) -> str:
    """A memory limit twice `value`, in its unit ("5GB" → "10GB", "1.5GiB" → "3GiB")."""
    found = _MEMORY.match(value.strip())
    if found is None:
        raise ResourceSettingError(f"not an amount of memory: {value!r}")
    amount = float(value.strip()[: found.start(2)])
    return f"{amount * 2:g}{found.group(2)}"


def threads(environ: Mapping[str, str] | None = None) -> int:
    return count_setting(THREADS_ENV, environ) or len(os.sched_getaffinity(0))


def count_setting(name: str, environ: Mapping[str, str] | None = None) -> int | None:
    """The whole number >= 1 in variable `name`, None when it is unset or empty (the caller's
    default applies); anything else is refused with the variable's name."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ResourceSettingError(f"{name} must be a whole number >= 1, not {value!r}")
    return int(value)


def resources_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Both settings, checked and resolved, for a child process (dbt)."""
    return {MEMORY_LIMIT_ENV: memory_limit(environ), THREADS_ENV: str(threads(environ))}


def release_memory() -> None:
    """Give the memory a finished step freed back to the system: Python's collector, then the C
    allocator's free pages (`malloc_trim`, glibc; nothing elsewhere). The build process waits
    while dbt runs in its own process, holding what its ingest freed otherwise: the process
    tree's peak is the two processes side by side."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
        if trim is not None:
            trim(0)


CACHE_FLOOR = "256MB"
"""What `release_duckdb_cache` lowers DuckDB's limit to for the moment it takes (40 ms for 0.86
GB of cached blocks on `bw`): far below the cache of a build's earlier models, and room for a
query another dbt thread may run in that moment (beyond it DuckDB spills to disk)."""


def release_duckdb_cache(con) -> bool:
    """Give back the blocks DuckDB keeps cached for `con`'s database: the memory limit is
    lowered to `CACHE_FLOOR`, which evicts every unpinned block beyond it at once, and set back
    to the build's setting (`memory_limit`; without `IMW_MEMORY_LIMIT`, the value it had, as
    DuckDB prints it, to 0.1 MiB). For a step about to hold much memory elsewhere in the
    process tree — the disclosure pattern, whose engine's workers hold its problems while dbt's
    DuckDB keeps the cache of the models before it, the build's peak (measured on `bw`,
    2026-12-06: dbt's process 1.19 → 1.01 GB there, the tree 2.42 → 2.23 GB). Evicted blocks are
    read back from the file when a later model needs them. False when more than the floor was
    pinned: DuckDB evicted what it could and kept its limit."""
    import duckdb

    before = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    restore = memory_limit() if os.environ.get(MEMORY_LIMIT_ENV, "").strip() else before
    try:
        con.execute(f"SET memory_limit = '{CACHE_FLOOR}'")
    except duckdb.OutOfMemoryException:
        return False
    finally:
        con.execute(f"SET memory_limit = '{restore}'")
    return True
