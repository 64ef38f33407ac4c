"""One build at a time per warehouse home, and no build that dies unnoticed.

- **Home lock.** `$IMW_HOME/.build.lock` is held (`fcntl.flock`, exclusive) for the whole of a
  build, whoever starts it: `imw build` takes it before the run and fails at once (exit 1) when
  another build holds it, naming that build (pid, host, start, trigger — written into the lock
  file by its holder); runs started by the daemon (schedule, sensor, UI) wait for it, i.e. queue
  behind. The kernel releases the lock when its process ends, however it ends, so a killed build
  never leaves a stale lock. Within one process the lock is re-entrant (the CLI holds it, the
  run's resource finds it held).
- **Start markers.** Every build writes `logs/running/<run_id>.json` (pid, host, start, trigger,
  log) when it starts; saving its final record removes the marker. A marker whose process is gone
  is a build that died (kill -9, OOM, power): `imw status` shows it as FAILED ("process died"),
  and the next build writes its FAILED record into `logs/builds.jsonl` and the operator report
  (`reconcile_dead_builds`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings

LOCK_NAME = ".build.lock"
RUNNING_DIR = "running"
PROCESS_DIED = "process died"
_HELD: dict[Path, int] = {}
"""Locks this process holds: path → file descriptor (re-entrancy within one process)."""


class BuildRunning(RuntimeError):
    """Another build holds the home lock."""


@dataclass(frozen=True)
class BuildMarker:
    run_id: str
    pid: int
    host: str
    started_at: str
    trigger: str
    log: str | None = None

    def describe(self) -> str:
        return (
            f"run {self.run_id} (pid {self.pid} on {self.host}, started {self.started_at[:19]} "
            f"UTC, trigger {self.trigger})"
        )


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


def _holder_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "an unknown build"
    return text or "a build that has not said who it is yet"


@contextmanager
def home_lock(
    settings: Settings,
    holder: BuildMarker,
    *,
    wait: bool = False,
    on_wait: Callable[[str], None] | None = None,
    poll_seconds: float = 2.0,
) -> Iterator[None]:
    """Hold the home's build lock for the duration; `wait=False` raises `BuildRunning` at once."""
    path = lock_path(settings)
    if path in _HELD:  # this process holds it already (the CLI around its in-process run)
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                running = _holder_text(path)
                if not wait:
                    raise BuildRunning(
                        f"another build is running on {settings.home}: {running}"
                    ) from None
                if on_wait is not None and not told:
                    on_wait(f"waiting for the running build to finish: {running}")
                    told = True
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.describe().encode("utf-8"), 0)
        _HELD[path] = fd
        try:
            yield
        finally:
            del _HELD[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(settings: Settings) -> str | None:
    """Who holds the home lock (text), or None when no build runs. Never blocks."""
    path = lock_path(settings)
    if path in _HELD:
        return _holder_text(path)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _holder_text(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def new_marker(run_id: str, trigger: str, log: Path | None = None) -> BuildMarker:
    return BuildMarker(
        run_id=run_id,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=datetime.now(UTC).isoformat(),
        trigger=trigger,
        log=str(log) if log else None,
    )


def _running_dir(settings: Settings) -> Path:
    return settings.logs_dir / RUNNING_DIR


def write_marker(settings: Settings, marker: BuildMarker) -> Path:
    """The record at start: written (and fsynced) before the build does anything else."""
    folder = _running_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{marker.run_id}.json"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(asdict(marker), fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def remove_marker(settings: Settings, run_id: str) -> None:
    (_running_dir(settings) / f"{run_id}.json").unlink(missing_ok=True)


def markers(settings: Settings) -> list[BuildMarker]:
    folder = _running_dir(settings)
    if not folder.exists():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            out.append(BuildMarker(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # a marker cut short by a crash while it was written: no start happened
    return out


def process_alive(marker: BuildMarker) -> bool:
    """False only when the process is known to be gone (same host, no such pid)."""
    if marker.host != socket.gethostname():
        return True
    try:
        os.kill(marker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_markers(settings: Settings) -> list[BuildMarker]:
    """Builds that started and whose process is gone without a final record."""
    return [m for m in markers(settings) if not process_alive(m)]


def reconcile_dead_builds(settings: Settings) -> list[BuildMarker]:
    """Write the FAILED record of every build whose process died; returns those builds."""
    from reports.build_record import died_record, save_record

    dead = dead_markers(settings)
    for marker in dead:
        save_record(settings, died_record(marker))
    return dead
