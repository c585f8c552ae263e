-- Customer-facing delivery (docs/metrics.md section 6) per team-month: customer items resolved,
-- customer pull requests merged, releases, lead time of customer items, and the share of merged
-- pull requests traceable to a customer-category Jira item. What the process exists to amplify.
CREATE OR REPLACE VIEW metric_customer_delivery AS
WITH traced AS (  -- pull requests naming a customer-category Jira item
    SELECT DISTINCT c.item_id
    FROM (
        SELECT item_id, unnest(linked_keys) AS key
        FROM work_items
        WHERE kind = 'pr' AND len(linked_keys) > 0
    ) AS c
    JOIN work_items AS j ON j.source = 'jira' AND j.key = c.key AND j.category = 'customer'
),
items AS (
    SELECT team, resolved_month AS month,
           count(*) FILTER (WHERE category = 'customer') AS customer_items_resolved,
           median(lead_time_days) FILTER (WHERE category = 'customer')
               AS median_customer_lead_time_days
    FROM metric_flow_items
    WHERE resolved_month IS NOT NULL
    GROUP BY team, resolved_month
),
prs AS (
    SELECT p.team, p.merged_month AS month, count(*) AS prs_merged,
           count(*) FILTER (WHERE p.category = 'customer') AS customer_prs_merged,
           count(t.item_id) AS traceable_prs
    FROM metric_pr_items AS p
    LEFT JOIN traced AS t USING (item_id)
    WHERE p.merged_month IS NOT NULL
    GROUP BY p.team, p.merged_month
),
releases AS (
    SELECT team, month, count(*) AS releases
    FROM metric_event_human
    WHERE kind = 'release' AND team IS NOT NULL
    GROUP BY team, month
)
SELECT tm.team, tm.month,
       coalesce(i.customer_items_resolved, 0) AS customer_items_resolved,
       coalesce(p.customer_prs_merged, 0) AS customer_prs_merged,
       coalesce(p.prs_merged, 0) AS prs_merged,
       coalesce(r.releases, 0) AS releases,
       i.median_customer_lead_time_days,
       p.traceable_prs / nullif(p.prs_merged, 0) AS traceable_share,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN items AS i USING (team, month)
LEFT JOIN prs AS p USING (team, month)
LEFT JOIN releases AS r USING (team, month);
COMMENT ON VIEW metric_customer_delivery IS 'Customer-facing delivery per team-month: customer items resolved, customer PRs merged, releases, customer lead time, share of merged PRs traceable to a customer item (docs/metrics.md section 6).';
COMMENT ON COLUMN metric_customer_delivery.team IS 'Team.';
COMMENT ON COLUMN metric_customer_delivery.month IS 'First day of the month.';
COMMENT ON COLUMN metric_customer_delivery.customer_items_resolved IS 'Customer-category Jira and GitHub issues resolved (customer throughput).';
COMMENT ON COLUMN metric_customer_delivery.customer_prs_merged IS 'Customer-category pull requests merged.';
COMMENT ON COLUMN metric_customer_delivery.prs_merged IS 'All pull requests merged.';
COMMENT ON COLUMN metric_customer_delivery.releases IS 'Releases published by team members.';
COMMENT ON COLUMN metric_customer_delivery.median_customer_lead_time_days IS 'Median days from creation to resolution of the customer items resolved.';
COMMENT ON COLUMN metric_customer_delivery.traceable_share IS 'Share of merged PRs that name a customer-category Jira item.';
COMMENT ON COLUMN metric_customer_delivery.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_customer_delivery.suppressed IS 'True when people_count is below privacy.min_group_size.';
