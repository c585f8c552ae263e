-- Process changes found in the data (docs/metrics.md section 8): the onset of something new that
-- looks like a process change, whether or not anyone recorded it with `processhealth experiment
-- add`. Kinds: a Jira field the team starts editing (a new required or filled field), an issue
-- type the team starts creating, a Slack channel that starts, reminders that start recurring in
-- a channel, a bot that starts acting. Unrecorded ones are proposed in the report as a
-- ready-to-run `processhealth experiment add` line, so that the change gets a before/after.
--
-- A field's uses are its edits plus the items created with it filled and never edited in it (a
-- field required at creation leaves no edit). Onset month of a (team, thing): the first month with at least `min_uses` uses
-- (5; 3 for issue types and reminders) when all earlier months together had fewer, and at least two whole months
-- of data before it (a thing in use from the data's start is not new). `started_on` = its first
-- use that month.
CREATE OR REPLACE VIEW metric_change_onsets AS
WITH first_data AS (
    SELECT min(month) AS first_month FROM metric_event_base
),
facts AS (  -- human events of a team, with the event's detail
    SELECT f.team, f.month, f.day, f.kind, f.channel_id, e.field, e.field_name, e.detail
    FROM metric_event_human AS f
    JOIN events AS e USING (event_seq)
    WHERE f.team IS NOT NULL AND f.team <> '(unassigned)'
      AND f.kind IN ('jira_field_edit', 'jira_created')
),
uses_each AS (  -- (kind, team, scope, value) per month: how many uses, the first day
    SELECT 'new_field' AS kind, team, 'field' AS scope_key,
           coalesce(field_name, field) AS scope_value, 5 AS min_uses,
           month, min(day) AS first_day, count(*) AS uses
    FROM facts WHERE kind = 'jira_field_edit'
    GROUP BY ALL
    UNION ALL  -- a field filled at creation leaves no edit: items created with it filled and
    -- never edited in it (a value from a later edit counts as that edit)
    SELECT 'new_field', t.team, 'field', f.field_name, 5,
           date_trunc('month', timezone('UTC', w.created_at))::DATE,
           min(timezone('UTC', w.created_at)::DATE), count(*)
    FROM item_fields AS f
    JOIN work_items AS w USING (item_id)
    JOIN metric_item_team AS t USING (item_id)
    LEFT JOIN (SELECT DISTINCT item_id, field_id FROM events
               WHERE kind = 'jira_field_edit') AS x
        ON x.item_id = f.item_id AND x.field_id = f.field_id
    WHERE f.has_value AND x.item_id IS NULL AND t.team IS NOT NULL AND t.team <> '(unassigned)'
    GROUP BY ALL
    UNION ALL
    SELECT 'new_issue_type', team, 'issue_type', detail ->> 'issue_type', 3, month, min(day),
           count(*)
    FROM facts WHERE kind = 'jira_created'
    GROUP BY ALL
    UNION ALL  -- a channel counts for the team writing most in it (below); here per channel
    SELECT 'new_channel', NULL, 'channel', c.name, 5, e.month, min(e.day), count(*)
    FROM metric_event_base AS e JOIN channels AS c USING (channel_id)
    WHERE e.source = 'slack' AND NOT e.is_bot
    GROUP BY ALL
    UNION ALL  -- reminders by anyone, bots included
    SELECT 'new_reminders', NULL, 'channel', c.name, 3, e.month, min(e.day), count(*)
    FROM metric_event_base AS e JOIN channels AS c USING (channel_id)
    WHERE e.subkind = 'reminder'
    GROUP BY ALL
    UNION ALL  -- a bot, named by the channel it writes in most that month (bots have no team)
    SELECT 'new_bot', NULL, NULL, e.actor_account, 5, e.month, min(e.day), count(*)
    FROM metric_event_base AS e
    WHERE e.is_bot AND e.actor_account IS NOT NULL
    GROUP BY ALL
),
uses AS (  -- edits and items filled count together
    SELECT kind, team, scope_key, scope_value, min_uses, month, min(first_day) AS first_day,
           sum(uses) AS uses
    FROM uses_each
    GROUP BY ALL
),
onsets AS (
    SELECT u.*
    FROM (
        SELECT *, sum(uses) OVER (PARTITION BY kind, team, scope_key, scope_value ORDER BY month
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
        FROM uses
        WHERE scope_value IS NOT NULL
    ) AS u
    CROSS JOIN first_data AS d
    WHERE u.uses >= u.min_uses AND coalesce(u.before, 0) < u.min_uses
      AND u.month >= d.first_month + INTERVAL 2 MONTH
    QUALIFY row_number() OVER (PARTITION BY u.kind, u.team, u.scope_key, u.scope_value
                               ORDER BY u.month) = 1
),
-- Ties go to the first name in order, so that a tie is decided the same way in every build.
channel_team AS (  -- the team writing most in a channel in a month (humans)
    SELECT channel_id, month, arg_min(team, (-n, team)) AS team
    FROM (SELECT channel_id, month, team, count(*) AS n FROM metric_event_base
          WHERE source = 'slack' AND NOT is_bot AND team IS NOT NULL AND team <> '(unassigned)'
          GROUP BY ALL)
    GROUP BY ALL
),
reminder_team AS (  -- the team the channel's reminders reached most in a month
    SELECT channel_id, month, arg_min(team, (-n, team)) AS team
    FROM (SELECT r.channel_id, r.month, pm.team, sum(r.reminders) AS n
          FROM metric_reminder_person_months AS r
          JOIN person_months AS pm ON pm.person_id = r.person_id AND pm.month = r.month
          WHERE pm.team <> '(unassigned)'
          GROUP BY ALL)
    GROUP BY ALL
),
bot_channel AS (  -- the channel a bot writes in most in a month
    SELECT actor_account, month, arg_min(c.name, (-n, c.name)) AS channel
    FROM (SELECT actor_account, month, channel_id, count(*) AS n FROM metric_event_base
          WHERE is_bot AND channel_id IS NOT NULL GROUP BY ALL)
    JOIN channels AS c USING (channel_id)
    GROUP BY ALL
),
placed AS (
    SELECT o.kind,
           CASE o.kind WHEN 'new_channel' THEN ct.team WHEN 'new_reminders' THEN rt.team
                       ELSE o.team END AS team,
           o.month, o.first_day AS started_on,
           CASE WHEN o.kind = 'new_bot' THEN CASE WHEN b.channel IS NOT NULL THEN 'channel' END
                ELSE o.scope_key END AS scope_key,
           CASE WHEN o.kind = 'new_bot' THEN b.channel ELSE o.scope_value END AS scope_value,
           o.uses
    FROM onsets AS o
    LEFT JOIN channels AS ch ON o.scope_key = 'channel' AND ch.name = o.scope_value
    LEFT JOIN channel_team AS ct ON ct.channel_id = ch.channel_id AND ct.month = o.month
    LEFT JOIN reminder_team AS rt ON rt.channel_id = ch.channel_id AND rt.month = o.month
    LEFT JOIN bot_channel AS b ON o.kind = 'new_bot' AND b.actor_account = o.scope_value
                                  AND b.month = o.month
),
recorded_scope AS (  -- the recorded changes' scopes, keys as metric_scope_events reads them
    -- (json_keys, not json_each: DuckDB 1.1, which reads this file, has no json_each)
    SELECT team,
           CASE WHEN key IN ('field', 'fields') THEN 'field'
                WHEN key IN ('channel', 'channels') THEN 'channel'
                WHEN key IN ('issue_type', 'issue_types', 'type', 'types') THEN 'issue_type'
                ELSE key END AS key,
           unnest(CASE WHEN json_type(value) = 'ARRAY' THEN from_json(value, '["VARCHAR"]')
                       ELSE [value ->> '$'] END) AS value
    FROM (SELECT team, key, json_extract(scope, '$."' || key || '"') AS value
          FROM (SELECT team, scope, unnest(json_keys(scope)) AS key FROM process_changes))
),
matches AS (  -- onsets a recorded change's scope names (a join: DuckDB 1.1 cannot bind the
    -- EXISTS subquery this was)
    SELECT DISTINCT p.kind, p.team, p.scope_key, p.scope_value
    FROM placed AS p
    JOIN recorded_scope AS r
        ON r.key = p.scope_key AND lower(p.scope_value) GLOB lower(r.value)
        AND (r.team IS NULL OR p.team IS NULL OR r.team = p.team)
),
found AS (
    SELECT p.*, m.kind IS NOT NULL AS recorded,
           left(trim(regexp_replace(lower(coalesce(p.scope_value, 'bot')), '[^a-z0-9]+', '-',
                                    'g'), '-'), 40) AS slug
    FROM placed AS p
    LEFT JOIN matches AS m
        ON m.kind = p.kind AND m.team IS NOT DISTINCT FROM p.team
        AND m.scope_key = p.scope_key AND m.scope_value = p.scope_value
),
named AS (
    SELECT *,
           replace(kind, '_', '-') || '-' || CASE WHEN slug = '' THEN 'x' ELSE slug END
               || CASE WHEN team IS NULL THEN '' ELSE '-' || trim(regexp_replace(
                      lower(team), '[^a-z0-9]+', '-', 'g'), '-') END
               || '-' || strftime(month, '%Y-%m') AS name
    FROM found
)
SELECT n.kind, n.team, n.month, n.started_on, n.scope_key, n.scope_value, n.uses,
       tm.people_count, coalesce(tm.suppressed, n.team IS NOT NULL) AS suppressed, n.recorded,
       n.name,
       -- a shell word: as it is when it holds only safe characters, else in single quotes
       -- (a quote inside becomes '\'')
       'processhealth experiment add ' || n.name
       || ' --start ' || strftime(n.started_on, '%Y-%m-%d')
       || CASE WHEN n.team IS NULL THEN ''
               WHEN regexp_full_match(n.team, '[A-Za-z0-9_.,:/@+-]+') THEN ' --team ' || n.team
               ELSE ' --team ''' || replace(n.team, '''', '''\''''') || '''' END
       || CASE WHEN n.scope_key IS NULL THEN ''
               WHEN regexp_full_match(n.scope_key || '=' || n.scope_value,
                                      '[A-Za-z0-9_.,:/@=+-]+')
               THEN ' --scope ' || n.scope_key || '=' || n.scope_value
               ELSE ' --scope ''' || replace(n.scope_key || '=' || n.scope_value, '''', '''\''''')
                    || '''' END AS command
FROM named AS n
LEFT JOIN metric_team_months AS tm USING (team, month);
COMMENT ON VIEW metric_change_onsets IS 'Process changes found in the data: the onset of a Jira field a team starts editing, an issue type it starts creating, a Slack channel, recurring reminders in a channel, or a bot, with a ready-to-run `processhealth experiment add` line for those nobody recorded (docs/metrics.md section 8).';
COMMENT ON COLUMN metric_change_onsets.kind IS 'new_field, new_issue_type, new_channel, new_reminders or new_bot.';
COMMENT ON COLUMN metric_change_onsets.team IS 'The team it concerns: whose members edit the field or create the type, who write most in the channel, whom the reminders reach most; NULL for a bot (every team).';
COMMENT ON COLUMN metric_change_onsets.month IS 'First day of the onset month: the first month with enough uses, all earlier months together having fewer.';
COMMENT ON COLUMN metric_change_onsets.started_on IS 'First use in the onset month (the proposed --start).';
COMMENT ON COLUMN metric_change_onsets.scope_key IS 'field, issue_type or channel (a scope key of experiment add); for a bot the channel it writes in most, NULL when it writes in none.';
COMMENT ON COLUMN metric_change_onsets.scope_value IS 'The field name, issue type or channel name.';
COMMENT ON COLUMN metric_change_onsets.uses IS 'Uses in the onset month: edits plus items created with the field filled, issues created, messages, reminders or bot events.';
COMMENT ON COLUMN metric_change_onsets.people_count IS 'Active people in the team in the onset month (NULL for a bot).';
COMMENT ON COLUMN metric_change_onsets.suppressed IS 'True when the team had fewer than privacy.min_group_size active people that month: the report then proposes the line without the uses.';
COMMENT ON COLUMN metric_change_onsets.recorded IS 'True when a recorded process change (process_changes) of the same team, or of every team, has this scope (globs as written): nothing to propose.';
COMMENT ON COLUMN metric_change_onsets.name IS 'Proposed name: kind, value, team and onset month, in lower-case ASCII letters, digits and hyphens.';
COMMENT ON COLUMN metric_change_onsets.command IS 'The `processhealth experiment add` line that records it, quoted for a POSIX shell.';
