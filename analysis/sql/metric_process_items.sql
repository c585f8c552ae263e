-- Process effort per work item: per team, month and work item, the process events the team spent
-- on it and their credited hours, ranked within the team-month. The report lists each team's top
-- five: the items a process keeps people busy with are where it has become work of its own.
CREATE OR REPLACE VIEW metric_process_items AS
-- The minutes are summed as whole millionths of a minute: a sum of doubles depends on the order
-- DuckDB's threads add them in, and items whose hours tie would swap ranks between two reads
-- of the same database. (Not a DECIMAL cast: DuckDB 1.1 and 2.0 round a double to a decimal
-- differently, and the view must give the same answer in every DuckDB that reads the file.)
SELECT i.*, t.people_count, coalesce(t.suppressed, true) AS suppressed
FROM (
SELECT f.team, f.month, f.item_id, w.key, w.title, w.url, w.source,
       count(*) AS events,
       sum(round(f.minutes * 1000000)::BIGINT)::DOUBLE / 60000000 AS hours,
       row_number() OVER (PARTITION BY f.team, f.month
                          ORDER BY sum(round(f.minutes * 1000000)::BIGINT) DESC, count(*) DESC,
                                   w.key, f.item_id) AS rank
FROM metric_event_human AS f
JOIN work_items AS w USING (item_id)
WHERE f.is_process AND f.team IS NOT NULL
GROUP BY f.team, f.month, f.item_id, w.key, w.title, w.url, w.source
) AS i
LEFT JOIN metric_team_months AS t ON t.team = i.team AND t.month = i.month;
COMMENT ON VIEW metric_process_items IS 'Process events and credited process hours per team, month and work item, ranked within the team-month (the report''s "work items that drew the most process effort").';
COMMENT ON COLUMN metric_process_items.team IS 'Team of the people who acted.';
COMMENT ON COLUMN metric_process_items.month IS 'First day of the month.';
COMMENT ON COLUMN metric_process_items.item_id IS 'Work item (work_items.item_id).';
COMMENT ON COLUMN metric_process_items.key IS 'Its key in its tool, e.g. ATL-12 or owner/repo#7.';
COMMENT ON COLUMN metric_process_items.title IS 'Its title (work_items.title).';
COMMENT ON COLUMN metric_process_items.url IS 'Its address in its tool (work_items.url).';
COMMENT ON COLUMN metric_process_items.source IS 'Tool: github or jira.';
COMMENT ON COLUMN metric_process_items.events IS 'Process-category events by the team on the item that month.';
COMMENT ON COLUMN metric_process_items.hours IS 'Credited hours of those events (summed in whole millionths of a minute, so that a tie stays a tie).';
COMMENT ON COLUMN metric_process_items.rank IS '1 for the item with the most process hours in the team-month (hours to a millionth of a minute, then most events, then key).';
COMMENT ON COLUMN metric_process_items.people_count IS 'Active people in the team that month (metric_team_months).';
COMMENT ON COLUMN metric_process_items.suppressed IS 'True when people_count is below privacy.min_group_size: show the team-month as too few people.';
