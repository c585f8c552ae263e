"""An incremental build normalizes Slack again only for the messages touched since the last
build (processhealth/slack_delta.py), and gives what a full build gives: new and changed
messages, messages gone from the raw store, marked deleted or unmarked, and the messages of a
user whose raw row changed or went away.

In the extended tier (CI runs it after the suite): the suite's
tests/test_incremental.py::test_incremental_builds_equal_a_full_build builds Slack by message
(a month appended, a changed and an unreadable message) and compares it with a full build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_incremental import build, compare, make_org_store, one_row

from processhealth.simload import replay
from processhealth.store import RawStore


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch)


def _sql(raw: Path, statement: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw)) as con:
        return con.execute(statement, params or []).fetchall()


def _slack_account_with_messages(raw: Path) -> tuple[str, dict]:
    """The human Slack user of the raw store who wrote the fewest messages, and their raw
    row."""
    key = _sql(raw, "SELECT payload ->> 'user' FROM raw_slack_messages WHERE payload ->> 'user'"
                    " IN (SELECT natural_key FROM raw_slack_users WHERE NOT coalesce("
                    "(payload ->> 'is_bot')::BOOLEAN, false) AND natural_key <> 'USLACKBOT')"
                    " GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")[0][0]
    found = one_row(raw, "raw_slack_users", f"natural_key = '{key}'")
    return key, found


def _as_bot(target: Path, account: str) -> tuple[int, int]:
    """The account's Slack events, and how many of them say the author is a bot."""
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute("SELECT count(*), count(*) FILTER ((detail ->> 'is_bot')::BOOLEAN)"
                           " FROM events WHERE source = 'slack' AND actor_account = ?",
                           [f"slack:{account}"]).fetchone()


@pytest.mark.extended  # 8-13 s; CI runs it after the suite
def test_slack_is_normalized_again_only_for_the_messages_touched(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert replay.split_last_month(raw, folder / "held.duckdb") > 0
    assert build(config).mode == "full"
    [(top, users_top)] = _sql(raw, "SELECT (SELECT max(seq) FROM raw_slack_messages),"
                                   " (SELECT max(seq) FROM raw_slack_users)")

    # a month of new rows, a user who is now a bot (their older messages change too), and a
    # message a full collection no longer found upstream
    assert replay.append(raw, folder / "held.duckdb") > 0
    [(new, messages)] = _sql(raw, "SELECT count(*) FILTER (seq > ?), count(*)"
                                  " FROM raw_slack_messages", [top])
    account, (_, user_scope, user) = _slack_account_with_messages(raw)
    user["payload"]["is_bot"] = True
    # another user saved after it (with a new field), so that its row is not the top seq
    # (a raw table whose top row goes means a store rolled back: a full build)
    after, after_scope, later = one_row(raw, "raw_slack_users", f"natural_key <> '{account}'")
    later["payload"]["tz_label"] = "Elsewhere"
    # (an older message whose author's row the replay did not save again: no other rule
    # touches it)
    gone, scope, found = one_row(raw, "raw_slack_messages",
                                 f"payload ->> 'subtype' IS NULL AND seq <= {top} AND payload"
                                 f" ->> 'user' IN (SELECT natural_key FROM raw_slack_users"
                                 f" WHERE seq <= {users_top}"
                                 f" AND natural_key NOT IN ('{account}', '{after}'))")
    with RawStore(raw) as store:
        store.save("slack", "users", [{"natural_key": account, "payload": user["payload"],
                                       "updated_at": None}], scope=user_scope)
        store.save("slack", "users", [{"natural_key": after, "payload": later["payload"],
                                       "updated_at": None}], scope=after_scope)
        assert store.mark_deleted("slack", "messages", scope,
                                  [k for k in found["scope_keys"] if k != gone]) == 1
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("github", "jira", "slack")
    written, as_bot = _as_bot(target, account)
    assert written == as_bot > 0  # the user's earlier messages were normalized again too
    # the new rows, the messages of the users saved again (the replay's users updated in the
    # last month, and this one), the one marked deleted: not every message
    assert new + 1 <= plan.touched["slack"] < messages
    assert "slack only for the" in plan.summary()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events WHERE event_id LIKE ?",
                           [f"slack:%:{gone}"]).fetchone()[0] == 0

    # the user's raw row gone (a store restored from a copy), the message found again (a later
    # full pass saw it: unmarked), another message's raw row gone
    other, _, _ = one_row(raw, "raw_slack_messages", f"natural_key <> '{gone}'"
                          " AND payload ->> 'subtype' IS NULL")
    _sql(raw, "DELETE FROM raw_slack_users WHERE natural_key = ?", [account])
    _sql(raw, "DELETE FROM raw_slack_messages WHERE natural_key = ?", [other])
    with RawStore(raw) as store:
        assert store.mark_deleted("slack", "messages", scope, found["scope_keys"]) == 0
    plan = build(config)
    assert (plan.mode, plan.delta) == ("incremental", ("slack",)), plan.reason
    assert written + 2 <= plan.touched["slack"] < messages
    assert _as_bot(target, account) == (written, 0)

    full_config = config.model_copy(deep=True)
    full_config.storage.analytics_path = folder / "full.duckdb"
    build(full_config, full=True)
    assert compare(target, folder / "full.duckdb") == []
