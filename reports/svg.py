"""Charts drawn to checked inline SVG in worker processes.

A chart costs about 30 ms to build with Altair and 40-80 ms to render with vl-convert, which
holds the GIL while it renders; on threads, charts neither ran side by side nor let the report
go on reading the database meanwhile. A report of 186 teams draws about 900 charts. So each
chart is built and rendered by a small pool of processes, started on the first chart (spawned:
the parent may hold DuckDB threads, which fork would copy mid-flight).

SVG text is escaped by vl-convert; `safe_svg` re-checks the markup before it is marked safe, so
a title from the data can never become an element or an event handler.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import vl_convert as vlc
from markupsafe import Markup

_SVG_ELEMENTS = {
    "svg", "g", "path", "rect", "text", "tspan", "line", "circle", "ellipse", "polyline",
    "polygon", "defs", "clipPath", "title", "desc", "linearGradient", "radialGradient", "stop",
}
_NUMBER = re.compile(r"(\d+\.\d{3})\d+")


class UnsafeSvg(ValueError):
    """The renderer produced SVG with something that could run or fetch: a bug, never data."""


def safe_svg(svg: str) -> Markup:
    """Check that `svg` holds only drawing elements and no event handlers or links, then mark it
    safe for the template. Raises UnsafeSvg otherwise."""
    root = ET.fromstring(svg)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in _SVG_ELEMENTS:
            raise UnsafeSvg(f"unexpected <{tag}> element in chart SVG")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise UnsafeSvg(f"event handler attribute {local} in chart SVG")
            if local == "href" and not value.startswith("#"):
                raise UnsafeSvg("external link in chart SVG")
            if "url(" in value and not re.fullmatch(r"url\(#[\w-]+\)", value.strip()):
                raise UnsafeSvg("external url() in chart SVG")
    # Trim coordinates to 3 decimals: a third of the bytes, no visible change.
    return Markup(_NUMBER.sub(r"\1", svg))


SpecBuilder = Callable[..., dict[str, Any]]  # a module-level function returning a Vega-Lite spec


def _draw(build: SpecBuilder, args: tuple, kwargs: dict[str, Any]) -> str:
    """In a worker: build one chart's spec and render it to checked SVG text."""
    return str(safe_svg(vlc.vegalite_to_svg(build(*args, **kwargs))))


class PendingSvg:
    """A chart being rendered by a worker; the template waits for it when it prints it (Jinja
    calls __html__), so a report's charts render while the rest of it is read and laid out.
    If the workers cannot run (a script without an `if __name__ == "__main__":` guard, which
    spawned workers re-import; a daemon process, which may not start others; a worker killed),
    the chart is rendered here instead."""

    def __init__(self, job: tuple[SpecBuilder, tuple, dict[str, Any]],
                 future: Future[str] | None) -> None:
        self._job = job
        self._future = future

    def __html__(self) -> str:
        if self._future is not None:
            try:
                return self._future.result()  # checked by safe_svg in the worker
            except BrokenProcessPool:
                _drop_pool()
        return _draw(*self._job)

    def __str__(self) -> str:
        return self.__html__()


_pool: ProcessPoolExecutor | None = None
_broken = False  # the workers failed once: render in this process from then on


def draw(build: SpecBuilder, *args: Any, **kwargs: Any) -> PendingSvg:
    """Queue one chart, `build(*args, **kwargs)`, for drawing; returns at once. `build` and its
    arguments go to another process: a module-level function and plain data."""
    global _pool
    job = (build, args, kwargs)
    if _broken:
        return PendingSvg(job, None)
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)),
                                    mp_context=multiprocessing.get_context("spawn"))
    # A broken pool, a daemon process (which may not have children) or no processes left:
    # draw here instead. Not RuntimeError: raised in a worker that re-imports a script without
    # a __main__ guard, it must stop that worker, or the rest of the script would run in it.
    try:
        return PendingSvg(job, _pool.submit(_draw, *job))
    except (BrokenProcessPool, AssertionError, OSError):
        _drop_pool()
        return PendingSvg(job, None)


def _drop_pool() -> None:
    global _broken
    _broken = True
    close_workers()


def worker_pids() -> list[int]:
    """Process ids of the running chart workers (for benchmarks/scale.py's memory figures)."""
    return list(_pool._processes) if _pool is not None and _pool._processes else []


def close_workers() -> None:
    """Stop the rendering processes (they also stop when this process exits)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None
