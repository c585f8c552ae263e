"""`processhealth doctor`: is the config valid, are the secrets set, are the database files ours?

No network unless asked (--online): each enabled source's collector then calls its API once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from processhealth.config import SOURCES, Config, load_config
from processhealth.duckdb_files import open_duckdb
from processhealth.errors import SourceError, UserError
from processhealth.pipeline import collector


def checks(config_path: Path, online: bool = False) -> list[tuple[str, str, str]]:
    """(check, status, detail) rows; status is ok, off, warn or FAIL."""
    try:
        config = load_config(config_path)
    except UserError as exc:
        return [("config", "FAIL", str(exc))]
    rows = [("config", "ok", str(config.path))]
    for name in SOURCES:
        rows.append(_source_check(config, name, online))
    rows.append(_file_check("raw store", config.storage.raw_path, "sync_state"))
    # Every build writes build_params, so its rows say the file is a built analytics database.
    rows.append(_file_check("analytics", config.storage.analytics_path, "build_params"))
    teams = len(config.teams)
    rows.append(("teams", "ok" if teams else "warn",
                 f"{teams} configured" if teams else "none configured: add [[teams]] tables"))
    return rows


def _source_check(config: Config, name: str, online: bool) -> tuple[str, str, str]:
    if not getattr(config, name).enabled:
        return (name, "off", "disabled")
    missing = [f"{key} needs ${ref.var}" for key, ref in config.required_secrets([name])
               if not ref.is_set()]
    if missing:
        return (name, "FAIL", "; ".join(missing) + " (not set)")
    if not online:
        return (name, "ok", "environment variables set")
    try:
        return (name, "ok", f"online: {collector(name).check(getattr(config, name))}")
    except (UserError, SourceError) as exc:
        return (name, "FAIL", f"online: {exc}")


def _file_check(label: str, path: Path, table: str) -> tuple[str, str, str]:
    if not path.exists():
        return (label, "warn", f"{path} does not exist yet")
    try:
        con = open_duckdb(path, read_only=True)
    except UserError:
        return (label, "warn", f"{path} is in use by another processhealth command")
    try:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    except duckdb.Error as exc:
        return (label, "FAIL", f"{path} is not a processhealth database: {exc}")
    finally:
        con.close()
    size = path.stat().st_size / 1e6
    return (label, "ok", f"{path} ({size:.1f} MB, {rows[0] if rows else 0} rows in {table})")
