-- The footprint of each recorded process change (docs/metrics.md section 7): which human events fall in
-- its scope (`processhealth experiment add --scope KEY=VALUE`), and how many of the team used it each
-- week. Scope keys (singular or plural): jira_project, field, status, channel, label, issue_type,
-- repo (globs allowed for channel and repo), kind (an event kind such as jira_worklog).

CREATE VIEW metric_scope_events AS
WITH scope AS (
    SELECT c.name AS change, c.team AS change_team,
           CASE
               WHEN s.key IN ('jira_project', 'jira_projects', 'project', 'projects') THEN 'project'
               WHEN s.key IN ('field', 'fields') THEN 'field'
               WHEN s.key IN ('status', 'statuses') THEN 'status'
               WHEN s.key IN ('channel', 'channels') THEN 'channel'
               WHEN s.key IN ('label', 'labels') THEN 'label'
               WHEN s.key IN ('issue_type', 'issue_types', 'type', 'types') THEN 'issue_type'
               WHEN s.key IN ('repo', 'repos') THEN 'repo'
               WHEN s.key IN ('kind', 'kinds', 'event_kind', 'event_kinds') THEN 'kind'
               ELSE s.key
           END AS key,
           unnest(CASE WHEN s.type = 'ARRAY' THEN from_json(s.value, '["VARCHAR"]')
                       ELSE [s.value ->> '$'] END) AS value
    FROM process_changes AS c, json_each(c.scope) AS s
),
-- Each matcher reads only the events its key can match (by kind, channel or work item), so a
-- scope costs in proportion to what it names, and no recorded change costs nothing.
matched AS (
    SELECT s.change, s.change_team, e.event_seq
    FROM scope AS s JOIN events AS e
        ON s.key = 'field' AND e.kind = 'jira_field_edit'
        AND lower(s.value) IN (lower(e.field), lower(e.field_name), lower(e.field_id))
    UNION ALL
    SELECT s.change, s.change_team, e.event_seq
    FROM scope AS s JOIN events AS e
        ON s.key = 'status' AND e.kind = 'jira_transition'
        AND lower(s.value) = lower(coalesce(e.detail ->> 'to_status', e.detail ->> 'to'))
    UNION ALL
    SELECT s.change, s.change_team, e.event_seq
    FROM scope AS s
    JOIN channels AS ch ON s.key = 'channel' AND ch.name GLOB s.value
    JOIN events AS e ON e.channel_id = ch.channel_id
    UNION ALL
    SELECT s.change, s.change_team, e.event_seq
    FROM scope AS s
    JOIN work_items AS w ON (s.key = 'label' AND list_contains(w.labels, s.value))
        OR (s.key = 'issue_type' AND lower(w.type) = lower(s.value))
        OR (s.key = 'project' AND w.source = 'jira' AND w.container = s.value)
        OR (s.key = 'repo' AND w.source = 'github'
            AND (w.container GLOB s.value OR split_part(w.container, '/', 2) GLOB s.value))
    JOIN events AS e ON e.item_id = w.item_id
    UNION ALL
    SELECT s.change, s.change_team, e.event_seq
    FROM scope AS s JOIN events AS e ON s.key = 'kind' AND e.kind = s.value
)
SELECT DISTINCT m.change, f.team, e.event_id, f.person_id, f.occurred_at, f.day, f.week, f.month,
       f.is_process, f.prompted
FROM matched AS m
JOIN metric_event_human AS f USING (event_seq)
JOIN events AS e USING (event_seq)
WHERE f.team IS NOT NULL AND (m.change_team IS NULL OR f.team = m.change_team);
COMMENT ON VIEW metric_scope_events IS 'Human events in the footprint of a recorded process change (process_changes.scope), by members of the team it applies to, before and after its start.';
COMMENT ON COLUMN metric_scope_events.change IS 'The process change (process_changes.name).';
COMMENT ON COLUMN metric_scope_events.team IS 'Team of the actor.';
COMMENT ON COLUMN metric_scope_events.event_id IS 'The event.';
COMMENT ON COLUMN metric_scope_events.person_id IS 'Acting person.';
COMMENT ON COLUMN metric_scope_events.occurred_at IS 'When it happened.';
COMMENT ON COLUMN metric_scope_events.day IS 'UTC day.';
COMMENT ON COLUMN metric_scope_events.week IS 'Monday of its UTC week.';
COMMENT ON COLUMN metric_scope_events.month IS 'First day of its UTC month.';
COMMENT ON COLUMN metric_scope_events.is_process IS 'True for process-category events.';
COMMENT ON COLUMN metric_scope_events.prompted IS 'For process events: a reminder reached the actor in the 24 h before.';

CREATE VIEW metric_adoption_weekly AS
WITH data_end AS (
    SELECT timezone('UTC', max(occurred_at))::DATE AS day FROM events
),
targets AS (
    SELECT c.name AS change, tm.team, c.started_on
    FROM process_changes AS c
    JOIN (SELECT DISTINCT team FROM metric_team_months) AS tm
        ON c.team IS NULL OR c.team = tm.team
),
weeks AS (
    SELECT t.change, t.team, t.started_on,
           unnest(generate_series(date_trunc('week', t.started_on),
                                  d.day - INTERVAL 6 DAY, INTERVAL 7 DAY))::DATE AS week
    FROM targets AS t CROSS JOIN data_end AS d
),
use AS (
    SELECT change, team, week, count(DISTINCT person_id) AS active_users, count(*) AS scope_events,
           count(*) FILTER (WHERE prompted) AS prompted_events
    FROM metric_scope_events
    GROUP BY ALL
)
SELECT w.change, w.team, w.week,
       (w.week - date_trunc('week', w.started_on)::DATE) // 7 AS weeks_since_start,
       coalesce(u.active_users, 0) AS active_users,
       tm.people_count AS headcount,
       coalesce(u.active_users, 0) / nullif(tm.people_count, 0) AS active_share,
       coalesce(u.scope_events, 0) AS scope_events,
       coalesce(u.prompted_events, 0) AS prompted_events,
       tm.suppressed
FROM weeks AS w
LEFT JOIN use AS u USING (change, team, week)
LEFT JOIN metric_team_months AS tm
    ON tm.team = w.team AND tm.month = date_trunc('month', w.week)::DATE;
COMMENT ON VIEW metric_adoption_weekly IS 'Weekly active users of a process change''s scope / team headcount, from the week it started to the last complete week of data (docs/metrics.md section 7).';
COMMENT ON COLUMN metric_adoption_weekly.change IS 'The process change.';
COMMENT ON COLUMN metric_adoption_weekly.team IS 'Team it applies to (one row per team when the change applies to every team).';
COMMENT ON COLUMN metric_adoption_weekly.week IS 'Monday of the week.';
COMMENT ON COLUMN metric_adoption_weekly.weeks_since_start IS 'Weeks since the week of the start date (0 = that week).';
COMMENT ON COLUMN metric_adoption_weekly.active_users IS 'Team members with at least one event in the scope that week.';
COMMENT ON COLUMN metric_adoption_weekly.headcount IS 'Active team members that month (metric_team_months.people_count).';
COMMENT ON COLUMN metric_adoption_weekly.active_share IS 'active_users / headcount.';
COMMENT ON COLUMN metric_adoption_weekly.scope_events IS 'Events in the scope that week.';
COMMENT ON COLUMN metric_adoption_weekly.prompted_events IS 'Of those, process events within 24 h after a reminder that reached the actor.';
COMMENT ON COLUMN metric_adoption_weekly.suppressed IS 'True when the team had fewer than privacy.min_group_size people that month.';
