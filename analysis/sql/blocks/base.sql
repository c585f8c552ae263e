-- Building blocks of the metric views (docs/metrics.md sections 3-9): which team each person, event and
-- work item counts toward, who a reminder reached, and per-event facts (credited minutes, paperwork,
-- coupling to delivery, prompted by a reminder) that the team-month and weekly views add up.
-- The build creates them before any metric view (processhealth/pipeline.py METRIC_BLOCKS: base,
-- items, scope), and once every view exists stores the heavy ones as tables of the same name
-- (analysis/materialize.py). Times are UTC. Per-event rows are stored once: metric_event_base
-- holds every event with its team and its facts, without the event id (writing 10M long unique
-- ids cost a quarter of storing it); metric_event_human is its human events. The build's views
-- read those two; metric_event_team and metric_event_facts, the same with events.event_id, are
-- views for readers of the database.

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

-- Who a reminder reaches (docs/metrics.md section 5): the people it mentions, and the channel's
-- live members, who wrote there in the 30 days before it. In an organization-wide channel that is
-- every reminder times everyone, so the pairs are not stored: a person's live stretches in each
-- channel are (metric_channel_presence, linear in messages), and the metrics that need people
-- count against them (prompted in metric_event_base, metric_reminder_person_months, nag load).
CREATE VIEW metric_channel_presence AS
WITH m AS (  -- the times a human wrote in a channel (ties once: liveness depends on times only)
    SELECT DISTINCT e.channel_id, e.person_id, e.occurred_at
    FROM events AS e JOIN people AS p ON p.person_id = e.person_id AND NOT p.is_bot
    WHERE e.source = 'slack' AND e.channel_id IS NOT NULL
),
g AS (  -- a message more than 30 days after the previous one starts a new stretch
    SELECT *, coalesce(occurred_at > lag(occurred_at) OVER w + INTERVAL 720 HOUR, true) AS starts
    FROM m
    WINDOW w AS (PARTITION BY channel_id, person_id ORDER BY occurred_at)
),
runs AS (
    SELECT *, count(*) FILTER (WHERE starts) OVER (PARTITION BY channel_id, person_id
                                                     ORDER BY occurred_at) AS run
    FROM g
)
SELECT channel_id, person_id, min(occurred_at) AS live_from,
       max(occurred_at) + INTERVAL 720 HOUR AS live_until
FROM runs
GROUP BY channel_id, person_id, run;
COMMENT ON VIEW metric_channel_presence IS 'When each person was a live member of a Slack channel, one row per stretch: from a message to 30 days after the last message of a run with no gap over 30 days. A reminder in the channel at time t reaches them when live_from < t <= live_until (docs/metrics.md section 5).';
COMMENT ON COLUMN metric_channel_presence.channel_id IS 'Slack channel (channels.channel_id).';
COMMENT ON COLUMN metric_channel_presence.person_id IS 'A human who wrote in it.';
COMMENT ON COLUMN metric_channel_presence.live_from IS 'Their first message of the stretch (live just after it).';
COMMENT ON COLUMN metric_channel_presence.live_until IS 'Their last message of the stretch plus 30 days (720 hours).';

CREATE VIEW metric_reminder_mentions AS
WITH reminders AS (
    SELECT event_id, channel_id, occurred_at, person_id AS sender, detail
    FROM events
    WHERE subkind = 'reminder'
)
SELECT DISTINCT r.event_id AS reminder_event_id, i.person_id, r.occurred_at AS reminded_at,
       r.channel_id
FROM (
    SELECT *, unnest(from_json(detail -> 'mentions', '["VARCHAR"]')) AS uid
    FROM reminders
    WHERE json_type(detail -> 'mentions') = 'ARRAY'
) AS r
JOIN identities AS i
    ON i.source = 'slack' AND i.source_user_id = regexp_replace(r.uid, '^slack:', '')
JOIN people AS p ON p.person_id = i.person_id
WHERE NOT p.is_bot AND i.person_id IS DISTINCT FROM r.sender;
COMMENT ON VIEW metric_reminder_mentions IS 'The people each reminder mentions (humans other than its sender): with the channel''s live members (metric_channel_presence), whom it reached.';
COMMENT ON COLUMN metric_reminder_mentions.reminder_event_id IS 'The reminder (events.event_id, subkind reminder).';
COMMENT ON COLUMN metric_reminder_mentions.person_id IS 'A person it mentions.';
COMMENT ON COLUMN metric_reminder_mentions.reminded_at IS 'When the reminder was sent.';
COMMENT ON COLUMN metric_reminder_mentions.channel_id IS 'Its Slack channel; NULL for a Jira or GitHub comment.';

CREATE VIEW metric_reminder_reach AS
WITH listeners AS (
    SELECT r.event_id AS reminder_event_id, s.person_id, r.occurred_at AS reminded_at
    FROM events AS r
    JOIN metric_channel_presence AS s
        ON s.channel_id = r.channel_id AND s.live_from < r.occurred_at
        AND r.occurred_at <= s.live_until
    WHERE r.subkind = 'reminder' AND s.person_id IS DISTINCT FROM r.person_id
)
SELECT reminder_event_id, person_id, reminded_at FROM listeners
UNION
SELECT reminder_event_id, person_id, reminded_at FROM metric_reminder_mentions;
COMMENT ON VIEW metric_reminder_reach IS 'Who each reminder reached: people it mentions, and people who wrote in its channel in the 30 days before (the channel''s live members). Basis of nag load and prompted activity (docs/metrics.md section 5). One row per reminder and person: read it for a few reminders; the metrics count against metric_channel_presence instead.';
COMMENT ON COLUMN metric_reminder_reach.reminder_event_id IS 'The reminder (events.event_id, subkind reminder).';
COMMENT ON COLUMN metric_reminder_reach.person_id IS 'A person it reached.';
COMMENT ON COLUMN metric_reminder_reach.reminded_at IS 'When the reminder was sent.';

CREATE VIEW metric_reminder_person_months AS
WITH reminders AS (
    SELECT event_id, channel_id, occurred_at AS x, person_id AS sender,
           date_trunc('month', timezone('UTC', occurred_at))::DATE AS month
    FROM events
    WHERE subkind = 'reminder'
),
counted AS (  -- reminders of a channel and month at or before each one's time
    SELECT channel_id, month, x,
           count(*) OVER (PARTITION BY channel_id, month ORDER BY x
                          RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
    FROM reminders WHERE channel_id IS NOT NULL
),
stretch_months AS (  -- each live stretch in each month it spans
    SELECT s.*, unnest(generate_series(date_trunc('month', timezone('UTC', s.live_from)),
                                       date_trunc('month', timezone('UTC', s.live_until)),
                                       INTERVAL 1 MONTH))::DATE AS month
    FROM metric_channel_presence AS s
    WHERE s.channel_id IN (SELECT channel_id FROM counted)
),
heard AS (  -- reminders of the month within the stretch: counted up to its end minus up to its start
    SELECT t.person_id, t.channel_id, t.month,
           sum(coalesce(b.upto, 0) - coalesce(a.upto, 0)) AS reminders
    FROM stretch_months AS t
    ASOF LEFT JOIN counted AS b
        ON b.channel_id = t.channel_id AND b.month = t.month AND t.live_until >= b.x
    ASOF LEFT JOIN counted AS a
        ON a.channel_id = t.channel_id AND a.month = t.month AND t.live_from >= a.x
    GROUP BY ALL
),
own AS (  -- of those, the person's own (a reminder does not reach its sender)
    SELECT r.sender AS person_id, r.channel_id, r.month, count(*) AS reminders
    FROM reminders AS r
    JOIN metric_channel_presence AS s
        ON s.channel_id = r.channel_id AND s.person_id = r.sender
        AND s.live_from < r.x AND r.x <= s.live_until
    GROUP BY ALL
),
mentioned_only AS (  -- mentioned without being a live member
    SELECT m.person_id, m.channel_id,
           date_trunc('month', timezone('UTC', m.reminded_at))::DATE AS month, count(*) AS reminders
    FROM metric_reminder_mentions AS m
    LEFT JOIN metric_channel_presence AS s
        ON s.channel_id = m.channel_id AND s.person_id = m.person_id
        AND s.live_from < m.reminded_at AND m.reminded_at <= s.live_until
    WHERE s.person_id IS NULL
    GROUP BY ALL
)
SELECT person_id, channel_id, month, sum(reminders)::BIGINT AS reminders
FROM (SELECT * FROM heard
      UNION ALL SELECT person_id, channel_id, month, -reminders FROM own
      UNION ALL SELECT * FROM mentioned_only)
GROUP BY ALL
HAVING sum(reminders) > 0;
COMMENT ON VIEW metric_reminder_person_months IS 'How many reminders reached each person per channel and month (metric_reminder_reach counted without listing it): nag load and the reminder onsets add these up.';
COMMENT ON COLUMN metric_reminder_person_months.person_id IS 'A person reached.';
COMMENT ON COLUMN metric_reminder_person_months.channel_id IS 'The reminders'' Slack channel; NULL for Jira and GitHub comments (reaching only whom they mention).';
COMMENT ON COLUMN metric_reminder_person_months.month IS 'First day of the UTC month the reminders were sent.';
COMMENT ON COLUMN metric_reminder_person_months.reminders IS 'Reminders that reached the person (as a live member of the channel or by mention).';

CREATE VIEW metric_event_base AS
-- ev: every event with its team, read once, by the final join (materialized whole, its strings
-- spilled at 10M events).
WITH ev AS NOT MATERIALIZED (
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
-- et: what the tests read, from the events directly (not from ev, whose team would cost a join
-- of every event with person_months again: at 10M events 1.1 s of 16).
et AS MATERIALIZED (
    SELECT e.event_seq, e.source, e.subkind, e.category, e.item_id, e.person_id, e.occurred_at,
           coalesce(p.is_bot, i.is_bot, false) AS is_bot
    FROM events AS e
    LEFT JOIN people AS p ON p.person_id = e.person_id
    LEFT JOIN identities AS i ON e.actor_account = i.source || ':' || i.source_user_id
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
-- events), so its cost follows those, not every event; the results join back on event_seq (an
-- integer, where the long event ids cost more than the tests). The activity or delivery just
-- before and just after an event come from one pass of window functions over the event's item,
-- with the events among its activity (at the same time counts as both before and after).
paper AS (
    SELECT event_seq,
           coalesce(epoch(occurred_at) - epoch(before) > 86400, true)
           AND coalesce(epoch(after) - epoch(occurred_at) > 86400, true) AS paperwork
    FROM (
        SELECT event_seq, occurred_at,
               max(act) OVER (PARTITION BY item_id ORDER BY occurred_at
                              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS before,
               min(act) OVER (PARTITION BY item_id ORDER BY occurred_at
                              RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS after
        FROM (SELECT event_seq, item_id, occurred_at, NULL::TIMESTAMPTZ AS act FROM et
              WHERE NOT is_bot AND source = 'jira'
                AND subkind IN ('status_change', 'metadata_edit')
              UNION ALL
              SELECT NULL, item_id, "at", "at" FROM activity WHERE item_id IS NOT NULL)
    )
    WHERE event_seq IS NOT NULL
),
coupling AS (
    SELECT event_seq,
           coalesce(epoch(occurred_at) - epoch(before) <= 30 * 86400, false)
           OR coalesce(epoch(after) - epoch(occurred_at) <= 30 * 86400, false) AS coupled
    FROM (
        SELECT event_seq, occurred_at,
               max(act) OVER (PARTITION BY item_id ORDER BY occurred_at
                              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS before,
               min(act) OVER (PARTITION BY item_id ORDER BY occurred_at
                              RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS after
        FROM (SELECT event_seq, item_id, occurred_at, NULL::TIMESTAMPTZ AS act FROM et
              WHERE NOT is_bot AND category = 'process' AND item_id IS NOT NULL
              UNION ALL
              SELECT NULL, item_id, "at", "at" FROM delivery WHERE item_id IS NOT NULL)
    )
    WHERE event_seq IS NOT NULL
),
-- Prompted: the latest reminder that reached the actor before the event (metric_reminder_reach),
-- found without listing every reminder's people: per live stretch of the actor in a channel with
-- reminders, the channel's latest reminder before the event (and the stretch's end) by someone
-- else, and the latest reminder that mentions them.
channel_reminders AS (  -- each reminder with the latest time at or before it of one by another
    -- sender (for an actor who sent the latest one)
    SELECT channel_id, x, sender,
           CASE WHEN min(k) OVER (PARTITION BY channel_id, x) < max(k) OVER (PARTITION BY channel_id, x)
                THEN x
                ELSE max(x) FILTER (WHERE seg_last) OVER (PARTITION BY channel_id ORDER BY x, k
                                                          ROWS BETWEEN UNBOUNDED PRECEDING
                                                          AND 1 PRECEDING) END AS other_x
    FROM (
        SELECT *, k IS DISTINCT FROM lead(k) OVER (PARTITION BY channel_id ORDER BY x, k)
                  AS seg_last
        FROM (SELECT DISTINCT channel_id, occurred_at AS x, person_id AS sender,
                              coalesce(person_id, '') AS k
              FROM events WHERE subkind = 'reminder' AND channel_id IS NOT NULL)
    )
),
process_events AS (
    SELECT event_seq, person_id, occurred_at FROM et WHERE NOT is_bot AND category = 'process'
),
heard AS (  -- latest reminder by someone else in each live stretch near the event
    SELECT c.event_seq,
           CASE WHEN r.sender IS NOT DISTINCT FROM c.person_id THEN r.other_x ELSE r.x END AS x,
           c.live_from
    FROM (
        SELECT e.event_seq, e.person_id, s.channel_id, s.live_from,
               CASE WHEN s.live_until < e.occurred_at
                    THEN s.live_until + INTERVAL 1 MICROSECOND ELSE e.occurred_at END AS upto
        FROM process_events AS e
        JOIN metric_channel_presence AS s
            ON s.person_id = e.person_id AND s.live_from < e.occurred_at
            AND s.live_until >= e.occurred_at - INTERVAL 25 HOUR
        WHERE s.channel_id IN (SELECT channel_id FROM channel_reminders)
    ) AS c
    ASOF JOIN channel_reminders AS r ON r.channel_id = c.channel_id AND r.x < c.upto
),
mentioned AS (
    SELECT e.event_seq, m.reminded_at AS x
    FROM process_events AS e
    ASOF JOIN metric_reminder_mentions AS m
        ON m.person_id = e.person_id AND e.occurred_at > m.reminded_at
),
prompting AS (
    SELECT e.event_seq,
           coalesce(epoch(e.occurred_at) - epoch(max(r.x)) <= 86400, false) AS prompted
    FROM process_events AS e
    LEFT JOIN (SELECT event_seq, x FROM heard WHERE x > live_from
               UNION ALL SELECT event_seq, x FROM mentioned) AS r USING (event_seq)
    GROUP BY e.event_seq, e.occurred_at
),
-- Credited minutes and the three tests, one narrow row per event, joined to the events once.
-- effort_credit has one row per credited event (analysis/effort.py); the tests, on about 40% of
-- the events, are grouped first and joined to it (at 10M events grouping all four took 16.2 s,
-- this 9.9 s).
facts AS (
    SELECT event_seq, f.minutes, t.paperwork, t.coupled, t.prompted
    FROM (SELECT event_seq, minutes FROM effort_credit) AS f
    FULL JOIN (
        SELECT event_seq, any_value(paperwork) AS paperwork, any_value(coupled) AS coupled,
               any_value(prompted) AS prompted
        FROM (SELECT event_seq, paperwork, NULL::BOOLEAN AS coupled,
                     NULL::BOOLEAN AS prompted FROM paper
              UNION ALL SELECT event_seq, NULL, coupled, NULL FROM coupling
              UNION ALL SELECT event_seq, NULL, NULL, prompted FROM prompting)
        GROUP BY event_seq
    ) AS t USING (event_seq)
)
SELECT ev.* EXCLUDE (event_seq, event_id), ev.event_seq,
       coalesce(f.minutes, 0) AS minutes,
       ev.category = 'process' AS is_process,
       f.paperwork, f.coupled, f.prompted
FROM ev
LEFT JOIN facts AS f USING (event_seq);
COMMENT ON VIEW metric_event_base IS 'What the build stores of metric_event_team: every event with the team its actor belonged to that month (person_months, else people.team), whether the actor is a bot, and for human events the per-event facts of docs/metrics.md section 5 (metric_event_human is its human events); without event_id, which metric_event_team adds by event_seq.';
COMMENT ON COLUMN metric_event_base.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_event_base.kind IS 'Event kind (events.kind).';
COMMENT ON COLUMN metric_event_base.subkind IS 'Event subkind (events.subkind).';
COMMENT ON COLUMN metric_event_base.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_event_base.item_id IS 'Work item acted on, if any.';
COMMENT ON COLUMN metric_event_base.channel_id IS 'Slack channel, for Slack events.';
COMMENT ON COLUMN metric_event_base.person_id IS 'Acting person (every account is a person, matched or its own); NULL only for an event without an account.';
COMMENT ON COLUMN metric_event_base.actor_account IS 'Acting account, "<source>:<source_user_id>".';
COMMENT ON COLUMN metric_event_base.occurred_at IS 'When it happened.';
COMMENT ON COLUMN metric_event_base.day IS 'UTC day.';
COMMENT ON COLUMN metric_event_base.week IS 'Monday of its UTC week.';
COMMENT ON COLUMN metric_event_base.month IS 'First day of its UTC month.';
COMMENT ON COLUMN metric_event_base.team IS 'Team of the actor that month (person_months, else people.team); `(unassigned)` for a human whose activity falls in no team''s scope; NULL for bots and events without an account.';
COMMENT ON COLUMN metric_event_base.is_bot IS 'True when the actor is a bot (people.is_bot, else identities.is_bot).';
COMMENT ON COLUMN metric_event_base.event_seq IS 'The event''s events.event_seq (a join key within this database).';
COMMENT ON COLUMN metric_event_base.minutes IS 'Minutes the effort model credited to it (0 if none; bots are credited none).';
COMMENT ON COLUMN metric_event_base.is_process IS 'True for process-category events.';
COMMENT ON COLUMN metric_event_base.paperwork IS 'For human Jira status changes and metadata edits: true when the item had no code, comment or Slack activity within 24 h either side. NULL for other events.';
COMMENT ON COLUMN metric_event_base.coupled IS 'For human process events on a work item: true when the item was delivered (linked code merged, or resolved with linked code) within 30 days either side. NULL otherwise.';
COMMENT ON COLUMN metric_event_base.prompted IS 'For human process events: true when a reminder reached the actor in the 24 h before. NULL otherwise.';

CREATE VIEW metric_event_team AS
SELECT e.event_id, b.*
FROM metric_event_base AS b
JOIN events AS e USING (event_seq);
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

CREATE VIEW metric_event_human AS
SELECT source, kind, subkind, category, item_id, channel_id, person_id, team,
       occurred_at, day, week, month, minutes, is_process, paperwork, coupled, prompted, event_seq
FROM metric_event_base
WHERE NOT is_bot;
COMMENT ON VIEW metric_event_human IS 'What the build reads of metric_event_facts (without event_id): every human event with its credited minutes and the per-event tests of docs/metrics.md section 5: paperwork (no code, comment or Slack activity on the item within 24 h), coupled (the item was delivered within 30 days), prompted (a reminder reached the actor in the 24 h before).';
COMMENT ON COLUMN metric_event_human.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_event_human.kind IS 'Event kind.';
COMMENT ON COLUMN metric_event_human.subkind IS 'Event subkind.';
COMMENT ON COLUMN metric_event_human.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_event_human.item_id IS 'Work item acted on, if any.';
COMMENT ON COLUMN metric_event_human.channel_id IS 'Slack channel, for Slack events.';
COMMENT ON COLUMN metric_event_human.person_id IS 'Acting person (every account is a person, matched or its own); NULL only for an event without an account.';
COMMENT ON COLUMN metric_event_human.team IS 'Team of the actor that month.';
COMMENT ON COLUMN metric_event_human.occurred_at IS 'When it happened.';
COMMENT ON COLUMN metric_event_human.day IS 'UTC day.';
COMMENT ON COLUMN metric_event_human.week IS 'Monday of its UTC week.';
COMMENT ON COLUMN metric_event_human.month IS 'First day of its UTC month.';
COMMENT ON COLUMN metric_event_human.minutes IS 'Minutes the effort model credited to it (0 if none).';
COMMENT ON COLUMN metric_event_human.is_process IS 'True for process-category events.';
COMMENT ON COLUMN metric_event_human.paperwork IS 'For Jira status changes and metadata edits: true when the item had no code, comment or Slack activity within 24 h either side. NULL for other events.';
COMMENT ON COLUMN metric_event_human.coupled IS 'For process events on a work item: true when the item was delivered (linked code merged, or resolved with linked code) within 30 days either side. NULL otherwise.';
COMMENT ON COLUMN metric_event_human.prompted IS 'For process events: true when a reminder reached the actor in the 24 h before. NULL otherwise.';
COMMENT ON COLUMN metric_event_human.event_seq IS 'The event''s events.event_seq (a join key within this database).';

CREATE VIEW metric_event_facts AS
SELECT e.event_id, h.*
FROM metric_event_human AS h
JOIN events AS e USING (event_seq);
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
