-- Nag load (docs/metrics.md section 5) per team-month: reminders that reached the team (bot and Slackbot
-- reminders, "please update" messages) per item done. A process that must be chased to be
-- followed costs the chasing and the interruptions, and says people do not see its value.
CREATE OR REPLACE VIEW metric_nag_load AS
-- Counted against the live stretches of each channel's members (metric_channel_presence) rather
-- than by listing every (reminder, person) of metric_reminder_reach: an organization-wide channel
-- makes that list reminders x everyone.
WITH reminders AS (
    SELECT event_id, channel_id, occurred_at AS x, person_id AS sender,
           date_trunc('month', timezone('UTC', occurred_at))::DATE AS month
    FROM events
    WHERE subkind = 'reminder'
),
team_of AS (  -- the team a person counts toward in a month: person_months, else people.team
    SELECT p.person_id, m.month, coalesce(pm.team, p.team) AS team
    FROM people AS p
    CROSS JOIN (SELECT DISTINCT month FROM reminders) AS m
    LEFT JOIN person_months AS pm ON pm.person_id = p.person_id AND pm.month = m.month
),
received AS (  -- reminders each person received, by the team they count toward that month
    SELECT t.team, r.month, sum(r.reminders) AS reminders_received,
           count(DISTINCT r.person_id) AS people_reminded
    FROM metric_reminder_person_months AS r
    JOIN team_of AS t USING (person_id, month)
    WHERE t.team IS NOT NULL
    GROUP BY ALL
),
counted AS (  -- reminders of a channel and month at or before each one's time
    SELECT channel_id, month, x,
           count(*) OVER (PARTITION BY channel_id, month ORDER BY x
                          RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
    FROM reminders WHERE channel_id IS NOT NULL
),
stretches AS (  -- live stretches in each month they span, with the member's team that month
    SELECT s.channel_id, s.person_id, s.live_from, s.live_until, s.month, t.team
    FROM (SELECT *, unnest(generate_series(date_trunc('month', timezone('UTC', live_from)),
                                           date_trunc('month', timezone('UTC', live_until)),
                                           INTERVAL 1 MONTH))::DATE AS month
          FROM metric_channel_presence
          WHERE channel_id IN (SELECT channel_id FROM counted)) AS s
    JOIN team_of AS t USING (person_id, month)
    WHERE t.team IS NOT NULL
),
merged AS (  -- per team, channel and month, when at least one member was live
    SELECT team, channel_id, month, min(live_from) AS live_from, max(live_until) AS live_until
    FROM (
        SELECT *, count(*) FILTER (WHERE starts) OVER (
                      PARTITION BY team, channel_id, month
                      ORDER BY live_from, live_until, person_id) AS grp
        FROM (
            SELECT *, coalesce(live_from > max(live_until) OVER (
                          PARTITION BY team, channel_id, month
                          ORDER BY live_from, live_until, person_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true) AS starts
            FROM stretches
        )
    )
    GROUP BY team, channel_id, month, grp
),
heard AS (  -- reminders of the month while a member was live (counted up to the end minus the start)
    SELECT m.team, m.month, sum(coalesce(b.upto, 0) - coalesce(a.upto, 0)) AS reminders
    FROM merged AS m
    ASOF LEFT JOIN counted AS b
        ON b.channel_id = m.channel_id AND b.month = m.month AND m.live_until >= b.x
    ASOF LEFT JOIN counted AS a
        ON a.channel_id = m.channel_id AND a.month = m.month AND m.live_from >= a.x
    GROUP BY ALL
),
probes AS (  -- (reminder, team) pairs where a member was its sender or is mentioned: did it
    -- reach a member other than its sender as a live member?
    SELECT r.event_id, r.channel_id, r.month, r.x, r.sender, t.team, 'sender' AS why
    FROM reminders AS r JOIN team_of AS t ON t.person_id = r.sender AND t.month = r.month
    JOIN people AS p ON p.person_id = r.sender AND NOT p.is_bot
    WHERE t.team IS NOT NULL
    UNION
    SELECT r.event_id, r.channel_id, r.month, r.x, r.sender, t.team, 'mention'
    FROM metric_reminder_mentions AS m
    JOIN reminders AS r ON r.event_id = m.reminder_event_id
    JOIN team_of AS t ON t.person_id = m.person_id AND t.month = r.month
    WHERE t.team IS NOT NULL
),
probed AS (
    SELECT q.team, q.month, q.why,
           count(s.person_id) AS live,
           count(s.person_id) FILTER (WHERE s.person_id = q.sender) AS sender_live
    FROM probes AS q
    LEFT JOIN stretches AS s
        ON s.team = q.team AND s.channel_id = q.channel_id AND s.month = q.month
        AND s.live_from < q.x AND q.x <= s.live_until
    GROUP BY q.event_id, q.team, q.month, q.why
),
counts AS (
    SELECT team, month,
           -- while a member was live; not when that member was its sender alone; mentioned
           sum(reminders) AS reminders
    FROM (SELECT team, month, reminders FROM heard
          UNION ALL
          SELECT team, month, -count(*) FROM probed
          WHERE why = 'sender' AND live = 1 AND sender_live = 1 GROUP BY ALL
          UNION ALL
          SELECT team, month, count(*) FROM probed
          WHERE why = 'mention' AND live - sender_live < 1 GROUP BY ALL)
    GROUP BY ALL
),
done AS (
    SELECT team, resolved_month AS month, count(*) AS items_done
    FROM metric_flow_items
    WHERE resolved_month IS NOT NULL
    GROUP BY team, resolved_month
)
SELECT tm.team, tm.month, coalesce(c.reminders, 0)::BIGINT AS reminders,
       coalesce(v.reminders_received, 0)::BIGINT AS reminders_received,
       coalesce(v.people_reminded, 0) AS people_reminded,
       coalesce(d.items_done, 0) AS items_done,
       coalesce(c.reminders, 0) / nullif(d.items_done, 0) AS nag_load,
       coalesce(v.reminders_received, 0) / nullif(tm.people_count, 0) AS reminders_per_person,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month)
LEFT JOIN received AS v USING (team, month)
LEFT JOIN done AS d USING (team, month);
COMMENT ON VIEW metric_nag_load IS 'Nag load per team-month: reminders that reached team members / items done (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_nag_load.team IS 'Team.';
COMMENT ON COLUMN metric_nag_load.month IS 'First day of the month.';
COMMENT ON COLUMN metric_nag_load.reminders IS 'Reminders that reached at least one team member (metric_reminder_reach).';
COMMENT ON COLUMN metric_nag_load.reminders_received IS 'Reminder deliveries: (reminder, team member) pairs.';
COMMENT ON COLUMN metric_nag_load.people_reminded IS 'Team members reached by at least one reminder.';
COMMENT ON COLUMN metric_nag_load.items_done IS 'Items the team resolved that month.';
COMMENT ON COLUMN metric_nag_load.nag_load IS 'reminders / items_done.';
COMMENT ON COLUMN metric_nag_load.reminders_per_person IS 'reminders_received / people_count.';
COMMENT ON COLUMN metric_nag_load.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_nag_load.suppressed IS 'True when people_count is below privacy.min_group_size.';
