-- Channel noise for the audit (docs/metrics.md section 5, dead-weight channels): per Slack channel and
-- month, the messages people wrote and the reminders and bot posts around them. A channel where
-- reminders and bots make half the traffic, or people write less than once a week, costs its
-- members attention without carrying work: a candidate to close before a new tool adds more.
CREATE OR REPLACE VIEW metric_audit_channel_noise AS
SELECT m.channel_id, m.month, any_value(c.name) AS name, any_value(c.category) AS category,
       count(*) AS messages,
       count(*) FILTER (WHERE NOT m.is_bot AND m.subkind IS DISTINCT FROM 'reminder')
           AS human_messages,
       count(*) FILTER (WHERE m.is_bot OR m.subkind = 'reminder') AS reminders_and_bots,
       count(*) FILTER (WHERE m.is_bot OR m.subkind = 'reminder') / count(*) AS noise_share
FROM metric_event_base AS m
JOIN channels AS c USING (channel_id)
WHERE m.source = 'slack' AND m.channel_id IS NOT NULL
GROUP BY m.channel_id, m.month;
COMMENT ON VIEW metric_audit_channel_noise IS 'Slack traffic per channel and month: human messages beside reminders and bot posts (docs/metrics.md section 5, audit: dead-weight channels).';
COMMENT ON COLUMN metric_audit_channel_noise.channel_id IS 'Slack channel (channels.channel_id).';
COMMENT ON COLUMN metric_audit_channel_noise.month IS 'First day of the UTC month.';
COMMENT ON COLUMN metric_audit_channel_noise.name IS 'Channel name, without the #.';
COMMENT ON COLUMN metric_audit_channel_noise.category IS 'Channel category from the classification rules; NULL when unclassified.';
COMMENT ON COLUMN metric_audit_channel_noise.messages IS 'Every Slack event in the channel that month, by anyone (people, bots, unmatched accounts).';
COMMENT ON COLUMN metric_audit_channel_noise.human_messages IS 'Of those, by people (not bots) and not reminders.';
COMMENT ON COLUMN metric_audit_channel_noise.reminders_and_bots IS 'Of those, reminders or posts by bots.';
COMMENT ON COLUMN metric_audit_channel_noise.noise_share IS 'reminders_and_bots / messages.';
