-- Field fill rate (docs/metrics.md section 5, audit): per team, month of creation and Jira field, the
-- share of the items created that carry a value now, and how often the field was edited that
-- month. Fields under 10% fill are dead-weight candidates: mandatory-looking fields that nobody
-- uses cost every item a look, and fields that are filled only to be edited again cost more.
CREATE OR REPLACE VIEW metric_field_fill AS
WITH created AS (
    SELECT f.field_id, f.field_name, t.team, date_trunc('month', timezone('UTC', w.created_at))::DATE AS month,
           f.item_id, f.has_value
    FROM item_fields AS f
    JOIN work_items AS w USING (item_id)
    JOIN metric_item_team AS t USING (item_id)
    WHERE t.team IS NOT NULL
),
fill AS (
    SELECT team, month, field_id, min(field_name) AS field_name,  -- the same in every build
           count(*) AS items_created, count(*) FILTER (WHERE has_value) AS items_with_value
    FROM created
    GROUP BY team, month, field_id
),
edits AS (
    SELECT f.team, f.month, e.field_id, count(*) AS edits,
           count(DISTINCT f.item_id) AS items_edited
    FROM metric_event_human AS f
    JOIN events AS e USING (event_seq)
    WHERE f.kind = 'jira_field_edit' AND f.team IS NOT NULL
    GROUP BY f.team, f.month, e.field_id
)
SELECT x.team, x.month, x.field_id, x.field_name, x.items_created, x.items_with_value,
       x.items_with_value / nullif(x.items_created, 0) AS fill_rate,
       coalesce(d.edits, 0) AS edits, coalesce(d.items_edited, 0) AS items_edited,
       x.items_with_value / nullif(x.items_created, 0) < 0.10 AS dead_weight,
       tm.people_count, tm.suppressed
FROM fill AS x
LEFT JOIN edits AS d USING (team, month, field_id)
LEFT JOIN metric_team_months AS tm USING (team, month);
COMMENT ON VIEW metric_field_fill IS 'Field fill rate per team, month of creation and Jira field: share of items created with a value, and edits per field (docs/metrics.md section 5, audit); under 10% fill is a dead-weight candidate.';
COMMENT ON COLUMN metric_field_fill.team IS 'Team the items count toward.';
COMMENT ON COLUMN metric_field_fill.month IS 'First day of the month the items were created (and the edits made).';
COMMENT ON COLUMN metric_field_fill.field_id IS 'Jira field id, e.g. customfield_10016.';
COMMENT ON COLUMN metric_field_fill.field_name IS 'Field name as Jira shows it.';
COMMENT ON COLUMN metric_field_fill.items_created IS 'Jira issues created that month.';
COMMENT ON COLUMN metric_field_fill.items_with_value IS 'Of those, issues with a value in the field now.';
COMMENT ON COLUMN metric_field_fill.fill_rate IS 'items_with_value / items_created.';
COMMENT ON COLUMN metric_field_fill.edits IS 'Human edits of the field that month by the team (any item).';
COMMENT ON COLUMN metric_field_fill.items_edited IS 'Items whose field the team edited that month.';
COMMENT ON COLUMN metric_field_fill.dead_weight IS 'True when fill_rate is under 10%: a candidate to drop.';
COMMENT ON COLUMN metric_field_fill.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_field_fill.suppressed IS 'True when people_count is below privacy.min_group_size.';
