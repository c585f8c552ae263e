-- Identity coverage, per tool: human accounts, and how many are tied to no person. An unmatched
-- account counts as a person of its own, so its activity may belong to no team: the share says
-- how much of the activity the team figures can miss.
CREATE OR REPLACE VIEW metric_coverage_identities AS
SELECT source, count(*) AS accounts,
       count(*) FILTER (WHERE matched_by = 'unmatched' OR person_id IS NULL) AS unmatched
FROM identities
WHERE NOT is_bot
GROUP BY source;
COMMENT ON VIEW metric_coverage_identities IS 'Per tool: human accounts and those tied to no person (the report''s coverage section).';
COMMENT ON COLUMN metric_coverage_identities.source IS 'Tool: github, jira or slack.';
COMMENT ON COLUMN metric_coverage_identities.accounts IS 'Accounts that are not bots.';
COMMENT ON COLUMN metric_coverage_identities.unmatched IS 'Of those, accounts not tied to a person (matched_by unmatched, or no person_id).';
