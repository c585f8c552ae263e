-- The domain model: the documented contract ops leads query (see docs/metrics.md, docs/schema.md).
-- Accounts are written "<source>:<source_user_id>", e.g. github:583231, jira:5b10ac8d, slack:U024BE7LH.

CREATE TABLE people(
    person_id VARCHAR PRIMARY KEY,
    display_name VARCHAR,
    email VARCHAR,
    team VARCHAR,
    is_bot BOOLEAN NOT NULL DEFAULT false
);
COMMENT ON TABLE people IS 'One row per human or bot across all tools, after identity resolution.';
COMMENT ON COLUMN people.person_id IS 'Stable person identifier (a pseudonym when privacy.pseudonymize is on).';
COMMENT ON COLUMN people.display_name IS 'Name shown in reports (a pseudonym when privacy.pseudonymize is on).';
COMMENT ON COLUMN people.email IS 'Primary email address, when known.';
COMMENT ON COLUMN people.team IS 'Team of the person''s latest month (person_months); for a listed member with no activity yet, the first team listing them; `(unassigned)` when their activity falls in no team''s scope; NULL for bots and for people with neither activity nor a listing.';
COMMENT ON COLUMN people.is_bot IS 'True for bots and integrations; bots are excluded from effort.';

CREATE TABLE identities(
    source VARCHAR NOT NULL,
    source_user_id VARCHAR NOT NULL,
    login VARCHAR,
    email VARCHAR,
    display_name VARCHAR,
    is_bot BOOLEAN NOT NULL DEFAULT false,
    person_id VARCHAR,
    matched_by VARCHAR,
    PRIMARY KEY (source, source_user_id)
);
COMMENT ON TABLE identities IS 'Every tool account and the person it was tied to, with how the match was made.';
COMMENT ON COLUMN identities.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN identities.source_user_id IS 'The account id within the tool (GitHub user id, Jira accountId or key, Slack user id).';
COMMENT ON COLUMN identities.login IS 'Login or handle in the tool.';
COMMENT ON COLUMN identities.email IS 'Email address the tool reports for the account, when visible.';
COMMENT ON COLUMN identities.display_name IS 'Display name in the tool.';
COMMENT ON COLUMN identities.is_bot IS 'True when the tool marks the account as a bot or app.';
COMMENT ON COLUMN identities.person_id IS 'The person (people.person_id) this account belongs to; NULL if unmatched.';
COMMENT ON COLUMN identities.matched_by IS 'How it was matched (docs/metrics.md section 0): csv, config (explicit mapping), email, name, login, nickname, bot (a non-human), deleted (GitHub''s deleted user), or unmatched.';

CREATE TABLE teams(
    team VARCHAR PRIMARY KEY,
    member_count INTEGER,
    source VARCHAR
);
COMMENT ON TABLE teams IS 'Teams, from config [[teams]] and optionally GitHub teams or Slack user groups.';
COMMENT ON COLUMN teams.team IS 'Team name, unique.';
COMMENT ON COLUMN teams.member_count IS 'People whose team this is (people.team), whether or not active lately (a bot a team config lists counts too); the headcount behind figures is the active people of a month (person_months.active, metric_team_months.people_count).';
COMMENT ON COLUMN teams.source IS 'Where membership came from: config, github_team or slack_usergroup.';

CREATE TABLE person_months(
    person_id VARCHAR NOT NULL,
    month DATE NOT NULL,
    team VARCHAR,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (person_id, month)
);
COMMENT ON TABLE person_months IS 'Which team each person belonged to in each month and whether they were active (the FTE base).';
COMMENT ON COLUMN person_months.person_id IS 'The person (people.person_id).';
COMMENT ON COLUMN person_months.month IS 'First day of the month.';
COMMENT ON COLUMN person_months.team IS 'Team in that month.';
COMMENT ON COLUMN person_months.active IS 'True when the person had any observed activity that month; each active person-month counts as 1 FTE.';

CREATE TABLE work_items(
    item_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    key VARCHAR,
    title VARCHAR,
    url VARCHAR,
    container VARCHAR,
    type VARCHAR,
    labels VARCHAR[],
    components VARCHAR[],
    status VARCHAR,
    status_category VARCHAR,
    created_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    merged_at TIMESTAMPTZ,
    resolution VARCHAR,
    author_account VARCHAR,
    assignee_account VARCHAR,
    author_id VARCHAR,
    assignee_id VARCHAR,
    parent_key VARCHAR,
    linked_keys VARCHAR[],
    fields JSON,
    category VARCHAR,
    category_rule VARCHAR,
    has_hypothesis BOOLEAN DEFAULT false,
    has_success_criteria BOOLEAN DEFAULT false,
    has_result BOOLEAN DEFAULT false
);
COMMENT ON TABLE work_items IS 'Jira issues, GitHub issues and pull requests: the units of work events attach to.';
COMMENT ON COLUMN work_items.item_id IS 'Unique id: "jira:<KEY>" for Jira issues (jira:PAY-12), "github:<owner>/<repo>#<number>" for GitHub issues and pull requests (github:acme/api#7).';
COMMENT ON COLUMN work_items.source IS 'Tool. One of: `github`, `jira`.';
COMMENT ON COLUMN work_items.kind IS 'One of: `issue` (GitHub issue), `pr` (GitHub pull request), `jira_issue`.';
COMMENT ON COLUMN work_items.key IS 'Human key: PAY-12 (Jira), acme/api#7 (GitHub).';
COMMENT ON COLUMN work_items.title IS 'Summary or title.';
COMMENT ON COLUMN work_items.url IS 'Link to the item in its tool.';
COMMENT ON COLUMN work_items.container IS 'Jira project key or GitHub owner/repository (a renamed repository''s latest name, repo_names).';
COMMENT ON COLUMN work_items.type IS 'Jira issue type (Story, Bug, Task, ...); NULL for GitHub items.';
COMMENT ON COLUMN work_items.labels IS 'Labels.';
COMMENT ON COLUMN work_items.components IS 'Jira components.';
COMMENT ON COLUMN work_items.status IS 'Current status name (Jira status; open, closed or merged on GitHub).';
COMMENT ON COLUMN work_items.status_category IS 'Current status mapped to a category. One of: `todo`, `active`, `waiting`, `done`.';
COMMENT ON COLUMN work_items.created_at IS 'When the item was created.';
COMMENT ON COLUMN work_items.started_at IS 'When work started (flow time starts here): for a Jira issue its first entry into an active status, for a pull request the earlier of opened and its first commit; NULL for GitHub issues and Jira issues never active.';
COMMENT ON COLUMN work_items.resolved_at IS 'When the item last reached done (resolved, closed or merged); NULL if open.';
COMMENT ON COLUMN work_items.merged_at IS 'When a pull request was merged; NULL otherwise.';
COMMENT ON COLUMN work_items.resolution IS 'How it was closed: the Jira resolution name (Done, Won''t Do, Duplicate, ...) or the GitHub issue state_reason (completed, not_planned, duplicate); NULL when open or not given. Closed as not done (Won''t Do, Won''t Fix, Duplicate, Cannot Reproduce, not_planned, duplicate) is not delivered (docs/metrics.md section 4).';
COMMENT ON COLUMN work_items.author_account IS 'Creator account, "<source>:<source_user_id>".';
COMMENT ON COLUMN work_items.assignee_account IS 'Assignee account, "<source>:<source_user_id>".';
COMMENT ON COLUMN work_items.author_id IS 'Creator person (people.person_id).';
COMMENT ON COLUMN work_items.assignee_id IS 'Assignee person (people.person_id).';
COMMENT ON COLUMN work_items.parent_key IS 'Parent or epic key (Jira).';
COMMENT ON COLUMN work_items.linked_keys IS 'Jira keys referenced by the item: PR title, branch and commit messages, or Jira issue links.';
COMMENT ON COLUMN work_items.fields IS 'Other fields as JSON (story points, sprint, custom fields by logical name), each value in plain form: an option, user or object as its name, a list as a list of names, a cascading select as "Parent - Child" (the parent alone when no child is chosen), a Data Center sprint string as the sprint name.';
COMMENT ON COLUMN work_items.category IS 'One of: `customer`, `enabling`, `process`, `unclassified`.';
COMMENT ON COLUMN work_items.category_rule IS 'Which classification rule set the category (explains every figure).';
COMMENT ON COLUMN work_items.has_hypothesis IS 'A declared experiment''s hypothesis: a filled Jira field named in [declared_experiments] hypothesis_fields, or hypothesis_patterns in the description, a text field or a GitHub body (flags set at ingest; no words stored).';
COMMENT ON COLUMN work_items.has_success_criteria IS 'Success criteria declared: a filled Jira field named in success_criteria_fields, or success_criteria_patterns in its text.';
COMMENT ON COLUMN work_items.has_result IS 'A result written on the item: result_patterns in its text or in any of its comments.';

-- event_seq: a compact integer key for the build's joins. Hand-written rows draw one from the
-- sequence; a build's normalization writes 0 (analysis/classify.py defer_event_seq) and its
-- classification step numbers all events in time order (ties in event_id order).
CREATE SEQUENCE event_seq;
-- event_id is unique, but not a PRIMARY KEY: the key's index cost more than half of writing
-- the events (10M: 29.8 s with it, 12.2 s without) and memory the build then lacked; the build
-- checks uniqueness once, after normalization (pipeline.unique_keys).
CREATE TABLE events(
    event_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_account VARCHAR,
    person_id VARCHAR,
    item_id VARCHAR,
    channel_id VARCHAR,
    kind VARCHAR NOT NULL,
    subkind VARCHAR,
    category VARCHAR,
    category_rule VARCHAR,
    weight DOUBLE DEFAULT 1,
    detail JSON,
    event_seq BIGINT NOT NULL DEFAULT nextval('event_seq'),
    repo VARCHAR,
    history_id VARCHAR,
    linked_keys VARCHAR[],
    shadow_tool VARCHAR,
    field VARCHAR,
    field_id VARCHAR,
    field_name VARCHAR
);
COMMENT ON TABLE events IS 'Every atomic act in every tool: commits, PR reviews, Jira transitions and edits, Slack messages, ...';
COMMENT ON COLUMN events.event_id IS 'Unique, stable id "<source>:<entity>:<id>", e.g. github:review:800727, jira:changelog:100009:1, slack:message:C0001ACME/1762159332.000059.';
COMMENT ON COLUMN events.source IS 'Tool. One of: `github`, `jira`, `slack`.';
COMMENT ON COLUMN events.occurred_at IS 'When the act happened.';
COMMENT ON COLUMN events.actor_account IS 'Acting account, "<source>:<source_user_id>".';
COMMENT ON COLUMN events.person_id IS 'Acting person (people.person_id); an account matched to nobody is a person of its own.';
COMMENT ON COLUMN events.item_id IS 'Work item acted on (work_items.item_id), if any.';
COMMENT ON COLUMN events.channel_id IS 'Slack channel (channels.channel_id), for Slack events.';
COMMENT ON COLUMN events.kind IS 'commit, pr_opened, pr_review, pr_comment, pr_merged, pr_ready, issue_opened, issue_comment, jira_created, jira_transition, jira_field_edit, jira_comment, jira_worklog, slack_message, slack_reply, release, ...';
COMMENT ON COLUMN events.subkind IS 'What a process event is, or a message or comment linking a shadow tool. One of: `status_change` (Jira transition), `metadata_edit` (Jira field edit other than summary and description), `timesheet` (Jira worklog), `reminder` (Slack reminder, status request or Slackbot post; a Jira or GitHub comment that is a reminder or status request), `shadow_tool`; NULL for every other event.';
COMMENT ON COLUMN events.category IS 'One of: `customer`, `enabling`, `process`, `unclassified`.';
COMMENT ON COLUMN events.category_rule IS 'Which rule set the category: an event-level rule or inherited from the item, channel or repository.';
COMMENT ON COLUMN events.weight IS 'Effort weight: 1, or 0 for a Jira echo or system entry (detail.echo names the rule; docs/metrics.md section 2), which is kept as a fact but credited no effort.';
COMMENT ON COLUMN events.detail IS 'Derived features as JSON (length, link domains, mentions, field name, from/to values); message text only if privacy.store_message_text. The facts the metrics read most are also typed columns (repo, history_id, linked_keys, shadow_tool, field, field_id, field_name), with the same values.';
COMMENT ON COLUMN events.event_seq IS 'A number unique to the event within this database, for joins cheaper than on event_id: the UTC second of occurred_at (seconds since 1970) x 1,000,000, plus the event''s place among the events of that second (from 0; in time order, ties by event_id). So the numbers follow time order, a build of the same data gives the same numbers, and an event added later (one that arrives late for its time, a new month) changes only the numbers of the events of its own second; every number is below 2^53, exact where numbers are read as doubles (JavaScript, JSON). A database with an event outside the years 1685-2255, or with 1,000,000 events in one second, is numbered 1..n in the same order instead. Keep event_id for references.';
COMMENT ON COLUMN events.repo IS 'GitHub repository (owner/name) of a GitHub event, a renamed one''s latest name (repo_names); detail.repo.';
COMMENT ON COLUMN events.history_id IS 'Jira changelog history (one screen save) of a jira_transition or jira_field_edit; detail.history_id.';
COMMENT ON COLUMN events.linked_keys IS 'Jira keys the event itself names (a pull request''s title or branch, a commit message, a Slack message); detail.linked_keys. NULL when the event carries none.';
COMMENT ON COLUMN events.field IS 'Field a jira_field_edit changed, as the changelog names it (e.g. assignee, Sprint, a custom field''s name); detail.field. NULL for other events.';
COMMENT ON COLUMN events.field_id IS 'Id of the field a jira_field_edit changed (e.g. assignee, customfield_10020), from the changelog or the site''s field list; detail.field_id. NULL for other events.';
COMMENT ON COLUMN events.field_name IS 'Name of the field a jira_field_edit changed, from the site''s field list, else as the changelog names it; detail.field_name. NULL for other events.';
COMMENT ON COLUMN events.shadow_tool IS 'Shadow tool a message or comment links (a domain or file extension of [slack] shadow_tool_domains / shadow_tool_extensions), as text; detail.shadow_tool.';

CREATE TABLE transitions(
    item_id VARCHAR NOT NULL,
    "at" TIMESTAMPTZ NOT NULL,
    actor_account VARCHAR,
    person_id VARCHAR,
    from_status VARCHAR,
    to_status VARCHAR,
    from_status_category VARCHAR,
    to_status_category VARCHAR
);
COMMENT ON TABLE transitions IS 'Status history of work items, each status mapped to todo, active, waiting or done.';
COMMENT ON COLUMN transitions.item_id IS 'Work item (work_items.item_id).';
COMMENT ON COLUMN transitions."at" IS 'When the status changed. AT is an SQL keyword: write "at" in double quotes.';
COMMENT ON COLUMN transitions.actor_account IS 'Account that moved it, "<source>:<source_user_id>".';
COMMENT ON COLUMN transitions.person_id IS 'Person that moved it (people.person_id).';
COMMENT ON COLUMN transitions.from_status IS 'Status before the move, as the changelog names it (only moves are rows: the status an item was created in has no row of its own).';
COMMENT ON COLUMN transitions.to_status IS 'Status after.';
COMMENT ON COLUMN transitions.from_status_category IS 'from_status mapped to a category. One of: `todo`, `active`, `waiting`, `done`.';
COMMENT ON COLUMN transitions.to_status_category IS 'to_status mapped to a category. One of: `todo`, `active`, `waiting`, `done`.';

CREATE TABLE channels(
    channel_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    is_private BOOLEAN,
    purpose VARCHAR,
    member_count INTEGER,
    category VARCHAR,
    category_rule VARCHAR
);
COMMENT ON TABLE channels IS 'Slack channels that were read, with their category.';
COMMENT ON COLUMN channels.channel_id IS 'Slack channel id.';
COMMENT ON COLUMN channels.name IS 'Channel name without #; a group DM is named group-dm-<id> (its Slack name lists its members), a direct message by its id.';
COMMENT ON COLUMN channels.is_private IS 'True for private channels (read only when listed in config).';
COMMENT ON COLUMN channels.purpose IS 'Channel purpose text; NULL for a group DM (Slack writes its members into it).';
COMMENT ON COLUMN channels.member_count IS 'Number of members when collected.';
COMMENT ON COLUMN channels.category IS 'customer, enabling, process or unclassified; messages inherit it.';
COMMENT ON COLUMN channels.category_rule IS 'Which classification rule or channel pattern set the category.';

CREATE TABLE repo_names(
    name VARCHAR PRIMARY KEY,
    repo VARCHAR NOT NULL
);
COMMENT ON TABLE repo_names IS 'Each name [github] org listed a GitHub repository under, and the name its rows carry. A repository renamed or transferred within the organization keeps its id and is listed under its new name: all its names are read as the one listed last, and an item or commit read under two names is one (collectors/sql/10_github.sql). Empty without [github] org.';
COMMENT ON COLUMN repo_names.name IS 'A name (owner/name) the organization listed the repository under, its current one included.';
COMMENT ON COLUMN repo_names.repo IS 'The repository as work_items.container and events.repo name it: the name listed last.';

-- The effort model's output is stored narrow, by integer keys (at 10M events writing the event,
-- person and session ids beside every credit took 8.2-8.7 s, these two tables 2.5-2.9 s):
-- effort_credit, one row per credited event, and effort_sessions, one row per work session.
-- `effort` is the view that names them.
CREATE TABLE effort_sessions(
    session_no BIGINT NOT NULL,
    person_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL
);
COMMENT ON TABLE effort_sessions IS 'Work sessions of the effort model (docs/metrics.md section 2): one row per session.';
COMMENT ON COLUMN effort_sessions.session_no IS 'The session (a join key within this database: the event_seq of its first act''s first event).';
COMMENT ON COLUMN effort_sessions.person_id IS 'Person whose session it is (people.person_id).';
COMMENT ON COLUMN effort_sessions.session_id IS 'Its name: the person and the session''s first timestamp, "<person_id>@<UTC time>".';

CREATE TABLE effort_credit(
    event_seq BIGINT NOT NULL,
    session_no BIGINT NOT NULL,
    minutes DOUBLE NOT NULL
);
COMMENT ON TABLE effort_credit IS 'Minutes the effort model credited to each human event, one row per event (docs/metrics.md section 2); `effort` names the event, person and session.';
COMMENT ON COLUMN effort_credit.event_seq IS 'The event (events.event_seq).';
COMMENT ON COLUMN effort_credit.session_no IS 'Its work session (effort_sessions.session_no).';
COMMENT ON COLUMN effort_credit.minutes IS 'Minutes credited, after per-kind caps and the daily cap.';

CREATE VIEW effort AS
SELECT s.person_id, e.event_id, s.session_id, c.minutes, c.event_seq
FROM effort_credit AS c
JOIN events AS e USING (event_seq)
JOIN effort_sessions AS s USING (session_no);
COMMENT ON VIEW effort IS 'The effort model''s attribution: minutes credited to each human event, one row per event (docs/metrics.md section 2). A view of effort_credit with the event''s and the session''s names.';
COMMENT ON COLUMN effort.person_id IS 'Person credited (people.person_id).';
COMMENT ON COLUMN effort.event_id IS 'Event credited (events.event_id).';
COMMENT ON COLUMN effort.session_id IS 'Work session the event belongs to (a gap over effort.session_gap_minutes starts a new one).';
COMMENT ON COLUMN effort.minutes IS 'Minutes credited, after per-kind caps and the daily cap.';
COMMENT ON COLUMN effort.event_seq IS 'The event''s events.event_seq (a join key within this database).';

CREATE TABLE process_changes(
    name VARCHAR PRIMARY KEY,
    tool VARCHAR,
    team VARCHAR,
    started_on DATE NOT NULL,
    scope JSON,
    created_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE process_changes IS 'Process changes under evaluation (copied from the raw store at build; edit with `processhealth experiment`).';
COMMENT ON COLUMN process_changes.name IS 'Unique name of the process change.';
COMMENT ON COLUMN process_changes.tool IS 'The tool introduced, if any.';
COMMENT ON COLUMN process_changes.team IS 'Team the change applies to (NULL = every team).';
COMMENT ON COLUMN process_changes.started_on IS 'Date the change started; before/after windows are measured from it.';
COMMENT ON COLUMN process_changes.scope IS 'The change''s footprint as a JSON object: Jira project, fields, statuses, Slack channels, labels.';
COMMENT ON COLUMN process_changes.created_at IS 'When the change was recorded (UTC).';

CREATE TABLE experiment_criteria(
    name VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    threshold DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    PRIMARY KEY (name, idx)
);
COMMENT ON TABLE experiment_criteria IS 'Measurable success criteria of each process change, e.g. overhead_ratio_change <= +3pp.';
COMMENT ON COLUMN experiment_criteria.name IS 'The process change (process_changes.name).';
COMMENT ON COLUMN experiment_criteria.idx IS 'Position of the criterion within its process change, from 1.';
COMMENT ON COLUMN experiment_criteria.metric IS 'Metric the criterion tests.';
COMMENT ON COLUMN experiment_criteria.op IS 'Comparison: <=, >=, < or >.';
COMMENT ON COLUMN experiment_criteria.threshold IS 'Threshold, in the unit given.';
COMMENT ON COLUMN experiment_criteria.unit IS 'pp (percentage points), % (relative change) or empty (the metric''s own unit).';
COMMENT ON COLUMN experiment_criteria.text IS 'The criterion as the user wrote it.';

CREATE TABLE source_coverage(
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    item VARCHAR,
    status VARCHAR NOT NULL,
    detail VARCHAR,
    noted_at TIMESTAMPTZ
);
COMMENT ON TABLE source_coverage IS 'What the figures lack: entities the last collection skipped (the server lacks them, refused them, or the config switched them off) and raw rows the build set aside because they could not be normalized. The report''s caveats list them.';
COMMENT ON COLUMN source_coverage.source IS 'Source: github, jira or slack.';
COMMENT ON COLUMN source_coverage.entity IS 'Entity, e.g. sprints, issues, issue_comments, messages.';
COMMENT ON COLUMN source_coverage.scope IS 'Repository, Jira site or project, or channel concerned.';
COMMENT ON COLUMN source_coverage.item IS 'The raw row''s natural key, for a quarantined row; NULL for a skipped entity.';
COMMENT ON COLUMN source_coverage.status IS 'missing (404), gone (410), forbidden (403), capped (the server lists only part of it: a pull request''s commits past GitHub''s 250), off (config) or quarantined (a raw row that could not be normalized).';
COMMENT ON COLUMN source_coverage.detail IS 'What the server said, the config switch, or why the row could not be normalized.';
COMMENT ON COLUMN source_coverage.noted_at IS 'When the collection skipped it (UTC); NULL for quarantined rows.';
