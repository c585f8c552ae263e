"""The scenario-family members benchmarks/verdict_calibration.py scores (its docstring says what
it measures and how): each member built once with `processhealth build`'s steps before the
verdict step and cached, optionally with every team planted with an amplifier of one size; then
the current verdict step on a copy of the cached build. `run_member` is what its workers run."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Code whose change makes a cached build stale: everything up to the metric building blocks.
HASHED = ("simulation", "collectors", "processhealth/simload", "processhealth/store.py",
          "processhealth/store_sync.py", "processhealth/raw_rows.py",
          "processhealth/migrations", "processhealth/schema/analytics/core.sql",
          "processhealth/schema/analytics/jira.sql", "processhealth/schema/analytics/analysis.sql",
          "analysis/identity.py", "analysis/identity_match.py", "analysis/identity_names.py",
          "analysis/teams.py", "analysis/classify.py", "analysis/effort.py", "analysis/privacy.py",
          "analysis/sql/blocks", "analysis/materialize.py", "analysis/__init__.py")


def code_hash() -> str:
    h = hashlib.sha256()
    for name in HASHED:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file() and f.suffix in (".py", ".sql"):
                h.update(str(f.relative_to(ROOT)).encode())
                text = f.read_text(encoding="utf-8")
                if f.suffix == ".sql":  # comments change no data
                    text = "\n".join(line for line in text.splitlines()
                                      if not line.lstrip().startswith(("--", "COMMENT ON")))
                h.update(text.encode())
    return h.hexdigest()[:12]


# --- build once, cache -------------------------------------------------------------------------


def sized_member(seed: int, index: int, gain: float, cut: float):
    """Member `index` with every team given an amplifier effect of one chosen size (variant
    "both": customer items per person up by `gain`, review waits down by `cut`), no placebo and
    no other effect; onsets are the drawn ones, else month 4-7 of the year. The simulation's
    own parameters (simulation/knobs.py Effect), chosen; its code is unchanged."""
    from dataclasses import replace
    from datetime import date

    from simulation.family import Member, member_seed
    from simulation.family.draw import draw_spec
    from simulation.knobs import Effect
    from simulation.org import generate_org
    from simulation.truth_family import family_frames

    spec = draw_spec(seed, index, "full")
    teams = []
    for i, ts in enumerate(spec.teams):
        k = ts.knobs
        drawn = k.effect or k.placebo
        if drawn is not None:
            onset = drawn.onset
        else:
            y, m = divmod(spec.start.year * 12 + spec.start.month - 1 + 4 + i % 4, 12)
            onset = date(y, m + 1, 1)
            if onset.weekday() >= 5:  # the month's first weekday
                onset = date.fromordinal(onset.toordinal() + 7 - onset.weekday())
        tool = drawn.tool if drawn is not None else "PMTool"
        effect = Effect(kind="amplifier", variant="both", onset=onset, tool=tool,
                        throughput_gain=gain, wait_cut=cut)
        teams.append(replace(ts, scenario="amplifier",
                             knobs=replace(k, effect=effect, placebo=None)))
    spec = replace(spec, teams=tuple(teams))
    org = generate_org(member_seed(seed, index), spec)
    return Member(index, member_seed(seed, index), spec, org, family_frames(org))


def cached_build(seed: int, index: int, size: str, cache: Path, digest: str,
                 effect: tuple[float, float] | None = None) -> Path:
    """The folder of member `index`'s cached build (raw store not kept): processhealth.toml,
    analytics.duckdb (the build before its verdict step) and truth.parquet files. With
    `effect` (gain, wait cut): the member with every team an amplifier of that size."""
    tag = f"-amp{effect[0]:g}-{effect[1]:g}" if effect else ""
    folder = cache / f"{seed}-{index}-{size}{tag}-{digest}"
    if (folder / "done").exists():
        return folder
    import importlib

    from processhealth import pipeline
    from processhealth.analytics_db import build_analytics
    from processhealth.config import load_config
    from processhealth.store import RawStore
    from simulation.family import generate_member
    from simulation.family.config import family_config_toml

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    member = sized_member(seed, index, *effect) if effect else generate_member(seed, index, size)
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    (folder / "processhealth.toml").write_text(
        family_config_toml(member.org, urls)
        + f'\n[storage]\nraw_path = "{folder / "raw.duckdb"}"\n'
        f'analytics_path = "{folder / "analytics.duckdb"}"\n', encoding="utf-8")
    config = load_config(folder / "processhealth.toml")
    with RawStore.of(config) as store:
        for source in ("github", "jira", "slack"):
            importlib.import_module(f"processhealth.simload.{source}").load(member.org, store)
    steps = [s for s in pipeline.build_steps()
             if s.name not in ("verdicts per team-month", "process experiments")]
    build_analytics(config, steps, prelude=pipeline.prelude())
    for name in ("truth_verdict_margin", "truth_effects", "truth_nuisances"):
        member.truth[name].to_parquet(folder / f"{name}.parquet")
    (folder / "raw.duckdb").unlink()
    (folder / "done").write_text(f"{member.org.github.org}\n")
    return folder


def verdicts_of(folder: Path, work: Path, config_text: str | None = None
                ) -> tuple[list[tuple], set[tuple[str, str]]]:
    """The verdict rows (team, 'YYYY-MM', verdict, reason) of the current verdict code on a copy
    of the cached build (build_params rewritten, metric views recreated, verdicts rebuilt), and
    its churn months (churn_months)."""
    from analysis import materialize, params, verdicts
    from processhealth import pipeline
    from processhealth.config import load_config
    from processhealth.duckdb_files import open_duckdb

    work.mkdir(parents=True, exist_ok=True)
    db = work / "analytics.duckdb"
    shutil.copyfile(folder / "analytics.duckdb", db)
    config = load_config(folder / "processhealth.toml")
    if config_text:
        path = work / "processhealth.toml"
        path.write_text((folder / "processhealth.toml").read_text() + "\n" + config_text)
        config = load_config(path)
    con = open_duckdb(db)
    try:
        pipeline.config_variable(con, config)
        con.execute("DELETE FROM build_params")
        params.write(con, config)
        stored = set(materialize.BUILDING_BLOCKS)
        for path in pipeline.sql_files(pipeline.METRIC_SQL):
            if path.stem not in stored:
                pipeline.sql_file_step(path)(con, config)
        for table in ("health_verdict_signals", "health_verdicts"):
            con.execute(f"DELETE FROM {table}")
        verdicts.build(con, config)
        rows = con.execute("SELECT team, strftime(month, '%Y-%m'), verdict, reason"
                           " FROM health_verdicts ORDER BY team, month").fetchall()
        churn = churn_months(con)
    finally:
        con.close()
        db.unlink(missing_ok=True)
    return rows, churn


def churn_months(con) -> set[tuple[str, str]]:
    """(team, 'YYYY-MM') of months in which a person joined the team after its first month or
    left it before its last (from person_months: first and last active month per person)."""
    return set(con.execute("""
        WITH spans AS (
            SELECT pm.team, pm.person_id, min(pm.month) AS first, max(pm.month) AS last
            FROM person_months AS pm JOIN people AS p USING (person_id)
            WHERE pm.active AND NOT coalesce(p.is_bot, false) AND pm.team IS NOT NULL
            GROUP BY pm.team, pm.person_id
        ),
        bounds AS (SELECT team, min(first) AS lo, max(last) AS hi FROM spans GROUP BY team)
        SELECT s.team, strftime(s.first, '%Y-%m') FROM spans s JOIN bounds b USING (team)
        WHERE s.first > b.lo
        UNION
        SELECT s.team, strftime(s.last, '%Y-%m') FROM spans s JOIN bounds b USING (team)
        WHERE s.last < b.hi
    """).fetchall())


def run_member(job: tuple) -> dict:
    """Build (or reuse) one member and score its verdicts: runs in a worker process."""
    seed, index, size, cache, digest, config_text, *effect = job
    import pandas as pd

    started = time.perf_counter()
    folder = cached_build(seed, index, size, cache, digest, effect[0] if effect else None)
    built = time.perf_counter() - started
    rows, churn = verdicts_of(folder, cache / "work" / folder.name, config_text)
    truth = {name: pd.read_parquet(folder / f"{name}.parquet")
             for name in ("truth_verdict_margin", "truth_effects", "truth_nuisances")}
    return {"index": index, "org": (folder / "done").read_text().strip(), "rows": rows,
            "churn": churn,
            "truth": truth, "built_s": built, "total_s": time.perf_counter() - started}
