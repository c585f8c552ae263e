"""Process changes found in the data and team events (docs/metrics.md section 8), on hand-built
rows: metric_change_onsets and metric_team_events."""

from __future__ import annotations

import shlex
from datetime import date

from test_metric_db import TinyDB
from test_verdicts import weekdays

from processhealth import state
from processhealth.config import load_config
from processhealth.store import RawStore

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def found_org() -> TinyDB:
    """Team a: a1-a4 all along, a5 to April, a6 from March; team b: b1-b4 all along, b5 to
    February. Everyone edits Priority on the first two weekdays of each of their months."""
    db = TinyDB()
    members = {f"a{n}": MONTHS for n in range(1, 5)} | {"a5": MONTHS[:4], "a6": MONTHS[2:]}
    members |= {f"b{n}": MONTHS for n in range(1, 5)} | {"b5": MONTHS[:2]}
    for pid, months in members.items():
        db.person(pid, pid[0], months, slack_id=f"U-{pid}")
        for month in months:
            for day in weekdays(date.fromisoformat(f"{month}-01"))[:2]:
                db.event(f"{pid}-prio-{day}", f"{day} 10:00", pid, "jira_field_edit",
                         item="jira:A-1", detail={"field_name": "Priority"}, minutes=5)
    db.person("nagbot", None, bot=True, slack_id="B-nag")
    db.person("ci", None, bot=True)
    db.channel("C-rand", "random")
    db.channel("C-pm", "pmtool-atlas")
    return db


def add_onsets(db: TinyDB) -> None:
    # a new required field: 10 edits of Business Value from Mon 2026-04-06 (a1-a5, two days)
    for day in ("2026-04-06", "2026-04-07"):
        for n in range(1, 6):
            db.event(f"bv-a{n}-{day}", f"{day} 11:00", f"a{n}", "jira_field_edit",
                     item="jira:A-2", detail={"field_name": "Business Value"}, minutes=5)
    # a field edited once in February, then 6 times from 2026-05-11: its onset is May
    db.event("dv-feb", "2026-02-10 11:00", "a1", "jira_field_edit", item="jira:A-2",
             detail={"field_name": "Dev's <b>Value</b>"})
    for n in range(1, 7):
        db.event(f"dv-{n}", f"2026-05-{10 + n} 11:00", f"a{(n % 4) + 1}", "jira_field_edit",
                 item="jira:A-2", detail={"field_name": "Dev's <b>Value</b>"})
    # Labels: 3 edits in March and 3 in April, never 5 in a month: no onset
    for n, day in enumerate(("2026-03-10", "2026-03-11", "2026-03-12", "2026-04-14",
                             "2026-04-15", "2026-04-16")):
        db.event(f"lab-{n}", f"{day} 11:00", "a2", "jira_field_edit", item="jira:A-2",
                 detail={"field_name": "Labels"})
    # a field filled at creation (no edit): b's 5 items created from Mon 2026-04-13 have
    # "Team Goal"; items of January without it
    for n in range(5):
        db.item(f"jira:B-{20 + n}", created=f"2026-04-{13 + n} 09:00", assignee=f"b{n % 4 + 1}")
        db.con.execute("INSERT INTO item_fields VALUES (?, 'customfield_1', 'Team Goal', NULL,"
                       " true, true)", [f"jira:B-{20 + n}"])
        db.item(f"jira:B-{30 + n}", created=f"2026-01-{13 + n} 09:00", assignee="b1")
        db.con.execute("INSERT INTO item_fields VALUES (?, 'customfield_1', 'Team Goal', NULL,"
                       " true, false)", [f"jira:B-{30 + n}"])
    # a new issue type: b1-b4 create an Experiment each on Mon 2026-03-02 (recorded below)
    for n in range(1, 5):
        db.event(f"exp-{n}", "2026-03-02 09:00", f"b{n}", "jira_created",
                 item=f"jira:B-{n}", detail={"issue_type": "Experiment"}, category="enabling")
    # #random from January: not new. #pmtool-atlas from Mon 2026-05-04: a1-a3 write 6
    # messages, b1 one: atlas's channel
    for pid in ("a1", "b1"):
        db.event(f"rand-{pid}", "2026-01-06 12:00", pid, "slack_message", channel="C-rand")
    for n in range(6):
        db.event(f"pm-{n}", f"2026-05-0{4 + n % 3} 12:00", f"a{n % 3 + 1}", "slack_message",
                 channel="C-pm")
    db.event("pm-b1", "2026-05-05 13:00", "b1", "slack_message", channel="C-pm")
    # nagbot's reminders in #pmtool-atlas from Tue 2026-05-05, five in May, mentioning a1
    for n in range(5):
        db.event(f"nag-{n}", f"2026-05-{5 + 7 * (n % 4):02d} 0{n}:00", "nagbot",
                 "slack_message", channel="C-pm", subkind="reminder", category="process",
                 detail={"mentions": ["U-a1"]}, source="slack")
    # a CI bot acting in January and February only: removed in March
    for n in range(6):
        db.event(f"ci-{n}", f"2026-0{1 + n % 2}-2{n} 08:00", "ci", "pr_comment",
                 item="github:acme/app#1")
    db.change("experiments", "2026-03-02", "b", {"issue_type": ["experiment"]})


def test_onsets_of_fields_types_channels_reminders_and_bots() -> None:
    db = found_org()
    add_onsets(db)
    db.views()
    got = {(r[0], r[1], r[4]): r[2:] for r in db.con.execute(
        "SELECT kind, team, month, started_on, scope_value, uses, recorded, command"
        " FROM metric_change_onsets").fetchall()}
    apr, may, mar = date(2026, 4, 1), date(2026, 5, 1), date(2026, 3, 1)
    # Priority (from January, the data's first month) and Labels (never 5 in a month) are not
    # onsets; #random neither; the CI bot started in the first month of data
    assert set(got) == {("new_field", "a", "Business Value"),
                        ("new_field", "a", "Dev's <b>Value</b>"),
                        ("new_field", "b", "Team Goal"),
                        ("new_issue_type", "b", "Experiment"),
                        ("new_channel", "a", "pmtool-atlas"),
                        ("new_reminders", "a", "pmtool-atlas"),
                        ("new_bot", None, "pmtool-atlas")}
    assert got[("new_field", "a", "Business Value")] == (
        apr, date(2026, 4, 6), "Business Value", 10, False,
        "processhealth experiment add new-field-business-value-a-2026-04 --start 2026-04-06"
        " --team a --scope 'field=Business Value'")
    # filled on 5 items created from April 13, on none before
    assert got[("new_field", "b", "Team Goal")] == (
        apr, date(2026, 4, 13), "Team Goal", 5, False,
        "processhealth experiment add new-field-team-goal-b-2026-04 --start 2026-04-13"
        " --team b --scope 'field=Team Goal'")
    # one edit in February is fewer than 5 before: May (6 edits from May 11) is the onset
    dev = got[("new_field", "a", "Dev's <b>Value</b>")]
    assert dev[:2] == (may, date(2026, 5, 11)) and dev[3] == 6
    assert shlex.split(dev[5]) == [
        "processhealth", "experiment", "add", "new-field-dev-s-b-value-b-a-2026-05", "--start",
        "2026-05-11", "--team", "a", "--scope", "field=Dev's <b>Value</b>"]
    # recorded for team b as issue_type=experiment (case does not matter): nothing to propose
    assert got[("new_issue_type", "b", "Experiment")][:5] == (
        mar, date(2026, 3, 2), "Experiment", 4, True)
    # 7 human messages in May (6 by a1-a3, 1 by b1): atlas writes most
    assert got[("new_channel", "a", "pmtool-atlas")][:5] == (
        may, date(2026, 5, 4), "pmtool-atlas", 7, False)
    # 5 reminders from May 5, all reaching a1 (team a)
    assert got[("new_reminders", "a", "pmtool-atlas")][:4] == (
        may, date(2026, 5, 5), "pmtool-atlas", 5)
    assert got[("new_bot", None, "pmtool-atlas")][4:] == (
        False, "processhealth experiment add new-bot-pmtool-atlas-2026-05 --start 2026-05-05"
               " --scope channel=pmtool-atlas")


def test_a_new_channel_two_teams_write_in_equally_goes_to_the_first_team_by_name() -> None:
    """A tie in who writes most is decided by name, the same way in every build (arg_max of a
    tie takes whichever row DuckDB met last)."""
    for order in (("b", "a"), ("a", "b")):
        db = found_org()
        db.channel("C-tie", "shared-room")
        n = 0
        for team in order:  # 3 messages each, from Mon 2026-05-04
            for k in range(1, 4):
                n += 1
                db.event(f"tie-{n}", f"2026-05-0{3 + k} 1{n % 10}:00", f"{team}{k}",
                         "slack_message", channel="C-tie")
        db.views()
        got = db.con.execute("SELECT team, uses FROM metric_change_onsets"
                             " WHERE kind = 'new_channel' AND scope_value = 'shared-room'"
                             ).fetchall()
        assert got == [("a", 6)], order


def test_team_events_count_joins_leaves_and_bots() -> None:
    db = found_org()
    add_onsets(db)
    db.views()
    got = {(r[0], r[1], r[2].strftime("%Y-%m")): r[3:] for r in db.con.execute(
        "SELECT event, team, month, count, people_count, suppressed FROM metric_team_events"
    ).fetchall()}
    # Data from January (maybe partial) to June: joins count from March, leaves up to May.
    # a6 joins a in March (6 people); a5 leaves a in May (5 left); b5 leaves b in March (4
    # left: too few to show)
    assert got == {
        ("people_joined", "a", "2026-03"): (1, 6, False),
        ("people_left", "a", "2026-05"): (1, 5, False),
        ("people_left", "b", "2026-03"): (1, 4, True),
        # nagbot's first event in May; ci's last in February, none in March
        ("bot_added", None, "2026-05"): (1, None, False),
        ("bot_removed", None, "2026-03"): (1, None, False),
    }


def test_a_proposed_line_runs(write_config, run_cli) -> None:
    db = found_org()
    add_onsets(db)
    db.views()
    command = db.one("SELECT command FROM metric_change_onsets WHERE scope_value LIKE 'Dev%'")
    args = shlex.split(command)
    assert args[:2] == ["processhealth", "experiment"]
    path = write_config("")
    result = run_cli(path, *args[1:])
    assert result.exit_code == 0, result.output
    with RawStore(load_config(path).storage.raw_path) as store:
        (change,) = state.list_process_changes(store)
    assert (change["name"], str(change["started_on"]), change["team"]) == (
        "new-field-dev-s-b-value-b-a-2026-05", "2026-05-11", "a")
    assert change["scope"] == {"field": ["Dev's <b>Value</b>"]}
