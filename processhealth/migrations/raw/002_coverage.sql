-- What a collection could not read: an entity the server does not have or the token cannot see.

CREATE TABLE sync_coverage(
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    detail VARCHAR,
    noted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, entity, scope)
);
COMMENT ON TABLE sync_coverage IS 'Entities the last collection of each source skipped: the server lacks them (404, 410), refused them (403) or they are switched off in the config. Rewritten per source at every collect.';
COMMENT ON COLUMN sync_coverage.source IS 'Source: github, jira or slack.';
COMMENT ON COLUMN sync_coverage.entity IS 'Entity skipped, e.g. sprints, issues, issue_comments.';
COMMENT ON COLUMN sync_coverage.scope IS 'Repository, Jira site or project, or channel it was skipped for.';
COMMENT ON COLUMN sync_coverage.status IS 'missing (404), gone (410), forbidden (403) or off (switched off in the config).';
COMMENT ON COLUMN sync_coverage.detail IS 'What the server said, or the config switch.';
COMMENT ON COLUMN sync_coverage.noted_at IS 'When the collection skipped it (UTC).';
