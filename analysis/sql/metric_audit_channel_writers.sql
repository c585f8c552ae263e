-- Who writes where, for the audit (docs/metrics.md section 5, dead-weight channels): per Slack channel,
-- month and author, how many messages. The audit picks the channels a team wrote in and counts
-- the distinct people writing there over its whole period, which no per-month count can give.
CREATE OR REPLACE VIEW metric_audit_channel_writers AS
SELECT channel_id, month, person_id, team, is_bot, count(*) AS messages
FROM metric_event_base
WHERE source = 'slack' AND channel_id IS NOT NULL
GROUP BY ALL;
COMMENT ON VIEW metric_audit_channel_writers IS 'Slack messages per channel, month and author, with the author''s team (docs/metrics.md section 5, audit: which channels a team writes in, and how many people write there).';
COMMENT ON COLUMN metric_audit_channel_writers.channel_id IS 'Slack channel (channels.channel_id).';
COMMENT ON COLUMN metric_audit_channel_writers.month IS 'First day of the UTC month.';
COMMENT ON COLUMN metric_audit_channel_writers.person_id IS 'Author; NULL for accounts not tied to a person.';
COMMENT ON COLUMN metric_audit_channel_writers.team IS 'Author''s team that month; NULL for unmatched accounts and people in no team.';
COMMENT ON COLUMN metric_audit_channel_writers.is_bot IS 'True when the author is a bot.';
COMMENT ON COLUMN metric_audit_channel_writers.messages IS 'Slack events by that author in the channel that month.';
