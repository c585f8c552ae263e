"""Who reminders reached, counted without listing every (reminder, person) pair, equals the list.

metric_reminder_reach's definition (docs/metrics.md section 5) lists each reminder's people; in an
organization-wide channel that is reminders x everyone. The metrics that need people (prompted in
metric_event_facts, metric_reminder_person_months, nag load) count against each member's live
stretches (metric_channel_presence) instead. On random organizations with ties, the exact 30-day
and 24-hour edges, senders who are members, mentions, bots and people without a month's team,
every figure must equal the one computed from the listed pairs by the former definitions, kept
here as the reference.
"""

from __future__ import annotations

import functools
import json
import random
from datetime import datetime, timedelta

import pytest
from test_metric_db import TinyDB

# The list of pairs as the build wrote it before counting (the reference).
REFERENCE_REACH = """
WITH reminders AS (
    SELECT event_id, channel_id, occurred_at, person_id AS sender, detail
    FROM events WHERE subkind = 'reminder'
),
mentioned AS (
    SELECT m.event_id, i.person_id
    FROM (SELECT event_id, unnest(from_json(detail -> 'mentions', '["VARCHAR"]')) AS uid
          FROM reminders WHERE json_type(detail -> 'mentions') = 'ARRAY') AS m
    JOIN identities AS i
        ON i.source = 'slack' AND i.source_user_id = regexp_replace(m.uid, '^slack:', '')
),
writers AS (
    SELECT DISTINCT channel_id, person_id FROM events
    WHERE source = 'slack' AND channel_id IS NOT NULL AND person_id IS NOT NULL
),
listeners AS (
    SELECT c.event_id, c.person_id
    FROM (SELECT r.event_id, r.channel_id, r.occurred_at, w.person_id
          FROM reminders AS r JOIN writers AS w USING (channel_id)) AS c
    ASOF JOIN (SELECT channel_id, person_id, occurred_at FROM events WHERE source = 'slack') AS e
        ON e.channel_id = c.channel_id AND e.person_id = c.person_id
        AND c.occurred_at > e.occurred_at
    WHERE e.occurred_at >= c.occurred_at - INTERVAL 30 DAY
)
SELECT DISTINCT r.event_id AS reminder_event_id, x.person_id, r.occurred_at AS reminded_at
FROM (SELECT * FROM mentioned UNION ALL SELECT * FROM listeners) AS x
JOIN reminders AS r USING (event_id)
JOIN people AS p ON p.person_id = x.person_id
WHERE NOT p.is_bot AND x.person_id IS DISTINCT FROM r.sender
"""

REFERENCE_PROMPTED = """
SELECT e.event_id, coalesce(epoch(e.occurred_at) - epoch(rr.reminded_at) <= 86400, false)
FROM (SELECT * FROM metric_event_facts WHERE category = 'process') AS e
ASOF LEFT JOIN ref_reach AS rr ON rr.person_id = e.person_id AND e.occurred_at > rr.reminded_at
"""

REFERENCE_NAG = """
WITH reached AS (
    SELECT r.reminder_event_id, r.person_id,
           date_trunc('month', timezone('UTC', r.reminded_at))::DATE AS month,
           coalesce(pm.team, p.team) AS team
    FROM ref_reach AS r
    LEFT JOIN people AS p ON p.person_id = r.person_id
    LEFT JOIN person_months AS pm ON pm.person_id = r.person_id
        AND pm.month = date_trunc('month', timezone('UTC', r.reminded_at))::DATE
)
SELECT team, month, count(DISTINCT reminder_event_id), count(*), count(DISTINCT person_id)
FROM reached WHERE team IS NOT NULL GROUP BY team, month
"""

REFERENCE_PERSON_MONTHS = """
SELECT r.person_id, e.channel_id, date_trunc('month', timezone('UTC', e.occurred_at))::DATE,
       count(*)
FROM ref_reach AS r JOIN events AS e ON e.event_id = r.reminder_event_id
GROUP BY ALL
"""

START = datetime(2026, 1, 1)
STEP = timedelta(hours=6)  # a grid of 6 h: ties, and the 24 h and 30-day (120 steps) edges


@functools.cache  # both tests below read the same 40 organizations; neither writes to them
def random_org(seed: int) -> TinyDB:
    rng = random.Random(seed)
    db = TinyDB()
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    people = [f"p{n}" for n in range(rng.randint(3, 9))]
    for n, pid in enumerate(people):
        team = rng.choice(["a", "b", "(unassigned)", None])
        db.person(pid, team, rng.sample(months, rng.randint(0, 4)), slack_id=f"U{n}",
                  bot=rng.random() < 0.15)
    db.person("bot", None, bot=True, slack_id="B1")
    channels = [f"C{n}" for n in range(rng.randint(1, 3))]
    for c in channels:
        db.channel(c, f"chan-{c}")
    senders = [*people, "bot", None]

    def when() -> str:
        return (START + STEP * rng.randint(0, 4 * 120)).isoformat(sep=" ")

    for n in range(rng.randint(5, 60)):
        person = rng.choice(senders)
        db.event(f"m{n}", when(), person, "slack_message", channel=rng.choice(channels),
                 category="enabling")
    for n in range(rng.randint(1, 25)):
        mentions = [f"{rng.choice(['', 'slack:'])}U{rng.randrange(len(people) + 1)}"
                    for _ in range(rng.choice([0, 0, 1, 2]))]
        channel = rng.choice([*channels, None]) if rng.random() < 0.9 else None
        db.event(f"r{n}", when(), rng.choice(senders), "slack_message", channel=channel,
                 category="process", subkind="reminder",
                 detail={"mentions": mentions} if mentions else {})
    for n in range(rng.randint(5, 40)):
        db.event(f"e{n}", when(), rng.choice(people), "jira_field_edit", category="process")
    db.flush()  # the views (building blocks, metric_nag_load) come with TinyDB()
    db.con.execute(f"CREATE TEMP TABLE ref_reach AS {REFERENCE_REACH}")
    return db


def rows(db: TinyDB, query: str) -> list[tuple]:
    return sorted(db.con.execute(query).fetchall(), key=lambda r: json.dumps(r, default=str))


@pytest.mark.parametrize("seed", range(40))
def test_counted_reach_equals_the_listed_pairs(seed: int) -> None:
    db = random_org(seed)
    assert rows(db, "SELECT * FROM metric_reminder_reach") == rows(db, "SELECT * FROM ref_reach")
    assert rows(db, "SELECT event_id, prompted FROM metric_event_facts"
                    " WHERE category = 'process'") == rows(db, REFERENCE_PROMPTED)
    assert rows(db, "SELECT person_id, channel_id, month, reminders"
                    " FROM metric_reminder_person_months") == rows(db, REFERENCE_PERSON_MONTHS)
    # nag load shows the team-months of metric_team_months, 0 where no reminder reached them
    reference = {(t, m): rest for t, m, *rest in rows(db, REFERENCE_NAG)}
    nag = {(t, m): rest for t, m, *rest in rows(
        db, "SELECT team, month, reminders, reminders_received, people_reminded"
            " FROM metric_nag_load")}
    assert nag == {key: reference.get(key, [0, 0, 0]) for key in nag}
    assert set(nag) == set(rows(db, "SELECT team, month FROM metric_team_months"))


def test_the_random_organizations_reach_people_in_every_way() -> None:
    """The cases above include listeners, mentions, senders who are members and pairs that
    reach a team only through its sender (so the test exercises each branch of the counting)."""
    found = {"listener": 0, "mention_only": 0, "sender_member": 0, "prompted": 0}
    for seed in range(40):
        db = random_org(seed)
        found["listener"] += db.one("""SELECT count(*) FROM ref_reach AS r
            JOIN events AS e ON e.event_id = r.reminder_event_id
            JOIN metric_channel_presence AS s ON s.channel_id = e.channel_id
             AND s.person_id = r.person_id AND s.live_from < e.occurred_at
             AND e.occurred_at <= s.live_until""")
        found["mention_only"] += db.one("SELECT count(*) FROM ref_reach WHERE (reminder_event_id,"
                                        " person_id) IN (SELECT reminder_event_id, person_id"
                                        " FROM metric_reminder_mentions)")
        found["sender_member"] += db.one("""SELECT count(*) FROM events AS e
            JOIN metric_channel_presence AS s ON s.channel_id = e.channel_id
             AND s.person_id = e.person_id AND s.live_from < e.occurred_at
             AND e.occurred_at <= s.live_until WHERE e.subkind = 'reminder'""")
        found["prompted"] += db.one("SELECT count(*) FROM metric_event_facts WHERE prompted")
    assert min(found.values()) > 10, found
