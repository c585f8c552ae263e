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
