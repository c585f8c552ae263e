-- What the figures rest on, per tool: events and work items collected, and the time they span.
-- A report reader needs this first: a tool collected for a month only cannot show a trend.
CREATE OR REPLACE VIEW metric_coverage_sources AS
WITH acts AS (
    SELECT source, count(*) AS events, min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM events
    GROUP BY source
),
items AS (
    SELECT source, count(*) AS work_items FROM work_items GROUP BY source
)
SELECT a.source, a.events, i.work_items, a.first_at, a.last_at
FROM acts AS a
LEFT JOIN items AS i USING (source);
COMMENT ON VIEW metric_coverage_sources IS 'Per tool: events and work items in the database and the first and last activity (the report''s coverage section).';
COMMENT ON COLUMN metric_coverage_sources.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_coverage_sources.events IS 'Events from that tool.';
COMMENT ON COLUMN metric_coverage_sources.work_items IS 'Work items from that tool; NULL when it has none (Slack).';
COMMENT ON COLUMN metric_coverage_sources.first_at IS 'Its first event.';
COMMENT ON COLUMN metric_coverage_sources.last_at IS 'Its last event.';
