-- Organic share (docs/metrics.md section 5) per team-month: the share of the team's process events that
-- were NOT prompted, i.e. not made within 24 hours after a reminder reached their author. Process
-- people keep up on their own is process they find useful; process done only when chased is not.
CREATE OR REPLACE VIEW metric_organic_share AS
WITH counts AS (
    SELECT team, month, count(*) AS process_events,
           count(*) FILTER (WHERE prompted) AS prompted_events
    FROM metric_event_human
    WHERE is_process AND team IS NOT NULL
    GROUP BY team, month
)
SELECT tm.team, tm.month, coalesce(c.process_events, 0) AS process_events,
       coalesce(c.prompted_events, 0) AS prompted_events,
       c.prompted_events / nullif(c.process_events, 0) AS prompted_share,
       1 - c.prompted_events / nullif(c.process_events, 0) AS organic_share,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month);
COMMENT ON VIEW metric_organic_share IS 'Prompted activity and organic share per team-month: process events within 24 h after a reminder that reached their author, and 1 minus that share (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_organic_share.team IS 'Team of the actors.';
COMMENT ON COLUMN metric_organic_share.month IS 'First day of the month.';
COMMENT ON COLUMN metric_organic_share.process_events IS 'Human process events by the team.';
COMMENT ON COLUMN metric_organic_share.prompted_events IS 'Of those, made within 24 h after a reminder reached the author.';
COMMENT ON COLUMN metric_organic_share.prompted_share IS 'prompted_events / process_events.';
COMMENT ON COLUMN metric_organic_share.organic_share IS '1 - prompted_share.';
COMMENT ON COLUMN metric_organic_share.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_organic_share.suppressed IS 'True when people_count is below privacy.min_group_size.';
