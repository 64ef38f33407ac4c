"""Vega-Lite spec → static SVG (vl-convert: Rust, in-process, no browser and no network), with
the chart's title and description for assistive technology; at once, or in worker processes.

vl-convert renders one chart at a time per process (one JavaScript runtime behind a lock), so a
report of a few hundred charts renders them in a pool of processes (`rendering`): the pages
submit their charts as they build them and read each SVG when a template prints it. Outside
`rendering` a chart renders at once, in this process. Either way the SVG is the same.

**Charts kept between reports.** An SVG is a function of its spec (data included), title and
description, this module's code and vl-convert's version — nothing else. `rendering(…, cache=)`
keeps each SVG in a folder under a SHA-256 key of all of them, and takes a chart whose key it
finds from there instead of rendering it. A spec given with what it is built from (`submit(…,
built_from=)`: the report's builder, its inputs, its code) is keyed by that instead, and built
only when the chart is not kept: a build in which one provider corrected its data
re-renders the charts whose numbers changed. After a report rendered completely, the folder
keeps exactly its charts (older ones are removed). The SVGs hold what the report publishes and
nothing else; a file that cannot be read is rendered again.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import vl_convert as vlc

from core import worker_processes
from core.digests import code_digest
from core.files import TMP_SUFFIX

_POOL: ContextVar[ProcessPoolExecutor | None] = ContextVar("svg_pool", default=None)
_CACHE: ContextVar[_Cache | None] = ContextVar("svg_cache", default=None)
_COUNT: ContextVar[ChartCount | None] = ContextVar("svg_count", default=None)
_RENDERER = code_digest([Path(__file__)], ("vl-convert-python",))
"""What an SVG depends on besides its spec, title and description."""
_GENERATED_ID = re.compile(r'(id="|url\(#)((?:gradient|clip|pattern)_?)(\d+)')
"""The ids vega gives the gradients, clip paths and patterns an SVG defines, and their uses."""


def render(spec: dict, title: str, description: str) -> str:
    """The SVG of a Vega-Lite `spec`, with `title` as its `<title>` and title and description as
    its `aria-label` (role="img")."""
    out = _stable_ids(vlc.vegalite_to_svg(spec, format_locale="de-DE", time_format_locale="de-DE"))
    label = html.escape(f"{title}. {description}", quote=True)
    head, sep, rest = out.partition(">")
    head = head.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return f"{head}{sep}<title>{html.escape(title)}</title>{rest}"


def _stable_ids(svg: str) -> str:
    """vega numbers the gradients (and clip paths, patterns) it defines per process
    (`gradient_0`, `gradient_1`, …): the same chart got another id depending on what its process
    had rendered before, and charts rendered by two processes could share one on a page. They
    are named after the chart instead: its SVG with the numbers left out, hashed, and their
    order in it."""
    found = list(dict.fromkeys(m.group(2) + m.group(3) for m in _GENERATED_ID.finditer(svg)))
    if not found:
        return svg
    digest = hashlib.sha256(_GENERATED_ID.sub(r"\1\2", svg).encode()).hexdigest()[:12]
    names = {old: f"{digest}-{k}" for k, old in enumerate(found)}
    return _GENERATED_ID.sub(
        lambda m: m.group(1) + m.group(2) + names[m.group(2) + m.group(3)], svg
    )


@dataclass
class ChartCount:
    """How many charts a `rendering` was given, how many of them it rendered, and with what."""

    charts: int = 0
    rendered: int = 0
    started_before: bool = False
    """Its processes were started before it (`start_workers`), not by its first chart."""


@dataclass
class _Cache:
    """The SVGs of the charts rendered before, by key; the keys this report used."""

    folder: Path
    used: set[str] = field(default_factory=set)

    def read(self, key: str) -> str | None:
        """The kept SVG; None when there is none, or the file is not a whole SVG (damaged)."""
        try:
            text = (self.folder / f"{key}.svg").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return text if text.startswith("<svg ") and text.endswith("</svg>") else None

    def keep(self, key: str, done: Future[str]) -> None:
        """Write a rendered SVG under its key (a temp file renamed: never half a file)."""
        if done.cancelled() or done.exception() is not None:
            return
        path = self.folder / f"{key}.svg"
        tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
        try:
            tmp.write_text(done.result(), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # not kept (a full disk, another report pruning): rendered next time
            tmp.unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove every file but the SVGs this report used."""
        for path in self.folder.iterdir():
            if path.suffix != ".svg" or path.stem not in self.used:
                path.unlink(missing_ok=True)


def chart_key(spec: dict, title: str, description: str) -> str:
    """SHA-256 of everything a chart's SVG depends on."""
    digest = hashlib.sha256(_RENDERER)
    digest.update(json.dumps([spec, title, description], sort_keys=True).encode())
    return digest.hexdigest()


def built_chart_key(built_from: bytes, title: str, description: str) -> str:
    """`chart_key` of a spec by what it is built from (`built_from`: a digest of the builder, its
    inputs and its code, `indicator_report.charts.Later`) instead of the spec itself."""
    digest = hashlib.sha256(_RENDERER + b"built from " + built_from)
    digest.update(json.dumps([title, description]).encode())
    return digest.hexdigest()


def submit(
    spec: dict | Callable[[], dict],
    title: str,
    description: str,
    *,
    built_from: bytes | None = None,
) -> Future[str]:
    """The SVG to come: kept from before by the enclosing `rendering`'s cache, else rendered by
    its pool, else at once. With `built_from` (what the spec is a function of), `spec` may be a
    function that builds it: called only for a chart not kept."""
    cache, count = _CACHE.get(), _COUNT.get()
    if count is not None:
        count.charts += 1
    if built_from is None and callable(spec):
        spec = spec()
    key = None
    if cache is not None:
        if built_from is None:
            key = chart_key(spec, title, description)  # type: ignore[arg-type]
        else:
            key = built_chart_key(built_from, title, description)
        cache.used.add(key)
        kept = cache.read(key)
        if kept is not None:
            done: Future[str] = Future()
            done.set_result(kept)
            return done
    if count is not None:
        count.rendered += 1
    if callable(spec):
        spec = spec()
    pool = _POOL.get()
    if pool is not None:
        future = pool.submit(render, spec, title, description)
    else:
        future = Future()
        try:
            future.set_result(render(spec, title, description))
        except Exception as exc:  # raised where the SVG is read, as from a worker
            future.set_exception(exc)
    if cache is not None and key is not None:
        future.add_done_callback(lambda f: cache.keep(key, f))
    return future


_STARTED: list[tuple[int, Future[ProcessPoolExecutor]]] = []
"""The pool `start_workers` starts for the next `rendering` (at most one), with its size."""
_STARTED_LOCK = threading.Lock()

_WARM_SPEC = {
    "data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]},
    "mark": "line",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
    },
}
"""A chart of two points: what a worker renders first, so its JavaScript runtime is running."""


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` processes from the forkserver, which imports this module (and vl-convert) once
    for all of them; each ends with this process (`core.worker_processes`)."""
    return worker_processes.pool(workers, __name__)


def _warm() -> None:
    """A worker's first task: vl-convert's runtime started (0.45–0.56 s in a fresh process, its
    first chart; a chart after it takes 0.02–0.2 s)."""
    vlc.vegalite_to_svg(_WARM_SPEC, format_locale="de-DE", time_format_locale="de-DE")


def start_workers(workers: int) -> int:
    """Start, for the next `rendering(workers, …)` of this process, its `workers` processes now,
    each with vl-convert's runtime running, instead of when the report submits its first chart:
    for a caller that knows a report comes and has time to spare before it. Started on a thread
    of its own: the caller does not wait for the forkserver. A `rendering` with another number
    of workers leaves them unused (and ends them); with none to come, they end with this process.
    Returns the number started (0: `workers` <= 1 renders in the report's own process)."""
    if workers <= 1:
        return 0
    ready: Future[ProcessPoolExecutor] = Future()
    with _STARTED_LOCK:
        for _, earlier in _STARTED:
            earlier.add_done_callback(_shut_down)
        _STARTED[:] = [(workers, ready)]

    def start() -> None:
        try:
            pool = _new_pool(workers)
            # a pool starts a process for a task only while none is idle: every task keeps
            # its process busy while its runtime starts, so each of the `workers` gets one
            for _ in range(workers):
                pool.submit(_warm)
            ready.set_result(pool)
        except BaseException as error:  # the report starts its own pool then
            ready.set_exception(error)

    threading.Thread(target=start, name="imw-chart-workers", daemon=True).start()
    return workers


def _shut_down(ready: Future[ProcessPoolExecutor]) -> None:
    if ready.exception() is None:
        ready.result().shutdown(wait=False, cancel_futures=True)


def _take_started(workers: int) -> ProcessPoolExecutor | None:
    """The pool `start_workers` started, if it has `workers` processes and could be started
    (one that has not is ended: nothing else would use it)."""
    with _STARTED_LOCK:
        if not _STARTED:
            return None
        size, ready = _STARTED.pop()
    if size != workers:
        ready.add_done_callback(_shut_down)
        return None
    return ready.result() if ready.exception() is None else None


@contextmanager
def rendering(
    workers: int, cache: Path | None = None, count: ChartCount | None = None
) -> Iterator[None]:
    """Charts submitted inside render in `workers` processes (forkserver: they do not inherit
    the threads of a caller such as DuckDB); 1 or fewer: at once, in this process. Read every
    SVG inside: on leaving, the pool shuts down (cancelling what nobody read after an error).
    `cache`: a folder of SVGs kept from the reports before (module docstring); the processes
    start only when a chart is not found there. `count`: counts the charts submitted and those
    rendered."""
    kept = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        kept = _Cache(cache)
    started = _take_started(workers)
    if count is not None:
        count.started_before = started is not None
    cache_token, count_token = _CACHE.set(kept), _COUNT.set(count)
    try:
        if workers <= 1:
            yield
        else:
            with started or _new_pool(workers) as pool:
                token = _POOL.set(pool)
                try:
                    yield
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
                finally:
                    _POOL.reset(token)
    finally:
        _CACHE.reset(cache_token)
        _COUNT.reset(count_token)
    if kept is not None:
        kept.prune()  # only after a report rendered completely
