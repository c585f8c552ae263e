"""The report as separate files: `index.html` (the organization at a glance, links, coverage)
and one self-contained `team-<slug>.html` per team.

    render_pages(config, Path("report/"), month="2026-05")

One file of 186 teams is about 12 MB with about 750 charts: nobody mails that, and a browser
struggles with it. Per-team files are each a few hundred kB and open on their own (inline CSS
and SVG, no script, nothing fetched); the index links them by relative path, so the folder can
be zipped, mailed or served as it is.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from processhealth.config import Config
from processhealth.errors import UserError
from reports.render import (
    as_of_context,
    environment,
    refuse_unsafe_target,
    write_atomically,
)

PAGES_LIST = ".processhealth-pages.json"  # the pages the last report wrote here
_TEAM_PAGE = re.compile(r"team-[a-z0-9-]+\.html")  # the only names a list may have removed


def is_folder_target(out: Path) -> bool:
    """`--out` names a folder unless it ends in .html (and is not an existing folder)."""
    return out.is_dir() or out.suffix.lower() != ".html"


def render_pages(config: Config, out_dir: Path, month: str | None = None,
                 team: str | None = None) -> list[Path]:
    """Write index.html and one page per team into out_dir (created if missing); return the
    paths written, index first."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file, not a folder. Give a folder for per-team "
                        f"pages, or a path ending in .html for one file.")
    out_dir.mkdir(parents=True, exist_ok=True)
    context = as_of_context(config, month, team)
    targets = [out_dir / "index.html", *(out_dir / f"{t['anchor']}.html"
                                         for t in context["teams"])]
    for target in targets:  # before writing any: all pages or none
        refuse_unsafe_target(target)
    env = environment()
    context.update(pages=True, index_href="index.html")
    page = env.get_template("report.html.j2")
    # Every page rendered before any is written, the index last: a failure while rendering
    # (the long part) leaves the folder as it was, not a new index beside last month's pages.
    pages = [(out_dir / f"{t['anchor']}.html", page.render(
        **{**context, "teams": [t], "page_team": t["name"],
           "title": f"{context['title']}, team {t['name']}"})) for t in context["teams"]]
    pages.append((out_dir / "index.html", env.get_template("index.html.j2").render(**context)))
    written = [write_atomically(target, html) for target, html in pages]
    _forget_pages_of_teams_gone(out_dir, written, every_team=team is None)
    return [written[-1], *written[:-1]]


def _listed_pages(listed: Path) -> set[str]:
    """The names the list holds; nothing from a list that is missing, unreadable, hand-edited
    into another shape or corrupt (it must not stop every later report into the folder)."""
    try:
        pages = json.loads(listed.read_text(encoding="utf-8")).get("pages", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {name for name in pages if isinstance(name, str)} if isinstance(pages, list) else set()


def _forget_pages_of_teams_gone(out_dir: Path, written: list[Path], every_team: bool) -> None:
    """Remove the pages the last report into out_dir wrote that this one did not (a team
    removed from the config would otherwise keep last month's page in a folder that is mailed
    around), then record this report's pages. Only a bare `team-<slug>.html` a report listed
    there goes, never one this run wrote (compared without case, and by file identity, for a
    case-insensitive file system). With --team the other teams are not judged: the list keeps
    them and gains this team's page, so a page only ever written with --team still goes later."""
    listed = out_dir / PAGES_LIST
    before = _listed_pages(listed)
    current = {path.name for path in written}
    if every_team:
        ours = {name.casefold() for name in current}
        for name in sorted(before):
            path = out_dir / name
            if (not _TEAM_PAGE.fullmatch(name) or name.casefold() in ours
                    or path.is_symlink() or not path.is_file()
                    or any(_same_file(path, page) for page in written)):
                continue
            path.unlink(missing_ok=True)
    else:
        current |= {name for name in before if _TEAM_PAGE.fullmatch(name) or name == "index.html"}
    write_atomically(listed, json.dumps({"pages": sorted(current)}, indent=1))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
