-- Time in status (docs/metrics.md section 4): how long items stay in each status, per team and month the
-- stay ended. Long stays in waiting statuses ("Awaiting PM Review", "Ready for Estimation") are
-- where a process makes work wait; a status nobody stays in is a status nobody needs.
CREATE OR REPLACE VIEW metric_time_in_status AS
WITH stays AS (
    SELECT *, date_trunc('month', timezone('UTC', left_at))::DATE AS month
    FROM metric_status_intervals
    WHERE left_at IS NOT NULL
),
-- A status name two projects map to different categories: the category of most of the stays,
-- of a tie the first in order (the same in every build).
categories AS (
    SELECT team, month, status, arg_min(status_category, (-n, status_category)) AS status_category
    FROM (SELECT team, month, status, status_category, count(*) AS n FROM stays GROUP BY ALL)
    GROUP BY ALL
)
SELECT s.team, s.month, s.status, any_value(c.status_category) AS status_category,
       count(*) AS stays,
       median(s.hours) AS median_hours,
       quantile_cont(s.hours, 0.75) AS p75_hours,
       sum(s.hours) AS total_hours,
       any_value(tm.people_count) AS people_count,
       any_value(tm.suppressed) AS suppressed
FROM stays AS s
JOIN metric_team_months AS tm USING (team, month)
LEFT JOIN categories AS c
    ON c.team = s.team AND c.month = s.month AND c.status IS NOT DISTINCT FROM s.status
GROUP BY s.team, s.month, s.status;
COMMENT ON VIEW metric_time_in_status IS 'Time in status per team, month (when the stay ended) and status, from the changelog (docs/metrics.md section 4).';
COMMENT ON COLUMN metric_time_in_status.team IS 'Team the items count toward.';
COMMENT ON COLUMN metric_time_in_status.month IS 'First day of the month the stays ended.';
COMMENT ON COLUMN metric_time_in_status.status IS 'Status name.';
COMMENT ON COLUMN metric_time_in_status.status_category IS 'todo, active, waiting or done.';
COMMENT ON COLUMN metric_time_in_status.stays IS 'Stays that ended that month.';
COMMENT ON COLUMN metric_time_in_status.median_hours IS 'Median hours per stay.';
COMMENT ON COLUMN metric_time_in_status.p75_hours IS '75th percentile of hours per stay.';
COMMENT ON COLUMN metric_time_in_status.total_hours IS 'Hours of all those stays together.';
COMMENT ON COLUMN metric_time_in_status.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_time_in_status.suppressed IS 'True when people_count is below privacy.min_group_size.';
