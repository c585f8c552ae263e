"""Privacy at build (docs/metrics.md section 10): salted-hash pseudonyms and small-group flags."""

from __future__ import annotations

import re

import pytest
from test_effort_fixtures import (
    at,
    domain_db,
    event,
    identity,
    item,
    make_config,
    rows,
    run_analysis,
)

from analysis.privacy import pseudonym
from processhealth.errors import UserError

TEAM = {"name": "atlas", "jira_projects": ["ATL"]}
PERSON_TABLES = [("people", "person_id"), ("identities", "person_id"), ("events", "person_id"),
                 ("effort", "person_id"), ("person_months", "person_id"),
                 ("work_items", "author_id"), ("transitions", "person_id")]


def _org(con):
    ana = identity(con, "jira", "a1", "ana", "ana@acme.example", "Ana Lima")
    bo = identity(con, "jira", "b1", "bo", "bo@acme.example", "Bo Berg")
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    con.execute("UPDATE work_items SET author_account = ?", [ana])
    con.execute("INSERT INTO transitions(item_id, \"at\", actor_account, to_status)"
                " VALUES ('jira:ATL-1', ?, ?, 'Done')", [at(5), bo])
    event(con, "e1", "jira", at(0), ana, "jira_created", item_id="jira:ATL-1")
    event(con, "e2", "jira", at(5), bo, "jira_transition", item_id="jira:ATL-1")


def test_pseudonyms_replace_every_person_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    con = domain_db()
    _org(con)
    config = make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True})
    run_analysis(con, config)
    ids = {pseudonym("pepper", "ana-lima"), pseudonym("pepper", "bo-berg")}
    for table, column in PERSON_TABLES:
        found = {r[0] for r in rows(con, f"SELECT {column} FROM {table}")}
        assert found and found <= ids, table
    assert rows(con, "SELECT count(*) FROM people WHERE display_name LIKE 'Person %'"
                     " AND email IS NULL")[0][0] == 2
    assert rows(con, "SELECT count(*) FROM identities WHERE login IS NOT NULL OR email IS NOT NULL"
                     " OR display_name IS NOT NULL")[0][0] == 0
    assert all(s.startswith("p-") for (s,) in rows(con, "SELECT session_id FROM effort"))
    text = str(rows(con, "SELECT * FROM metric_effort_allocation"))
    assert "Ana" not in text and "ana-lima" not in text


def test_same_salt_same_pseudonyms_and_the_salt_is_required(tmp_path, monkeypatch):
    assert pseudonym("s", "ana") == pseudonym("s", "ana") != pseudonym("t", "ana")
    monkeypatch.delenv("PROCESSHEALTH_SALT", raising=False)
    con = domain_db()
    _org(con)
    config = make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True})
    with pytest.raises(UserError, match="PROCESSHEALTH_SALT"):
        run_analysis(con, config)


def test_small_groups_are_flagged(tmp_path):
    con = domain_db()
    _org(con)
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))  # min_group_size 5 by default
    flags = rows(con, "SELECT DISTINCT people_count, suppressed FROM metric_effort_allocation")
    assert flags == [(2, True)]
    assert rows(con, "SELECT bool_and(suppressed) FROM metric_effort_sensitivity")[0][0]


def test_pseudonymized_sessions_keep_their_time_when_a_person_id_holds_an_at_sign(
        tmp_path, monkeypatch):
    # A Jira Server account known only by a username like an e-mail address is a person of its
    # own, named by its account key: the session ids built from it hold two '@'.
    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    con = domain_db()
    _org(con)
    cy = identity(con, "jira", "cy@corp.example", None, None, None)
    event(con, "e3", "jira", at(1), cy, "jira_comment", item_id="jira:ATL-1")
    event(con, "e4", "jira", at(30), cy, "jira_comment", item_id="jira:ATL-1")
    config = make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True})
    run_analysis(con, config)
    sessions = rows(con, "SELECT session_id FROM effort_sessions")
    assert len(sessions) >= 3  # ana's, bo's and cy's (cy's two comments are far apart: two)
    for (session,) in sessions:
        assert re.fullmatch(r"p-[0-9a-f]+@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", session), session
    assert len({s for (s,) in sessions}) == len(sessions)


def test_pseudonyms_reach_the_people_a_jira_field_edit_names(tmp_path, monkeypatch):
    # The changelog of a person-valued field names people in detail: display names in from/to,
    # accounts in from_id/to_id. Assignee ana -> bo -> ana, a user-picker custom field set to
    # bo, and an assignee account no identity holds.
    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    con = domain_db()
    _org(con)
    bo = "jira:b1"
    for n, (old, new) in enumerate([(("a1", "Ana Lima"), ("b1", "Bo Berg")),
                                    (("b1", "Bo Berg"), ("a1", "Ana Lima")),
                                    ((None, None), ("x9", "Xu Gone"))]):
        event(con, f"as{n}", "jira", at(10 + n), bo, "jira_field_edit", item_id="jira:ATL-1",
              field="assignee", field_id="assignee", field_name="Assignee",
              **{"from": old[1], "to": new[1], "from_id": old[0], "to_id": new[0]})
    event(con, "rv", "jira", at(20), bo, "jira_field_edit", item_id="jira:ATL-1",
          field="Reviewer", field_id="customfield_10100", field_name="Reviewer",
          **{"from": None, "to": "Bo Berg", "from_id": None, "to_id": "b1"})
    event(con, "pr", "jira", at(21), bo, "jira_field_edit", item_id="jira:ATL-1",
          field="priority", field_id="priority", field_name="Priority",
          **{"from": "Low", "to": "High", "from_id": "4", "to_id": "2"})
    config = make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True})
    run_analysis(con, config)
    ana, bo_p = pseudonym("pepper", "ana-lima"), pseudonym("pepper", "bo-berg")
    edits = {e: (f, t, fi, ti) for e, f, t, fi, ti in rows(con, """
        SELECT event_id, detail ->> 'from', detail ->> 'to', detail ->> 'from_id',
               detail ->> 'to_id' FROM events WHERE kind = 'jira_field_edit'""")}
    assert edits["as0"] == (ana, bo_p, ana, bo_p) and edits["as1"] == (bo_p, ana, bo_p, ana)
    gone = pseudonym("pepper", "jira-account:x9")
    assert edits["as2"] == (None, gone, None, gone) and gone not in (ana, bo_p)
    assert edits["rv"] == (None, bo_p, None, bo_p)
    assert edits["pr"] == ("Low", "High", "4", "2")  # not a person: as it was
    text = str(rows(con, "SELECT detail FROM events"))
    for name in ("Ana Lima", "Bo Berg", "Xu Gone", '"a1"', '"b1"', '"x9"'):
        assert name not in text
    assert rows(con, "SELECT sum(assignee_ping_pongs) FROM metric_ping_pong")[0][0] == 1


def test_a_user_picker_by_the_field_list_is_pseudonymized_for_an_unknown_account(
        tmp_path, monkeypatch):
    """A single-user picker the site's field list types "user", set to an account no identity
    holds: its name and account became nothing else's, so they stayed (privacy review: "Zed
    Outsider"). By the field list, it gets a pseudonym of its own, as an unknown assignee
    does; a text field of the same list stays as it was."""
    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    con = domain_db()
    _org(con)
    con.execute("CREATE TABLE raw_jira_fields(natural_key VARCHAR, payload JSON)")
    con.execute("""INSERT INTO raw_jira_fields VALUES
        ('customfield_10300', '{"id": "customfield_10300", "name": "QA Owner",
                                "schema": {"type": "user"}}'),
        ('customfield_10301', '{"id": "customfield_10301", "name": "Team note",
                                "schema": {"type": "string"}}')""")
    bo = "jira:b1"
    event(con, "qa", "jira", at(20), bo, "jira_field_edit", item_id="jira:ATL-1",
          field="QA Owner", field_id="customfield_10300", field_name="QA Owner",
          **{"from": None, "to": "Zed Outsider", "from_id": None, "to_id": "z9"})
    event(con, "tn", "jira", at(21), bo, "jira_field_edit", item_id="jira:ATL-1",
          field="Team note", field_id="customfield_10301", field_name="Team note",
          **{"from": None, "to": "ok", "from_id": None, "to_id": None})
    run_analysis(con, make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True}))
    edits = dict(rows(con, "SELECT event_id, [detail ->> 'to', detail ->> 'to_id']"
                           " FROM events WHERE kind = 'jira_field_edit'"))
    unknown = pseudonym("pepper", "jira-account:z9")
    assert edits["qa"] == [unknown, unknown]
    assert edits["tn"] == ["ok", None]
    assert "Zed Outsider" not in str(rows(con, "SELECT detail FROM events"))


def test_an_email_account_gets_a_pseudonym_and_still_joins_its_identity(tmp_path, monkeypatch):
    """A commit author GitHub ties to no account acts as "github:email:<address>" (privacy
    review of 2026-12-06: the address stayed in events.actor_account with pseudonyms on)."""
    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    con = domain_db()
    _org(con)
    gone = identity(con, "github", "email:ana.lima@home.example", None, "Ana.Lima@home.example",
                    "Ana Lima")
    event(con, "c1", "github", at(7), gone, "commit")
    config = make_config(tmp_path, teams=[TEAM], privacy={"pseudonymize": True})
    run_analysis(con, config)
    text = str(rows(con, "SELECT * FROM events")) + str(rows(con, "SELECT * FROM identities"))
    assert "home.example" not in text and "ana.lima" not in text
    [(account,)] = rows(con, "SELECT actor_account FROM events WHERE event_id = 'c1'")
    assert re.fullmatch(r"github:email:[0-9a-f]{12}", account)
    # the same account in identities, still tied to the person the address matched
    [(person,)] = rows(con, "SELECT person_id FROM identities WHERE source = 'github'"
                            " AND 'github:' || source_user_id = ?", account)
    assert person == pseudonym("pepper", "ana-lima")
    [(actor,)] = rows(con, "SELECT person_id FROM events WHERE event_id = 'c1'")
    assert actor == person


def test_a_pseudonymized_database_keeps_no_real_name_login_or_email_in_its_bytes(
        tmp_path, monkeypatch):
    """Normalization writes the real logins, e-mails and names, which pseudonymization then
    replaces; DuckDB leaves the blocks it stops using as they were, so the file held every one
    of them in its bytes (readable with `strings`) until the build wrote its live rows into a
    new file (duckdb_files.write_live_rows_only)."""
    import duckdb
    from simulated import simulated_config

    from processhealth import incremental, pipeline

    shared = simulated_config()
    shared_bytes = shared.storage.analytics_path.read_bytes()
    config = _pseudonymized_simulated(tmp_path, monkeypatch)
    version = "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'a'"
    with duckdb.connect() as con:  # as the build without pseudonyms wrote it
        con.execute(f"ATTACH '{config.storage.analytics_path}' AS a (READ_ONLY)")
        [(stored,)] = con.execute(version).fetchall()
    pipeline.build(config, full=True)
    state = incremental.state_path(config)  # this build's (the copy holds the shared one's)
    with duckdb.connect(str(state), read_only=True) as con:  # what normalization saw
        real = {v for (v,) in con.execute(
            "SELECT unnest([login, email, display_name]) FROM identities"
            " WHERE source <> 'slack' OR NOT coalesce(is_bot, false)").fetchall()
            if v and len(v) >= 5}
    assert len(real) > 50
    written = config.storage.analytics_path.read_bytes()
    assert sorted(v for v in real if v.encode() in written) == []
    with duckdb.connect(str(config.storage.analytics_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM identities WHERE person_id LIKE 'p-%'"
                           ).fetchone()[0] > 0
        assert con.execute(version.replace("'a'", "current_database()")).fetchone()[0] == stored
        assert con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'events'"
                           " AND column_name = 'event_seq'").fetchone()[0]
    # the simulated organization the process's other tests use is as it was (the test wrote
    # [privacy] into its config and pseudonymized its database: test_pipeline's tests after it
    # in the same process then failed for want of PROCESSHEALTH_SALT)
    monkeypatch.delenv("PROCESSHEALTH_SALT")
    again = simulated_config()
    assert not again.privacy.pseudonymize
    assert again.storage.analytics_path.read_bytes() == shared_bytes


def _pseudonymized_simulated(tmp_path, monkeypatch):
    """The config of a copy of the simulated organization (tests/simulated.py) with
    `[privacy] pseudonymize = true`: the one simulated_config() gives is this process's other
    tests', which read it as it was built, without pseudonyms."""
    import shutil

    from simulated import simulated_config

    from processhealth.config import load_config

    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    folder = tmp_path / "org"
    shutil.copytree(simulated_config().storage.analytics_path.parent, folder)
    path = folder / "processhealth.toml"
    text = path.read_text(encoding="utf-8")
    assert "[privacy]" not in text
    path.write_text(text + "\n[privacy]\npseudonymize = true\n", encoding="utf-8")
    config = load_config(path)
    assert config.storage.analytics_path.is_relative_to(folder)
    assert config.storage.raw_path.is_relative_to(folder)
    return config


# Run as `processhealth` in a child process: it kills itself in the rewrite of a pseudonymized
# build, once the live rows are copied into the new file and before that file is checkpointed.
KILLED_IN_REWRITE = """
import os, signal
from processhealth import duckdb_files
opened = duckdb_files.open_duckdb
class Killed:
    def __init__(self, con):
        self.con = con
    def execute(self, sql, *args):
        result = self.con.execute(sql, *args)
        if sql.startswith("COPY FROM DATABASE"):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    def __getattr__(self, name):
        return getattr(self.con, name)
def open_duckdb(path, **settings):
    con = opened(path, **settings)
    return Killed(con) if str(path).endswith(".clean") else con
duckdb_files.open_duckdb = open_duckdb
from processhealth.cli import main
main()
"""


@pytest.mark.extended  # CI runs it after the suite: three builds, one in a child process (9 s)
def test_a_build_killed_in_its_rewrite_leaves_the_database_and_the_next_build_cleans_up(
        tmp_path, monkeypatch):
    """A pseudonymized build killed while it writes the live rows into `<temp>.clean`
    (duckdb_files.write_live_rows_only): the published database is as it was, and the next
    build, even one with nothing to do, removes the killed one's files (remove_left_by_dead:
    `<name>.building-<pid>@<host>` and whatever follows, here `.clean`). A full build's state
    then names the rewritten file, so the build after it has nothing to do."""
    import hashlib
    import os
    import signal
    import subprocess
    import sys

    from processhealth import pipeline

    config = _pseudonymized_simulated(tmp_path, monkeypatch)
    target = config.storage.analytics_path
    pipeline.build(config, full=True)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    child = subprocess.run(
        [sys.executable, "-c", KILLED_IN_REWRITE, "--config", str(config.path), "build",
         "--full"], env=os.environ.copy(), capture_output=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    left = sorted(p.name for p in target.parent.rglob(f"{target.name}.building-*"))
    assert any(name.endswith(".clean") for name in left), left  # killed in the rewrite
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    pipeline.build(config)  # nothing changed: not rebuilt, but what the killed one left goes
    assert pipeline.last_plan.mode == "current"
    assert sorted(p.name for p in tmp_path.rglob("*.building-*")) == []
    pipeline.build(config, full=True)
    assert sorted(p.name for p in tmp_path.rglob("*.building-*")) == []
    pipeline.build(config)  # the build state names the rewritten file, as renamed into place
    assert pipeline.last_plan.mode == "current"
