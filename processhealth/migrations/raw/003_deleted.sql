-- Items a full collection no longer found upstream: kept in the raw tables, left out of analytics.

CREATE TABLE sync_deleted(
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    natural_key VARCHAR NOT NULL,
    scope VARCHAR,
    noted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, entity, natural_key)
);
COMMENT ON TABLE sync_deleted IS 'Raw rows whose item a full collection (`collect --full`) no longer found upstream (deleted, or moved out of the project): the build leaves them out. A row is removed when its item is seen again.';
COMMENT ON COLUMN sync_deleted.source IS 'Source: github, jira or slack.';
COMMENT ON COLUMN sync_deleted.entity IS 'Entity, e.g. issues, messages (the raw table raw_<source>_<entity>).';
COMMENT ON COLUMN sync_deleted.natural_key IS 'The raw row''s natural_key.';
COMMENT ON COLUMN sync_deleted.scope IS 'Repository, project or channel whose full collection missed it.';
COMMENT ON COLUMN sync_deleted.noted_at IS 'When the full collection missed it (UTC).';
