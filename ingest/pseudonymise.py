"""Pseudonymisation at the door: HMAC-SHA256 over `provider:id` with the warehouse key.

`pseudonym()` is the byte-for-byte reference, for single values and in tests. Millions of ids are
hashed in bulk without a Python loop, in two places that tests hold to the reference:

- the ingest, on the typed frames before anything is written: `id_text`, a polars expression
  (`polars-hash`'s HMAC-SHA256, in Rust). Measured on 3,000,000 ids (2 cores, 2026-12-06):
  1.26 CPU-s, against 6.04 CPU-s (3.1 s on both cores) for the same HMAC in DuckDB's SQL;
- SQL, for what is computed inside DuckDB (the evaluators' study pseudonyms over warehouse ids):
  `install` makes the macro `imw_pseudonym` (`sha256` over blobs, RFC 2104 construction).

The key lives only in memory: in the expression while it runs, and in session variables of a
connection, never in a table, view or macro that DuckDB persists.

**The warehouse id** (#16, "compact keys") is the HMAC's first 128 bits, stored as DuckDB's
`UHUGEINT` (16 bytes, fixed width) in the raw layer and everything built on it: joins and
intermediate tables carry an integer, not 64 characters of text (on `bw`, the model that joins
4.5 M contacts to the status history took 11 s with the hex text and 2.2 s with the integers).
Where a person sees one (a quarantined id's value for the operator) it is written as those 128
bits in 32 lowercase hex characters, `id_sql_text` — never `CAST(id AS VARCHAR)`: DuckDB writes a
UHUGEINT in decimal about 150 times slower (27 s for 875,000 ids, against 0.18 s). Truncating an
HMAC keeps it a pseudorandom function of the id; two ids share a warehouse id with probability at
most n(n-1)/2 / 2^128 for n ids (collision bound, `collision_bound`): for 10^9 ids, a federal
warehouse's decades of persons, cases, contacts and goals together, below 1.5 * 10^-21. Joins also
match the provider, so only ids of one provider could ever meet.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import duckdb
import polars as pl
import polars_hash  # noqa: F401  (registers the `chash` namespace that `id_text` uses)

from contract.spec import DUCKDB_TYPES, ColumnType

_BLOCK = 64  # SHA-256 block size in bytes


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def message(provider: str, local_id: str) -> bytes:
    # Providers are all digits, so the first ':' separates them unambiguously from the id.
    return f"{provider}:{local_id}".encode()


def pseudonym(key: bytes, provider: str, local_id: str) -> str:
    """The full HMAC-SHA256 in 64 hex characters (the reference; study pseudonyms use it)."""
    return hmac.new(key, message(provider, local_id), hashlib.sha256).hexdigest()


ID_BITS = 128
ID_TYPE = DUCKDB_TYPES[ColumnType.ID]
"""DuckDB type of a warehouse id (the contract's, `UHUGEINT`)."""
ID_HEX_CHARS = ID_BITS // 4


def warehouse_id(key: bytes, provider: str, local_id: str) -> int:
    """The warehouse id: the pseudonym's first 128 bits as an unsigned integer."""
    return int(pseudonym(key, provider, local_id)[:ID_HEX_CHARS], 16)


def warehouse_id_text(value: int) -> str:
    """A warehouse id as a person sees it: 32 lowercase hex characters."""
    return f"{value:0{ID_HEX_CHARS}x}"


def id_sql_text(column: str) -> str:
    """SQL for `warehouse_id_text` of an id column (NULL stays NULL)."""
    return f"format('{{:0{ID_HEX_CHARS}x}}', {column})"


def id_sql_from_text(expr: str) -> str:
    """SQL turning 32 hex characters (or the longer full pseudonym) into the warehouse id."""
    return f"CAST('0x' || left({expr}, {ID_HEX_CHARS}) AS {ID_TYPE})"


def id_text(key: bytes, provider: pl.Expr, local_id: pl.Expr) -> pl.Expr:
    """`warehouse_id_text` of each (provider, id) as a polars expression: the first 128 bits of
    `pseudonym`, in 32 lowercase hex characters; NULL where either is NULL.

    The key is text (`text_key`), which is how `polars-hash` takes it; its bytes are the same."""
    message = pl.concat_str(provider, pl.lit(":"), local_id)
    return message.chash.hmac_sha256(key=text_key(key)).str.slice(0, ID_HEX_CHARS)


def text_key(key: bytes) -> str:
    """The key as the text it came as (`core.settings.pseudonym_key`: the environment's string
    in UTF-8; `throwaway_key`); `ValueError` for bytes that are no UTF-8 (the ingest asks before
    it touches anything, `ingest.load.ingest_landing`)."""
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError("the pseudonymisation key must be UTF-8 text") from error


def throwaway_key() -> bytes:
    """A random key for a run that keeps nothing (`imw check`, the clerks' check service): 256
    random bits, as text like every key from the environment (`id_text`)."""
    return secrets.token_urlsafe(32).encode("ascii")


def collision_bound(n_ids: float) -> float:
    """Upper bound on the probability that any two of `n_ids` ids share a warehouse id."""
    return n_ids * (n_ids - 1) / 2 / 2.0**ID_BITS


def install(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Make `imw_pseudonym(provider, id)` (64 hex characters) available on this connection
    only."""
    ipad, opad = _pads(key)
    con.execute("SET VARIABLE imw_ipad = ?::BLOB", [ipad])
    con.execute("SET VARIABLE imw_opad = ?::BLOB", [opad])
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO imw_pseudonym(provider, local_id) AS
            sha256(getvariable('imw_opad') || unhex(sha256(
                getvariable('imw_ipad') || encode(provider || ':' || local_id))))
        """
    )


FINGERPRINT_MESSAGE = b"imw warehouse key fingerprint v1"
"""The fingerprint is an HMAC of this fixed message: it identifies the key without revealing it
(nobody can compute it, or the key, from pseudonyms)."""


class KeyMismatchError(RuntimeError):
    """The key differs from the one the build database was pseudonymised with."""


def fingerprint(key: bytes) -> str:
    return hmac.new(key, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def recorded_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    # fetchall, not fetchone: a half-read result blocks `register` on this connection.
    rows = con.execute(
        "SELECT fingerprint FROM raw.warehouse_key ORDER BY recorded_at DESC LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


def check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Refuse a key other than the one the raw layer was built with; remember a first key.

    A different key silently splits history: every re-delivered id gets a new pseudonym, and a
    correct delivery is rejected for references that "do not exist". Changing the key takes
    `imw rekey`, which re-pseudonymises the raw layer from the archived deliveries.
    """
    known = recorded_fingerprint(con)
    mine = fingerprint(key)
    if known is None:
        con.execute("INSERT INTO raw.warehouse_key VALUES (?, current_timestamp)", [mine])
    elif known != mine:
        raise KeyMismatchError(
            "IMW_PSEUDONYM_KEY is not the key this warehouse was built with (its fingerprint "
            f"{mine[:12]}… differs from the recorded {known[:12]}…). Use the original key; to "
            "change the key on purpose, run `imw rekey --confirm` with the new key, which "
            "re-pseudonymises the raw layer from the archived deliveries."
        )
