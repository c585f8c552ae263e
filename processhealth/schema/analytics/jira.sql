-- Jira-only tables filled by collectors/sql/20_jira.sql: the status mapping, sprints, and the
-- per-item field values that the field fill rate (docs/metrics.md section 5) counts.

CREATE TABLE jira_statuses(
    status_id VARCHAR,
    name VARCHAR NOT NULL,
    jira_category VARCHAR,
    status_category VARCHAR,
    mapped_by VARCHAR
);
COMMENT ON TABLE jira_statuses IS 'Every Jira status seen (status list, current statuses, changelogs) and how it maps to todo, active, waiting or done.';
COMMENT ON COLUMN jira_statuses.status_id IS 'Jira status id (NULL for a name only seen in a changelog).';
COMMENT ON COLUMN jira_statuses.name IS 'Status name.';
COMMENT ON COLUMN jira_statuses.jira_category IS 'Jira''s own status category key: new, indeterminate or done (NULL if unknown).';
COMMENT ON COLUMN jira_statuses.status_category IS 'The mapping used everywhere: todo, active, waiting or done.';
COMMENT ON COLUMN jira_statuses.mapped_by IS 'Why: status_map (config), waiting_pattern (jira.waiting_patterns on an in-progress status), jira_category, or status_name (a status only changelogs name, without a category: Jira''s default names such as Done, Closed, To Do, Backlog; any other such status is active).';

CREATE TABLE jira_sprints(
    sprint_id VARCHAR PRIMARY KEY,
    board_id VARCHAR,
    project VARCHAR,
    name VARCHAR,
    state VARCHAR,
    start_at TIMESTAMPTZ,
    end_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ
);
COMMENT ON TABLE jira_sprints IS 'Sprints of the boards of the collected Jira projects.';
COMMENT ON COLUMN jira_sprints.sprint_id IS 'Jira sprint id.';
COMMENT ON COLUMN jira_sprints.board_id IS 'Board the sprint belongs to.';
COMMENT ON COLUMN jira_sprints.project IS 'Project key of that board.';
COMMENT ON COLUMN jira_sprints.name IS 'Sprint name.';
COMMENT ON COLUMN jira_sprints.state IS 'future, active or closed.';
COMMENT ON COLUMN jira_sprints.start_at IS 'Planned start.';
COMMENT ON COLUMN jira_sprints.end_at IS 'Planned end.';
COMMENT ON COLUMN jira_sprints.completed_at IS 'When the sprint was closed (NULL while open).';

-- (item_id, field_id) is unique, but not a PRIMARY KEY: as for events.event_id, the key's index
-- cost most of writing the rows (10M events: 3.5M rows, 7.2 s with it); the build checks
-- uniqueness once, after normalization (pipeline.unique_keys).
CREATE TABLE item_fields(
    item_id VARCHAR NOT NULL,
    field_id VARCHAR NOT NULL,
    field_name VARCHAR,
    logical_name VARCHAR,
    custom BOOLEAN,
    has_value BOOLEAN NOT NULL
);
COMMENT ON TABLE item_fields IS 'Whether each Jira issue has a value in each custom field (and a few optional system fields): the field fill rate''s base, one row per (item_id, field_id) (checked by the build; no index). Edits per field are jira_field_edit events (events.field_id).';
COMMENT ON COLUMN item_fields.item_id IS 'Work item (work_items.item_id).';
COMMENT ON COLUMN item_fields.field_id IS 'Jira field id, e.g. customfield_10016 or priority.';
COMMENT ON COLUMN item_fields.field_name IS 'Field name as Jira shows it, e.g. Story Points.';
COMMENT ON COLUMN item_fields.logical_name IS 'Name given in jira.custom_fields (e.g. story_points), when configured.';
COMMENT ON COLUMN item_fields.custom IS 'True for custom fields.';
COMMENT ON COLUMN item_fields.has_value IS 'True when the issue currently has a non-empty value.';
