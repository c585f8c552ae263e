"""The peak resident memory of this process alone, for the benchmarks that report it.

`getrusage(RUSAGE_SELF).ru_maxrss` is not that for a process started by another: Linux keeps
the high-water mark of the memory the child got from its parent at fork (a copy of the
parent's) and counts it after `exec` too. So a benchmark run as a child of a harness that
had itself grown large reported the harness's peak: `scale.py run 1300 --incremental`, whose
harness process reads two 10M-event databases in DuckDB (renumbered.py) before it starts the
full build's process, gave that build 6.44-6.50 GiB, where a sampler of the build's own
memory never saw more than 3.76 GiB (benchmarks/RESULTS.md section 3). `VmHWM` in
/proc/self/status is the high-water mark of this process's memory since its `exec`.
"""

from __future__ import annotations

import resource


def peak_rss() -> int:
    """Bytes: the most this process held resident since it started (VmHWM on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
