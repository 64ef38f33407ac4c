"""Test helper: the generator's `faelle` files read straight from a landing folder (no build),
as the needs forecast's case frame."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from forecast.needs import CASES_SCHEMA
from ingest.readers import parse_columns, parse_file_name, read_table


def cases_from_landing(folder: Path) -> pl.DataFrame:
    frames = []
    for path in sorted(Path(folder).rglob("faelle_*")):
        name = parse_file_name(path)
        typed = parse_columns(read_table(path, "faelle"), "faelle", name.stand).frame
        frames.append(
            typed.select(
                pl.lit(name.provider[:5]).alias("kreis"),
                pl.col("fallart").alias("case_type"),
                pl.col("erstkontakt_datum").alias("first_contact"),
                pl.col("abschluss_datum").alias("closure"),
            )
        )
    return pl.concat(frames).cast(CASES_SCHEMA)
