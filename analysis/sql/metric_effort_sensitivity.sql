-- metric_effort_sensitivity: how much the category shares depend on the session gap G of the
-- effort model (docs/metrics.md section 2). One row per gap in effort.sensitivity_gaps plus the
-- configured gap; share_change_pp is the difference to the configured gap's share.
CREATE OR REPLACE VIEW metric_effort_sensitivity AS
WITH s AS (
    SELECT gap_minutes, team, month, category, minutes, people_count,
           minutes / nullif(sum(minutes) OVER (PARTITION BY gap_minutes, team, month), 0) AS share
    FROM effort_sensitivity
), base AS (
    SELECT team, month, category, share AS base_share FROM s
    WHERE gap_minutes = (SELECT value::DOUBLE FROM build_params
                         WHERE name = 'effort.session_gap_minutes')
)
SELECT s.gap_minutes, s.team, s.month, s.category, s.minutes / 60 AS hours, s.share,
       100 * (s.share - coalesce(b.base_share, 0)) AS share_change_pp,
       s.people_count,
       s.people_count < (SELECT value::INTEGER FROM build_params
                         WHERE name = 'privacy.min_group_size') AS suppressed
FROM s LEFT JOIN base b USING (team, month, category)
ORDER BY s.team, s.month, s.category, s.gap_minutes;

COMMENT ON VIEW metric_effort_sensitivity IS 'Category shares per team-month recomputed with other session gaps (effort.sensitivity_gaps): how robust the headline shares are.';
COMMENT ON COLUMN metric_effort_sensitivity.gap_minutes IS 'Session gap G of this run, in minutes.';
COMMENT ON COLUMN metric_effort_sensitivity.team IS 'Team (person_months.team).';
COMMENT ON COLUMN metric_effort_sensitivity.month IS 'First day of the month (UTC).';
COMMENT ON COLUMN metric_effort_sensitivity.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_effort_sensitivity.hours IS 'Hours credited with this gap.';
COMMENT ON COLUMN metric_effort_sensitivity.share IS 'Share of the team-month''s credited hours with this gap, 0 to 1.';
COMMENT ON COLUMN metric_effort_sensitivity.share_change_pp IS 'share minus the share with the configured gap, in percentage points.';
COMMENT ON COLUMN metric_effort_sensitivity.people_count IS 'People with credited effort in the team-month.';
COMMENT ON COLUMN metric_effort_sensitivity.suppressed IS 'True when people_count < privacy.min_group_size.';
