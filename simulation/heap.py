"""The garbage collector's passes, fewer while code makes objects by the million and keeps them.

The day engine and the simulation's loaders (processhealth/simload) make records and payloads by
the million, nearly all of them kept (the organization, the rows of a save). CPython's collector
runs its first generation every 700 new objects and, every hundred of those, walks the whole
heap, which such code keeps growing: 25-30% of the demo organization's CPU (8.8-10.0 s against
6.3-7.6 s with a first generation of 100,000) and 12-15% of loading it into a raw store
(16.9-17.6 s against 14.9-15.0 s); measured 2026-12-07. Cycles are still collected, less often;
the caller's thresholds come back after. The organizations are the same byte for byte
(tests/test_simulation.py's fingerprint).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FIRST_GENERATION = 100_000


@contextmanager
def few_collections() -> Iterator[None]:
    """The block with a first generation of at least FIRST_GENERATION objects (also a
    decorator)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], FIRST_GENERATION), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
