"""What an incremental benchmark's files take on disk (benchmarks/scale.py, `run --incremental`)."""

from __future__ import annotations

from pathlib import Path


def print_disk(work: Path) -> None:
    """What the files of the builds take on disk: the analytics database after the
    incremental build, the full build's before the month (`before.duckdb`, its copy), the build
    state and its refs file (processhealth/analytics_db.attach_refs); each with its free
    blocks (PRAGMA database_size), which DuckDB reuses but gives back only at the file's end."""
    import duckdb

    from processhealth import incremental
    from processhealth.config import load_config

    state = incremental.state_path(load_config(work / "processhealth.toml"))
    parts = []
    for name, path in (("analytics", work / "processhealth.duckdb"),
                       ("full build before the month", work / "before.duckdb"),
                       ("state", state), ("refs", incremental.refs_path(state))):
        if not path.exists():
            continue
        with duckdb.connect(str(path), read_only=True) as con:
            [(block, free)] = con.execute("SELECT block_size, free_blocks"
                                          " FROM pragma_database_size()").fetchall()
        parts.append(f"{name} {path.stat().st_size / 1e9:.2f} GB ({block * free / 1e6:,.0f} MB"
                     f" free)")
    print(f"    on disk: {'; '.join(parts)}", flush=True)
