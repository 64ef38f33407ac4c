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
