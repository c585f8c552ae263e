"""`processhealth import slack-export`: the same result as the API, and bad exports refused."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from shared_cache import shared_org
from test_slack_rows import HFARAN, TOKEN, normalize

from collectors import slack
from collectors.clock import ScaledClock
from collectors.slack_export import read_export, save_export
from processhealth.config_models import SlackConfig
from processhealth.store import RawStore
from simulation import OrgSpec
from simulation.server import serve
from simulation.slack_emulator import SlackEmulator
from simulation.slack_export import write_export


@pytest.fixture(scope="module")
def org():
    return shared_org(7, OrgSpec.small())


@pytest.fixture(scope="module")
def both(org, tmp_path_factory):
    """The same workspace collected through the API and imported from its export."""
    d = tmp_path_factory.mktemp("slack-both")
    with pytest.MonkeyPatch.context() as mp, serve(SlackEmulator(org, TOKEN)) as s:
        mp.setenv("SLACK_TOKEN", TOKEN)
        with RawStore(d / "api.duckdb") as store:
            slack.collect(SlackConfig(enabled=True, base_url=s.url), store)
    export = read_export(write_export(org, d / "export.zip", private=True), SlackConfig())
    with RawStore(d / "export.duckdb") as store:
        save_export(export, store)
    return d


def test_api_and_export_give_identical_normalized_events(both):
    api = normalize(both / "api.duckdb", both / "api-analytics.duckdb")
    exp = normalize(both / "export.duckdb", both / "export-analytics.duckdb")
    # event_seq numbers the events within one database (events.event_seq), so it is left out
    query = "SELECT * EXCLUDE (event_seq) FROM events ORDER BY event_id"
    events = api.execute(query).fetchall()
    assert events == exp.execute(query).fetchall()
    kinds = api.execute("SELECT kind, subkind, count(*) FROM events GROUP BY ALL").fetchall()
    assert {(k, s) for k, s, _ in kinds} >= {("slack_message", None), ("slack_reply", None),
                                             ("slack_message", "reminder")}
    channels = "SELECT * FROM channels ORDER BY channel_id"
    assert api.execute(channels).fetchall() == exp.execute(channels).fetchall()
    users = "SELECT * FROM identities WHERE source_user_id LIKE 'U%' ORDER BY source_user_id"
    assert api.execute(users).fetchall() == exp.execute(users).fetchall()


def test_export_rows_are_the_api_rows(both):
    def payloads(path):
        with RawStore(path, read_only=True) as store:
            return store.con.execute("SELECT natural_key, scope, updated_at, payload::VARCHAR "
                                     "FROM raw_slack_messages ORDER BY 1").fetchall()

    assert payloads(both / "api.duckdb") == payloads(both / "export.duckdb")


def test_collect_after_an_import_continues_where_the_export_ends(org, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_TOKEN", TOKEN)
    export = read_export(write_export(org, tmp_path / "export.zip"), SlackConfig())
    with RawStore(tmp_path / "raw.duckdb") as store:
        imported = save_export(export, store)
        with serve(SlackEmulator(org, TOKEN)) as s:
            summary = slack.collect(SlackConfig(enabled=True, base_url=s.url), store,
                                    clock=ScaledClock(0.001))
        total = store.count("slack", "messages")
    assert total == imported  # nothing new, nothing twice
    assert summary.threads == 0  # no thread moved since the export
    assert summary.requests["conversations.history"] == summary.channels
    # only the last thread_lookback_days (30) of each channel's history were read again
    recent = 0
    for c in org.slack.channels:
        stamps = [float(m.ts) for m in c.messages]
        if not c.is_private and stamps:
            recent += sum(t >= max(stamps) - 30 * 86400 for t in stamps)
    assert summary.messages == recent < imported / 2


def test_import_command(org, tmp_path, run_cli):
    archive = write_export(org, tmp_path / "acme export.zip")
    config = tmp_path / "processhealth.toml"
    config.write_text('[slack]\nchannels = ["support-*"]\n')
    result = run_cli(config, "import", "slack-export", str(archive))
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "3 conversations" in result.output
    with RawStore(tmp_path / ".processhealth" / "raw.duckdb", read_only=True) as store:
        names = store.con.execute("SELECT payload->>'name' FROM raw_slack_channels").fetchall()
    assert sorted(n for (n,) in names) == ["support-atlas", "support-borealis", "support-cobalt"]


def _rewrite(good: Path, bad: Path, drop: str | None = None,
             add: tuple[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if item.filename != drop:
                dst.writestr(item, src.read(item))
        if add:
            dst.writestr(*add)
    return bad


@pytest.fixture(scope="module")
def good_export(org, tmp_path_factory):
    return write_export(org, tmp_path_factory.mktemp("good") / "export.zip")


@pytest.mark.parametrize(("case", "named"), [
    ("no channels.json", "channels.json"),
    ("no users.json", "users.json"),
    ("day file is not JSON", "general/2026-02-03.json"),
    ("entry escapes the folder", "../../etc/cron.d/evil.json"),
    ("not a zip", "export.zip"),
])
def test_bad_export_names_the_file_exits_1_and_writes_nothing(good_export, tmp_path, run_cli,
                                                              case, named):
    bad = tmp_path / "export.zip"
    if case == "no channels.json":
        _rewrite(good_export, bad, drop="channels.json")
    elif case == "no users.json":
        _rewrite(good_export, bad, drop="users.json")
    elif case == "day file is not JSON":
        _rewrite(good_export, bad, drop=named, add=(named, b'[{"ts": "1770112800.000001", '))
    elif case == "entry escapes the folder":
        _rewrite(good_export, bad, add=(named, b"[]"))
    else:
        bad.write_text("channels.json,users.json\n")
    config = tmp_path / "processhealth.toml"
    config.write_text("")
    result = run_cli(config, "import", "slack-export", str(bad))
    assert result.exit_code == 1, result.output
    assert named in result.output and "Traceback" not in result.output
    assert not (tmp_path / ".processhealth" / "raw.duckdb").exists()


def test_private_conversations_of_an_export_only_when_listed(org, tmp_path):
    archive = write_export(org, tmp_path / "all.zip", private=True)
    default = read_export(archive, SlackConfig())
    assert {c.get("name") for c, _ in default.conversations} >= {"general", "pmtool-updates"}
    assert not any(c.get("is_private") or c.get("is_im") for c, _ in default.conversations)
    listed = read_export(archive, SlackConfig(channels=[], private_channels=["leadership"],
                                              include_dms=True))
    assert sorted(folder for _, folder in listed.conversations) == sorted(
        [c.id if c.is_im else c.name for c in org.slack.channels if c.is_private])


@pytest.mark.parametrize("zipped", [False, True])
def test_a_real_workspace_export_imports(tmp_path, zipped):
    source = HFARAN
    if zipped:  # as downloaded: everything inside one top folder of the zip
        source = Path(shutil.make_archive(str(tmp_path / "real"), "zip", HFARAN.parent,
                                          HFARAN.name))
    export = read_export(source, SlackConfig())
    with RawStore(tmp_path / "raw.duckdb") as store:
        saved = save_export(export, store)
    days = [json.loads(p.read_text()) for p in HFARAN.glob("*/*.json")]
    assert saved == sum(len(d) for d in days) == 158
    db = normalize(tmp_path / "raw.duckdb", tmp_path / "analytics.duckdb")
    notices = sum(m.get("subtype") in ("channel_join", "bot_add") for d in days for m in d)
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == saved - notices
    bots = db.execute("SELECT count(*) FROM events WHERE detail->>'is_bot' = 'true'").fetchone()
    assert bots[0] == 94
    names = db.execute("SELECT name FROM channels ORDER BY 1").fetchall()
    assert names == [("enrique",), ("traveling-sailor",)]
    accounts = db.execute("SELECT source_user_id, is_bot FROM identities").fetchall()
    assert sum(not bot for _, bot in accounts) == 4  # users.json
    assert {a for a, bot in accounts if bot} >= {"B0JL6RASU", "B0JL6UFSL", "B0VJZKVHC"}


def test_typed_columns_repeat_detail(both):
    """events' typed columns (linked_keys, shadow_tool) hold what detail holds."""
    from analysis import TYPED_DETAIL

    con = normalize(both / "api.duckdb", both / "typed-analytics.duckdb")
    for column, expr in TYPED_DETAIL.items():
        assert con.execute(f"SELECT count(*) FROM events WHERE {column} IS DISTINCT FROM"
                           f" ({expr})").fetchone() == (0,), column
    assert con.execute("SELECT count(linked_keys) > 0 FROM events").fetchone() == (True,)


def test_a_message_found_unreadable_halfway_leaves_the_store_as_it_was(good_export, tmp_path,
                                                                       run_cli):
    """A message the file checks let through but the row code cannot read, in the last day
    file: everything before it was committed, with a traceback (review)."""
    with zipfile.ZipFile(good_export) as src:
        last = max(n for n in src.namelist() if n.count("/") == 1 and n.endswith(".json")
                   and src.read(n).strip() not in (b"", b"[]"))
        messages = json.loads(src.read(last))
    messages[-1]["edited"] = "yes"  # an object in every export
    bad = _rewrite(good_export, tmp_path / "export.zip", drop=last,
                   add=(last, json.dumps(messages).encode()))
    config = tmp_path / "processhealth.toml"
    config.write_text("")
    result = run_cli(config, "import", "slack-export", str(bad))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert last in result.output and "nothing of this import was saved" in result.output
    with RawStore(tmp_path / ".processhealth" / "raw.duckdb", read_only=True) as store:
        assert [t for t in store.raw_tables() if store.con.execute(
            f"SELECT count(*) FROM {t}").fetchone()[0]] == []


def test_an_older_export_never_replaces_a_message_the_store_holds_later(good_export, tmp_path,
                                                                        run_cli):
    """An export is the workspace as it was when it was made (review): a message edited since,
    which the store holds in its edited version (a collection, or a later export), stays as
    stored when the older export is imported again, and the import says so."""
    with zipfile.ZipFile(good_export) as src:
        day = min(n for n in src.namelist() if n.count("/") == 1 and n.endswith(".json")
                  and src.read(n).strip() not in (b"", b"[]"))
        messages = json.loads(src.read(day))
    message = next(m for m in messages if not m.get("thread_ts"))
    edited_ts = f"{float(message['ts']) + 86400:.6f}"
    message["edited"] = {"user": message.get("user"), "ts": edited_ts}
    message["text"] = (message.get("text") or "") + " (edited, see PROJ-1)"
    later = _rewrite(good_export, tmp_path / "later.zip", drop=day,
                     add=(day, json.dumps(messages).encode()))
    config = tmp_path / "processhealth.toml"
    config.write_text("")

    def stored() -> str | None:
        with RawStore(tmp_path / ".processhealth" / "raw.duckdb", read_only=True) as store:
            return store.con.execute(
                "SELECT payload -> 'edited' ->> 'ts' FROM raw_slack_messages"
                " WHERE natural_key LIKE ?", [f"%/{message['ts']}"]).fetchone()[0]

    assert run_cli(config, "import", "slack-export", str(later)).exit_code == 0
    assert stored() == edited_ts
    result = run_cli(config, "import", "slack-export", str(good_export))
    assert result.exit_code == 0, result.output
    assert "1 messages, users or channels in these files are older than the versions the raw" \
        " store holds" in result.output
    assert stored() == edited_ts


def test_a_group_dm_is_named_by_its_id_not_by_its_members(good_export, tmp_path):
    """A group DM's Slack name and purpose list its members' handles; with include_dms its
    channel row names it by id and keeps no purpose, so no report names people through it
    (privacy review: the audit printed "#mpdm-julia.chaudhry--dana.weber--...")."""
    handles = "mpdm-julia.chaudhry--dana.weber--eitan.tanaka-1"
    with zipfile.ZipFile(good_export) as src:
        users = [u["id"] for u in json.loads(src.read("users.json"))[:3]]
    mpim = {"id": "G0GROUPDM1", "name": handles, "created": 1767225600, "members": users,
            "purpose": {"value": "Group messaging with: @julia.chaudhry @dana.weber"}}
    day = [{"type": "message", "user": users[0], "ts": "1767229200.000100", "text": "hi"}]
    archive = _rewrite(good_export, tmp_path / "export.zip", add=("mpims.json",
                                                                  json.dumps([mpim]).encode()))
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr(f"{handles}/2026-01-01.json", json.dumps(day))
    cfg = SlackConfig(include_dms=True)
    with RawStore(tmp_path / "raw.duckdb") as store:
        save_export(read_export(archive, cfg), store)
    con = normalize(tmp_path / "raw.duckdb", tmp_path / "analytics.duckdb", cfg)
    row = con.execute("SELECT name, purpose, is_private FROM channels WHERE channel_id = ?",
                      [mpim["id"]]).fetchone()
    assert row == ("group-dm-G0GROUPDM1", None, True)
    assert not con.execute("SELECT count(*) FROM channels WHERE name LIKE '%chaudhry%'"
                           " OR purpose LIKE '%chaudhry%'").fetchone()[0]
    assert con.execute("SELECT count(*) FROM events WHERE channel_id = ?",
                       [mpim["id"]]).fetchone()[0] == 1
