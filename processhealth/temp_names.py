"""Whose a temporary file is: the names processhealth gives what it writes before a rename
(`<name>.building-<pid>@<host>`, a report's `.writing-`, an export's, the template folder), and
the clean-up of the ones a killed process left (docs/build.md says where each is made)."""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import os
import re
import shutil
import socket
import time
from collections.abc import Container
from pathlib import Path


def owner_tag(pid: int | None = None, host: str | None = None) -> str:
    """Who made a temporary name: `<pid>@<host tag>` (this process and host unless given; the
    tag is 8 hex digits of the sha256 of the host's name), which remove_left_by_dead reads back
    (_owner). The host is there because a process id says nothing on another host that shares
    the folder (NFS, a shared drive): pid 1234 is gone on host B while host A's build runs."""
    tag = _host_tag(host) if host else _this_host()
    return f"{os.getpid() if pid is None else pid}@{tag}"


def _host_tag(host: str) -> str:
    return hashlib.sha256(host.encode()).hexdigest()[:8]


@functools.cache
def _this_host() -> str:
    """This host's tag, read once: a process's names must not change with the host's name (a
    laptop that joins another network), as Plan.temp, made again at each use, did mid-build."""
    return _host_tag(socket.gethostname())


def _owner(rest: str) -> tuple[int, str | None] | None:
    """(pid, host tag) of the part of a name after its prefix as owner_tag wrote it, (pid, None)
    as versions before the host tag wrote it (the pid alone); either ends the name or is
    followed by `-` or `.` (`.wal`). None for anything else."""
    found = re.match(r"(\d+)(?:@([0-9a-f]{8}))?(?=[-.]|\Z)", rest)
    return (int(found.group(1)), found.group(2)) if found else None


# Another host's entries go only once this old: no build, report or export runs that long (a
# build of 10M events takes about 130 s, benchmarks/RESULTS.md).
FOREIGN_AGE = 24 * 3600


def remove_left_by_dead(folder: Path, prefix: str, ours: Container[str] | None = None) -> None:
    """Remove the files and folders in `folder` named `prefix` + owner_tag() (+ anything) whose
    process is gone: what a killed process of ours could not clean up. With `ours` (the
    names this process has in use), one named with this process's own id but not in `ours`
    goes too: a killed run whose id this one got again (in a container every run can be
    pid 1). A name without a host tag (an earlier version's) counts as this host's, and with
    this process's id is never this process's (its own carry the host). One of
    another host stays (its process may run there) until it is FOREIGN_AGE old (its
    modification time): a cron that runs each time in a fresh container, with a new random
    host name, still removes what the container before it left. Best effort: what cannot be
    removed (another user's, say) stays; a name not of that shape is never touched."""
    here = _this_host()
    for path in folder.glob(f"{glob.escape(prefix)}*"):
        owner = _owner(path.name[len(prefix):])
        if owner is None:
            continue
        number, host = owner
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
            if host not in (None, here):
                if time.time() - path.lstat().st_mtime < FOREIGN_AGE:
                    continue
            elif number == os.getpid():
                # this process names its own with the host: one without was left by an earlier
                # version's run with the same id (a container's pid 1), which no build removes
                if host is not None and (ours is None or path.name in ours):
                    continue
            elif _alive(number):
                continue
            remove_entry(path)


def remove_entry(path: Path) -> None:
    """A temporary file, or folder with all it holds (a link is removed, not followed);
    nothing there is no error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no such process id
        return False
    except PermissionError:  # another user's process
        return True
    return True
