"""`collect` and `build`: the collectors fill the raw store, the build makes the analytics database.

The build, in order (`build_steps()`; each step runs on a new analytics database that holds
the schema and the metric views, without rows; an incremental build's is a copy of the last
build state, step 2):

0. the metric views, created before any row (views: read when queried): the building blocks
   (`analysis/sql/blocks/`, in the order of METRIC_BLOCKS), then every metric view
   (`analysis/sql/*.sql`, sorted by name). A process makes them once, with the schema, into a
   template file that each build copies (analytics_db.Prelude);
1. full or incremental (processhealth/incremental.py, docs/build.md): whether the previous
   database is a valid base, and which sources changed since it was built; the config as a SQL
   variable, and the recorded process changes copied from the raw store; raw Slack messages
   normalization could not read are set aside (processhealth/quarantine.py; GitHub and Jira
   issues are set aside by their normalization files, and all are warned about after them);
2. normalize: an incremental build's file starts as a copy of the last build state, which
   holds the normalized rows of the last build: the sources it keeps keep them, the rows it
   normalizes again are deleted first (Slack: only the messages touched since are normalized
   again, processhealth/slack_delta.py; Jira only the issues, processhealth/jira_delta.py;
   GitHub only the items, commits, comments... touched, processhealth/github_delta.py); for the
   others `collectors/sql/*.sql`, sorted by name, turn raw payloads into the domain tables
   (person_id and category NULL, event_seq 0 until classification numbers the events; kept
   rows carry the last build's analysis); every event id and every (item, field) of
   item_fields is checked to be there once (no primary-key index); then the Jira echo rules
   run over every Jira event (`collectors/sql/echo/jira_echo.sql`: they read across issues);
3. analysis: parameters and thresholds -> identities and people -> teams -> classification ->
   effort -> pseudonyms (each write total: kept rows get what a build from scratch gives);
4. the heaviest metric views stored as tables (analysis/materialize.py);
5. verdicts per team-month, then the process experiments;
6. the whole file, with the raw store's state, saved as the build state beside the raw store
   for the next build, with the refs file (with pseudonyms: after normalization).

Rules, people and team changes apply by re-running `build` alone. The raw store is only read
(attached read-only: a reader never blocks a build). SQL reads the config (secrets only as
"${VAR}" names) as JSON: `json_extract_string(getvariable('config'), '$.github.x')`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

import collectors
from analysis import (
    classify,
    effort,
    event_seq,
    experiments,
    identity,
    materialize,
    params,
    privacy,
    teams,
    verdicts,
)
from processhealth import (
    build_state,
    github_delta,
    incremental,
    jira_delta,
    quarantine,
    slack_delta,
    state_start,
    ui,
)
from processhealth.analytics_db import (
    BuildStep,
    Prelude,
    build_analytics,
    copy_prelude,
    copy_state,
    ensure_raw_tables,
)
from processhealth.build_keys import unique_keys
from processhealth.config import SOURCES, Config
from processhealth.errors import UserError
from processhealth.store import RawStore

REPO_ROOT = Path(__file__).resolve().parent.parent
NORMALIZE_SQL = Path(collectors.__file__).resolve().parent / "sql"
# The Jira echo rules read across issues: they run after the build state is written, over every
# Jira event, in every build (processhealth/jira_delta.py).
ECHO_SQL = NORMALIZE_SQL / "echo" / "jira_echo.sql"
METRIC_SQL = params.METRIC_SQL
# Views the metric views read; each file reads only the ones before it.
METRIC_BLOCKS = tuple(METRIC_SQL / "blocks" / name for name in ("base.sql", "items.sql",
                                                                  "scope.sql"))
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
    from collectors.slack_rows import Rules  # comment flags of reduced GitHub and Jira bodies

    with RawStore.of(config) as store:
        for name in wanted:
            if full:
                store.reset(name)
            store.clear_gaps(name)  # this collection records what it skips afresh
            extra = ({"store_message_text": config.privacy.store_message_text}
                     if name == "slack" else
                     {"store_text_fields": config.privacy.store_text_fields,
                      "flag_rules": Rules.from_config(
                          config.slack, declared=config.declared_experiments)})
            started = datetime.now(UTC)
            collector(name).collect(getattr(config, name), store, full=full, **extra)
            store.record_run(name, started, full)  # observed up to `started` (month_complete)


def collector(name: str) -> Any:
    """The module collectors.<name>, imported when used: each pulls in its client library."""
    return importlib.import_module(f"collectors.{name}")


def build(config: Config, full: bool = False) -> Path:
    """Build the analytics database from the raw store; returns its path. Incremental when the
    previous database is a valid base, unless `full` (docs/build.md); see `last_plan`."""
    config.validate_secrets(["privacy"])  # the pseudonym salt, when pseudonymize is on
    plan = incremental.Plan(full=full, state=incremental.state_path(config),
                            target=incremental.analytics_target(config))
    global last_plan
    if incremental.current(config, plan):  # nothing to do: the database is what a build makes
        last_plan = plan
        return Path(config.storage.analytics_path)
    try:
        target = _build(config, plan)
    except incremental.StateUnreadable as exc:  # "any doubt means a build": full this time
        plan = incremental.Plan(full=True, full_reason=str(exc), state=plan.state,
                                target=plan.target)
        target = _build(config, plan)
    last_plan = plan
    return target


def _build(config: Config, plan: incremental.Plan) -> Path:
    steps = build_steps(plan)
    plan.refs_at = build_state.refs_at(plan)
    try:
        with ui.progress("build", unit="steps") as bar:
            return build_analytics(
                config, _counted(steps, bar, config.privacy.pseudonymize),
                finish=lambda con: build_state.finish(con, plan),
                before_swap=lambda temp: build_state.commit(plan, temp),
                prelude=prelude(), bar=bar, start=plan.state if plan.start else None,
                refs=plan.refs_at, refs_start=plan.refs if plan.start else None)
    except FileNotFoundError as exc:  # the state `current` found went before it was copied
        if plan.start and exc.filename and Path(exc.filename) in (plan.state, plan.refs):
            raise incremental.StateUnreadable(
                f"the build state is gone ({exc.filename} was removed as the build began)"
            ) from exc
        raise
    finally:
        build_state.discard(plan)


last_plan: incremental.Plan | None = None  # what the last build() in this process did


def build_steps(plan: incremental.Plan | None = None) -> list[BuildStep]:
    """Every step of `processhealth build`, in the order they run (see the module docstring);
    with a plan, the steps of an incremental build skip the normalization of kept sources."""
    plan = plan if plan is not None else incremental.Plan(full=True)
    return [
        BuildStep("raw tables the SQL reads", raw_tables),
        BuildStep("full or incremental", lambda con, config: (
            incremental.decide(con, config, plan), state_start.clean(con, plan))),
        BuildStep("config as a SQL variable", config_variable),
        BuildStep("recorded process changes", copy_state),
        BuildStep("set aside raw rows that cannot be read",
                  lambda con, config: incremental.quarantine_step(con, config, plan)),
        BuildStep("events numbered later", event_seq.defer_event_seq),
        BuildStep("normalized rows of the sources kept",
                  lambda con, config: state_start.restore(con, config, plan)),
        *[_normalize_step(path, plan) for path in sql_files(NORMALIZE_SQL)],
        BuildStep("raw GitHub, Jira and Slack tables shown whole again", show_all),
        BuildStep("warn of the raw rows set aside", lambda con, config: quarantine.warn(
            con, tuple(s for s in SOURCES if plan.normalizes(s)))),
        BuildStep("keys unique", unique_keys),
        BuildStep("normalized tables kept for the next build",
                  lambda con, config: build_state.save(con, config, plan, "normalization")),
        sql_file_step(ECHO_SQL),
        *analysis_steps(),
        *verdict_steps(),
        BuildStep("analysed tables kept for the next build",
                  lambda con, config: build_state.save(con, config, plan, "analysis")),
    ]


def verdict_steps() -> list[BuildStep]:
    """After the analysis, on the metric views: the heaviest stored as tables, then verdicts
    and process experiments (reports/asof.py runs them again on a cut copy)."""
    return [
        BuildStep("store the heaviest views as tables", materialize.build),
        BuildStep("verdicts per team-month", verdicts.build),
        BuildStep("process experiments", experiments.build),
    ]


def analysis_steps() -> list[BuildStep]:
    """From the normalized domain tables to people, teams, categories and credited minutes."""
    return [
        BuildStep("parameters and thresholds", params.write),
        BuildStep("identities and people", identity.build),
        BuildStep("teams", teams.build),
        BuildStep("classification", classify.build),
        BuildStep("effort", effort.build),
        BuildStep("pseudonyms", privacy.build),
    ]


def metric_files() -> list[Path]:
    """The metric building blocks, then every metric view (docs/metrics.md)."""
    return [*METRIC_BLOCKS, *sql_files(METRIC_SQL)]


def prelude() -> Prelude:
    """What a build's new file holds before its first step: the metric views (below)."""
    return Prelude(metric_steps(), metric_files())


def metric_steps() -> list[BuildStep]:
    """A step per metric file: they create views only, so a build's file gets them with the
    schema, before any row (analytics_db.Prelude), and the steps are not in build_steps()."""
    return [sql_file_step(path) for path in metric_files()]


_DEFINES = re.compile(r"(?:CREATE\s+(?:OR\s+REPLACE\s+)?VIEW|COMMENT\s+ON\s+(?:VIEW|TABLE|COLUMN))"
                      r"\s+(\w+)", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(r"\A(?:\s*--[^\n]*\n)*\s*")


def view_statements(names: Iterable[str]) -> list[str]:
    """The statements of the metric files that create the views `names` or comment on them, in
    the order a build runs them (each view after those it reads): what makes the views a build
    stored as tables (analysis/materialize.py) views again, without binding the other ~40."""
    wanted, found = set(names), []
    for path in metric_files():
        for statement in duckdb.extract_statements(path.read_text(encoding="utf-8")):
            defines = _DEFINES.match(_LEADING_COMMENTS.sub("", statement.query))
            if defines and defines.group(1) in wanted:
                found.append(statement.query)
    return found


def create_empty(con: duckdb.DuckDBPyConnection) -> None:
    """The analytics tables, the metric building blocks and every metric view, without data:
    what a build's new file holds before its first step, and where the tests' hand-built
    databases start (copied from this process's template, analytics_db.copy_prelude)."""
    copy_prelude(con, prelude())


def sql_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sql")) if folder.is_dir() else []


def sql_file_step(path: Path) -> BuildStep:
    """A build step that runs each statement of one SQL file, naming it on failure."""
    name = _display(path)

    def run(con: duckdb.DuckDBPyConnection, config: Any) -> None:
        # UTF-8 whatever the locale: the files are (a typographic apostrophe in a literal of
        # analysis/sql/blocks), and a build must not depend on the host's locale
        text = path.read_text(encoding="utf-8")
        for number, statement in enumerate(duckdb.extract_statements(text), 1):
            try:
                with ui.profiled(f"statement {number}: "
                                 f"{' '.join(statement.query.split())[:70]}", "    "):
                    con.execute(statement)
            except duckdb.Error as exc:
                first = statement.query.strip().splitlines()[0][:80]
                raise UserError(
                    f"Build step {name} failed at statement {number} ({first}): {exc}. "
                    f"The analytics database was left as it was."
                ) from exc

    return BuildStep(name, run)


def _normalize_step(path: Path, plan: incremental.Plan) -> BuildStep:
    """A normalization file's step, skipped when its source is kept (`NN_<source>...sql`). The
    TEMP tables the file creates are dropped when it ends (in memory, kept ones were spilled
    later: about 3.5% of the build's CPU at 10M events, docs/build.md)."""
    step = sql_file_step(path)
    source = next((s for s in SOURCES if f"_{s}" in path.stem), None)

    def once(con: duckdb.DuckDBPyConnection, config: Any) -> None:
        before = set(temp_tables(con))
        if source == "github" and "github" in plan.delta and "github" not in plan.widened:
            with ui.profiled(step.name):
                github_delta.normalize(con)  # the file without its `cross` section
        else:
            step(con, config)
        for table in temp_tables(con):
            if table not in before:
                con.execute(f'DROP TABLE temp.main."{table}"')

    def run(con: duckdb.DuckDBPyConnection, config: Any) -> None:
        if not plan.normalizes(source):
            return
        once(con, config)
        if source == "jira" and "jira" in plan.delta and path.stem.startswith("20_"):
            stale = jira_delta.consistent(con)
            if stale is not None:  # the kept issues' rows may differ: every issue again
                jira_delta.widen(con)
                plan.widened["jira"] = stale
                once(con, config)

    return BuildStep(step.name, run)


def show_all(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """After normalization: the raw tables an incremental build narrowed shown whole."""
    github_delta.show_all(con)
    jira_delta.show_all(con)
    slack_delta.show_all(con)


def temp_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The connection's TEMP tables."""
    return [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name").fetchall()]


def config_variable(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Expose the config to SQL as getvariable('config') (JSON; secrets stay "${VAR}")."""
    con.execute("SET VARIABLE config = ?::JSON", [config.model_dump_json()])


def _counted(steps: list[BuildStep], bar: ui.Step, rewrite: bool) -> Iterable[BuildStep]:
    """The steps, counted on the bar (with one more for a pseudonymized build's rewrite of its
    file, which build_analytics counts)."""
    bar.total(len(steps) + rewrite)
    for step in steps:
        bar.note(step.name)
        with ui.profiled(step.name):  # step times, for benchmarks/
            yield step
        bar.advance()
    bar.note("")


def raw_tables(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """Raw tables a SQL file names that the raw store lacks become empty temporary tables of
    the raw shape, so every file runs on a fresh install (the raw store is only read)."""
    files = [*sql_files(NORMALIZE_SQL), *METRIC_BLOCKS, *sql_files(METRIC_SQL)]
    names = {f"raw_{m}" for path in files
             for m in _RAW_REF.findall(path.read_text(encoding="utf-8"))}
    ensure_raw_tables(con, names)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
