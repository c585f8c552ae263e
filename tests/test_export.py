"""`processhealth export --parquet DIR` and the read-only `processhealth sql`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from report_org import TEAMS, report_database

from processhealth.cli import cli
from processhealth.errors import UserError
from processhealth.temp_names import owner_tag
from reports import export
from reports.db import AnalyticsDB
from reports.export import MANIFEST, export_parquet


@pytest.fixture
def analytics(tmp_path: Path) -> Path:
    path = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    (tmp_path / "processhealth.toml").write_text(f'[storage]\nanalytics_path = "{path}"\n')
    return path


def events(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()


def read(folder: Path, relation: str, where: str = "true") -> tuple[int, list[str]]:
    """(rows, columns) of an exported relation read back with Hive partitioning."""
    con = duckdb.connect()
    query = (f"SELECT * FROM read_parquet('{folder / relation}/**/*.parquet',"
             f" hive_partitioning = true) WHERE {where}")
    columns = [d[0] for d in con.execute(query).description]
    return con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0], columns


def test_every_relation_exported_and_partitioned_by_month(analytics: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    with AnalyticsDB.open(analytics) as db:
        written = export_parquet(db, out)
        expected = {name: db.scalar(f'SELECT count(*) FROM "{name}"') for name in db.columns}
    assert {name: w["rows"] for name, w in written.items()} == expected
    assert sorted(p.name for p in (out / "events").iterdir())[0] == "month=2025-11-01"
    assert written["events"]["partitioned_by"] == "month"
    assert written["people"]["partitioned_by"] is None
    assert (out / "people" / "data.parquet").exists()
    rows, columns = read(out, "events")
    assert rows == expected["events"] and "month" in columns and "detail" in columns
    # one row per team and category
    assert read(out, "metric_effort_allocation", "month = DATE '2026-10-01'")[0] == 2 * 4
    assert json.loads((out / MANIFEST).read_text())["relations"]["events"]["rows"] == \
        expected["events"] > 4000  # 2 a day per person, 9 people, 12 months


def test_export_replaces_its_own_output_and_refuses_other_folders(
    analytics: Path, tmp_path: Path
) -> None:
    out = tmp_path / "parquet"
    count = events(analytics)
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
        export_parquet(db, out)  # again: replaced, not duplicated
        assert read(out, "events")[0] == count
        (out / "notes.txt").write_text("mine")
        with pytest.raises(UserError, match="notes.txt"):
            export_parquet(db, out)
        other = tmp_path / "other"
        other.mkdir()
        (other / "a.csv").write_text("x")
        with pytest.raises(UserError, match="not empty"):
            export_parquet(db, other)
    assert (other / "a.csv").exists()


def test_a_failed_or_killed_export_leaves_the_previous_export_whole(
    analytics: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relations are written into a hidden folder first: an export that fails halfway (a
    full disk, a killed process) leaves the previous export as it was, not some relations
    deleted and others new beside the old manifest (as it did)."""
    out = tmp_path / "parquet"
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len([p for p in before if p.suffix == ".parquet"]) > 40

    written, seen = [], []

    def fail_on_the_tenth(db, name, target):
        if len(written) == 9:
            # what `read_parquet('DIR/**/*.parquet')` reads while an export writes: the
            # previous export only, not also the nine relations of the hidden folder
            seen.extend(p.relative_to(out) for p in out.rglob("*.parquet"))
            raise OSError(28, "No space left on device")
        written.append(name)
        return real_write(db, name, target)

    real_write = export._write
    monkeypatch.setattr(export, "_write", fail_on_the_tenth)
    with AnalyticsDB.open(analytics) as db, pytest.raises(OSError, match="No space"):
        export_parquet(db, out)
    monkeypatch.setattr(export, "_write", real_write)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(seen) == sorted(p for p in before if p.suffix == ".parquet")

    # a killed export's hidden folder: not taken for foreign files, removed by the next export
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = out / f"{export.STAGING}{owner_tag(dead.pid)}"
    (left / "events").mkdir(parents=True)
    (left / "events" / "data.parquet").write_bytes(b"half")
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
    assert not left.exists() and read(out, "events")[0] == events(analytics)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


KILLED_WHILE_MOVING = """
import os, sys
from pathlib import Path
from processhealth import temp_names
from reports import export
from reports.db import AnalyticsDB
temp_names._this_host = lambda: "0badc0de"  # another host sharing the folder
out = Path(sys.argv[2])
replace = os.replace
def killed_at_the_first_move(src, dst):
    if Path(src).parent.name.startswith(export.STAGING) and Path(dst).parent == out:
        os._exit(9)  # SIGKILL: no finally runs
    replace(src, dst)
os.replace = killed_at_the_first_move
with AnalyticsDB.open(Path(sys.argv[1])) as db:
    export.export_parquet(db, out)
"""


def test_an_export_killed_while_it_moves_leaves_no_parquet_name_in_its_hidden_folder(
    analytics: Path, tmp_path: Path
) -> None:
    """The relations get their `.parquet` names once moved in: an export killed between the two
    left a relation under `.parquet` names in its hidden folder, which an export on another
    host leaves for a day (its process may run), so `DIR/**/*.parquet` read that relation
    twice, beside the one the other export moved in."""
    out = tmp_path / "parquet"
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_MOVING, str(analytics), str(out)])
    assert killed.returncode == 9
    [hidden] = [p for p in out.iterdir() if p.name.startswith(export.STAGING)]
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)  # on this host: the other host's hidden folder stays
    assert hidden.exists()
    assert [p.relative_to(out) for p in hidden.rglob("*.parquet")] == []
    assert read(out, "events")[0] == events(analytics)


def test_cli_export(analytics: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "processhealth.toml"),
                                      "export", "--parquet", str(tmp_path / "pq")])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output and (tmp_path / "pq" / MANIFEST).exists()
    relations = len(json.loads((tmp_path / "pq" / MANIFEST).read_text())["relations"])
    assert re.search(rf"export: {relations} tables and views in \d", result.output)  # progress


def run_sql(tmp_path: Path, query: str, *fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "processhealth.toml"), "sql",
                                      query, *fmt])
    return result.exit_code, result.output


def test_sql_formats(analytics: Path, tmp_path: Path) -> None:
    code, out = run_sql(tmp_path, "SELECT team, member_count FROM teams ORDER BY team",
                        "--format", "csv")
    assert code == 0 and out.splitlines()[:3] == ["team,member_count"] + [
        f"{team},{size}" for team, size in sorted(TEAMS.items())]
    code, out = run_sql(tmp_path, "SELECT month, share FROM metric_effort_allocation "
                        "WHERE team = 'atlas' AND category = 'customer' ORDER BY month LIMIT 1",
                        "--format", "json")
    # November 2025: 20 weekdays of 60 customer and 10 process minutes, 30 chat minutes
    assert code == 0 and json.loads(out) == [{"month": "2025-11-01",
                                              "share": pytest.approx(1200 / 1430)}]
    code, out = run_sql(tmp_path, "SELECT count(*) AS n FROM events")
    assert code == 0 and str(events(analytics)) in out.replace(",", "")


@pytest.mark.parametrize("query", [
    "DELETE FROM events",
    "CREATE TABLE x AS SELECT 1",
    "SELECT 1; DROP TABLE events",
    "COPY events TO '/tmp/events.csv'",
    "ATTACH '/tmp/other.duckdb'",
])
def test_sql_refuses_anything_but_one_read(analytics: Path, tmp_path: Path, query: str) -> None:
    before = events(analytics)
    code, out = run_sql(tmp_path, query)
    assert code == 1 and "read-only" in out
    with AnalyticsDB.open(analytics) as db:
        assert db.scalar("SELECT count(*) FROM events") == before > 0


@pytest.mark.extended  # in CI after the suite (6 s): the suite kills one as it moves
def test_an_export_killed_before_its_manifest_does_not_lock_the_folder(
    analytics: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the relations were moved in but before the manifest replaced the old one
    (whose relations differ: an older version's export without `people`): the next export
    takes the moved-in relation for its own, not for a foreign file."""
    out = tmp_path / "parquet"
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
    manifest = json.loads((out / MANIFEST).read_text())
    del manifest["relations"]["people"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    shutil.rmtree(out / "people")

    class Killed(BaseException):
        pass

    real_replace = export.os.replace

    def killed_at_the_manifest(src, dst):
        if Path(dst).name == MANIFEST:
            raise Killed
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", killed_at_the_manifest)
    with AnalyticsDB.open(analytics) as db, pytest.raises(Killed):
        export_parquet(db, out)
    monkeypatch.setattr(export.os, "replace", real_replace)
    assert (out / "people").is_dir()
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, out)
    assert "people" in json.loads((out / MANIFEST).read_text())["relations"]
    assert not (out / f"{MANIFEST}.new").exists()

    # the first export into a new folder, killed the same way: no manifest yet, not refused
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(export.os, "replace", killed_at_the_manifest)
    with AnalyticsDB.open(analytics) as db, pytest.raises(Killed):
        export_parquet(db, fresh)
    monkeypatch.setattr(export.os, "replace", real_replace)
    assert (fresh / "events").is_dir() and not (fresh / MANIFEST).exists()
    with AnalyticsDB.open(analytics) as db:
        export_parquet(db, fresh)
    assert read(fresh, "events")[0] == events(analytics)
