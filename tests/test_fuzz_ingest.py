"""Fuzzing the ingest with corrupted `tiny` files (helpers and checks: `tests/fuzzing.py`).

`make test` runs a small, fixed-seed budget (FUZZ_CASES, default 20, about a minute on an idle
2-core machine); `make fuzz` runs 1,000 cases and prints the counts. Every case must end with
0 escapes, 0 conservation failures, 0 leaks and 0 formulas.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fuzzing import KINDS, ODD_VALUES, Mutation, Tally, build_corpus, run_case

CASES = int(os.environ.get("FUZZ_CASES", "20"))
SEED = int(os.environ.get("FUZZ_SEED", "20261202"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("fuzz-corpus"))


def test_no_corrupted_delivery_escapes_leaks_or_loses_rows(corpus, tmp_path) -> None:
    tally = Tally()
    mutations = st.builds(
        Mutation,
        file=st.sampled_from(sorted(corpus.files)),
        kind=st.sampled_from(KINDS),
        row=st.floats(min_value=0.0, max_value=0.999),
        column=st.integers(min_value=0, max_value=20),
        value=st.sampled_from(ODD_VALUES),
    )

    @seed(SEED)
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(m=mutations)
    def one_case(m: Mutation) -> None:
        run_case(corpus, m, tmp_path / "case", tally)
        if tally.cases % 100 == 0:  # progress of long runs (`make fuzz`)
            print(tally.summary(), flush=True)

    one_case()
    print("\n" + tally.summary())
    # Hypothesis explores the space; a failing case is counted, not raised, so that `make fuzz`
    # reports every kind of failure in one run.
    assert tally.cases >= CASES
    assert tally.failures == 0, tally.summary() + "\n" + "\n".join(tally.examples)
