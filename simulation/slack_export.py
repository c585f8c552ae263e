"""Write the simulated workspace as a Slack workspace export zip.

The standard export (any plan): channels.json (public channels, with members), users.json,
integration_logs.json, and one folder per public channel holding a YYYY-MM-DD.json file per day
(UTC) with that day's messages and thread replies in ts order. `private=True` adds what an Owner's
export of every conversation adds: groups.json, dms.json and their folders.

Messages are the same JSON the emulator serves (simulation/slack_api.py), plus what exports add:
parents list their `replies`, and human messages carry a `user_profile`.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from .model import Org
from .slack_api import Workspace, epoch


def write_export(org: Org, path: Path, private: bool = False) -> Path:
    ws = Workspace(org)
    profiles = {u["id"]: _profile(u) for u in ws.users}
    public = [c for c in org.slack.channels if not c.is_private and not c.is_im]
    groups = [c for c in org.slack.channels if c.is_private and not c.is_im] if private else []
    dms = [c for c in org.slack.channels if c.is_im] if private else []
    slack_id = {p.pid: p.slack_id for p in org.people}
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        _dump(z, "channels.json", [_channel(ws, c.id, slack_id, c.members) for c in public])
        _dump(z, "users.json", ws.users)
        _dump(z, "integration_logs.json", _integration_logs(org, slack_id))
        if private:
            _dump(z, "groups.json", [_channel(ws, c.id, slack_id, c.members) for c in groups])
            _dump(z, "dms.json", [{"id": c.id, "created": epoch(c.created),
                                   "members": [slack_id[m] for m in c.members]} for c in dms])
        for ch in [*public, *groups, *dms]:
            folder = ch.id if ch.is_im else ch.name
            for day, messages in _days(ws, ch.id, profiles).items():
                _dump(z, f"{folder}/{day}.json", messages)
    return path


def _dump(z: zipfile.ZipFile, name: str, data: object) -> None:
    z.writestr(name, json.dumps(data, ensure_ascii=False, indent=4))


def _channel(ws: Workspace, channel_id: str, slack_id: dict, members: list[str]) -> dict:
    c = ws.channel(channel_id) or {}
    return {
        "id": c["id"], "name": c["name"], "created": c["created"], "creator": c["creator"],
        "is_archived": False, "is_general": c["is_general"],
        "members": [slack_id[m] for m in members if slack_id.get(m)],
        "pins": [], "topic": c["topic"], "purpose": c["purpose"],
    }


def _profile(user: dict) -> dict:
    p = user.get("profile") or {}
    return {"avatar_hash": p.get("avatar_hash"), "image_72": p.get("image_72"),
            "first_name": p.get("first_name"), "real_name": p.get("real_name"),
            "display_name": p.get("display_name"), "team": user.get("team_id"),
            "name": user.get("name"), "is_restricted": False, "is_ultra_restricted": False}


def _days(ws: Workspace, channel_id: str, profiles: dict) -> dict[str, list[dict]]:
    threads = ws.index[channel_id].threads
    days: dict[str, list[dict]] = defaultdict(list)
    for m in ws.thread_messages(channel_id):
        out = dict(m)
        if m["ts"] in threads and m.get("thread_ts") == m["ts"]:
            out["replies"] = [{"user": r.get("user"), "ts": r["ts"]} for r in threads[m["ts"]][1:]]
        if m.get("user") in profiles and "bot_id" not in m:
            out["user_profile"] = profiles[m["user"]]
        day = datetime.fromtimestamp(int(m["ts"].split(".")[0]), UTC).date().isoformat()
        days[day].append(out)
    return dict(sorted(days.items()))


def _integration_logs(org: Org, slack_id: dict) -> list[dict]:
    admin = org.people[-1]
    for p in org.people:
        if p.slack_id and not p.is_bot:
            admin = p
            break
    added = {c.name: c.created for c in org.slack.channels}.get("pmtool-updates")
    when = epoch(added) if added else epoch(datetime.combine(org.start, datetime.min.time(), UTC))
    return [{"user_id": admin.slack_id, "user_name": admin.slack_name, "bot_id": b.id,
             "service_id": b.app_id, "service_type": b.name, "date": str(when),
             "change_type": "added", "scope": "chat:write,incoming-webhook"}
            for b in org.slack.bots]
