"""`core.digests.frame_digest`: what keeps a disclosure pattern, a forecast, a simulation or a
report chart between builds is keyed on it, so it must say "equal" exactly for equal frames."""

from __future__ import annotations

from datetime import date, datetime

import hypothesis.strategies as st
import polars as pl
from hypothesis import given, settings

from core import digests
from core.digests import frame_digest

ROWS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-(2**40), 2**40)),
        st.one_of(st.none(), st.text(max_size=6)),
        st.one_of(
            st.none(), st.floats(allow_nan=False, width=64).map(lambda x: x + 0.0)
        ),  # no -0.0
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2040, 1, 1))),
    ),
    max_size=12,
)
SCHEMA = {"n": pl.Int64, "s": pl.String, "x": pl.Float64, "b": pl.Boolean, "d": pl.Date}


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


@settings(max_examples=200, deadline=None)
@given(ROWS, ROWS)
def test_equal_frames_and_only_equal_frames_share_a_digest(first, second) -> None:
    a, b = frame(first), frame(second)
    assert (frame_digest(a) == frame_digest(b)) == a.equals(b, null_equal=True)


@settings(max_examples=100, deadline=None)
@given(ROWS, st.integers(1, 4))
def test_the_digest_does_not_depend_on_how_the_frame_is_held(rows, pieces) -> None:
    """Chunks, slices and string columns made by an operation (polars' string views) hold the
    same values: the same digest."""
    whole = frame(rows)
    size = max(1, len(rows) // pieces)
    chunked = pl.concat([frame(rows[i : i + size]) for i in range(0, len(rows), size)] or [whole])
    rebuilt = whole.with_columns(pl.col("s") + pl.lit(""))  # new strings, the same text
    assert frame_digest(chunked) == frame_digest(whole)
    assert frame_digest(rebuilt) == frame_digest(whole)


def test_what_a_digest_tells_apart() -> None:
    base = pl.DataFrame(
        {
            "n": [1, None, 3],
            "s": ["a", "bc", None],
            "t": [datetime(2026, 1, 1, 12), None, datetime(2026, 6, 30)],
        }
    )
    digest = frame_digest(base)
    others = {
        "a value": base.with_columns(pl.Series("n", [1, None, 4])),
        "a null for a value": base.with_columns(pl.Series("n", [1, 2, 3])),
        "a null for an empty text": base.with_columns(pl.Series("s", ["a", "bc", ""])),
        "text moved between rows": base.with_columns(pl.Series("s", ["ab", "c", None])),
        "a column's name": base.rename({"n": "m"}),
        "a column's type": base.with_columns(pl.col("n").cast(pl.Int32)),
        "the row order": base.reverse(),
        "a row more": pl.concat([base, base.head(1)]),
        "no rows": base.clear(),
    }
    found = {why: frame_digest(other) for why, other in others.items()}
    assert digest not in found.values(), [w for w, d in found.items() if d == digest]
    assert len(set(found.values())) == len(found)
    assert frame_digest(base.clone()) == digest


def test_large_frames_are_digested_a_slice_at_a_time(monkeypatch) -> None:
    """A frame longer than a slice is digested slice by slice: equal frames still agree, and a
    value in the second slice counts."""
    monkeypatch.setattr(digests, "FRAME_DIGEST_ROWS", 4)
    rows = pl.DataFrame({"n": list(range(10)), "s": [str(i) for i in range(10)]})
    changed = rows.with_columns(
        pl.when(pl.col("n") == 6).then(pl.lit("x")).otherwise("s").alias("s")
    )
    assert frame_digest(rows) == frame_digest(rows.clone())
    assert frame_digest(rows) != frame_digest(changed)
