-- Status churn (docs/metrics.md section 5) per team-month: transitions per item done, moves backward
-- (to an earlier status category: done -> active, active -> todo, ...) and the reopen rate
-- (done -> not done moves / items done). Churn grows when a workflow has more statuses than the
-- work has states, or when "done" does not mean done.
CREATE OR REPLACE VIEW metric_status_churn AS
WITH ranked AS (
    SELECT t.item_id, it.team, date_trunc('month', timezone('UTC', t."at"))::DATE AS month,
           t.from_status_category, t.to_status_category,
           CASE t.from_status_category WHEN 'todo' THEN 0 WHEN 'active' THEN 1
                WHEN 'waiting' THEN 1 WHEN 'done' THEN 2 END AS from_rank,
           CASE t.to_status_category WHEN 'todo' THEN 0 WHEN 'active' THEN 1
                WHEN 'waiting' THEN 1 WHEN 'done' THEN 2 END AS to_rank
    FROM transitions AS t
    LEFT JOIN metric_item_team AS it USING (item_id)
),
moves AS (
    SELECT team, month,
           count(*) FILTER (WHERE to_rank < from_rank) AS backward_moves,
           count(*) FILTER (WHERE from_status_category = 'done'
                              AND to_status_category <> 'done') AS reopens
    FROM ranked
    GROUP BY team, month
),
done AS (
    SELECT f.team, f.resolved_month AS month, count(DISTINCT f.item_id) AS items_done,
           count(t.item_id) AS transitions_of_done
    FROM metric_flow_items AS f
    LEFT JOIN transitions AS t USING (item_id)
    WHERE f.resolved_month IS NOT NULL
    GROUP BY f.team, f.resolved_month
)
SELECT tm.team, tm.month, coalesce(d.items_done, 0) AS items_done,
       d.transitions_of_done / nullif(d.items_done, 0) AS transitions_per_done_item,
       coalesce(m.backward_moves, 0) AS backward_moves,
       coalesce(m.reopens, 0) AS reopens,
       coalesce(m.reopens, 0) / nullif(d.items_done, 0) AS reopen_rate,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN moves AS m USING (team, month)
LEFT JOIN done AS d USING (team, month);
COMMENT ON VIEW metric_status_churn IS 'Status churn per team-month: transitions per done item, backward moves and reopen rate (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_status_churn.team IS 'Team the items count toward.';
COMMENT ON COLUMN metric_status_churn.month IS 'First day of the month.';
COMMENT ON COLUMN metric_status_churn.items_done IS 'Items resolved that month.';
COMMENT ON COLUMN metric_status_churn.transitions_per_done_item IS 'Status transitions over the life of those items / items_done.';
COMMENT ON COLUMN metric_status_churn.backward_moves IS 'Transitions that month to an earlier status category (todo < active = waiting < done).';
COMMENT ON COLUMN metric_status_churn.reopens IS 'Transitions that month from a done status to a status that is not done.';
COMMENT ON COLUMN metric_status_churn.reopen_rate IS 'reopens / items_done.';
COMMENT ON COLUMN metric_status_churn.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_status_churn.suppressed IS 'True when people_count is below privacy.min_group_size.';
