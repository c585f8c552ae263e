-- Process touches per shipped item (docs/metrics.md section 5): for the items a team resolved in a
-- month, how many human process events (status changes, field edits, worklogs, ...) they took over
-- their whole life. It grows when a process adds steps to every item without adding value to it.
CREATE OR REPLACE VIEW metric_process_touches AS
WITH shipped AS (
    SELECT item_id, team, resolved_month AS month
    FROM metric_flow_items
    WHERE resolved_month IS NOT NULL AND team IS NOT NULL
),
touches AS (
    SELECT s.team, s.month, count(DISTINCT s.item_id) AS items_shipped,
           count(f.event_seq) AS process_events
    FROM shipped AS s
    LEFT JOIN metric_event_human AS f ON f.item_id = s.item_id AND f.is_process
    GROUP BY s.team, s.month
)
SELECT tm.team, tm.month, coalesce(t.items_shipped, 0) AS items_shipped,
       coalesce(t.process_events, 0) AS process_events,
       t.process_events / nullif(t.items_shipped, 0) AS touches_per_item,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN touches AS t USING (team, month);
COMMENT ON VIEW metric_process_touches IS 'Process touches per shipped item: human process events over the life of the items resolved in the month / those items (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_process_touches.team IS 'Team the items count toward.';
COMMENT ON COLUMN metric_process_touches.month IS 'First day of the month the items were resolved.';
COMMENT ON COLUMN metric_process_touches.items_shipped IS 'Jira and GitHub issues resolved that month.';
COMMENT ON COLUMN metric_process_touches.process_events IS 'Human process events on them, over their whole life.';
COMMENT ON COLUMN metric_process_touches.touches_per_item IS 'process_events / items_shipped.';
COMMENT ON COLUMN metric_process_touches.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_process_touches.suppressed IS 'True when people_count is below privacy.min_group_size.';
