"""When is the landing folder ready for a build? The logic behind the landing sensor.

A municipality's upload may still be running when the sensor looks. A file counts as *settled*
once its size and modification time are the same as at the previous look; only then is it
hashed (once — the hash is kept in the cursor while size and mtime stay put). The sensor asks
for a build when every waiting file has settled; the run key is the hash of the set of
(file name, sha256), so the same files never trigger twice, and a changed or added file makes a
new set. Files the ingest skips (hidden, `.part`, `.tmp`) are not watched either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from core.files import sha256_of
from ingest.load import landing_files


@dataclass(frozen=True)
class Seen:
    size: int
    mtime_ns: int
    sha256: str | None = None


@dataclass(frozen=True)
class Decision:
    run_key: str | None
    """Set when every waiting file has settled: ask for a build with this key."""
    cursor: str
    reason: str
    files: tuple[str, ...] = ()


def parse_cursor(cursor: str | None) -> dict[str, Seen]:
    if not cursor:
        return {}
    return {name: Seen(*values) for name, values in json.loads(cursor).items()}


def dump_cursor(seen: dict[str, Seen]) -> str:
    return json.dumps(
        {n: [s.size, s.mtime_ns, s.sha256] for n, s in sorted(seen.items())}, sort_keys=True
    )


def run_key_of(hashes: dict[str, str]) -> str:
    payload = "\n".join(f"{name}\t{sha}" for name, sha in sorted(hashes.items()))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def decide(
    landing: Path, cursor: str | None, hash_file: Callable[[Path], str] = sha256_of
) -> Decision:
    """Look at the landing folder once; compare with the previous look (the cursor)."""
    if not landing.is_dir():
        return Decision(None, dump_cursor({}), f"no landing folder {landing}")
    previous = parse_cursor(cursor)
    now: dict[str, Seen] = {}
    growing = []
    for path in landing_files(landing):
        try:
            stat = path.lstat()  # a link is not followed: the build refuses it unread
        except FileNotFoundError:  # moved away between listing and stat (a build took it)
            continue
        before = previous.get(path.name)
        settled = before is not None and (before.size, before.mtime_ns) == (
            stat.st_size,
            stat.st_mtime_ns,
        )
        if not settled:
            growing.append(path.name)
            now[path.name] = Seen(stat.st_size, stat.st_mtime_ns)
        else:
            regular = S_ISREG(stat.st_mode)
            sha = before.sha256 or (hash_file(path) if regular else f"not-a-file:{path.name}")
            now[path.name] = Seen(stat.st_size, stat.st_mtime_ns, sha)
    new_cursor = dump_cursor(now)
    if not now:
        return Decision(None, new_cursor, "landing folder is empty")
    if growing:
        return Decision(
            None,
            new_cursor,
            f"waiting for {len(growing)} of {len(now)} files to stop changing: "
            + ", ".join(sorted(growing)[:5])
            + (" …" if len(growing) > 5 else ""),
        )
    hashes = {name: seen.sha256 for name, seen in now.items() if seen.sha256}
    return Decision(
        run_key_of(hashes), new_cursor, f"{len(hashes)} settled files", tuple(sorted(hashes))
    )


# --------------------------------------------------------------------------------------------
# Retrying a set of files whose build failed
# --------------------------------------------------------------------------------------------
RETRY_BACKOFF_S = (60, 300, 1800)
"""Wait before retry 1, 2, 3 after the previous attempt ended; after the last, give up (N = 3)."""


@dataclass(frozen=True)
class Attempt:
    """A finished or running build of one set of landing files (what the run history says)."""

    run_id: str
    ok: bool | None
    """True succeeded, False failed, None still queued or running."""
    ended_at: float | None = None
    """Unix time the run ended."""
    error: str | None = None
    file: str | None = None
    """The delivery file the failure names, if any (the build record's `file`)."""


@dataclass(frozen=True)
class RetryDecision:
    run_key: str | None
    """Ask for a build with this key (first attempt: the file-set key; retries: `…-retry-n`)."""
    reason: str
    attempt: int = 0
    """0 for the first build of the set, n for the n-th retry."""


def retry_decision(
    fileset_key: str,
    files: tuple[str, ...],
    attempts: list[Attempt],
    now: float,
    backoff: tuple[int, ...] = RETRY_BACKOFF_S,
) -> RetryDecision:
    """Whether to build these (settled) files now, given the earlier builds of the same set.

    A failure for a reason outside the files (no key, a lock, a crash, a killed process) is
    retried up to `len(backoff)` times, each after its wait. A failure that names one of the
    files is the data's: retrying the same bytes cannot help, so the set waits until a file
    changes (which makes a new set and a new key).
    """
    if not attempts:
        return RetryDecision(fileset_key, f"{len(files)} settled files: first build")
    if any(a.ok is None for a in attempts):
        return RetryDecision(None, "a build of these files is queued or running")
    if any(a.ok for a in attempts):
        return RetryDecision(None, "these files were built already")
    last = max(attempts, key=lambda a: a.ended_at or 0)
    cause = last.error or "unknown cause"
    if last.file and last.file in files:
        return RetryDecision(
            None,
            f"the build of these files failed on {last.file} ({cause}); not retried until "
            "the file changes",
        )
    retries_done = len(attempts) - 1
    if retries_done >= len(backoff):
        return RetryDecision(
            None,
            f"gave up after {retries_done} retries (last: {cause}); the files stay in landing "
            "until one changes, the nightly schedule runs, or a build is launched by hand",
        )
    wait = backoff[retries_done]
    due = (last.ended_at or now) + wait
    n = retries_done + 1
    if now < due:
        return RetryDecision(
            None,
            f"build failed ({cause}); retry {n} of {len(backoff)} in {due - now:.0f} s",
        )
    return RetryDecision(
        f"{fileset_key}-retry-{n}",
        f"retry {n} of {len(backoff)} after a failure outside the files ({cause})",
        attempt=n,
    )
