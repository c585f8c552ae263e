-- Overhead ratio (docs/metrics.md section 3): process / (customer + enabling + process) credited minutes
-- per team-month, and its change against the baseline the verdict used for that month
-- (health_verdicts.baseline_months, docs/metrics.md section 9), so the overhead section and the
-- verdict of a report page show one baseline. The headline number of the report: how much of the
-- visible work is coordinating the work. Unclassified minutes are left out of the ratio (and shown
-- in metric_effort_allocation), never spread.
CREATE OR REPLACE VIEW metric_overhead AS
WITH minutes AS (
    SELECT team, month,
           sum(minutes) FILTER (WHERE category = 'customer') AS customer,
           sum(minutes) FILTER (WHERE category = 'enabling') AS enabling,
           sum(minutes) FILTER (WHERE category = 'process') AS process,
           sum(minutes) FILTER (WHERE category NOT IN ('customer', 'enabling', 'process')
                                   OR category IS NULL) AS unclassified
    FROM metric_event_human
    WHERE team IS NOT NULL
    GROUP BY team, month
),
months AS (
    SELECT tm.team, tm.month, tm.people_count, tm.suppressed,
           coalesce(m.customer, 0) AS customer, coalesce(m.enabling, 0) AS enabling,
           coalesce(m.process, 0) AS process, coalesce(m.unclassified, 0) AS unclassified,
           coalesce(m.process, 0) / nullif(coalesce(m.customer, 0) + coalesce(m.enabling, 0)
                                           + coalesce(m.process, 0), 0) AS ratio
    FROM metric_team_months AS tm
    LEFT JOIN minutes AS m USING (team, month)
),
verdict_base AS (
    SELECT v.team, v.month, unnest(v.baseline_months) AS base_month
    FROM health_verdicts AS v
),
baseline AS (
    -- the mean of the baseline months' ratios, as the verdict compares them
    SELECT b.team, b.month, avg(o.ratio) AS base_ratio, count(o.ratio) AS base_months
    FROM verdict_base AS b
    JOIN months AS o ON o.team = b.team AND o.month = b.base_month
    GROUP BY b.team, b.month
)
SELECT m.team, m.month,
       m.customer / 60.0 AS customer_hours, m.enabling / 60.0 AS enabling_hours,
       m.process / 60.0 AS process_hours, m.unclassified / 60.0 AS unclassified_hours,
       m.ratio AS overhead_ratio,
       b.base_ratio AS baseline_ratio,
       coalesce(b.base_months, 0) AS baseline_months,
       100 * (m.ratio - b.base_ratio) AS change_pp,
       m.people_count, m.suppressed
FROM months AS m
LEFT JOIN baseline AS b USING (team, month);
COMMENT ON VIEW metric_overhead IS 'Overhead ratio per team-month: process / (customer + enabling + process) credited minutes, with its change against the baseline months of the month''s verdict (docs/metrics.md sections 3 and 9).';
COMMENT ON COLUMN metric_overhead.team IS 'Team.';
COMMENT ON COLUMN metric_overhead.month IS 'First day of the month.';
COMMENT ON COLUMN metric_overhead.customer_hours IS 'Credited hours on customer work.';
COMMENT ON COLUMN metric_overhead.enabling_hours IS 'Credited hours on enabling work.';
COMMENT ON COLUMN metric_overhead.process_hours IS 'Credited hours on process.';
COMMENT ON COLUMN metric_overhead.unclassified_hours IS 'Credited hours not classified (outside the ratio).';
COMMENT ON COLUMN metric_overhead.overhead_ratio IS 'process / (customer + enabling + process), 0 to 1.';
COMMENT ON COLUMN metric_overhead.baseline_ratio IS 'The mean overhead ratio of the months the verdict compared this month with (health_verdicts.baseline_months); NULL when there is none.';
COMMENT ON COLUMN metric_overhead.baseline_months IS 'How many months the baseline averages (0 = no baseline yet: the report draws no baseline point).';
COMMENT ON COLUMN metric_overhead.change_pp IS '(overhead_ratio - baseline_ratio) x 100, percentage points.';
COMMENT ON COLUMN metric_overhead.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_overhead.suppressed IS 'True when people_count is below privacy.min_group_size: show "too few people".';
