-- Paperwork ratio (docs/metrics.md section 5), the essay's "digital paperwork": of the human Jira events
-- of a team-month, the share that are status changes or metadata edits on items that saw no code,
-- comment or Slack activity within 24 hours either side. Updates that accompany work are not
-- paperwork; updates made for the tool's sake are.
CREATE OR REPLACE VIEW metric_paperwork AS
WITH jira AS (
    SELECT team, month, count(*) AS jira_events,
           count(*) FILTER (WHERE paperwork) AS paperwork_events
    FROM metric_event_human
    WHERE source = 'jira' AND team IS NOT NULL
    GROUP BY team, month
)
SELECT tm.team, tm.month, coalesce(j.jira_events, 0) AS jira_events,
       coalesce(j.paperwork_events, 0) AS paperwork_events,
       j.paperwork_events / nullif(j.jira_events, 0) AS paperwork_ratio,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN jira AS j USING (team, month);
COMMENT ON VIEW metric_paperwork IS 'Paperwork ratio per team-month: status changes and metadata edits with no code, comment or Slack activity on the item within 24 h / all human Jira events (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_paperwork.team IS 'Team of the actors.';
COMMENT ON COLUMN metric_paperwork.month IS 'First day of the month.';
COMMENT ON COLUMN metric_paperwork.jira_events IS 'Human Jira events by the team.';
COMMENT ON COLUMN metric_paperwork.paperwork_events IS 'Of those, status changes and metadata edits with no activity on the item within 24 h.';
COMMENT ON COLUMN metric_paperwork.paperwork_ratio IS 'paperwork_events / jira_events.';
COMMENT ON COLUMN metric_paperwork.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_paperwork.suppressed IS 'True when people_count is below privacy.min_group_size.';
