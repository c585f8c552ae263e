-- Process coupling (docs/metrics.md section 5), the amplifier test: of the items a team touched with
-- process events in a month, the share tied to delivery — linked code merged, or resolved with
-- linked code, within 30 days of a touch. High coupling: the process tracks real work. Low
-- coupling: the process runs on its own (grooming, fields and status reports nobody ships from).
CREATE OR REPLACE VIEW metric_coupling AS
WITH items AS (
    SELECT team, month, item_id, bool_or(coupled) AS coupled
    FROM metric_event_human
    WHERE is_process AND item_id IS NOT NULL AND team IS NOT NULL
    GROUP BY team, month, item_id
),
counts AS (
    SELECT team, month, count(*) AS items_touched, count(*) FILTER (WHERE coupled) AS items_coupled
    FROM items
    GROUP BY team, month
)
SELECT tm.team, tm.month, coalesce(c.items_touched, 0) AS items_touched,
       coalesce(c.items_coupled, 0) AS items_coupled,
       c.items_coupled / nullif(c.items_touched, 0) AS process_coupling,
       tm.month + INTERVAL 1 MONTH + INTERVAL 30 DAY
           <= (SELECT max(timezone('UTC', occurred_at)) FROM events) AS window_complete,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month);
COMMENT ON VIEW metric_coupling IS 'Process coupling per team-month: share of items with process events that were delivered (linked code merged, or resolved with linked code) within 30 days of a process event (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_coupling.team IS 'Team of the actors.';
COMMENT ON COLUMN metric_coupling.month IS 'First day of the month.';
COMMENT ON COLUMN metric_coupling.items_touched IS 'Work items with human process events by the team that month.';
COMMENT ON COLUMN metric_coupling.items_coupled IS 'Of those, items delivered within 30 days of one of those events.';
COMMENT ON COLUMN metric_coupling.process_coupling IS 'items_coupled / items_touched (0 to 1).';
COMMENT ON COLUMN metric_coupling.window_complete IS 'False while the 30 days after the month are not all observed yet (coupling may still rise).';
COMMENT ON COLUMN metric_coupling.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_coupling.suppressed IS 'True when people_count is below privacy.min_group_size.';
