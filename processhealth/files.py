"""Files processhealth writes for people to read (reports, the people map): written whole or not
at all, never through a link."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from processhealth import ui
from processhealth.errors import UserError
from processhealth.temp_names import owner_tag, remove_left_by_dead


def refuse_unsafe_target(path: Path) -> None:
    """A UserError if `path` exists and is not a regular file (a symlink, a folder, a device)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        kind = "a symbolic link" if path.is_symlink() else "not a regular file"
        raise UserError(
            f"{path} is {kind}, so processhealth will not write over it: it replaces only "
            f"regular files, so a link cannot redirect it to another file. Remove it, or "
            f"choose another path.")


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader never
    sees half a file (a report, the people map). Only a regular file is replaced: a symlink
    could point the file (and the rename) at one the user never meant to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_unsafe_target(path)
    prefix = f".{path.name}.writing-"  # + owner tag: a killed report's goes with the next one
    remove_left_by_dead(path.parent, prefix)
    # Created as any new file is (0666 less the umask), not private as a mkstemp file: a report
    # is for a file share; one that replaces a report keeps that file's mode and group.
    while True:
        temp = path.with_name(f"{prefix}{owner_tag()}-{secrets.token_hex(6)}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        keep_mode_and_group(temp, path)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


_GROUPS_WARNED: set[int] = set()  # a report's 200 pages of one such group warn once


def keep_mode_and_group(new: Path, replaced: Path) -> None:
    """`new`, about to be renamed over `replaced`, gets its group and mode (a report, the
    analytics database): a group an admin let read the file (chgrp, chmod 640) still can. With
    nothing to replace, `new` keeps the mode a new file gets in that folder. A group this user
    cannot give the file is warned about (once a process), the mode still copied."""
    try:
        old = replaced.stat()
    except OSError:  # no file yet (or a link to nothing)
        return
    if old.st_gid != new.stat().st_gid:
        try:
            os.chown(new, -1, old.st_gid)
        except PermissionError:
            _warn_of_group(replaced, old)
    os.chmod(new, stat.S_IMODE(old.st_mode))


def _warn_of_group(replaced: Path, old: os.stat_result) -> None:
    if old.st_gid not in _GROUPS_WARNED:
        _GROUPS_WARNED.add(old.st_gid)
        ui.warn(f"{replaced} belonged to group {old.st_gid}, which this user cannot give the new "
                f"file: it has this user's group. Its mode is kept "
                f"({stat.S_IMODE(old.st_mode):o}); readers by that group may need `chgrp`.")
