-- Slack normalization: raw_slack_* (API collection or export import, same rows) -> channels,
-- identities, group_members and events (slack_message, slack_reply).
-- Message text is not read here: collectors/slack_rows.py stored derived features at ingest
-- (payload.features); the text itself is in the payload only with privacy.store_message_text.

-- A group DM's Slack name and purpose list its members' handles ("mpdm-ana--bo--cy-1", "Group
-- messaging with: @ana @bo @cy"): it is named by its id instead, and its purpose left out, so no
-- report or audit that names channels names people (a direct message's name is its id already).
INSERT INTO channels(channel_id, name, is_private, purpose, member_count)
SELECT natural_key,
       CASE WHEN dm THEN 'group-dm-' || natural_key ELSE coalesce(payload ->> 'name', natural_key)
       END,
       coalesce((payload ->> 'is_private')::BOOLEAN, false) OR dm
           OR coalesce((payload ->> 'is_im')::BOOLEAN, false),
       CASE WHEN NOT dm THEN nullif(payload -> 'purpose' ->> 'value', '') END,
       (payload ->> 'num_members')::INTEGER
FROM (SELECT *, coalesce((payload ->> 'is_mpim')::BOOLEAN, false) AS dm FROM raw_slack_channels);

-- Accounts: users (Slackbot is a bot here, though Slack says is_bot false), then bot ids from
-- bots.info, then any other author or bot a message names (exports carry no bots list).
INSERT INTO identities(source, source_user_id, login, email, display_name, is_bot)
SELECT 'slack', natural_key, payload ->> 'name',
       nullif(payload -> 'profile' ->> 'email', ''),
       coalesce(nullif(payload -> 'profile' ->> 'real_name', ''), nullif(payload ->> 'real_name', ''),
                nullif(payload -> 'profile' ->> 'display_name', ''), payload ->> 'name'),
       coalesce((payload ->> 'is_bot')::BOOLEAN, false) OR natural_key = 'USLACKBOT'
FROM raw_slack_users
ON CONFLICT DO NOTHING;

INSERT INTO identities(source, source_user_id, login, display_name, is_bot)
SELECT 'slack', natural_key, payload ->> 'name', payload ->> 'name', true
FROM raw_slack_bots
ON CONFLICT DO NOTHING;

-- Who each message names, one row per message (quarantined ones aside): its author, its bot
-- and the name it gives. A table of the refs file (analytics_db.attach_refs), which the build
-- state keeps beside its own: an incremental build, on a copy of it, finds the kept messages'
-- rows there and adds the rows of the messages it normalizes again
-- (processhealth/slack_delta.py), so the accounts below are aggregated over every message
-- without parsing them all again.
CREATE TABLE IF NOT EXISTS refs.slack_refs(natural_key VARCHAR, seq BIGINT, user_id VARCHAR,
                                      bot_id VARCHAR, name VARCHAR);
INSERT INTO slack_refs
SELECT natural_key, seq, p[1], p[2], coalesce(p[3], p[4])
FROM (SELECT natural_key, seq,
             json_extract_string(payload, ['$.user', '$.bot_id', '$.username',
                                           '$.bot_profile.name']) AS p
      FROM raw_slack_messages);

-- An account seen under several names gets the same one in every build (the greatest).
INSERT INTO identities(source, source_user_id, login, display_name, is_bot)
SELECT 'slack', account, max(name), max(name), bool_or(is_bot)
FROM (
    SELECT coalesce(user_id, bot_id) AS account,
           CASE WHEN user_id IS NULL THEN name END AS name,
           user_id IS NULL OR user_id = 'USLACKBOT' AS is_bot
    FROM slack_refs
)
WHERE account IS NOT NULL
GROUP BY account
ON CONFLICT DO NOTHING;

INSERT INTO group_members(source, group_name, source_user_id)
SELECT DISTINCT 'slack', payload ->> 'handle', unnest(from_json(payload -> 'users', '["VARCHAR"]'))
FROM raw_slack_usergroups
WHERE json_type(payload -> 'users') = 'ARRAY'
ON CONFLICT DO NOTHING;

-- Messages and replies. Join/leave/topic notices and the like are not acts and are left out.
-- Reminder subkind: a reminder or status-request pattern matched at ingest, any Slackbot
-- message (Slackbot posts reminders), or a bot named in people.bots. Shadow-tool links otherwise.
-- The typed columns linked_keys and shadow_tool repeat detail.linked_keys and detail.shadow_tool.
INSERT INTO events(event_id, source, occurred_at, actor_account, channel_id, kind, subkind, detail,
                   linked_keys, shadow_tool)
WITH fields AS (  -- each message payload parsed once (one path list), not once per field
    SELECT natural_key,
           json_extract_string(payload, ['$.channel', '$.ts', '$.thread_ts', '$.user',
                                         '$.bot_id', '$.subtype', '$.username',
                                         '$.bot_profile.name', '$.features', '$.text',
                                         '$.reply_count']) AS p
    FROM raw_slack_messages
    -- messages a full collection no longer found (deleted upstream)
    WHERE natural_key NOT IN (SELECT natural_key FROM sync_deleted
                              WHERE source = 'slack' AND entity = 'messages')
),
msg AS (
    SELECT m.natural_key,
           m.p[1] AS channel_id,
           m.p[2] AS ts,
           m.p[3] AS thread_ts,
           m.p[4] AS user_id,
           m.p[5] AS bot_id,
           m.p[6] AS subtype,
           coalesce(m.p[7], m.p[8], b.name) AS bot_name,
           -- the ingest features (collectors/slack_rows.py), parsed twice in all: their JSON
           -- values, then their texts (each `f -> 'x'` would parse them again)
           json_extract(m.p[9], ['$.link_domains', '$.mentions', '$.group_mentions',
                                 '$.broadcast', '$.linked_keys', '$.file_types']) AS fj,
           json_extract_string(m.p[9], ['$.is_reminder', '$.is_status_request',
                                        '$.shadow_tool', '$.length']) AS fs,
           m.p[10] AS text,
           m.p[11]::INTEGER AS reply_count,
           coalesce(m.p[5] IS NOT NULL
                    OR m.p[6] = 'bot_message'
                    OR m.p[4] = 'USLACKBOT'
                    OR u.is_bot, false) AS is_bot
    FROM fields AS m
    -- users and bots parsed once each, not once per message that names them (0.4 s at 10M events)
    LEFT JOIN (SELECT natural_key, (payload ->> 'is_bot')::BOOLEAN AS is_bot FROM raw_slack_users)
        AS u ON u.natural_key = m.p[4]
    LEFT JOIN (SELECT natural_key, payload ->> 'name' AS name FROM raw_slack_bots)
        AS b ON b.natural_key = m.p[5]
),
configured AS (  -- names and ids compared without case, as identity resolution does
    SELECT list_transform(coalesce(json_extract_string(getvariable('config'), '$.people.bots[*]'),
                                   []::VARCHAR[]), lambda b: lower(b)) AS bots
),
flagged AS (
    SELECT msg.*,
           thread_ts IS NOT NULL AND thread_ts <> ts AS is_reply,
           coalesce(fs[1]::BOOLEAN, false)
               OR user_id = 'USLACKBOT'
               OR (is_bot AND list_has_any(configured.bots,
                                           [lower(bot_id), lower(user_id), lower(bot_name)]))
               AS is_reminder,
           coalesce(fs[2]::BOOLEAN, false) AS is_status_request
    FROM msg, configured
    WHERE coalesce(subtype, '') NOT IN (
        'channel_join', 'channel_leave', 'channel_topic', 'channel_purpose', 'channel_name',
        'channel_archive', 'channel_unarchive', 'channel_convert_to_private',
        'channel_convert_to_public', 'group_join', 'group_leave', 'group_topic',
        'group_purpose', 'group_name', 'group_archive', 'group_unarchive', 'bot_add',
        'bot_remove', 'pinned_item', 'unpinned_item', 'tombstone', 'message_deleted',
        'message_changed', 'joiner_notification_for_inviter', 'joiner_notification')
)
SELECT 'slack:' || CASE WHEN is_reply THEN 'reply' ELSE 'message' END || ':' || natural_key,
       'slack',
       make_timestamp(split_part(ts, '.', 1)::BIGINT * 1000000
                      + rpad(split_part(ts, '.', 2), 6, '0')[1:6]::BIGINT)::TIMESTAMPTZ,
       'slack:' || coalesce(user_id, bot_id),
       channel_id,
       CASE WHEN is_reply THEN 'slack_reply' ELSE 'slack_message' END,
       CASE WHEN is_reminder OR is_status_request THEN 'reminder'
            WHEN fs[3] IS NOT NULL THEN 'shadow_tool' END,
       json_object(
           'length', fs[4]::INTEGER,
           'link_domains', fj[1],
           'mentions', to_json(list_transform(from_json(fj[2], '["VARCHAR"]'),
                                              lambda x: 'slack:' || x)),
           'group_mentions', fj[3],
           'broadcast', fj[4],
           'linked_keys', fj[5],
           'file_types', fj[6],
           'is_reminder', is_reminder,
           'is_status_request', is_status_request,
           'asks_update', coalesce(fs[1]::BOOLEAN, false) OR is_status_request,
           'shadow_tool', fs[3],
           'thread_ts', thread_ts,
           'reply_count', reply_count,
           'is_bot', is_bot,
           'bot_id', bot_id,
           'subtype', subtype,
           'text', text),
       CASE WHEN json_type(fj[5]) = 'ARRAY' THEN from_json(fj[5], '["VARCHAR"]') END,
       fs[3]
FROM flagged;
