-- Tables written by the analysis steps (processhealth/pipeline.py): the settings and thresholds a
-- build used, team memberships from tool groups, and the effort model's sensitivity runs.

CREATE TABLE build_params(
    name VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL,
    is_threshold BOOLEAN NOT NULL,
    description VARCHAR
);
COMMENT ON TABLE build_params IS 'Every setting and threshold this database was built with (session gap, caps, classification rules, privacy.min_group_size, the [verdict] thresholds, ...), so every figure can be reproduced and views need no session state.';
COMMENT ON COLUMN build_params.name IS 'Dotted config key, e.g. effort.session_gap_minutes or verdict.overhead_rise_pp, or a derived name such as effort.method.';
COMMENT ON COLUMN build_params.value IS 'The value as text (JSON for lists and tables); a threshold casts to DOUBLE.';
COMMENT ON COLUMN build_params.is_threshold IS 'True for the thresholds the metric views and verdicts compare figures with: privacy.min_group_size and the [verdict] section.';
COMMENT ON COLUMN build_params.description IS 'What the setting does.';

-- Deprecated names, kept readable for queries written against them.
CREATE VIEW analysis_params AS
SELECT name, value, description FROM build_params WHERE NOT starts_with(name, 'verdict.');
COMMENT ON VIEW analysis_params IS 'Deprecated, use build_params: the settings this database was built with, one row per setting (the [verdict] thresholds are in build_params only).';
COMMENT ON COLUMN analysis_params.name IS 'Dotted config key, e.g. effort.session_gap_minutes, or a derived name such as effort.method.';
COMMENT ON COLUMN analysis_params.value IS 'The value as text (JSON for lists and tables).';
COMMENT ON COLUMN analysis_params.description IS 'What the setting does.';

CREATE VIEW health_thresholds AS
SELECT regexp_extract(name, '[^.]+$') AS name, value::DOUBLE AS value, name AS config_key
FROM build_params WHERE is_threshold;
COMMENT ON VIEW health_thresholds IS 'Deprecated, use build_params WHERE is_threshold: the thresholds the metric views and verdicts used, copied from config at build (min_group_size, the [verdict] section).';
COMMENT ON COLUMN health_thresholds.name IS 'Threshold name, e.g. min_group_size, overhead_rise_pp, prompted_rise_pp.';
COMMENT ON COLUMN health_thresholds.value IS 'Its value at the last build.';
COMMENT ON COLUMN health_thresholds.config_key IS 'Where it comes from in the config file, e.g. privacy.min_group_size (build_params.name).';

CREATE TABLE group_members(
    source VARCHAR NOT NULL,
    group_name VARCHAR NOT NULL,
    source_user_id VARCHAR NOT NULL,
    PRIMARY KEY (source, group_name, source_user_id)
);
COMMENT ON TABLE group_members IS 'Members of GitHub org teams and Slack user groups, filled by normalization; [[teams]] github_team / slack_usergroup read it.';
COMMENT ON COLUMN group_members.source IS 'Tool: github (org team) or slack (user group).';
COMMENT ON COLUMN group_members.group_name IS 'GitHub team slug or Slack user-group handle; matched case-insensitively, also against the name.';
COMMENT ON COLUMN group_members.source_user_id IS 'Member account id in that tool (identities.source_user_id).';

CREATE TABLE effort_sensitivity(
    gap_minutes DOUBLE NOT NULL,
    team VARCHAR NOT NULL,
    month DATE NOT NULL,
    category VARCHAR NOT NULL,
    minutes DOUBLE NOT NULL,
    people_count INTEGER NOT NULL,
    PRIMARY KEY (gap_minutes, team, month, category)
);
COMMENT ON TABLE effort_sensitivity IS 'Credited minutes per team, month and category when the effort model runs with other session gaps (effort.sensitivity_gaps, plus the configured one).';
COMMENT ON COLUMN effort_sensitivity.gap_minutes IS 'Session gap G used for this run, in minutes.';
COMMENT ON COLUMN effort_sensitivity.team IS 'Team (person_months.team).';
COMMENT ON COLUMN effort_sensitivity.month IS 'First day of the month.';
COMMENT ON COLUMN effort_sensitivity.category IS 'customer, enabling, process or unclassified.';
COMMENT ON COLUMN effort_sensitivity.minutes IS 'Minutes credited with this gap.';
COMMENT ON COLUMN effort_sensitivity.people_count IS 'People with credited minutes in the team-month.';

COMMENT ON COLUMN identities.matched_by IS 'How the account was tied to its person: csv (people.csv), config ([[people.mappings]]), email, name, login (login or email name similar to the person''s name), nickname (the same surname, first names that are forms of each other), bot, deleted (GitHub''s deleted user, "ghost"), or unmatched (no other account found; the account is a person of its own).';
COMMENT ON COLUMN identities.person_id IS 'The person (people.person_id) this account belongs to; every account has one, an unmatched account is a person of its own.';
COMMENT ON COLUMN teams.source IS 'Where membership came from, joined by +: config (members), github_team, slack_usergroup; activity when only the team''s jira_projects, repos and channels place people; none for (unassigned).';
