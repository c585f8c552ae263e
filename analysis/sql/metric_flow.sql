-- Flow (docs/metrics.md section 4): per team and month of resolution, how many items were finished, how
-- long they took from creation (lead time) and from the first active status (flow time), and the
-- median flow efficiency (share of flow time in active statuses; ~15% is typical of teams new to
-- flow, ~40% of mature ones: context, not pass/fail).
CREATE OR REPLACE VIEW metric_flow AS
SELECT tm.team, tm.month,
       count(f.item_id) AS items_resolved,
       count(f.item_id) FILTER (WHERE f.category = 'customer') AS customer_items_resolved,
       median(f.lead_time_days) AS median_lead_time_days,
       median(f.flow_time_days) AS median_flow_time_days,
       quantile_cont(f.flow_time_days, 0.75) AS p75_flow_time_days,
       median(f.flow_efficiency) AS median_flow_efficiency,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN metric_flow_items AS f ON f.team = tm.team AND f.resolved_month = tm.month
GROUP BY tm.team, tm.month, tm.people_count, tm.suppressed;
COMMENT ON VIEW metric_flow IS 'Throughput, lead time, flow time and flow efficiency per team-month of resolution (docs/metrics.md section 4).';
COMMENT ON COLUMN metric_flow.team IS 'Team.';
COMMENT ON COLUMN metric_flow.month IS 'First day of the month.';
COMMENT ON COLUMN metric_flow.items_resolved IS 'Throughput: Jira and GitHub issues resolved that month.';
COMMENT ON COLUMN metric_flow.customer_items_resolved IS 'Of those, customer-category items.';
COMMENT ON COLUMN metric_flow.median_lead_time_days IS 'Median days from creation to resolution.';
COMMENT ON COLUMN metric_flow.median_flow_time_days IS 'Median days from first active status to resolution.';
COMMENT ON COLUMN metric_flow.p75_flow_time_days IS '75th percentile of flow time, days.';
COMMENT ON COLUMN metric_flow.median_flow_efficiency IS 'Median over items of time in active statuses / flow time.';
COMMENT ON COLUMN metric_flow.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_flow.suppressed IS 'True when people_count is below privacy.min_group_size.';
