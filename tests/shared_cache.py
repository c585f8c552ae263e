"""Expensive test data made once per test run and shared by the xdist workers.

    value = shared("simulated-small-7", make)   # make(folder) -> picklable value

The first caller (of any worker) runs `make` on an empty folder under pytest's temporary
directory of this run while holding a file lock; the others wait for it, then get the pickled
value. The folder and what it holds are shared: copy them before changing anything.

Outside a pytest run (ROOT unset) `make` runs in a folder of its own, once per process.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Set by tests/conftest.py: the folder shared by all workers of this run.
ROOT: Path | None = None
_LOCAL: dict[str, object] = {}


def root_for(basetemp: Path) -> Path:
    """The shared folder for a pytest basetemp: a worker's basetemp is <run>/popen-gwN."""
    run = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return run / "shared"


def shared(name: str, make: Callable[[Path], T]) -> T:
    """`make(folder)`'s value, made once per run (see the module docstring)."""
    if name in _LOCAL:
        return _LOCAL[name]  # type: ignore[return-value]
    if ROOT is None:
        base = Path(tempfile.mkdtemp(prefix=f"processhealth-{name}-"))
        atexit.register(shutil.rmtree, base, True)
        _LOCAL[name] = make(base)
        return _LOCAL[name]  # type: ignore[return-value]
    ROOT.mkdir(parents=True, exist_ok=True)
    folder, result = ROOT / name, ROOT / f"{name}.pickle"
    with open(ROOT / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not result.exists():
            if folder.exists():  # an earlier attempt failed
                shutil.rmtree(folder)
            folder.mkdir()
            value = make(folder)
            partial = result.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(value))
            partial.rename(result)
    _LOCAL[name] = pickle.loads(result.read_bytes())
    return _LOCAL[name]  # type: ignore[return-value]
