"""Load the simulated Slack workspace straight into the raw store, without HTTP.

The rows are the ones `collectors.slack.collect` writes against the emulator at `base_url` with a
default [slack] config: the same payloads (simulation/slack_api.py), the same channel choice,
privacy and row code (collectors/slack_rows.py), the same source URLs and checkpoints.
"""

from __future__ import annotations

from collectors.slack_client import api_base
from collectors.slack_rows import (
    Rules,
    channel_row,
    checkpoint,
    history_url,
    message_row,
    plain_row,
    replies_url,
    select_channels,
    user_row,
)
from processhealth.config_models import SlackConfig
from processhealth.store import RawStore
from simulation.heap import few_collections
from simulation.model import Org
from simulation.slack_api import Workspace

SOURCE = "slack"


@few_collections()
def load(org: Org, store: RawStore, base_url: str = "http://127.0.0.1:1",
         cfg: SlackConfig | None = None, store_message_text: bool = False) -> int:
    """Save the organization's Slack as a collection would; returns the messages saved."""
    cfg = cfg or SlackConfig()
    base, rules, ws = api_base(base_url), Rules.from_config(cfg, store_message_text), Workspace(org)
    team_id = ws.team["id"]
    store.save(SOURCE, "team", [plain_row(team_id, ws.team, base + "team.info")], scope=team_id)
    store.save(SOURCE, "users", [user_row(u, base + "users.list") for u in ws.users],
               scope=team_id)
    store.save(SOURCE, "usergroups", [plain_row(g["id"], g, base + "usergroups.list",
                                                g.get("date_update")) for g in ws.usergroups],
               scope=team_id)
    chosen, _ = select_channels(ws.channels, cfg)
    readable = [c for c in chosen if c.get("is_member", True) or c.get("is_im")]
    store.save(SOURCE, "channels", [channel_row(c, base + "conversations.list")
                                    for c in readable], scope=team_id)
    saved, bots = 0, set()
    for ch in readable:
        cid, idx = ch["id"], ws.index[ch["id"]]
        url = history_url(base, cid)
        rows = [message_row(cid, m, rules, url) for m in idx.messages]
        for ts, thread in idx.threads.items():
            rows += [message_row(cid, r, rules, replies_url(base, cid, ts))
                     for r in thread[1:]]
            bots |= {r["bot_id"] for r in thread[1:] if r.get("bot_id")}
        bots |= {m["bot_id"] for m in idx.messages if m.get("bot_id")}
        top = idx.messages[-1]["ts"] if idx.messages else None
        store.save(SOURCE, "messages", rows, scope=cid, cursor=checkpoint(top))
        saved += len(rows)
    store.save(SOURCE, "bots", [plain_row(b, ws.bots[b], base + "bots.info",
                                          ws.bots[b].get("updated"))
                                for b in sorted(bots) if b in ws.bots], scope=team_id)
    return saved

