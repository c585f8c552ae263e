-- metric_effort_by_source: where work happens (METRICS.md section 3, audit): the share of each
-- team-month's credited effort that was seen in GitHub, Jira and Slack.
CREATE OR REPLACE VIEW metric_effort_by_source AS
WITH credited AS (
    SELECT pm.team, pm.month, e.source, f.person_id, f.minutes
    FROM effort f
    JOIN events e USING (event_id)
    JOIN person_months pm
      ON pm.person_id = f.person_id
     AND pm.month = date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::DATE
), team_month AS (
    SELECT team, month, sum(minutes) AS total,
           count(DISTINCT person_id) FILTER (WHERE minutes > 0) AS people
    FROM credited GROUP BY ALL
)
SELECT c.team, c.month, c.source, sum(c.minutes) / 60 AS hours,
       sum(c.minutes) / nullif(any_value(t.total), 0) AS share,
       any_value(t.people) AS people_count,
       any_value(t.people) < (SELECT value::INTEGER FROM analysis_params
                              WHERE name = 'privacy.min_group_size') AS suppressed
FROM credited c JOIN team_month t USING (team, month)
GROUP BY c.team, c.month, c.source
ORDER BY c.team, c.month, c.source;

COMMENT ON VIEW metric_effort_by_source IS 'Where work happens: credited effort per team, month and tool (METRICS.md section 3).';
COMMENT ON COLUMN metric_effort_by_source.team IS 'Team (person_months.team).';
COMMENT ON COLUMN metric_effort_by_source.month IS 'First day of the month (UTC).';
COMMENT ON COLUMN metric_effort_by_source.source IS 'Tool the events were seen in: github, jira or slack.';
COMMENT ON COLUMN metric_effort_by_source.hours IS 'Hours credited to events of that tool.';
COMMENT ON COLUMN metric_effort_by_source.share IS 'Share of the team-month''s credited hours, 0 to 1.';
COMMENT ON COLUMN metric_effort_by_source.people_count IS 'People with credited effort in the team-month.';
COMMENT ON COLUMN metric_effort_by_source.suppressed IS 'True when people_count < privacy.min_group_size.';
