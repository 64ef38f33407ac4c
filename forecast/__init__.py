"""Needs forecast (Bedarfsprognose): case inflow (ETS), case duration (Kaplan–Meier) and the
caseload, FTE and funding they imply, 24 months beyond the reference date, with a rolling-origin
backtest. Pure functions on numpy/polars frames; `forecast.warehouse` reads and writes the build
database."""
