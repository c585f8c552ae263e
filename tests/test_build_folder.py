"""Where a build writes before it publishes, and what the published file's mode and group are
(analytics_db.build_analytics; docs/build.md, "The build's folder"): a pseudonymized build's
temporary file holds the real names until its rewrite, so readers of a shared folder must not
reach it, a default ACL included; the published file keeps what an admin set."""

from __future__ import annotations

import pytest


def test_a_build_s_files_are_in_a_folder_only_its_owner_enters_until_the_published_one(config):
    """A pseudonymized build's temporary file holds the real names until the rewrite, and a
    build killed before its rename leaves it beside the published file (often a folder shared
    with readers) until the next build: it, its write-ahead log and its rewrite are made in a
    folder only the owner can enter, gone after the build. The published file gets the mode
    of the file it replaces (a new file's when there was none), and the progress counts the
    rewrite as a step."""
    import os
    import stat

    from processhealth import analytics_db, ui
    from processhealth.temp_names import owner_tag

    target = config.storage.analytics_path
    work = target.with_name(f"{target.name}.building-{owner_tag()}")
    seen: list[str] = []

    def spy(con, cfg):  # a step: what the build's files are while it runs
        con.execute("CREATE TABLE probe AS SELECT 'Jane Doe' AS name")  # a commit: the log
        assert [p.name for p in target.parent.glob(f"{work.name}*")] == [work.name]
        assert stat.S_IMODE(work.stat().st_mode) == 0o700
        seen.extend(sorted(p.name[len(work.name):] for p in work.iterdir()))

    def build(pseudonymize: bool) -> ui.Step:
        config.privacy.pseudonymize = pseudonymize
        seen.clear()
        bar = ui.Step(None, None)
        analytics_db.build_analytics(config, [analytics_db.BuildStep("spy", spy)], bar=bar)
        assert sorted(p.name for p in target.parent.iterdir()
                      if p.name.startswith(target.name)) == [target.name]
        return bar

    old = os.umask(0o022)
    try:
        assert build(True).completed == 1  # the rewrite (the steps are counted by the caller)
        assert seen == ["", ".wal"], seen  # the file and its log, in the folder mid-build
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # a new file's
        target.chmod(0o640)  # an admin lets a group read it
        build(True)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        assert build(False).completed == 0
        assert seen == ["", ".wal"], seen
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    finally:
        os.umask(old)


# The default ACL of a shared folder (setfacl -d -m g:<BI>:rX, other none), written as
# `setfacl` would (the xattr format of linux/posix_acl_xattr.h): the umask does not apply in
# such a folder, the ACL does.
BI_GROUP = 4242
_UNDEFINED = 0xFFFFFFFF
_TAGS = {1: "user_obj", 2: "user", 4: "group_obj", 8: "group", 16: "mask", 32: "other"}


def _share_with_bi_readers(folder):
    import os
    import struct

    entries = [(1, 7, _UNDEFINED), (4, 5, _UNDEFINED), (8, 5, BI_GROUP), (16, 5, _UNDEFINED),
               (32, 0, _UNDEFINED)]  # user::rwx group::r-x group:BI:r-x mask::r-x other::---
    try:
        os.setxattr(folder, "system.posix_acl_default", struct.pack("<I", 2) + b"".join(
            struct.pack("<HHI", tag, perm, qualifier) for tag, perm, qualifier in entries))
    except (OSError, AttributeError) as exc:
        pytest.skip(f"no POSIX ACLs on this file system: {exc}")


def _bi_may(path, want: int) -> bool:
    """Whether a member of BI_GROUP (not the owner, not in the file's group) has the access
    `want` (4 read, 1 search) to `path`, by its ACL or else its mode."""
    import os
    import stat
    import struct

    try:
        raw = os.getxattr(path, "system.posix_acl_access", follow_symlinks=False)
    except OSError:
        raw = b""
    acl = {}
    for offset in range(4, len(raw), 8):
        tag, perm, qualifier = struct.unpack("<HHI", raw[offset:offset + 8])
        acl[(_TAGS[tag], qualifier)] = perm
    if ("group", BI_GROUP) in acl:
        return bool(acl[("group", BI_GROUP)] & acl.get(("mask", _UNDEFINED), 7) & want)
    return bool(stat.S_IMODE(path.lstat().st_mode) & want)  # `other`, as for a stranger


def test_a_build_in_a_folder_with_a_default_acl_keeps_the_real_names_from_its_readers(config):
    """In a folder shared through a default ACL (the BI readers' group may read, no one else)
    the umask does not apply. A pseudonymized build's temporary file and its write-ahead log,
    with the real names in them, are made in a folder of its own that no ACL entry lets anyone
    else enter; the published file, a first build's, is what the ACL gives a new file there
    (the group reads it, others do not), for builds with pseudonyms and without."""
    import os
    import stat

    from processhealth import analytics_db

    shared = config.storage.analytics_path.parent / "shared"
    shared.mkdir()
    _share_with_bi_readers(shared)
    target = config.storage.analytics_path = shared / "processhealth.duckdb"
    (shared / "any-new-file").write_bytes(b"")
    new_file = stat.S_IMODE((shared / "any-new-file").stat().st_mode)
    assert new_file & 0o007 == 0
    seen: list[str] = []
    exposed: list[str] = []

    def spy(con, cfg):  # a step: what the BI group can read while the build runs
        con.execute("CREATE TABLE probe AS SELECT 'Jane Doe' AS name")  # a commit: the log
        for path in shared.rglob("*"):
            if path.is_file() and ".building-" in str(path.relative_to(shared)):
                seen.append(path.name)
                folders = [shared / f for f in path.relative_to(shared).parents if str(f) != "."]
                if all(_bi_may(f, 1) for f in folders) and _bi_may(path, 4):
                    exposed.append(path.name)

    old = os.umask(0o022)
    try:
        for pseudonymize in (True, False):
            target.unlink(missing_ok=True)
            config.privacy.pseudonymize = pseudonymize
            seen.clear()
            analytics_db.build_analytics(config, [analytics_db.BuildStep("spy", spy)])
            assert any(name.endswith(".wal") for name in seen), seen
            assert exposed == []
            assert stat.S_IMODE(target.stat().st_mode) == new_file, pseudonymize
            assert _bi_may(target, 4)  # the group the ACL names reads the published file
            assert sorted(p.name for p in shared.iterdir()) == ["any-new-file", target.name]
    finally:
        os.umask(old)


def test_the_group_an_admin_gave_the_published_file_keeps_reading_it(config):
    """An admin lets the BI readers' group read the database and no one else (chgrp, chmod
    640): the next build's file gets that group with the mode (a new file has the builder's
    group, which the copied 0640 would have shut the readers out with)."""
    import os
    import stat

    from processhealth import analytics_db

    others = [g for g in os.getgroups() if g != os.getegid()]
    group = BI_GROUP if os.geteuid() == 0 else (others[0] if others else None)
    if group is None:
        pytest.skip("this user is in no group but its own, and cannot give a file another")
    target = config.storage.analytics_path
    analytics_db.build_analytics(config, [])
    os.chown(target, -1, group)
    target.chmod(0o640)
    for pseudonymize in (True, False):
        config.privacy.pseudonymize = pseudonymize
        analytics_db.build_analytics(config, [])
        st = target.stat()
        assert (st.st_gid, stat.S_IMODE(st.st_mode)) == (group, 0o640), pseudonymize


def test_a_group_the_builder_cannot_give_is_warned_about_once_and_the_mode_still_kept(
        tmp_path, monkeypatch):
    """Where the replaced file's group is one this user is not in (chown refuses), the new file
    keeps this user's group, gets the mode, and the user is told once a process, not once for
    each of a report's pages."""
    import os
    import stat

    from processhealth import files, ui

    replaced, new = tmp_path / "report.html", tmp_path / "new.html"
    replaced.write_text("old")
    try:
        os.chown(replaced, -1, BI_GROUP)
    except PermissionError:
        pytest.skip("this user cannot give a file another group")
    replaced.chmod(0o640)

    def refused(*args, **kwargs):
        raise PermissionError("not a member of that group")

    warned: list[str] = []
    monkeypatch.setattr(files.os, "chown", refused)
    monkeypatch.setattr(ui, "warn", warned.append)
    monkeypatch.setattr(files, "_GROUPS_WARNED", set())
    for _ in range(3):
        new.write_text("new")
        new.chmod(0o644)
        files.keep_mode_and_group(new, replaced)
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        assert new.stat().st_gid == os.getegid()
    assert len(warned) == 1 and str(BI_GROUP) in warned[0], warned
