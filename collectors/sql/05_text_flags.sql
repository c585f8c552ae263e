-- Derived flags of a comment's words, the ones Slack messages get at ingest (collectors/
-- slack_rows.py): reminder, status request or nag, and shadow-tool link, from the [slack]
-- reminder_patterns, status_request_patterns, shadow_tool_domains and shadow_tool_extensions
-- (docs/metrics.md section 1). Used by the Jira and GitHub normalizations on comment bodies;
-- only the flags reach the analytics database, never the words.
-- The config's list at `path` as strings (lower-cased for _ph_config_lower), and a list of
-- regular expressions as one alternation ('$.^', matching nothing, when the list is empty).
CREATE OR REPLACE TEMP MACRO _ph_config_list(path) AS coalesce(
    (SELECT list(value ->> '$') FROM json_each(json_extract(getvariable('config'), path))),
    []::VARCHAR[]);
CREATE OR REPLACE TEMP MACRO _ph_config_lower(path) AS
    list_transform(_ph_config_list(path), lambda x: lower(x));
CREATE OR REPLACE TEMP MACRO _ph_config_re(path) AS coalesce(nullif(array_to_string(
    list_transform(_ph_config_list(path), lambda p: '(?:' || p || ')'), '|'), ''), '$.^');

SET VARIABLE ph_reminder_re = _ph_config_re('$.slack.reminder_patterns');
SET VARIABLE ph_status_re = _ph_config_re('$.slack.status_request_patterns');
SET VARIABLE ph_shadow_domains = _ph_config_lower('$.slack.shadow_tool_domains');
SET VARIABLE ph_shadow_ext_re = coalesce('(?i)(' || nullif(array_to_string(list_transform(
    _ph_config_lower('$.slack.shadow_tool_extensions'), lambda e: regexp_escape(e)), '|'), '')
    || ')\b', '$.^');
-- Declared experiments (docs/metrics.md section 9): [declared_experiments] patterns for a
-- hypothesis, success criteria and a result, and the Jira fields that hold them.
SET VARIABLE ph_hypothesis_re = _ph_config_re('$.declared_experiments.hypothesis_patterns');
SET VARIABLE ph_criteria_re = _ph_config_re('$.declared_experiments.success_criteria_patterns');
SET VARIABLE ph_result_re = _ph_config_re('$.declared_experiments.result_patterns');
SET VARIABLE ph_hypothesis_fields = _ph_config_lower('$.declared_experiments.hypothesis_fields');
SET VARIABLE ph_criteria_fields = _ph_config_lower(
    '$.declared_experiments.success_criteria_fields');

-- The plain text of a comment body: a string (Jira Server/Data Center, REST v2, GitHub), or the
-- text nodes of an Atlassian Document Format body (Jira Cloud, REST v3).
CREATE OR REPLACE TEMP MACRO _ph_body_text(body) AS CASE
    WHEN body IS NULL THEN ''
    WHEN json_valid(body) AND json_type(body::JSON) = 'OBJECT'
        THEN array_to_string(regexp_extract_all(body, '"text"\s*:\s*"((?:[^"\\]|\\.)*)"', 1), ' ')
    WHEN json_valid(body) AND json_type(body::JSON) = 'VARCHAR' THEN body::JSON ->> '$'
    ELSE body END;

-- {is_reminder, is_status_request, shadow_tool, has_result} of a text.
CREATE OR REPLACE TEMP MACRO _ph_text_flags(t) AS {
    'is_reminder': regexp_matches(coalesce(t, ''), getvariable('ph_reminder_re'), 'i'),
    'is_status_request': regexp_matches(coalesce(t, ''), getvariable('ph_status_re'), 'i'),
    'shadow_tool': coalesce(
        list_filter(getvariable('ph_shadow_domains'), lambda d: contains(lower(coalesce(t, '')), d))[1],
        nullif(lower(regexp_extract(coalesce(t, ''), getvariable('ph_shadow_ext_re'), 1)), '')),
    'has_result': regexp_matches(coalesce(t, ''), getvariable('ph_result_re'), 'i')
};
-- {has_hypothesis, has_success_criteria, has_result} of an issue's or pull request's text.
CREATE OR REPLACE TEMP MACRO _ph_declared_flags(t) AS {
    'has_hypothesis': regexp_matches(coalesce(t, ''), getvariable('ph_hypothesis_re'), 'i'),
    'has_success_criteria': regexp_matches(coalesce(t, ''), getvariable('ph_criteria_re'), 'i'),
    'has_result': regexp_matches(coalesce(t, ''), getvariable('ph_result_re'), 'i')
};
-- The same, as set at ingest on a text reduced to its length (NULL when there is none).
CREATE OR REPLACE TEMP MACRO _ph_stored_declared(j) AS CASE WHEN j IS NOT NULL
    AND json_type(j) = 'OBJECT' THEN {
    'has_hypothesis': coalesce(TRY_CAST(j ->> 'has_hypothesis' AS BOOLEAN), false),
    'has_success_criteria': coalesce(TRY_CAST(j ->> 'has_success_criteria' AS BOOLEAN), false),
    'has_result': coalesce(TRY_CAST(j ->> 'has_result' AS BOOLEAN), false)} END;
-- events.subkind of a comment with those flags (as for Slack messages).
CREATE OR REPLACE TEMP MACRO _ph_flag_subkind(f) AS CASE
    WHEN f.is_reminder OR f.is_status_request THEN 'reminder'
    WHEN f.shadow_tool IS NOT NULL THEN 'shadow_tool' END;
-- The same flags as set at ingest on a text that was reduced to its length ([privacy]
-- store_text_fields = false: collectors/privacy.py), from a JSON object; NULL when there is none.
CREATE OR REPLACE TEMP MACRO _ph_stored_flags(j) AS CASE WHEN j IS NOT NULL
    AND json_type(j) = 'OBJECT' THEN {
    'is_reminder': coalesce(TRY_CAST(j ->> 'is_reminder' AS BOOLEAN), false),
    'is_status_request': coalesce(TRY_CAST(j ->> 'is_status_request' AS BOOLEAN), false),
    'shadow_tool': j ->> 'shadow_tool',
    'has_result': coalesce(TRY_CAST(j ->> 'has_result' AS BOOLEAN), false)} END;
