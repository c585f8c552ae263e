-- GitHub normalization: raw_github_* (collectors/github.py or the simulated loader, same rows)
-- -> repo_names, identities, group_members, work_items (kind 'pr' and 'issue') and events
-- (issue_opened, issue_comment, pr_opened, pr_ready, pr_review, pr_comment, pr_merged, commit,
-- release).
--
-- Ids: item "github:<owner>/<repo>#<number>" (a renamed repository's latest name, see below);
-- event "github:<entity>:<id>" where entity is the raw row it comes from (issue, review,
-- issue_comment, review_comment, commit, release, issue_event) or, for acts implied by an issue
-- or PR, its kind (pr_opened, pr_merged, ...).
-- Accounts "github:<numeric user id>"; the deleted-user "ghost" keeps its id 10137. A commit
-- whose email GitHub ties to no account (author null, e.g. a deleted user) is acted by
-- "github:email:<address>", with the name and address the commit carries.
--
-- Jira keys ([github] jira_key_pattern) are read from PR titles and branches and from commit
-- messages. A commit belongs to the pull request whose commits list (raw_github_pull_commits)
-- has it; a commit in no such list (one pushed straight to the branch, or data collected before
-- pull-request commits were read) belongs to the pull request of its repository that names one
-- of its keys and was the first to close (merge or close) at or after the commit, or is still
-- open. Commits naming no key and in no list stay attached to no PR.
--
-- The working tables (TEMP, held in memory) are dropped right after their last use: at 10M
-- events the parsed payloads they hold are gigabytes, which later statements need as memory.
--
-- By item (processhealth/github_delta.py, docs/build.md "GitHub: only the items touched"): the
-- file is in sections (`-- @section <name>` lines). `parse` reads the raw rows, `refs` adds to
-- the compact per-unit tables _github_*_refs what the parts across items are made of (every
-- commit, pull-request commit, issue, pull, review, comment, issue event and release read),
-- `cross` computes those parts over all of _github_*_refs (rebase duplicates, the pull request
-- of each commit, landing commits, what each issue comment names), `pr_commits` the pull-request
-- aggregates of their commits, and `emit` writes the domain rows of the rows parsed. A full
-- build parses every raw row into empty refs; an incremental one keeps the refs of the units not
-- touched from the build state and shows the raw tables narrowed to the touched units, so both
-- compute the cross-item parts over the same refs (`pr_commits` for the items touched only).

-- @section prelude

CREATE OR REPLACE TEMP MACRO _gh_keys(t) AS
    regexp_extract_all(coalesce(t, ''),
        coalesce(json_extract_string(getvariable('config'), '$.github.jira_key_pattern'),
                 '\b[A-Z][A-Z0-9]+-\d+\b'));
CREATE OR REPLACE TEMP MACRO _gh_ordered_distinct(l) AS list_filter(l, lambda x, i: list_position(l, x) = i);
CREATE OR REPLACE TEMP MACRO _gh_account(u) AS
    CASE WHEN u ->> 'id' IS NOT NULL THEN 'github:' || (u ->> 'id') END;
CREATE OR REPLACE TEMP MACRO _gh_number(url) AS TRY_CAST(regexp_extract(url, '/(\d+)$', 1) AS INTEGER);

-- Renamed repositories. A repository renamed or transferred within the organization keeps its
-- id, and [github] org lists it under its new name, so its rows were collected under each name
-- it had: in `scope` and in the keys "<repo>#<n>", "<repo>@<sha>" and "<repo>#<n>@<sha>".
-- Every name an id was listed under (raw_github_repos) is read as the name listed last
-- (repo_names); of an issue, pull request or commit held under several names the copy under
-- the latest name is kept (read after the rename: the newer). Nothing moves for a repository
-- with one name, nor without [github] org (the rows of [github] repos keep the configured
-- name, collectors/github_repos.py). `ago`: 1 for the latest name, 2 for the one before...
CREATE OR REPLACE TEMP TABLE _gh_names AS
SELECT natural_key AS name, arg_max(natural_key, o) OVER w AS repo,
       row_number() OVER (w ORDER BY o DESC) AS ago
FROM (SELECT natural_key, payload ->> 'id' AS id, (coalesce(seq, -1), fetched_at) AS o
      FROM raw_github_repos WHERE payload ->> 'id' IS NOT NULL)
WINDOW w AS (PARTITION BY id);
CREATE OR REPLACE TEMP TABLE _gh_all_names AS SELECT name, repo FROM _gh_names;
DELETE FROM _gh_names WHERE repo IN (SELECT repo FROM _gh_names GROUP BY repo HAVING count(*) = 1);
CREATE OR REPLACE TEMP MACRO _gh_renamed(key, scope, repo) AS repo || substr(key, length(scope) + 1);

-- @section parse
-- Speed: each payload is parsed once per statement. json_extract_string(payload, [paths])
-- reads several fields in one parse; a chain such as payload -> 'a' ->> 'b' would re-serialize
-- and re-parse, and every separate ->> parses the whole payload again.

-- Commits, every field read once (the largest GitHub table).
CREATE OR REPLACE TEMP TABLE _gh_c AS
SELECT natural_key, scope, f[1] AS sha, f[2] AS message, f[3] AS authored, f[4] AS email,
       f[5] AS name, f[6] AS author_id, f[7] AS author_login, f[8] AS author_type,
       json_array_length(f[9]) AS parents
FROM (SELECT natural_key, scope,
             json_extract_string(payload, ['$.sha', '$.commit.message', '$.commit.author.date',
                                           '$.commit.author.email', '$.commit.author.name',
                                           '$.author.id', '$.author.login', '$.author.type',
                                           '$.parents']) AS f
      FROM raw_github_commits);
DELETE FROM _gh_c WHERE rowid IN (
    SELECT c.rowid FROM _gh_c AS c JOIN _gh_names AS n ON n.name = c.scope
    QUALIFY row_number() OVER (PARTITION BY _gh_renamed(c.natural_key, c.scope, n.repo)
                               ORDER BY n.ago) > 1);
UPDATE _gh_c SET natural_key = _gh_renamed(natural_key, scope, n.repo), scope = n.repo
FROM _gh_names AS n WHERE n.name = _gh_c.scope AND n.ago > 1;

-- A pull request's own commits (GET /pulls/{n}/commits; natural key "<repo>#<n>@<sha>"). Those
-- the default branch does not list (a squash merge left them on the PR's branch) join the
-- commits, so a squash-merge repository keeps its coding history. The sha is read from the key,
-- which the collector makes of the payload's sha (collectors/github_rows.py pull_commit_rows):
-- parsing every payload for it took 4.0 s at 10M events.
CREATE OR REPLACE TEMP TABLE _gh_pc AS
SELECT scope || '@' || sha AS natural_key, scope, sha,
       'github:' || split_part(natural_key, '@', 1) AS item_id,
       TRY_CAST(regexp_extract(split_part(natural_key, '@', 1), '#(\d+)$', 1) AS INTEGER)
           AS number, natural_key AS raw_key
FROM (SELECT natural_key, scope, nullif(split_part(natural_key, '@', 2), '') AS sha
      FROM raw_github_pull_commits)
-- a row whose key lacks its "@<sha>" (written by hand, or by an older collector) lists no commit;
-- its NULL key made every `NOT IN` over these lists unknown, which took every landing commit's
-- pull request away (tests/test_github_normalize.py)
WHERE sha IS NOT NULL AND scope IS NOT NULL;
DELETE FROM _gh_pc WHERE rowid IN (
    SELECT c.rowid FROM _gh_pc AS c JOIN _gh_names AS n ON n.name = c.scope
    QUALIFY row_number() OVER (PARTITION BY _gh_renamed(c.raw_key, c.scope, n.repo)
                               ORDER BY n.ago) > 1);
UPDATE _gh_pc SET natural_key = _gh_renamed(natural_key, scope, n.repo), scope = n.repo,
                  item_id = 'github:' || _gh_renamed(split_part(raw_key, '@', 1), scope, n.repo)
FROM _gh_names AS n WHERE n.name = _gh_pc.scope AND n.ago > 1;

-- Their payloads are read again only for the commits the default branch lacks (not kept whole),
-- one payload per commit: the pull request listing it first by raw key (the same commit listed
-- by two pull requests carries the same commit fields). The raw key is chosen before the
-- payloads are read: grouping the payloads themselves cost 10x (6.4 s against 0.6 s at 10M events).
INSERT INTO _gh_c
SELECT natural_key, scope, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], json_array_length(f[9])
FROM (SELECT p.natural_key, p.scope,
             json_extract_string(r.payload, [
                 '$.sha', '$.commit.message', '$.commit.author.date', '$.commit.author.email',
                 '$.commit.author.name', '$.author.id', '$.author.login', '$.author.type',
                 '$.parents']) AS f
      FROM (SELECT natural_key, scope, min(raw_key) AS raw_key FROM _gh_pc
            WHERE natural_key NOT IN (SELECT natural_key FROM _gh_c)
            GROUP BY natural_key, scope) AS p
      JOIN raw_github_pull_commits AS r ON r.natural_key = p.raw_key);

-- Accounts: every user object any payload embeds (id, login, type), with the profile fetched
-- once per login.
CREATE OR REPLACE TEMP MACRO _gh_user(t, root) AS TABLE
    SELECT u[1] AS id, u[2] AS login, u[3] AS type
    FROM (SELECT json_extract_string(payload, [root || '.id', root || '.login', root || '.type']) AS u
          FROM query_table(t));
-- Issues, pulls, reviews, comments and issue events: every field the statements below read,
-- the acting user's included, in one parse of each payload. body_flags (a JSON object that
-- collectors/privacy.py writes when it reduces a body) is the last path but one, its text cast
-- back to JSON: reading it with a second `payload -> '$.body_flags'` parsed each payload again
-- (1.4 s at 10M events). Only an object is read as flags (05_text_flags.sql), as before; but
-- a string's text comes out unquoted, so a string holding an object's text would read as one.
-- The last path, a key privacy.py has always written in those flags (has_result of an issue's
-- or pull request's, is_reminder of a comment's), tells an object; anything else that is there
-- is read again on its own (_gh_flags), as before.
CREATE OR REPLACE TEMP MACRO _gh_flags(payload, flags, key) AS CASE
    WHEN key IS NOT NULL THEN flags::JSON
    WHEN flags IS NOT NULL THEN payload -> '$.body_flags' END;
CREATE OR REPLACE TEMP TABLE _gh_is AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.number', '$.pull_request', '$.title', '$.html_url', '$.state', '$.labels',
           '$.created_at', '$.closed_at', '$.pull_request.merged_at', '$.user.id',
           '$.assignees[0].id', '$.draft', '$.state_reason', '$.pull_request.url',
           '$.pull_request.html_url', '$.id', '$.body', '$.user.login', '$.user.type',
           '$.body_flags', '$.body_flags.has_result']) AS f,
       _gh_flags(payload, f[20], f[21]) AS flags
FROM raw_github_issues;
-- An issue without a readable number or created_at is set aside (processhealth/quarantine.py,
-- which warns): recorded in source_coverage and left out. Checked on this parse, not on one of
-- its own before normalization (1.1 s at 10M events).
CREATE OR REPLACE TEMP TABLE _gh_unreadable AS
SELECT natural_key, scope FROM _gh_is
WHERE coalesce(try_cast(f[1] AS INTEGER) IS NULL OR try_cast(f[7] AS TIMESTAMPTZ) IS NULL, true);
DELETE FROM _gh_is WHERE natural_key IN (SELECT natural_key FROM _gh_unreadable);
DELETE FROM _gh_is WHERE rowid IN (
    SELECT i.rowid FROM _gh_is AS i JOIN _gh_names AS n ON n.name = i.scope
    QUALIFY row_number() OVER (PARTITION BY _gh_renamed(i.natural_key, i.scope, n.repo)
                               ORDER BY n.ago) > 1);
UPDATE _gh_is SET natural_key = _gh_renamed(natural_key, scope, n.repo), scope = n.repo
FROM _gh_names AS n WHERE n.name = _gh_is.scope AND n.ago > 1;
CREATE OR REPLACE TEMP TABLE _gh_pu AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.merged_at', '$.head.ref', '$.base.ref', '$.draft', '$.body', '$.user.id',
           '$.user.login', '$.user.type', '$.body_flags', '$.body_flags.has_result']) AS f,
       _gh_flags(payload, f[9], f[10]) AS flags
FROM raw_github_pulls;
DELETE FROM _gh_pu WHERE rowid IN (
    SELECT p.rowid FROM _gh_pu AS p JOIN _gh_names AS n ON n.name = p.scope
    QUALIFY row_number() OVER (PARTITION BY _gh_renamed(p.natural_key, p.scope, n.repo)
                               ORDER BY n.ago) > 1);
UPDATE _gh_pu SET natural_key = _gh_renamed(natural_key, scope, n.repo)
FROM _gh_names AS n WHERE n.name = _gh_pu.scope AND n.ago > 1;
CREATE OR REPLACE TEMP TABLE _gh_rv AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.submitted_at', '$.user.id', '$.pull_request_url', '$.state', '$.user.login',
           '$.user.type']) AS f
FROM raw_github_reviews;
CREATE OR REPLACE TEMP TABLE _gh_ic AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.created_at', '$.user.id', '$.issue_url', '$.body', '$.body_length', '$.user.login',
           '$.user.type', '$.body_flags', '$.body_flags.is_reminder']) AS f,
       _gh_flags(payload, f[8], f[9]) AS flags
FROM raw_github_issue_comments;
CREATE OR REPLACE TEMP TABLE _gh_rc AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.created_at', '$.user.id', '$.pull_request_url', '$.pull_request_review_id',
           '$.path', '$.body', '$.body_length', '$.user.login', '$.user.type',
           '$.body_flags', '$.body_flags.is_reminder']) AS f,
       _gh_flags(payload, f[10], f[11]) AS flags
FROM raw_github_review_comments;
CREATE OR REPLACE TEMP TABLE _gh_ie AS
SELECT natural_key, scope, json_extract_string(payload, [
           '$.event', '$.created_at', '$.actor.id', '$.issue.number', '$.actor.login',
           '$.actor.type']) AS f
FROM raw_github_issue_events;
-- Reviews, comments and issue events are keyed by their ids: one row each, its scope renamed.
UPDATE _gh_rv SET scope = n.repo FROM _gh_names AS n WHERE n.name = _gh_rv.scope AND n.ago > 1;
UPDATE _gh_ic SET scope = n.repo FROM _gh_names AS n WHERE n.name = _gh_ic.scope AND n.ago > 1;
UPDATE _gh_rc SET scope = n.repo FROM _gh_names AS n WHERE n.name = _gh_rc.scope AND n.ago > 1;
UPDATE _gh_ie SET scope = n.repo FROM _gh_names AS n WHERE n.name = _gh_ie.scope AND n.ago > 1;

-- @section schema
-- The compact per-unit tables (what the cross-item parts read; processhealth/github_delta.py
-- keeps them for the next build), in the refs file (analytics_db.attach_refs). Made before the
-- file runs in a build (github_delta.prepare), so that they outlive it; here for a run of the
-- file alone.
CREATE TABLE IF NOT EXISTS refs.github_commit_refs(
    natural_key VARCHAR, repo VARCHAR, sha VARCHAR, authored VARCHAR, msg VARCHAR,
    email VARCHAR, name VARCHAR, author_id VARCHAR, author_login VARCHAR, author_type VARCHAR,
    parents UBIGINT, keys VARCHAR[], lands INTEGER);
CREATE TABLE IF NOT EXISTS refs.github_pc_refs(
    natural_key VARCHAR, repo VARCHAR, item_id VARCHAR, number INTEGER, raw_key VARCHAR);
CREATE TABLE IF NOT EXISTS refs.github_item_refs(
    key VARCHAR, repo VARCHAR, number INTEGER, is_pr BOOLEAN, title_keys VARCHAR[],
    closed_at TIMESTAMPTZ, merged_at VARCHAR, issue_id VARCHAR, uid VARCHAR, login VARCHAR,
    type VARCHAR);
CREATE TABLE IF NOT EXISTS refs.github_pull_refs(
    key VARCHAR, merged_at VARCHAR, head_keys VARCHAR[], uid VARCHAR, login VARCHAR,
    type VARCHAR);
CREATE TABLE IF NOT EXISTS refs.github_row_refs(
    tbl VARCHAR, natural_key VARCHAR, scope VARCHAR, uid VARCHAR, login VARCHAR, type VARCHAR,
    num INTEGER, ref VARCHAR, event VARCHAR, occurred VARCHAR);

-- @section refs
-- The rows parsed, into the refs: a commit (its message kept as a digest, what rebase
-- duplicates are told by; its Jira keys, and the number of the pull request it says it lands),
-- a pull request's commit, an issue or pull request (the parts other rows read), a review,
-- comment, issue event or release (the account it holds; a comment's issue number, an event's
-- issue).
CREATE OR REPLACE TEMP TABLE _gh_parsed_commits AS SELECT natural_key FROM _gh_c;
INSERT INTO github_commit_refs
SELECT natural_key, scope, sha, authored, md5(message), email, name, author_id, author_login,
       author_type, parents, _gh_ordered_distinct(_gh_keys(message)),
       TRY_CAST(coalesce(nullif(regexp_extract(m, '\(#(\d+)\)\s*$', 1), ''),
                         nullif(regexp_extract(m, '^Merge pull request #(\d+)\b', 1), ''))
                AS INTEGER)
FROM (SELECT *, split_part(message, chr(10), 1) AS m FROM _gh_c);
DROP TABLE _gh_c;
INSERT INTO github_pc_refs SELECT natural_key, scope, item_id, number, raw_key FROM _gh_pc;
DROP TABLE _gh_pc;
INSERT INTO github_item_refs
SELECT natural_key, scope, f[1]::INTEGER,
       -- a pull_request stub whose links are all null (older payloads) marks no PR
       CASE WHEN f[2] IS NOT NULL THEN left(f[2], 1) = '{'
                 AND coalesce(f[14], f[15], f[9]) IS NOT NULL END,
       _gh_keys(f[3]), f[8]::TIMESTAMPTZ, f[9], f[16], f[10], f[18], f[19]
FROM _gh_is;
INSERT INTO github_pull_refs
SELECT natural_key, f[1], _gh_keys(f[2]), f[6], f[7], f[8] FROM _gh_pu;
INSERT INTO github_row_refs
SELECT 'reviews', natural_key, scope, f[2], f[5], f[6], NULL, NULL, NULL, NULL FROM _gh_rv
UNION ALL
SELECT 'issue_comments', natural_key, scope, f[2], f[6], f[7], _gh_number(f[3]), NULL, NULL,
       NULL FROM _gh_ic
UNION ALL
SELECT 'review_comments', natural_key, scope, f[2], f[8], f[9], _gh_number(f[3]), NULL, NULL,
       NULL FROM _gh_rc
UNION ALL
SELECT 'issue_events', natural_key, scope, f[3], f[5], f[6], NULL, scope || '#' || f[4], f[1],
       f[2] FROM _gh_ie
UNION ALL
SELECT 'releases', r.natural_key, coalesce(n.repo, r.scope), u[1], u[2], u[3], NULL, NULL, NULL,
       NULL
FROM (SELECT natural_key, scope, json_extract_string(payload, [
          '$.author.id', '$.author.login', '$.author.type']) AS u
      FROM raw_github_releases) AS r
LEFT JOIN _gh_names AS n ON n.name = r.scope AND n.ago > 1;

-- @section cross
-- Items a full collection no longer found (deleted upstream) are left out, with their comments;
-- an issue under its latest name (a full pass marks what it misses under the earlier ones too).
CREATE OR REPLACE TEMP TABLE _gh_deleted AS
SELECT d.entity, CASE WHEN d.entity = 'issues' AND n.ago > 1
                      THEN _gh_renamed(d.natural_key, d.scope, n.repo)
                      ELSE d.natural_key END AS natural_key
FROM sync_deleted AS d LEFT JOIN _gh_names AS n ON n.name = d.scope
WHERE d.source = 'github';

-- Every issue and pull request (of the refs), with what other rows read of it.
CREATE OR REPLACE TEMP TABLE _gh_all_items AS
SELECT 'github:' || i.key AS item_id, i.key, i.repo, i.number, i.is_pr, i.closed_at,
       coalesce(p.merged_at, i.merged_at)::TIMESTAMPTZ AS merged_at, i.issue_id,
       _gh_ordered_distinct(i.title_keys || coalesce(p.head_keys, [])) AS keys
FROM github_item_refs AS i LEFT JOIN github_pull_refs AS p USING (key)
WHERE i.key NOT IN (SELECT natural_key FROM _gh_deleted WHERE entity = 'issues');

-- Commits, and the pull request each belongs to (see the header).
-- A commit rewritten by a rebase or force-push gets a new sha but keeps its author, author
-- time and message: the raw store then holds both, and they are one act (counted once).
-- Only the commits whose (repository, author time, author, message) hash is shared are sorted
-- into groups (a window over every commit took 1.2-1.4 s at 10M events, this 0.7 s).
CREATE OR REPLACE TEMP TABLE _gh_commits AS
WITH shared AS (
    SELECT h FROM (SELECT hash(repo, authored, coalesce(author_id, lower(email)), msg) AS h
                   FROM github_commit_refs)
    GROUP BY h HAVING count(*) > 1
),
rebased AS (  -- every copy but the first of each group
    SELECT rowid AS rid FROM github_commit_refs
    WHERE hash(repo, authored, coalesce(author_id, lower(email)), msg) IN (SELECT h FROM shared)
    QUALIFY row_number() OVER (PARTITION BY repo, authored, coalesce(author_id, lower(email)),
                                            msg ORDER BY natural_key) > 1
)
SELECT natural_key, repo, sha, authored::TIMESTAMPTZ AS occurred,
       coalesce('github:' || author_id, 'github:email:' || lower(email)) AS actor, keys,
       parents, lands
FROM github_commit_refs AS c
WHERE NOT EXISTS (SELECT 1 FROM rebased AS r WHERE r.rid = c.rowid);

CREATE OR REPLACE TEMP TABLE _gh_pr_keys AS
SELECT item_id, repo, number, coalesce(merged_at, closed_at) AS ended, unnest(keys) AS key
FROM _gh_all_items WHERE is_pr;

CREATE OR REPLACE TEMP TABLE _gh_commit_pr AS
SELECT c.natural_key, arg_min(p.item_id, (coalesce(p.ended, 'infinity'::TIMESTAMPTZ), p.number))
       AS item_id
FROM (SELECT natural_key, repo, occurred, unnest(keys) AS key FROM _gh_commits) AS c
JOIN _gh_pr_keys AS p ON p.repo = c.repo AND p.key = c.key
     AND (p.ended IS NULL OR p.ended >= c.occurred)
GROUP BY c.natural_key;
DROP TABLE _gh_pr_keys;

-- The pull request a commit belongs to: the one whose commits list has it (a merged one first,
-- then the first to close), else the key rule above. A commit that lands a merged pull request
-- on the default branch (its squash commit "<title> (#N)" or merge commit "Merge pull request
-- #N ...", in no pull request's commits list) is the merge's echo: it keeps its place in history
-- with weight 0 (docs/metrics.md section 2) and belongs to that pull request.
CREATE OR REPLACE TEMP TABLE _gh_landing AS
SELECT c.natural_key, i.item_id, i.number
FROM _gh_commits AS c
JOIN _gh_all_items AS i ON i.repo = c.repo AND i.number = c.lands AND i.is_pr
     AND i.merged_at IS NOT NULL
WHERE c.natural_key NOT IN (SELECT natural_key FROM github_pc_refs)
  AND i.item_id IN (SELECT item_id FROM github_pc_refs);

CREATE OR REPLACE TEMP TABLE _gh_commit_pr_by_list AS
SELECT natural_key, item_id FROM (
    SELECT p.natural_key,
           arg_min(p.item_id, (i.merged_at IS NULL,
                               coalesce(i.merged_at, i.closed_at, 'infinity'::TIMESTAMPTZ),
                               p.number)) AS item_id
    FROM github_pc_refs AS p JOIN _gh_all_items AS i USING (item_id)
    GROUP BY p.natural_key
    UNION ALL
    SELECT natural_key, item_id FROM _gh_landing
    UNION ALL
    SELECT natural_key, item_id FROM _gh_commit_pr
    WHERE natural_key NOT IN (SELECT natural_key FROM github_pc_refs)
      AND natural_key NOT IN (SELECT natural_key FROM _gh_landing));
DROP TABLE _gh_commit_pr;
ALTER TABLE _gh_commit_pr_by_list RENAME TO _gh_commit_pr;

-- Who merged a pull request: the last "merged" event of its issue.
CREATE OR REPLACE TEMP TABLE _gh_merged_by AS
SELECT ref AS item_key, arg_max('github:' || uid, (occurred::TIMESTAMPTZ, 'github:' || uid))
       AS actor
FROM github_row_refs WHERE tbl = 'issue_events' AND event = 'merged'
GROUP BY ref;

-- A comment's issue_url ends in the issue's number; in some older payloads, in its id instead.
-- The issue each comment is on (those of deleted issues, and deleted comments, left out).
CREATE OR REPLACE TEMP TABLE _gh_comment_item AS
SELECT c.natural_key, c.scope, c.number, 'github:' || c.scope || '#' || c.number AS item_id,
       CASE WHEN i.is_pr THEN 'pr_comment' ELSE 'issue_comment' END AS kind
FROM (SELECT natural_key, scope, coalesce(
          (SELECT any_value(number) FROM _gh_all_items AS n
           WHERE n.repo = c0.scope AND n.number = c0.num),
          (SELECT any_value(number) FROM _gh_all_items AS n
           WHERE n.repo = c0.scope AND n.issue_id = c0.num::VARCHAR),
          c0.num) AS number
      FROM github_row_refs AS c0
      WHERE tbl = 'issue_comments'
        AND natural_key NOT IN (SELECT natural_key FROM _gh_deleted
                                WHERE entity = 'issue_comments')) AS c
LEFT JOIN _gh_all_items AS i ON i.key = c.scope || '#' || c.number
WHERE c.scope || '#' || c.number NOT IN (SELECT natural_key FROM _gh_deleted
                                         WHERE entity = 'issues');

-- @section pr_commits
-- Pull-request aggregates of the commits each pull request holds. Only `emit` reads them (a
-- pull request's work item), so a by-item build computes them for the items touched only.
CREATE OR REPLACE TEMP TABLE _gh_pr_commits AS
SELECT l.item_id, min(c.occurred) AS first_commit_at, count(*) AS commits,
       flatten(list(c.keys ORDER BY c.occurred, c.sha)) AS keys
FROM _gh_commit_pr AS l JOIN _gh_commits AS c USING (natural_key)
WHERE l.natural_key NOT IN (SELECT natural_key FROM _gh_landing)
GROUP BY l.item_id;

-- @section emit
INSERT INTO repo_names SELECT name, repo FROM _gh_all_names;
DROP TABLE _gh_all_names;
-- An issue without a readable number or created_at is set aside (above).
INSERT INTO source_coverage
SELECT 'github', 'issues', coalesce(scope, ''), natural_key, 'quarantined',
       'a missing or unreadable number or created_at', NULL
FROM _gh_unreadable;
DROP TABLE _gh_unreadable;

-- Accounts: every user object any payload embeds (id, login, type), with the profile fetched
-- once per login.
CREATE OR REPLACE TEMP TABLE _gh_seen AS
SELECT uid AS id, login, type FROM github_item_refs
UNION ALL SELECT uid, login, type FROM github_pull_refs
UNION ALL SELECT uid, login, type FROM github_row_refs
UNION ALL SELECT author_id, author_login, author_type FROM github_commit_refs
UNION ALL SELECT * FROM _gh_user('raw_github_members', '$')
UNION ALL SELECT * FROM _gh_user('raw_github_team_members', '$')
UNION ALL SELECT * FROM _gh_user('raw_github_users', '$');

-- The e-mail an account commits with most; of equally frequent ones the first in order (mode()
-- takes any of a tie, so the account's e-mail, which identity matching reads, could change
-- between two builds of the same data).
CREATE OR REPLACE TEMP TABLE _gh_commit_email AS
SELECT id, arg_min(email, (-n, email)) AS email
FROM (SELECT author_id AS id, email, count(*) AS n FROM github_commit_refs
      WHERE author_id IS NOT NULL AND email IS NOT NULL GROUP BY ALL)
GROUP BY id;

INSERT INTO identities(source, source_user_id, login, email, display_name, is_bot)
SELECT 'github', a.id, a.login, coalesce(p.payload ->> 'email', c.email),
       coalesce(p.payload ->> 'name', a.login), a.is_bot
-- older payloads carry no `type`: a "[bot]" login is then the only sign of a bot
FROM (SELECT id, min(login) AS login,
             coalesce(bool_or(type = 'Bot'), false) OR bool_or(login LIKE '%[bot]') AS is_bot
      FROM _gh_seen WHERE id IS NOT NULL GROUP BY 1) AS a
LEFT JOIN raw_github_users AS p ON p.natural_key = a.login
LEFT JOIN _gh_commit_email AS c ON c.id = a.id
ON CONFLICT DO NOTHING;
DROP TABLE _gh_seen;
DROP TABLE _gh_commit_email;

INSERT INTO identities(source, source_user_id, login, email, display_name, is_bot)
SELECT 'github', 'email:' || lower(email), NULL, min(email), min(name), false
FROM github_commit_refs
WHERE author_id IS NULL AND email <> ''
GROUP BY 2
ON CONFLICT DO NOTHING;

INSERT INTO group_members(source, group_name, source_user_id)
SELECT DISTINCT 'github', split_part(natural_key, ':', 1), payload ->> 'id'
FROM raw_github_team_members WHERE payload ->> 'id' IS NOT NULL
ON CONFLICT DO NOTHING;

-- Issues and pull requests: the issues list has both; pulls add the branch names.
CREATE OR REPLACE TEMP TABLE _gh_items AS
SELECT i.natural_key AS key, 'github:' || i.natural_key AS item_id, i.scope AS repo,
       i.f[1]::INTEGER AS number,
       -- a pull_request stub whose links are all null (older payloads) marks no PR
       CASE WHEN i.f[2] IS NOT NULL THEN left(i.f[2], 1) = '{'
                 AND coalesce(i.f[14], i.f[15], i.f[9]) IS NOT NULL END AS is_pr,
       i.f[3] AS title, i.f[4] AS url, i.f[5] AS state,
       list_transform(from_json(coalesce(i.f[6], '[]'), '[{"name":"VARCHAR"}]'),
                      lambda l: l.name) AS labels,
       i.f[7]::TIMESTAMPTZ AS created_at, i.f[8]::TIMESTAMPTZ AS closed_at,
       coalesce(p.f[1], i.f[9])::TIMESTAMPTZ AS merged_at,
       'github:' || i.f[10] AS author, 'github:' || i.f[11] AS assignee,
       p.f[2] AS head_ref, p.f[3] AS base_ref,
       coalesce(p.f[4]::BOOLEAN, i.f[12]::BOOLEAN) AS draft, i.f[13] AS state_reason,
       i.f[16] AS issue_id,
       -- a declared experiment's flags (05_text_flags.sql): from the body when it is stored,
       -- else from body_flags, set at ingest when it was reduced (collectors/privacy.py)
       coalesce(_ph_stored_declared(i.flags), _ph_stored_declared(p.flags),
                _ph_declared_flags(coalesce(i.f[17], p.f[5]))) AS declared
FROM (SELECT * FROM _gh_is
      WHERE natural_key NOT IN (SELECT natural_key FROM _gh_deleted WHERE entity = 'issues')
      ) AS i
LEFT JOIN _gh_pu AS p ON p.natural_key = i.natural_key;
DROP TABLE _gh_is;
DROP TABLE _gh_pu;

CREATE OR REPLACE TEMP TABLE _gh_events AS
SELECT natural_key, scope AS repo, f[1] AS event, f[2]::TIMESTAMPTZ AS occurred,
       'github:' || f[3] AS actor, scope || '#' || f[4] AS item_key
FROM _gh_ie;
DROP TABLE _gh_ie;

INSERT INTO work_items(item_id, source, kind, key, title, url, container, type, labels, status,
                       status_category, created_at, started_at, resolved_at, merged_at,
                       resolution, author_account, assignee_account, linked_keys, fields)
SELECT i.item_id, 'github', CASE WHEN i.is_pr THEN 'pr' ELSE 'issue' END, i.key, i.title, i.url,
       i.repo, NULL,
       i.labels,
       CASE WHEN i.merged_at IS NOT NULL THEN 'merged' ELSE i.state END,
       CASE WHEN i.state = 'closed' OR i.merged_at IS NOT NULL THEN 'done'
            WHEN i.is_pr THEN 'active' ELSE 'todo' END,
       i.created_at,
       CASE WHEN i.is_pr THEN least(i.created_at, pc.first_commit_at) END,
       i.closed_at, i.merged_at, CASE WHEN i.state = 'closed' THEN i.state_reason END,
       i.author, i.assignee,
       _gh_ordered_distinct(_gh_keys(i.title) || _gh_keys(i.head_ref) || coalesce(pc.keys, [])),
       json_object('number', i.number, 'draft', i.draft, 'head_ref', i.head_ref,
                   'base_ref', i.base_ref, 'state_reason', i.state_reason,
                   'commits', pc.commits,
                   'first_commit_at', strftime(pc.first_commit_at, '%Y-%m-%dT%H:%M:%SZ'))
FROM _gh_items AS i
LEFT JOIN _gh_pr_commits AS pc USING (item_id);
DROP TABLE _gh_pr_commits;

-- Events. The typed columns repo and linked_keys repeat detail.repo and detail.linked_keys.
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, detail, repo,
                   linked_keys)
SELECT 'github:' || CASE WHEN is_pr THEN 'pr_opened:' ELSE 'issue_opened:' END || key, 'github',
       created_at, author, item_id, CASE WHEN is_pr THEN 'pr_opened' ELSE 'issue_opened' END,
       json_object('repo', repo, 'number', number, 'linked_keys', keys), repo, keys
FROM (SELECT *, _gh_ordered_distinct(_gh_keys(title) || _gh_keys(head_ref)) AS keys
      FROM _gh_items);

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, detail, repo)
SELECT 'github:pr_merged:' || i.key, 'github', i.merged_at, m.actor,
       i.item_id, 'pr_merged', json_object('repo', i.repo, 'number', i.number), i.repo
FROM _gh_items AS i LEFT JOIN _gh_merged_by AS m ON m.item_key = i.key
WHERE i.is_pr AND i.merged_at IS NOT NULL;
DROP TABLE _gh_merged_by;

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, detail, repo)
SELECT 'github:issue_event:' || e.natural_key, 'github', e.occurred, e.actor, i.item_id, 'pr_ready',
       json_object('repo', e.repo, 'number', i.number), e.repo
FROM _gh_events AS e JOIN _gh_all_items AS i ON i.key = e.item_key
WHERE e.event = 'ready_for_review';
DROP TABLE _gh_events;

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, detail, repo)
SELECT 'github:review:' || natural_key, 'github', f[1]::TIMESTAMPTZ, 'github:' || f[2],
       'github:' || scope || '#' || _gh_number(f[3]), 'pr_review',
       json_object('repo', scope, 'number', _gh_number(f[3]), 'state', f[4]), scope
FROM _gh_rv
WHERE f[1] IS NOT NULL;
DROP TABLE _gh_rv;

-- Comments carry the flags of their words (05_text_flags.sql), never the words: from the body
-- when it is stored, else from body_flags, set at ingest when the body was reduced
-- (collectors/privacy.py, [privacy] store_text_fields). The issue each is on: _gh_comment_item.
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail,
                   repo, shadow_tool)
SELECT 'github:issue_comment:' || c.natural_key, 'github', c.f[1]::TIMESTAMPTZ,
       'github:' || c.f[2], r.item_id, r.kind, _ph_flag_subkind(c.t),
       json_object('repo', c.scope, 'number', r.number,
                   'length', coalesce(length(c.f[4]), c.f[5]::INTEGER),
                   'is_reminder', c.t.is_reminder, 'is_status_request', c.t.is_status_request,
                   'shadow_tool', c.t.shadow_tool, 'has_result', c.t.has_result),
       c.scope, c.t.shadow_tool
FROM (SELECT natural_key, scope, f, coalesce(_ph_stored_flags(flags), _ph_text_flags(f[4])) AS t
      FROM _gh_ic) AS c
JOIN _gh_comment_item AS r USING (natural_key);
DROP TABLE _gh_ic;
DROP TABLE _gh_comment_item;
DROP TABLE _gh_deleted;

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, subkind, detail,
                   repo, shadow_tool)
SELECT 'github:review_comment:' || natural_key, 'github', f[1]::TIMESTAMPTZ, 'github:' || f[2],
       'github:' || scope || '#' || _gh_number(f[3]), 'pr_comment', _ph_flag_subkind(t),
       json_object('repo', scope, 'number', _gh_number(f[3]), 'review_id', f[4], 'path', f[5],
                   'length', coalesce(length(f[6]), f[7]::INTEGER), 'is_reminder', t.is_reminder,
                   'is_status_request', t.is_status_request, 'shadow_tool', t.shadow_tool,
                   'has_result', t.has_result), scope, t.shadow_tool
FROM (SELECT *, coalesce(_ph_stored_flags(flags), _ph_text_flags(f[6])) AS t
      FROM _gh_rc);
DROP TABLE _gh_rc;

-- The commits parsed (of the rebase duplicates, the one kept).
INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, weight, detail,
                   repo, linked_keys)
SELECT 'github:commit:' || c.natural_key, 'github', c.occurred, c.actor, l.item_id, 'commit',
       CASE WHEN g.natural_key IS NULL THEN 1 ELSE 0 END,
       json_object('repo', c.repo, 'sha', c.sha, 'linked_keys', c.keys,
                   'pr_number', TRY_CAST(regexp_extract(l.item_id, '#(\d+)$', 1) AS INTEGER),
                   'merge', c.parents > 1, 'lands_pr', g.number), c.repo, c.keys
FROM _gh_commits AS c
LEFT JOIN _gh_commit_pr AS l USING (natural_key)
LEFT JOIN _gh_landing AS g USING (natural_key)
WHERE c.natural_key IN (SELECT natural_key FROM _gh_parsed_commits);
DROP TABLE _gh_commits;
DROP TABLE _gh_commit_pr;
DROP TABLE _gh_landing;
DROP TABLE _gh_parsed_commits;
DROP TABLE _gh_all_items;

INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, kind, detail, repo)
SELECT 'github:release:' || natural_key, 'github',
       (coalesce(payload ->> 'published_at', payload ->> 'created_at'))::TIMESTAMPTZ,
       _gh_account(payload -> 'author'), NULL, 'release',
       json_object('repo', scope, 'tag', payload ->> 'tag_name',
                   'prerelease', (payload ->> 'prerelease')::BOOLEAN), scope
FROM (SELECT r.natural_key, coalesce(n.repo, r.scope) AS scope, r.payload
      FROM raw_github_releases AS r LEFT JOIN _gh_names AS n ON n.name = r.scope AND n.ago > 1)
WHERE NOT coalesce((payload ->> 'draft')::BOOLEAN, false);
DROP TABLE _gh_names;

-- Declared experiments (docs/metrics.md section 9): the body's hypothesis and success criteria,
-- and a result in the body or in any comment (flags only: 05_text_flags.sql).
UPDATE work_items SET has_hypothesis = i.declared.has_hypothesis,
                      has_success_criteria = i.declared.has_success_criteria,
                      has_result = i.declared.has_result OR coalesce(r.has_result, false)
FROM _gh_items AS i
LEFT JOIN (SELECT item_id, bool_or(coalesce((detail ->> 'has_result')::BOOLEAN, false))
                      AS has_result
           FROM events WHERE source = 'github' AND kind IN ('issue_comment', 'pr_comment')
           GROUP BY item_id) AS r USING (item_id)
WHERE work_items.item_id = i.item_id;
DROP TABLE _gh_items;
