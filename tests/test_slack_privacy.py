"""Privacy at ingest: with the default config no message text reaches any database file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from shared_cache import shared_org
from test_slack_rows import TOKEN, normalize

from collectors import slack
from collectors.slack_export import read_export, save_export
from processhealth.config_models import SlackConfig
from processhealth.store import RawStore
from simulation import OrgSpec
from simulation.server import serve
from simulation.slack_emulator import SlackEmulator
from simulation.slack_export import write_export

# Words people typed in the simulated workspace: public channels, threads, bots, a private
# channel and a DM (the last two are never read with the default config).
KNOWN = ["Customer asks about export limits", "Thoughts on the new cache layer",
         "Agreed, let's do that", "please update the status of your PMTool items",
         "submit your timesheet", "hiring plan draft", "PRIVATE-DM-TEXT"]


@pytest.fixture(scope="module")
def org():
    return shared_org(7, OrgSpec.small())


def found_in(path: Path) -> set[str]:
    """Known texts in the file's bytes (and WAL), or in any column of any table, as text."""
    hits = set()
    for file in (path, path.with_name(path.name + ".wal")):
        if file.exists():
            data = file.read_bytes()
            hits |= {t for t in KNOWN if t.encode() in data}
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
            "current_database() AND (data_type LIKE 'VARCHAR%' OR data_type = 'JSON')").fetchall()
        tests = ", ".join(f'coalesce(bool_or(contains("{{c}}"::VARCHAR, ${i + 1})), false)'
                          for i in range(len(KNOWN)))
        for table, column in columns:
            row = con.execute(f'SELECT {tests.format(c=column)} FROM "{table}"', KNOWN).fetchone()
            hits |= {text for text, hit in zip(KNOWN, row, strict=True) if hit}
    finally:
        con.close()
    return hits


def fill(org, tmp_path: Path, store_text: bool) -> list[Path]:
    """Collect through the API and import the full (private=True) export, then build."""
    raw = tmp_path / "raw.duckdb"
    with pytest.MonkeyPatch.context() as mp, serve(SlackEmulator(org, TOKEN)) as s:
        mp.setenv("SLACK_TOKEN", TOKEN)
        with RawStore(raw) as store:
            slack.collect(SlackConfig(enabled=True, base_url=s.url), store,
                          store_message_text=store_text)
    export = read_export(write_export(org, tmp_path / "export.zip", private=True),
                         SlackConfig())
    with RawStore(tmp_path / "imported.duckdb") as store:
        save_export(export, store, store_message_text=store_text)
    normalize(raw, tmp_path / "analytics.duckdb").close()
    normalize(tmp_path / "imported.duckdb", tmp_path / "analytics2.duckdb").close()
    return [raw, tmp_path / "imported.duckdb", tmp_path / "analytics.duckdb",
            tmp_path / "analytics2.duckdb"]


def test_default_config_leaves_no_message_text_in_any_database(org, tmp_path):
    for path in fill(org, tmp_path, store_text=False):
        assert found_in(path) == set(), path


def test_store_message_text_keeps_text_but_still_not_private_conversations(org, tmp_path):
    raw, imported, analytics, _ = fill(org, tmp_path, store_text=True)
    public = set(KNOWN) - {"hiring plan draft", "PRIVATE-DM-TEXT"}
    assert found_in(raw) == public  # the search above does find text when it is there
    assert found_in(imported) == public
    assert found_in(analytics) == public  # events.detail.text
