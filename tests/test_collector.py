"""`core.collector`: inside `long_lived` and `uncollected` no collection runs and the collector
is on again afterwards exactly when it was on before; on leaving `long_lived` what exists is
frozen (`collect=True` frees the garbage made inside first), on leaving `uncollected` nothing
is."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from core.collector import long_lived, uncollected


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    """Each test leaves this worker's collector as it found it: on, nothing frozen by the test."""
    enabled = gc.isenabled()
    gc.collect()
    frozen = gc.get_freeze_count()
    yield
    gc.unfreeze()
    if frozen:  # what was frozen before the test, frozen again (all of it: unfreeze is global)
        gc.freeze()
    (gc.enable if enabled else gc.disable)()


class Node:
    """A container the collector tracks; two of them pointing at each other are a cycle that
    only the collector can free."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def collections_while(make) -> int:
    """How many collections run while `make()` runs."""
    seen = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        make()
    finally:
        gc.callbacks.remove(count)
    return len(seen)


def make_many() -> list:
    # 100,000 new containers: a young collection every 700 while the collector is on
    return [Node() for _ in range(100_000)]


def test_no_collection_runs_inside_and_the_collector_is_on_again_afterwards():
    gc.enable()
    assert collections_while(make_many) > 0  # the collector on: young collections run
    with long_lived():
        assert not gc.isenabled()
        assert collections_while(make_many) == 0
    assert gc.isenabled()


def test_what_exists_on_leaving_is_frozen():
    gc.enable()
    before = gc.get_freeze_count()
    with long_lived():
        kept = make_many()
    # the 100,000 nodes (and the list) made inside are out of the collector's way now
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_garbage_cycle_made_inside_is_frozen_without_collect_and_freed_with_it():
    gc.enable()
    with long_lived():
        dead = cycle()
    gc.collect()
    assert dead() is not None  # frozen: no collection frees it any more

    with long_lived(collect=True):
        freed = cycle()
    assert freed() is None  # collected before the rest was frozen


def test_nested_the_outer_one_switches_the_collector_back_on():
    gc.enable()
    with long_lived():
        with long_lived():
            pass
        assert not gc.isenabled()  # still inside the outer one
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_and_an_error_inside_still_restores():
    gc.disable()
    with long_lived():
        pass
    assert not gc.isenabled()
    gc.enable()
    with pytest.raises(RuntimeError, match="inside"), long_lived():
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_uncollected_freezes_nothing_and_its_garbage_is_collected_afterwards():
    gc.enable()
    before = gc.get_freeze_count()
    with uncollected():
        assert not gc.isenabled()
        assert collections_while(make_many) == 0
        dead = cycle()
    assert gc.isenabled()
    assert gc.get_freeze_count() == before  # nothing frozen
    gc.collect()
    assert dead() is None  # an ordinary cycle: collected as usual


def test_the_ingest_freezes_what_the_process_holds_once_not_at_every_ingest():
    """`gx_runtime.imported_and_frozen`: the check service ingests once per upload; what it
    holds at its second ingest (here 100,000 new nodes) is not frozen."""
    from expectations import gx_runtime

    gc.enable()
    gx_runtime.imported_and_frozen.cache_clear()
    gx_runtime.imported_and_frozen()
    assert gc.isenabled()
    first = gc.get_freeze_count()
    assert first > 0  # Great Expectations' modules among what it froze
    held = make_many()
    gx_runtime.imported_and_frozen()
    assert gc.get_freeze_count() == first  # nothing frozen the second time
    assert len(held) == 100_000


def test_dbt_freezes_what_it_holds_when_its_nodes_start_once_wrapped(monkeypatch):
    """`dbt_in_warehouse.frozen_when_nodes_start`: `execute_nodes` runs with what dbt holds
    then frozen, and installing it twice wraps it once."""
    from dbt.task.runnable import GraphRunnableTask

    from orchestration import dbt_in_warehouse

    seen = []

    def execute_nodes(self):  # dbt's own, standing in: what it sees when it starts
        seen.append(gc.get_freeze_count())
        return "results"

    monkeypatch.setattr(GraphRunnableTask, "execute_nodes", execute_nodes)
    dbt_in_warehouse.frozen_when_nodes_start()
    dbt_in_warehouse.frozen_when_nodes_start()  # a second time: not wrapped again
    wrapped = GraphRunnableTask.__dict__["execute_nodes"]
    assert wrapped.__wrapped__ is execute_nodes

    gc.enable()
    gc.unfreeze()
    held = make_many()  # the manifest, standing in
    assert GraphRunnableTask.execute_nodes(object()) == "results"
    assert seen[0] >= len(held)  # frozen before the nodes ran
