"""The bulk HMACs (polars' for the ingest, SQL's for the evaluators' exports) must equal
Python's hmac byte for byte, and the key must never be persisted."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.settings import MissingKeyError, pseudonym_key
from ingest import pseudonymise


@pytest.mark.parametrize(
    ("key", "provider", "local_id"),
    [
        (b"k", "08115003", "P-1"),
        (b"a much longer key " * 8, "08115", "Ärger-ß-17"),  # key longer than one SHA block
        (b"k", "08", "ZB-2025/0001"),
    ],
)
def test_sql_hmac_matches_python_hmac(key, provider, local_id):
    con = duckdb.connect()
    pseudonymise.install(con, key)
    got = con.execute("SELECT imw_pseudonym(?, ?)", [provider, local_id]).fetchone()[0]
    assert got == pseudonymise.pseudonym(key, provider, local_id)
    assert len(got) == 64


@pytest.mark.parametrize(
    ("key", "provider", "local_id"),
    [
        (b"k", "08115003", "P-1"),
        (b"a much longer key " * 8, "08115", "Ärger-ß-17"),  # key longer than a block
        ("Schlüssel-€-0123".encode(), "08", "ZB-2025/0001"),  # key of multi-byte chars
        (b"k", "08115003", ""),  # an empty id is a message too ("08115003:")
    ],
)
def test_ingest_hmac_matches_python_hmac(key, provider, local_id):
    frame = pl.DataFrame({"provider": [provider], "id": [local_id]})
    got = frame.select(pseudonymise.id_text(key, pl.col("provider"), pl.col("id"))).item()
    assert got == pseudonymise.pseudonym(key, provider, local_id)[:32]
    assert got == pseudonymise.warehouse_id_text(pseudonymise.warehouse_id(key, provider, local_id))


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(min_size=1, max_size=100).map(str.encode),  # any text, up to 400 bytes
    provider=st.text(alphabet="0123456789", min_size=2, max_size=8),
    local_ids=st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=20),
)
def test_ingest_hmac_equals_the_reference_on_any_ids(key, provider, local_ids):
    # in bulk, row by row as the reference computes it; a NULL id stays NULL
    frame = pl.DataFrame({"id": local_ids}, schema={"id": pl.String})
    got = frame.select(pseudonymise.id_text(key, pl.lit(provider), pl.col("id"))).to_series()
    expected = [
        None if local_id is None else pseudonymise.pseudonym(key, provider, local_id)[:32]
        for local_id in local_ids
    ]
    assert got.to_list() == expected


def test_ingest_hmac_nulls_and_a_key_that_is_not_text():
    frame = pl.DataFrame({"provider": ["08", None, "08"], "id": ["a", "a", None]})
    got = frame.select(pseudonymise.id_text(b"k", pl.col("provider"), pl.col("id"))).to_series()
    # a NULL provider or id has no pseudonym; the one complete row has the reference's
    assert got.to_list() == [pseudonymise.pseudonym(b"k", "08", "a")[:32], None, None]
    # the key comes from the environment as text; bytes that are no UTF-8 cannot be that key
    with pytest.raises(ValueError, match="UTF-8"):
        pseudonymise.id_text(b"\xff\xfe-not-text", pl.col("provider"), pl.col("id"))


def test_provider_is_part_of_the_message():
    # Same id at two providers must give two pseudonyms; and 5+3 digit splits must not collide.
    assert pseudonymise.pseudonym(b"k", "08115", "003:1") != pseudonymise.pseudonym(
        b"k", "08115003", "1"
    )
    assert pseudonymise.pseudonym(b"k", "08115", "1") != pseudonymise.pseudonym(b"k", "08116", "1")


def test_bulk_pseudonymisation_and_nulls():
    con = duckdb.connect()
    pseudonymise.install(con, b"k")
    con.register("frame", pl.DataFrame({"id": ["a", None, "c"]}).to_arrow())
    out = con.execute("SELECT imw_pseudonym('08', id) FROM frame").fetchall()
    assert out[1][0] is None
    assert out[0][0] == pseudonymise.pseudonym(b"k", "08", "a")


def test_key_is_not_stored_in_the_database(tmp_path):
    path = tmp_path / "x.duckdb"
    key = b"super-secret-key-material"
    with duckdb.connect(str(path)) as con:
        pseudonymise.install(con, key)
        con.execute("CREATE TABLE t AS SELECT imw_pseudonym('08', 'x') AS p")
    assert key not in path.read_bytes()
    # The macro was temporary: a new connection does not know it.
    with duckdb.connect(str(path)) as con, pytest.raises(duckdb.CatalogException):
        con.execute("SELECT imw_pseudonym('08', 'x')")


def test_missing_key_is_an_error():
    with pytest.raises(MissingKeyError, match="IMW_PSEUDONYM_KEY"):
        pseudonym_key({})
    assert pseudonym_key({"IMW_PSEUDONYM_KEY": "a-proper-key-0123"}) == b"a-proper-key-0123"


@pytest.mark.parametrize(
    ("key", "provider", "local_id"),
    [(b"k", "08115003", "P-1"), (b"a much longer key " * 8, "08115", "Ärger-ß-17")],
)
def test_warehouse_id_is_the_first_128_bits_of_the_pseudonym(key, provider, local_id):
    full = pseudonymise.pseudonym(key, provider, local_id)
    wid = pseudonymise.warehouse_id(key, provider, local_id)
    assert wid == int(full[:32], 16) and 0 <= wid < 2**128
    assert pseudonymise.warehouse_id_text(wid) == full[:32]
    text = (
        pl.DataFrame({"provider": [provider], "id": [local_id]})
        .select(pseudonymise.id_text(key, pl.col("provider"), pl.col("id")))
        .item()
    )
    con = duckdb.connect()
    # the text the ingest carries, the integer the raw layer stores (SQL), the text shown again
    stored, shown = con.execute(
        f"SELECT {pseudonymise.id_sql_from_text('?')}, "
        f"{pseudonymise.id_sql_text(pseudonymise.id_sql_from_text('?'))}",
        [text, text],
    ).fetchall()[0]
    assert (text, stored, shown) == (full[:32], wid, full[:32])
    # the full 64-character pseudonym converts to the same id (the raw layer's migration)
    assert (
        con.execute(f"SELECT {pseudonymise.id_sql_from_text('?')}", [full]).fetchall()[0][0] == wid
    )


def test_warehouse_id_keeps_small_values_and_nulls():
    con = duckdb.connect()
    # an id whose first 31 hex digits are zero: still 32 characters, still the same integer
    assert con.execute(
        f"SELECT {pseudonymise.id_sql_text('1::UHUGEINT')}, {pseudonymise.id_sql_text('NULL')}, "
        f"{pseudonymise.id_sql_from_text('NULL')}"
    ).fetchall()[0] == ("0" * 31 + "1", None, None)
    assert pseudonymise.warehouse_id_text(1) == "0" * 31 + "1"


def test_collision_bound():
    # n(n-1)/2 pairs, each equal with probability 2^-128: 10^9 ids -> 4.99999999e17 pairs
    # / 3.4028e38 = 1.469e-21
    assert pseudonymise.collision_bound(1e9) == pytest.approx(1.4693679e-21, rel=1e-6)
    assert pseudonymise.collision_bound(1) == 0  # one id cannot collide


def test_a_throwaway_key_is_random_text_the_ingest_can_use():
    # `imw check` and the clerks' check service hash with a key nobody keeps: 32 random bytes in
    # URL-safe base64 are 43 characters of text, a new one each time
    first, second = pseudonymise.throwaway_key(), pseudonymise.throwaway_key()
    assert len(first) == 43 and first != second
    frame = pl.DataFrame({"id": ["a"]})
    got = frame.select(pseudonymise.id_text(first, pl.lit("08"), pl.col("id"))).item()
    assert got == pseudonymise.pseudonym(first, "08", "a")[:32]
