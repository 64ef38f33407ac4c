"""Digests of what a result kept between builds depends on: its code and its input frames."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

import polars as pl

FRAME_DIGEST_ROWS = 8192
"""Rows of a frame turned into text at once by `frame_digest`."""


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
    """SHA-256 of a frame's column names and values, in its row order (sort it first where the
    order is not part of what it says). Of the values written out as text, a slice at a time:
    Arrow's bytes of equal frames differ (polars' string views, the bytes under nulls), and the
    text of a large frame at once would be tens of MB."""
    digest = hashlib.sha256()
    for start in range(0, max(frame.height, 1), FRAME_DIGEST_ROWS):
        text = frame.slice(start, FRAME_DIGEST_ROWS).write_csv(
            include_header=start == 0, null_value="\\N", quote_style="always"
        )
        digest.update(text.encode())
    return digest.digest()
