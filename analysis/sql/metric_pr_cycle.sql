-- PR cycle time (docs/metrics.md section 4) per team and month of merge: where a merged pull request's
-- time goes — coding (first commit to opened), pickup (ready to the first response from another
-- human), review (first review to merge) and deploy (merge to the next release) — as median and
-- 75th percentile, with the share merged without anyone else's review.
CREATE OR REPLACE VIEW metric_pr_cycle AS
SELECT tm.team, tm.month,
       count(p.item_id) AS prs_merged,
       median(p.coding_hours) AS median_coding_hours,
       quantile_cont(p.coding_hours, 0.75) AS p75_coding_hours,
       median(p.pickup_hours) AS median_pickup_hours,
       quantile_cont(p.pickup_hours, 0.75) AS p75_pickup_hours,
       median(p.review_hours) AS median_review_hours,
       quantile_cont(p.review_hours, 0.75) AS p75_review_hours,
       median(p.deploy_hours) AS median_deploy_hours,
       quantile_cont(p.deploy_hours, 0.75) AS p75_deploy_hours,
       median(p.cycle_hours) AS median_cycle_hours,
       quantile_cont(p.cycle_hours, 0.75) AS p75_cycle_hours,
       avg(p.self_merged::INTEGER) AS self_merged_share,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN metric_pr_items AS p ON p.team = tm.team AND p.merged_month = tm.month
GROUP BY tm.team, tm.month, tm.people_count, tm.suppressed;
COMMENT ON VIEW metric_pr_cycle IS 'PR cycle time breakdown per team-month of merge: coding, pickup, review, deploy (docs/metrics.md section 4).';
COMMENT ON COLUMN metric_pr_cycle.team IS 'Team.';
COMMENT ON COLUMN metric_pr_cycle.month IS 'First day of the month.';
COMMENT ON COLUMN metric_pr_cycle.prs_merged IS 'Pull requests merged that month.';
COMMENT ON COLUMN metric_pr_cycle.median_coding_hours IS 'Median hours from first commit to opened.';
COMMENT ON COLUMN metric_pr_cycle.p75_coding_hours IS '75th percentile of coding hours.';
COMMENT ON COLUMN metric_pr_cycle.median_pickup_hours IS 'Median hours from ready for review to the first response by another human.';
COMMENT ON COLUMN metric_pr_cycle.p75_pickup_hours IS '75th percentile of pickup hours.';
COMMENT ON COLUMN metric_pr_cycle.median_review_hours IS 'Median hours from the first review to the merge.';
COMMENT ON COLUMN metric_pr_cycle.p75_review_hours IS '75th percentile of review hours.';
COMMENT ON COLUMN metric_pr_cycle.median_deploy_hours IS 'Median hours from merge to the next release (where releases exist).';
COMMENT ON COLUMN metric_pr_cycle.p75_deploy_hours IS '75th percentile of deploy hours.';
COMMENT ON COLUMN metric_pr_cycle.median_cycle_hours IS 'Median hours from opened to merged.';
COMMENT ON COLUMN metric_pr_cycle.p75_cycle_hours IS '75th percentile of opened-to-merged hours.';
COMMENT ON COLUMN metric_pr_cycle.self_merged_share IS 'Share merged with no review by another human before the merge.';
COMMENT ON COLUMN metric_pr_cycle.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_pr_cycle.suppressed IS 'True when people_count is below privacy.min_group_size.';
