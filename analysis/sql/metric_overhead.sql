-- Overhead ratio (docs/metrics.md section 3): process / (customer + enabling + process) credited minutes
-- per team-month, and its change against the team's own trailing 3-month baseline. The headline
-- number of the report: how much of the visible work is coordinating the work. Unclassified
-- minutes are left out of the ratio (and shown in metric_effort_allocation), never spread.
CREATE OR REPLACE VIEW metric_overhead AS
WITH minutes AS (
    SELECT team, month,
           sum(minutes) FILTER (WHERE category = 'customer') AS customer,
           sum(minutes) FILTER (WHERE category = 'enabling') AS enabling,
           sum(minutes) FILTER (WHERE category = 'process') AS process,
           sum(minutes) FILTER (WHERE category NOT IN ('customer', 'enabling', 'process')
                                   OR category IS NULL) AS unclassified
    FROM metric_event_facts
    WHERE team IS NOT NULL
    GROUP BY team, month
),
months AS (
    SELECT tm.team, tm.month, tm.people_count, tm.suppressed,
           coalesce(m.customer, 0) AS customer, coalesce(m.enabling, 0) AS enabling,
           coalesce(m.process, 0) AS process, coalesce(m.unclassified, 0) AS unclassified
    FROM metric_team_months AS tm
    LEFT JOIN minutes AS m USING (team, month)
),
baseline AS (
    -- only months with enough people: a baseline resting on one stray person (a month before
    -- the team's data really starts) would be a figure under min_group_size, often 0%
    SELECT *,
           sum(CASE WHEN NOT suppressed THEN process END) OVER w AS base_process,
           sum(CASE WHEN NOT suppressed THEN customer + enabling + process END) OVER w
               AS base_total,
           count(CASE WHEN NOT suppressed THEN 1 END) OVER w AS base_months
    FROM months
    WINDOW w AS (PARTITION BY team ORDER BY month
                 RANGE BETWEEN INTERVAL 3 MONTH PRECEDING AND INTERVAL 1 MONTH PRECEDING)
)
SELECT team, month,
       customer / 60.0 AS customer_hours, enabling / 60.0 AS enabling_hours,
       process / 60.0 AS process_hours, unclassified / 60.0 AS unclassified_hours,
       process / nullif(customer + enabling + process, 0) AS overhead_ratio,
       base_process / nullif(base_total, 0) AS baseline_ratio,
       base_months AS baseline_months,
       100 * (process / nullif(customer + enabling + process, 0)
              - base_process / nullif(base_total, 0)) AS change_pp,
       people_count, suppressed
FROM baseline;
COMMENT ON VIEW metric_overhead IS 'Overhead ratio per team-month: process / (customer + enabling + process) credited minutes, with its change against the trailing 3-month baseline (docs/metrics.md section 3).';
COMMENT ON COLUMN metric_overhead.team IS 'Team.';
COMMENT ON COLUMN metric_overhead.month IS 'First day of the month.';
COMMENT ON COLUMN metric_overhead.customer_hours IS 'Credited hours on customer work.';
COMMENT ON COLUMN metric_overhead.enabling_hours IS 'Credited hours on enabling work.';
COMMENT ON COLUMN metric_overhead.process_hours IS 'Credited hours on process.';
COMMENT ON COLUMN metric_overhead.unclassified_hours IS 'Credited hours not classified (outside the ratio).';
COMMENT ON COLUMN metric_overhead.overhead_ratio IS 'process / (customer + enabling + process), 0 to 1.';
COMMENT ON COLUMN metric_overhead.baseline_ratio IS 'The same ratio over the (up to) 3 months before that have privacy.min_group_size people, minutes pooled; NULL when there is none.';
COMMENT ON COLUMN metric_overhead.baseline_months IS 'How many months the baseline pools (0 = no baseline yet: the report draws no baseline point).';
COMMENT ON COLUMN metric_overhead.change_pp IS '(overhead_ratio - baseline_ratio) x 100, percentage points.';
COMMENT ON COLUMN metric_overhead.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_overhead.suppressed IS 'True when people_count is below privacy.min_group_size: show "too few people".';
