"""Vega-Lite spec → static SVG (vl-convert: Rust, in-process, no browser and no network), with
the chart's title and description for assistive technology; at once, or in worker processes.

vl-convert renders one chart at a time per process (one JavaScript runtime behind a lock), so a
report of a few hundred charts renders them in a pool of processes (`rendering`): the pages
submit their charts as they build them and read each SVG when a template prints it. Outside
`rendering` a chart renders at once, in this process. Either way the SVG is the same.
"""

from __future__ import annotations

import hashlib
import html
import multiprocessing
import re
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar

import vl_convert as vlc

_POOL: ContextVar[ProcessPoolExecutor | None] = ContextVar("svg_pool", default=None)
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


def submit(spec: dict, title: str, description: str) -> Future[str]:
    """The SVG to come: rendered by the pool of the enclosing `rendering`, else at once."""
    pool = _POOL.get()
    if pool is not None:
        return pool.submit(render, spec, title, description)
    done: Future[str] = Future()
    try:
        done.set_result(render(spec, title, description))
    except Exception as exc:  # raised where the SVG is read, as from a worker
        done.set_exception(exc)
    return done


@contextmanager
def rendering(workers: int) -> Iterator[None]:
    """Charts submitted inside render in `workers` processes (forkserver: they do not inherit
    the threads of a caller such as DuckDB); 1 or fewer: at once, in this process. Read every
    SVG inside: on leaving, the pool shuts down (cancelling what nobody read after an error)."""
    if workers <= 1:
        yield
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        token = _POOL.set(pool)
        try:
            yield
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            _POOL.reset(token)
