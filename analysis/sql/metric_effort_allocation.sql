-- metric_effort_allocation: where the team's effort went, per team, month and category
-- (docs/metrics.md sections 2 and 3). Hours are the effort model's credited minutes / 60; FTE counts
-- each person active in the month as 1, split by their own category shares, so heavy loggers do
-- not dominate; share = the category's hours / the team-month's hours. `unclassified` is always
-- a row of its own, never spread over the others. Months are UTC calendar months.
CREATE OR REPLACE VIEW metric_effort_allocation AS
WITH credited AS (  -- the credited events of metric_event_base (effort_credit's minutes, with
    -- the event's person, category and month: at 10M events 0.3-0.5 s, where joining
    -- effort_credit to events again took 1.7-2.3 s)
    SELECT pm.team, pm.month, b.person_id, coalesce(b.category, 'unclassified') AS category,
           sum(b.minutes) AS minutes
    FROM metric_event_base AS b
    JOIN person_months AS pm ON pm.person_id = b.person_id AND pm.month = b.month
    WHERE b.minutes > 0
    GROUP BY ALL
), person_total AS (
    SELECT team, month, person_id, sum(minutes) AS total
    FROM credited GROUP BY ALL HAVING sum(minutes) > 0
), team_month AS (
    SELECT team, month, sum(total) AS total, count(*) AS people
    FROM person_total GROUP BY ALL
), per_category AS (
    SELECT c.team, c.month, c.category, sum(c.minutes) AS minutes, sum(c.minutes / p.total) AS fte
    FROM credited c JOIN person_total p USING (team, month, person_id)
    GROUP BY ALL
)
SELECT t.team, t.month, k.category,
       coalesce(c.minutes, 0) / 60 AS hours,
       coalesce(c.fte, 0) AS fte,
       coalesce(c.minutes, 0) / t.total AS share,
       t.people AS people_count,
       t.people < (SELECT value::INTEGER FROM build_params
                   WHERE name = 'privacy.min_group_size') AS suppressed
FROM team_month t
CROSS JOIN (VALUES ('customer'), ('enabling'), ('process'), ('unclassified')) k(category)
LEFT JOIN per_category c USING (team, month, category)
ORDER BY t.team, t.month, k.category;

COMMENT ON VIEW metric_effort_allocation IS 'Effort per team, month and category in hours, FTE and share (docs/metrics.md sections 2-3); one row per category, unclassified included.';
COMMENT ON COLUMN metric_effort_allocation.team IS 'Team (person_months.team).';
COMMENT ON COLUMN metric_effort_allocation.month IS 'First day of the month (UTC).';
COMMENT ON COLUMN metric_effort_allocation.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_effort_allocation.hours IS 'Hours credited by the effort model (effort.minutes / 60).';
COMMENT ON COLUMN metric_effort_allocation.fte IS 'Full-time equivalents: each active person-month is 1 FTE, split by that person''s category shares.';
COMMENT ON COLUMN metric_effort_allocation.share IS 'Share of the team-month''s credited hours, 0 to 1.';
COMMENT ON COLUMN metric_effort_allocation.people_count IS 'People with credited effort in the team-month.';
COMMENT ON COLUMN metric_effort_allocation.suppressed IS 'True when people_count < privacy.min_group_size: show "too few people" instead of the figure.';
