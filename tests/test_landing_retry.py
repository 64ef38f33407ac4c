"""The landing sensor's retry decision (#12, item 4), without Dagster: failures outside the
files are retried at most 3 times with growing waits; a failure on a file waits for a change."""

from __future__ import annotations

from ingest.landing_watch import RETRY_BACKOFF_S, Attempt, retry_decision

KEY = "abc123"
FILES = ("faelle_08115003_2026-06-30.csv", "kontakte_08115003_2026-06-30.csv")
T0 = 1_800_000_000.0
NO_KEY = "MissingKeyError: IMW_PSEUDONYM_KEY is not set."


def failed(n: int, ended: float, error: str = NO_KEY, file: str | None = None) -> Attempt:
    return Attempt(run_id=f"run{n}", ok=False, ended_at=ended, error=error, file=file)


def test_first_build_of_a_set_uses_the_set_key():
    decision = retry_decision(KEY, FILES, [], T0)
    assert (decision.run_key, decision.attempt) == (KEY, 0)


def test_a_failure_outside_the_files_is_retried_after_the_backoff():
    assert RETRY_BACKOFF_S == (60, 300, 1800)  # the documented waits: 1, 5, 30 minutes
    attempts = [failed(0, T0)]
    # 59 s after the failure: 1 s left of the 60 s wait.
    early = retry_decision(KEY, FILES, attempts, T0 + 59)
    assert early.run_key is None
    assert early.reason == f"build failed ({NO_KEY}); retry 1 of 3 in 1 s"
    due = retry_decision(KEY, FILES, attempts, T0 + 60)
    assert (due.run_key, due.attempt) == (f"{KEY}-retry-1", 1)
    assert due.reason == f"retry 1 of 3 after a failure outside the files ({NO_KEY})"
    # After the first retry failed too (ended at T0 + 100): the second waits 300 s from then.
    attempts.append(failed(1, T0 + 100, "IOException: Could not set lock on file"))
    assert retry_decision(KEY, FILES, attempts, T0 + 399).run_key is None
    second = retry_decision(KEY, FILES, attempts, T0 + 400)
    assert second.run_key == f"{KEY}-retry-2" and "Could not set lock" in second.reason


def test_gives_up_after_three_retries_and_says_so():
    # The first build and its three retries all failed.
    attempts = [failed(n, T0 + n * 3000) for n in range(4)]
    decision = retry_decision(KEY, FILES, attempts, T0 + 10**6)
    assert decision.run_key is None
    assert decision.reason.startswith(f"gave up after 3 retries (last: {NO_KEY})")


def test_a_failure_on_one_of_the_files_is_not_retried_until_it_changes():
    gate = "GateBrokenError: expectation raised on faelle_08115003_2026-06-30.csv"
    attempts = [failed(0, T0, gate, file=FILES[0])]
    decision = retry_decision(KEY, FILES, attempts, T0 + 10**6)  # however long one waits
    assert decision.run_key is None
    assert decision.reason == (
        f"the build of these files failed on {FILES[0]} ({gate}); not retried until the file "
        "changes"
    )
    # A file of another set named in the failure is no reason to hold this set back.
    other = [failed(0, T0, "x", file="ziele_08111000_2026-06-30.csv")]
    assert retry_decision(KEY, FILES, other, T0 + 60).run_key == f"{KEY}-retry-1"


def test_nothing_while_a_build_runs_and_nothing_after_success():
    running = [Attempt("run0", ok=None)]
    assert retry_decision(KEY, FILES, running, T0).run_key is None
    done = [failed(0, T0), Attempt("run1", ok=True, ended_at=T0 + 70)]
    assert retry_decision(KEY, FILES, done, T0 + 10**6).reason == "these files were built already"


def test_the_sensor_waits_to_retry_a_failed_set_and_says_so(tmp_path):
    """Wiring: a failed run of the same file set (tagged by the sensor) makes the next tick wait
    for the back-off instead of skipping the files for ever."""
    import dagster as dg

    from core.files import sha256_of
    from ingest.landing_watch import run_key_of
    from orchestration.automation import FILESET_TAG, landing_sensor
    from orchestration.definitions import NIGHTLY_BUILD, build_definitions
    from orchestration.resources import WarehouseResource

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / FILES[0]).write_text("fall_id;person_id\n")
    key = run_key_of({FILES[0]: sha256_of(landing / FILES[0])})
    sensor = landing_sensor(build_definitions().resolve_job_def(NIGHTLY_BUILD))
    warehouse = WarehouseResource(home=str(tmp_path / "home"), landing=str(landing))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_run(dg.DagsterRun(NIGHTLY_BUILD, "failed-run", tags={FILESET_TAG: key},
                                       status=dg.DagsterRunStatus.FAILURE))  # fmt: skip

        def tick(cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                              resources={"warehouse": warehouse})  # fmt: skip
            return sensor(context)

        first = tick(None)  # the file is new: waiting for it to settle
        second = tick(first.cursor)
    assert not second.run_requests
    # No build record of that run: the cause is unknown; the first retry waits 60 s.
    message = second.skip_reason.skip_message
    assert message.startswith("build failed (unknown cause); retry 1 of 3 in "), message
