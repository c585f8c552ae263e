-- Where work happens (docs/metrics.md section 3, audit): the share of credited minutes per tool (GitHub,
-- Jira, Slack) per team-month. Before a new tool arrives this shows where the team already works,
-- and afterwards whether the new tool pulled work in or only added to it.
CREATE OR REPLACE VIEW metric_work_sources AS
WITH minutes AS (
    SELECT team, month, source, sum(minutes) AS minutes
    FROM metric_event_human
    WHERE team IS NOT NULL
    GROUP BY team, month, source
)
SELECT m.team, m.month, m.source, m.minutes / 60.0 AS hours,
       m.minutes / nullif(sum(m.minutes) OVER (PARTITION BY m.team, m.month), 0) AS share,
       tm.people_count, tm.suppressed
FROM minutes AS m
JOIN metric_team_months AS tm USING (team, month);
COMMENT ON VIEW metric_work_sources IS 'Where work happens: credited hours and their share per tool, per team-month (docs/metrics.md section 3).';
COMMENT ON COLUMN metric_work_sources.team IS 'Team.';
COMMENT ON COLUMN metric_work_sources.month IS 'First day of the month.';
COMMENT ON COLUMN metric_work_sources.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_work_sources.hours IS 'Credited hours in that tool.';
COMMENT ON COLUMN metric_work_sources.share IS 'Share of the team-month''s credited hours.';
COMMENT ON COLUMN metric_work_sources.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_work_sources.suppressed IS 'True when people_count is below privacy.min_group_size.';
