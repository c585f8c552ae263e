"""Read-only access to the analytics database for reports: rows as dicts, and a check that
the views a section reads are there.

Reports read only the analysis views and tables (and a few domain tables for the coverage
section) for their figures, never the raw store's data; the one thing a report reads and
writes there is the ledger of what a past month's first report counted (reports.late). A view
or column the database lacks is an error that names it: a section that silently dropped out
would hide a renamed column behind an empty page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT, open_duckdb
from processhealth.errors import UserError

Params = list[Any] | dict[str, Any] | None  # positional (?) or named ($name) parameters


class AnalyticsDB:
    """The analytics database opened read-only. Use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
        self.con = con
        self.path = path
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

    def require(self, relation: str, *columns: str) -> None:
        """Raise a UserError naming the relation, or its columns, that this database lacks."""
        found = self.columns.get(relation)
        if found is None:
            raise UserError(
                f"The analytics database {self.path or ''} has no view or table {relation}, "
                f"which the report reads. Rebuild it with this version of processhealth "
                f"(`processhealth build`).")
        lacking = [c for c in columns if c not in found]
        if lacking:
            raise UserError(
                f"{relation} in the analytics database {self.path or ''} has no column "
                f"{', '.join(lacking)}, which the report reads. Rebuild it with this version of "
                f"processhealth (`processhealth build`).")

    def view_rows(self, view: str, months: tuple[date, date] | None = None,
                  columns: tuple[str, ...] = ()) -> list[dict]:
        """Every row of a view (for the months given), read once and kept: metric views are
        recomputed on every read, so one read for all teams beats one per team. The view
        must have `columns` (and `month`, when months are given)."""
        self.require(view, *columns, *(("month",) if months else ()))
        key = (view, months)
        if key not in self._cache:
            where = " WHERE month::DATE BETWEEN ? AND ?" if months else ""
            self._cache[key] = self.rows(f'SELECT * FROM "{view}"{where}',
                                         list(months) if months else None)
        return self._cache[key]

    def team_rows(self, view: str, team: str | None, months: tuple[date, date] | None = None,
                  columns: tuple[str, ...] = ()) -> list[dict]:
        """view_rows() of one team (None: rows of no team), in their order: the rows are grouped
        by team once, where filtering them for each team grew with teams x rows (at 10M events,
        186 teams, 0.6 s of the report)."""
        self.require(view, "team", *columns, *(("month",) if months else ()))  # each caller's
        key = ("team_rows", view, months)
        if key not in self._grouped:
            self._grouped[key] = _by_team(self.view_rows(view, months, ("team", *columns)))
        return self._grouped[key].get(team, [])

    def rows_by_team(self, sql: str, params: list[Any] | None = None) -> dict[Any, list[dict]]:
        """Rows of a query over all teams (it must return a `team` column), grouped by team, read
        once and kept: a per-team query of the event-level tables scans them once per team,
        which grows with teams x events."""
        key = (sql, tuple(params or ()))
        if key not in self._grouped:
            self._grouped[key] = _by_team(self.rows(sql, params))
        return self._grouped[key]

    def rows(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        result = self.execute(sql, params)
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Params = None) -> duckdb.DuckDBPyConnection:
        """Run a query; a relation or column it names that the database lacks is a UserError
        with DuckDB's words (which name it), like require()."""
        try:
            return self.con.execute(sql, params or [])
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise UserError(
                f"The analytics database {self.path or ''} does not have what the report reads: "
                f"{exc}. Rebuild it with this version of processhealth (`processhealth build`)."
            ) from exc


def _by_team(rows: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    """Rows grouped by their `team`, each group in the rows' order."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["team"], []).append(row)
    return grouped
