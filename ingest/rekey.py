"""`imw rekey`: change the pseudonymisation key on purpose, without splitting history.

Pseudonyms are one-way (HMAC), so they cannot be converted from one key to another. What can be
done is what the first time did: the deliveries as delivered are kept (`archive/`, `quarantine/`,
recorded in `raw.deliveries.stored_as`), so the raw layer is rebuilt from them with the new key,
run by run in the original order — every verdict, history snapshot and quarantined row comes back,
under new pseudonyms. The old build database is kept beside the new one until the operator deletes
it; dbt's schemas are rebuilt by the next `imw build`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.database import connect
from ingest.load import Folders, ingest_landing
from ingest.pseudonymise import fingerprint, recorded_fingerprint


class RekeyError(RuntimeError):
    """The raw layer cannot be rebuilt (nothing was changed)."""


@dataclass
class RekeyResult:
    backup: Path | None
    runs: int = 0
    files: int = 0
    skipped_links: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)


def _deliveries(build_db: Path) -> list[tuple[str, str, datetime]]:
    """(file name, stored_as, received_at) of every processed delivery, in processing order."""
    with connect(build_db, read_only=True) as con:
        return con.execute(
            "SELECT file_name, stored_as, received_at FROM raw.deliveries ORDER BY delivery_id"
        ).fetchall()


def _old_fingerprint(build_db: Path) -> str | None:
    with connect(build_db, read_only=True) as con:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'warehouse_key'"
        ).fetchone()[0]
        return recorded_fingerprint(con) if tables else None


def rekey(home: Path, build_db: Path, archive: Path, quarantine: Path, key: bytes) -> RekeyResult:
    """Rebuild the raw layer of `build_db` from the kept deliveries with `key`.

    The caller holds the home's build lock. Raises `RekeyError` before changing anything when
    the database is already pseudonymised with this key or a kept delivery is missing.
    """
    if not build_db.exists():
        raise RekeyError(f"no build database at {build_db}: nothing to re-key")
    if _old_fingerprint(build_db) == fingerprint(key):
        raise RekeyError("the build database is already pseudonymised with this key")
    deliveries = _deliveries(build_db)
    missing = [s for _, s, _ in deliveries if s and not (home / s).is_file()]
    if missing:
        raise RekeyError(
            f"{len(missing)} kept deliveries are missing (e.g. {missing[0]}); re-keying would "
            "lose them from the history. Restore them from a backup first."
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    backup = build_db.with_name(f"{build_db.stem}.before-rekey-{stamp}{build_db.suffix}")
    os.replace(build_db, backup)
    wal = build_db.with_name(build_db.name + ".wal")
    if wal.exists():
        os.replace(wal, backup.with_name(backup.name + ".wal"))
    result = RekeyResult(backup=backup)
    runs: dict[datetime, list[tuple[str, str]]] = {}
    for name, stored, received in deliveries:
        runs.setdefault(received, []).append((name, stored))
    try:
        for received, files in runs.items():
            _replay(home, build_db, archive, quarantine, key, received, files, result)
    except BaseException:
        # Put the old database back: a half-rebuilt raw layer must never stay in place.
        build_db.unlink(missing_ok=True)
        build_db.with_name(build_db.name + ".wal").unlink(missing_ok=True)
        os.replace(backup, build_db)
        raise
    return result


def _replay(
    home: Path, build_db: Path, archive: Path, quarantine: Path, key: bytes,
    received: datetime, files: list[tuple[str, str]], result: RekeyResult,
) -> None:  # fmt: skip
    """One original run again: copies of its files, ingested as then, dated as then."""
    with tempfile.TemporaryDirectory(prefix="imw-rekey-", dir=home) as tmp:
        copies = []
        for i, (name, stored) in enumerate(files):
            if not stored:  # a refused link: no bytes were ever kept
                result.skipped_links += 1
                continue
            copy = Path(tmp) / str(i) / name
            copy.parent.mkdir()
            shutil.copyfile(home / stored, copy)
            copies.append(copy)
        if not copies:
            return
        with connect(build_db) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'raw' AND table_name = 'deliveries'"
            ).fetchone()[0]
            first = (
                con.execute(
                    "SELECT coalesce(max(delivery_id), 0) + 1 FROM raw.deliveries"
                ).fetchone()[0]
                if exists
                else 1
            )
        # Kept files are moved onto their identical originals (`_move` drops the copy), so
        # `stored_as` comes out as before.
        outcome = ingest_landing(
            build_db, Folders(Path(tmp), archive, quarantine, home), key, copies
        )
        with connect(build_db) as con:
            con.execute(
                "UPDATE raw.deliveries SET received_at = ? WHERE delivery_id >= ?",
                [received, first],
            )
        result.runs += 1
        result.files += len(copies)
        for v in outcome.verdicts:
            result.verdicts[v.verdict] = result.verdicts.get(v.verdict, 0) + 1
