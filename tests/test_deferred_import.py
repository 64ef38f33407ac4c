"""`expectations.deferred_import`: Great Expectations imports without `scipy.stats`, which is
imported when first used, once, also when threads use it first at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def run_python(code: str, cwd: Path = PROJECT) -> str:
    """`code` in a fresh interpreter (a module imported by this test process stays imported)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": f"{PROJECT}:{cwd}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_great_expectations_imports_without_scipy_stats_which_works_when_used() -> None:
    out = run_python(
        """
        import sys
        import expectations.gx_runtime  # the package defers scipy.stats before any GX import
        import great_expectations
        print(type(sys.modules["scipy.stats"]).__name__, "scipy.stats._stats_py" in sys.modules)
        from scipy.stats import norm  # a name from the module: imports it
        import scipy
        from scipy import stats
        print(norm.cdf(0.0), type(sys.modules["scipy.stats"]).__name__,
              scipy.stats is sys.modules["scipy.stats"], stats.ks_2samp([1, 2], [1, 2]).pvalue)
        """
    ).split("\n")
    # GX imported: the stand-in is in place and none of scipy.stats' own modules ran
    assert out[0] == "Deferred False"
    # used: Φ(0) = 0.5; the real module replaced the stand-in in sys.modules and on `scipy`;
    # the name GX bound (the stand-in) answers from it: two equal samples, p-value 1.0
    assert out[1] == "0.5 module True 1.0"


def test_a_module_imported_already_is_not_deferred() -> None:
    out = run_python(
        """
        import json, sys
        from expectations.deferred_import import defer
        print(defer("json"), sys.modules["json"] is json, defer("no_such_module_here"))
        """
    )
    # json is imported: nothing to defer; a module that does not exist is not deferred either
    assert out.strip() == "False True False"


def test_threads_using_a_deferred_module_first_at_once_import_it_once(tmp_path: Path) -> None:
    # a package whose submodule takes 0.3 s to import and counts its imports in a file
    package = tmp_path / "slowpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "slow.py").write_text(
        textwrap.dedent(
            """
            import pathlib, time
            counter = pathlib.Path(__file__).with_name("imports.txt")
            counter.write_text(counter.read_text() + "x" if counter.exists() else "x")
            time.sleep(0.3)
            VALUE = 42
            """
        )
    )
    out = run_python(
        """
        import sys, threading
        from expectations.deferred_import import defer
        print(defer("slowpkg.slow"))
        from slowpkg import slow  # what a library's module-level import binds: the stand-in
        seen, start = [], threading.Barrier(8)
        def use():
            start.wait()
            seen.append(slow.VALUE)
        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(seen, type(sys.modules["slowpkg.slow"]).__name__)
        """,
        cwd=tmp_path,
    ).split("\n")
    assert out[0] == "True"
    # all 8 threads read 42 (none saw a half-imported module), from the real module
    assert out[1] == f"{[42] * 8} module"
    # and the module ran once ("x" per import)
    assert (package / "imports.txt").read_text() == "x"
