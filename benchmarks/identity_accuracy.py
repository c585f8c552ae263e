"""Identity accuracy on the scenario family: the people identity resolution found against the truth.

    .venv/bin/python benchmarks/identity_accuracy.py                 # family seed 1, 8 members
    .venv/bin/python benchmarks/identity_accuracy.py --orgs 48 --small

Each member is collected and built as benchmarks/effort_accuracy.py does (default config, cached;
benchmarks/family_build.py), then `identities` is compared with truth_identities:
- accounts linked: the share of true human accounts (GitHub, Jira, Slack, and the commit
  identities GitHub tied to no account, which show up as github:email:<address>) that ended up
  with the person most of their true owner's accounts went to. GitHub's deleted user (`ghost`)
  stands for several people at once and is not an account of anyone's: left out of this count;
- false merges: resolved people holding accounts of more than one true human;
- right links per kind of evidence (identities.matched_by): the confidence docs/metrics.md states;
- non-humans in a headcount: bots, service accounts and `ghost` whose person is not a bot, or
  that sit in a team in person_months.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import duckdb
from family_build import add_arguments, built_member, jobs

from analysis.identity_match import GHOST_ID


def evaluate(con: duckdb.DuckDBPyConnection, member) -> dict:
    found = {f"{s}:{u}": (p, how) for s, u, p, how in con.execute(
        "SELECT source, source_user_id, person_id, matched_by FROM identities").fetchall()}
    truth = member.truth["truth_identities"]
    owner: dict[str, str] = {}
    nonhuman: set[str] = {f"github:{GHOST_ID}"}
    for r in truth.itertuples():
        if r.source == "git":
            key = f"github:email:{r.source_user_id.lower()}"
        elif r.source == "github" and r.deleted:
            continue
        else:
            key = f"{r.source}:{r.source_user_id}"
        if r.is_bot or r.is_service:
            nonhuman.add(key)
        elif r.source != "git" or key in found:
            owner[key] = r.person_id
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
    bots = {p for p, b in con.execute("SELECT person_id, is_bot FROM people").fetchall() if b}
    teamed = {p for (p,) in con.execute(
        "SELECT DISTINCT person_id FROM person_months WHERE team IS NOT NULL"
        " AND team <> '(unassigned)'").fetchall()}
    counted = {k for k in nonhuman if k in found and (found[k][0] not in bots
                                                       or found[k][0] in teamed)}
    unlinked = [(k, owner[k]) for k in owner if k not in linked]
    right = set(linked)
    precision = Counter()  # per matched_by: accounts tied by it, and those tied right
    for key in owner:
        if key in found:
            precision[(found[key][1], "all")] += 1
            precision[(found[key][1], "right")] += key in right
    return {"accounts": len(owner), "linked": len(linked), "false_merges": merged,
            "nonhuman": len(nonhuman & found.keys()), "counted": sorted(counted),
            "unlinked": unlinked, "precision": precision,
            "matched_by": Counter(how for _, how in found.values())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="list every unlinked account")
    args = parser.parse_args(argv)
    total = Counter()
    todo = jobs(args)
    for seed, index, size in todo:
        member, path = built_member(seed, index, size)
        con = duckdb.connect(str(path), read_only=True)
        r = evaluate(con, member)
        con.close()
        total.update(accounts=r["accounts"], linked=r["linked"], merges=len(r["false_merges"]),
                     nonhuman=r["nonhuman"], counted=len(r["counted"]))
        total.update({f"matched_by {k}": v for k, v in r["matched_by"].items()})
        total.update({f"precision {how} {part}": v for (how, part), v in r["precision"].items()})
        kinds = Counter(k.split(":")[0] + (":email" if ":email:" in k else "")
                        for k, _ in r["unlinked"])
        total.update({f"unlinked {k}": v for k, v in kinds.items()})
        print(f"  member {index}: {r['linked']}/{r['accounts']} linked, "
              f"{len(r['false_merges'])} false merges, non-humans counted as people: "
              f"{', '.join(r['counted']) or 'none'}", flush=True)
        if args.verbose:
            names = {p.pid: p.name for p in member.org.people}
            for key, pid in r["unlinked"]:
                print(f"    unlinked {key} (really {names.get(pid)})")
    print(f"\nfamily seed {todo[0][0]} ({todo[0][2]}): {len(todo)} organizations")
    print(f"accounts linked: {total['linked']}/{total['accounts']} = "
          f"{100 * total['linked'] / total['accounts']:.1f}%")
    print(f"false merges: {total['merges']}")
    print(f"bots, service accounts and ghost seen: {total['nonhuman']}; counted as a human or "
          f"in a team: {total['counted']}")
    print("unlinked by kind: " + ", ".join(f"{k[9:]} {v}" for k, v in sorted(total.items())
                                           if k.startswith("unlinked ")))
    print("matched by: " + ", ".join(f"{k[11:]} {v}" for k, v in sorted(total.items())
                                     if k.startswith("matched_by ")))
    hows = sorted({k.split()[1] for k in total if k.startswith("precision ")})
    print("right links per kind of evidence (confidence): " + ", ".join(
        f"{h} {total[f'precision {h} right']}/{total[f'precision {h} all']}" for h in hows))


if __name__ == "__main__":
    sys.exit(main())
