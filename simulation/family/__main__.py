"""Write a scenario family to disk, or serve one member with the three emulators.

    python -m simulation.family --family 48 --seed 1 --out /tmp/family
    python -m simulation.family --small --out /tmp/family-small
    python -m simulation.family --seed 1 --serve 7      # member 7 on ports 8001-8003

Each member goes to OUT/member-NN (simulation/family/write.py); OUT/family.json lists them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import FULL_ORGS, generate_family, generate_member
from .write import write_member


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m simulation.family", description=__doc__)
    ap.add_argument("--family", type=int, default=FULL_ORGS, help="organizations to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small", action="store_true", help="the test suite's fixed subset")
    ap.add_argument("--out", type=Path, help="folder to write the members into")
    ap.add_argument("--serve", type=int, metavar="INDEX", help="serve this member instead")
    args = ap.parse_args(argv)
    size = "small" if args.small else "full"
    if args.serve is not None:
        return serve_member(args.seed, args.serve, size)
    if args.out is None:
        ap.error("--out is required unless --serve is given")
    listing = []
    for member in generate_family(args.seed, args.family, size):
        started = time.perf_counter()
        folder = write_member(member, args.out / f"member-{member.index:02d}")
        listing.append({"index": member.index, "org": member.org.github.org,
                        "folder": folder.name, "teams": len(member.org.teams)})
        print(f"{folder}: {len(member.org.teams)} teams "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    (args.out / "family.json").write_text(json.dumps(
        {"seed": 2026 if args.small else args.seed, "size": size, "members": listing}, indent=1))


def serve_member(seed: int, index: int, size: str) -> None:
    """Serve one member on 127.0.0.1:8001 (GitHub), 8002 (Jira), 8003 (Slack) until Ctrl-C;
    the token is the value of PROCESSHEALTH_FAMILY_TOKEN (default "family-token")."""
    import os
    from contextlib import ExitStack

    from ..github_emulator import GitHubEmulator
    from ..jira_emulator import JiraEmulator
    from ..server import serve
    from ..slack_emulator import SlackEmulator

    token = os.environ.get("PROCESSHEALTH_FAMILY_TOKEN", "family-token")
    member = generate_member(seed, index, size, with_truth=False)
    with ExitStack() as stack:
        for port, cls in ((8001, GitHubEmulator), (8002, JiraEmulator), (8003, SlackEmulator)):
            served = stack.enter_context(serve(cls(member.org, token=token), port=port))
            print(f"{cls.__name__} on {served.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
