"""Review of 85a0f07 (docs/build.md, "Cost"): the build state is taken after the analysis, so
an incremental build starts from normalized tables that hold what the last build's analysis
wrote into them in place (person ids, bot flags, categories, subkinds, event numbers, the Jira
echo). That is right only if every such write is total: a function of the normalized rows and
the config, whatever the column held before. Each test changes the raw store (or people.csv,
an analysis input: a build with every source kept) so that an in-place value of a row the
incremental build keeps must change, checks that it did change, and compares the incremental
result with `build --full` of the same store."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest
from test_incremental import build, compare, make_org_store, one_row
from test_jira_delta_review import WITH_HISTORY, _issue, _put
from test_slack_delta_review import PLAIN, save

from processhealth import incremental
from processhealth.config_analysis import ClassificationRule, RuleMatch

pytestmark = [pytest.mark.slow, pytest.mark.extended]


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def q(db: Path, statement: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(statement, params or []).fetchall()


def same_as_full(folder: Path, config) -> list[str]:
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    assert build(full, full=True).mode == "full"
    return compare(Path(config.storage.analytics_path), folder / "full.duckdb")


def incremental_build(config) -> incremental.Plan:
    plan = build(config)
    assert plan.mode == "incremental", plan.summary()
    return plan


def plain_message(raw: Path, where: str = PLAIN) -> tuple[str, str, dict]:
    key, scope, found = one_row(raw, "raw_slack_messages", where)
    return key, scope, found["payload"]


def scope_keys(raw: Path, table: str, scope: str) -> list[str]:
    return [r[0] for r in q(raw, f"SELECT DISTINCT natural_key FROM {table} WHERE scope = ?",
                            [scope])]


# --- 1. identities.is_bot = identities.is_bot OR the resolved flag -------------------------


def test_a_slack_user_flagged_a_bot_then_not(org_store):
    """A user's is_bot set, then cleared, in raw_slack_users: the flag the analysis ORs into
    identities.is_bot must not stick (Slack's identities are written again; GitHub and Jira
    kept, with their flags as the last analysis left them)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    [(user,)] = q(raw, "SELECT payload ->> 'user' FROM raw_slack_messages WHERE payload ->> 'user'"
                       " IN (SELECT natural_key FROM raw_slack_users WHERE payload ->> 'is_bot'"
                       " = 'false') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    _, scope, found = one_row(raw, "raw_slack_users", f"natural_key = '{user}'")

    def flag(value: bool) -> None:
        save(raw, "users", user, scope, {**found["payload"], "is_bot": value})
        assert incremental_build(config).kept == ("github", "jira")
        assert q(target, "SELECT is_bot, matched_by = 'bot' FROM identities WHERE source ="
                         " 'slack' AND source_user_id = ?", [user]) == [(value, value)]

    person = q(target, "SELECT person_id FROM identities WHERE source_user_id = ?", [user])
    # the state is the analysed tables (85a0f07): the next build starts from these flags
    assert q(incremental.state_path(config), "SELECT count(person_id) > 0, count(category) > 0"
             " FROM events") == [(True, True)]
    flag(True)
    assert same_as_full(folder, config) == []
    flag(False)
    assert q(target, "SELECT person_id FROM identities WHERE source_user_id = ?",
             [user]) == person
    assert same_as_full(folder, config) == []


def test_a_slack_bot_named_in_people_bots_by_a_later_message(org_store):
    """A bot account known from its messages only (no raw_slack_bots row): its name is the
    greatest any message gives. A later message under a name listed in [people] bots makes
    the account's name listed, so the earlier, kept message is counted a reminder
    (classification's fill, category_rule event:bot_reminder); with the later message under
    the first name again the fill must go too. Needs 85a0f07's mark: without it the kept
    message stays a reminder."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    config.people.bots = ["zz-alerts"]
    key, scope, payload = plain_message(raw)
    bot = {k: v for k, v in payload.items() if k != "user"}
    bot |= {"bot_id": "B0TOTAL001", "subtype": "bot_message",
            "features": {**bot["features"], "is_reminder": False, "is_status_request": False}}
    first, later = f"{key}-bot1", f"{key}-bot2"
    save(raw, "messages", first, scope, {**bot, "username": "alerts",
                                         "ts": "1767225600.000500"})
    build(config)
    event = f"slack:message:{first}"
    rule = "SELECT subkind, category_rule FROM events WHERE event_id = ?"
    assert q(target, rule, [event])[0][0] is None

    save(raw, "messages", later, scope, {**bot, "username": "zz-alerts",
                                         "ts": "1767225601.000500"})
    plan = incremental_build(config)
    assert plan.touched == {"slack": 1}  # the first message is kept
    assert q(target, rule, [event]) == [("reminder", "event:bot_reminder")]
    assert same_as_full(folder, config) == []

    # the later message under the first one's name (a message marked deleted would still
    # name its account: slack_refs holds every stored message)
    save(raw, "messages", later, scope, {**bot, "username": "alerts", "ts": "1767225601.000500"})
    assert incremental_build(config).touched == {"slack": 1}
    assert q(target, rule, [event])[0][0] is None
    assert q(target, "SELECT display_name FROM identities WHERE source_user_id = 'B0TOTAL001'"
             ) == [("alerts",)]
    assert same_as_full(folder, config) == []


# --- 2. person columns and _ensure_identities --------------------------------------------


def test_an_account_whose_only_message_goes(org_store):
    """A Slack account known from one message alone (no users row: the message's refs give it
    its identities row), then the message by another account: the account, its person and its
    person-months must go."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, payload = plain_message(raw)
    lone = f"{key}-lone"
    save(raw, "messages", lone, scope, {**payload, "user": "U0TOTAL001",
                                        "ts": "1767225600.000700"})
    incremental_build(config)
    person = q(target, "SELECT person_id FROM identities WHERE source_user_id = 'U0TOTAL001'")
    assert len(person) == 1
    assert q(target, "SELECT count(*) FROM person_months WHERE person_id = ?", [person[0][0]]
             ) == [(1,)]
    assert same_as_full(folder, config) == []

    # the message now by its first author (marked deleted, it would still name the account:
    # slack_refs holds every stored message, and so would a full build)
    save(raw, "messages", lone, scope, {**payload, "ts": "1767225600.000700"})
    assert incremental_build(config).touched == {"slack": 1}
    assert q(target, "SELECT count(*) FROM identities WHERE source_user_id = 'U0TOTAL001'") \
        == [(0,)]
    assert q(target, "SELECT count(*) FROM people WHERE person_id = ?", [person[0][0]]) \
        == [(0,)]
    assert same_as_full(folder, config) == []


def test_people_csv_merges_then_splits_people_in_kept_rows(org_store):
    """people.csv is an analysis input: its edit makes an incremental build with every source
    kept, whose rows carry the last build's person ids (events, work items, transitions,
    identities). Two people pinned into one, then the file emptied again."""
    folder, config = org_store
    target = Path(config.storage.analytics_path)
    people = folder / "people.csv"
    people.write_text("person,github,jira,slack,email\n")
    config.people.csv = people
    build(config)
    jira_uid, _, slack_uid, _ = q(target, """
        SELECT j.source_user_id, j.person_id, s.source_user_id, s.person_id
        FROM identities j, identities s
        WHERE j.source = 'jira' AND s.source = 'slack' AND NOT j.is_bot AND NOT s.is_bot
          AND j.person_id <> s.person_id
          AND j.person_id IN (SELECT author_id FROM work_items)
          AND s.person_id IN (SELECT person_id FROM events WHERE source = 'slack')
        ORDER BY ALL LIMIT 1""")[0]
    before = q(target, "SELECT event_id, person_id FROM events ORDER BY ALL")

    people.write_text(f"person,github,jira,slack,email\ncsv-merged,,{jira_uid},{slack_uid},\n")
    plan = incremental_build(config)
    assert plan.kept == ("github", "jira", "slack")
    assert q(target, "SELECT DISTINCT person_id FROM identities WHERE source_user_id IN (?, ?)",
             [jira_uid, slack_uid]) == [("csv-merged",)]
    assert q(target, "SELECT count(*) FROM work_items WHERE author_id = 'csv-merged'")[0][0] > 0
    assert q(target, "SELECT count(*) FILTER (WHERE person_id <> 'csv-merged'), count(*) > 0"
                     " FROM events WHERE actor_account IN (?, ?)",
             [f"jira:{jira_uid}", f"slack:{slack_uid}"]) == [(0, True)]
    assert same_as_full(folder, config) == []

    people.write_text("person,github,jira,slack,email\n")
    incremental_build(config)
    assert q(target, "SELECT event_id, person_id FROM events ORDER BY ALL") == before
    assert same_as_full(folder, config) == []


def test_a_new_jira_account_renames_a_person_of_kept_slack_and_github_rows(org_store):
    """A person without a Jira account gets one (an issue's new assignee, with the person's
    email and another name): the person id, named after the Jira account now, changes on the
    kept Slack and GitHub rows; the assignee put back, the Jira account goes (by-issue Jira:
    identities aggregated from every issue's users) and the old id comes back."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    [(person, email)] = q(target, """
        SELECT person_id, min(email) FROM identities WHERE NOT is_bot GROUP BY 1
        HAVING count(*) FILTER (WHERE source = 'jira') = 0 AND min(email) IS NOT NULL
        ORDER BY 1 LIMIT 1""")
    key, _, payload = _issue(raw, "payload -> 'fields' ->> 'assignee' IS NOT NULL")
    kept = ("SELECT count(*) FROM events WHERE source <> 'jira' AND person_id = ?"
            " GROUP BY ALL")
    [(acts,)] = q(target, kept, [person])
    issue = copy.deepcopy(payload)
    issue["fields"]["assignee"] = {"accountId": "totality-0001", "accountType": "atlassian",
                                   "active": True, "displayName": "Totality Newname",
                                   "emailAddress": email}
    _put(raw, issue, "2030-01-01T00:00:00.000+0000")
    plan = incremental_build(config)
    assert plan.kept == ("github", "slack") and plan.touched["jira"] == 1
    [(renamed,)] = q(target, "SELECT person_id FROM identities WHERE source_user_id ="
                             " 'totality-0001'")
    assert renamed != person and q(target, kept, [renamed]) == [(acts,)]
    assert same_as_full(folder, config) == []

    _put(raw, payload, "2030-01-02T00:00:00.000+0000")
    incremental_build(config)
    assert q(target, "SELECT count(*) FROM identities WHERE source_user_id = 'totality-0001'") \
        == [(0,)]
    assert q(target, kept, [person]) == [(acts,)]
    assert same_as_full(folder, config) == []


# --- 3. classification -----------------------------------------------------------------


def test_a_parents_category_reaches_kept_children_and_github_items_and_back(org_store):
    """One rule only (label `totality`): every Jira item is unclassified but the labelled
    one. An epic labelled: its kept children inherit it (via parent), and so do the GitHub
    pull requests and commits that name a child (GitHub kept); the label removed: all back to
    unclassified. Jira by issue (the epic alone touched)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    config.classification.rules = [ClassificationRule(
        name="totality", category="enabling", match=RuleMatch(labels=["totality"]))]
    config.classification.repos = {}
    config.classification.team_repos = "unclassified"
    build(config)
    [(parent,)] = q(target, "SELECT parent_key FROM work_items w WHERE parent_key IS NOT NULL"
                            " AND EXISTS (SELECT 1 FROM work_items g WHERE g.source = 'github'"
                            " AND list_contains(g.linked_keys, w.key))"
                            " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    key, _, payload = _issue(raw, f"natural_key = '{parent}'")
    def inherited(table: str, source: str) -> int:
        return q(target, f"SELECT count(*) FROM {table} WHERE source = ? AND category_rule"
                         f" LIKE 'totality via parent {parent}%'", [source])[0][0]

    assert inherited("work_items", "jira") == 0

    def labelled(labels: list[str], updated: str) -> None:
        issue = copy.deepcopy(payload)
        issue["fields"]["labels"] = labels
        _put(raw, issue, updated)
        plan = incremental_build(config)
        assert "jira" in plan.delta and plan.touched["jira"] == 1 and "github" in plan.kept

    labelled([*payload["fields"].get("labels", []), "totality"], "2030-01-01T00:00:00.000+0000")
    assert inherited("work_items", "jira") > 0 and inherited("work_items", "github") > 0
    assert inherited("events", "github") > 0 and inherited("events", "jira") > 0
    assert same_as_full(folder, config) == []

    labelled([lb for lb in payload["fields"].get("labels", []) if lb != "totality"],
             "2030-01-02T00:00:00.000+0000")
    assert q(target, "SELECT count(*) FROM work_items WHERE category <> 'unclassified'") \
        == [(0,)]
    assert same_as_full(folder, config) == []


def test_a_channel_renamed_into_and_out_of_a_category(org_store):
    """A channel renamed to a name [classification.channels] classifies: its kept messages
    take the new category (channels are written again; the messages are not), then back."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    [(channel, name)] = q(target, "SELECT channel_id, name FROM channels WHERE category ="
                                  " 'unclassified' AND channel_id IN (SELECT channel_id FROM"
                                  " events) ORDER BY 1 LIMIT 1")
    key, scope, found = one_row(raw, "raw_slack_channels", f"natural_key = '{channel}'")

    def renamed(to: str, category: str) -> None:
        save(raw, "channels", channel, scope, {**found["payload"], "name": to})
        plan = incremental_build(config)
        assert plan.kept == ("github", "jira") and plan.touched.get("slack", 0) == 0
        assert q(target, "SELECT DISTINCT category FROM events WHERE channel_id = ?"
                         " AND subkind IS NULL", [channel]) == [(category,)]

    renamed("totality-support", "customer")
    assert same_as_full(folder, config) == []
    renamed(name, "unclassified")
    assert same_as_full(folder, config) == []


def test_a_rule_named_like_the_bot_reminder_mark(org_store):
    """Rule names are free text (config_analysis.ClassificationRule.name). A channel rule
    named `event:bot_reminder` gives its messages that category_rule; classification took the
    subkind of such a kept message as its own fill (NULL), so a kept message linking a shadow
    tool lost `shadow_tool`, which a full build keeps (found by this review, a strict xfail
    until fixed: the fill is taken back only with its own subkind, `reminder`)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    config.classification.rules = [ClassificationRule(
        name="event:bot_reminder", category="enabling", match=RuleMatch(channel=["general"])),
        *config.classification.rules]
    [(channel,)] = q(raw, "SELECT natural_key FROM raw_slack_channels WHERE payload ->> 'name'"
                          " = 'general'")
    key, scope, payload = plain_message(raw, f"{PLAIN} AND payload ->> 'channel' = '{channel}'")
    linked = f"{key}-shadow"
    save(raw, "messages", linked, scope, {
        **payload, "ts": "1767225600.000900",
        "features": {**payload["features"], "is_reminder": False, "is_status_request": False,
                     "shadow_tool": "notion.so"}})
    build(config)
    event = "SELECT subkind, category_rule FROM events WHERE event_id = ?"
    assert q(target, event, [f"slack:message:{linked}"]) == [("shadow_tool",
                                                              "event:bot_reminder")]
    save(raw, "messages", f"{key}-other", scope, {**payload, "ts": "1767225600.000950"})
    assert incremental_build(config).touched == {"slack": 1}  # the linking message kept
    # fails here: events (subkind NULL, full: shadow_tool) and the views and stored blocks
    # over it (metric_event_base, _facts, _human, _team)
    assert same_as_full(folder, config) == []
    assert q(target, event, [f"slack:message:{linked}"]) == [("shadow_tool",
                                                              "event:bot_reminder")]


def test_an_event_numbered_again_when_another_arrives_in_its_second(org_store):
    """event_seq of a kept event: a new event in the same second, ordered before it (event
    id), moves its number by one."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, payload = plain_message(raw)
    event = f"slack:message:{key}"
    [(seq,)] = q(target, "SELECT event_seq FROM events WHERE event_id = ?", [event])
    early = f"0{key}"  # sorts before the message's key
    assert f"slack:message:{early}" < event
    save(raw, "messages", early, scope, dict(payload))
    assert incremental_build(config).touched == {"slack": 1}
    assert q(target, "SELECT event_seq FROM events WHERE event_id = ?", [event]) == [(seq + 1,)]
    assert same_as_full(folder, config) == []


def test_a_jira_echo_set_reset_and_set_again_on_a_kept_issue(org_store):
    """The echo of a link's second side (link_other_side) moves between two issues as one of
    them changes: the other, kept, gets the mark, loses it (weight 1, detail without echo)
    and gets it again."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    p, k = [r[0] for r in q(raw, f"SELECT natural_key FROM raw_jira_issues WHERE {WITH_HISTORY}"
                                 " ORDER BY natural_key LIMIT 2")]
    issues = {x: _issue(raw, f"natural_key = '{x}'")[2] for x in (p, k)}
    actor = issues[p]["changelog"]["histories"][0]["author"]

    def link(key: str, other: str, history_id: str, at: str) -> None:
        issues[key]["changelog"]["histories"].append(
            {"author": actor, "created": at, "id": history_id,
             "items": [{"field": "Link", "fieldtype": "jira", "from": None, "fromString": None,
                        "to": other, "toString": f"This issue relates to {other}"}]})

    link(p, k, "880001", "2026-03-05T10:00:00.000+0000")
    link(k, p, "880002", "2026-03-05T10:00:10.000+0000")
    for x in (p, k):
        _put(raw, issues[x], "2030-01-01T00:00:00.000+0000")
    incremental_build(config)
    echo = ("SELECT item_id, weight, detail ->> 'echo' FROM events WHERE source = 'jira'"
            " AND field = 'Link' AND history_id LIKE '88000%' ORDER BY ALL")
    assert q(target, echo) == sorted([(f"jira:{k}", 0, "link_other_side"),
                                      (f"jira:{p}", 1, None)])
    kept_detail = q(target, "SELECT detail FROM events WHERE item_id = ? AND history_id ="
                            " '880001'", [f"jira:{p}"])

    for history_id, updated in (("880000", "2030-01-02"), ("880002", "2030-01-03")):
        issues[k]["changelog"]["histories"][-1]["id"] = history_id
        _put(raw, issues[k], f"{updated}T00:00:00.000+0000")
        plan = incremental_build(config)
        assert plan.touched == {"jira": 1}
        first = history_id == "880000"  # k's side first now: p's kept side is the echo
        assert q(target, echo) == sorted([(f"jira:{k}", 1 if first else 0,
                                           None if first else "link_other_side"),
                                          (f"jira:{p}", 0 if first else 1,
                                           "link_other_side" if first else None)])
        assert same_as_full(folder, config) == []
    assert q(target, "SELECT detail FROM events WHERE item_id = ? AND history_id = '880001'",
             [f"jira:{p}"]) == kept_detail


# --- 5. pseudonyms: the state after normalization ------------------------------------


def test_pseudonymized_incremental_builds_equal_a_full_one(org_store, monkeypatch):
    """With privacy.pseudonymize the state is the normalized tables (no person ids): a Slack
    user's bot flag and a changed message, then a Jira issue's label; each incremental build
    equals a full one with the same salt."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    monkeypatch.setenv("PROCESSHEALTH_SALT", "a review salt")
    config.privacy.pseudonymize = True
    build(config)
    assert q(incremental.state_path(config), "SELECT count(person_id), count(*) > 0 FROM events"
             ) == [(0, True)]
    [(user,)] = q(raw, "SELECT natural_key FROM raw_slack_users WHERE payload ->> 'is_bot' ="
                       " 'false' AND natural_key IN (SELECT payload ->> 'user' FROM"
                       " raw_slack_messages) ORDER BY 1 LIMIT 1")
    _, uscope, found = one_row(raw, "raw_slack_users", f"natural_key = '{user}'")
    save(raw, "users", user, uscope, {**found["payload"], "is_bot": True})
    key, scope, payload = plain_message(raw)
    payload["features"] = {**payload["features"], "is_status_request": True}
    save(raw, "messages", key, scope, payload)
    assert incremental_build(config).kept == ("github", "jira")
    assert same_as_full(folder, config) == []

    key, _, issue = _issue(raw, WITH_HISTORY)
    issue["fields"]["labels"] = [*issue["fields"].get("labels", []), "customer"]
    _put(raw, issue, "2030-01-01T00:00:00.000+0000")
    assert "jira" in incremental_build(config).delta
    assert q(target, "SELECT count(*) FROM people WHERE person_id NOT LIKE 'p-%'") == [(0,)]
    assert same_as_full(folder, config) == []
