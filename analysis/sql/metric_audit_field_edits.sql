-- Field edits for the audit (docs/metrics.md section 5, field fill rate): edits of each Jira field on a
-- team's items, by the month the item was created and the month of the edit. The audit counts
-- the edits made within its period on the items created within it, so it needs both months;
-- metric_field_fill gives the fill rate itself (its edits are the team's own edits on any item).
CREATE OR REPLACE VIEW metric_audit_field_edits AS
SELECT t.team,
       date_trunc('month', timezone('UTC', w.created_at))::DATE AS created_month,
       date_trunc('month', timezone('UTC', e.occurred_at))::DATE AS month,
       e.field_id,
       count(*) AS edits
FROM events AS e
JOIN work_items AS w USING (item_id)
JOIN metric_item_team AS t USING (item_id)
WHERE e.kind = 'jira_field_edit' AND w.source = 'jira' AND t.team IS NOT NULL
GROUP BY ALL;
COMMENT ON VIEW metric_audit_field_edits IS 'Edits of each Jira field on a team''s items, by month the item was created and month of the edit (docs/metrics.md section 5, audit: edits per field beside the fill rate).';
COMMENT ON COLUMN metric_audit_field_edits.team IS 'Team the edited items count toward (metric_item_team).';
COMMENT ON COLUMN metric_audit_field_edits.created_month IS 'First day of the UTC month the edited items were created.';
COMMENT ON COLUMN metric_audit_field_edits.month IS 'First day of the UTC month of the edits.';
COMMENT ON COLUMN metric_audit_field_edits.field_id IS 'Jira field id edited (events.field_id), e.g. customfield_10016.';
COMMENT ON COLUMN metric_audit_field_edits.edits IS 'jira_field_edit events on those items that month, by anyone (people, bots, automation).';
