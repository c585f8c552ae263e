"""docs/schema.md is generated from the database's comments and must match a fresh build."""

from __future__ import annotations

import duckdb

from processhealth import schema_doc


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
