"""Read-only access to the analytics database for reports: which views exist, and rows as dicts.

Reports read only the analysis views and tables (and a few domain tables for the coverage
section), never the raw store. A view the database lacks is recorded, so the report can say which
section is missing and why instead of failing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from processhealth.errors import UserError
from processhealth.store import DEFAULT_MEMORY_LIMIT, open_duckdb


class AnalyticsDB:
    """The analytics database opened read-only. Use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
        self.con = con
        self.path = path
        self.absent: list[str] = []  # relations a section asked for and did not find
        self._cache: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        self._grouped: dict[tuple[str, Any], dict[Any, list[dict[str, Any]]]] = {}
        rows = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND NOT internal"
        ).fetchall()
        self.columns: dict[str, set[str]] = {}
        for table, column in rows:
            self.columns.setdefault(table, set()).add(column)

    @classmethod
    def open(cls, path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> AnalyticsDB:
        path = Path(path)
        if not path.exists():
            raise UserError(
                f"There is no analytics database at {path}. Run `processhealth collect` and "
                f"`processhealth build` first (or set storage.analytics_path in config)."
            )
        return cls(open_duckdb(path, read_only=True, memory_limit=memory_limit), path)

    def __enter__(self) -> AnalyticsDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.con.close()

    def has(self, relation: str, *columns: str) -> bool:
        """True when the relation exists with all the given columns; records it if not."""
        found = self.columns.get(relation)
        ok = found is not None and all(c in found for c in columns)
        if not ok and relation not in self.absent:
            self.absent.append(relation)
        return ok

    def has_column(self, relation: str, column: str) -> bool:
        return column in self.columns.get(relation, set())

    def view_rows(self, view: str, months: tuple[date, date] | None = None) -> list[dict]:
        """Every row of a view (for the months given), read once and kept: metric views are
        recomputed on every read, so one read for all teams beats one per team."""
        key = (view, months)
        if key not in self._cache:
            where = " WHERE month::DATE BETWEEN ? AND ?" if months else ""
            self._cache[key] = self.rows(f'SELECT * FROM "{view}"{where}',
                                         list(months) if months else None)
        return self._cache[key]

    def rows_by_team(self, sql: str, params: list[Any] | None = None) -> dict[Any, list[dict]]:
        """Rows of a query over all teams (it must return a `team` column), grouped by team, read
        once and kept: a per-team query of the event-level tables scans them once per team,
        which grows with teams x events."""
        key = (sql, tuple(params or ()))
        if key not in self._grouped:
            grouped: dict[Any, list[dict]] = {}
            for row in self.rows(sql, params):
                grouped.setdefault(row["team"], []).append(row)
            self._grouped[key] = grouped
        return self._grouped[key]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        result = self.con.execute(sql, params or [])
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None
