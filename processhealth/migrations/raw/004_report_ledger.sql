-- What a past month's report counted when it was first written, so a later regeneration can name
-- the data about that month that arrived (or went) since (reports/late.py). Counts per team only.

CREATE TABLE state_report_ledger(
    month DATE NOT NULL,
    team VARCHAR NOT NULL,
    first_written_at TIMESTAMPTZ NOT NULL,
    events BIGINT NOT NULL,
    items BIGINT NOT NULL,
    PRIMARY KEY (month, team)
);
COMMENT ON TABLE state_report_ledger IS 'Per team, what the first report written for a month that was over counted of that month; never overwritten, so later reports can name the data about the month that arrived late or went away. Counts only: nothing about a person.';
COMMENT ON COLUMN state_report_ledger.month IS 'The report''s month (its first day).';
COMMENT ON COLUMN state_report_ledger.team IS 'Team (the report''s teams).';
COMMENT ON COLUMN state_report_ledger.first_written_at IS 'When the first report for the month and team was written (UTC).';
COMMENT ON COLUMN state_report_ledger.events IS 'Events dated in the month by the team''s people (metric_event_team) when the report was first written.';
COMMENT ON COLUMN state_report_ledger.items IS 'Work items resolved or merged in the month that counted toward the team (metric_item_team) when the report was first written.';
