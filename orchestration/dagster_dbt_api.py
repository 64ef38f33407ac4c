"""dagster-dbt, imported without dbt Core in this process: the one place the orchestration
takes dagster-dbt from (ruff's TID251 bans `dagster_dbt` elsewhere).

dagster-dbt imports dbt Core's Python package when it finds it (`dagster_dbt.compat`: dbt's
version, its adapter base classes, its node and status enums) — 1.1 s and 250 modules in every
`imw` process that loads the definitions (`bw` correction, py-spy; `python -c "import
dagster_dbt"` 1.05–1.14 s with dbt Core importable, 0.24–0.26 s without, 2026-12-05). This
process never runs dbt: dbt runs in `imw-dbt`, a process of its own
(`orchestration.dbt_in_warehouse`), and the adapter dagster-dbt would open here is switched off
(`orchestration.resources.WarehouseDbtResource`). So dagster-dbt is imported with dbt Core's
package hidden, and takes the configuration it supports for a dbt executable outside this Python
(dbt Core in another environment, or dbt Fusion): its own copies of dbt's status and node-type
names (the strings dbt writes in its JSON log), and the executable's `--version` to tell dbt Core
(major version 1: its log's events) from Fusion. Only the import is affected: dbt Core stays
importable in this process afterwards (tests import it).
"""

from __future__ import annotations

import importlib.abc
import sys


class _DbtCoreHidden(importlib.abc.MetaPathFinder):
    """Makes `dbt` and its submodules unimportable while it is first on `sys.meta_path`."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "dbt" or name.startswith("dbt."):
            raise ImportError(f"{name}: dbt Core is not imported by the orchestration's process")


if "dagster_dbt" not in sys.modules:
    _hidden = _DbtCoreHidden()
    sys.meta_path.insert(0, _hidden)
    try:
        import dagster_dbt  # noqa: F401, TID251
    finally:
        sys.meta_path.remove(_hidden)

from dagster_dbt import (  # noqa: E402, TID251
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.core import dbt_cli_invocation  # noqa: E402, TID251

__all__ = [
    "DagsterDbtTranslator",
    "DbtCliInvocation",
    "DbtCliResource",
    "DbtProject",
    "dbt_assets",
    "dbt_cli_invocation",
]
