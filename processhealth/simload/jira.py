"""Load the simulated Jira straight into the raw store, without HTTP.

The rows are the ones `collectors.jira.collect` writes against the emulator at `base_url` with a
default [jira] config (Cloud flavour unless told): the same payloads (simulation/jira_api.py),
the same requested fields, the same row code (collectors/jira_rows.py) and the same checkpoints.
"""

from __future__ import annotations

from collectors import jira_rows as rows
from collectors import privacy
from collectors.jira import requested_fields
from processhealth.config_models import JiraConfig
from processhealth.store import RawStore
from simulation import jira_api as japi
from simulation.heap import few_collections
from simulation.model import Org


@few_collections()
def load(org: Org, store: RawStore, base_url: str = "http://127.0.0.1:1",
         flavour: str = japi.CLOUD, cfg: JiraConfig | None = None) -> int:
    """Save the organization's Jira as a full collection would; returns the issues saved."""
    cfg = cfg or JiraConfig()
    site = japi.Site(org, base_url, flavour)
    listed = japi.fields(site)
    store.save(rows.SOURCE, "fields", rows.field_rows(listed, site.rest("field")), scope="site")
    store.save(rows.SOURCE, "statuses", rows.status_rows(japi.statuses(site), site.rest("status")),
               scope="site")
    wanted = requested_fields(listed, cfg)
    projects = cfg.projects or list(org.jira.projects)
    saved = 0
    for project in projects:
        issues = sorted((i for i in org.jira.issues if i.project == project),
                        key=lambda i: (i.updated, i.id))
        text_ids = privacy.text_field_ids(listed)  # reduced as the collector does by default
        batch = [rows.issue_row(privacy.reduce_jira_issue(
            japi.select_fields(japi.issue_json(site, i), wanted), text_ids)) for i in issues]
        cursor = max((r["updated_at"] for r in batch), key=rows.parse_time, default=None)
        store.save(rows.SOURCE, "issues", batch, scope=project, cursor=cursor)
        saved += len(batch)
    for board in org.jira.boards:
        if board.project not in projects:
            continue
        store.save(rows.SOURCE, "boards", rows.board_rows([japi.board(site, board.id)]),
                   scope=board.project)
        sprints = [japi.sprint(site, s) for s in org.jira.sprints if s.board_id == board.id]
        store.save(rows.SOURCE, "sprints", rows.sprint_rows(sprints, board.id),
                   scope=board.project)
    return saved
