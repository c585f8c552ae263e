"""Expensive test data made once per test run and shared by the xdist workers.

    value = shared("simulated-small-7", make)   # make(folder) -> picklable value
    org = shared_org(7, OrgSpec.small())          # generate_org's, a copy of its own per call

The first caller (of any worker) runs `make` on an empty folder under pytest's temporary
directory of this run while holding a file lock; the others wait for it, then get the pickled
value. The folder and what it holds are shared: copy them before changing anything.

Outside a pytest run (ROOT unset) `make` runs in a folder of its own, once per process.
"""

from __future__ import annotations

import atexit
import fcntl
import gc
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
    _LOCAL[name] = _loads(result.read_bytes())
    return _LOCAL[name]  # type: ignore[return-value]


def shared_org(seed: int, spec: Any) -> Any:
    """`simulation.generate_org(seed, spec)`, generated once per run and unpickled per call, so
    each caller gets an organization of its own to change. The same (seed, spec) is generated in
    many test files (the demo organization takes several seconds); the organization is the same
    byte for byte whoever generates it (tests/test_simulation.py)."""
    from simulation import generate_org

    digest = hashlib.sha256(repr(spec).encode()).hexdigest()[:16]
    data = shared(f"org-{seed}-{digest}", lambda folder: pickle.dumps(generate_org(seed, spec)))
    return _loads(data)


def _loads(data: bytes) -> Any:
    """pickle.loads without the garbage collector: unpickling makes objects by the million and
    no garbage, and the collector's passes over them tripled the time (the demo organization,
    48 MB: 2.9-3.3 s against 0.8-0.9 s, measured 2026-12-07)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if enabled:
            gc.enable()
