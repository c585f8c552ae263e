"""The effort model (docs/metrics.md section 2) on hand-built events, against a plain-Python
reading."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from test_effort_fixtures import (
    T0,
    at,
    channel,
    domain_db,
    event,
    identity,
    item,
    make_config,
    rows,
    run_analysis,
)

from processhealth.config_analysis import DEFAULT_CAPS

TEAM = {"name": "atlas", "jira_projects": ["ATL"], "channels": ["*-atlas"]}


def reference_credits(events, gap=45.0, lead_in=30.0, day_cap=600.0, caps=DEFAULT_CAPS):
    """event_id -> (minutes, session start) exactly as docs/metrics.md section 2 words it."""
    by_person = defaultdict(list)
    for e in events:
        by_person[e[1]].append(e)
    out = {}
    for person_events in by_person.values():
        person_events.sort(key=lambda e: (e[2], e[0]))
        prev, start, daily = None, None, defaultdict(list)
        for event_id, _, when, kind in person_events:
            cap = caps.get(kind, 15.0)
            g = None if prev is None else (when - prev).total_seconds() / 60
            if g is None or g > max(gap, cap):  # a commit (cap 120) bridges gaps up to 120
                minutes, start = min(lead_in, cap), when
            else:
                minutes = min(g, cap)
            daily[when.date()].append(event_id)
            out[event_id] = [minutes, start]
            prev = when
        for ids in daily.values():
            total = sum(out[i][0] for i in ids)
            for i in ids:
                if total > day_cap:
                    out[i][0] *= day_cap / total
    return out


def _two_people(con):
    ana = identity(con, "jira", "a1", None, "ana@acme.example", "Ana Lima")
    bo = identity(con, "jira", "b1", None, "bo@acme.example", "Bo Berg")
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    return ana, bo


def test_credits_match_the_written_definition(tmp_path):
    con = domain_db()
    ana, bo = _two_people(con)
    rng = random.Random(3)
    kinds = ["jira_comment", "jira_transition", "jira_created", "jira_worklog", "odd_kind",
             "commit"]
    made = []
    for n in range(400):
        actor = ana if n % 2 else bo
        when = T0 + timedelta(minutes=rng.choice([0, 1, 4, 20, 44, 45, 46, 90, 300]) * n / 7,
                              days=n // 150)
        kind = rng.choice(kinds)
        event(con, f"jira:e:{n:04d}", "jira", when, actor, kind, item_id="jira:ATL-1")
        made.append((f"jira:e:{n:04d}", actor, when, kind))
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    expected = reference_credits(made)
    got = rows(con, "SELECT event_id, minutes, session_id FROM effort")
    assert len(got) == len(made)
    for event_id, minutes, session_id in got:
        want, start = expected[event_id]
        assert minutes == pytest.approx(want), event_id
        assert session_id.endswith("@" + start.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_every_sensitivity_gap_credits_as_written(tmp_path):
    # all gaps are credited in one pass over the acts (analysis/effort.py sensitivity_sql); each
    # must give, per month, what the written definition gives with that gap
    con = domain_db()
    ana, bo = _two_people(con)
    rng = random.Random(5)
    made = []
    for person in (ana, bo):
        when = T0
        for n in range(150):
            when += timedelta(minutes=rng.choice([5, 25, 40, 50, 70, 100, 130, 900]))
            kind = rng.choice(["jira_comment", "pr_review", "pr_opened", "commit"])
            event_id = f"jira:{person}:{n:03d}"
            event(con, event_id, "jira", when, person, kind, item_id="jira:ATL-1")
            made.append((event_id, person, when, kind))
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    by_gap = defaultdict(dict)
    for gap, month, minutes in rows(con, "SELECT gap_minutes, month, sum(minutes)"
                                         " FROM effort_sensitivity GROUP BY ALL"):
        by_gap[gap][month] = minutes
    assert sorted(by_gap) == [30.0, 45.0, 90.0, 180.0]
    for gap, months in by_gap.items():
        credits = reference_credits(made, gap=gap)
        want = defaultdict(float)
        for event_id, _, when, _ in made:
            want[when.date().replace(day=1)] += credits[event_id][0]
        assert months == pytest.approx(dict(want)), gap
    # a review 60-120 min after the previous act opens a session (30 min) under gaps up to 60
    # and continues one (60 min) under 120: the comparison can tell the gaps apart
    totals = [sum(by_gap[g].values()) for g in sorted(by_gap)]
    assert totals == sorted(totals) and totals[-1] > totals[0]


def test_sessions_lead_in_caps_and_day_cap(tmp_path):
    con = domain_db()
    ana, _ = _two_people(con)
    channel(con, "C1", "eng-atlas")
    event(con, "s:1", "slack", at(0), ana, "slack_message", channel_id="C1")  # opens: min(30, 5)
    event(con, "s:2", "slack", at(3), ana, "slack_message", channel_id="C1")  # 3 min
    event(con, "j:3", "jira", at(40), ana, "jira_comment", item_id="jira:ATL-1")  # min(37, 15)
    event(con, "j:4", "jira", at(200), ana, "jira_created", item_id="jira:ATL-1")  # new session
    # a commit closes the coding before it: 90 min after the last act is within its cap (120)
    event(con, "g:5", "github", at(290), ana, "commit")
    event(con, "g:6", "github", at(440), ana, "commit")  # 150 min: over its cap, a new session
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    got = dict(rows(con, "SELECT event_id, minutes FROM effort"))
    assert got == {"s:1": 5, "s:2": 3, "j:3": 15, "j:4": 15, "g:5": 90, "g:6": 30}
    sessions = rows(con, "SELECT count(DISTINCT session_id) FROM effort")[0][0]
    assert sessions == 3

    con = domain_db()
    ana, _ = _two_people(con)
    for n in range(60):  # 60 comments 14 min apart: 14 h of credits in one day
        event(con, f"j:{n}", "jira", at(14 * n), ana, "jira_comment", item_id="jira:ATL-1")
    run_analysis(con, make_config(tmp_path, teams=[TEAM], effort={"day_cap_hours": 10}))
    assert rows(con, "SELECT sum(minutes) FROM effort")[0][0] == pytest.approx(600)


def test_bots_get_no_effort(tmp_path):
    con = domain_db()
    ana, _ = _two_people(con)
    bot = identity(con, "github", "41898282", "ci-bot[bot]", is_bot=True)
    item(con, "github:acme/atlas-app#1", "github", "acme/atlas-app#1", "acme/atlas-app", kind="pr")
    event(con, "g:1", "github", at(0), bot, "issue_comment", item_id="github:acme/atlas-app#1")
    event(con, "j:1", "jira", at(1), ana, "jira_comment", item_id="jira:ATL-1")
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    assert rows(con, "SELECT event_id FROM effort") == [("j:1",)]


def test_allocation_hours_fte_share_and_suppression(tmp_path):
    con = domain_db()
    ana, bo = _two_people(con)
    item(con, "jira:ATL-2", "jira", "ATL-2", "ATL", type="Task")
    # Ana: 15 min customer (comment) + 3 min process (transition); Bo: 30 min enabling.
    event(con, "j:1", "jira", at(0), ana, "jira_comment", item_id="jira:ATL-1")
    event(con, "j:2", "jira", at(30), ana, "jira_comment", item_id="jira:ATL-1")
    event(con, "j:3", "jira", at(32), ana, "jira_transition", item_id="jira:ATL-1")
    event(con, "j:4", "jira", at(0), bo, "jira_created", item_id="jira:ATL-2")
    event(con, "j:5", "jira", at(10), bo, "jira_comment", item_id="jira:ATL-2")
    config = make_config(tmp_path, teams=[TEAM], privacy={"min_group_size": 2})
    run_analysis(con, config)
    got = {r[0]: r[1:] for r in rows(con, """
        SELECT category, hours, fte, share, people_count, suppressed
        FROM metric_effort_allocation WHERE team = 'atlas'""")}
    assert set(got) == {"customer", "enabling", "process", "unclassified"}
    # Ana: 15 (lead-in, capped at 15) + 15 customer, 2 process; Bo: 15 + 10 enabling.
    assert got["customer"][0] == pytest.approx(30 / 60)
    assert got["process"][0] == pytest.approx(2 / 60)
    assert got["customer"][2] == pytest.approx(30 / 57)
    assert got["customer"][1] == pytest.approx(30 / 32)  # Ana is one FTE, split 30:2
    assert got["process"][1] == pytest.approx(2 / 32)
    assert got["enabling"][1] == pytest.approx(1.0)
    assert sum(v[1] for v in got.values()) == pytest.approx(2.0)
    assert sum(v[2] for v in got.values()) == pytest.approx(1.0)
    assert all(v[3] == 2 and v[4] is False for v in got.values())
    con.execute("UPDATE build_params SET value = '5' WHERE name = 'privacy.min_group_size'")
    assert rows(con, "SELECT bool_and(suppressed) FROM metric_effort_allocation")[0][0] is True


def test_sensitivity_has_every_gap(tmp_path):
    con = domain_db()
    ana, _ = _two_people(con)
    event(con, "j:1", "jira", at(0), ana, "jira_comment", item_id="jira:ATL-1")
    event(con, "j:2", "jira", at(50), ana, "jira_comment", item_id="jira:ATL-1")
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    got = dict(rows(con, "SELECT gap_minutes, hours * 60 FROM metric_effort_sensitivity"
                         " WHERE category = 'customer'"))
    assert got == {30.0: 30.0, 45.0: 30.0, 90.0: 30.0, 180.0: 30.0}  # 15+15, 15+15 (capped)
    assert rows(con, "SELECT max(abs(share_change_pp)) FROM metric_effort_sensitivity")[0][0] == 0


@pytest.mark.extended  # in CI after the suite (6 s): a sensitivity check
def test_session_gaps_up_to_an_hour_change_no_credit_with_the_default_caps(tmp_path):
    """docs/metrics.md section 2: with the default caps and lead-in, G = 30, 45 and 60 credit
    the same minutes (the sensitivity table's defaults show 90 and 180 for that reason), while
    longer gaps move pull requests' and commits' credits."""
    con = domain_db()
    ana, bo = _two_people(con)
    rng = random.Random(11)
    kinds = sorted(DEFAULT_CAPS)
    for person in (ana, bo):
        when = T0
        for n in range(400):
            when += timedelta(minutes=rng.choice([1, 4, 10, 20, 29, 31, 44, 46, 59, 61, 75, 95,
                                                  119, 121, 150, 170, 200, 600]))
            event(con, f"jira:{person}:{n:03d}", "jira", when, person, rng.choice(kinds),
                  item_id="jira:ATL-1")
    run_analysis(con, make_config(tmp_path, teams=[TEAM],
                                  effort={"sensitivity_gaps": [30, 60, 90, 180]}))
    minutes = dict(rows(con, "SELECT gap_minutes, sum(minutes) FROM effort_sensitivity"
                             " GROUP BY ALL"))
    assert minutes[30.0] == pytest.approx(minutes[45.0]) == pytest.approx(minutes[60.0])
    assert minutes[90.0] > minutes[60.0] * 1.01 and minutes[180.0] > minutes[90.0] * 1.01
