"""A module imported when it is first used, not when a library imports it.

Great Expectations imports `scipy.stats` at module level, for three expectations the gates never
use (Kolmogorov–Smirnov p-values, KL divergence). That import is 0.77 s of GX's 2.4 s import,
paid by every build that validates a delivery, before the first file is checked (measured on
the 2-core AMD EPYC, 2026-12-05: `import great_expectations` 2.40 s, 1.63 s with `scipy.stats`
deferred). `defer("scipy.stats")` puts a stand-in in its place: GX's `from scipy import stats`
binds the stand-in, and the first attribute anyone looks up on it imports the real module and
is answered from it. A build whose forecast runs imports it there (statsmodels); a correction
that keeps its forecast never does.

The standard library's `importlib.util.LazyLoader` does the same, but in Python 3.11 it is not
safe when threads use a module first at once (fixed in 3.12; the forecast's backtest runs on
threads): with eight threads reading one attribute of a LazyLoader module at once, seven got an
AttributeError (a half-run module; 3.11.7, 2026-12-05). The stand-in here imports under a lock,
once (`tests/test_deferred_import.py` runs the same eight threads).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

_LOCK = threading.RLock()
"""One import at a time through any stand-in (re-entrant: the module may reach its own)."""


class Deferred(types.ModuleType):
    """Stands in `sys.modules` (and on its parent package) for a module not imported yet. Looking
    up any attribute it lacks imports the module, once, and answers from it; the import puts the
    real module in `sys.modules` and on the parent, so later imports get the module itself."""

    def __init__(self, name: str, spec: importlib.machinery.ModuleSpec | None) -> None:
        super().__init__(name)
        self.__spec__ = spec  # `importlib.util.find_spec(name)` keeps working
        self._deferred_module: types.ModuleType | None = None

    def __getattr__(self, attr: str) -> object:  # only for what the stand-in lacks
        return getattr(self.deferred_module(), attr)

    def deferred_module(self) -> types.ModuleType:
        """The real module, imported now if it is not yet."""
        with _LOCK:
            module = self._deferred_module
            if module is None:
                name = self.__name__
                if sys.modules.get(name) is self:
                    del sys.modules[name]
                parent_name, _, child = name.rpartition(".")
                parent = sys.modules.get(parent_name) if parent_name else None
                if parent is not None and parent.__dict__.get(child) is self:
                    delattr(parent, child)
                module = importlib.import_module(name)
                self._deferred_module = module
            return module


def defer(name: str) -> bool:
    """Put a `Deferred` stand-in for module `name` (its parent package imported now); False when
    the module is imported already (nothing to defer) or cannot be found."""
    with _LOCK:
        if name in sys.modules:
            return False
        parent_name, _, child = name.rpartition(".")
        parent = importlib.import_module(parent_name) if parent_name else None
        if name in sys.modules:  # the parent imported it
            return False
        spec = importlib.util.find_spec(name)
        if spec is None:
            return False
        stand_in = Deferred(name, spec)
        sys.modules[name] = stand_in
        if parent is not None:
            setattr(parent, child, stand_in)
        return True
