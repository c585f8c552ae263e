"""`processhealth import jira-json`: the simulation's saved search responses in, the same work
items and events out as a collection gives; bad files rejected before anything is written."""

from __future__ import annotations

import json

import pytest
from shared_cache import shared_org
from test_jira_normalize import normalize

from processhealth.store import RawStore
from simulation import OrgSpec
from simulation.jira_export import write_search_json


@pytest.fixture(scope="module")
def org():
    return shared_org(7, OrgSpec.small(months=1))


def toml(raw) -> str:
    return f'[storage]\nraw_path = "{raw}"\nanalytics_path = "{raw.parent / "a.duckdb"}"\n'


def test_import_of_saved_searches_gives_every_issue_and_event(org, tmp_path, write_config,
                                                              run_cli):
    files = write_search_json(org, tmp_path / "export", page_size=40)
    assert len(files) > len(org.jira.projects)  # several pages per project
    raw = tmp_path / "raw.duckdb"
    config = write_config(toml(raw))
    result = run_cli(config, "import", "jira-json", str(tmp_path / "export"))
    assert result.exit_code == 0, result.output
    assert f"imported {len(org.jira.issues)} Jira issues ({len(org.jira.issues)} new" \
        in result.output
    with RawStore(raw, read_only=True) as store:
        assert store.count("jira", "issues") == len(org.jira.issues)
        assert store.count("jira", "fields") > 10  # from expand=names
        assert store.con.execute("SELECT count(*) FROM sync_state").fetchone()[0] == 0
        url = store.con.execute("SELECT any_value(source_url) FROM raw_jira_issues").fetchone()
        assert url[0].startswith("file://")
    con = normalize(raw)
    kinds = dict(con.execute("SELECT kind, count(*) FROM events GROUP BY 1").fetchall())
    assert kinds["jira_created"] == len(org.jira.issues)
    assert kinds["jira_transition"] == sum(it.field == "status" for i in org.jira.issues
                                           for h in i.histories for it in h.items)
    fill = con.execute("SELECT count(*) FROM item_fields WHERE field_name = 'Story Points' "
                       "AND has_value").fetchone()[0]
    assert fill == sum("customfield_10016" in i.custom for i in org.jira.issues)
    again = run_cli(config, "import", "jira-json", *map(str, files[:2]))
    assert again.exit_code == 0 and "(0 new or changed)" in again.output


def test_files_are_checked_before_anything_is_written(org, tmp_path, write_config, run_cli):
    good = write_search_json(org, tmp_path / "export", page_size=1000)[0]
    bad = tmp_path / "export" / "zz-broken.json"
    bad.write_text(json.dumps({"total": 3, "values": []}))
    raw = tmp_path / "raw.duckdb"
    result = run_cli(write_config(toml(raw)), "import", "jira-json", str(good), str(bad))
    assert result.exit_code == 1
    assert str(bad) in result.output and 'an "issues" list' in result.output
    assert not raw.exists() or RawStore(raw, read_only=True).count("jira", "issues") == 0
    bad.write_text("{not json")
    result = run_cli(write_config(toml(raw)), "import", "jira-json", str(bad))
    assert result.exit_code == 1 and "not a readable JSON file" in result.output
    missing = run_cli(write_config(toml(raw)), "import", "jira-json", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_an_issue_found_unreadable_halfway_leaves_the_store_as_it_was(org, tmp_path,
                                                                      write_config, run_cli):
    """A shape the file checks let through but the row code cannot read, in the second file:
    the first file's issues were saved (and committed) before it, with a traceback (review)."""
    files = write_search_json(org, tmp_path / "export", page_size=40)
    data = json.loads(files[1].read_text())
    data["issues"][0]["fields"]["comment"] = {"total": 3, "comments": 5}
    files[1].write_text(json.dumps(data))
    raw = tmp_path / "raw.duckdb"
    config = write_config(toml(raw))
    result = run_cli(config, "import", "jira-json", *map(str, files))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert str(files[1]) in result.output and "nothing of this import was saved" in result.output
    with RawStore(raw, read_only=True) as store:
        assert not store.table_exists("raw_jira_issues") or store.count("jira", "issues") == 0
        assert not store.table_exists("raw_jira_fields") or store.count("jira", "fields") == 0


def test_overlapping_searches_keep_each_issues_newest_version(org, tmp_path, write_config,
                                                             run_cli):
    """Two saved searches name the same issue, the later file with an older copy: the newest
    is kept whatever the file order, and importing them again writes nothing (review)."""
    first = write_search_json(org, tmp_path / "export", page_size=1000)[0]
    data = json.loads(first.read_text())
    issue = data["issues"][0]
    old = json.loads(json.dumps(issue))
    old["fields"]["updated"] = "2010-01-01T00:00:00.000+0000"
    old["fields"]["summary"] = "an old copy"
    older = tmp_path / "zz-older.json"
    older.write_text(json.dumps({"issues": [old], "names": data.get("names", {})}))
    raw = tmp_path / "raw.duckdb"
    config = write_config(toml(raw))
    result = run_cli(config, "import", "jira-json", str(first), str(older))
    assert result.exit_code == 0, result.output
    assert f"imported {len(data['issues'])} Jira issues" in result.output
    with RawStore(raw, read_only=True) as store:
        [(summary,)] = store.con.execute(
            "SELECT payload -> 'fields' ->> 'summary' FROM raw_jira_issues WHERE natural_key = ?",
            [issue["key"]]).fetchall()
    assert summary == issue["fields"]["summary"]
    again = run_cli(config, "import", "jira-json", str(first), str(older))
    assert again.exit_code == 0 and "(0 new or changed)" in again.output


def test_a_field_kept_under_its_id_is_named_by_a_later_file(org, tmp_path, write_config,
                                                          run_cli):
    """A file saved without `names` keeps custom fields under their ids; a file that names
    them, in the same import or a later one, gives them their names (they stayed ids)."""
    first = write_search_json(org, tmp_path / "export", page_size=1000)[0]
    data = json.loads(first.read_text())
    bare = tmp_path / "a-bare.json"
    bare.write_text(json.dumps({"issues": data["issues"]}))
    named = tmp_path / "b-named.json"
    named.write_text(json.dumps({"issues": data["issues"][:1], "names": data["names"]}))
    raw = tmp_path / "raw.duckdb"
    config = write_config(toml(raw))
    field, name = next((k, v) for k, v in data["names"].items() if k.startswith("customfield_")
                       and any(k in i["fields"] for i in data["issues"]))

    def stored() -> str:
        with RawStore(raw, read_only=True) as store:
            return store.con.execute("SELECT payload ->> 'name' FROM raw_jira_fields"
                                     " WHERE natural_key = ?", [field]).fetchone()[0]

    assert run_cli(config, "import", "jira-json", str(bare)).exit_code == 0
    assert stored() == field
    assert run_cli(config, "import", "jira-json", str(named)).exit_code == 0
    assert stored() == name
    raw.unlink()
    assert run_cli(config, "import", "jira-json", str(bare), str(named)).exit_code == 0
    assert stored() == name


def test_an_older_file_never_replaces_a_newer_stored_issue_nor_undoes_a_deletion(
        org, tmp_path, write_config, run_cli):
    """An import is a file saved at some time, not what Jira holds now (review): an issue the
    store holds in a later version (a collection after the file was saved) stays as stored, the
    import says so, and a key `collect --full` marked deleted upstream stays marked when the
    file brings no newer version of it. A newer file still replaces it."""
    first = write_search_json(org, tmp_path / "export", page_size=1000)[0]
    data = json.loads(first.read_text())
    issue, gone = data["issues"][0], data["issues"][1]

    def version(updated: str, summary: str) -> dict:
        copy = json.loads(json.dumps(issue))
        copy["fields"].update(updated=updated, summary=summary)
        return copy

    def write(name: str, issues: list[dict]) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"issues": issues, "names": data.get("names", {})}))
        return str(path)

    raw = tmp_path / "raw.duckdb"
    config = write_config(toml(raw))
    assert run_cli(config, "import", "jira-json", str(first)).exit_code == 0
    newer = write("b-newer.json", [version("2031-03-01T10:00:00.000+0000", "the newer copy")])
    assert run_cli(config, "import", "jira-json", newer).exit_code == 0
    with RawStore(raw) as store:  # as `collect --full` records an issue gone upstream
        store.mark_deleted("jira", "issues", gone["fields"]["project"]["key"],
                           seen=[k for k in (i["key"] for i in data["issues"]) if k != gone["key"]])

    def stored() -> tuple[str, list[str]]:
        with RawStore(raw, read_only=True) as store:
            [(summary,)] = store.con.execute(
                "SELECT payload -> 'fields' ->> 'summary' FROM raw_jira_issues"
                " WHERE natural_key = ?", [issue["key"]]).fetchall()
            marked = [r[0] for r in store.con.execute(
                "SELECT natural_key FROM sync_deleted WHERE entity = 'issues'").fetchall()]
        return summary, marked

    assert stored() == ("the newer copy", [gone["key"]])
    older = write("c-older.json", [version("2031-02-01T10:00:00.000+0000", "an older copy"),
                                   gone])
    result = run_cli(config, "import", "jira-json", older)
    assert result.exit_code == 0, result.output
    assert "(0 new or changed)" in result.output
    assert "1 issues in these files are older than the versions the raw store holds" \
        in result.output
    assert stored() == ("the newer copy", [gone["key"]])
    assert run_cli(config, "import", "jira-json", str(first)).exit_code == 0  # the first again
    assert stored() == ("the newer copy", [gone["key"]])
    newest = write("d-newest.json", [version("2031-04-01T10:00:00.000+0000", "the newest")])
    assert "(1 new or changed)" in run_cli(config, "import", "jira-json", newest).output
    assert stored() == ("the newest", [gone["key"]])
