-- Declared experiments (docs/metrics.md section 9) per team-month: issues and pull requests whose
-- text declared a hypothesis and success criteria, closed that month, and how many of them closed
-- with a result written on them. The essay's tell of an amplifier: a team that states what it
-- expects, how it will know, and then says what happened. Flags only (set at ingest from the
-- words, [declared_experiments] patterns); declaring experiments is no gain in itself, so the
-- verdict weighs this only as support for a measured one.
CREATE OR REPLACE VIEW metric_declared_experiments AS
WITH declared AS (
    SELECT t.team,
           date_trunc('month', timezone('UTC', coalesce(w.resolved_at, w.merged_at)))::DATE
               AS month,
           w.has_result
    FROM work_items AS w
    JOIN metric_item_team AS t USING (item_id)
    WHERE w.has_hypothesis AND w.has_success_criteria AND w.status_category = 'done'
      AND coalesce(w.resolved_at, w.merged_at) IS NOT NULL AND t.team IS NOT NULL
),
counts AS (
    SELECT team, month, count(*) AS declared_closed,
           count(*) FILTER (WHERE has_result) AS closed_with_result
    FROM declared
    GROUP BY team, month
)
SELECT tm.team, tm.month, coalesce(c.declared_closed, 0) AS declared_closed,
       coalesce(c.closed_with_result, 0) AS closed_with_result,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month);
COMMENT ON VIEW metric_declared_experiments IS 'Declared experiments per team-month: items with a hypothesis and success criteria closed that month, and those closed with a result (docs/metrics.md section 9).';
COMMENT ON COLUMN metric_declared_experiments.team IS 'Team (metric_item_team).';
COMMENT ON COLUMN metric_declared_experiments.month IS 'First day of the UTC month the item was resolved or merged.';
COMMENT ON COLUMN metric_declared_experiments.declared_closed IS 'Issues and pull requests closed as done that month whose text declared a hypothesis and success criteria (work_items.has_hypothesis, has_success_criteria).';
COMMENT ON COLUMN metric_declared_experiments.closed_with_result IS 'Of those, the ones with a result written on them (work_items.has_result): the body or a comment matching [declared_experiments] result_patterns.';
COMMENT ON COLUMN metric_declared_experiments.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_declared_experiments.suppressed IS 'True when people_count is below privacy.min_group_size.';
