"""`core.worker_processes`: the warehouse's worker processes end with the process they work for,
however it ends. A build killed with SIGKILL (an operator's `kill -9`, the kernel's OOM killer)
left its chart renderers (started while dbt ends, waiting through the gate and the publication)
and the mart gate's disclosure workers, with their forkserver, running for good."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

OWNER = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])

if __name__ == "__main__":
    if sys.argv[2] == "charts":  # the report's processes, as the build starts them
        from indicator_report import svg
        svg.start_workers(2)
        pool = svg._STARTED[0][1].result(timeout=60)
    else:  # the disclosure engine's, as the mart gate's audit starts them
        from disclosure import engine
        pool = engine._pool(2)
    for future in [pool.submit(os.getpid) for _ in range(4)]:
        future.result(timeout=60)  # both processes started, idle now
    print(*pool._processes, flush=True)  # CPython's table of the pool's processes
    os.kill(os.getpid(), signal.SIGKILL)  # no exit handler runs, no pool is shut down
"""


def _alive(pids: list[int]) -> list[int]:
    return [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]


@pytest.mark.parametrize("pool", ["charts", "disclosure"])
def test_worker_processes_end_when_the_process_they_work_for_is_killed(tmp_path, pool):
    script, out, err = tmp_path / "owner.py", tmp_path / "out.txt", tmp_path / "err.txt"
    script.write_text(OWNER)
    # into files, not pipes: processes left behind would hold a pipe open, and the test wait
    with out.open("w") as stdout, err.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, str(script), str(Path(__file__).parents[1]), pool],
            stdout=stdout, stderr=stderr, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == -9, err.read_text()[-2000:]  # killed, as it killed itself
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) == 2  # both of the pool's processes
    deadline = time.monotonic() + 20
    alive = _alive(workers)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = _alive(workers)
    for pid in alive:  # not left to the machine when the test fails
        psutil.Process(pid).kill()
    assert alive == [], f"{pool} processes {alive} outlived the process they worked for"
