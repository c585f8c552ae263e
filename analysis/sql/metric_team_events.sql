-- Team events (docs/metrics.md section 8): people joining or leaving a team, and bots added or
-- removed, per month. They change what a team's figures mean (a new member's first weeks, a bot
-- that stops nagging) without being a recorded process change. Counts only, never who.
--
-- A person joins team T in month m when person_months puts them in T in m but not in m - 1; leaves
-- T in m when it puts them in T in m - 1 but not in m (person_months runs from a person's first to
-- last activity, so "left" means no activity since, or another team). The data's first month is
-- usually partial, so a join or a bot's arrival counts from its third month on (m - 1 a whole
-- month of data), and its last month may be partial, so a leave or a bot's removal counts only
-- when a later month of data follows. A bot is added in the month of its first event and removed
-- in the month after its last, when at least 5 events came from it.
CREATE OR REPLACE VIEW metric_team_events AS
WITH members AS (
    SELECT pm.person_id, pm.month, pm.team
    FROM person_months AS pm JOIN people AS p USING (person_id)
    WHERE NOT p.is_bot AND pm.team IS NOT NULL AND pm.team <> '(unassigned)'
),
data_months AS (
    SELECT min(month) AS first_month, max(month) AS last_month FROM metric_event_base
),
moves AS (
    SELECT 'people_joined' AS event, c.team, c.month
    FROM members AS c
    CROSS JOIN data_months AS d
    LEFT JOIN members AS p ON p.person_id = c.person_id AND p.team = c.team
        AND p.month = (c.month - INTERVAL 1 MONTH)::DATE
    WHERE p.person_id IS NULL AND c.month >= d.first_month + INTERVAL 2 MONTH
    UNION ALL
    SELECT 'people_left', p.team, (p.month + INTERVAL 1 MONTH)::DATE
    FROM members AS p
    CROSS JOIN data_months AS d
    LEFT JOIN members AS c ON c.person_id = p.person_id AND c.team = p.team
        AND c.month = (p.month + INTERVAL 1 MONTH)::DATE
    WHERE c.person_id IS NULL AND p.month + INTERVAL 1 MONTH < d.last_month
),
bots AS (
    SELECT actor_account, min(month) AS first_month, max(month) AS last_month, count(*) AS n
    FROM metric_event_base
    WHERE is_bot AND actor_account IS NOT NULL
    GROUP BY actor_account
),
bot_moves AS (
    SELECT 'bot_added' AS event, b.first_month AS month
    FROM bots AS b CROSS JOIN data_months AS d
    WHERE b.n >= 5 AND b.first_month >= d.first_month + INTERVAL 2 MONTH
    UNION ALL
    SELECT 'bot_removed', (b.last_month + INTERVAL 1 MONTH)::DATE
    FROM bots AS b CROSS JOIN data_months AS d
    WHERE b.n >= 5 AND (b.last_month + INTERVAL 1 MONTH)::DATE < d.last_month
)
SELECT m.event, m.team, m.month, count(*) AS count, tm.people_count,
       coalesce(tm.suppressed, true) AS suppressed
FROM moves AS m
LEFT JOIN metric_team_months AS tm USING (team, month)
GROUP BY ALL
UNION ALL
SELECT event, NULL, month, count(*), NULL, false
FROM bot_moves
GROUP BY ALL;
COMMENT ON VIEW metric_team_events IS 'Team events per month: people who joined or left a team (counts, never who), and bots added or removed in the organization (docs/metrics.md section 8).';
COMMENT ON COLUMN metric_team_events.event IS 'people_joined, people_left (a team), bot_added or bot_removed (the organization).';
COMMENT ON COLUMN metric_team_events.team IS 'The team; NULL for bot events, which concern every team.';
COMMENT ON COLUMN metric_team_events.month IS 'First day of the month it happened in.';
COMMENT ON COLUMN metric_team_events.count IS 'How many people joined or left, or how many bots were added or removed.';
COMMENT ON COLUMN metric_team_events.people_count IS 'Active people in the team that month (NULL for bot events).';
COMMENT ON COLUMN metric_team_events.suppressed IS 'True when the team-month has fewer than privacy.min_group_size active people (or none): the report then shows "too few people", not the counts.';
