"""`imw forecast` and `imw simulate-funding` — the needs forecast and the funding-rate simulator
on the current build database, for an analyst's what-if (nothing is published by them).

imw forecast [--caseload-target N] [--rate EUR] [--scenarios FILE] [--no-backtest]
             [--out CSV] [--home DIR]
imw simulate-funding --rule {flat,cost-share,caseload,ist} [--rate EUR] [--share S] [--cap]
             [--cap-per-fte EUR] [--weight-cm W] [--weight-kb W] [--level LAND|RB|KREIS]
             [--out CSV] [--home DIR]

Both read `$IMW_HOME/warehouse/build.duckdb` read-only (run them between builds). Exit 0 done,
1 failed (no build, no data), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _num(x: float | None, digits: int = 0) -> str:
    """German number format: 1.234.567,8."""
    if x is None:
        return "–"
    text = f"{x:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    line = "  ".join(
        h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    out = [line, "-" * len(line)]
    for r in rows:
        out.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(out)


def _connect(home: str | None):
    from core.database import connect

    settings = Settings.from_env(home=home)
    if not settings.build_db.exists():
        raise FileNotFoundError(f"no build database at {settings.build_db}: run `imw build` first")
    return settings, connect(settings.build_db, read_only=True)


def cmd_forecast(args: argparse.Namespace) -> int:
    import polars as pl

    from forecast import scenarios
    from forecast.warehouse import run_forecast

    try:
        assumptions = scenarios.load(Path(args.scenarios)) if args.scenarios else scenarios.load()
        _, con = _connect(args.home)
        with con:
            result = run_forecast(
                con,
                assumptions,
                caseload_target=args.caseload_target,
                rate_eur_per_fte=args.rate,
                with_backtest=not args.no_backtest,
            )
    except (FileNotFoundError, ValueError) as err:
        print(f"imw forecast: {err}", file=sys.stderr)
        return EXIT_FAILED
    if result.reason:
        print(f"imw forecast: {result.reason}", file=sys.stderr)
        return EXIT_FAILED
    land = result.caseload.filter(
        (pl.col("level") == "LAND")
        & (pl.col("case_type") == "ALLE")
        & (pl.col("horizon_months").is_in([0, 6, 12, 18, 24]))
    ).sort("scenario", "horizon_months")
    print(
        f"Bedarfsprognose Baden-Württemberg — Stichtag (R) {result.reference_date:%d.%m.%Y}, "
        f"Prognosebeginn {result.origin:%d.%m.%Y}"
    )
    print(
        f"Fallschlüssel {_num(result.caseload_target, 1)} offene Fälle je VZÄ, "
        f"Fördersatz {_num(result.rate_eur_per_fte)} € je VZÄ und Jahr"
    )
    print()
    rows = [
        [
            r["scenario"],
            f"{r['month']:%m/%Y}",
            _num(r["open_p10"]),
            _num(r["open_p50"]),
            _num(r["open_p90"]),
            _num(r["new_cases"]),
            _num(r["fte_needed"], 1),
            _num(r["funding_needed_eur_per_year"]),
        ]
        for r in land.iter_rows(named=True)
    ]
    print(
        _table(
            ["Szenario", "Monat", "offen p10", "offen p50", "offen p90", "neue Fälle",
             "VZÄ-Bedarf", "Förderbedarf €/Jahr"],
            rows,
        )
    )  # fmt: skip
    if not args.no_backtest:
        bt = result.backtest.filter(
            pl.col("origin").is_null() & (pl.col("level") == "LAND") & (pl.col("metric") == "mae")
        ).sort("horizon_months", "model")
        print()
        print("Rückschau (rollierende Prognoseursprünge, Land): mittlerer absoluter Fehler")
        print(
            _table(
                ["Horizont (Monate)", "Modell", "MAE (Fälle)"],
                [
                    [str(h), m, _num(v, 1)]
                    for h, m, v in bt.select("horizon_months", "model", "value").rows()
                ],
            )
        )  # fmt: skip
        beats = result.backtest.filter(
            pl.col("origin").is_null()
            & (pl.col("level") == "LAND")
            & (pl.col("metric") == "beats_naive")
            & (pl.col("horizon_months") == 12)
        )["value"].to_list()
        if beats and not beats[0]:
            print(
                "ACHTUNG: Das Modell schlägt die naive Prognose (letzter Wert) auf 12 Monate NICHT."
            )
    if args.out:
        result.caseload.write_csv(args.out)
        print(f"\nCSV: {args.out}")
    return EXIT_OK


RULES = {"flat": "PAUSCHALE", "cost-share": "KOSTENANTEIL", "caseload": "FALLPAUSCHALE"}


def cmd_simulate_funding(args: argparse.Namespace) -> int:
    import polars as pl

    from forecast import scenarios
    from funding_sim.rules import IST_GROSS, IST_NET, Rule
    from funding_sim.warehouse import run_simulation

    if args.rule == "ist":
        rules = [Rule(IST_GROSS), Rule(IST_NET)]
    elif args.rule == "cost-share":
        if args.share is None:
            print("imw simulate-funding: --rule cost-share needs --share", file=sys.stderr)
            return EXIT_USAGE
        rules = [Rule(RULES[args.rule], "anteil", args.share, args.cap, args.cap_per_fte)]
    else:
        if args.rate is None:
            print(f"imw simulate-funding: --rule {args.rule} needs --rate", file=sys.stderr)
            return EXIT_USAGE
        name = "satz_eur_je_vzae" if args.rule == "flat" else "satz_eur_je_falljahr"
        rules = [Rule(RULES[args.rule], name, args.rate, args.cap, args.cap_per_fte)]
    assumptions = scenarios.load()
    funding = assumptions.funding
    if args.weight_cm is not None or args.weight_kb is not None:
        weights = dict(funding.caseload_weights)
        weights.update(
            {k: v for k, v in (("CM", args.weight_cm), ("KB", args.weight_kb)) if v is not None}
        )
        funding = type(funding)(**{**funding.__dict__, "caseload_weights": weights})
    try:
        settings, con = _connect(args.home)
        with con:
            table = run_simulation(con, funding, rules)
    except (FileNotFoundError, ValueError) as err:
        print(f"imw simulate-funding: {err}", file=sys.stderr)
        return EXIT_FAILED
    for rule in rules:
        mine = table.filter(pl.col("rule_label") == rule.label)
        gy = mine.filter((pl.col("view") == "grant_year") & (pl.col("level") == args.level)).sort(
            "unit_code", "year"
        )
        print(f"\nRegel: {rule.label} — Förderjahre ({args.level})")
        print(
            _table(
                ["Einheit", "Jahr", "Förderjahre", "gezahlt €", "Ist-Kosten €",
                 "Überfinanzierung €",
                 "Unterfinanzierung €", "über", "unter"],
                [
                    [r["unit_code"], str(r["year"]), str(r["grant_years"]), _num(r["paid_eur"]),
                     _num(r["cost_eur"]), _num(r["overfinancing_eur"]),
                     _num(r["underfinancing_eur"]), str(r["grants_overfinanced"]),
                     str(r["grants_underfinanced"])]
                    for r in gy.iter_rows(named=True)
                ],
            )
        )  # fmt: skip
        bud = mine.filter(pl.col("view") == "budget").sort("year")
        print(f"\nRegel: {rule.label} — Haushalt (Land, Kassenjahr)")
        print(
            _table(
                ["Jahr", "Ansatz €", "Reste übernommen €", "ausgegeben €", "nicht verausgabt €",
                 "aus Resten gedeckt €", "neuer Bedarf €"],
                [
                    [str(r["year"]), _num(r["appropriation_eur"]), _num(r["residues_in_eur"]),
                     _num(r["spent_eur"]), _num(r["unspent_eur"]), _num(r["residues_cover_eur"]),
                     _num(r["fresh_need_eur"])]
                    for r in bud.iter_rows(named=True)
                ],
            )
        )  # fmt: skip
    print("\nFörderjahre: Bewilligung × Jahr mit Verwendungsnachweis; über/unter: davon über-")
    print("bzw. unterfinanziert. Haushalt: Auszahlungen im Jahr ihrer tatsächlichen Zahlung.")
    out = Path(args.out) if args.out else settings.reports_dir / "foerdersatz_simulation.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.write_csv(out)
    print(f"CSV: {out}")
    return EXIT_OK


def add_parsers(subparsers) -> None:
    """Register `forecast` and `simulate-funding` on the `imw` sub-command parsers."""
    f = subparsers.add_parser(
        "forecast",
        help="needs forecast (open cases, FTE, funding; 24 months) from the build database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    f.add_argument(
        "--caseload-target", type=float, help="open cases per FTE (default: CM10 median)"
    )
    f.add_argument("--rate", type=float, help="EUR per FTE and year (default: current grants)")
    f.add_argument("--scenarios", help="assumptions file (default forecast/scenarios.yaml)")
    f.add_argument("--no-backtest", action="store_true", help="skip the rolling-origin backtest")
    f.add_argument("--out", help="write all forecast rows to this CSV file")
    f.set_defaults(func=cmd_forecast)

    s = subparsers.add_parser(
        "simulate-funding",
        help="what other funding rules would have paid, over/underfinancing, budget residues",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    s.add_argument("--rule", choices=["flat", "cost-share", "caseload", "ist"], required=True)
    s.add_argument("--rate", type=float, help="flat: EUR per FTE; caseload: EUR per case-year")
    s.add_argument("--share", type=float, help="cost-share: share of proven costs, e.g. 0.9")
    s.add_argument("--cap", action="store_true", help="cap every grant-year at its proven costs")
    s.add_argument("--cap-per-fte", type=float, help="cap at this many EUR per proven FTE")
    s.add_argument("--weight-cm", type=float, help="caseload: weight of a CM case-year")
    s.add_argument("--weight-kb", type=float, help="caseload: weight of a KB case-year")
    s.add_argument("--level", choices=["LAND", "RB", "KREIS"], default="LAND")
    s.add_argument("--out", help="CSV file (default $IMW_HOME/reports/foerdersatz_simulation.csv)")
    s.set_defaults(func=cmd_simulate_funding)
