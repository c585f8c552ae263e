-- Weekly series per team of the metrics a process experiment can be judged on (docs/metrics.md section
-- 8): before/after windows, bootstrap intervals and difference-in-differences in
-- analysis/experiments.py all read this view, so a criterion's metric name is a `metric` here.
-- Weeks run Monday to Sunday (UTC); only complete weeks whose Monday falls in an observed
-- team-month are listed, and none that began before the first event (a week of zeros before the
-- data starts would read as a week without work). Counts are 0 in a week without any; medians
-- and ratios are absent.
CREATE OR REPLACE VIEW metric_weekly AS
WITH data_end AS (
    SELECT timezone('UTC', max(occurred_at))::DATE AS day,
           timezone('UTC', min(occurred_at))::DATE AS first_day
    FROM events
),
weeks AS (
    SELECT tm.team, tm.people_count,
           unnest(generate_series(date_trunc('week', tm.month)::DATE,
                                  (tm.month + INTERVAL 1 MONTH)::DATE, INTERVAL 7 DAY))::DATE
               AS week,
           tm.month
    FROM metric_team_months AS tm
),
cal AS (
    SELECT w.team, w.week, w.people_count
    FROM weeks AS w CROSS JOIN data_end AS d
    WHERE w.week >= w.month AND w.week < w.month + INTERVAL 1 MONTH
      AND w.week >= d.first_day AND w.week + INTERVAL 6 DAY <= d.day
),
effort AS (
    SELECT team, week,
           sum(minutes) FILTER (WHERE category = 'process')
               / nullif(sum(minutes) FILTER (WHERE category IN ('customer', 'enabling', 'process')), 0)
               AS overhead_ratio,
           count(*) FILTER (WHERE paperwork) / nullif(count(*) FILTER (WHERE source = 'jira'), 0)
               AS paperwork_ratio,
           1 - count(*) FILTER (WHERE prompted) / nullif(count(*) FILTER (WHERE is_process), 0)
               AS organic_share
    FROM metric_event_human
    WHERE team IS NOT NULL
    GROUP BY team, week
),
coupling AS (
    SELECT team, week, avg(coupled::INTEGER) AS process_coupling
    FROM (
        SELECT team, week, item_id, bool_or(coupled) AS coupled
        FROM metric_event_human
        WHERE is_process AND item_id IS NOT NULL AND team IS NOT NULL
        GROUP BY team, week, item_id
    )
    GROUP BY team, week
),
items AS (
    SELECT team, resolved_week AS week, count(*) AS items_resolved,
           count(*) FILTER (WHERE category = 'customer') AS customer_throughput,
           median(lead_time_days) FILTER (WHERE category = 'customer') AS customer_lead_time_days,
           median(flow_time_days) AS flow_time_days,
           median(flow_efficiency) AS flow_efficiency
    FROM metric_flow_items
    WHERE resolved_week IS NOT NULL
    GROUP BY team, resolved_week
),
prs AS (
    SELECT team, merged_week AS week, count(*) AS prs_merged,
           count(*) FILTER (WHERE category = 'customer') AS customer_prs_merged,
           median(pickup_hours) AS pickup_hours, median(review_hours) AS review_hours,
           median(cycle_hours) AS pr_cycle_hours
    FROM metric_pr_items
    WHERE merged_week IS NOT NULL
    GROUP BY team, merged_week
),
shadow AS (
    SELECT f.team, f.week, count(*) AS shadow_tool_messages
    FROM metric_event_human AS f
    JOIN events AS e USING (event_seq)
    WHERE f.source = 'slack' AND f.team IS NOT NULL
      AND (e.subkind = 'shadow_tool'
           OR coalesce(e.shadow_tool, 'false') NOT IN ('false', '', 'null', '0'))
    GROUP BY f.team, f.week
),
wide AS (
    SELECT c.team, c.week, c.people_count,
           e.overhead_ratio, e.paperwork_ratio, e.organic_share, k.process_coupling,
           coalesce(i.items_resolved, 0)::DOUBLE AS items_resolved,
           coalesce(i.customer_throughput, 0)::DOUBLE AS customer_throughput,
           i.customer_lead_time_days, i.flow_time_days, i.flow_efficiency,
           coalesce(p.prs_merged, 0)::DOUBLE AS prs_merged,
           coalesce(p.customer_prs_merged, 0)::DOUBLE AS customer_prs_merged,
           p.pickup_hours, p.review_hours, p.pr_cycle_hours,
           coalesce(s.shadow_tool_messages, 0)::DOUBLE AS shadow_tool_messages
    FROM cal AS c
    LEFT JOIN effort AS e USING (team, week)
    LEFT JOIN coupling AS k USING (team, week)
    LEFT JOIN items AS i USING (team, week)
    LEFT JOIN prs AS p USING (team, week)
    LEFT JOIN shadow AS s USING (team, week)
)
SELECT team, week, people_count, metric, value,
       people_count < coalesce((SELECT value::INTEGER FROM build_params
                                WHERE name = 'privacy.min_group_size'), 5) AS suppressed
FROM (
    UNPIVOT wide
    ON overhead_ratio, paperwork_ratio, organic_share, process_coupling, items_resolved,
       customer_throughput, customer_lead_time_days, flow_time_days, flow_efficiency, prs_merged,
       customer_prs_merged, pickup_hours, review_hours, pr_cycle_hours, shadow_tool_messages
    INTO NAME metric VALUE value
);
COMMENT ON VIEW metric_weekly IS 'Weekly series per team and metric, the input of process-experiment evaluation (docs/metrics.md section 8). Metrics: overhead_ratio, paperwork_ratio, organic_share, process_coupling (0-1 ratios); items_resolved, customer_throughput, prs_merged, customer_prs_merged, shadow_tool_messages (counts); customer_lead_time_days, flow_time_days (median days); flow_efficiency (median ratio); pickup_hours, review_hours, pr_cycle_hours (median hours).';
COMMENT ON COLUMN metric_weekly.team IS 'Team.';
COMMENT ON COLUMN metric_weekly.week IS 'Monday of the week (UTC).';
COMMENT ON COLUMN metric_weekly.people_count IS 'Active people in the team in the month of that Monday.';
COMMENT ON COLUMN metric_weekly.metric IS 'Metric name (see the view comment).';
COMMENT ON COLUMN metric_weekly.value IS 'Its value that week.';
COMMENT ON COLUMN metric_weekly.suppressed IS 'True when people_count is below privacy.min_group_size: a week of a month with too few people (process experiments leave such weeks out).';
