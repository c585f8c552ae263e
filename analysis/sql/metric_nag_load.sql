-- Nag load (docs/metrics.md section 5) per team-month: reminders that reached the team (bot and Slackbot
-- reminders, "please update" messages) per item done. A process that must be chased to be
-- followed costs the chasing and the interruptions, and says people do not see its value.
CREATE OR REPLACE VIEW metric_nag_load AS
WITH reached AS (
    SELECT r.reminder_event_id, r.person_id,
           date_trunc('month', timezone('UTC', r.reminded_at))::DATE AS month,
           coalesce(pm.team, p.team) AS team
    FROM metric_reminder_reach AS r
    LEFT JOIN people AS p ON p.person_id = r.person_id
    LEFT JOIN person_months AS pm
        ON pm.person_id = r.person_id
        AND pm.month = date_trunc('month', timezone('UTC', r.reminded_at))::DATE
),
counts AS (
    SELECT team, month, count(DISTINCT reminder_event_id) AS reminders,
           count(*) AS reminders_received, count(DISTINCT person_id) AS people_reminded
    FROM reached
    WHERE team IS NOT NULL
    GROUP BY team, month
),
done AS (
    SELECT team, resolved_month AS month, count(*) AS items_done
    FROM metric_flow_items
    WHERE resolved_month IS NOT NULL
    GROUP BY team, resolved_month
)
SELECT tm.team, tm.month, coalesce(c.reminders, 0) AS reminders,
       coalesce(c.reminders_received, 0) AS reminders_received,
       coalesce(c.people_reminded, 0) AS people_reminded,
       coalesce(d.items_done, 0) AS items_done,
       coalesce(c.reminders, 0) / nullif(d.items_done, 0) AS nag_load,
       coalesce(c.reminders_received, 0) / nullif(tm.people_count, 0) AS reminders_per_person,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month)
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
