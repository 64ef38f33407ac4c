"""Pseudonymisation at the door: HMAC-SHA256 over `provider:id` with the warehouse key.

The HMAC is computed inside DuckDB (`sha256` over blobs, RFC 2104 construction) so millions of ids
are hashed in bulk without a Python loop; `pseudonym()` is the byte-for-byte reference used for
single values (reports) and in tests. The key lives only in session variables of the connection,
never in a table, view or macro that DuckDB persists.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

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
    return hmac.new(key, message(provider, local_id), hashlib.sha256).hexdigest()


def install(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Make `imw_pseudonym(provider, id)` available on this connection only."""
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
