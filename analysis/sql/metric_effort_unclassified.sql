-- metric_effort_unclassified: the largest buckets of unclassified effort, so a user can add
-- classification rules where they matter (docs/metrics.md section 1; `processhealth classify
-- --explain` prints it with suggested rules). An event is counted in every bucket it belongs to
-- (its channel, repository, Jira project and issue type, each label), so buckets overlap.
CREATE OR REPLACE VIEW metric_effort_unclassified AS
WITH u AS (
    SELECT e.event_id, e.source, e.kind, e.person_id, f.minutes, w.source AS item_source,
           coalesce(w.container, e.repo) AS container, w.type, w.labels,
           c.name AS channel_name
    FROM effort_credit f
    JOIN events e USING (event_seq)
    LEFT JOIN work_items w ON w.item_id = e.item_id
    LEFT JOIN channels c ON c.channel_id = e.channel_id
    WHERE coalesce(e.category, 'unclassified') = 'unclassified'
), buckets AS (
    SELECT 'channel' AS bucket_kind, channel_name AS bucket, * FROM u
    WHERE source = 'slack' AND channel_name IS NOT NULL
    UNION ALL
    SELECT 'issue_type', type, * FROM u WHERE item_source = 'jira' AND type IS NOT NULL
    UNION ALL
    SELECT 'project', container, * FROM u WHERE item_source = 'jira' AND container IS NOT NULL
    UNION ALL
    SELECT 'repo', container, * FROM u WHERE source = 'github' AND container IS NOT NULL
    UNION ALL
    SELECT 'label', unnest(labels), * FROM u WHERE len(labels) > 0
    UNION ALL
    SELECT 'event_kind', kind, * FROM u
)
SELECT bucket_kind, bucket, sum(minutes) / 60 AS hours, count(*) AS events,
       sum(minutes) / nullif((SELECT sum(minutes) FROM effort_credit), 0) AS share_of_effort,
       count(DISTINCT person_id) AS people_count,
       count(DISTINCT person_id) < (SELECT value::INTEGER FROM build_params
                                    WHERE name = 'privacy.min_group_size') AS suppressed
FROM buckets
GROUP BY bucket_kind, bucket
ORDER BY hours DESC, bucket_kind, bucket;

COMMENT ON VIEW metric_effort_unclassified IS 'Unclassified effort by bucket (channel, repo, Jira project, issue type, label, event kind), largest first: where a classification rule would help most.';
COMMENT ON COLUMN metric_effort_unclassified.bucket_kind IS 'channel, repo, project (Jira), issue_type (Jira), label or event_kind.';
COMMENT ON COLUMN metric_effort_unclassified.bucket IS 'The channel name, repository, project key, issue type, label or event kind.';
COMMENT ON COLUMN metric_effort_unclassified.hours IS 'Unclassified hours credited to events in the bucket.';
COMMENT ON COLUMN metric_effort_unclassified.events IS 'Unclassified events in the bucket.';
COMMENT ON COLUMN metric_effort_unclassified.share_of_effort IS 'The bucket''s hours / all credited hours, 0 to 1.';
COMMENT ON COLUMN metric_effort_unclassified.people_count IS 'People with unclassified effort in the bucket.';
COMMENT ON COLUMN metric_effort_unclassified.suppressed IS 'True when people_count < privacy.min_group_size.';
