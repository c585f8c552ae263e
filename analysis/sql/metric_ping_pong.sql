-- Ping-pong (docs/metrics.md section 5) per team-month: an item moved A -> B and then straight back
-- B -> A within 7 days, in status or in assignee. Hand-offs that bounce are work the process makes
-- people redo: approvals sent back, tickets passed around because nobody owns them.
CREATE OR REPLACE VIEW metric_ping_pong AS
WITH moves AS (
    SELECT item_id, "at", from_status AS a, to_status AS b, 'status' AS what
    FROM transitions
    WHERE from_status IS NOT NULL
    UNION ALL
    SELECT item_id, occurred_at,
           coalesce(detail ->> 'from_id', detail ->> 'from', detail ->> 'from_string'),
           coalesce(detail ->> 'to_id', detail ->> 'to', detail ->> 'to_string'),
           'assignee'
    FROM events
    WHERE kind = 'jira_field_edit' AND lower(coalesce(field, '')) = 'assignee'
),
seq AS (
    SELECT *, lag(a) OVER w AS prev_a, lag(b) OVER w AS prev_b, lag("at") OVER w AS prev_at
    FROM moves
    WINDOW w AS (PARTITION BY item_id, what ORDER BY "at")
),
flagged AS (
    SELECT s.item_id, it.team, date_trunc('month', timezone('UTC', s."at"))::DATE AS month,
           s.what,
           coalesce(s.prev_a = s.b AND s.prev_b = s.a
                    AND epoch(s."at") - epoch(s.prev_at) <= 7 * 86400, false) AS ping_pong
    FROM seq AS s
    LEFT JOIN metric_item_team AS it USING (item_id)
),
counts AS (
    SELECT team, month, count(DISTINCT item_id) AS items_moved,
           count(*) FILTER (WHERE ping_pong AND what = 'status') AS status_ping_pongs,
           count(*) FILTER (WHERE ping_pong AND what = 'assignee') AS assignee_ping_pongs,
           count(DISTINCT item_id) FILTER (WHERE ping_pong) AS items_ping_ponged
    FROM flagged
    GROUP BY team, month
)
SELECT tm.team, tm.month, coalesce(c.items_moved, 0) AS items_moved,
       coalesce(c.status_ping_pongs, 0) AS status_ping_pongs,
       coalesce(c.assignee_ping_pongs, 0) AS assignee_ping_pongs,
       coalesce(c.items_ping_ponged, 0) AS items_ping_ponged,
       c.items_ping_ponged / nullif(c.items_moved, 0) AS ping_pong_share,
       tm.people_count, tm.suppressed
FROM metric_team_months AS tm
LEFT JOIN counts AS c USING (team, month);
COMMENT ON VIEW metric_ping_pong IS 'Ping-pong per team-month: A -> B -> A status or assignee moves within 7 days (docs/metrics.md section 5), counted in the month of the move back.';
COMMENT ON COLUMN metric_ping_pong.team IS 'Team the items count toward.';
COMMENT ON COLUMN metric_ping_pong.month IS 'First day of the month.';
COMMENT ON COLUMN metric_ping_pong.items_moved IS 'Items with at least one status or assignee move that month.';
COMMENT ON COLUMN metric_ping_pong.status_ping_pongs IS 'Status moves that undo the previous one (B -> A after A -> B) within 7 days.';
COMMENT ON COLUMN metric_ping_pong.assignee_ping_pongs IS 'Assignee changes that undo the previous one within 7 days.';
COMMENT ON COLUMN metric_ping_pong.items_ping_ponged IS 'Items with at least one ping-pong that month.';
COMMENT ON COLUMN metric_ping_pong.ping_pong_share IS 'items_ping_ponged / items_moved.';
COMMENT ON COLUMN metric_ping_pong.people_count IS 'Active people in the team that month.';
COMMENT ON COLUMN metric_ping_pong.suppressed IS 'True when people_count is below privacy.min_group_size.';
