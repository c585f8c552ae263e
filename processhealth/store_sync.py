"""What RawStore (processhealth/store.py) holds besides the rows it saves, in the base class
StoreSync it inherits: which tables the file has, the collectors' cursors (sync_state), rows gone
upstream (sync_deleted), what a collection skipped and when it ran (sync_coverage, sync_runs).
How a save writes is store.py's docstring."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from processhealth.raw_rows import raw_table_name


class StoreSync:
    """The raw store's catalog and sync_* tables. RawStore provides the connection (`con`), the
    memory these keep in step (`_cursors`, `_deleted`, `_known_tables`, `_stored`),
    `transaction()`, and the `bulk()` block that set_cursor joins."""

    # --- tables -------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ?",
            [name],
        ).fetchone()
        return bool(found and found[0])

    def raw_tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            " AND table_name LIKE 'raw\\_%' ESCAPE '\\' ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    # --- checkpoints --------------------------------------------------------------------------

    def get_cursor(self, source: str, entity: str, scope: str) -> str | None:
        row = self.con.execute(
            "SELECT cursor FROM sync_state WHERE source = ? AND entity = ? AND scope = ?",
            [source, entity, scope],
        ).fetchall()
        if row and row[0][0] is not None:
            self._cursors[(source, entity, scope)] = row[0][0]
        return row[0][0] if row else None

    def set_cursor(self, source: str, entity: str, scope: str, cursor: str) -> None:
        if self._bulk is not None:  # with the rows it follows
            self._bulk_begin()
        self._write_cursor(source, entity, scope, cursor)

    def _write_cursor(self, source: str, entity: str, scope: str, cursor: str) -> None:
        """The checkpoint, written only when it moves (a page of a list that saves the same
        cursor as the page before writes nothing); an UPDATE of the row costs a quarter of DuckDB's
        INSERT OR REPLACE."""
        key, cursor = (source, entity, scope), str(cursor)
        if self._cursors.get(key) == cursor:
            return
        self._cursors.pop(key, None)  # until the write is in
        [(updated,)] = self.con.execute(
            "UPDATE sync_state SET cursor = ?, updated_at = now()"
            " WHERE source = ? AND entity = ? AND scope = ?",
            [cursor, source, entity, scope]).fetchall()
        if not updated:
            self.con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, now())",
                             [source, entity, scope, cursor])
        self._cursors[key] = cursor

    # --- items gone upstream -------------------------------------------------------------------

    def mark_deleted(self, source: str, entity: str, scope: str, seen: Iterable[str],
                     since: str | None = None) -> int:
        """After a full pass of (entity, scope) that saw the keys `seen`: every stored row of
        that scope (updated at or after `since`, when the pass started there) that it did not
        see is marked deleted (sync_deleted); the seen ones are unmarked. Returns how many are
        marked now."""
        table = raw_table_name(source, entity)
        if not self.table_exists(table):
            return 0
        keys = sorted(set(seen))
        with self.transaction() as con:
            con.execute("DELETE FROM sync_deleted WHERE source = ? AND entity = ? AND scope = ?",
                        [source, entity, scope]).fetchall()
            con.execute(
                f"INSERT OR REPLACE INTO sync_deleted SELECT ?, ?, natural_key, scope, now()"
                f" FROM {table} WHERE scope = ? AND (?::TIMESTAMPTZ IS NULL"
                f" OR updated_at >= ?::TIMESTAMPTZ)"
                f" AND natural_key NOT IN (SELECT unnest(?::VARCHAR[]))",
                [source, entity, scope, since, since, keys]).fetchall()
            found = con.execute("SELECT count(*) FROM sync_deleted WHERE source = ?"
                                " AND entity = ? AND scope = ?", [source, entity, scope]
                                ).fetchone()
        marked = int(found[0]) if found else 0
        self._deleted = self._deleted or marked > 0
        return marked

    # --- coverage -----------------------------------------------------------------------------

    def clear_gaps(self, source: str) -> None:
        """Forget what the last collection of `source` skipped (a new collection starts)."""
        self.con.execute("DELETE FROM sync_coverage WHERE source = ?", [source])

    def record_run(self, source: str, started_at: datetime, full: bool) -> None:
        """A collection of `source` that started at `started_at` finished (sync_runs)."""
        self.con.execute("INSERT INTO sync_runs VALUES (?, ?, now(), ?)",
                         [source, started_at, full])

    def note_gap(self, source: str, entity: str, scope: str, status: str, detail: str) -> None:
        """Record an entity this collection skipped (sync_coverage; the report shows it)."""
        self.con.execute("INSERT OR REPLACE INTO sync_coverage VALUES (?, ?, ?, ?, ?, now())",
                         [source, entity, scope, status, detail])

    def reset(self, source: str, *, drop_rows: bool = False) -> None:
        """Forget a source's checkpoints (for `collect --full`); rows stay unless drop_rows."""
        self._cursors.clear()
        with self.transaction() as con:
            con.execute("DELETE FROM sync_state WHERE source = ?", [source])
            for table in self.raw_tables() if drop_rows else []:
                if table.startswith(f"raw_{source}_"):
                    con.execute(f"DROP TABLE {table}")
                    self._known_tables.discard(table)
                    self._stored.pop(table, None)
