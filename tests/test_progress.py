"""Progress lines on long commands (#12, item 3): one line per stage with counts and elapsed
time, rich colours only on a terminal, nothing with --quiet; a real `imw build` is read."""

from __future__ import annotations

import io
import re

import dagster as dg
from tiny_world import TinyWorld

from cli.main import main
from contract.spec import EXTRACTS
from core import progress
from ingest.readers import parse_file_name
from orchestration.assets import DbtCounter

LINE = re.compile(r"^\[ *(?P<s>[0-9]+\.[0-9]) s\] (?P<stage>[a-z ]{10}) (?P<text>.*)$")


def test_plain_lines_without_a_terminal_and_colour_with_one():
    plain = io.StringIO()
    with progress.reporting(stream=plain):
        progress.report("ingest", "files 3/10 · 1,234 rows loaded")
    (line,) = plain.getvalue().splitlines()
    match = LINE.match(line)
    assert (
        match
        and match["stage"] == "ingest    "
        and match["text"] == ("files 3/10 · 1,234 rows loaded")
    )
    assert "\x1b[" not in plain.getvalue()  # no escape codes in logs and CI

    tty = io.StringIO()
    sink = progress.ProgressSink(tty, force_terminal=True)
    sink.line("dbt", "models 1/2")
    assert "\x1b[" in tty.getvalue() and "models 1/2" in tty.getvalue()


def test_quiet_and_no_sink_report_nothing(capsys):
    with progress.reporting(quiet=True):
        progress.report("ingest", "files 1/1")
    progress.report("ingest", "outside any command (a daemon run)")
    assert capsys.readouterr() == ("", "")


def test_dbt_counter_counts_models_and_tests_as_they_finish():
    out = io.StringIO()
    counter = DbtCounter(nodes=3, tests=2)
    counter.throttle = progress.Throttle(0)  # every event reported
    with progress.reporting(stream=out):
        counter.count(dg.Output(None, output_name="a"))
        counter.count(dg.AssetCheckResult(passed=False, asset_key="a", check_name="t1"))
        counter.count("a log line, not a node")  # ignored: neither model nor test
        counter.count(dg.Output(None, output_name="b"))
        counter.flush()
    texts = [LINE.match(x)["text"] for x in out.getvalue().splitlines()]
    assert texts == [
        "models 1/3 · tests 0/2",
        "models 1/3 · tests 1/2 (1 failed)",
        "models 2/3 · tests 1/2 (1 failed)",
        "models 2/3 · tests 1/2 (1 failed) · done",
    ]


def test_generate_reports_every_extract_and_quiet_prints_nothing(tmp_path, capsys):
    assert main(["generate", "--scale", "tiny", "--out", str(tmp_path / "a"), "--seed", "3"]) == 0
    err = capsys.readouterr().err.splitlines()
    stages = [LINE.match(x)["stage"].strip() for x in err]
    # A first line, one per extract written (8 provider extracts + the authority's 5, contract
    # 1.1 added meldepflichten: 13), done.
    assert stages[0] == "generate" and stages[-1] == "done"
    assert len(stages) == 1 + len(EXTRACTS) + 1 == 15
    assert main(["generate", "--scale", "tiny", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_imw_build_prints_one_line_per_stage_with_counts(tiny_world: TinyWorld):
    """The shared tiny world's `imw build`, run as a subprocess without a terminal."""
    files = tiny_world.files
    lines = [LINE.match(x) for x in tiny_world.stderr.splitlines() if LINE.match(x)]
    stages = [m["stage"].strip() for m in lines]
    # In order: the build line, ingest, dbt, the mart gate, publish, the report, the summary.
    order = ["build", "ingest", "dbt", "mart gate", "publish", "report", "done"]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == order
    ingest = [m["text"] for m in lines if m["stage"].strip() == "ingest"]
    # one file is refused before it is read: REJECTED_FILE, whose name no extract of the
    # contract has
    assert ingest[0] == f"files 0/{files} · 1 refused unread"
    assert ingest[-1].startswith(f"files {files}/{files} ")
    dbt = [m["text"] for m in lines if m["stage"].strip() == "dbt"]
    # the last line says whose rows the models built by provider rebuilt: the shared world's
    # first build, without a record, builds every model from scratch
    providers = len({parse_file_name(f).provider for f in tiny_world.delivered.iterdir()} - {"08"})
    assert dbt[-1] == f"rows of {providers} of {providers} providers rebuilt (full refresh)"
    final_dbt = dbt[-2]
    n, total = re.search(r"models (\d+)/(\d+)", final_dbt).groups()
    t, t_total = re.search(r"tests (\d+)/(\d+)", final_dbt).groups()
    # the nightly data tests only: the fixture-only ones run in `make test` (docs/data_rules.md)
    assert n == total and t == t_total and int(total) > 60 and int(t_total) > 20
    assert final_dbt.endswith("· done")
    assert [m["text"] for m in lines if m["stage"].strip() == "mart gate"][-1].startswith(
        "passed · 0 failed rules"
    )
    seconds = [float(m["s"]) for m in lines]
    assert seconds == sorted(seconds)  # elapsed time, never going back
    assert lines[-1]["text"].startswith("build published in ")
