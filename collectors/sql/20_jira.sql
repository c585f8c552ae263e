-- Jira normalization: raw_jira_* (API collection or JSON import, same rows) -> jira_statuses,
-- jira_sprints, identities, work_items, item_fields, transitions and events (jira_created,
-- jira_transition, jira_field_edit, jira_comment, jira_worklog).
-- Payloads may come from Cloud (accountId, parent, Sprint objects) or Server/Data Center
-- (key/name, Epic Link, Greenhopper sprint strings); both are read. Each payload is parsed once
-- into typed columns: issues carry megabytes of changelog, and re-parsing is the cost here.
-- The working tables (TEMP, in memory) are dropped after their last use; the build drops the
-- rest when the file ends (processhealth/pipeline.py).

-- A user object as Jira embeds it -> "<accountId | key | name>"; NULL for anonymous acts.
CREATE OR REPLACE TEMP MACRO _jira_uid(u) AS coalesce(u.accountId, u."key", u."name");
CREATE OR REPLACE TEMP MACRO _jira_account(u) AS 'jira:' || _jira_uid(u);
-- A field value in plain form: option/user/object -> its name, lists -> lists of names,
-- a cascading select ({"value": "Parent", "child": {"value": "Child"}}) -> "Parent - Child",
-- Data Center sprint strings ("...Sprint@1f[id=1,...,name=Sprint 4,...]") -> the sprint name.
-- A sprint name may hold commas and Jira versions order the keys differently (name before
-- startDate, goal or rapidViewId): the name runs to the next ",<known key>=" or the final "]".
CREATE OR REPLACE TEMP MACRO _jira_text(x) AS CASE
    WHEN json_type(x) = 'OBJECT'
        THEN coalesce(x ->> 'value' || coalesce(' - ' || (x -> 'child' ->> 'value'), ''),
                      x ->> 'name', x ->> 'key', x ->> 'displayName', x ->> 'accountId',
                      x ->> 'id')
    WHEN (x ->> '$') LIKE 'com.atlassian.greenhopper.service.sprint.Sprint@%'
        THEN regexp_extract(x ->> '$', '[\[,]name=(.*?)(?:,(?:activatedDate|autoStartStop|'
                            || 'completeDate|endDate|goal|id|incompleteIssuesDestinationId|'
                            || 'rapidViewId|sequence|startDate|state|synced)=|\]$)', 1)
    ELSE x ->> '$' END;
CREATE OR REPLACE TEMP MACRO _jira_plain(v) AS CASE
    WHEN v IS NULL OR json_type(v) = 'NULL' THEN NULL
    WHEN json_type(v) = 'ARRAY'
        THEN to_json(list_transform(from_json(v, '["JSON"]'), lambda x: _jira_text(x)))
    WHEN json_type(v) = 'OBJECT' THEN to_json(_jira_text(v))
    ELSE v END;
-- Empty placeholders are not filled: "", [], {}, the text "{}" (Jira Software's Development
-- field) and an unlicensed field's stand-in ({"showField": false, "nonEditableReason": ...}).
CREATE OR REPLACE TEMP MACRO _jira_filled(v) AS
    v IS NOT NULL AND json_type(v) <> 'NULL'
    AND NOT (json_type(v) = 'ARRAY' AND json_array_length(v) = 0)
    AND NOT (json_type(v) = 'VARCHAR' AND trim(v ->> '$') IN ('', '{}', '[]'))
    AND NOT (json_type(v) = 'OBJECT' AND (v::VARCHAR = '{}'
             OR (v -> 'nonEditableReason') IS NOT NULL
             OR coalesce(v ->> 'showField', '') = 'false'));

-- Configuration (getvariable('config')): custom field names, status_map, waiting patterns.
CREATE TEMP TABLE _jira_logical AS
SELECT lower(value ->> '$') AS field_name, key AS logical_name
FROM json_each(coalesce(json_extract(getvariable('config'), '$.jira.custom_fields'), '{}'));

CREATE TEMP TABLE _jira_status_map AS
SELECT lower(key) AS name, value ->> '$' AS status_category
FROM json_each(coalesce(json_extract(getvariable('config'), '$.jira.status_map'), '{}'));

CREATE TEMP TABLE _jira_waiting AS
SELECT lower(value ->> '$') AS pattern
FROM json_each(coalesce(json_extract(getvariable('config'), '$.jira.waiting_patterns'), '[]'));

-- Fields: the site's field list (or the `names` an imported search response carried).
CREATE TEMP TABLE _jira_field AS
SELECT f.natural_key AS field_id, f.payload ->> 'name' AS field_name,
       coalesce((f.payload ->> 'custom')::BOOLEAN, f.natural_key LIKE 'customfield_%') AS custom,
       f.payload -> 'schema' ->> 'custom' AS plugin, l.logical_name
FROM raw_jira_fields AS f
LEFT JOIN _jira_logical AS l ON l.field_name = lower(f.payload ->> 'name');

-- Changelogs name a field by id ("priority"), by name ("Story Points") or by an old name
-- ("Component"); Cloud adds the id (fieldId), Data Center does not.
CREATE TEMP TABLE _jira_field_alias AS
SELECT alias, min(field_id) AS field_id FROM (
    SELECT lower(field_name) AS alias, field_id FROM _jira_field
    UNION ALL SELECT lower(field_id), field_id FROM _jira_field
    UNION ALL SELECT * FROM (VALUES ('component', 'components'), ('fix version', 'fixVersions'),
                                    ('link', 'issuelinks'), ('version', 'versions')) AS v(a, f)
) GROUP BY alias;

-- The fields analysis reads besides the typed ones below: every custom field and a few optional
-- system fields, extracted by constant paths (one more parse per issue; absent -> NULL).
SET VARIABLE jira_value_fields = (
    SELECT coalesce(list(field_id ORDER BY field_id), []::VARCHAR[]) FROM _jira_field
    WHERE custom OR field_id IN ('assignee', 'priority', 'labels', 'components', 'fixVersions',
                                 'duedate', 'parent', 'description'));
SET VARIABLE jira_value_paths = (
    SELECT coalesce(list('$.fields."' || id || '"' ORDER BY id), []::VARCHAR[])
    FROM (SELECT unnest(getvariable('jira_value_fields')) AS id));
-- Users are typed as {accountId, key, name, displayName, emailAddress, accountType}: Cloud
-- names people by accountId, Server/Data Center by key and name.
CREATE TEMP TABLE _jira_issue AS
WITH parsed AS (
    SELECT natural_key AS key,
           from_json(payload, '{"id": "VARCHAR", "self": "VARCHAR", "textFlags": "JSON",
               "fields": {"summary": "VARCHAR", "issuetype": {"name": "VARCHAR"},
                   "project": {"key": "VARCHAR"}, "status": {"id": "VARCHAR", "name": "VARCHAR",
                   "statusCategory": {"key": "VARCHAR"}}, "labels": ["VARCHAR"],
                   "components": [{"name": "VARCHAR"}], "created": "VARCHAR", "updated": "VARCHAR",
                   "resolutiondate": "VARCHAR", "resolution": {"name": "VARCHAR"}, "creator": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"}, "reporter": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"},
                   "assignee": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"}, "parent": {"key": "VARCHAR"},
                   "issuelinks": [{"outwardIssue": {"key": "VARCHAR"},
                                   "inwardIssue": {"key": "VARCHAR"}}],
                   "comment": {"comments": [{"id": "VARCHAR", "created": "VARCHAR",
                                             "author": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"}, "body": "JSON", "bodyLength": "BIGINT", "bodyFlags": "JSON"}]},
                   "worklog": {"worklogs": [{"id": "VARCHAR", "created": "VARCHAR",
                                             "started": "VARCHAR", "author": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"},
                                             "timeSpentSeconds": "BIGINT"}]}},
               "changelog": {"histories": [{"id": "VARCHAR", "created": "VARCHAR", "author": {"accountId": "VARCHAR", "key": "VARCHAR", "name": "VARCHAR", "displayName": "VARCHAR", "emailAddress": "VARCHAR", "accountType": "VARCHAR"},
                   "items": [{"field": "VARCHAR", "fieldId": "VARCHAR", "from": "VARCHAR",
                              "fromString": "VARCHAR", "to": "VARCHAR",
                              "toString": "VARCHAR"}]}]}}') AS d,
           json_extract(payload, getvariable('jira_value_paths')) AS field_values
           , updated_at, scope, seq
    FROM raw_jira_issues
    -- items a full collection no longer found upstream (deleted or moved away)
    WHERE natural_key NOT IN (SELECT natural_key FROM sync_deleted
                              WHERE source = 'jira' AND entity = 'issues')
)
SELECT key, d.id AS issue_id, d.fields AS x, d.changelog.histories AS histories, field_values,
       d.textFlags AS text_flags,
       regexp_replace(coalesce(d.self, ''), '/rest/api/.*$', '') AS site,
       coalesce(d.fields.project.key, regexp_extract(key, '^(.*)-[0-9]+$', 1)) AS project,
       updated_at, scope, seq
FROM parsed;
-- What each issue read is made of, for the next build (processhealth/jira_delta.py): a table
-- of the refs file (analytics_db.attach_refs), which the build state keeps beside its own; an
-- incremental build, on a copy of it, finds there the rows of the issues it keeps.
CREATE TABLE IF NOT EXISTS refs.jira_refs(
    natural_key VARCHAR, seq BIGINT, issue_id VARCHAR,
    statuses STRUCT(status_id VARCHAR, "name" VARCHAR, jira_category VARCHAR, "rank" INTEGER)[],
    carried VARCHAR[],
    users STRUCT(uid VARCHAR, "name" VARCHAR, email VARCHAR, display_name VARCHAR,
                 is_bot BOOLEAN)[]);
-- What this build read, for the next one (processhealth/jira_delta.py): every row, with the id
-- its moves are found by (none for the rows marked deleted, which are not parsed).
CREATE TEMP TABLE _jira_read AS
SELECT key, seq, issue_id FROM _jira_issue
UNION ALL
SELECT natural_key, seq, NULL FROM raw_jira_issues
WHERE natural_key IN (SELECT natural_key FROM sync_deleted
                      WHERE source = 'jira' AND entity = 'issues');
-- An issue whose times cannot be read is set aside (processhealth/quarantine.py, which warns):
-- recorded in source_coverage and left out. Checked on this parse, not on one of its own before
-- normalization as the other raw tables are: a second parse of every issue took 3.9 s at 10M
-- events. Before the moves below, so that an unreadable copy does not hide a readable one.
CREATE OR REPLACE TEMP MACRO _jira_bad_time(t) AS try_cast(t AS TIMESTAMPTZ) IS NULL;
CREATE TEMP TABLE _jira_unreadable AS
SELECT key, scope FROM _jira_issue
WHERE coalesce(_jira_bad_time(x.created)
               OR (x.updated IS NOT NULL AND _jira_bad_time(x.updated))
               OR len(list_filter(coalesce(histories, []), lambda h: _jira_bad_time(h.created))) > 0
               OR len(list_filter(coalesce(x.comment.comments, []),
                                  lambda c: _jira_bad_time(c.created))) > 0
               OR len(list_filter(coalesce(x.worklog.worklogs, []),
                                  lambda w: _jira_bad_time(w.created))) > 0, true);
INSERT INTO source_coverage
SELECT 'jira', 'issues', coalesce(scope, ''), key, 'quarantined',
       'a missing or unreadable created, updated, history, comment or worklog time', NULL
FROM _jira_unreadable;
DELETE FROM _jira_issue WHERE key IN (SELECT key FROM _jira_unreadable);
DROP TABLE _jira_unreadable;
-- An issue moved to another project keeps its id under a new key: the latest copy is the issue,
-- the others go. (A window over these few columns: over the parsed issues, as the statement
-- above, it took 2.7 s at 10M events, moving every issue's parsed payload.)
DELETE FROM _jira_issue WHERE rowid IN (
    SELECT rowid FROM _jira_issue
    QUALIFY row_number() OVER (PARTITION BY coalesce(issue_id, key)
                               ORDER BY updated_at DESC NULLS LAST, key DESC) > 1);

-- `filled` once per value: custom fields, the fill rate and declared experiments all read it.
CREATE TEMP TABLE _jira_value AS
SELECT *, _jira_filled(value) AS filled
FROM (SELECT key, unnest(getvariable('jira_value_fields')) AS field_id,
             unnest(field_values) AS value
      FROM _jira_issue);

CREATE TEMP TABLE _jira_change AS
WITH h AS (SELECT key, project, unnest(histories) AS h FROM _jira_issue)
SELECT key, project, h.id AS history_id, h.created::TIMESTAMPTZ AS changed_at,
       _jira_account(h.author) AS actor, h.author, unnest(h.items) AS item,
       generate_subscripts(h.items, 1) AS item_no,
       list_contains(list_transform(h.items, lambda i: i.field), 'status') AS with_status
FROM h;

-- Per issue read, what the parts computed over all issues are made of (the statuses it names,
-- the fields it carries, the user objects it holds, aggregated per user): added to `jira_refs`,
-- which holds the same for the issues an incremental build kept (processhealth/jira_delta.py;
-- empty in a full normalization), so each part below is the same over either.
INSERT INTO jira_refs
WITH statuses AS (
    SELECT key, list(DISTINCT {'status_id': status_id, 'name': name,
                               'jira_category': jira_category, 'rank': rank}) AS statuses
    FROM (SELECT key, x.status.id AS status_id, x.status.name AS name,
                 x.status.statusCategory.key AS jira_category, 2 AS rank
          FROM _jira_issue WHERE x.status.name IS NOT NULL
          UNION ALL
          SELECT key, item.to, item.toString, NULL, 3
          FROM _jira_change WHERE item.field = 'status' AND item.toString IS NOT NULL
          UNION ALL
          SELECT key, item.from, item.fromString, NULL, 3
          FROM _jira_change WHERE item.field = 'status' AND item.fromString IS NOT NULL)
    GROUP BY key
),
carried AS (
    SELECT key, list(field_id ORDER BY field_id) AS carried
    FROM _jira_value WHERE value IS NOT NULL GROUP BY key
),
users AS (
    SELECT key, list({'uid': uid, 'name': name, 'email': email, 'display_name': display_name,
                      'is_bot': is_bot}) AS users
    FROM (SELECT key, _jira_uid(u) AS uid, max(u."name") AS name, max(u.emailAddress) AS email,
                 max(u.displayName) AS display_name,
                 bool_or(coalesce(u.accountType, '') IN ('app', 'customer')) AS is_bot
          FROM (SELECT key, x.reporter AS u FROM _jira_issue
                UNION ALL SELECT key, x.creator FROM _jira_issue
                UNION ALL SELECT key, x.assignee FROM _jira_issue
                UNION ALL SELECT DISTINCT key, author FROM _jira_change
                UNION ALL SELECT key, unnest(list_transform(x.comment.comments,
                                                            lambda c: c.author))
                          FROM _jira_issue
                UNION ALL SELECT key, unnest(list_transform(x.worklog.worklogs,
                                                            lambda w: w.author))
                          FROM _jira_issue)
          WHERE _jira_uid(u) IS NOT NULL
          GROUP BY key, _jira_uid(u))
    GROUP BY key
)
SELECT r.key, r.seq, r.issue_id, s.statuses, c.carried, u.users
FROM _jira_read AS r
LEFT JOIN statuses AS s USING (key)
LEFT JOIN carried AS c USING (key)
LEFT JOIN users AS u USING (key);
DROP TABLE _jira_read;

-- Statuses: the status list, then current statuses, then names only a changelog shows; each
-- name mapped once: status_map, else Jira's category (in progress: waiting if a pattern hits).
CREATE TEMP TABLE _jira_status_seen AS
SELECT natural_key AS status_id, payload ->> 'name' AS name,
       payload -> 'statusCategory' ->> 'key' AS jira_category, 1 AS rank
FROM raw_jira_statuses
WHERE payload ->> 'name' IS NOT NULL  -- no issue can be in a status without a name
UNION ALL
SELECT s.status_id, s.name, s.jira_category, s.rank
FROM (SELECT unnest(statuses) AS s FROM jira_refs);

-- A status only changelogs name (retired since) has no Jira category: Jira's default names
-- say to do or done; anything else counts as active.
CREATE OR REPLACE TEMP MACRO _jira_name_category(lname) AS CASE
    WHEN regexp_full_match(lname, '(done|closed|resolved|released|complete[d]?|cancel+ed|'
                                  || 'rejected|duplicate|won''t (do|fix))') THEN 'done'
    WHEN regexp_full_match(lname, '(to ?do|open|new|backlog|reopened|selected for development)')
        THEN 'todo' END;

INSERT INTO jira_statuses
WITH named AS (
    -- of two spellings, ids or categories at one rank, the least: the same in every build
    SELECT lower(name) AS lname, arg_min(name, (rank, name)) AS name,
           arg_min(status_id, (rank, status_id)) FILTER (WHERE status_id IS NOT NULL)
               AS status_id,
           arg_min(jira_category, (rank, jira_category)) FILTER (WHERE jira_category IS NOT NULL)
               AS jira_category
    FROM _jira_status_seen GROUP BY lower(name)
),
waiting AS (
    SELECT n.lname, bool_or(contains(n.lname, w.pattern)) AS is_waiting
    FROM named AS n, _jira_waiting AS w GROUP BY n.lname
)
SELECT n.status_id, n.name, n.jira_category,
       CASE WHEN m.status_category IS NOT NULL THEN m.status_category
            WHEN n.jira_category = 'new' THEN 'todo'
            WHEN n.jira_category = 'done' THEN 'done'
            WHEN coalesce(w.is_waiting, false) THEN 'waiting'
            WHEN n.jira_category IS NULL AND _jira_name_category(n.lname) IS NOT NULL
                THEN _jira_name_category(n.lname)
            ELSE 'active' END,
       CASE WHEN m.status_category IS NOT NULL THEN 'status_map'
            WHEN n.jira_category IN ('new', 'done') THEN 'jira_category'
            WHEN coalesce(w.is_waiting, false) THEN 'waiting_pattern'
            WHEN n.jira_category IS NULL AND _jira_name_category(n.lname) IS NOT NULL
                THEN 'status_name'
            ELSE 'jira_category' END
FROM named AS n
LEFT JOIN _jira_status_map AS m ON m.name = n.lname
LEFT JOIN waiting AS w USING (lname);
DROP TABLE _jira_status_map;
DROP TABLE _jira_waiting;
DROP TABLE _jira_status_seen;

CREATE TEMP TABLE _jira_category AS
SELECT lower(name) AS lname, any_value(status_category) AS status_category
FROM jira_statuses GROUP BY lower(name);

INSERT INTO jira_sprints
SELECT natural_key, any_value(coalesce(payload ->> 'boardId', payload ->> 'originBoardId')),
       any_value(scope), any_value(payload ->> 'name'), any_value(payload ->> 'state'),
       any_value((payload ->> 'startDate')::TIMESTAMPTZ),
       any_value((payload ->> 'endDate')::TIMESTAMPTZ),
       any_value((payload ->> 'completeDate')::TIMESTAMPTZ)
FROM raw_jira_sprints
GROUP BY natural_key;

-- Accounts: every user object an issue names (reporters, assignees, editors, commenters, ...).
-- A user whose object differs between payloads (renamed, e-mail hidden in some) gets, per field,
-- the greatest value given: the same in every build (any_value took any).
INSERT INTO identities(source, source_user_id, login, email, display_name, is_bot)
SELECT 'jira', u.uid, max(u."name"), max(u.email), max(u.display_name), bool_or(u.is_bot)
FROM (SELECT unnest(users) AS u FROM jira_refs)
GROUP BY u.uid
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE _jira_transition AS
SELECT 'jira:' || c.key AS item_id, c.key, c.project, c.history_id, c.item_no, c.changed_at,
       c.actor, c.item.fromString AS from_status, c.item.toString AS to_status,
       c.item.from AS from_id, c.item.to AS to_id,
       fc.status_category AS from_category, tc.status_category AS to_category
FROM _jira_change AS c
LEFT JOIN _jira_category AS fc ON fc.lname = lower(c.item.fromString)
LEFT JOIN _jira_category AS tc ON tc.lname = lower(c.item.toString)
WHERE c.item.field = 'status';

INSERT INTO transitions(item_id, "at", actor_account, from_status, to_status,
                        from_status_category, to_status_category)
SELECT item_id, changed_at, actor, from_status, to_status, from_category, to_category
FROM _jira_transition;

-- work_items.fields: custom fields with a value, by logical name (jira.custom_fields) or by
-- their Jira name, plus priority. parent_key: `parent` (Cloud), else the Epic Link field.
INSERT INTO work_items(item_id, source, kind, key, title, url, container, type, labels, components,
                       status, status_category, created_at, started_at, resolved_at,
                       resolution, author_account, assignee_account, parent_key, linked_keys,
                       fields)
WITH firsts AS (
    SELECT key, min(changed_at) FILTER (WHERE to_category = 'active') AS started_at,
           max(changed_at) FILTER (WHERE to_category = 'done') AS done_at
    FROM _jira_transition GROUP BY key
),
custom AS (
    SELECT v.key,
           -- json_group_object, in field order: its keys came in scan order, which differed
           -- between two builds of the same data
           ('{' || string_agg(
               to_json(coalesce(fd.logical_name,
                                CASE WHEN fd.custom THEN fd.field_name END, v.field_id))
               || ':' || coalesce(to_json(_jira_plain(v.value)), 'null'::JSON),
               ',' ORDER BY v.field_id) || '}')::JSON AS fields,
           -- of two epic fields with a value, the first by field id, in every build
           arg_min(v.value ->> '$', v.field_id) FILTER (
               WHERE (fd.logical_name = 'epic_link' OR fd.plugin LIKE '%gh-epic-link')
                 AND v.value ->> '$' IS NOT NULL) AS epic
    FROM _jira_value AS v JOIN _jira_field AS fd USING (field_id)
    WHERE (fd.custom OR v.field_id = 'priority') AND v.filled
    GROUP BY v.key
)
SELECT 'jira:' || i.key, 'jira', 'jira_issue', i.key, i.x.summary,
       nullif(i.site, '') || '/browse/' || i.key, i.project, i.x.issuetype.name,
       coalesce(i.x.labels, []::VARCHAR[]),
       coalesce(list_transform(i.x.components, lambda c: c.name), []::VARCHAR[]),
       i.x.status.name, sc.status_category, i.x.created::TIMESTAMPTZ, t.started_at,
       CASE WHEN sc.status_category = 'done'
            THEN coalesce(i.x.resolutiondate::TIMESTAMPTZ, t.done_at) END,
       i.x.resolution.name,
       _jira_account(coalesce(i.x.creator, i.x.reporter)), _jira_account(i.x.assignee),
       coalesce(i.x.parent.key, c.epic),
       coalesce(list_distinct(list_filter(list_transform(
           i.x.issuelinks, lambda l: coalesce(l.outwardIssue.key, l.inwardIssue.key)),
           lambda k: k IS NOT NULL)), []::VARCHAR[]),
       coalesce(c.fields, '{}'::JSON)
FROM _jira_issue AS i
LEFT JOIN _jira_category AS sc ON sc.lname = lower(i.x.status.name)
LEFT JOIN firsts AS t USING (key)
LEFT JOIN custom AS c USING (key);
DROP TABLE _jira_category;

-- Fill rate base: every issue x every field of interest that the payloads carry (present in at
-- least one); a field missing from one payload (Cloud omits `parent` when none) is empty.
INSERT INTO item_fields
WITH carried AS (SELECT DISTINCT unnest(carried) AS field_id FROM jira_refs)
SELECT 'jira:' || i.key, c.field_id, fd.field_name, fd.logical_name, fd.custom,
       coalesce(v.filled, false)
FROM _jira_issue AS i
CROSS JOIN carried AS c
JOIN _jira_field AS fd USING (field_id)
LEFT JOIN _jira_value AS v ON v.key = i.key AND v.field_id = c.field_id;

-- Events. Ids: jira:issue:<id>, jira:changelog:<history id>:<item no>, jira:comment:<id>,
-- jira:worklog:<id> (Jira's ids are stable across runs and unique per site).
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail)
SELECT 'jira:issue:' || coalesce(issue_id, key), 'jira', x.created::TIMESTAMPTZ,
       _jira_account(coalesce(x.creator, x.reporter)), 'jira:' || key, 'jira_created', NULL,
       json_object('issue_key', key, 'project', project, 'issue_type', x.issuetype.name)
FROM _jira_issue;

-- The typed columns history_id and shadow_tool repeat detail.history_id and detail.shadow_tool.
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail,
                   history_id)
SELECT 'jira:changelog:' || history_id || ':' || item_no, 'jira', changed_at, actor, item_id,
       'jira_transition', 'status_change',
       json_object('issue_key', key, 'project', project, 'from_status', from_status,
                   'to_status', to_status, 'from_status_category', from_category,
                   'to_status_category', to_category, 'from_id', from_id, 'to_id', to_id,
                   'history_id', history_id), history_id
FROM _jira_transition;
DROP TABLE _jira_transition;

-- Field edits: not the status (a transition), not what Jira writes by itself alongside another
-- act (the resolution a transition sets, time tracking a worklog updates). Edits of summary or
-- description are content, not metadata (docs/metrics.md section 1).
-- The typed columns field, field_id and field_name repeat detail's (the metrics that read a
-- field parsed detail for it: at 10M events metric_change_onsets took 2.3-2.6 s, 1.1 s typed).
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail,
                   history_id, field, field_id, field_name)
SELECT 'jira:changelog:' || c.history_id || ':' || c.item_no, 'jira', c.changed_at, c.actor,
       'jira:' || c.key, 'jira_field_edit',
       CASE WHEN lower(coalesce(fd.field_id, c.item.field)) IN ('summary', 'description')
            THEN NULL ELSE 'metadata_edit' END,
       json_object('issue_key', c.key, 'project', c.project, 'field', c.item.field,
                   'field_id', coalesce(fd.field_id, c.item.fieldId),
                   'field_name', coalesce(fd.field_name, c.item.field),
                   'logical_name', fd.logical_name,
                   'from', c.item.fromString, 'to', c.item.toString,
                   'from_id', c.item.from, 'to_id', c.item.to, 'history_id', c.history_id),
       c.history_id, c.item.field, coalesce(fd.field_id, c.item.fieldId),
       coalesce(fd.field_name, c.item.field)
FROM _jira_change AS c
LEFT JOIN _jira_field_alias AS a ON a.alias = lower(c.item.field)
LEFT JOIN _jira_field AS fd ON fd.field_id = coalesce(c.item.fieldId, a.field_id)
WHERE c.item.field <> 'status'
  AND NOT (c.item.field = 'resolution' AND c.with_status)
  AND c.item.field NOT IN ('timespent', 'timeestimate', 'timeoriginalestimate', 'WorklogId',
                           'WorklogTimeSpent');
DROP TABLE _jira_change;
DROP TABLE _jira_field_alias;

-- Comments carry the flags of their words (05_text_flags.sql), never the words.
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail,
                   shadow_tool)
SELECT 'jira:comment:' || c.id, 'jira', c.created::TIMESTAMPTZ, _jira_account(c.author),
       'jira:' || key, 'jira_comment', _ph_flag_subkind(f),
       json_object('issue_key', key, 'project', project,
                   -- bodyLength, bodyFlags: the body was reduced at ingest ([privacy]
                   -- store_text_fields = false, collectors/privacy.py)
                   'length', coalesce(length(CASE WHEN json_type(c.body) = 'VARCHAR'
                                                  THEN c.body ->> '$' ELSE c.body::VARCHAR END),
                                      c.bodyLength),
                   'is_reminder', f.is_reminder, 'is_status_request', f.is_status_request,
                   'shadow_tool', f.shadow_tool, 'has_result', f.has_result), f.shadow_tool
FROM (SELECT key, project, c,
             coalesce(_ph_stored_flags(c.bodyFlags),
                      _ph_text_flags(_ph_body_text(c.body::VARCHAR))) AS f
      FROM (SELECT key, project, unnest(x.comment.comments) AS c FROM _jira_issue));

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail)
SELECT 'jira:worklog:' || w.id, 'jira', w.created::TIMESTAMPTZ, _jira_account(w.author),
       'jira:' || key, 'jira_worklog', 'timesheet',
       json_object('issue_key', key, 'project', project, 'seconds', w.timeSpentSeconds,
                   'started', w.started)
FROM (SELECT key, project, unnest(x.worklog.worklogs) AS w FROM _jira_issue);

-- Declared experiments (docs/metrics.md section 9). A filled field named in
-- [declared_experiments] hypothesis_fields / success_criteria_fields declares one whatever its
-- words (filled is kept when the words are not); else the patterns, on the description and
-- text fields when stored (05_text_flags.sql), or the textFlags set at ingest when they were
-- reduced (collectors/privacy.py); a result in those or in any comment.
UPDATE work_items SET has_hypothesis = d.has_hypothesis,
                      has_success_criteria = d.has_success_criteria,
                      has_result = d.has_result OR coalesce(r.has_result, false)
FROM (
    SELECT i.key,
           coalesce(i.s.has_hypothesis, false) OR coalesce(v.hypothesis_field, false)
               OR coalesce(v.words.has_hypothesis, false) AS has_hypothesis,
           coalesce(i.s.has_success_criteria, false) OR coalesce(v.criteria_field, false)
               OR coalesce(v.words.has_success_criteria, false) AS has_success_criteria,
           coalesce(i.s.has_result, false) OR coalesce(v.words.has_result, false) AS has_result
    FROM (SELECT key, _ph_stored_declared(text_flags) AS s FROM _jira_issue) AS i
    LEFT JOIN (
        SELECT v.key,
               bool_or(list_contains(getvariable('ph_hypothesis_fields'), lower(fd.field_name)))
                   AS hypothesis_field,
               bool_or(list_contains(getvariable('ph_criteria_fields'), lower(fd.field_name)))
                   AS criteria_field,
               {'has_hypothesis': bool_or(f.has_hypothesis),
                'has_success_criteria': bool_or(f.has_success_criteria),
                'has_result': bool_or(f.has_result)} AS words
        FROM (SELECT v.*, CASE WHEN v.field_id = 'description' OR fd.plugin LIKE '%:textarea'
                                    OR fd.plugin LIKE '%:textfield'
                               THEN _ph_declared_flags(_ph_body_text(v.value::VARCHAR)) END AS f
              FROM _jira_value AS v JOIN _jira_field AS fd USING (field_id)) AS v
        JOIN _jira_field AS fd USING (field_id)
        WHERE v.filled
        GROUP BY v.key
    ) AS v USING (key)
) AS d
LEFT JOIN (SELECT item_id, bool_or(coalesce((detail ->> 'has_result')::BOOLEAN, false))
                      AS has_result
           FROM events WHERE source = 'jira' AND kind = 'jira_comment'
             AND item_id IN (SELECT 'jira:' || key FROM _jira_issue)  -- not the kept ones'
           GROUP BY item_id) AS r ON r.item_id = 'jira:' || d.key
WHERE work_items.item_id = 'jira:' || d.key;
