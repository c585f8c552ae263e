-- Work in progress (flow load, docs/metrics.md section 4) per team-month: the average number of items
-- in an active or waiting status, and Little's law as a data-quality check: mean WIP should be
-- close to throughput per day x mean flow time. A ratio far from 1 means the status history is
-- incomplete, items are abandoned without being closed, or the team is far from a steady state.
CREATE OR REPLACE VIEW metric_wip AS
WITH stays AS (
    SELECT s.team, s.entered_at, coalesce(s.left_at, d.at) AS left_at
    FROM metric_status_intervals AS s
    CROSS JOIN (SELECT max(occurred_at) AS at FROM events) AS d
    WHERE s.status_category IN ('active', 'waiting') AND s.team IS NOT NULL
),
bounds AS (  -- the month's UTC bounds: a cast to TIMESTAMPTZ would use the session time zone
    SELECT team, month, people_count, suppressed,
           timezone('UTC', month::TIMESTAMP) AS month_start,
           timezone('UTC', (month + INTERVAL 1 MONTH)::TIMESTAMP) AS month_end
    FROM metric_team_months
),
load AS (
    SELECT tm.team, tm.month,
           sum(greatest(0, epoch(least(s.left_at, tm.month_end))
                           - epoch(greatest(s.entered_at, tm.month_start)))) / 86400.0
               AS item_days
    FROM bounds AS tm
    JOIN stays AS s
        ON s.team = tm.team AND s.entered_at < tm.month_end AND s.left_at > tm.month_start
    GROUP BY tm.team, tm.month
),
done AS (
    SELECT team, resolved_month AS month, count(*) AS items, avg(flow_time_days) AS mean_flow_days
    FROM metric_flow_items
    WHERE resolved_month IS NOT NULL AND flow_time_days IS NOT NULL
    GROUP BY ALL
),
rates AS (
    SELECT tm.team, tm.month, tm.people_count, tm.suppressed,
           coalesce(l.item_days, 0) / date_diff('day', tm.month, tm.month + INTERVAL 1 MONTH)
               AS mean_wip,
           coalesce(d.items, 0) / date_diff('day', tm.month, tm.month + INTERVAL 1 MONTH)
               AS throughput_per_day,
           d.mean_flow_days
    FROM metric_team_months AS tm
    LEFT JOIN load AS l USING (team, month)
    LEFT JOIN done AS d USING (team, month)
)
SELECT team, month, mean_wip, throughput_per_day, mean_flow_days AS mean_flow_time_days,
       throughput_per_day * mean_flow_days AS littles_law_wip,
       mean_wip / nullif(throughput_per_day * mean_flow_days, 0) AS littles_law_ratio,
       people_count, suppressed
FROM rates;
COMMENT ON VIEW metric_wip IS 'Mean work in progress (items in active or waiting statuses) per team-month, with a Little''s-law check (docs/metrics.md section 4).';
COMMENT ON COLUMN metric_wip.team IS 'Team.';
COMMENT ON COLUMN metric_wip.month IS 'First day of the month.';
COMMENT ON COLUMN metric_wip.mean_wip IS 'Average number of the team''s items in an active or waiting status over the month.';
COMMENT ON COLUMN metric_wip.throughput_per_day IS 'Items resolved (with a flow time) per calendar day.';
COMMENT ON COLUMN metric_wip.mean_flow_time_days IS 'Mean flow time of those items, days.';
COMMENT ON COLUMN metric_wip.littles_law_wip IS 'throughput_per_day x mean_flow_time_days: the WIP Little''s law predicts.';
COMMENT ON COLUMN metric_wip.littles_law_ratio IS 'mean_wip / littles_law_wip; far from 1 is a data-quality or stability warning.';
COMMENT ON COLUMN metric_wip.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_wip.suppressed IS 'True when people_count is below privacy.min_group_size.';
