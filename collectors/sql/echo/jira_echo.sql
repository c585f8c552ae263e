-- Jira echo and system entries (docs/metrics.md section 2, "Jira histories"): changelog entries
-- Jira writes by itself as a consequence of another act, or that no person made one by one. They
-- stay events (facts: status, field and link history are still read) but carry no effort:
-- events.weight = 0 and detail.echo names the rule. Reads only the events and work items the
-- Jira normalization wrote (20_jira.sql), so it runs on collected and imported data alike.
--
-- epic_child         an "Epic Child" item: the epic's side of a child's Epic Link / Parent;
-- link_other_side    a "Link" item whose reciprocal (the other issue's Link item naming this
--                    issue, same actor, within 60 s) comes first: Jira writes a link on both
--                    issues; the first written (lower history id) is the act;
-- create_screen      a history by the issue's creator within 5 s of its creation: values set
--                    on the create screen (and post-functions), part of the create act;
-- workflow_migration every item of a history that changes the "Workflow" field (a project's
--                    workflow scheme migration rewrites each issue's status);
-- bulk_change        one actor's histories on 10 or more issues within one minute (a bulk
--                    edit or an admin script): the first history is the act, the rest echo.

-- Rows are told apart by rowid: event_seq is numbered later, by classification. The field is
-- the typed column; detail is parsed only for Link items, the only rule that reads more of it
-- (parsing every history's detail took 1.3 s at 10M events).
CREATE OR REPLACE TEMP TABLE _jira_hist AS
SELECT rid, item_id, actor_account, occurred_at, history_id, field,
       d[1] AS issue_key,
       coalesce(
           CASE WHEN regexp_matches(coalesce(d[2], ''), '^[A-Z][A-Z0-9_]*-\d+$') THEN d[2] END,
           CASE WHEN regexp_matches(coalesce(d[3], ''), '^[A-Z][A-Z0-9_]*-\d+$') THEN d[3] END,
           nullif(regexp_extract(coalesce(d[4], d[5], ''), '\b([A-Z][A-Z0-9_]*-\d+)\b', 1), ''))
           AS other_key
FROM (SELECT rowid AS rid, item_id, actor_account, occurred_at, history_id,
             lower(coalesce(field, '')) AS field,
             CASE WHEN lower(field) = 'link'  -- one parse per Link item
                  THEN json_extract_string(detail, ['$.issue_key', '$.to_id', '$.from_id', '$.to',
                                                    '$.from']) END AS d
      FROM events
      WHERE source = 'jira' AND kind IN ('jira_field_edit', 'jira_transition')
        AND history_id IS NOT NULL);

CREATE OR REPLACE TEMP TABLE _jira_echo AS
SELECT rid, 'epic_child' AS rule FROM _jira_hist WHERE field = 'epic child'
UNION ALL
SELECT a.rid, 'link_other_side'
FROM _jira_hist AS a JOIN _jira_hist AS b
  ON a.field = 'link' AND b.field = 'link' AND b.issue_key = a.other_key
 AND b.other_key = a.issue_key AND b.actor_account IS NOT DISTINCT FROM a.actor_account
 AND abs(epoch(a.occurred_at - b.occurred_at)) <= 60
 AND (TRY_CAST(b.history_id AS BIGINT), b.history_id)
     < (TRY_CAST(a.history_id AS BIGINT), a.history_id)
UNION ALL
SELECT h.rid, 'create_screen'
FROM _jira_hist AS h JOIN work_items AS w ON w.item_id = h.item_id
WHERE h.actor_account = w.author_account
  AND h.occurred_at BETWEEN w.created_at AND w.created_at + INTERVAL 5 SECOND
UNION ALL
SELECT h.rid, 'workflow_migration'
FROM _jira_hist AS h
WHERE h.history_id IN (SELECT history_id FROM _jira_hist WHERE field = 'workflow')
UNION ALL
SELECT h.rid, 'bulk_change'
FROM _jira_hist AS h JOIN (
    -- distinct issues are counted only in the minutes with 10 entries or more (a plain count
    -- first: counting distinct issues in every actor-minute took 4.8 s at 10M events, this 0.7 s)
    SELECT h.actor_account, date_trunc('minute', h.occurred_at) AS minute,
           min((h.occurred_at, TRY_CAST(h.history_id AS BIGINT), h.history_id)) AS first
    FROM _jira_hist AS h
    SEMI JOIN (SELECT actor_account, date_trunc('minute', occurred_at) AS minute
               FROM _jira_hist WHERE actor_account IS NOT NULL
               GROUP BY ALL HAVING count(*) >= 10) AS busy
        ON busy.actor_account = h.actor_account
        AND busy.minute = date_trunc('minute', h.occurred_at)
    GROUP BY ALL HAVING count(DISTINCT h.item_id) >= 10  -- issues (item_id is 'jira:' || key)
) AS b ON b.actor_account = h.actor_account AND b.minute = date_trunc('minute', h.occurred_at)
WHERE (h.occurred_at, TRY_CAST(h.history_id AS BIGINT), h.history_id) <> b.first;

-- Total (docs/build.md, "Cost"): an incremental build starts from the last build's events, echo
-- marks and all, so an entry that is no echo now gets back what normalization wrote (weight 1,
-- its detail without `echo`; a Jira event has weight 0 only as an echo).
UPDATE events SET weight = 1, detail = json_merge_patch(events.detail, '{"echo": null}')
WHERE source = 'jira' AND weight = 0 AND rowid NOT IN (SELECT rid FROM _jira_echo);

UPDATE events SET weight = 0,
       detail = json_merge_patch(events.detail, json_object('echo', x.rule))
FROM (SELECT rid, min(rule) AS rule FROM _jira_echo GROUP BY rid) AS x
WHERE events.rowid = x.rid  -- written only where it changes (kept entries carry it already)
  AND (events.weight IS DISTINCT FROM 0 OR events.detail ->> 'echo' IS DISTINCT FROM x.rule);

DROP TABLE _jira_echo;
DROP TABLE _jira_hist;
