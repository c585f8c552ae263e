-- Per-item facts of flow (docs/metrics.md section 4): how long each item sat in each status, its lead
-- time, flow time and flow efficiency, and each pull request's cycle broken into coding, pickup,
-- review and deploy. The team-month views (analysis/sql/metric_flow.sql, ...) add these up.

CREATE VIEW metric_status_intervals AS
WITH data_end AS (
    SELECT max(occurred_at) AS at FROM events
),
seq AS (
    SELECT item_id, "at", from_status, from_status_category, to_status, to_status_category,
           lead("at") OVER w AS next_at, row_number() OVER w AS n
    -- Moves of an item at the same time (one save with two status items, an automation): a move
    -- from a status another of them moved to comes after it (x -> y before y -> z), then by the
    -- statuses' names, the same in every build; "at" alone let each build pick which move
    -- opened the stay that lasts.
    FROM (SELECT *, list_contains(list(to_status) OVER (PARTITION BY item_id, "at"),
                                  from_status) AS follows
          FROM transitions)
    WINDOW w AS (PARTITION BY item_id ORDER BY "at", follows, from_status, to_status)
),
intervals AS (
    SELECT s.item_id, s.from_status AS status, s.from_status_category AS status_category,
           w.created_at AS entered_at, s."at" AS left_at
    FROM seq AS s JOIN work_items AS w USING (item_id)
    WHERE s.n = 1 AND s.from_status IS NOT NULL AND w.created_at < s."at"
    UNION ALL
    SELECT item_id, to_status, to_status_category, "at", next_at FROM seq
)
SELECT i.item_id, t.team, i.status, i.status_category, i.entered_at, i.left_at,
       (epoch(coalesce(i.left_at, greatest(d.at, i.entered_at))) - epoch(i.entered_at)) / 3600.0
           AS hours
FROM intervals AS i
CROSS JOIN data_end AS d
LEFT JOIN metric_item_team AS t USING (item_id);
COMMENT ON VIEW metric_status_intervals IS 'Time in status: one row per stay of a work item in a status, from its changelog (the creation status from created_at to the first move).';
COMMENT ON COLUMN metric_status_intervals.item_id IS 'Work item.';
COMMENT ON COLUMN metric_status_intervals.team IS 'Team the item counts toward (metric_item_team).';
COMMENT ON COLUMN metric_status_intervals.status IS 'Status name.';
COMMENT ON COLUMN metric_status_intervals.status_category IS 'todo, active, waiting or done.';
COMMENT ON COLUMN metric_status_intervals.entered_at IS 'When the item entered the status.';
COMMENT ON COLUMN metric_status_intervals.left_at IS 'When it left; NULL while it is still there.';
COMMENT ON COLUMN metric_status_intervals.hours IS 'Hours spent there (up to the last observed event while still there).';

CREATE VIEW metric_flow_items AS
WITH firsts AS (
    SELECT item_id, min(entered_at) FILTER (WHERE status_category = 'active') AS started_at
    FROM metric_status_intervals
    GROUP BY item_id
),
closed AS (
    SELECT w.*,
           CASE WHEN w.status_category = 'done' THEN coalesce(w.resolved_at, w.merged_at) END
               AS closed_at,
           -- closed as not done: no delivery (the same list is in base.sql, delivery)
           lower(replace(w.resolution, '’', '''')) IN (
               'won''t do', 'won''t fix', 'duplicate', 'cannot reproduce', 'not_planned'
           ) AS not_done
    FROM work_items AS w
),
items AS (
    SELECT w.item_id, w.source, w.kind, w.key, w.type, w.category, w.created_at,
           coalesce(f.started_at, w.started_at) AS started_at, w.closed_at, w.resolution,
           CASE WHEN NOT coalesce(w.not_done, false) THEN w.closed_at END AS resolved_at
    FROM closed AS w
    LEFT JOIN firsts AS f USING (item_id)
    WHERE w.kind <> 'pr'
),
active AS (
    SELECT i.item_id,
           sum(greatest(0, epoch(least(coalesce(s.left_at, i.resolved_at), i.resolved_at))
                          - epoch(greatest(s.entered_at, i.started_at)))) / 86400.0 AS active_days
    FROM items AS i
    JOIN metric_status_intervals AS s USING (item_id)
    WHERE s.status_category = 'active' AND i.resolved_at IS NOT NULL AND i.started_at IS NOT NULL
    GROUP BY i.item_id
)
SELECT i.item_id, i.source, i.key, i.type, i.category, t.team, i.created_at, i.started_at,
       i.resolved_at, i.closed_at, i.resolution,
       timezone('UTC', i.resolved_at)::DATE AS resolved_day,
       date_trunc('week', timezone('UTC', i.resolved_at))::DATE AS resolved_week,
       date_trunc('month', timezone('UTC', i.resolved_at))::DATE AS resolved_month,
       (epoch(i.resolved_at) - epoch(i.created_at)) / 86400.0 AS lead_time_days,
       CASE WHEN i.started_at <= i.resolved_at
            THEN (epoch(i.resolved_at) - epoch(i.started_at)) / 86400.0 END AS flow_time_days,
       a.active_days,
       CASE WHEN i.started_at < i.resolved_at
            THEN coalesce(a.active_days, 0)
                 / ((epoch(i.resolved_at) - epoch(i.started_at)) / 86400.0) END
           AS flow_efficiency
FROM items AS i
LEFT JOIN active AS a USING (item_id)
LEFT JOIN metric_item_team AS t USING (item_id);
COMMENT ON VIEW metric_flow_items IS 'Lead time, flow time and flow efficiency per Jira issue and GitHub issue (pull requests are in metric_pr_items); items closed as not done (Won''t Do, Duplicate, not_planned, ...) have no resolved_at, so they are no throughput. Flow time = resolved - first entry into an active status; flow efficiency = time in active statuses / flow time.';
COMMENT ON COLUMN metric_flow_items.item_id IS 'Work item.';
COMMENT ON COLUMN metric_flow_items.source IS 'Tool: jira or github.';
COMMENT ON COLUMN metric_flow_items.key IS 'Human key (PAY-12, acme/api#7).';
COMMENT ON COLUMN metric_flow_items.type IS 'Jira issue type.';
COMMENT ON COLUMN metric_flow_items.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_flow_items.team IS 'Team the item counts toward (metric_item_team).';
COMMENT ON COLUMN metric_flow_items.created_at IS 'When it was created.';
COMMENT ON COLUMN metric_flow_items.started_at IS 'When work started (work_items.started_at).';
COMMENT ON COLUMN metric_flow_items.resolved_at IS 'When it was delivered: it last reached done and was not closed as not done (Won''t Do, Won''t Fix, Duplicate, Cannot Reproduce, GitHub not_planned); NULL otherwise. Throughput, lead time and flow time count these only.';
COMMENT ON COLUMN metric_flow_items.closed_at IS 'When it last reached done, whatever the resolution; NULL unless it is done now.';
COMMENT ON COLUMN metric_flow_items.resolution IS 'work_items.resolution: the Jira resolution or GitHub state_reason.';
COMMENT ON COLUMN metric_flow_items.resolved_day IS 'UTC day of resolved_at.';
COMMENT ON COLUMN metric_flow_items.resolved_week IS 'Monday of the UTC week of resolved_at.';
COMMENT ON COLUMN metric_flow_items.resolved_month IS 'First day of the UTC month of resolved_at.';
COMMENT ON COLUMN metric_flow_items.lead_time_days IS 'resolved_at - created_at, in days.';
COMMENT ON COLUMN metric_flow_items.flow_time_days IS 'resolved_at - started_at, in days; NULL if it never entered an active status.';
COMMENT ON COLUMN metric_flow_items.active_days IS 'Days spent in active statuses between started_at and resolved_at.';
COMMENT ON COLUMN metric_flow_items.flow_efficiency IS 'active_days / flow_time_days (0 to 1).';

CREATE VIEW metric_pr_items AS
WITH pr AS (
    SELECT w.item_id, w.key, w.container, w.category, w.created_at AS opened_at, w.merged_at,
           coalesce(w.author_id, w.author_account) AS author, t.team,
           coalesce((w.fields ->> 'draft')::BOOLEAN, false) AS draft_now
    FROM work_items AS w
    LEFT JOIN metric_item_team AS t USING (item_id)
    WHERE w.kind = 'pr'
),
ready AS (  -- ready for review: the first ready_for_review event, else opened unless it is
    -- a draft still (a draft PR cannot be merged, so a merged one without the event was ready)
    SELECT pr.item_id,
           coalesce(min(e.occurred_at) FILTER (WHERE e.kind = 'pr_ready'),
                    CASE WHEN NOT pr.draft_now OR pr.merged_at IS NOT NULL THEN pr.opened_at END)
               AS ready_at
    FROM pr LEFT JOIN metric_event_base AS e USING (item_id)
    GROUP BY pr.item_id, pr.draft_now, pr.merged_at, pr.opened_at
),
acts AS (  -- a comment or review on a draft is no pickup: responses count from ready_at on
    SELECT e.item_id,
           min(e.occurred_at) FILTER (WHERE e.kind = 'commit') AS first_commit_at,
           min(e.occurred_at) FILTER (
               WHERE e.kind IN ('pr_review', 'pr_comment', 'issue_comment') AND NOT e.is_bot
                 AND coalesce(e.person_id, e.actor_account) IS DISTINCT FROM pr.author
                 AND e.occurred_at >= r.ready_at
           ) AS first_response_at,
           min(e.occurred_at) FILTER (
               WHERE e.kind = 'pr_review' AND NOT e.is_bot
                 AND coalesce(e.person_id, e.actor_account) IS DISTINCT FROM pr.author
           ) AS first_review_at
    FROM metric_event_base AS e
    JOIN pr USING (item_id)
    JOIN ready AS r USING (item_id)
    GROUP BY e.item_id
),
releases AS (
    SELECT coalesce(detail ->> 'repo', detail ->> 'repository') AS container, occurred_at AS at
    FROM events
    WHERE kind = 'release'
),
joined AS (
    SELECT pr.*, a.first_commit_at, r.ready_at, a.first_response_at, a.first_review_at
    FROM pr LEFT JOIN acts AS a USING (item_id) LEFT JOIN ready AS r USING (item_id)
)
SELECT j.item_id, j.key, j.container, j.category, j.team, j.opened_at, j.first_commit_at,
       j.ready_at, j.first_response_at, j.first_review_at, j.merged_at,
       CASE WHEN j.merged_at IS NOT NULL THEN r.at END AS released_at,
       timezone('UTC', j.merged_at)::DATE AS merged_day,
       date_trunc('week', timezone('UTC', j.merged_at))::DATE AS merged_week,
       date_trunc('month', timezone('UTC', j.merged_at))::DATE AS merged_month,
       -- greatest() skips NULLs, so each difference is tested for NULL first
       CASE WHEN j.first_commit_at IS NOT NULL
            THEN greatest(0, epoch(j.opened_at) - epoch(j.first_commit_at)) / 3600.0
       END AS coding_hours,
       CASE WHEN j.first_response_at IS NOT NULL
            THEN greatest(0, epoch(j.first_response_at) - epoch(j.ready_at)) / 3600.0
       END AS pickup_hours,
       CASE WHEN j.first_review_at IS NOT NULL AND j.merged_at IS NOT NULL
            THEN greatest(0, epoch(j.merged_at) - epoch(j.first_review_at)) / 3600.0
       END AS review_hours,
       CASE WHEN j.merged_at IS NOT NULL
            THEN (epoch(r.at) - epoch(j.merged_at)) / 3600.0 END AS deploy_hours,
       (epoch(j.merged_at) - epoch(j.opened_at)) / 3600.0 AS cycle_hours,
       CASE WHEN j.merged_at IS NOT NULL
            THEN j.first_review_at IS NULL OR j.first_review_at > j.merged_at END AS self_merged
FROM joined AS j
ASOF LEFT JOIN releases AS r ON r.container = j.container AND r.at >= j.merged_at;
COMMENT ON VIEW metric_pr_items IS 'PR cycle time per pull request: coding = opened - first commit; pickup = first non-author, non-bot review or comment once ready for review - ready for review (the ready_for_review event, else opened unless still a draft); review = merged - first such review; deploy = next release of the repository - merged.';
COMMENT ON COLUMN metric_pr_items.item_id IS 'The pull request (work_items.item_id).';
COMMENT ON COLUMN metric_pr_items.key IS 'owner/repo#number.';
COMMENT ON COLUMN metric_pr_items.container IS 'Repository.';
COMMENT ON COLUMN metric_pr_items.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN metric_pr_items.team IS 'Team the PR counts toward (metric_item_team: its assignee''s, else its author''s).';
COMMENT ON COLUMN metric_pr_items.opened_at IS 'When it was opened.';
COMMENT ON COLUMN metric_pr_items.first_commit_at IS 'Its first commit.';
COMMENT ON COLUMN metric_pr_items.ready_at IS 'When it was marked ready for review: the first ready_for_review event, else opened_at; NULL for a draft not yet ready.';
COMMENT ON COLUMN metric_pr_items.first_response_at IS 'First review or comment by a human other than the author at or after ready_at (comments on a draft do not count).';
COMMENT ON COLUMN metric_pr_items.first_review_at IS 'First review by a human other than the author.';
COMMENT ON COLUMN metric_pr_items.merged_at IS 'When it was merged; NULL if not merged.';
COMMENT ON COLUMN metric_pr_items.released_at IS 'The first release of its repository at or after the merge.';
COMMENT ON COLUMN metric_pr_items.merged_day IS 'UTC day of merged_at.';
COMMENT ON COLUMN metric_pr_items.merged_week IS 'Monday of the UTC week of merged_at.';
COMMENT ON COLUMN metric_pr_items.merged_month IS 'First day of the UTC month of merged_at.';
COMMENT ON COLUMN metric_pr_items.coding_hours IS 'opened_at - first_commit_at, hours (0 if the first commit came later).';
COMMENT ON COLUMN metric_pr_items.pickup_hours IS 'first_response_at - ready_at, hours.';
COMMENT ON COLUMN metric_pr_items.review_hours IS 'merged_at - first_review_at, hours.';
COMMENT ON COLUMN metric_pr_items.deploy_hours IS 'released_at - merged_at, hours; NULL where no release followed.';
COMMENT ON COLUMN metric_pr_items.cycle_hours IS 'merged_at - opened_at, hours.';
COMMENT ON COLUMN metric_pr_items.self_merged IS 'True when merged with no review by another human before the merge.';
