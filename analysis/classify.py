"""Classification: every work item, channel and event gets a category and the rule that set it.

Work items, channels and repositories go through the ordered [[classification.rules]] (first
match wins; every condition given must hold, a list matches when any value does; a condition on
something the row does not have is false). Then:
- a GitHub pull request or issue first inherits from the first Jira key it references that is
  classified, then the rules, then [classification.repos] (repository default);
- an unclassified Jira item inherits from its classified parent or epic;
- a channel falls back to [classification.channels].
Events (docs/metrics.md section 1): event-level rules win (Jira status transitions, field edits
other than summary/description, worklogs, and Slack reminders or status requests are `process`); a
commit inherits from the Jira key its message references; other events inherit from their work
item, Slack messages from their channel, releases and commits outside any pull request from their
repository. Anything else is `unclassified`, with category_rule NO_RULE.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

import duckdb

from analysis import insert_rows
from analysis.event_seq import number_events, resume_event_seq
from processhealth import event_base_delta, ui
from processhealth.duckdb_files import sql_literal

NO_RULE = "no matching rule"
# The rule of a Slack message counted as a reminder for its sender alone, an account named in
# [people] bots (by login, name or id) whose message normalization did not flag.
BOT_REMINDER = "event:bot_reminder"
CONTENT_FIELDS = ("summary", "description")


def _list(values: Iterable[str], fold: str = "lower") -> str:
    return ", ".join(sql_literal(getattr(str(v), fold)()) for v in values)


def _globs(column: str, patterns: Iterable[str]) -> str:
    """Glob on the full name and on its last path segment (acme/api and api both match api*)."""
    parts = [f"lower({column}) GLOB {sql_literal(p.lower())} OR "
             f"lower(regexp_extract({column}, '[^/]*$')) GLOB {sql_literal(p.lower())}"
             for p in patterns]
    return "(" + " OR ".join(parts) + ")"


def rule_condition(match: Any) -> str:
    """SQL condition of one rule over columns source, container, type, labels, components,
    parent_key, title, channel_name (see `_CANDIDATES`)."""
    parts = []
    if match.source:
        parts.append(f"source = {sql_literal(match.source)}")
    if match.project:
        parts.append(f"(source = 'jira' AND upper(container) IN ({_list(match.project, 'upper')}))")
    if match.issue_type:
        parts.append(f"lower(type) IN ({_list(match.issue_type)})")
    for column, values in (("labels", match.labels), ("components", match.components)):
        if values:
            parts.append(f"list_has_any(list_transform({column}, lambda x: lower(x)), "
                         f"[{_list(values)}])")
    if match.parent:
        parts.append(f"upper(parent_key) IN ({_list(match.parent, 'upper')})")
    if match.repo:
        parts.append(f"(source = 'github' AND {_globs('container', match.repo)})")
    if match.title_regex:
        parts.append(f"regexp_matches(title, {sql_literal(match.title_regex)})")
    if match.channel:
        parts.append(f"(source = 'slack' AND {_globs('channel_name', match.channel)})")
    return " AND ".join(parts) or "TRUE"


def rules_case(rules: list[Any]) -> str:
    """CASE giving the index (from 1) of the first matching rule, NULL if none."""
    if not rules:
        return "NULL::INTEGER"
    whens = " ".join(f"WHEN {rule_condition(r.match)} THEN {i}" for i, r in enumerate(rules, 1))
    return f"CASE {whens} END"


def first_glob(name: str, mapping: dict[str, str]) -> tuple[str, str] | None:
    """(category, pattern) of the first glob in `mapping` matching the name or its last segment."""
    short = name.rsplit("/", 1)[-1].lower()
    for pattern, category in mapping.items():
        p = pattern.lower()
        if fnmatch.fnmatchcase(short, p) or fnmatch.fnmatchcase(name.lower(), p):
            return category, pattern
    return None


# Rows that rules classify, all with the same columns so one CASE serves them all.
_CANDIDATES = """
    SELECT 'item' AS what, item_id AS id, source, container, type, labels, components, parent_key,
           title, NULL::VARCHAR AS channel_name FROM work_items
    UNION ALL
    SELECT 'channel', channel_id, 'slack', NULL, NULL, NULL, NULL, NULL, NULL, name FROM channels
    UNION ALL
    SELECT 'repo', repo, 'github', repo, NULL, NULL, NULL, NULL, NULL, NULL FROM _repos
"""


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Classify work_items, channels, then events (in place)."""
    cls = config.classification
    con.execute("CREATE OR REPLACE TEMP TABLE _rules(idx INTEGER, name VARCHAR, category VARCHAR)")
    insert_rows(con, "_rules", ("idx", "name", "category"),
                [(i, r.name, r.category) for i, r in enumerate(cls.rules, 1)])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _repos AS
        SELECT DISTINCT container AS repo FROM work_items
        WHERE source = 'github' AND container <> ''
        UNION SELECT DISTINCT repo FROM events
        WHERE source = 'github' AND item_id IS NULL AND repo IS NOT NULL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _by_rule AS
        SELECT c.what, c.id, r.category, r.name AS rule
        FROM (SELECT what, id, {rules_case(cls.rules)} AS idx FROM ({_CANDIDATES})) c
        JOIN _rules r USING (idx)
    """)
    _defaults(con, "repo", "SELECT repo FROM _repos", cls.repos, "repos")
    _defaults(con, "channel", "SELECT name, channel_id FROM channels", cls.channels, "channels")
    _team_defaults(con, config)
    with ui.profiled("items", indent="  "):
        _classify_items(con)
    con.execute(f"""
        UPDATE channels SET category = coalesce(b.category, d.category, 'unclassified'),
               category_rule = coalesce(b.rule, d.rule, {sql_literal(NO_RULE)})
        FROM channels c2 LEFT JOIN _by_rule b ON b.what = 'channel' AND b.id = c2.channel_id
        LEFT JOIN _default d ON d.what = 'channel' AND d.id = c2.channel_id
        WHERE channels.channel_id = c2.channel_id
    """)
    _classify_events(con, config)
    for table in ("_rules", "_repos", "_by_rule", "_default", "_links"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _defaults(con: duckdb.DuckDBPyConnection, what: str, query: str, mapping: dict[str, str],
              section: str) -> None:
    """Fallback categories from [classification.repos] / [classification.channels] globs."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _default(what VARCHAR, id VARCHAR,"
                " category VARCHAR, rule VARCHAR)")
    rows = []
    for name, *ident in con.execute(query).fetchall():
        found = first_glob(name or "", mapping)
        if found:
            rows.append((what, ident[0] if ident else name, found[0], f"{section}:{found[1]}"))
    insert_rows(con, "_default", ("what", "id", "category", "rule"), rows)


def _team_defaults(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """A repository or channel in a team's configured scope that nothing above classified:
    [classification] team_repos (default customer: the team's product) and team_channels
    (default enabling: its working chat)."""
    from analysis.teams import repo_aliases, scope_teams

    cls, rows = config.classification, []
    aliases = repo_aliases(con)
    done = {(w, i) for w, i in con.execute("SELECT what, id FROM _default").fetchall()}
    for what, query, source, category, section in (
            ("repo", "SELECT repo, repo FROM _repos", "github", cls.team_repos, "team_repos"),
            ("channel", "SELECT name, channel_id FROM channels", "slack", cls.team_channels,
             "team_channels")):
        if category == "unclassified":
            continue
        for name, ident in con.execute(query).fetchall():
            teams = scope_teams(f"{source}:{name or ''}", config.teams,
                                aliases.get(name or "", ()) if source == "github" else ())
            if teams and (what, ident) not in done:
                rows.append((what, ident, category, f"{section}:{teams[0]}"))
    insert_rows(con, "_default", ("what", "id", "category", "rule"), rows)


def _classify_items(con: duckdb.DuckDBPyConnection) -> None:
    # Jira items: rules, then their parent's category (one level up is enough for sub-tasks).
    con.execute(f"""
        UPDATE work_items SET category = coalesce(b.category, 'unclassified'),
               category_rule = coalesce(b.rule, {sql_literal(NO_RULE)})
        FROM work_items w LEFT JOIN _by_rule b ON b.what = 'item' AND b.id = w.item_id
        WHERE work_items.item_id = w.item_id AND w.source = 'jira'
    """)
    con.execute("""
        UPDATE work_items SET category = p.category,
               category_rule = p.category_rule || ' via parent ' || p.key
        FROM work_items p
        WHERE work_items.source = 'jira' AND work_items.category = 'unclassified'
          AND p.source = 'jira' AND p.key = work_items.parent_key AND p.category <> 'unclassified'
    """)
    # GitHub items: the first classified Jira key they reference, the rules, the repo default.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _links AS
        SELECT l.item_id, arg_min(j.category, l.pos) AS category,
               arg_min(j.category_rule || ' via ' || j.key, l.pos) AS rule
        FROM (SELECT item_id, unnest(linked_keys) AS key,
                     generate_subscripts(linked_keys, 1) AS pos
              FROM work_items WHERE source = 'github') l
        JOIN work_items j ON j.source = 'jira' AND j.key = l.key AND j.category <> 'unclassified'
        GROUP BY l.item_id
    """)
    # The new values in the table's row order: DuckDB updates rows in scattered order one by one
    # (46k GitHub items took 2 s), rows in order in bulk.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _item_class AS
        SELECT w.rowid AS row, coalesce(l.category, b.category, d.category, 'unclassified') AS c,
               coalesce(l.rule, b.rule, d.rule, {sql_literal(NO_RULE)}) AS r
        FROM work_items w
        LEFT JOIN _links l ON l.item_id = w.item_id
        LEFT JOIN _by_rule b ON b.what = 'item' AND b.id = w.item_id
        LEFT JOIN _default d ON d.what = 'repo' AND d.id = w.container
        WHERE w.source <> 'jira'
        ORDER BY row
    """)
    con.execute("UPDATE work_items SET category = x.c, category_rule = x.r FROM _item_class x"
                " WHERE work_items.rowid = x.row")
    con.execute("DROP TABLE _item_class")


def _classify_events(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    bots = [b.lower() for b in config.people.bots]
    listed = _list(bots)
    bot_check = (f"OR lower(i.login) IN ({listed}) OR lower(i.display_name) IN ({listed}) "
                 f"OR lower(i.source_user_id) IN ({listed})" if bots else "")
    content = _list(CONTENT_FIELDS)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _commit_links AS
        SELECT l.rid, arg_min(j.category, l.pos) AS category,
               arg_min(j.category_rule || ' via ' || j.key, l.pos) AS rule
        FROM (SELECT rowid AS rid, unnest(linked_keys) AS key,
                     generate_subscripts(linked_keys, 1) AS pos
              FROM events WHERE kind = 'commit' AND linked_keys IS NOT NULL) l
        JOIN work_items j ON j.source = 'jira' AND j.key = l.key AND j.category <> 'unclassified'
        GROUP BY l.rid
    """)
    # With the categories, event_seq is numbered in time order, ties in event_id order (a build's
    # normalization writes 0, see defer_event_seq; rows written by hand draw from the sequence):
    # see number_events. One UPDATE of every event, in row order. Until then events are told
    # apart by rowid (no event is deleted).
    # Numbered apart: a window sort that carried the categories' strings spilled at 10M events
    # (32.7 s for the table below; the numbering alone 3.1 s, the joins alone under 1 s).
    event_base_delta.fresh_events(con)  # the events numbered 0: normalized in this build
    with ui.profiled("event numbers", indent="  "):
        number_events(con)
    with ui.profiled("event classes", indent="  "):
        _event_classes(con, bot_check, content)
    with ui.profiled("events written", indent="  "):
        _write_event_classes(con)


def _event_classes(con: duckdb.DuckDBPyConnection, bot_check: str, content: str) -> None:
    # sk: the subkind normalization wrote. A build that starts from the last build's events
    # (docs/build.md, "Cost") finds the subkind this step filled in then (a message of an
    # account named in [people] bots that normalization did not flag: BOT_REMINDER) and takes
    # it as the NULL it was, so the fill follows the account's names now (with its subkind: a
    # rule of [[classification.rules]] may carry the same name; review of 85a0f07).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _event_class AS
        SELECT e.rid, e.n, e.sk, CASE
            WHEN e.kind = 'jira_transition'
                THEN {{'c': 'process', 'r': 'event:status_change', 's': 'status_change'}}
            WHEN e.kind = 'jira_field_edit' AND (e.sk = 'metadata_edit' OR (e.sk IS NULL
                 AND lower(coalesce(e.field_id, e.field, '')) NOT IN ({content})
                 AND lower(coalesce(e.field, '')) NOT IN ({content})))
                THEN {{'c': 'process', 'r': 'event:metadata_edit', 's': 'metadata_edit'}}
            WHEN e.kind = 'jira_worklog'
                THEN {{'c': 'process', 'r': 'event:timesheet', 's': 'timesheet'}}
            WHEN e.sk IN ('reminder', 'status_request')
                THEN {{'c': 'process', 'r': 'event:reminder', 's': e.sk}}
            WHEN e.source = 'slack' AND i.source_user_id = 'USLACKBOT'
                THEN {{'c': 'process', 'r': 'event:reminder', 's': coalesce(e.sk, 'reminder')}}
            WHEN e.source = 'slack' AND (false {bot_check})
                THEN {{'c': 'process', 'r': CASE WHEN e.sk IS NULL THEN '{BOT_REMINDER}'
                                                 ELSE 'event:reminder' END,
                      's': coalesce(e.sk, 'reminder')}}
            WHEN cl.category IS NOT NULL THEN {{'c': cl.category, 'r': cl.rule, 's': NULL}}
            WHEN w.category IS NOT NULL THEN {{'c': w.category, 'r': w.category_rule, 's': NULL}}
            WHEN c.category IS NOT NULL THEN {{'c': c.category, 'r': c.category_rule, 's': NULL}}
            WHEN coalesce(rb.category, rd.category) IS NOT NULL
                THEN {{'c': coalesce(rb.category, rd.category), 'r': coalesce(rb.rule, rd.rule),
                       's': NULL}}
            ELSE {{'c': 'unclassified', 'r': {sql_literal(NO_RULE)}, 's': NULL}} END AS v
        FROM (SELECT e.*, e.rowid AS rid, coalesce(o.n, e.event_seq) AS n,
                     CASE WHEN e.category_rule = '{BOT_REMINDER}' AND e.subkind = 'reminder'
                          THEN NULL ELSE e.subkind END
                         AS sk
              FROM events e LEFT JOIN _event_no o ON o.rid = e.rowid) e
        LEFT JOIN identities i ON e.actor_account = i.source || ':' || i.source_user_id
        LEFT JOIN _commit_links cl ON cl.rid = e.rid
        LEFT JOIN work_items w ON w.item_id = e.item_id
        LEFT JOIN channels c ON c.channel_id = e.channel_id
        LEFT JOIN _by_rule rb ON rb.what = 'repo' AND rb.id = e.repo
             AND e.source = 'github' AND e.item_id IS NULL
        LEFT JOIN _default rd ON rd.what = 'repo' AND rd.id = e.repo
             AND e.source = 'github' AND e.item_id IS NULL
        ORDER BY rid
    """)


def _write_event_classes(con: duckdb.DuckDBPyConnection) -> None:
    # only the rows whose values change are written: an incremental build's kept events carry
    # the last build's (docs/build.md, "Cost"), most of them the same
    event_base_delta.analysed(con, """
        SELECT e.event_id, e.person_id, e.subkind, e.event_seq FROM _event_class AS x
        JOIN events AS e ON e.rowid = x.rid
        WHERE (x.v.c, x.v.r, coalesce(x.sk, x.v.s), x.n)
              IS DISTINCT FROM (e.category, e.category_rule, e.subkind, e.event_seq)""")
    con.execute("""
        UPDATE events SET category = x.v.c, category_rule = x.v.r,
               subkind = coalesce(x.sk, x.v.s), event_seq = x.n
        FROM _event_class x
        WHERE events.rowid = x.rid
          AND (x.v.c, x.v.r, coalesce(x.sk, x.v.s), x.n)
              IS DISTINCT FROM (events.category, events.category_rule, events.subkind,
                                events.event_seq)
    """)
    con.execute("DROP TABLE _event_class")
    con.execute("DROP TABLE _event_no")
    con.execute("DROP TABLE _commit_links")
    resume_event_seq(con)
