-- Building blocks of the metric views (docs/metrics.md sections 3-9): which team each person, event and
-- work item counts toward, who a reminder reached, and per-event facts (credited minutes, paperwork,
-- coupling to delivery, prompted by a reminder) that the team-month and weekly views add up.
-- The build creates them before any metric view (processhealth/pipeline.py METRIC_BLOCKS: base,
-- items, scope), and once every view exists stores the heavy ones as tables of the same name
-- (analysis/materialize.py). Times are UTC. Per-event rows are stored once: metric_event_team
-- holds every event with its team and its facts; metric_event_facts is its human events.

CREATE VIEW metric_team_months AS
SELECT pm.team, pm.month,
       count(DISTINCT pm.person_id) FILTER (WHERE pm.active) AS people_count,
       count(DISTINCT pm.person_id) FILTER (WHERE pm.active) < coalesce(
           (SELECT value::INTEGER FROM build_params WHERE name = 'privacy.min_group_size'), 5
       ) AS suppressed
FROM person_months AS pm
JOIN people AS p USING (person_id)
WHERE pm.team IS NOT NULL AND NOT p.is_bot
GROUP BY pm.team, pm.month;
COMMENT ON VIEW metric_team_months IS 'Team-months and how many people are behind their figures: a figure of a suppressed team-month is shown as "too few people", never as a verdict (docs/metrics.md section 10).';
COMMENT ON COLUMN metric_team_months.team IS 'Team.';
COMMENT ON COLUMN metric_team_months.month IS 'First day of the month.';
COMMENT ON COLUMN metric_team_months.people_count IS 'Humans of the team active that month (person_months.active).';
COMMENT ON COLUMN metric_team_months.suppressed IS 'True when people_count is below privacy.min_group_size.';

CREATE VIEW metric_item_team AS
WITH owner AS (
    SELECT item_id, assignee_id, author_id,
           date_trunc('month', timezone('UTC', coalesce(resolved_at, merged_at, created_at)))::DATE
               AS month
    FROM work_items
)
SELECT o.item_id, coalesce(am.team, ap.team, um.team, up.team) AS team
FROM owner AS o
LEFT JOIN person_months AS am ON am.person_id = o.assignee_id AND am.month = o.month
LEFT JOIN people AS ap ON ap.person_id = o.assignee_id AND NOT ap.is_bot
LEFT JOIN person_months AS um ON um.person_id = o.author_id AND um.month = o.month
LEFT JOIN people AS up ON up.person_id = o.author_id AND NOT up.is_bot;
COMMENT ON VIEW metric_item_team IS 'The team a work item counts toward: its assignee''s team in the month it was resolved (else created), else its author''s.';
COMMENT ON COLUMN metric_item_team.item_id IS 'Work item (work_items.item_id).';
COMMENT ON COLUMN metric_item_team.team IS 'Team: the assignee''s (that month, else people.team), else the author''s; `(unassigned)` when that person''s activity falls in no team''s scope; NULL when neither is a human with a team (e.g. bots).';

CREATE VIEW metric_reminder_reach AS
WITH reminders AS (
    SELECT event_id, channel_id, occurred_at, person_id AS sender, detail
    FROM events
    WHERE subkind = 'reminder'
),
mentioned AS (
    SELECT m.event_id, i.person_id
    FROM (
        SELECT event_id,
               unnest(from_json(detail -> 'mentions', '["VARCHAR"]')) AS uid
        FROM reminders
        WHERE json_type(detail -> 'mentions') = 'ARRAY'
    ) AS m
    JOIN identities AS i
        ON i.source = 'slack' AND i.source_user_id = regexp_replace(m.uid, '^slack:', '')
),
writers AS (  -- everyone who ever wrote in a channel: the candidates for each of its reminders
    SELECT DISTINCT channel_id, person_id
    FROM events
    WHERE source = 'slack' AND channel_id IS NOT NULL AND person_id IS NOT NULL
),
listeners AS (  -- people who wrote in the channel in the 30 days before: its live members
    -- A candidate's last message before the reminder decides; one as-of lookup per candidate
    -- grows with people per channel, where joining every message of the 30 days grew with
    -- the channel's traffic.
    SELECT c.event_id, c.person_id
    FROM (
        SELECT r.event_id, r.channel_id, r.occurred_at, w.person_id
        FROM reminders AS r JOIN writers AS w USING (channel_id)
    ) AS c
    ASOF JOIN (
        SELECT channel_id, person_id, occurred_at FROM events WHERE source = 'slack'
    ) AS e
        ON e.channel_id = c.channel_id AND e.person_id = c.person_id
        AND c.occurred_at > e.occurred_at
    WHERE e.occurred_at >= c.occurred_at - INTERVAL 30 DAY
)
SELECT DISTINCT r.event_id AS reminder_event_id, x.person_id, r.occurred_at AS reminded_at
FROM (SELECT * FROM mentioned UNION ALL SELECT * FROM listeners) AS x
JOIN reminders AS r USING (event_id)
JOIN people AS p ON p.person_id = x.person_id
WHERE NOT p.is_bot AND x.person_id IS DISTINCT FROM r.sender;
COMMENT ON VIEW metric_reminder_reach IS 'Who each reminder reached: people it mentions, and people who wrote in its channel in the 30 days before (the channel''s live members). Basis of nag load and prompted activity (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_reminder_reach.reminder_event_id IS 'The reminder (events.event_id, subkind reminder).';
COMMENT ON COLUMN metric_reminder_reach.person_id IS 'A person it reached.';
COMMENT ON COLUMN metric_reminder_reach.reminded_at IS 'When the reminder was sent.';

CREATE VIEW metric_event_team AS
WITH et AS MATERIALIZED (
    SELECT e.event_id, e.source, e.kind, e.subkind, e.category, e.item_id, e.channel_id,
           e.person_id, e.actor_account, e.occurred_at,
           timezone('UTC', e.occurred_at)::DATE AS day,
           date_trunc('week', timezone('UTC', e.occurred_at))::DATE AS week,
           date_trunc('month', timezone('UTC', e.occurred_at))::DATE AS month,
           coalesce(pm.team, p.team) AS team,
           coalesce(p.is_bot, i.is_bot, false) AS is_bot,
           e.event_seq
    FROM events AS e
    LEFT JOIN people AS p ON p.person_id = e.person_id
    LEFT JOIN person_months AS pm
        ON pm.person_id = e.person_id
        AND pm.month = date_trunc('month', timezone('UTC', e.occurred_at))::DATE
    LEFT JOIN identities AS i ON e.actor_account = i.source || ':' || i.source_user_id
),
credited AS (
    SELECT event_seq, sum(minutes) AS minutes FROM effort GROUP BY event_seq
),
jira_keys AS (
    SELECT item_id, key FROM work_items WHERE source = 'jira' AND key IS NOT NULL
),
code_links AS (  -- GitHub item -> the Jira item its title, branch or commits name
    SELECT DISTINCT c.code_id, j.item_id
    FROM (
        SELECT item_id AS code_id, unnest(linked_keys) AS key
        FROM work_items
        WHERE source = 'github' AND len(linked_keys) > 0
    ) AS c
    JOIN jira_keys AS j USING (key)
),
event_links AS (  -- Jira items named by an event itself (a commit message, a Slack message)
    SELECT k.event_id, k.occurred_at, j.item_id
    FROM (
        SELECT event_id, occurred_at, unnest(linked_keys) AS key
        FROM events
        WHERE source IN ('github', 'slack') AND linked_keys IS NOT NULL
    ) AS k
    JOIN jira_keys AS j USING (key)
),
activity AS (  -- code, comment or Slack activity on a Jira item
    SELECT item_id, occurred_at AS at FROM events WHERE kind = 'jira_comment'
    UNION ALL
    SELECT l.item_id, e.occurred_at
    FROM events AS e JOIN code_links AS l ON l.code_id = e.item_id
    WHERE e.source = 'github'
    UNION ALL
    SELECT item_id, occurred_at FROM event_links
),
delivery AS (  -- moments an item was delivered: linked code merged, or resolved with linked code
    SELECT l.item_id, w.merged_at AS at
    FROM code_links AS l JOIN work_items AS w ON w.item_id = l.code_id
    WHERE w.merged_at IS NOT NULL
    UNION ALL
    SELECT item_id, merged_at FROM work_items WHERE merged_at IS NOT NULL
    UNION ALL
    SELECT w.item_id, w.resolved_at
    FROM work_items AS w
    WHERE w.source = 'jira' AND w.status_category = 'done' AND w.resolved_at IS NOT NULL
      -- closed as not done is no delivery (the same list is in items.sql, metric_flow_items)
      AND NOT coalesce(lower(replace(w.resolution, '’', '''')) IN (
          'won''t do', 'won''t fix', 'duplicate', 'cannot reproduce', 'not_planned'
      ), false)
      AND (w.item_id IN (SELECT item_id FROM code_links)
           OR w.item_id IN (SELECT item_id FROM event_links WHERE event_id LIKE 'github:%'))
),
-- Each test runs only on the human events it applies to (about 40% of events are process
-- events), so the as-of joins cost in proportion to those, not to every event; the results join
-- back on event_seq (an integer, where the long event ids cost more than the tests).
paper AS (
    SELECT e.event_seq,
           coalesce(epoch(e.occurred_at) - epoch(ap.at) > 86400, true)
           AND coalesce(epoch(an.at) - epoch(e.occurred_at) > 86400, true) AS paperwork
    FROM (SELECT event_seq, item_id, occurred_at FROM et
          WHERE NOT is_bot AND source = 'jira' AND subkind IN ('status_change', 'metadata_edit'))
         AS e
    ASOF LEFT JOIN activity AS ap ON ap.item_id = e.item_id AND e.occurred_at >= ap.at
    ASOF LEFT JOIN activity AS an ON an.item_id = e.item_id AND e.occurred_at <= an.at
),
coupling AS (
    SELECT e.event_seq,
           coalesce(epoch(e.occurred_at) - epoch(dp.at) <= 30 * 86400, false)
           OR coalesce(epoch(dn.at) - epoch(e.occurred_at) <= 30 * 86400, false) AS coupled
    FROM (SELECT event_seq, item_id, occurred_at FROM et
          WHERE NOT is_bot AND category = 'process' AND item_id IS NOT NULL) AS e
    ASOF LEFT JOIN delivery AS dp ON dp.item_id = e.item_id AND e.occurred_at >= dp.at
    ASOF LEFT JOIN delivery AS dn ON dn.item_id = e.item_id AND e.occurred_at <= dn.at
),
prompting AS (
    SELECT e.event_seq,
           coalesce(epoch(e.occurred_at) - epoch(rr.reminded_at) <= 86400, false) AS prompted
    FROM (SELECT event_seq, person_id, occurred_at FROM et
          WHERE NOT is_bot AND category = 'process') AS e
    ASOF LEFT JOIN metric_reminder_reach AS rr
        ON rr.person_id = e.person_id AND e.occurred_at > rr.reminded_at
)
SELECT et.* EXCLUDE (event_seq), et.event_seq,
       coalesce(c.minutes, 0) AS minutes,
       et.category = 'process' AS is_process,
       p.paperwork, k.coupled, r.prompted
FROM et
LEFT JOIN credited AS c USING (event_seq)
LEFT JOIN paper AS p USING (event_seq)
LEFT JOIN coupling AS k USING (event_seq)
LEFT JOIN prompting AS r USING (event_seq);
COMMENT ON VIEW metric_event_team IS 'Every event with the team its actor belonged to that month (person_months, else people.team), whether the actor is a bot, and for human events the per-event facts of docs/metrics.md section 5 (metric_event_facts is its human events).';
COMMENT ON COLUMN metric_event_team.event_id IS 'The event (events.event_id).';
COMMENT ON COLUMN metric_event_team.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_event_team.kind IS 'Event kind (events.kind).';
COMMENT ON COLUMN metric_event_team.subkind IS 'Event subkind (events.subkind).';
COMMENT ON COLUMN metric_event_team.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_event_team.item_id IS 'Work item acted on, if any.';
COMMENT ON COLUMN metric_event_team.channel_id IS 'Slack channel, for Slack events.';
COMMENT ON COLUMN metric_event_team.person_id IS 'Acting person (every account is a person, matched or its own); NULL only for an event without an account.';
COMMENT ON COLUMN metric_event_team.actor_account IS 'Acting account, "<source>:<source_user_id>".';
COMMENT ON COLUMN metric_event_team.occurred_at IS 'When it happened.';
COMMENT ON COLUMN metric_event_team.day IS 'UTC day.';
COMMENT ON COLUMN metric_event_team.week IS 'Monday of its UTC week.';
COMMENT ON COLUMN metric_event_team.month IS 'First day of its UTC month.';
COMMENT ON COLUMN metric_event_team.team IS 'Team of the actor that month (person_months, else people.team); `(unassigned)` for a human whose activity falls in no team''s scope; NULL for bots and events without an account.';
COMMENT ON COLUMN metric_event_team.is_bot IS 'True when the actor is a bot (people.is_bot, else identities.is_bot).';

COMMENT ON COLUMN metric_event_team.event_seq IS 'The event''s events.event_seq (a join key within this database).';
COMMENT ON COLUMN metric_event_team.minutes IS 'Minutes the effort model credited to it (0 if none; bots are credited none).';
COMMENT ON COLUMN metric_event_team.is_process IS 'True for process-category events.';
COMMENT ON COLUMN metric_event_team.paperwork IS 'For human Jira status changes and metadata edits: true when the item had no code, comment or Slack activity within 24 h either side. NULL for other events.';
COMMENT ON COLUMN metric_event_team.coupled IS 'For human process events on a work item: true when the item was delivered (linked code merged, or resolved with linked code) within 30 days either side. NULL otherwise.';
COMMENT ON COLUMN metric_event_team.prompted IS 'For human process events: true when a reminder reached the actor in the 24 h before. NULL otherwise.';

CREATE VIEW metric_event_facts AS
SELECT event_id, source, kind, subkind, category, item_id, channel_id, person_id, team,
       occurred_at, day, week, month, minutes, is_process, paperwork, coupled, prompted, event_seq
FROM metric_event_team
WHERE NOT is_bot;
COMMENT ON VIEW metric_event_facts IS 'Every human event with its credited minutes and the per-event tests of docs/metrics.md section 5: paperwork (no code, comment or Slack activity on the item within 24 h), coupled (the item was delivered within 30 days), prompted (a reminder reached the actor in the 24 h before).';
COMMENT ON COLUMN metric_event_facts.event_id IS 'The event (events.event_id).';
COMMENT ON COLUMN metric_event_facts.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_event_facts.kind IS 'Event kind.';
COMMENT ON COLUMN metric_event_facts.subkind IS 'Event subkind.';
COMMENT ON COLUMN metric_event_facts.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_event_facts.item_id IS 'Work item acted on, if any.';
COMMENT ON COLUMN metric_event_facts.channel_id IS 'Slack channel, for Slack events.';
COMMENT ON COLUMN metric_event_facts.person_id IS 'Acting person (every account is a person, matched or its own); NULL only for an event without an account.';
COMMENT ON COLUMN metric_event_facts.team IS 'Team of the actor that month.';
COMMENT ON COLUMN metric_event_facts.occurred_at IS 'When it happened.';
COMMENT ON COLUMN metric_event_facts.day IS 'UTC day.';
COMMENT ON COLUMN metric_event_facts.week IS 'Monday of its UTC week.';
COMMENT ON COLUMN metric_event_facts.month IS 'First day of its UTC month.';
COMMENT ON COLUMN metric_event_facts.minutes IS 'Minutes the effort model credited to it (0 if none).';
COMMENT ON COLUMN metric_event_facts.is_process IS 'True for process-category events.';
COMMENT ON COLUMN metric_event_facts.paperwork IS 'For Jira status changes and metadata edits: true when the item had no code, comment or Slack activity within 24 h either side. NULL for other events.';
COMMENT ON COLUMN metric_event_facts.coupled IS 'For process events on a work item: true when the item was delivered (linked code merged, or resolved with linked code) within 30 days either side. NULL otherwise.';
COMMENT ON COLUMN metric_event_facts.prompted IS 'For process events: true when a reminder reached the actor in the 24 h before. NULL otherwise.';
COMMENT ON COLUMN metric_event_facts.event_seq IS 'The event''s events.event_seq (a join key within this database).';
