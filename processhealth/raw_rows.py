"""A save's rows on their way into the raw store (processhealth/store.py): the raw tables' one
shape, canonical JSON, the Arrow batch one save hands DuckDB, and the in-memory index of what
each raw table holds, by which a save tells new, changed and unchanged rows apart
(benchmarks/RESULTS.md section 2)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from processhealth.duckdb_files import sql_literal

# The one shape of every raw table: `raw_<source>_<entity>`, its columns and their comments.
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
RAW_COLUMN_COMMENTS = {
    "natural_key": "The entity's key in its source (issue key, repo#number, channel/ts, ...).",
    "scope": "Repository, project or channel whose collection wrote the row.",
    "updated_at": "The source's own last-modified time for the entity, when it has one.",
    "fetched_at": "When processhealth fetched this version of the row (UTC).",
    "source_url": "API URL the row came from (provenance).",
    "collector_version": "Collector that wrote the row, e.g. processhealth/0.1.0.",
    "payload": "The entity as the API returned it (JSON), minus anything privacy settings drop.",
    "payload_hash": "DuckDB's hash() of the payload text: a save skips a row whose payload hashes "
                    "the same (unchanged).",
    "seq": "Order in which rows were written to this table (grows with every new or changed "
           "row; a session starts at least at the clock, in microseconds since 1970, so no "
           "number is handed out twice even in a store restored from a copy).",
}
# The columns of every raw table, in order (migration 005 turned the older keyed tables into this).
RAW_COLUMNS = (
    "natural_key VARCHAR NOT NULL, scope VARCHAR, updated_at TIMESTAMPTZ, fetched_at TIMESTAMPTZ,"
    " source_url VARCHAR, collector_version VARCHAR,"
    # zstd: payloads are kilobytes of repetitive JSON; DuckDB's default string compression
    # analysis made inserts ~1.5x slower and the file ~3x larger.
    " payload JSON USING COMPRESSION zstd, payload_hash UBIGINT, seq BIGINT"
)


def raw_table_name(source: str, entity: str) -> str:
    for part, value in (("source", source), ("entity", entity)):
        if not _IDENT.match(value):
            raise ValueError(f"raw table {part} {value!r} must match [a-z][a-z0-9_]*")
    return f"raw_{source}_{entity}"


def create_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty raw table of the fixed shape, with its comments."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table}({RAW_COLUMNS})")
    source, entity = table.removeprefix("raw_").split("_", 1)
    con.execute(
        f"COMMENT ON TABLE {table} IS 'Raw {entity} from {source}, one row per entity: the latest"
        f" version saved of each natural_key.'")
    for column, text in RAW_COLUMN_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {sql_literal(text)}")


# Canonical JSON (sorted keys, compact, UTF-8) so an unchanged payload compares equal to the
# stored one. Encoding is most of a save's Python time: orjson is ~10x the stdlib encoder and
# gives the same text for API payloads; the stdlib encoder takes what orjson refuses (integers
# past 64 bits, non-string keys, types without a JSON form). A lone surrogate it encodes too,
# but such text is no UTF-8: the save then fails with a clear error (_utf8_column).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str, check_circular=False
)
_ORJSON = orjson.OPT_SORT_KEYS
JSON_TYPE = pa.json_(pa.large_string())


def _encode_utf8(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_ORJSON)
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(value).encode("utf-8", "surrogatepass")


def encode_text(value: Any) -> str:
    return _encode_utf8(value).decode("utf-8", "surrogatepass")


MERGE_AT = 65_536  # rows a session writes to a table before they join its sorted arrays
_MISSING = np.int64(-2)  # seq of a key the table does not hold
_UNKNOWN = np.int64(-1)  # seq of a key whose stored row has no seq, or whose hash is not unique


class Plan:
    """What one save writes: positions (in the batch) of the rows to append with their payload
    hashes and new seqs; positions of those that replace a stored row, with that row's seq."""

    def __init__(self, keys: np.ndarray, payload: np.ndarray, old_seq: np.ndarray,
                 old_payload: np.ndarray, first_seq: int) -> None:
        found = old_seq != _MISSING
        write = ~found | (old_seq == _UNKNOWN) | (old_payload != payload)
        self.write = np.flatnonzero(write)
        self.keys = keys[self.write]
        self.payload_hash = payload[self.write]
        self.first_seq = first_seq
        self.seq = np.arange(first_seq, first_seq + self.write.size, dtype=np.int64)
        replaced = found[self.write]
        self.replaced = self.write[replaced]
        self.old_seq = old_seq[self.write][replaced]
        self.keys_written: pa.Array | None = None  # their natural_keys (RawStore._write)


def clock_seq() -> int:
    """The lowest seq a session may start a table at: now, in microseconds since 1970.

    A number is never handed out twice, even when the file is a restored copy that has forgotten
    the numbers written after the copy was made (or a table was dropped and refilled): a build
    treats each row above the highest seq it read as new (docs/build.md), so a row written later
    under a number it already read would pass unseen. A session hands out one number a row:
    only a save of more than a million rows a second (tiny rows in one batch) runs ahead of the
    clock, by milliseconds, and the next session starts after that."""
    return time.time_ns() // 1000


class Stored:
    """Of one raw table: the 64-bit hash of each natural_key stored, with its row's payload hash
    and seq. Sorted arrays from the table (24 bytes a row), plus a dict of what this session wrote
    since, merged into the arrays when it grows. Loaded once per table and session; only this
    RawStore may write the file while it is open: DuckDB's lock keeps other processes out, not a
    second RawStore of the same file in this process (no command opens two)."""

    def __init__(self, keys: np.ndarray, payload: np.ndarray, seq: np.ndarray,
                 next_seq: int) -> None:
        self.keys, self.payload, self.seq = keys, payload, seq
        self.recent: dict[int, tuple[int, int]] = {}
        self.next_seq = next_seq

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, table: str) -> Stored:
        got = con.execute(
            f"SELECT hash(natural_key) AS k, coalesce(payload_hash, 0) AS p,"
            f" coalesce(seq, -1) AS s FROM {table}").fetchnumpy()
        [(top,)] = con.execute(f"SELECT max(seq) FROM {table}").fetchall()
        next_seq = max(int(top) + 1 if top is not None else 0, clock_seq())
        keys, payload, seq = (np.asarray(got[c]) for c in ("k", "p", "s"))
        return cls(*_sorted_unique(keys.astype(np.uint64), payload.astype(np.uint64),
                                   seq.astype(np.int64), repeated_unknown=True), next_seq)

    def plan(self, keys: np.ndarray, payload: np.ndarray) -> Plan:
        keys = np.asarray(keys, dtype=np.uint64)
        payload = np.asarray(payload, dtype=np.uint64)
        old_seq = np.full(keys.size, _MISSING, dtype=np.int64)
        old_payload = np.zeros(keys.size, dtype=np.uint64)
        if self.keys.size:
            at = np.searchsorted(self.keys, keys).clip(max=self.keys.size - 1)
            hit = self.keys[at] == keys
            old_seq[hit] = self.seq[at[hit]]
            old_payload[hit] = self.payload[at[hit]]
        if self.recent:
            get = self.recent.get
            for i, key in enumerate(keys.tolist()):
                found = get(key)
                if found is not None:
                    old_payload[i], old_seq[i] = found
        return Plan(keys, payload, old_seq, old_payload, self.next_seq)

    def commit(self, plan: Plan) -> None:
        """The plan's rows are in the table now."""
        self.next_seq = plan.first_seq + plan.write.size
        if not plan.write.size:
            return
        if self.keys.size == 0 and not self.recent and plan.write.size > 1024:
            self.keys, self.payload, self.seq = _sorted_unique(plan.keys, plan.payload_hash,
                                                               plan.seq)
            return
        values = zip(plan.payload_hash.tolist(), plan.seq.tolist(), strict=True)
        self.recent.update(zip(plan.keys.tolist(), values, strict=True))
        if len(self.recent) > max(MERGE_AT, self.keys.size // 2):
            self._merge()

    def _merge(self) -> None:
        n = len(self.recent)
        keys = np.fromiter(self.recent.keys(), np.uint64, n)
        payload = np.fromiter((v[0] for v in self.recent.values()), np.uint64, n)
        seq = np.fromiter((v[1] for v in self.recent.values()), np.int64, n)
        self.keys, self.payload, self.seq = _sorted_unique(
            np.concatenate([self.keys, keys]), np.concatenate([self.payload, payload]),
            np.concatenate([self.seq, seq]))
        self.recent = {}


def _sorted_unique(keys: np.ndarray, payload: np.ndarray, seq: np.ndarray, *,
                   repeated_unknown: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted by key; of equal keys the last given wins (later writes come later). With
    repeated_unknown (as loaded from the table), a key the table holds more than once (rows
    written without a seq, or a 64-bit hash two keys share) gets seq -1, so that a save replacing
    it deletes by natural_key instead of by seq."""
    order = np.argsort(keys, kind="stable")
    keys, payload, seq = keys[order], payload[order], seq[order]
    last = np.ones(keys.size, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    if repeated_unknown:
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        seq = np.where(first, seq, _UNKNOWN)
    return keys[last], payload[last], seq[last]


def arrow_batch(rows: Iterable[Mapping[str, Any]], scope: str, version: str) -> pa.Table:
    # One plain pass: this loop and the JSON encoding are the Python cost of a save.
    keys: list[Any] = []
    updated: list[Any] = []
    urls: list[Any] = []
    payloads: list[bytes] = []
    encode = orjson.dumps
    option = _ORJSON
    checked = True  # orjson writes valid UTF-8 only; the stdlib fallback may not
    for row in rows:
        keys.append(row.get("natural_key"))
        updated.append(row.get("updated_at"))
        urls.append(row.get("source_url"))
        value = row.get("payload")
        try:
            payloads.append(encode(value, option=option))
        except (TypeError, orjson.JSONEncodeError):
            payloads.append(_ENCODER.encode(value).encode("utf-8", "surrogatepass"))
            checked = False
    if not all(type(k) is str and k for k in keys):
        keys = [_key(k) for k in keys]
    if not all(type(u) is str or u is None for u in updated):
        updated = [_iso(u) for u in updated]
    n = len(keys)
    return pa.table({  # a key given twice stays twice here: RawStore.save_batch keeps its last

        "natural_key": pa.array(keys, pa.string()),
        "scope": pa.repeat(scope, n).cast(pa.string()) if n else pa.array([], pa.string()),
        "updated_at": pa.array(updated, pa.string()),
        "source_url": pa.array(urls, pa.string()),
        "collector_version": (pa.repeat(version, n).cast(pa.string()) if n
                              else pa.array([], pa.string())),
        "payload": _utf8_column(payloads, checked),
    })


def last_versions(batch: pa.Table) -> pa.Table:
    """The batch with each natural_key once: its last version, as saving the rows one after
    another would leave. Within one save's rows, and in the batches of several saves that the
    simulation's loader joins into one `save_batch` (processhealth/simload/bulk.py)."""
    keys = batch.column("natural_key")
    if pc.count_distinct(keys).as_py() == batch.num_rows:
        return batch
    last = {key: i for i, key in enumerate(keys.to_pylist())}
    return batch.take(sorted(last.values()))


def _utf8_column(payloads: list[bytes], checked: bool = False) -> pa.Array:
    """The encoded payloads as an Arrow JSON column, built from one joined buffer and the offsets
    of its parts (a list of bytes objects turned into an Arrow array item by item cost more than
    the encoding).

    Unless every payload came from orjson (which writes valid UTF-8 only), the bytes are checked
    to be UTF-8 without decoding each payload in Python; the JSON type tells DuckDB the text is
    JSON already (we encoded it), which spares it a parse per row.
    """
    offsets = np.zeros(len(payloads) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, payloads), np.int64, len(payloads)), out=offsets[1:])
    text = pa.LargeStringArray.from_buffers(
        len(payloads), pa.py_buffer(offsets), pa.py_buffer(b"".join(payloads)))
    if not checked:
        try:
            text.validate(full=True)
        except pa.ArrowInvalid as exc:  # a lone surrogate in the data
            raise ValueError(f"a payload is not valid UTF-8 ({exc})") from None
    return pa.ExtensionArray.from_storage(JSON_TYPE, text)


def _key(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("every raw row needs a non-empty natural_key; found an empty one")
    return str(value)


def _iso(value: Any) -> str | None:
    """ISO text for DuckDB to cast; naive values are read as UTC (the session time zone)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ValueError(f"updated_at must be a datetime, an ISO string or None; got {value!r}")
