"""docs/schema.md is generated from the database's comments and must match a fresh build."""

from __future__ import annotations

import re

import duckdb
import pytest
from simulated import simulated_config

from processhealth import schema_doc
from processhealth.duckdb_files import open_duckdb


def test_schema_md_is_current() -> None:
    expected = schema_doc.generate()
    current = schema_doc.SCHEMA_MD.read_text(encoding="utf-8")
    assert current == expected, (
        "docs/schema.md is stale: run `.venv/bin/python -m processhealth.schema_doc` and commit it."
    )


def test_markdown_lists_comments_and_flags_undocumented_columns() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE events(event_id VARCHAR, note VARCHAR)")
    con.execute("COMMENT ON TABLE events IS 'Every act | in every tool.'")
    con.execute("COMMENT ON COLUMN events.event_id IS 'Unique id.'")
    con.execute("CREATE VIEW metric_x AS SELECT event_id FROM events")
    rels = schema_doc.relations(con)
    text = schema_doc.render_markdown(rels)
    assert "## Domain tables" in text and "## Metric views" in text
    assert "| `event_id` | VARCHAR | Unique id. |" in text
    assert "Every act \\| in every tool." in text  # a pipe cannot break the table
    assert schema_doc.missing_comments(rels) == [
        "view metric_x", "column events.note", "column metric_x.event_id",
    ]
    assert "- view metric_x" in text.split("## Not yet documented")[1]


# Values a column comment names that the simulated organization never writes, each with why.
NAMED_BUT_ABSENT = {
    # Only some simulated messages link spreadsheets; the small organization has none.
    ("events", "subkind"): {"shadow_tool"},
    # Every simulated item matches a classification rule (events can still be unclassified).
    ("work_items", "category"): {"unclassified"},
    # The small org has two months with enough people and its changes start in the second;
    # its experimenting team's improvement is not sure in one month (tests/test_verdicts.py
    # judges amplifiers).
    ("health_verdicts", "verdict"): {"amplifier"},
    # Both process changes come out insufficient_data on the small org (short windows), so no
    # change signals, no criterion met or not, and nothing but did estimates (before_after needs
    # an org-wide change, level a level criterion, none an unknown metric).
    ("health_change_verdicts", "verdict"): {"amplifier", "neutral", "process_is_product"},
    ("health_verdict_signals", "scope"): {"change"},
    ("health_experiment_results", "method"): {"before_after", "level", "none"},
    ("health_experiment_results", "outcome"): {"met", "not_met", "inconclusive"},
    ("health_verdict_signals", "direction"): {">"},  # no default threshold compares with >
}


def enumerations(rels: list[schema_doc.Relation]) -> dict[tuple[str, str], tuple[set, bool]]:
    """(table, column) -> (the values its comment lists after "One of:", NULL allowed?).

    A comment enumerates as "One of: `a` (why), `b`, `c`; NULL for ..." (the list ends at the
    first semicolon); NULL is allowed only where the comment says NULL."""
    found = {}
    for rel in rels:
        if rel.kind != "table":
            continue
        for col in rel.columns:
            text = col.comment or ""
            if "One of:" not in text:
                continue
            listed = text.split("One of:", 1)[1].split(";", 1)[0]
            found[(rel.name, col.name)] = (set(re.findall(r"`([^`]+)`", listed)), "NULL" in text)
    return found


@pytest.mark.slow
def test_every_value_the_comments_name_is_the_database_s() -> None:
    """On the simulated organization, the values in each enumerated column are exactly those its
    comment names (less the ones NAMED_BUT_ABSENT explains), so docs/schema.md cannot drift."""
    con = open_duckdb(simulated_config(7, "small").storage.analytics_path, read_only=True)
    try:
        named = enumerations(schema_doc.relations(con))
        assert {("work_items", "kind"), ("events", "subkind"), ("health_verdicts", "verdict"),
                ("health_experiment_results", "method"), ("events", "category")} <= set(named)
        problems = []
        for (table, column), (values, null_ok) in sorted(named.items()):
            rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
            present = {r[0] for r in rows if r[0] is not None}
            absent = NAMED_BUT_ABSENT.get((table, column), set())
            if present - values:
                problems.append(f"{table}.{column}: {sorted(present - values)} not in its comment")
            if values - present - absent:
                problems.append(f"{table}.{column}: {sorted(values - present - absent)} named "
                                "but never written")
            if absent & present:
                problems.append(f"{table}.{column}: {sorted(absent & present)} marked absent")
            if not null_ok and any(r[0] is None for r in rows):
                problems.append(f"{table}.{column}: NULL, which its comment does not name")
    finally:
        con.close()
    assert not problems, "\n".join(problems)
