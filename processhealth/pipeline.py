"""Glue: run the collectors into the raw store, then build the analytics database.

Build steps, in order (each `step(con, config)` on the new analytics database, see store.py):
1. `collectors/sql/*.sql`, sorted by name: normalization of raw payloads into domain tables;
2. `analysis.pipeline.build_steps()`, when that module exists: identities, classification, effort;
3. `analysis/sql/*.sql`, sorted by name: the metric_* and health_* views.
Raw tables a SQL file names (raw_github_*, raw_jira_*, raw_slack_*) are created empty in the raw
store first, so every file runs on a fresh install. SQL can read the whole config (secrets only as
"${VAR}" names) as JSON with `getvariable('config')`, e.g.
`json_extract_string(getvariable('config'), '$.github.jira_key_pattern')`.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from processhealth import ui
from processhealth.config import SOURCES, Config, load_config
from processhealth.errors import SourceError, UserError
from processhealth.store import RawStore, Step, build_analytics, open_duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
_RAW_REF = re.compile(r"\braw_((?:github|jira|slack)_[a-z0-9_]+)\b")


def collect(config: Config, sources: Iterable[str] | None = None, full: bool = False) -> None:
    """Run `collectors.<source>.collect(section, store, full=)` for each chosen enabled source."""
    wanted = list(sources) if sources else config.enabled_sources()
    if not wanted:
        raise UserError(
            f"No source is enabled in {config.path or 'the config'}: set enabled = true under "
            f"[github], [jira] or [slack]."
        )
    for name in wanted:
        if name not in SOURCES:
            raise UserError(f"Unknown source {name!r}; expected one of: {', '.join(SOURCES)}.")
        if not getattr(config, name).enabled:
            raise UserError(f"Source {name} is not enabled; set [{name}] enabled = true first.")
    config.validate_secrets(wanted)  # before any network call
    modules = {name: optional_module(f"collectors.{name}") for name in wanted}
    with RawStore(config.storage.raw_path) as store:
        for name, module in modules.items():
            if module is None:
                ui.warn(f"skipping {name}: the collector module collectors.{name} is not there.")
                continue
            if full:
                store.reset(name)
            extra = {"store_message_text": config.privacy.store_message_text} if name == "slack" \
                else {}
            module.collect(getattr(config, name), store, full=full, **extra)


def build(config: Config) -> Path:
    """Rebuild the analytics database from the raw store; returns its path."""
    config.validate_secrets(["privacy"])  # the pseudonym salt, when pseudonymize is on
    normalize = sql_files(_package_dir("collectors") / "sql")
    views = sql_files(_package_dir("analysis") / "sql")
    _ensure_raw_tables(config, [*normalize, *views])
    steps: list[Step] = [config_variable]
    steps += [sql_file_step(path) for path in normalize]
    analysis = optional_module("analysis.pipeline")
    if analysis is not None:  # its steps end with analysis/sql views, verdicts and experiments
        steps += list(analysis.build_steps())
    else:
        steps += [sql_file_step(path) for path in views]
    with ui.progress("build", unit="steps") as bar:
        target = build_analytics(config, _counted(steps, bar))
    return target


def doctor_checks(config_path: Path, online: bool = False) -> list[tuple[str, str, str]]:
    """(check, status, detail) rows; status is ok, off, warn or FAIL. No network unless online."""
    try:
        config = load_config(config_path)
    except UserError as exc:
        return [("config", "FAIL", str(exc))]
    rows = [("config", "ok", str(config.path))]
    for name in SOURCES:
        rows.append(_source_check(config, name, online))
    rows.append(_file_check("raw store", config.storage.raw_path, "sync_state"))
    rows.append(_file_check("analytics", config.storage.analytics_path, "schema_migrations"))
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
    module = optional_module(f"collectors.{name}")
    if module is None:
        return (name, "warn", f"enabled, but collectors.{name} is not installed")
    if online and hasattr(module, "check"):
        try:
            return (name, "ok", f"online: {module.check(getattr(config, name))}")
        except (UserError, SourceError) as exc:
            return (name, "FAIL", f"online: {exc}")
    detail = "online check not available" if online else "environment variables set"
    return (name, "ok", detail)


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


def sql_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sql")) if folder.is_dir() else []


def sql_file_step(path: Path) -> Step:
    """A build step that runs each statement of one SQL file, naming it on failure."""
    def run(con: duckdb.DuckDBPyConnection, config: Any) -> None:
        for number, statement in enumerate(duckdb.extract_statements(path.read_text()), 1):
            try:
                con.execute(statement)
            except duckdb.Error as exc:
                first = statement.query.strip().splitlines()[0][:80]
                raise UserError(
                    f"Build step {_display(path)} failed at statement {number} ({first}): {exc}. "
                    f"The analytics database was left as it was."
                ) from exc

    run.step_name = _display(path)  # type: ignore[attr-defined]
    return run


def config_variable(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Expose the config to SQL as getvariable('config') (JSON; secrets stay "${VAR}")."""
    con.execute("SET VARIABLE config = ?::JSON", [config.model_dump_json()])


def _counted(steps: list[Step], bar: ui.Step) -> Iterable[Step]:
    bar.total(len(steps))
    for step in steps:
        name = getattr(step, "step_name", None) or getattr(step, "__name__", "")
        bar.note(name)
        with ui.profiled(name):  # step times, for benchmarks/
            yield step
        bar.advance()
    bar.note("")


def _ensure_raw_tables(config: Config, files: list[Path]) -> None:
    names = sorted({m for path in files for m in _RAW_REF.findall(path.read_text())})
    with RawStore(config.storage.raw_path) as store:
        for name in names:
            source, entity = name.split("_", 1)
            store.ensure_raw_table(source, entity)


def optional_module(name: str) -> Any:
    """Import a module other engineers may not have written yet; None only if it is absent."""
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # the parent package itself is missing
        return None
    return importlib.import_module(name) if found else None


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return REPO_ROOT / name


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
