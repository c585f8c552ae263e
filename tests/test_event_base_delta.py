"""The patch of metric_event_base (processhealth/event_base_delta.py): changes whose effect on
kept events' rows only one part of the patch finds, each checked against a `build --full`.
tests/test_incremental.py checks the patch on a whole month; a mutation check of the patch
(each part left out in turn) found these parts no other test needed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from test_incremental import build, make_org_store, one_row
from test_jira_delta_review import WITH_HISTORY, _issue, _put
from test_slack_delta_review import PLAIN, same_as_full, save

# The extended tier (CI runs it after the suite): test_incremental.py's comparisons keep the
# patch in the suite; these are further cases (about 40 s).
pytestmark = [pytest.mark.slow, pytest.mark.extended]


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def query(target: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(target), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()


def test_a_reminder_added_before_a_kept_process_event(org_store):
    """A reminder collected late, an hour before a kept process event of a live member of its
    channel: that event is prompted now (its row read again, though its own columns, its
    credit and its item are as they were)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    [(seq, channel, person, at)] = query(target, """
        SELECT b.event_seq, s.channel_id, b.person_id, b.occurred_at
        FROM metric_event_base AS b
        JOIN metric_channel_presence AS s
          ON s.person_id = b.person_id AND s.live_from < b.occurred_at - INTERVAL 2 HOUR
         AND b.occurred_at <= s.live_until
        WHERE b.is_process AND NOT b.is_bot AND NOT b.prompted AND b.source = 'jira'
        ORDER BY b.occurred_at, b.event_seq LIMIT 1""")
    others = query(target, "SELECT source_user_id FROM identities WHERE source = 'slack'"
                           " AND person_id <> ? AND NOT is_bot", [person])
    key, scope, found = one_row(
        raw, "raw_slack_messages",
        f"{PLAIN} AND payload ->> 'channel' = '{channel}' AND payload ->> 'user' IN"
        f" ({', '.join(repr(o) for o in sorted(u for (u,) in others))})")
    ts = f"{datetime.timestamp(at) - 3600:.6f}"
    payload = {**found["payload"], "ts": ts,
               "features": {**found["payload"]["features"], "is_reminder": True}}
    save(raw, "messages", f"{scope}/late-reminder", scope, payload)
    assert build(config).mode == "incremental"
    assert query(target, "SELECT prompted FROM metric_event_base WHERE event_seq = ?",
                 [seq]) == [(True,)]
    assert same_as_full(folder, config) == []


def test_a_comment_added_next_to_a_kept_status_change(org_store):
    """A comment an hour after a status change counted as paperwork: the issue is normalized
    again whole, the status change as it was (no change of its own), and it is paperwork no
    more (the item's activity changed)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    [(seq, item, at)] = query(target, """
        SELECT event_seq, item_id, occurred_at FROM metric_event_base
        WHERE paperwork AND NOT is_bot AND source = 'jira'
        ORDER BY occurred_at, event_seq LIMIT 1""")
    _, _, template = _issue(raw, WITH_HISTORY)
    comment = template["fields"]["comment"]["comments"][0]
    key, _, issue = _issue(raw, f"natural_key = '{item.removeprefix('jira:')}'")
    comments = issue["fields"].setdefault("comment", {"comments": []})["comments"]
    comments.append({**comment, "id": "990001",
                     "created": (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")})
    _put(raw, issue, "2030-01-01T00:00:00.000+0000")
    assert build(config).mode == "incremental"
    assert query(target, "SELECT paperwork FROM metric_event_base WHERE event_seq = ?",
                 [seq]) == [(False,)]
    assert same_as_full(folder, config) == []
