"""Hand-built domain tables for the analysis tests (no collectors, no HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from analysis import fill_typed_columns
from processhealth import pipeline
from processhealth.analytics_db import create_schema
from processhealth.config import Config, parse_config

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: float, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, minutes=minutes)


def domain_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_schema(con)
    return con


def make_config(tmp_path: Path, **sections: Any) -> Config:
    return parse_config(sections, origin="test", base_dir=tmp_path)


def identity(con, source: str, uid: str, login: str | None = None, email: str | None = None,
             name: str | None = None, is_bot: bool = False) -> str:
    con.execute("INSERT INTO identities(source, source_user_id, login, email, display_name, is_bot)"
                " VALUES (?, ?, ?, ?, ?, ?)", [source, uid, login, email, name, is_bot])
    return f"{source}:{uid}"


def item(con, item_id: str, source: str, key: str, container: str, *, kind: str = "issue",
         type: str | None = None, labels: tuple[str, ...] = (), linked: tuple[str, ...] = (),
         parent: str | None = None, title: str = "t") -> str:
    con.execute(
        "INSERT INTO work_items(item_id, source, kind, key, title, container, type, labels,"
        " linked_keys, parent_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [item_id, source, kind, key, title, container, type, list(labels), list(linked), parent])
    return item_id


def channel(con, channel_id: str, name: str) -> str:
    con.execute("INSERT INTO channels(channel_id, name, is_private) VALUES (?, ?, false)",
                [channel_id, name])
    return channel_id


def event(con, event_id: str, source: str, when: datetime, actor: str, kind: str, *,
          item_id: str | None = None, channel_id: str | None = None, subkind: str | None = None,
          **detail: Any) -> str:
    con.execute(
        "INSERT INTO events(event_id, source, occurred_at, actor_account, item_id, channel_id,"
        " kind, subkind, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, source, when, actor, item_id, channel_id, kind, subkind, json.dumps(detail)])
    fill_typed_columns(con)  # as normalization writes them beside detail
    return event_id


def run_analysis(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    for step in [*pipeline.analysis_steps(), *pipeline.metric_steps()]:
        step(con, config)


def rows(con, query: str, *params: Any) -> list[tuple]:
    return con.execute(query, list(params)).fetchall()
