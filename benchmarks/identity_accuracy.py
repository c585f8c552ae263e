"""Identity accuracy: the people identity resolution found against the simulation's truth.

    .venv/bin/python benchmarks/identity_accuracy.py [--seed 7]

Builds the demo organization exactly as benchmarks/effort_accuracy.py does (fast loaders, then
`build` with the demo config), then compares `identities` with simulation.truth.accounts_frame:
- link recall: the share of true (account -> person) links recovered, i.e. accounts that ended up
  with the person most of their true owner's accounts went to;
- false merges: resolved people holding accounts of more than one true person;
- the unmatched accounts, with who they really are.
GitHub's deleted-user "ghost" shows up under GitHub's ghost id rather than the leaver's own, so
the leaver's GitHub link cannot be recovered; it is counted as missed, not left out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
from effort_accuracy import build_simulated

from simulation import OrgSpec, generate_org, truth


def evaluate(con: duckdb.DuckDBPyConnection, org) -> dict:
    found = {f"{s}:{u}": (p, how) for s, u, p, how in con.execute(
        "SELECT source, source_user_id, person_id, matched_by FROM identities").fetchall()}
    owner = {f"{r.source}:{r.source_user_id}": r.person_id
             for r in truth.accounts_frame(org).itertuples() if not r.is_bot}
    by_commit_email = {(p.commit_email or "").lower(): p.pid for p in org.people if not p.is_bot}
    for key in found:  # commit authors GitHub could not tie to an account: "github:email:<a>"
        if key.startswith("github:email:") and key[len("github:email:"):] in by_commit_email:
            owner[key] = by_commit_email[key[len("github:email:"):]]
    main = {}
    for pid in set(owner.values()):
        got = [found[k][0] for k, o in owner.items() if o == pid and k in found]
        main[pid] = Counter(got).most_common(1)[0][0] if got else None
    linked = [k for k, pid in owner.items() if k in found and found[k][0] == main[pid]]
    clusters: dict[str, set[str]] = {}
    for key, pid in owner.items():
        if key in found:
            clusters.setdefault(found[key][0], set()).add(pid)
    merged = {p: owners for p, owners in clusters.items() if len(owners) > 1}
    unmatched = [(k, owner.get(k)) for k, (_, how) in found.items() if how == "unmatched"]
    missing = [(k, pid) for k, pid in owner.items() if k not in found]
    return {"accounts": len(owner), "linked": len(linked), "false_merges": merged,
            "unmatched": unmatched, "missing": missing,
            "matched_by": Counter(how for _, how in found.values())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    org = generate_org(args.seed, OrgSpec.demo())
    with tempfile.TemporaryDirectory() as tmp:
        config, loaded = build_simulated(org, Path(tmp))
        con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
        result = evaluate(con, org)
        con.close()
    names = {p.pid: p.name for p in org.people}
    print(f"seed {args.seed}, sources loaded: {', '.join(loaded)}")
    print(f"link recall: {result['linked']}/{result['accounts']} = "
          f"{100 * result['linked'] / result['accounts']:.1f}% of true account -> person links")
    print(f"false merges: {len(result['false_merges'])}")
    for person, owners in result["false_merges"].items():
        print(f"  {person}: {', '.join(sorted(names[o] for o in owners))}")
    print("matched by: " + ", ".join(f"{k} {v}" for k, v in result["matched_by"].most_common()))
    print(f"unmatched accounts ({len(result['unmatched'])}):")
    for key, pid in result["unmatched"]:
        print(f"  {key}  (really {names.get(pid, 'nobody in the truth')})")
    print(f"true accounts missing from the collected data ({len(result['missing'])}):")
    for key, pid in result["missing"]:
        print(f"  {key}  ({names[pid]})")


if __name__ == "__main__":
    sys.exit(main())
