"""Import a Slack workspace export (the zip, or the folder it unpacks to) into the raw store.

    export = read_export(Path("acme.zip"), cfg.slack)          # checks every file: UserError
    with RawStore.of(cfg) as store:
        save_export(export, store, store_message_text=False)

The export holds channels.json (public channels), users.json, integration_logs.json, optionally
groups.json / dms.json / mpims.json, and a folder per conversation with a YYYY-MM-DD.json file per
day of messages and thread replies. The same channel selection and privacy as the API collector
apply (slack_rows.py), so the same workspace gives the same rows either way. `read_export` parses
every file it will import before anything is written: a bad export leaves the store untouched.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from collectors.slack_rows import (
    Rules,
    channel_row,
    checkpoint,
    is_reply,
    message_row,
    plain_row,
    read_checkpoint,
    select_channels,
    ts_key,
    user_row,
)
from processhealth import ui
from processhealth.config_models import SlackConfig
from processhealth.errors import SHAPE_ERRORS, UserError
from processhealth.store import RawStore

SOURCE = "slack"
BATCH = 20_000
# A day of one channel is far smaller; a bigger file is not an export's (or is a zip bomb), and
# parsing it at once would exhaust memory before any message could be shown.
MAX_FILE_BYTES = 256 * 2**20
# conversation list file -> flags that make slack_rows.conversation_type() see its kind
LISTS = {"channels.json": {}, "groups.json": {"is_private": True},
         "mpims.json": {"is_mpim": True}, "dms.json": {"is_im": True}}


class Archive:
    """Read-only access to the export's files by relative path, zip or folder alike."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self.zip = None
            self.names = _folder_names(path)
        elif path.is_file():
            if not zipfile.is_zipfile(path):
                raise UserError(
                    f"{path} is neither a zip archive nor a folder. Expected the .zip file a "
                    f"Slack workspace export downloads as, or the folder it unpacks to.")
            try:
                self.zip = zipfile.ZipFile(path)
                names = [i.filename for i in self.zip.infolist() if not i.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                raise UserError(f"{path} is not a readable zip archive: {exc}.") from None
            for name in names:
                _check_name(path, name)
            self.names = names
        else:
            raise UserError(f"There is no file or folder {path} to import.")
        self.root = _root(path, self.names)

    def has(self, name: str) -> bool:
        return self.root + name in self.names

    def list(self, folder: str) -> list[str]:
        prefix = f"{self.root}{folder}/"
        return sorted(n[len(self.root):] for n in self.names if n.startswith(prefix)
                      and n.endswith(".json") and "/" not in n[len(prefix):])

    def json(self, name: str) -> object:
        full = self.root + name
        zipped = self.zip is not None
        size = self.zip.getinfo(full).file_size if zipped else (self.path / full).stat().st_size
        if size > MAX_FILE_BYTES:
            raise UserError(f"{self.where(name)} holds {size:,} bytes, more than the "
                            f"{MAX_FILE_BYTES:,} a file of a Slack export is read up to (one "
                            f"day of one channel is far less). Check that this is a Slack "
                            f"export, or remove that file to import the rest.")
        try:
            return json.loads(self.zip.read(full) if zipped else (self.path / full).read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"{self.where(name)} is not valid JSON ({exc}). Re-download the "
                            f"export, or remove that file to import the rest.") from None
        except (OSError, zipfile.BadZipFile) as exc:
            raise UserError(f"Cannot read {self.where(name)}: {exc}.") from None

    def where(self, name: str) -> str:
        return f"{self.path}: {self.root}{name}" if self.zip is not None else str(self.path / name)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _check_name(archive: Path, name: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise UserError(
            f"{archive} holds the entry {name!r}, which points outside the export folder. "
            f"Refusing to import it: a Slack export only holds channels.json, users.json and "
            f"channel folders.")


def _folder_names(path: Path) -> list[str]:
    top = path.resolve()
    names = []
    for dirpath, _, files in os.walk(path):
        for f in files:
            full = Path(dirpath) / f
            if not full.resolve().is_relative_to(top):
                raise UserError(f"{full} points outside the export folder {path} (a link?). "
                                f"Refusing to import it.")
            names.append(full.relative_to(path).as_posix())
    return names


def _root(path: Path, names: list[str]) -> str:
    """"" when channels.json is at the top, "<folder>/" when the export sits in one folder."""
    if "channels.json" in names:
        return ""
    nested = [n[: -len("channels.json")] for n in names
              if n.endswith("/channels.json") and n.count("/") == 1]
    if len(nested) == 1:
        return nested[0]
    raise UserError(
        f"{path} has no channels.json, so it is not a Slack workspace export. Expected "
        f"channels.json, users.json and one folder of YYYY-MM-DD.json files per channel, as "
        f"Slack's Workspace settings > Import/Export data > Export writes them.")


@dataclass
class Export:
    """A checked export: what to import, read again from the archive when saving."""

    archive: Archive
    cfg: SlackConfig
    users: list[dict]
    conversations: list[tuple[dict, str]]  # (channel object, folder)
    integrations: list[dict]
    missing: list[str] = field(default_factory=list)
    messages: int = 0


def read_export(path: Path, cfg: SlackConfig) -> Export:
    """Open and check the whole export; UserError naming the first bad file."""
    archive = Archive(path)
    try:
        users = _objects(archive, "users.json", required=True)
        for user in users:
            if not isinstance(user.get("id"), str) or not user["id"]:
                raise UserError(f"{archive.where('users.json')} lists a user without a text id "
                                f"(found {json.dumps(user.get('id'))}, name "
                                f"{json.dumps(user.get('name'))}); Slack user ids read like "
                                f"U024BE7LH. Re-download the export.")
        found: list[tuple[dict, str]] = []
        for name, flags in LISTS.items():
            for ch in _objects(archive, name, required=name == "channels.json"):
                if not ch.get("id"):
                    raise UserError(f"{archive.where(name)} lists a conversation without an id.")
                if not isinstance(ch["id"], str) or not isinstance(ch.get("name", ""), str):
                    raise UserError(f"{archive.where(name)} lists a conversation whose id or name "
                                    f"is not text (id {json.dumps(ch['id'])}); Slack channel ids "
                                    f"read like C024BE91L. Re-download the export.")
                ch = {**ch, **flags}
                found.append((ch, ch["id"] if ch.get("is_im") else ch.get("name") or ch["id"]))
        chosen, missing = select_channels([c for c, _ in found], cfg)
        ids = {c["id"] for c in chosen}
        export = Export(archive, cfg, users, [(c, f) for c, f in found if c["id"] in ids],
                        _objects(archive, "integration_logs.json", required=False), missing)
        for _, folder in export.conversations:  # parse every day file once before writing
            for _, messages in _day_files(archive, folder):
                export.messages += len(messages)
    except BaseException:
        archive.close()
        raise
    return export


def _objects(archive: Archive, name: str, required: bool) -> list[dict]:
    if not archive.has(name):
        if required:
            raise UserError(f"{archive.where(name)} is missing: a Slack workspace export always "
                            f"holds channels.json and users.json.")
        return []
    data = archive.json(name)
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise UserError(f"{archive.where(name)} should be a JSON list of objects; it is not.")
    return data


def _day_files(archive: Archive, folder: str) -> Iterator[tuple[str, list[dict]]]:
    for name in archive.list(folder):
        data = archive.json(name)
        if not isinstance(data, list) or not all(isinstance(m, dict) and m.get("ts")
                                                 for m in data):
            raise UserError(f"{archive.where(name)} should be a JSON list of messages, each "
                            f"with a ts; it is not.")
        for m in data:
            for key in ("ts", "thread_ts"):
                if key in m and not _is_ts(m[key]):
                    raise UserError(f"{archive.where(name)} holds a message whose {key} is "
                                    f"{json.dumps(m[key])[:40]}; Slack timestamps read like "
                                    f"\"1700000000.000100\". Re-download the export.")
        yield name, data


def _is_ts(value: object) -> bool:
    """A Slack timestamp: seconds.microseconds as text."""
    return isinstance(value, str) and re.fullmatch(r"\d{1,12}(\.\d{1,9})?", value) is not None


def save_export(export: Export, store: RawStore, store_message_text: bool = False) -> int:
    """Write a checked export; returns how many messages and replies were imported."""
    archive, rules = export.archive, Rules.from_config(export.cfg, store_message_text)
    source = f"file://{archive.path.resolve()}#"
    team = next((u.get("team_id") for u in export.users if u.get("team_id")), "export")
    for name in export.missing:
        ui.warn(f"slack export: {archive.path} holds no conversation {name!r} named in [slack].")
    done = 0
    # one transaction: a message found unreadable halfway leaves the store as it was
    with ui.progress("slack export", total=export.messages, unit="messages") as bar, \
            store.bulk(all_or_nothing=True):
        store.save(SOURCE, "users", [user_row(u, source + "users.json") for u in export.users],
                   scope=team, keep_newer=True)
        store.save(SOURCE, "channels", [channel_row(c, source + f"{folder}/")
                                        for c, folder in export.conversations], scope=team,
                   keep_newer=True)
        store.save(SOURCE, "integrations", [
            plain_row(f"{i.get('date')}/{i.get('service_id') or i.get('app_id')}/"
                      f"{i.get('change_type')}/{i.get('channel', '')}", i,
                      source + "integration_logs.json", i.get("date"))
            for i in export.integrations], scope=team, keep_newer=True)
        for ch, folder in export.conversations:
            bar.note(f"#{folder}")
            rows, top = [], None
            for name, messages in _day_files(archive, folder):
                rows += _message_rows(archive.where(name), ch["id"], messages, rules,
                                      source + name)
                tops = [m["ts"] for m in messages if not is_reply(m)]
                top = max([t for t in (top, *tops) if t], key=ts_key, default=None)
                if len(rows) >= BATCH:
                    done += _save(store, ch["id"], rows, bar)
                    rows = []
            done += _save(store, ch["id"], rows, bar, _cursor(store, ch["id"], top))
    archive.close()
    return done


def _message_rows(where: str, cid: str, messages: list[dict], rules: Rules,
                  source_url: str) -> list[dict]:
    try:
        return [message_row(cid, m, rules, source_url) for m in messages]
    except SHAPE_ERRORS as exc:
        raise UserError(f"{where} holds a message of a shape no Slack export has "
                        f"({type(exc).__name__}: {exc}); nothing of this import was saved. "
                        f"Re-download the export, or leave this conversation out of "
                        f"[slack] channels.") from None


def _save(store: RawStore, cid: str, rows: list[dict], bar: ui.Step,
          cursor: str | None = None) -> int:
    store.save(SOURCE, "messages", rows, scope=cid, cursor=cursor, keep_newer=True)
    bar.advance(len(rows))
    return len(rows)


def _cursor(store: RawStore, cid: str, top: str | None) -> str | None:
    """Let a later API collection continue after the export instead of re-reading it."""
    state = read_checkpoint(store.get_cursor(SOURCE, "messages", cid))
    if top is None or state.get("pass") or ts_key(state.get("high")) >= ts_key(top):
        return None
    return checkpoint(top)
