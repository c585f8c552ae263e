"""The incremental build: the state a build keeps about the raw store it read, whether the
previous build is a valid base, and which sources' normalized rows it reuses (docs/build.md).

    plan = Plan(full=False, state=state_path(config))  # pipeline.build_steps(plan) consults it
    current(config, plan)                # nothing to do? else plan.start: the state a valid base
    # the build's new file is a copy of the state when plan.start (analytics_db._new_file)
    decide(con, config, plan)            # after the raw store is attached: full or incremental
    state_start.clean(con, plan)         # the copy made the start; state_start.restore deletes
                                         # the rows of what is normalized again
    build_state.save(con, config, plan, "analysis")  # the state for the next build (after
                                         # normalization instead when pseudonymized)
    build_state.finish(con, plan); build_state.commit(plan, temp)  # renamed in, before the swap

The state lives in its own DuckDB file beside the raw store (`build-state/`), not in the
analytics database: it holds what normalization made of the payloads before pseudonymization
(logins, e-mails, Slack text when stored): it belongs with the raw store, not the contract.
The unit is the source (github, jira, slack): no normalization statement of one source reads
another source's rows, so a source none of whose raw rows changed since the last build (no row
with a higher seq, none gone, the same deleted set) keeps its normalized rows (the build's file
starts as a copy of the state, which holds them: nothing is copied row by row), and a changed
source is normalized again from all of its raw rows (the quarantine check before
normalization, a test of one row alone, only on the rows the last build did not read);
Slack only for the messages touched since (processhealth/slack_delta.py), Jira only for the
issues touched since (processhealth/jira_delta.py), GitHub only for the units (items, commits,
comments, ...) touched since (processhealth/github_delta.py). The later steps run in full.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from processhealth import github_delta, jira_delta, quarantine, slack_delta, ui
from processhealth.analytics_db import _remove, _remove_abandoned
from processhealth.build_inputs import analysis_inputs, file_identity, fingerprint, raw_now
from processhealth.duckdb_files import open_duckdb
from processhealth.temp_names import owner_tag

FORMAT = "7"  # of the state file; another value means a full build
SOURCES = ("github", "jira", "slack")
# Domain tables normalization writes -> the SQL expression of a row's source.
NORMALIZED = {
    "events": "source",
    "work_items": "source",
    "identities": "source",
    "group_members": "source",
    "transitions": "'jira'",
    "channels": "'slack'",
    "repo_names": "'github'",
    "jira_statuses": "'jira'",
    "jira_sprints": "'jira'",
    "item_fields": "'jira'",
}
# what a source normalized by item counts (GitHub: issues and pull requests, commits, reviews,
# comments, issue events and releases, github_delta.py)
ITEMS = {"github": "items", "jira": "issues", "slack": "messages"}
# source_coverage rows the build itself writes (quarantine); the rest come from the raw store.
QUARANTINED = "status = 'quarantined'"


def analytics_target(config: Any) -> Path:
    return Path(config.storage.analytics_path).resolve()


def state_path(config: Any) -> Path:
    """The build state of one analytics database: beside the raw store (the same privacy class),
    named after the analytics file's resolved path (two databases built from one raw store keep
    two states)."""
    target = analytics_target(config)
    tag = hashlib.sha256(str(target).encode()).hexdigest()[:12]
    return Path(config.storage.raw_path).parent / "build-state" / f"{target.name}-{tag}.duckdb"


def refs_path(state: Path) -> Path:
    """The refs file of a build state: what normalization read (analytics_db.attach_refs),
    beside the state file; its `refs_build` row names the build that wrote both (the state's
    `refs` key), so a copy of one with a copy of another build's other is told."""
    return state.with_name(state.name + ".refs")


class StateUnreadable(Exception):
    """The previous build state failed while a build read its rows (a damaged block, say):
    pipeline.build starts again, full, as for a state it cannot open (docs/build.md)."""


def _from_state(what: Callable[[], Any]) -> Any:
    """Run what(), which reads the previous build state (`prev`) and nothing of the raw store:
    a DuckDB error in it is the state's (StateUnreadable), unless it is about memory or disk
    space, which a full build would need as much."""
    try:
        return what()
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        if "no space left" in str(exc).lower():
            raise
        raise StateUnreadable(f"the build state cannot be read "
                              f"({' '.join(str(exc).split())[:200]})") from exc


@dataclass
class Plan:
    """What this build does; `full` is what was asked (`build --full`)."""

    full: bool = False  # asked (`build --full`), or the state failed halfway (pipeline.build)
    full_reason: str = "--full was given"  # why, when `full`
    state: Path | None = None  # the state file (state_path); None: keep no state
    target: Path | None = None  # the analytics file it goes with (resolved)
    mode: str = "full"
    reason: str = ""
    kept: tuple[str, ...] = ()
    delta: tuple[str, ...] = ()  # changed sources normalized for the items touched only
    touched: dict[str, int] = field(default_factory=dict)  # source -> items normalized again
    # source -> why a by-item normalization was done again on every item (jira_delta.consistent)
    widened: dict[str, str] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # source -> new or changed raw rows
    tables: list[tuple[str, str, int, int]] = field(default_factory=list)  # the raw store now
    deleted: list[tuple[str, str, int]] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)  # raw tables with rows new, changed or gone
    identity: str = ""
    fingerprint: str = ""
    inputs: str = ""  # analysis_inputs(): what else the analysis reads
    attached: bool = False
    # the build's file starts as a copy of the state (`current` found it a valid base): an
    # incremental build deletes the rows it normalizes again instead of copying the others
    start: bool = False

    refs_token: str = ""  # names this build's refs file in its state (build_state.finish)
    refs_at: Path | None = None  # where this build writes its refs (None: in memory)

    @property
    def temp(self) -> Path | None:
        return self.state.with_name(f"{self.state.name}.building-{owner_tag()}") \
            if self.state else None

    @property
    def refs(self) -> Path | None:
        """The refs file kept beside the state (analytics_db.attach_refs; `refs_path`)."""
        return refs_path(self.state) if self.state else None

    @property
    def refs_temp(self) -> Path | None:
        """This build's refs file, renamed in with its state (build_state.commit)."""
        return self.refs.with_name(f"{self.refs.name}.building-{owner_tag()}") \
            if self.refs else None

    def normalizes(self, source: str | None) -> bool:
        """Whether this build runs the normalization of `source` (None: every build does)."""
        return source is None or source not in self.kept

    def summary(self) -> str:
        if self.mode == "full":
            return f"full: {self.reason}"
        if self.mode == "current":
            return ("up to date: nothing it is built from changed since the last build, so it "
                    "was not rebuilt (`build --full` rebuilds it)")
        rows = sum(self.changed.values())
        redone = [s for s in SOURCES if s in self.changed]
        parts = []
        if redone:
            parts.append(f"{', '.join(redone)} changed ({rows:,} raw rows since the last "
                         f"build), normalized again")
            parts += [f"{source} only for the {self.touched[source]:,} {ITEMS[source]} "
                      f"touched" for source in self.delta
                      if source in self.touched and source not in self.widened]
            parts += [f"{source} for every {ITEMS[source][:-1]}: {why}"
                      for source, why in self.widened.items()]
        else:
            parts.append("no raw row changed since the last build")
        if self.kept:
            parts.append(f"{', '.join(self.kept)} kept")
        return "incremental: " + "; ".join(parts)


def current(config: Any, plan: Plan) -> bool:
    """Whether the analytics database is what a build would make now: it is the file the last
    build wrote, from this raw store, with this code and config, no raw row new, changed, gone
    or marked deleted since, and the same analysis inputs. Then `processhealth build` leaves
    it as it is (plan.mode "current"), where an incremental build would copy the state and
    run the whole analysis again (at 1M events 18.9 s). Reads only; False on any doubt, and
    plan.start once the state is found a valid base (the build then starts from its copy)."""
    target = Path(config.storage.analytics_path)
    raw = Path(config.storage.raw_path)
    if plan.full or plan.state is None or not plan.state.exists() or not target.exists() \
            or not raw.exists():
        return False
    # a write-ahead log beside it: someone wrote to it since (a build removes it)
    written = target.with_name(target.name + ".wal").exists()
    # opened as the build's (UTC: the raw store's identity holds a timestamp as text)
    con = open_duckdb(Path(":memory:"), memory_limit=config.storage.memory_limit)
    try:
        con.execute("ATTACH ? AS raw (READ_ONLY)", [str(raw)])
        con.execute("SET search_path = 'main,raw'")
        plan.identity, plan.tables, plan.deleted = raw_now(con)
        plan.fingerprint = fingerprint(config)
        plan.inputs = analysis_inputs(con, config)
        if _base_problem(con, config, plan) is not None:
            return False
        plan.start = True  # a build starts from a copy of the state (decide)
        if written or _changes(con, plan):
            return False
        [(inputs,)] = con.execute(
            "SELECT coalesce(max(value), '') FROM prev.state WHERE key = 'inputs'").fetchall()
    except (duckdb.Error, StateUnreadable):
        return False
    finally:
        con.close()
        plan.attached = False
        plan.dirty = set()  # decide() finds them again if a build follows
    if inputs != plan.inputs:
        return False
    plan.mode, plan.kept, plan.changed = "current", SOURCES, {}
    # what a build would clean up: temp files of killed builds, states of files that are gone
    _remove_abandoned(target)
    _remove_abandoned(plan.state)
    _remove_abandoned(refs_path(plan.state))
    forget_orphans(plan.state)
    return True


def decide(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """Full or incremental, and which sources to keep; attaches the previous build state as
    `prev` (read-only) when it is used, and the new one as `state`. plan.summary() says what
    it chose (`processhealth build` prints it)."""
    plan.identity, plan.tables, plan.deleted = raw_now(con)
    plan.fingerprint = fingerprint(config)
    plan.inputs = analysis_inputs(con, config)
    if plan.state is not None:  # where this build writes the state for the next one
        try:
            plan.state.parent.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(plan.state)
            _remove_abandoned(refs_path(plan.state))
            _remove(plan.temp)
            con.execute("ATTACH ? AS state", [str(plan.temp)])
        except (OSError, duckdb.Error) as exc:
            ui.warn(f"build: cannot write the build state in {plan.state.parent} "
                    f"({' '.join(str(exc).split())[:200]}); this build is full, and so will "
                    f"the next one be.")
            plan.state = None
    reason = _base_problem(con, config, plan)
    if reason is None and not plan.start:
        reason = "the build state could not be checked before the build began"
    if reason is not None and plan.start:  # the file is a copy of a state no longer valid
        raise StateUnreadable(f"the build state changed as the build began ({reason})")
    if reason is None:
        plan.mode, plan.changed = "incremental", _changes(con, plan)
        plan.kept = tuple(s for s in SOURCES if s not in plan.changed)
        delta = []
        if "github" in plan.changed and _from_state(lambda: github_delta.usable(con)):
            delta.append("github")
        if "jira" in plan.changed and "raw_jira_fields" not in plan.dirty \
                and _from_state(lambda: jira_delta.usable(con)):
            delta.append("jira")  # a new field list changes what every issue's rows hold
        if "slack" in plan.changed and _from_state(lambda: slack_delta.usable(con)):
            delta.append("slack")
        plan.delta = tuple(delta)
    else:
        plan.mode, plan.reason, plan.kept, plan.changed = "full", reason, (), {}
        if plan.attached:
            con.execute("DETACH prev")
            plan.attached = False


def _base_problem(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> str | None:
    """Why the previous database cannot be the base of this build (None: it can)."""
    if plan.full:
        return plan.full_reason
    target = Path(config.storage.analytics_path)
    if not target.exists():
        return "there is no previous database"
    if plan.state is None or not plan.state.exists():
        return "the previous build left no build state (built by an older version)"
    if plan.refs is None or not plan.refs.exists():
        return "the previous build state has no refs file (removed, or an older version's)"
    try:
        con.execute("ATTACH ? AS prev (READ_ONLY)", [str(plan.state)])
        plan.attached = True
        state = dict(con.execute("SELECT key, value FROM prev.state").fetchall())
        before = {t: (s, int(m), int(n)) for s, t, m, n in con.execute(
            "SELECT source, table_name, max_seq, row_count FROM prev.raw_tables").fetchall()}
    except duckdb.Error as exc:
        return f"the build state cannot be read ({' '.join(str(exc).split())[:200]})"
    if state.get("format") != FORMAT:
        return "the build state is of another format"
    if state.get("analytics") != file_identity(target):
        return (f"{target} is not the database the last build wrote (replaced, restored or "
                f"copied since)")
    if state.get("raw_store") != plan.identity:
        return "the previous database was built from another raw store"
    if state.get("fingerprint") != plan.fingerprint:
        return "the code, the DuckDB version or the config changed since the last build"
    now = {t: m for _, t, m, _ in plan.tables}
    for table, (_, top, _) in sorted(before.items()):
        if table not in now:
            return f"raw table {table} is gone from the raw store"
        if now[table] < top:
            return f"raw table {table} went back (a restored or re-collected raw store)"
    return None


def _changes(con: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, int]:
    """source -> raw rows new or changed since the last build, for each source that changed
    (rows gone or deleted marks changed count as a change with 0 rows if nothing else)."""
    before = {t: (int(m), int(n)) for t, m, n in _from_state(lambda: con.execute(
        "SELECT table_name, max_seq, row_count FROM prev.raw_tables").fetchall())}
    changed: dict[str, int] = {}
    for source, table, _, rows in plan.tables:
        top, count = before.get(table, (-1, 0))
        [(new,)] = con.execute(f"SELECT count(*) FROM raw.{table} WHERE seq > ? OR seq IS NULL",
                               [top]).fetchall()
        if new or rows - new != count:
            changed[source] = changed.get(source, 0) + int(new)
            plan.dirty.add(table)
    marks = {s: (d, n) for s, d, n in _from_state(lambda: con.execute(
        "SELECT source, digest, row_count FROM prev.deleted").fetchall())}
    now = {s: (d, n) for s, d, n in plan.deleted}
    for source in set(marks) | set(now):
        if marks.get(source) != now.get(source):
            changed.setdefault(source, 0)
    return {s: changed[s] for s in SOURCES if s in changed}


def quarantine_step(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """Set aside the raw rows normalization cannot read, of the sources normalized again; an
    incremental build that normalizes Slack by message checks only the messages the last build
    did not read as readable (quarantine.build; the GitHub and Jira issues, checked by
    normalization itself, are all checked every time)."""
    sources = tuple(s for s in SOURCES if plan.normalizes(s))
    if plan.mode != "incremental" or "slack" not in plan.delta:
        quarantine.build(con, config, sources=sources)
        return
    _from_state(lambda: con.execute(  # read from the state apart: quarantine reads the raw store
        "CREATE OR REPLACE TEMP TABLE _prev_read AS SELECT natural_key, seq FROM refs.slack_refs"))
    quarantine.build(con, config, sources=sources,
                     read={"raw_slack_messages": "SELECT natural_key, seq FROM _prev_read"})
    con.execute("DROP TABLE _prev_read")


def forget_orphans(state: Path) -> list[Path]:
    """Remove the other build states of the folder whose analytics database is gone (its path
    was changed in the config, or the file deleted): each holds a copy of the normalized tables,
    about 1 GB at 10M events, that no build would read again. A state that does not name its
    file (written before this rule), or cannot be read now (another build holds it), is left.
    Returns the states removed."""
    removed = []
    for other in sorted(state.parent.glob("*.duckdb")):
        if other == state:
            continue
        try:
            with duckdb.connect(str(other), read_only=True) as con:
                found = con.execute("SELECT value FROM state WHERE key = 'analytics_path'"
                                    ).fetchone()
        except duckdb.Error:
            continue
        if found and found[0] and not Path(found[0]).exists():
            for path in (other, other.with_name(other.name + ".wal"), refs_path(other),
                         refs_path(other).with_name(refs_path(other).name + ".wal")):
                _remove(path)
            removed.append(other)
    return removed
