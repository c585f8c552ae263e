"""The simulated organization's Jira written as saved Data Center search responses: the files
`processhealth import jira-json` reads, with the same issue JSON the emulator serves."""

from __future__ import annotations

import json
from pathlib import Path

from .jira_api import DATACENTER, Site, fields, issue_json
from .model import Org


def write_search_json(org: Org, folder: Path, *, page_size: int = 500,
                      base_url: str = "https://jira.acme.example") -> list[Path]:
    """Write the org's Jira as Data Center search responses (expand=names,changelog), one file
    per page per project: what `processhealth import jira-json` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    site = Site(org, base_url, DATACENTER)
    names = {f["id"]: f["name"] for f in fields(site)}
    paths = []
    for key in org.jira.projects:
        issues = sorted((i for i in org.jira.issues if i.project == key),
                        key=lambda i: (i.updated, i.id))
        for start in range(0, max(len(issues), 1), page_size):
            page = [issue_json(site, i) for i in issues[start:start + page_size]]
            body = {"expand": "names,schema", "startAt": start, "maxResults": page_size,
                    "total": len(issues), "issues": page, "names": names}
            path = folder / f"{key}-{start // page_size + 1:03d}.json"
            path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            paths.append(path)
    return paths
