"""The Great Expectations runtime both gates share: one ephemeral context per process (in-memory
stores, no analytics, no progress bars), each expectation's configuration built and the batch
filtered by each row condition once per validation (`kept_within_validation`), releasing a
validated frame, telling a broken gate (an
expectation that raised or returned nothing usable) from a data failure, and the one Data Docs
writer.

GX 1.x validates pandas frames here (its SQL datasources cannot read DuckDB; see the README), so
each gate turns its polars frame into pandas and validates a whole-dataframe batch.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.collector import long_lived, uncollected

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
}
"""What a gate needs of an expectation that found rows: every row position (`validate`)."""
SCREEN_FORMAT: dict[str, Any] = {"result_format": "BASIC"}
"""What is enough for one that found none: its counts. GX's COMPLETE results cost about 40 % of
a validation more (the mart gate on `tiny`: 1.7 against 3.0 s, 2026-12-03)."""
DATASOURCE = "gates"
RESULT_KEYS_WITH_ROWS = (
    "unexpected_list",
    "unexpected_index_list",
    "partial_unexpected_index_list",
    "unexpected_index_query",
    "unexpected_rows",
)
"""Keys of an expectation result that hold row positions or whole rows: stripped before a result
is kept for Data Docs."""


class BrokenGateError(RuntimeError):
    """The gate could not check what it must: no verdict may be drawn from this run."""


@functools.cache
def imported() -> None:
    """Import Great Expectations (what the gates use of it), once per process, with the
    collector switched off (`core.collector.uncollected`): 0.87 → 0.76 s after a build's
    modules. Its ≈ 235,000 objects are frozen only where the caller knows the process holds
    nothing else it will let go of (`imported_and_frozen`)."""
    with uncollected():
        import great_expectations
        import great_expectations.expectations  # noqa: F401
        from great_expectations.execution_engine import pandas_execution_engine  # noqa: F401


@functools.cache
def imported_and_frozen() -> None:
    """`imported()`, then everything the process holds frozen (`core.collector.long_lived`),
    once per process: for the ingest, before it reads a file, when the process holds nothing it
    will let go of. A process that ingests again and again (the clerks' check service, one
    ingest per upload) freezes at its first ingest only, not what it holds at every one."""
    with long_lived():
        imported()


def new_context() -> gx.data_context.EphemeralDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@functools.cache
def context() -> gx.data_context.EphemeralDataContext:
    imported()
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch under 1 GB (md5 over pandas' hash of every cell), and
    # Batch.validate loads the batch twice: 40 % of the gate's time at 4.5 M rows, for a batch
    # marker nothing reads. Switched off by GX's own threshold (absent name: merely slower).
    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0
    ctx = new_context()
    ctx.data_sources.add_pandas(DATASOURCE)
    return ctx


def release_batch() -> None:
    """Let go of the frame. GX's datasource keeps one execution engine, which holds the last
    pandas frame of every asset and every metric computed on it (boolean masks over all rows)
    until the next run: a build would keep a pandas copy of all 12 extracts alive."""
    engine = context().data_sources.get(DATASOURCE).get_execution_engine()
    engine.batch_manager.batch_data_cache.clear()
    engine.batch_manager.reset_batch_cache()
    metric_cache = getattr(engine, "_metric_cache", None)
    if metric_cache is not None:
        metric_cache.clear()


def validate(batch: Any, suite: gx.ExpectationSuite) -> ExpectationSuiteValidationResult:
    """`suite` on `batch` with the results a gate reads: every expectation first with its counts
    only (SCREEN_FORMAT), then each one that found rows — or gave no count, or raised — again
    with every row position (RESULT_FORMAT), its result replacing the first. An expectation
    that found no row gets the empty list of positions COMPLETE would have given it; so the
    result is the one a COMPLETE validation returns, at the cost of one for the failures."""
    with kept_within_validation():
        result = batch.validate(suite, result_format=SCREEN_FORMAT)
    for i, r in enumerate(result.results):
        count = r.result.get("unexpected_count")
        if count == 0 and r.success and raised_message(r.exception_info) is None:
            r.result["unexpected_index_list"] = []
            r.result["partial_unexpected_index_list"] = []
            continue
        expectation = next(e for e in suite.expectations if e.id == r.expectation_config.id)
        with kept_within_validation():
            result.results[i] = batch.validate(expectation, result_format=RESULT_FORMAT)
    return result


_KEPT = threading.local()
"""Inside `kept_within_validation` on this thread: `_KEPT.configurations`, each expectation's
configuration built so far (by `id`, with the expectation: an id is reused only after its
object is gone); `_KEPT.filtered`, the rows of each batch frame under each row condition
filtered so far (by the frame's `id` and the condition, with the frame)."""


@contextmanager
def kept_within_validation() -> Iterator[None]:
    """Inside, GX builds an expectation's `configuration` once, not at every look-up, and
    filters a batch by a row condition once, not for every metric of every expectation that
    names it.

    - GX 1.x builds `Expectation.configuration` anew each time it is read (pydantic's `.dict()`
      of the expectation and a new `ExpectationConfiguration`), and reads it again and again
      while it validates: 33,352 times in a `bw` ingest's 32 validations, 6.6 of the extract
      gate's 19.2 s (cProfile, 2026-12-06). Within one `Batch.validate` the expectations do not
      change, so the first one built serves the rest of that call; the one place GX changes a
      configuration, it deep-copies it first.
    - GX's pandas engine runs `DataFrame.query` for every metric of an expectation with a row
      condition (its row count, its column types, its unexpected rows, …), and expectations
      share conditions: 117 filters of 17 distinct ones in a `bw` correction's mart gate, 172 of
      36 in a `bw` ingest's extract gate. A filter is a pure function of the frame and the
      condition, and no metric writes into the frame it is given, so the first filtered frame
      serves the rest of that call. Conditions are told apart by their full serialised form
      (column, operator, every parameter with its type), not by GX's `repr`, which prints
      `1` and `"1"` alike.

    Outside (and on other threads) both are GX's own; where GX lacks what is replaced (another
    GX), that part is GX's own everywhere."""
    _install_kept_configuration()
    _install_kept_row_filters()
    outer = getattr(_KEPT, "configurations", None), getattr(_KEPT, "filtered", None)
    _KEPT.configurations = {} if outer[0] is None else outer[0]
    _KEPT.filtered = {} if outer[1] is None else outer[1]
    try:
        yield
    finally:
        _KEPT.configurations, _KEPT.filtered = outer


@functools.cache
def _install_kept_configuration() -> None:
    """Replace `Expectation.configuration` once per process by a property that answers from
    `_KEPT.configurations` inside `kept_within_validation` and is GX's own elsewhere."""
    from great_expectations.expectations.expectation import Expectation

    built = Expectation.__dict__.get("configuration")
    if not isinstance(built, property) or built.fget is None:
        return  # another GX: its own property everywhere
    build = built.fget

    def configuration(self: Any) -> Any:
        kept = getattr(_KEPT, "configurations", None)
        if kept is None:
            return build(self)
        found = kept.get(id(self))
        if found is None or found[0] is not self:
            found = (self, build(self))
            kept[id(self)] = found
        return found[1]

    configuration.__doc__ = build.__doc__
    Expectation.configuration = property(configuration, doc=built.__doc__)  # type: ignore[method-assign]


@functools.cache
def _install_kept_row_filters() -> None:
    """Wrap `PandasExecutionEngine._apply_row_condition_filter` once per process: inside
    `kept_within_validation` it answers from `_KEPT.filtered`, elsewhere it is GX's own."""
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )

    apply = PandasExecutionEngine.__dict__.get("_apply_row_condition_filter")
    if not callable(apply):
        return  # another GX: its own filter everywhere

    def _apply_row_condition_filter(
        self: Any, data: Any, row_condition: Any, domain_kwargs: dict
    ) -> Any:
        kept = getattr(_KEPT, "filtered", None)
        condition = None if kept is None else condition_key(row_condition, domain_kwargs)
        if condition is None:
            return apply(self, data, row_condition, domain_kwargs)
        key = (id(data), condition)
        found = kept.get(key)
        if found is None or found[0] is not data:
            found = (data, apply(self, data, row_condition, domain_kwargs))
            kept[key] = found
        return found[1]

    _apply_row_condition_filter.__doc__ = apply.__doc__
    PandasExecutionEngine._apply_row_condition_filter = _apply_row_condition_filter  # type: ignore[method-assign]


def condition_key(row_condition: Any, domain_kwargs: Mapping[str, Any]) -> tuple | None:
    """What decides a row condition's filter: a GX condition's full serialised form (its
    `.dict()` as sorted JSON, so `1` and `"1"` differ) or a legacy string with its parser; None
    for any other shape (never kept)."""
    from great_expectations.expectations.row_conditions import (
        Condition,
        deserialize_row_condition,
    )

    try:
        condition = (
            deserialize_row_condition(row_condition)
            if isinstance(row_condition, dict)
            else row_condition
        )
        if isinstance(condition, Condition):
            return ("condition", json.dumps(condition.dict(), sort_keys=True))
    except (TypeError, ValueError):  # not serialisable or not a condition: GX decides
        return None
    if isinstance(condition, str):
        return ("text", condition, domain_kwargs.get("condition_parser"))
    return None


def check_ran(result: ExpectationSuiteValidationResult, suite: gx.ExpectationSuite) -> None:
    """Raise unless every expectation of the suite ran and returned row positions."""
    expected = {e.id for e in suite.expectations}
    seen = {r.expectation_config.id for r in result.results}
    if seen != expected or len(result.results) != len(expected):
        raise BrokenGateError(
            f"{suite.name}: {len(result.results)} results for {len(expected)} expectations"
        )
    for r in result.results:
        raised = raised_message(r.exception_info)
        if raised is not None:
            raise BrokenGateError(f"{describe(r)} raised: {raised}")
        count = r.result.get("unexpected_count")
        rows = r.result.get("unexpected_index_list")
        if r.success is None or count is None or rows is None or len(rows) != count:
            raise BrokenGateError(f"{describe(r)} returned no usable result")


def raised_message(info: Any) -> str | None:
    """The exception message if the expectation raised, else None (both GX shapes)."""
    if not info:
        return None
    if not isinstance(info, Mapping):
        return f"unreadable exception_info {info!r}"
    if "raised_exception" in info:
        if info["raised_exception"]:
            return str(info.get("exception_message") or "unknown error")
        return None
    messages = []
    for metric, detail in info.items():
        if not isinstance(detail, Mapping) or "raised_exception" not in detail:
            return f"unreadable exception_info for {metric}"
        if detail["raised_exception"]:
            messages.append(str(detail.get("exception_message") or "unknown error"))
    return "; ".join(messages) or None


def describe(r: ExpectationValidationResult) -> str:
    config = r.expectation_config
    meta = config.meta or {}
    return (
        f"expectation {config.type} (rule {meta.get('rule')!r}, column {meta.get('column')!r},"
        f" {_domain(config.kwargs)})"
    )


def _domain(kwargs: Mapping[str, Any]) -> str:
    for key in ("column", "column_list"):
        if key in kwargs:
            return f"{key}={kwargs[key]}"
    return f"column_A={kwargs.get('column_A')}, column_B={kwargs.get('column_B')}"


# --------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------
def write_data_docs(
    validations: Iterable[tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult, str]],
    folder: str | Path,
    *,
    site_name: str,
    run_name: str,
) -> Path:
    """Write an offline HTML summary of (suite, validation result, batch id) triples to `folder`
    and return its `index.html`: an index of the suites and one page per suite
    (`validations/<n>_<suite>.html`) with each expectation's rule text, column, result, counts
    and the (already stripped) unexpected examples.

    GX's own Data Docs load every stylesheet and script from public CDNs and show an empty page
    in a network without internet; these pages are Jinja2 with inline CSS and no script.
    The folder is replaced as a whole (built beside it, then swapped), so it always shows exactly
    these runs. A non-empty folder that is not a Data Docs site is refused rather than deleted.
    The results must already be stripped of row positions and of id values.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not (folder / "index.html").exists():
        raise ValueError(f"{folder} is not empty and holds no Data Docs; refusing to replace it")
    building = folder.with_name(f".{folder.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    (building / "validations").mkdir(parents=True)

    env = _docs_environment()
    run_time = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"
    pages = [
        _docs_page(n, suite, validation, batch_id)
        for n, (suite, validation, batch_id) in enumerate(validations, start=1)
    ]
    context = {"site_name": site_name, "run_name": run_name, "run_time": run_time}
    for page in pages:
        html = env.get_template("docs_suite.html.j2").render(page=page, **context)
        (building / "validations" / page["file"]).write_text(html, encoding="utf-8")
    index = env.get_template("docs_index.html.j2").render(pages=pages, **context)
    (building / "index.html").write_text(index, encoding="utf-8")

    retired = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if folder.exists():
        folder.rename(retired)
    building.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)
    return folder / "index.html"


@functools.cache
def _docs_environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _docs_page(
    n: int, suite: gx.ExpectationSuite, validation: ExpectationSuiteValidationResult, batch: str
) -> dict[str, Any]:
    rows = []
    for r in validation.results:
        config = r.expectation_config
        meta = config.meta or {}
        kwargs = config.kwargs or {}
        result = r.result or {}
        raised = bool((r.exception_info or {}).get("raised_exception"))
        text = " — ".join(t for t in (meta.get("text_de"), meta.get("text_en")) if t)
        rows.append(
            {
                "text": text or config.description or config.type,
                "column": kwargs.get("column") or ", ".join(kwargs.get("column_list") or []),
                "type": config.type,
                "rule": meta.get("rule", ""),
                "verdict": "Fehler / error" if raised else ("erfüllt / passed" if r.success
                                                            else "verletzt / failed"),
                "css": "err" if raised else ("pass" if r.success else "fail"),
                "element_count": result.get("element_count", ""),
                "unexpected": result.get("unexpected_count", ""),
                "examples": [str(v) for v in (result.get("partial_unexpected_list") or [])][:10],
                "exception": (r.exception_info or {}).get("exception_message") if raised else "",
            }
        )  # fmt: skip
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in suite.name)
    return {
        "file": f"{n:03d}_{safe}.html",
        "suite": suite.name,
        "batch": batch,
        "success": bool(validation.success),
        "expectations": rows,
        "evaluated": len(rows),
        "passed": sum(r["css"] == "pass" for r in rows),
        "failed": sum(r["css"] == "fail" for r in rows),
        "errors": sum(r["css"] == "err" for r in rows),
    }
