"""The shared tiny world: one `tiny` build (seed 7) for every test module that only reads a built
warehouse — the end-to-end, progress, mart gate, disclosure, extract gate and evaluator export
tests. Each module used to make its own, identical but for the key: six builds of ~2 minutes,
over half of `make test`'s time. The session fixture `tiny_world` (conftest) builds it once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.resources import MEMORY_LIMIT_ENV, THREADS_ENV
from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from disclosure.engine import WORKERS_ENV
from orchestration.assets import DBT_FILE_LOG_ENV

TINY_SEED = 7
TINY_KEY = "shared-tiny-key-0123456789"
# Deliberately bad: an extract the contract does not know, in Kreis 08115's name. The build must
# quarantine it, report it to the provider and still publish.
REJECTED_FILE = "liste_08115_2026-06-30.csv"
# The warehouse's memory and threads setting (core/resources.py), which must reach dbt's DuckDB
# (test_build_end_to_end); values no default has (3 threads on CI's 2 cores), so that the check
# cannot pass by chance. The disclosure workers stay at the engine's own setting: 2 processes.
TINY_RESOURCES = {MEMORY_LIMIT_ENV: "1536MiB", THREADS_ENV: "3", WORKERS_ENV: "2"}
# dbt's log file at `debug`, as an operator asks for it (the nightly level is `info`): the
# end-to-end test reads dbt's debug messages about its parse there, which holds that the
# operator's level reaches dbt.
TINY_DBT_ENV = {DBT_FILE_LOG_ENV: "debug"}


@dataclass(frozen=True)
class TinyWorld:
    """A built `tiny` home. Read it, never write to it: other modules (and, under xdist, other
    workers) read the same one."""

    settings: Settings
    delivered: Path  # the files as delivered (the build empties the landing into the archive)
    files: int  # files in the landing when the build started
    returncode: int  # of `imw build`, run as a subprocess without a terminal
    stderr: str  # its progress lines

    @classmethod
    def read(cls, root: Path) -> TinyWorld:
        record = json.loads((root / "build.json").read_text())
        return cls(
            settings=Settings.from_env(home=root / "home", environ={}),
            delivered=root / "delivered",
            files=record["files"],
            returncode=record["returncode"],
            stderr=record["stderr"],
        )


def build_tiny_world(root: Path) -> None:
    """Generate, add the rejected file, `imw build` in a subprocess; the outcome in build.json."""
    from synthetic import generate

    home = root / "home"
    generate("tiny", root / "delivered", seed=TINY_SEED, truth_path=root / "truth.json")
    shutil.copytree(root / "delivered", home / "landing")
    (home / "landing" / REJECTED_FILE).write_text("spalte_a;spalte_b\n1;2\n")
    files = len(list((home / "landing").iterdir()))
    # the environment holds no IMW_HOME or DAGSTER_HOME here (conftest's autouse fixture)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "build", "--home", str(home)],
        cwd=PROJECT_ROOT, env={**os.environ, KEY_ENV: TINY_KEY, **TINY_RESOURCES, **TINY_DBT_ENV},
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    record = {"files": files, "returncode": done.returncode, "stderr": done.stderr}
    (root / "build.json").write_text(json.dumps(record))
