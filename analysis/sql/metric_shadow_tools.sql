-- Shadow tools (docs/metrics.md section 5) per team-month: Slack messages by team members that link a
-- spreadsheet or document outside the system of record (Google Sheets, Airtable, Notion, .xlsx,
-- .csv, ...; slack.shadow_tool_domains / shadow_tool_extensions). When people keep their real
-- status in a sheet, the official tool has become a second copy to maintain.
CREATE OR REPLACE VIEW metric_shadow_tools AS
WITH shadow AS (
    SELECT f.team, f.month, count(*) AS shadow_tool_messages,
           count(DISTINCT f.person_id) AS people_sharing
    FROM metric_event_human AS f
    JOIN events AS e USING (event_seq)
    WHERE f.source = 'slack' AND f.team IS NOT NULL
      AND (e.subkind = 'shadow_tool'
           OR coalesce(e.shadow_tool, 'false') NOT IN ('false', '', 'null', '0'))
    GROUP BY f.team, f.month
)
SELECT tm.team, tm.month, coalesce(s.shadow_tool_messages, 0) AS shadow_tool_messages,
       coalesce(s.people_sharing, 0) AS people_sharing,
       coalesce(s.shadow_tool_messages, 0) / nullif(tm.people_count, 0) AS per_person,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN shadow AS s USING (team, month);
COMMENT ON VIEW metric_shadow_tools IS 'Shadow tools per team-month: Slack messages linking spreadsheets or documents outside the system of record (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_shadow_tools.team IS 'Team of the authors.';
COMMENT ON COLUMN metric_shadow_tools.month IS 'First day of the month.';
COMMENT ON COLUMN metric_shadow_tools.shadow_tool_messages IS 'Messages linking a shadow tool.';
COMMENT ON COLUMN metric_shadow_tools.people_sharing IS 'Team members who posted one.';
COMMENT ON COLUMN metric_shadow_tools.per_person IS 'shadow_tool_messages / people_count.';
COMMENT ON COLUMN metric_shadow_tools.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_shadow_tools.suppressed IS 'True when people_count is below privacy.min_group_size.';
