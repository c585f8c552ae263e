"""The incremental build's file, a copy of the last build state (docs/build.md, "The unit of
re-derivation"): made the start of the build (`clean`: the state's own tables dropped, the
tables the steps before normalization fill emptied, every kept row read once), then the rows
this build normalizes again deleted (`restore`: whole sources, or the touched items' rows of
GitHub, Jira and Slack). processhealth/incremental.py decides whether there is such a start."""

from __future__ import annotations

from typing import Any

import duckdb

from analysis import materialize
from processhealth import (
    event_base_delta,
    github_delta,
    github_touched,
    jira_delta,
    slack_delta,
    ui,
)
from processhealth.incremental import NORMALIZED, Plan, StateUnreadable, _from_state

# The state tables of its refs file (analytics_db.attach_refs): the GitHub, Jira and Slack
# refs and github_read, which an incremental build uses in place, in its copy of that file.
IN_REFS = (*github_delta.IN_REFS, *jira_delta.IN_REFS, *slack_delta.IN_REFS)
# The build state's own tables (build_state.save), which its copy, the start of an incremental
# build, drops.
STATE_ONLY = ("state", "norm_source_coverage", "raw_tables", "deleted",
              *(t for t in (*github_delta.STATE_TABLES, *jira_delta.STATE_TABLES,
                            *slack_delta.STATE_TABLES) if t not in IN_REFS))

def clean(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """The build's file, a copy of the last build state, made the start of an incremental
    build: the state's own tables dropped (they are not part of the analytics database), the
    rows of every table but the normalized ones deleted (the steps before normalization write
    them again: the recorded process changes, the collection gaps, the quarantine records; and
    the analysis its tables: people, teams, credited minutes, verdicts), and the views a build
    stores as tables (analysis/materialize.py) made views again. The normalized tables keep
    what the last build's analysis wrote into them (person ids, categories, event numbers,
    the Jira echo): each of those writes is total, so the analysis writes them as a build
    from empty tables does (docs/build.md, "Cost").
    The normalized rows stay, and so do the refs (`IN_REFS`, used in place in the copy of the
    refs file): `restore` deletes those this build normalizes again. Each of
    them is read once here, every column: a damaged block of the state fails now, and the
    build is full (pipeline.build), where a block no later step happens to read would have
    been carried into the published database unseen (2.2 s at 10M events, docs/build.md).

    First, the copy must be the state `decide` checked (`prev`): another build may have renamed
    its state in between the copy and the check, and the copy's rows would then be kept as if
    they were the newer state's. Each build's `state` rows name the file it renamed in, and
    the refs file it wrote (a token in both): the two copies must be of one build.
    Nothing for a full build (its file starts empty)."""
    if plan.mode != "incremental":
        return
    _from_state(lambda: _clean(con))


def _clean(con: duckdb.DuckDBPyConnection) -> None:
    [(differ,)] = con.execute(
        "SELECT count(*) FROM ((SELECT * FROM main.state EXCEPT ALL SELECT * FROM prev.state)"
        " UNION ALL (SELECT * FROM prev.state EXCEPT ALL SELECT * FROM main.state))").fetchall()
    if differ:
        raise StateUnreadable("the build state changed as the build began (another build "
                              "wrote it)")
    [(token,)] = con.execute("SELECT coalesce(max(value), '') FROM main.state"
                             " WHERE key = 'refs'").fetchall()
    [(refs,)] = con.execute("SELECT coalesce(max(token), '') FROM refs.refs_build").fetchall()
    if not token or token != refs:
        raise StateUnreadable("the build state's refs file is another build's (one of the two "
                              "was replaced, or a build stopped between renaming them)")
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' ORDER BY table_name").fetchall()]
    kept = [t for t in tables if t in NORMALIZED]
    for table in (*(f"main.{t}" for t in kept), *(f"refs.{t}" for t in IN_REFS)):
        con.execute(f"SELECT bit_xor(hash(t)) FROM {table} AS t").fetchall()
    stored = [t for t in tables if t in materialize.BUILDING_BLOCKS]
    if "metric_event_base" in stored:  # kept, to be patched (event_base_delta.py)
        event_base_delta.keep(con)
        tables.remove("metric_event_base")
    for table in tables:
        if table in STATE_ONLY or table in stored:
            con.execute(f'DROP TABLE main."{table}"')
        elif table not in kept:
            con.execute(f'DELETE FROM main."{table}"')
    # a state taken after the analysis holds the views the build stores as tables: views again
    from processhealth.pipeline import view_statements  # (pipeline imports this module)

    for statement in view_statements(stored):
        con.execute(statement)
    if stored:  # their blocks free for the tables the analysis writes (else the file grows)
        con.execute("CHECKPOINT")


def restore(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """In an incremental build, whose file starts as a copy of the last build state: the rows
    of the sources normalized again deleted (a kept source's rows simply stay), and the kept
    sources' quarantine records copied from the state. Slack normalized by message: the
    messages touched are found and only their events deleted (slack_delta.py); so is Jira
    normalized by issue (jira_delta.py), and GitHub by unit (github_delta.py; normalized from
    all its rows when its repositories' names changed). Kept events keep the last build's
    event_seq and analysis; normalized ones get 0 (classification numbers them; the patch of
    metric_event_base takes those as fresh: event_base_delta.py)."""
    incremental = plan.mode == "incremental"
    if incremental:
        _from_state(lambda: _copy_coverage(con, list(plan.kept)))
        for source in plan.changed:
            if source not in plan.delta:
                _from_state(lambda source=source: clear(con, source))
    # a kept source's refs are in the copy of the refs file, as the state holds them
    if incremental and "github" in plan.kept:
        pass
    elif incremental and "github" in plan.delta:
        with ui.profiled("github: the last build's tables read", "  "):
            _from_state(lambda: github_delta.load(con))
        with ui.profiled("github: units touched", "  "):
            plan.touched["github"], why = github_touched.touched(con)
        if why is None:
            with ui.profiled("github: their rows deleted", "  "):
                _from_state(lambda: clear(con, "github", github_delta.KEPT))
            coverage = columns(con, "source_coverage")
            _from_state(lambda: github_delta.restore(con, coverage))
        else:  # every GitHub row normalized again
            plan.widened["github"] = why
            _from_state(lambda: clear(con, "github"))
            github_delta.prepare(con)
    else:
        github_delta.prepare(con)
    if incremental and "jira" in plan.kept:
        pass
    elif incremental and "jira" in plan.delta:
        with ui.profiled("jira: the last build's tables read", "  "):
            _from_state(lambda: jira_delta.load(con))
        with ui.profiled("jira: issues touched", "  "):
            plan.touched["jira"] = jira_delta.touched(con)
        with ui.profiled("jira: their rows deleted", "  "):
            _from_state(lambda: clear(con, "jira", jira_delta.KEPT))
        coverage = columns(con, "source_coverage")
        _from_state(lambda: jira_delta.restore(con, coverage))
    else:
        jira_delta.prepare(con)
    if incremental and "slack" in plan.kept:
        pass
    elif incremental and "slack" in plan.delta:
        with ui.profiled("slack: messages touched", "  "):
            _from_state(lambda: slack_delta.load(con))
            plan.touched["slack"] = slack_delta.touched(con)
        with ui.profiled("slack: their events deleted", "  "):
            _from_state(lambda: clear(con, "slack", slack_delta.KEPT))
        slack_delta.restore(con)
    else:
        slack_delta.prepare(con)


def clear(con: duckdb.DuckDBPyConnection, source: str,
           kept: dict[str, str] | None = None) -> None:
    """Out of the copied state: the normalized rows of `source`, all of them, or in a table of
    `kept` those its SQL predicate does not keep (the items touched)."""
    for table, expr in NORMALIZED.items():
        if expr.startswith("'") and expr != f"'{source}'":
            continue  # a table of another source's rows only
        keep = (kept or {}).get(table)
        where = f"({expr}) = ?" + (f" AND ({keep}) IS NOT TRUE" if keep else "")
        event_base_delta.gone(con, table, where, [source])
        con.execute(f"DELETE FROM {table} WHERE {where}", [source])


def _copy_coverage(con: duckdb.DuckDBPyConnection, kept: list[str]) -> None:
    """The kept sources' quarantine records (source_coverage was emptied by `clean`)."""
    names = columns(con, "source_coverage")
    con.execute(f"INSERT INTO source_coverage({names}) SELECT {names}"
                f" FROM prev.norm_source_coverage WHERE list_contains(?, source)", [kept])


def columns(con: duckdb.DuckDBPyConnection, table: str, skip: set[str] | None = None) -> str:
    names = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall()]
    return ", ".join(f'"{n}"' for n in names if n not in (skip or set()))
