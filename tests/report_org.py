"""The report tests' organization: hand-made domain rows run through the real views, verdicts and
experiments, so every figure the tests assert follows from the rows below by hand.

    path = report_database(tmp_path / "analytics.duckdb")   # built once per run, copied

Two teams, November 2025 to October 2026. Every weekday each person commits to the month's pull
request (60 customer minutes) and edits a field of a backlog item that never ships (PROCESS
minutes). Team atlas (6 people) adopts a PM tool on 2026-06-01: its field edits become the tool's
"Business Value" field and take longer; in October they take longer again. Team tiny (3 people)
stays the same, and every figure about it is suppressed. Titles and a field name are hostile,
the way real ones can be.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from shared_cache import shared
from test_metric_db import TinyDB
from test_verdicts import weekdays

from analysis import experiments, params, verdicts
from processhealth.config import Config

HOSTILE_TITLE = "<script>alert('x')</script> fix login"
HOSTILE_IMG = '<img src=x onerror="alert(1)"> export'
HOSTILE_FIELD = "<svg onload=alert(2)> Business Value"
MONTHS = [date(2025, 11, 1), date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 11)]
CHANGE_ON = date(2026, 6, 1)  # a Monday
TEAMS = {"atlas": 6, "tiny": 3}
CUSTOMER_MINUTES = 60


def process_minutes(team: str, month: date) -> int:
    """Minutes of each person's daily field edit: atlas 10, 25 with the PM tool, 40 in October."""
    if team != "atlas" or month < CHANGE_ON:
        return 10
    return 40 if month == date(2026, 10, 1) else 25


class _FileDB(TinyDB):
    """TinyDB writing to a file, which the report opens read-only."""

    def __init__(self, path: Path) -> None:
        import duckdb

        from processhealth import pipeline

        self.con = duckdb.connect(str(path))
        self.con.execute("SET TimeZone = 'UTC'")
        pipeline.create_empty(self.con)  # tables, building blocks and metric views
        self._events = []
        self._effort = []


def _people(db: _FileDB) -> dict[str, list[str]]:
    months = [m.strftime("%Y-%m") for m in MONTHS]
    people = {}
    for team, size in TEAMS.items():
        db.con.execute("INSERT INTO teams VALUES (?, ?, 'config')", [team, size])
        people[team] = [f"{team}{n}" for n in range(1, size + 1)]
        for pid in people[team]:
            db.person(pid, team, months, slack_id=f"U-{pid}")
    db.person("nagbot", None, bot=True, slack_id="B-nag")
    db.con.execute("INSERT INTO identities VALUES ('slack', 'U-stranger', 'stranger', NULL,"
                   " 'Stranger', false, NULL, 'unmatched')")
    db.channel("C-random", "random")
    db.channel("C-nag", "pm-nags")
    return people


def _items(db: _FileDB, team: str, pids: list[str]) -> None:
    """Two backlog items that never ship, a story resolved each month, a PR merged each month."""
    prefix = team.upper()[:3]
    for n, title, url in ((1, HOSTILE_TITLE, f"https://x.example/{prefix}-1"),
                          (2, HOSTILE_IMG, "javascript:alert(3)")):
        item = f"jira:{prefix}-{n}"
        db.item(item, created="2025-10-01", assignee=pids[0], category="process")
        db.con.execute("UPDATE work_items SET title = ?, url = ? WHERE item_id = ?",
                       [title, url, item])
    for i, month in enumerate(MONTHS, start=10):
        day = weekdays(month)
        story = f"jira:{prefix}-{i}"
        db.item(story, created=f"{day[0]} 09:00", resolved=f"{day[5]} 09:00", assignee=pids[1])
        db.move(story, f"{day[1]} 09:00", "To Do", "In Progress", pids[1])
        db.move(story, f"{day[2]} 09:00", "In Progress", "Blocked", pids[1])
        db.move(story, f"{day[3]} 09:00", "Blocked", "In Progress", pids[1])
        db.move(story, f"{day[5]} 09:00", "In Progress", "Done", pids[1])
        pr = f"github:acme/{team}-app#{i}"
        db.item(pr, created=f"{day[8]} 10:00", merged=f"{day[9]} 10:00", author=pids[0],
                kind="pr", container=f"acme/{team}-app")
        db.event(f"{pr}-review", f"{day[8]} 14:00", pids[1], "pr_review", item=pr)
        db.event(f"{pr}-release", f"{day[10]} 10:00", pids[0], "release",
                 detail={"repo": f"acme/{team}-app"})
        if month >= date(2026, 8, 1):  # the audit's months: Story Points filled but in October
            for field_id, name, filled in (("customfield_10016", "Story Points", i != 21),
                                           ("customfield_666", HOSTILE_FIELD, False)):
                db.con.execute("INSERT INTO item_fields VALUES (?, ?, ?, NULL, true, ?)",
                               [story, field_id, name, filled])
            db.event(f"{story}-points", f"{day[4]} 09:00", pids[1], "jira_field_edit",
                     item=story, detail={"field_id": "customfield_10016"}, minutes=0)


def _work(db: _FileDB, team: str, pids: list[str]) -> None:
    prefix = team.upper()[:3]
    for i, month in enumerate(MONTHS, start=10):
        minutes = process_minutes(team, month)
        field = "Business Value" if team == "atlas" and month >= CHANGE_ON else "Priority"
        pr = f"github:acme/{team}-app#{i}"
        for day in weekdays(month):
            backlog = f"jira:{prefix}-{2 if day.weekday() == 4 else 1}"
            for pid in pids:
                db.event(f"{pid}-c-{day}", f"{day} 10:00", pid, "commit", item=pr,
                         minutes=CUSTOMER_MINUTES)
                db.event(f"{pid}-p-{day}", f"{day} 15:00", pid, "jira_field_edit",
                         item=backlog, detail={"field": field}, minutes=minutes)
        first = weekdays(month)[0]
        for pid in pids:  # a chat message in #random, unclassified
            db.event(f"{pid}-r-{first}", f"{first} 16:00", pid, "slack_message",
                     channel="C-random", category="unclassified", minutes=30)


def _nags(db: _FileDB, pids: list[str]) -> None:
    """#pm-nags in October: two reminders by a bot mentioning atlas1, a message by an account
    tied to nobody, and atlas1's reply."""
    for n, day in enumerate(("2026-10-06", "2026-10-13")):
        db.event(f"nag-{n}", f"{day} 09:00", "nagbot", "slack_message", channel="C-nag",
                 subkind="reminder", category="process", detail={"mentions": [f"U-{pids[0]}"]})
    db.event("stranger-1", "2026-10-07 09:00", None, "slack_message", channel="C-nag",
             category="unclassified")
    db.event("reply-1", "2026-10-08 09:00", pids[0], "slack_message", channel="C-nag",
             category="process", minutes=0)


def _sensitivity(db: _FileDB) -> None:
    """What the effort model's other session gaps would credit in October: each field edit 5
    minutes less with G = 30, 5 more with G = 60 (the configured G is 45)."""
    october = MONTHS[-1]
    days = len(weekdays(october))
    for team, size in TEAMS.items():
        for gap, shift in ((30, -5), (45, 0), (60, 5)):
            for category, minutes in (("customer", CUSTOMER_MINUTES),
                                      ("process", process_minutes(team, october) + shift)):
                db.con.execute("INSERT INTO effort_sensitivity VALUES (?, ?, ?, ?, ?, ?)",
                               [gap, team, october, category, size * days * minutes, size])


def _change(db: _FileDB) -> None:
    db.change("pm-tool", CHANGE_ON.isoformat(), "atlas", {"field": ["Business Value"]})
    db.con.execute("UPDATE process_changes SET tool = ? WHERE name = 'pm-tool'", [HOSTILE_IMG])
    for idx, metric, threshold in ((1, "overhead_ratio", 3), (2, "paperwork_ratio", 5)):
        db.con.execute("INSERT INTO experiment_criteria VALUES ('pm-tool', ?, ?, '<=', ?, 'pp',"
                       " ?)", [idx, metric, threshold, f"{metric} <= +{threshold}pp"])


# The rows that belong to one team, per domain table (copy_teams)
_TEAM_ROWS = {
    "teams": "team = $team", "effort_sensitivity": "team = $team",
    "people": "person_id LIKE $team || '%'", "person_months": "person_id LIKE $team || '%'",
    "identities": "person_id LIKE $team || '%'",
    "effort_sessions": "person_id LIKE $team || '%'",
    "events": "person_id LIKE $team || '%'",
    **{table: "item_id LIKE 'jira:' || $key || '-%' OR item_id LIKE 'github:acme/' || $team"
              " || '-app#%'" for table in ("work_items", "transitions", "item_fields")},
    "health_verdicts": "team = $team",
    "health_verdict_signals": 'team = $team AND "change" IS NULL',
}


def _copied(column: str) -> str:
    """SQL: the value of `column` in copy c (ids c<n>-<i>, keys C<n>)."""
    return (f"replace(replace({column}::VARCHAR, c.base, 'c' || c.n || '-'),"
            f" upper(c.base[:3]), 'C' || c.n)")


def _copied_event_id(column: str) -> str:
    """SQL: an event id in copy c; some (atlas's reply in #pm-nags) do not name the team."""
    return f"'c' || c.n || ':' || {_copied(column)}"


def copy_teams(con: Any, copies: dict[str, str]) -> None:
    """Add teams `copies` (new name -> 'atlas' or 'tiny') as copies of that team's domain rows
    and stored verdicts, in SQL: hundreds of teams in seconds, where the verdict build takes
    minutes (its engagement query grows with teams). The copies' verdicts are the original's
    rows, not recomputed: for tests of the report at scale, which read them as stored. Ids
    become c<n>-<i> (people) and C<n>-<i> (keys); a copy of atlas has no process change."""
    if not copies:
        return
    con.execute("CREATE TEMP TABLE copies(n INTEGER, name VARCHAR, base VARCHAR)")
    con.executemany("INSERT INTO copies VALUES (?, ?, ?)",
                    [[n, name, base] for n, (name, base) in enumerate(copies.items())])
    con.execute("BEGIN TRANSACTION")
    # copy n's sessions are numbered from (n + 1) x `span` on: above every session there is
    # (numbers follow event_seq, the UTC second x 1,000,000 in a build), so none is shared
    [(span,)] = con.execute("SELECT greatest(coalesce(max(session_no), 0), 0) + 1"
                            " FROM effort_sessions").fetchall()
    for table, where in _TEAM_ROWS.items():
        columns = con.execute("SELECT column_name, data_type FROM duckdb_columns()"
                              " WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
        select = []
        for name, kind in columns:
            column = f't."{name}"'
            renamed = _copied_event_id(column) if name == "event_id" else _copied(column)
            if name == "event_seq":  # a copy is a new event (its effort follows below)
                select.append("nextval('event_seq')" if table == "events" else "NULL")
                continue
            if name == "session_no":  # a copy's sessions are new sessions
                select.append(f"t.session_no + (c.n + 1) * {span}")
                continue
            select.append("c.name" if name == "team" else renamed if kind == "VARCHAR"
                          else f"{renamed}::JSON" if kind == "JSON" else column)
        where = where.replace("$team", "c.base").replace("$key", "upper(c.base[:3])")
        where = where.replace("team =", "t.team =").replace("person_id", "t.person_id")
        where = where.replace("item_id", "t.item_id").replace('"change"', 't."change"')
        con.execute(f"INSERT INTO {table} SELECT {', '.join(select)} FROM {table} AS t, copies"
                    f" AS c WHERE {where}")
    # each credit of the base team's events, on the copy's event and session
    con.execute(f"""
        INSERT INTO effort_credit
        SELECT ce.event_seq, f.session_no + (c.n + 1) * {span}, f.minutes
        FROM effort_credit AS f JOIN events AS e USING (event_seq)
        JOIN copies AS c ON e.person_id LIKE c.base || '%'
        JOIN events AS ce ON ce.event_id = {_copied_event_id("e.event_id")}
    """)
    con.execute("COMMIT")


# The organization as collected on a day `until` (the first of a month): every row dated later
# is not there yet. Each month's stories and pull requests end within it, so nothing straddles.
_UNTIL = (
    "DELETE FROM events WHERE occurred_at >= $until",
    "DELETE FROM effort_credit WHERE event_seq NOT IN (SELECT event_seq FROM events)",
    "DELETE FROM effort_sessions WHERE session_no NOT IN (SELECT session_no FROM effort_credit)",
    'DELETE FROM transitions WHERE "at" >= $until',
    "DELETE FROM work_items WHERE created_at >= $until",
    "DELETE FROM item_fields WHERE item_id NOT IN (SELECT item_id FROM work_items)",
    "DELETE FROM person_months WHERE month >= $until::DATE",
    "DELETE FROM effort_sensitivity WHERE month >= $until::DATE",
)


def build(path: Path) -> Path:
    """Write the organization's analytics database to `path`."""
    db = _FileDB(path)
    config = Config()
    params.write(db.con, config)
    db.con.execute("BEGIN TRANSACTION")  # one commit: row by row, a file database syncs each
    people = _people(db)
    for team, pids in people.items():
        _items(db, team, pids)
        _work(db, team, pids)
    _nags(db, people["atlas"])
    _sensitivity(db)
    _change(db)
    db.flush()
    db.con.execute("COMMIT")
    verdicts.build(db.con, config)
    experiments.build(db.con, config)
    db.con.close()
    return path


def report_database(path: Path, stored_blocks: bool = False) -> Path:
    """Copy the organization's database (built once per test run, tests/shared_cache.py) to
    `path`. Its metric building blocks are views over the domain rows, so a test may change
    those rows and read the views; with `stored_blocks` they are tables instead, stored the
    way `processhealth build` stores them (analysis/materialize.py): the same rows, read faster,
    for tests that change no domain rows."""
    built = shared("report-org", lambda folder: build(folder / "analytics.duckdb"))
    if stored_blocks:
        built = shared("report-org-stored", lambda folder: _stored(built, folder))
    shutil.copyfile(built, path)
    return Path(path)


def _stored(built: Path, folder: Path) -> Path:
    import duckdb

    from analysis import materialize

    path = Path(shutil.copyfile(built, folder / "analytics.duckdb"))
    con = duckdb.connect(str(path))
    try:
        materialize.build(con)
    finally:
        con.close()
    return path


def collected_until(path: Path, until: date) -> Path:
    """The organization's database as a build on day `until` (a first of the month) would have
    made it: only the rows dated before it, then the build's metric, verdict and experiment
    steps again (on stored building blocks: seconds, where build() takes more)."""
    import duckdb

    from reports.asof import recompute

    report_database(path)
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for statement in _UNTIL:
            con.execute(statement, {"until": f"{until} 00:00:00+00"} if "$until" in statement
                        else None)
        recompute(con, Config())
    finally:
        con.close()
    return Path(path)


def many_teams_database(path: Path, names: list[str]) -> Path:
    """The organization's database plus a team per name (every fifth a copy of tiny, too small
    to show; the others copies of atlas): an organization of hundreds of teams in seconds."""
    import duckdb

    from analysis import materialize

    report_database(path)
    con = duckdb.connect(str(path))
    try:
        copy_teams(con, {name: "tiny" if i % 5 == 4 else "atlas" for i, name in enumerate(names)})
        # the heaviest views stored as tables, as `processhealth build` stores them (after the
        # copies, so they hold every team): the report then reads what it reads in real use
        materialize.build(con)
    finally:
        con.close()
    return Path(path)
