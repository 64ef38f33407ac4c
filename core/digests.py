"""Digests of what a result kept between builds depends on: its code and its input frames."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import polars as pl

FRAME_DIGEST_ROWS = 1 << 20
"""Rows of a frame digested at once by `frame_digest` (its text columns are joined per slice)."""
_FIXED_WIDTH = (
    pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64,
    pl.Float32, pl.Float64, pl.Date, pl.Datetime, pl.Duration, pl.Time,
)  # fmt: skip
"""Types whose values `frame_digest` takes as their fixed-width machine bytes."""


def code_digest(sources: Iterable[Path], packages: Iterable[str]) -> bytes:
    """SHA-256 of the source files (in the order given) and of the installed versions of
    `packages`: what a result kept between builds depends on besides its inputs, so that a
    change to any of them invalidates it."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    for package in packages:
        digest.update(f"{package}={version(package)};".encode())
    return digest.digest()


def frame_digest(frame: pl.DataFrame) -> bytes:
    """SHA-256 of a frame's column names, types and values, in its row order (sort it first where
    the order is not part of what it says). Column by column, a slice of rows at a time: each
    column's null count, where it has nulls the positions, then its values — fixed-width types
    as their machine bytes (nulls as 0), text as its byte lengths and its bytes joined, any other
    type as CSV text with its length — so the bytes hashed are a function of the frame's
    contents alone (Arrow's buffers are not: polars' string views, the bytes under nulls) and
    read back in one way only. 2.3 times as fast as the values written out as CSV text (a
    year's disclosure cells, `bw`, 2026-12-05)."""
    digest = hashlib.sha256(repr([(n, str(t)) for n, t in frame.schema.items()]).encode())
    digest.update(frame.height.to_bytes(8, "little"))
    for start in range(0, frame.height, FRAME_DIGEST_ROWS):
        for column in frame.slice(start, FRAME_DIGEST_ROWS).get_columns():
            _update(digest, column)
    return digest.digest()


def _update(digest: hashlib._Hash, column: pl.Series) -> None:
    nulls = column.null_count()
    digest.update(nulls.to_bytes(8, "little"))
    if nulls:
        digest.update(np.packbits(column.is_null().to_numpy()).tobytes())
    dtype = column.dtype
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        text = column.cast(pl.String).fill_null("")
        digest.update(text.str.len_bytes().to_numpy().tobytes())
        digest.update(text.str.join("").item().encode())
    elif dtype == pl.Boolean:
        digest.update(column.fill_null(False).to_numpy().tobytes())
    elif isinstance(dtype, _FIXED_WIDTH):
        digest.update(column.to_physical().fill_null(0).to_numpy().tobytes())
    else:
        text = column.to_frame().write_csv(include_header=False, null_value="\\N").encode()
        digest.update(len(text).to_bytes(8, "little") + text)
