"""Analysis: identities, teams, classification rules, the effort model and the metric views.

It reads only the domain tables normalization fills (never raw payloads); processhealth.pipeline
lists its build steps in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa


def insert_rows(con: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                ) -> None:
    """Bulk-insert Python rows into `table(columns)` through Arrow (no-op for no rows)."""
    if not rows:
        return
    batch = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    con.register("_insert_rows", batch)
    try:
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table}({names}) SELECT {names} FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")


# events' typed columns and the detail field each repeats (collectors/sql writes both).
TYPED_DETAIL = {
    "repo": "detail ->> 'repo'",
    "history_id": "detail ->> 'history_id'",
    "linked_keys": "CASE WHEN json_type(detail -> 'linked_keys') = 'ARRAY'"
                   " THEN from_json(detail -> 'linked_keys', '[\"VARCHAR\"]') END",
    "shadow_tool": "detail ->> 'shadow_tool'",
    "field": "detail ->> 'field'",
    "field_id": "detail ->> 'field_id'",
    "field_name": "detail ->> 'field_name'",
}


def fill_typed_columns(con: Any) -> None:
    """Set events' typed columns from `detail` where an event was written with detail alone
    (a hand-built database; normalization writes both)."""
    sets = ", ".join(f"{column} = coalesce({column}, {expr})"
                     for column, expr in TYPED_DETAIL.items())
    con.execute(f"UPDATE events SET {sets} WHERE detail IS NOT NULL")
