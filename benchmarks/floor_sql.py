"""The statements of benchmarks/floor.py (the plain-DuckDB floor; its docstring says what it
measures): the per-source parse of the raw payloads into typed temp tables, the one `events`
table, the bots, person-months, item states and the team-month aggregate. floor.py runs them in
this order in its four timed stages, with the scope-to-team table it writes from the config."""

# Slack notices that are not acts (collectors/sql/30_slack.sql).
_NOTICES = ("channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
            "channel_archive", "channel_unarchive", "channel_convert_to_private",
            "channel_convert_to_public", "group_join", "group_leave", "group_topic",
            "group_purpose", "group_name", "group_archive", "group_unarchive", "bot_add",
            "bot_remove", "pinned_item", "unpinned_item", "tombstone", "message_deleted",
            "message_changed", "joiner_notification_for_inviter", "joiner_notification")

# Typed, once per issue, only what the events need (Cloud payloads, as the prepared stores hold:
# accounts by accountId). from_json's cost grows with the shape: the build's full shape (Server
# names, every field analysis reads) parses about 3x slower.
_USER = '{"accountId": "VARCHAR", "accountType": "VARCHAR"}'
_JIRA_SHAPE = (
    '{"id": "VARCHAR", "fields": {"created": "VARCHAR", "project": {"key": "VARCHAR"},'
    f' "creator": {_USER}, "reporter": {_USER},'
    ' "comment": {"comments": [{"id": "VARCHAR", "created": "VARCHAR", "author": ' + _USER
    + ', "bodyFlags": {"is_reminder": "BOOLEAN", "is_status_request": "BOOLEAN"}}]},'
    ' "worklog": {"worklogs": [{"id": "VARCHAR", "created": "VARCHAR", "author": ' + _USER
    + '}]}},'
    ' "changelog": {"histories": [{"id": "VARCHAR", "created": "VARCHAR", "author": ' + _USER
    + ', "items": [{"field": "VARCHAR", "fieldId": "VARCHAR", "toString": "VARCHAR"}]}]}}')

PARSE = [
    # --- GitHub -------------------------------------------------------------------------------
    """CREATE TEMP TABLE gh_deleted AS
       SELECT entity, natural_key FROM raw.sync_deleted WHERE source = 'github'""",
    """CREATE TEMP TABLE gh_items AS
       SELECT i.natural_key AS key, i.scope AS repo, i.f[1]::INTEGER AS number,
              coalesce(left(i.f[2], 1) = '{' AND coalesce(i.f[3], i.f[4], i.f[5]) IS NOT NULL,
                       false) AS is_pr,
              i.f[6]::TIMESTAMPTZ AS created_at, i.f[7]::TIMESTAMPTZ AS closed_at,
              coalesce(p.f[1], i.f[5])::TIMESTAMPTZ AS merged_at, 'github:' || i.f[8] AS author,
              i.f[9] AS issue_id
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.number', '$.pull_request', '$.pull_request.url', '$.pull_request.html_url',
                 '$.pull_request.merged_at', '$.created_at', '$.closed_at', '$.user.id',
                 '$.id']) AS f
             FROM raw.raw_github_issues
             WHERE natural_key NOT IN (SELECT natural_key FROM gh_deleted
                                       WHERE entity = 'issues')) AS i
       LEFT JOIN (SELECT natural_key, json_extract_string(payload, ['$.merged_at']) AS f
                  FROM raw.raw_github_pulls) AS p USING (natural_key)""",
    """CREATE TEMP TABLE gh_issue_events AS
       SELECT natural_key, scope || '#' || f[4] AS item_key, f[1] AS event,
              f[2]::TIMESTAMPTZ AS occurred, 'github:' || f[3] AS actor
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.event', '$.created_at', '$.actor.id', '$.issue.number']) AS f
             FROM raw.raw_github_issue_events)""",
    """CREATE TEMP TABLE gh_reviews AS
       SELECT natural_key, scope, f[1]::TIMESTAMPTZ AS occurred, 'github:' || f[2] AS actor,
              TRY_CAST(regexp_extract(f[3], '/(\\d+)$', 1) AS INTEGER) AS number
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.submitted_at', '$.user.id', '$.pull_request_url']) AS f
             FROM raw.raw_github_reviews)""",
    """CREATE TEMP TABLE gh_comments AS
       SELECT natural_key, scope, 'issue' AS entity, f[1]::TIMESTAMPTZ AS occurred,
              'github:' || f[2] AS actor,
              TRY_CAST(regexp_extract(f[3], '/(\\d+)$', 1) AS INTEGER) AS number,
              coalesce(f[4]::BOOLEAN, false) OR coalesce(f[5]::BOOLEAN, false) AS reminder
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.created_at', '$.user.id', '$.issue_url', '$.body_flags.is_reminder',
                 '$.body_flags.is_status_request']) AS f
             FROM raw.raw_github_issue_comments
             WHERE natural_key NOT IN (SELECT natural_key FROM gh_deleted
                                       WHERE entity = 'issue_comments'))
       UNION ALL
       SELECT natural_key, scope, 'review', f[1]::TIMESTAMPTZ, 'github:' || f[2],
              TRY_CAST(regexp_extract(f[3], '/(\\d+)$', 1) AS INTEGER),
              coalesce(f[4]::BOOLEAN, false) OR coalesce(f[5]::BOOLEAN, false)
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.created_at', '$.user.id', '$.pull_request_url', '$.body_flags.is_reminder',
                 '$.body_flags.is_status_request']) AS f
             FROM raw.raw_github_review_comments)""",
    # The default branch's commits, then a pull request's own commits it does not list.
    """CREATE TEMP TABLE gh_pc AS
       SELECT scope || '@' || f[1] AS natural_key, scope,
              'github:' || split_part(natural_key, '@', 1) AS item_id, f AS f
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.sha', '$.commit.message', '$.commit.author.date', '$.commit.author.email',
                 '$.author.id']) AS f
             FROM raw.raw_github_pull_commits)""",
    """CREATE TEMP TABLE gh_c AS
       SELECT natural_key, scope, f[2] AS message, f[3]::TIMESTAMPTZ AS authored,
              lower(f[4]) AS email, f[5] AS author_id
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.sha', '$.commit.message', '$.commit.author.date', '$.commit.author.email',
                 '$.author.id']) AS f
             FROM raw.raw_github_commits)""",
    """INSERT INTO gh_c
       SELECT natural_key, scope, any_value(f)[2], any_value(f)[3]::TIMESTAMPTZ,
              lower(any_value(f)[4]), any_value(f)[5]
       FROM gh_pc WHERE natural_key NOT IN (SELECT natural_key FROM gh_c)
       GROUP BY natural_key, scope""",
    """CREATE TEMP TABLE gh_releases AS
       SELECT natural_key, scope, coalesce(f[1], f[2])::TIMESTAMPTZ AS occurred,
              'github:' || f[3] AS actor
       FROM (SELECT natural_key, scope, json_extract_string(payload, [
                 '$.published_at', '$.created_at', '$.author.id', '$.draft']) AS f
             FROM raw.raw_github_releases)
       WHERE NOT coalesce(f[4]::BOOLEAN, false)""",
    """CREATE TEMP TABLE gh_accounts AS
       SELECT 'github:' || f[1] AS account, bool_or(f[2] = 'Bot') AS is_bot
       FROM (SELECT json_extract_string(payload, ['$.id', '$.type']) AS f
             FROM raw.raw_github_users
             UNION ALL SELECT json_extract_string(payload, ['$.id', '$.type'])
             FROM raw.raw_github_members
             UNION ALL SELECT json_extract_string(payload, ['$.id', '$.type'])
             FROM raw.raw_github_team_members)
       WHERE f[1] IS NOT NULL GROUP BY 1""",
    # --- Jira ---------------------------------------------------------------------------------
    f"""CREATE TEMP TABLE jira_issue AS
        SELECT natural_key AS key, d.id AS issue_id, d.fields AS x,
               d.changelog.histories AS histories,
               coalesce(d.fields.project.key, regexp_extract(natural_key, '^(.*)-[0-9]+$', 1))
                   AS project
        FROM (SELECT natural_key, updated_at, from_json(payload, '{_JIRA_SHAPE}') AS d
              FROM raw.raw_jira_issues
              WHERE natural_key NOT IN (SELECT natural_key FROM raw.sync_deleted
                                        WHERE source = 'jira' AND entity = 'issues'))
        QUALIFY row_number() OVER (PARTITION BY coalesce(d.id, natural_key)
                                   ORDER BY updated_at DESC NULLS LAST, natural_key DESC) = 1""",
    """CREATE TEMP TABLE jira_change AS
       WITH h AS (SELECT key, project, unnest(histories) AS h FROM jira_issue)
       SELECT key, project, h.id AS history_id, h.created::TIMESTAMPTZ AS changed_at,
              'jira:' || h.author.accountId AS actor,
              coalesce(h.author.accountType, '') IN ('app', 'customer') AS is_bot,
              unnest(h.items) AS item, generate_subscripts(h.items, 1) AS item_no,
              list_contains(list_transform(h.items, lambda i: i.field), 'status') AS with_status
       FROM h""",
    """CREATE TEMP TABLE jira_status AS
       SELECT lower(payload ->> 'name') AS lname,
              any_value(payload -> 'statusCategory' ->> 'key') AS jira_category
       FROM raw.raw_jira_statuses GROUP BY 1""",
    # --- Slack --------------------------------------------------------------------------------
    """CREATE TEMP TABLE slack_users AS
       SELECT natural_key AS user_id,
              coalesce((payload ->> 'is_bot')::BOOLEAN, false) OR natural_key = 'USLACKBOT'
                  AS is_bot
       FROM raw.raw_slack_users""",
    """CREATE TEMP TABLE slack_channels AS
       SELECT natural_key AS channel_id, coalesce(payload ->> 'name', natural_key) AS name
       FROM raw.raw_slack_channels""",
    f"""CREATE TEMP TABLE slack_msg AS
        SELECT m.natural_key, p[1] AS channel_id, p[2] AS ts,
               p[3] IS NOT NULL AND p[3] <> p[2] AS is_reply, p[4] AS user_id, p[5] AS bot_id,
               coalesce(p[5] IS NOT NULL OR p[6] = 'bot_message' OR p[4] = 'USLACKBOT'
                        OR u.is_bot, false) AS is_bot,
               coalesce(p[7]::BOOLEAN, false) OR coalesce(p[8]::BOOLEAN, false)
                   OR p[4] = 'USLACKBOT' AS reminder,
               p[9] AS shadow_tool
        FROM (SELECT natural_key, json_extract_string(payload, [
                  '$.channel', '$.ts', '$.thread_ts', '$.user', '$.bot_id', '$.subtype',
                  '$.features.is_reminder', '$.features.is_status_request',
                  '$.features.shadow_tool']) AS p
              FROM raw.raw_slack_messages
              WHERE natural_key NOT IN (SELECT natural_key FROM raw.sync_deleted
                                        WHERE source = 'slack' AND entity = 'messages')) AS m
        LEFT JOIN slack_users AS u ON u.user_id = m.p[4]
        WHERE coalesce(p[6], '') NOT IN {_NOTICES}""",
]

# One events table, written once. Kinds and ids as collectors/sql/*.sql write them.
EVENTS = """
CREATE TABLE events AS
WITH gh_commits AS (  -- a commit rewritten by a rebase is one act (10_github.sql)
    SELECT natural_key, scope, authored, coalesce('github:' || author_id,
                                                  'github:email:' || email) AS actor
    FROM gh_c
    QUALIFY row_number() OVER (PARTITION BY scope, authored, coalesce(author_id, email),
                                            message ORDER BY natural_key) = 1
),
gh_commit_pr AS (
    SELECT natural_key, min(item_id) AS item_id FROM gh_pc GROUP BY natural_key
),
merged_by AS (
    SELECT item_key, arg_max(actor, occurred) AS actor FROM gh_issue_events
    WHERE event = 'merged' GROUP BY item_key
)
SELECT 'github:' || CASE WHEN is_pr THEN 'pr_opened:' ELSE 'issue_opened:' END || key AS event_id,
       'github' AS source, created_at AS occurred_at, author AS actor_account,
       'github:' || key AS item_id, repo AS container,
       CASE WHEN is_pr THEN 'pr_opened' ELSE 'issue_opened' END AS kind,
       NULL::VARCHAR AS subkind, 1.0 AS weight
FROM gh_items
UNION ALL
SELECT 'github:pr_merged:' || i.key, 'github', i.merged_at, m.actor, 'github:' || i.key, i.repo,
       'pr_merged', NULL, 1.0
FROM gh_items AS i LEFT JOIN merged_by AS m ON m.item_key = i.key
WHERE i.is_pr AND i.merged_at IS NOT NULL
UNION ALL
SELECT 'github:issue_event:' || e.natural_key, 'github', e.occurred, e.actor, 'github:' || i.key,
       i.repo, 'pr_ready', NULL, 1.0
FROM gh_issue_events AS e JOIN gh_items AS i ON i.key = e.item_key
WHERE e.event = 'ready_for_review'
UNION ALL
SELECT 'github:review:' || natural_key, 'github', occurred, actor,
       'github:' || scope || '#' || number, scope, 'pr_review', NULL, 1.0
FROM gh_reviews WHERE occurred IS NOT NULL
UNION ALL
SELECT 'github:' || c.entity || '_comment:' || c.natural_key, 'github', c.occurred, c.actor,
       'github:' || c.scope || '#' || c.number, c.scope,
       CASE WHEN c.entity = 'review' OR i.is_pr THEN 'pr_comment' ELSE 'issue_comment' END,
       CASE WHEN c.reminder THEN 'reminder' END, 1.0
FROM gh_comments AS c
LEFT JOIN gh_items AS i ON i.key = c.scope || '#' || c.number
WHERE c.entity = 'review'
   OR c.scope || '#' || c.number NOT IN (SELECT natural_key FROM gh_deleted
                                         WHERE entity = 'issues')
UNION ALL
SELECT 'github:commit:' || c.natural_key, 'github', c.authored, c.actor, l.item_id, c.scope,
       'commit', NULL, 1.0
FROM gh_commits AS c LEFT JOIN gh_commit_pr AS l USING (natural_key)
UNION ALL
SELECT 'github:release:' || natural_key, 'github', occurred, actor, NULL, scope, 'release',
       NULL, 1.0
FROM gh_releases
UNION ALL
SELECT 'jira:issue:' || coalesce(issue_id, key), 'jira', x.created::TIMESTAMPTZ,
       'jira:' || coalesce(x.creator.accountId, x.reporter.accountId),
       'jira:' || key, project, 'jira_created', NULL, 1.0
FROM jira_issue
UNION ALL
SELECT 'jira:changelog:' || history_id || ':' || item_no, 'jira', changed_at, actor,
       'jira:' || key, project,
       CASE WHEN item.field = 'status' THEN 'jira_transition' ELSE 'jira_field_edit' END,
       CASE WHEN item.field = 'status' THEN 'status_change'
            WHEN lower(coalesce(item.fieldId, item.field)) IN ('summary', 'description')
                THEN NULL ELSE 'metadata_edit' END, 1.0
FROM jira_change
WHERE NOT (item.field = 'resolution' AND with_status)
  AND item.field NOT IN ('timespent', 'timeestimate', 'timeoriginalestimate', 'WorklogId',
                         'WorklogTimeSpent')
UNION ALL
SELECT 'jira:comment:' || c.id, 'jira', c.created::TIMESTAMPTZ,
       'jira:' || c.author.accountId, 'jira:' || key,
       project, 'jira_comment',
       CASE WHEN coalesce(c.bodyFlags.is_reminder, false)
                 OR coalesce(c.bodyFlags.is_status_request, false) THEN 'reminder' END, 1.0
FROM (SELECT key, project, unnest(x.comment.comments) AS c FROM jira_issue)
UNION ALL
SELECT 'jira:worklog:' || w.id, 'jira', w.created::TIMESTAMPTZ,
       'jira:' || w.author.accountId, 'jira:' || key,
       project, 'jira_worklog', 'timesheet', 1.0
FROM (SELECT key, project, unnest(x.worklog.worklogs) AS w FROM jira_issue)
UNION ALL
SELECT 'slack:' || CASE WHEN is_reply THEN 'reply' ELSE 'message' END || ':' || natural_key,
       'slack',
       make_timestamp(split_part(ts, '.', 1)::BIGINT * 1000000
                      + rpad(split_part(ts, '.', 2), 6, '0')[1:6]::BIGINT)::TIMESTAMPTZ,
       'slack:' || coalesce(user_id, bot_id), NULL, channel_id,
       CASE WHEN is_reply THEN 'slack_reply' ELSE 'slack_message' END,
       CASE WHEN reminder THEN 'reminder' WHEN shadow_tool IS NOT NULL THEN 'shadow_tool' END,
       1.0
FROM slack_msg
"""

# Bots: accounts any source marks as one (GitHub type Bot, Slack is_bot/bot ids, Jira apps).
BOTS = """
CREATE TEMP TABLE bots AS
SELECT account FROM gh_accounts WHERE is_bot
UNION SELECT 'slack:' || user_id FROM slack_users WHERE is_bot
UNION SELECT DISTINCT 'slack:' || coalesce(user_id, bot_id) FROM slack_msg WHERE is_bot
UNION SELECT DISTINCT actor FROM jira_change WHERE is_bot
"""

# Each account's team per month: the team whose scope holds most of its events that month
# (ties: the greater team name).
PERSON_MONTHS = """
CREATE TABLE floor_person_months AS
SELECT actor_account, month, arg_max(team, (n, team)) AS team
FROM (SELECT e.actor_account, date_trunc('month', e.occurred_at) AS month, s.team,
             count(*) AS n
      FROM events AS e
      JOIN floor_scope_team AS s ON s.source = e.source AND s.container = e.container
      WHERE e.actor_account IS NOT NULL
      GROUP BY ALL)
GROUP BY ALL
"""

# An item's status category over time: Jira transitions, GitHub opened/merged/closed.
ITEM_STATES = """
CREATE TABLE floor_item_states AS
SELECT 'jira:' || c.key AS item_id, c.changed_at AS "at",
       CASE s.jira_category WHEN 'new' THEN 'todo' WHEN 'done' THEN 'done' ELSE 'active' END
           AS state
FROM jira_change AS c LEFT JOIN jira_status AS s ON s.lname = lower(c.item.toString)
WHERE c.item.field = 'status'
UNION ALL
SELECT 'jira:' || key, x.created::TIMESTAMPTZ, 'todo' FROM jira_issue
UNION ALL
SELECT 'github:' || key, created_at, CASE WHEN is_pr THEN 'active' ELSE 'todo' END FROM gh_items
UNION ALL
SELECT 'github:' || key, coalesce(merged_at, closed_at), 'done' FROM gh_items
WHERE coalesce(merged_at, closed_at) IS NOT NULL
"""

# One window pass, two as-of joins, one team-month aggregate.
TEAM_MONTH = """
CREATE TABLE floor_team_month AS
WITH gaps AS (
    SELECT e.*, epoch(occurred_at - lag(occurred_at) OVER (
               PARTITION BY actor_account ORDER BY occurred_at, event_id)) / 60.0 AS gap_min
    FROM events AS e
),
placed AS (
    SELECT g.*, pm.team, st.state
    FROM gaps AS g
    ASOF LEFT JOIN floor_person_months AS pm
        ON pm.actor_account = g.actor_account AND g.occurred_at >= pm.month
    ASOF LEFT JOIN floor_item_states AS st
        ON st.item_id = g.item_id AND g.occurred_at >= st."at"
)
SELECT coalesce(team, '(unassigned)') AS team, date_trunc('month', occurred_at) AS month,
       count(*) AS events,
       count(*) FILTER (WHERE actor_account NOT IN (SELECT account FROM bots)) AS human_events,
       count(*) FILTER (WHERE source = 'jira' AND kind <> 'jira_comment'
                        OR subkind = 'reminder') AS process_events,
       sum(weight * least(coalesce(gap_min, 5), 30)) / 60.0 AS credited_hours,
       count(DISTINCT actor_account) AS accounts,
       count(DISTINCT item_id) AS items,
       count(*) FILTER (WHERE state = 'active') AS events_on_active_items
FROM placed
GROUP BY ALL
"""
