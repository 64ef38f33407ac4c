"""The versioned assumptions file (`forecast/scenarios.yaml`): loaded, checked, hashed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "scenarios.yaml"


class ScenarioFileError(ValueError):
    """The assumptions file is missing a key or holds an impossible value."""


@dataclass(frozen=True)
class Scenario:
    name: str
    inflow_multiplier: float
    source: str


@dataclass(frozen=True)
class ForecastSettings:
    horizon_months: int
    interval: float
    simulations: int
    seed: int
    history_months: int
    survival_min_events_per_region: int
    caseload_target: float | None
    rate_eur_per_fte: float | None
    backtest_origins_months: int
    backtest_horizons: tuple[int, ...]
    backtest_simulations: int

    @property
    def quantiles(self) -> tuple[float, float, float]:
        tail = (1 - self.interval) / 2
        return (tail, 0.5, 1 - tail)


@dataclass(frozen=True)
class FundingSettings:
    flat_rates_eur: tuple[float, ...]
    cost_shares: tuple[float, ...]
    cost_share_cap_eur_per_fte: float
    caseload_rates_eur_per_case_year: tuple[float, ...]
    caseload_weights: dict[str, float]


@dataclass(frozen=True)
class Assumptions:
    path: Path
    sha256: str
    raw: dict[str, Any]
    forecast: ForecastSettings
    scenarios: tuple[Scenario, ...]
    funding: FundingSettings

    def table(self) -> pl.DataFrame:
        """The file's content, one row per leaf (`key` as a dotted path), for publication."""
        rows: list[tuple[str, str]] = []

        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, f"{prefix}.{k}" if prefix else str(k))
            elif isinstance(node, list) and node and isinstance(node[0], dict):
                for item in node:
                    walk(item, f"{prefix}.{item.get('name', '?')}")
            else:
                rows.append((prefix, node if isinstance(node, str) else json.dumps(node)))

        walk(self.raw, "")
        return pl.DataFrame(
            {"key": [r[0] for r in rows], "value": [r[1] for r in rows]},
            schema={"key": pl.String, "value": pl.String},
        ).with_columns(pl.lit(self.sha256).alias("file_sha256"))


def _need(node: dict[str, Any], key: str, where: str) -> Any:
    if key not in node:
        raise ScenarioFileError(f"{where}: missing key {key!r}")
    return node[key]


def load(path: Path = DEFAULT_PATH) -> Assumptions:
    data = Path(path).read_bytes()
    raw = yaml.safe_load(data)
    if not isinstance(raw, dict):
        raise ScenarioFileError(f"{path}: not a mapping")
    f = _need(raw, "forecast", str(path))
    bt = _need(f, "backtest", "forecast")
    fs = ForecastSettings(
        horizon_months=int(_need(f, "horizon_months", "forecast")),
        interval=float(_need(f, "interval", "forecast")),
        simulations=int(_need(f, "simulations", "forecast")),
        seed=int(_need(f, "seed", "forecast")),
        history_months=int(_need(f, "history_months", "forecast")),
        survival_min_events_per_region=int(_need(f, "survival_min_events_per_region", "forecast")),
        caseload_target=_optional_positive(f, "caseload_target"),
        rate_eur_per_fte=_optional_positive(f, "rate_eur_per_fte"),
        backtest_origins_months=int(_need(bt, "origins_months", "forecast.backtest")),
        backtest_horizons=tuple(int(h) for h in _need(bt, "horizons", "forecast.backtest")),
        backtest_simulations=int(_need(bt, "simulations", "forecast.backtest")),
    )
    if not 0 < fs.interval < 1 or fs.horizon_months < 1 or fs.simulations < 10:
        raise ScenarioFileError(f"{path}: interval in (0, 1), horizon >= 1, simulations >= 10")
    scenarios = tuple(
        Scenario(
            str(_need(s, "name", "scenarios")),
            float(_need(s, "inflow_multiplier", "scenarios")),
            str(_need(s, "source", "scenarios")),
        )
        for s in _need(raw, "scenarios", str(path))
    )
    if not scenarios or any(s.inflow_multiplier < 0 for s in scenarios):
        raise ScenarioFileError(f"{path}: at least one scenario, multipliers >= 0")
    if len({s.name for s in scenarios}) != len(scenarios):
        raise ScenarioFileError(f"{path}: scenario names must be unique")
    g = _need(raw, "funding", str(path))
    grid = _need(g, "flat_rates_eur", "funding")
    flat = sorted(
        {*range(int(grid["from"]), int(grid["to"]) + 1, int(grid["step"])), *grid.get("extra", [])}
    )
    funding = FundingSettings(
        flat_rates_eur=tuple(float(r) for r in flat),
        cost_shares=tuple(float(s) for s in _need(g, "cost_shares", "funding")),
        cost_share_cap_eur_per_fte=float(_need(g, "cost_share_cap_eur_per_fte", "funding")),
        caseload_rates_eur_per_case_year=tuple(
            float(r) for r in _need(g, "caseload_rates_eur_per_case_year", "funding")
        ),
        caseload_weights={
            str(k): float(v) for k, v in _need(g, "caseload_weights", "funding").items()
        },
    )
    return Assumptions(
        path=Path(path),
        sha256=hashlib.sha256(data).hexdigest(),
        raw=raw,
        forecast=fs,
        scenarios=scenarios,
        funding=funding,
    )


def _optional_positive(node: dict[str, Any], key: str) -> float | None:
    value = _need(node, key, "forecast")
    if value is None:
        return None
    if float(value) <= 0:
        raise ScenarioFileError(f"forecast.{key} must be positive or null, got {value!r}")
    return float(value)
