"""Terminal output, all on stderr (stdout is for data: `sql`, `experiment list`).

On a terminal, `progress()` shows a live line per step (counts, notes such as rate-limit waits);
elsewhere (cron, CI, pipes) each step prints exactly one line when it ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

console = Console(stderr=True, highlight=False)


def say(message: str) -> None:
    console.print(message, markup=False, soft_wrap=True)


def warn(message: str) -> None:
    console.print(f"warning: {message}", style="yellow", markup=False, soft_wrap=True)


def error(message: str) -> None:
    console.print(f"error: {message}", style="bold red", markup=False, soft_wrap=True)


@contextmanager
def profiled(name: str, indent: str = "") -> Iterator[None]:
    """With PROCESSHEALTH_PROFILE=1 (benchmarks/scale.py --profile), print how long a block took."""
    if os.environ.get("PROCESSHEALTH_PROFILE") != "1":
        yield
        return
    started = time.perf_counter()
    yield
    say(f"profile: {indent}{time.perf_counter() - started:7.2f} s  {name}")


def counted(con: Any, name: str, table: str, indent: str = "") -> None:
    """With PROCESSHEALTH_PROFILE=1, print how many rows `table` holds."""
    if os.environ.get("PROCESSHEALTH_PROFILE") == "1":
        [(rows,)] = con.execute(f"SELECT count(*) FROM {table}").fetchall()
        say(f"profile: {indent}{rows:>10,} rows  {name}")


class Step:
    """Handle yielded by `progress()`: count work done and show a short note."""

    def __init__(self, bar: Progress | None, task: int | None) -> None:
        self._bar = bar
        self._task = task
        self.completed = 0
        self.note_text = ""

    def advance(self, n: int = 1) -> None:
        self.completed += n
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=n)

    def note(self, text: str) -> None:
        self.note_text = text
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, note=text)

    def total(self, total: int | None) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)


@contextmanager
def progress(description: str, total: int | None = None, unit: str = "items") -> Iterator[Step]:
    started = time.monotonic()
    if console.is_terminal:
        columns = [
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TextColumn(unit), TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=console, transient=False) as bar:
            yield Step(bar, bar.add_task(description, total=total, note=""))
        return
    step = Step(None, None)
    yield step
    elapsed = time.monotonic() - started
    note = f"; {step.note_text}" if step.note_text else ""
    say(f"{description}: {step.completed} {unit} in {elapsed:.1f}s{note}")
