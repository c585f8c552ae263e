-- The raw store: checkpoints and state that must survive analytics rebuilds.
-- raw_<source>_<entity> tables are created on demand by processhealth.store.RawStore.

CREATE TABLE sync_state(
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    cursor VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, entity, scope)
);
COMMENT ON TABLE sync_state IS 'Incremental checkpoints: where the next collection of (source, entity, scope) resumes. Written in the same transaction as the rows it covers.';
COMMENT ON COLUMN sync_state.source IS 'Source: github, jira, slack, or an importer name.';
COMMENT ON COLUMN sync_state.entity IS 'Entity within the source, e.g. pulls, issues, messages.';
COMMENT ON COLUMN sync_state.scope IS 'What the checkpoint covers: a repository, Jira project or Slack channel.';
COMMENT ON COLUMN sync_state.cursor IS 'High-water mark (usually an ISO timestamp or an API cursor), opaque to the store.';
COMMENT ON COLUMN sync_state.updated_at IS 'When the checkpoint was last advanced (UTC).';

CREATE TABLE state_process_changes(
    name VARCHAR PRIMARY KEY,
    tool VARCHAR,
    team VARCHAR,
    started_on DATE NOT NULL,
    scope JSON,
    created_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE state_process_changes IS 'Process changes (new tools, new rules) under evaluation, entered with `processhealth experiment add`.';
COMMENT ON COLUMN state_process_changes.name IS 'Unique name of the process change.';
COMMENT ON COLUMN state_process_changes.tool IS 'The tool introduced, if any.';
COMMENT ON COLUMN state_process_changes.team IS 'Team the change applies to (NULL = every team).';
COMMENT ON COLUMN state_process_changes.started_on IS 'Date the change started; before/after windows are measured from it.';
COMMENT ON COLUMN state_process_changes.scope IS 'The change''s footprint as a JSON object: Jira project, fields, statuses, Slack channels, labels.';
COMMENT ON COLUMN state_process_changes.created_at IS 'When the change was recorded (UTC).';

CREATE TABLE state_experiment_criteria(
    name VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    threshold DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    PRIMARY KEY (name, idx)
);
COMMENT ON TABLE state_experiment_criteria IS 'Measurable success criteria of each process change, e.g. overhead_ratio_change <= +3pp.';
COMMENT ON COLUMN state_experiment_criteria.name IS 'The process change (state_process_changes.name).';
COMMENT ON COLUMN state_experiment_criteria.idx IS 'Position of the criterion within its process change, from 1.';
COMMENT ON COLUMN state_experiment_criteria.metric IS 'Metric the criterion tests.';
COMMENT ON COLUMN state_experiment_criteria.op IS 'Comparison: <=, >=, < or >.';
COMMENT ON COLUMN state_experiment_criteria.threshold IS 'Threshold, in the unit given.';
COMMENT ON COLUMN state_experiment_criteria.unit IS 'pp (percentage points), % (relative change) or empty (the metric''s own unit).';
COMMENT ON COLUMN state_experiment_criteria.text IS 'The criterion as the user wrote it.';
