-- When each source was last collected whole: the build marks the months that were over by then
-- (health_verdicts.month_complete), so a month a cron run caught a few hours of is not read as
-- a month like the others.

CREATE TABLE sync_runs(
    source VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    full_pass BOOLEAN NOT NULL
);
COMMENT ON TABLE sync_runs IS 'One row per `collect` of a source that finished without error (warnings included): everything the source held when the run started was then read. Imports and failed runs add none.';
COMMENT ON COLUMN sync_runs.source IS 'Source: github, jira or slack.';
COMMENT ON COLUMN sync_runs.started_at IS 'When the run started (UTC): the source is observed up to here.';
COMMENT ON COLUMN sync_runs.finished_at IS 'When it finished.';
COMMENT ON COLUMN sync_runs.full_pass IS 'True for `collect --full`.';
