"""`processhealth import jira-json`: saved Jira search responses into the raw store.

A file is what /rest/api/2/search (startAt/total) or /rest/api/3/search/jql (nextPageToken)
returned, ideally with expand=changelog,names: {"issues": [...], "names": {...}}; a bare list of
issues is accepted too. Every file is checked before anything is written. Issues go through the
collector's row code (collectors/jira_rows.py) with the file as provenance; no checkpoint moves,
so a later `collect` still reads everything it would have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from collectors import jira_rows as rows
from collectors import privacy
from collectors.slack_rows import Rules
from processhealth import ui
from processhealth.errors import SHAPE_ERRORS, UserError
from processhealth.store import RawStore

# A saved search page (100 issues with changelogs) is a few MB; parsing a far bigger file at
# once would exhaust memory before any message could be shown.
MAX_FILE_BYTES = 256 * 2**20


@dataclass
class SearchFile:
    path: Path
    issues: list[dict[str, Any]]
    names: dict[str, str] = field(default_factory=dict)


def json_files(paths: list[Path]) -> list[Path]:
    """The files named, and the *.json files inside any folder named, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path} does not exist; expected a JSON file saved from a Jira "
                            f"search, or a folder of them.")
    if not found:
        raise UserError(f"No .json files found in {', '.join(map(str, paths))}.")
    return found


def read_search_file(path: Path) -> SearchFile:
    """Parse and check one file; UserError saying what was expected and what was found."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UserError(f"{path} holds {size:,} bytes, more than the {MAX_FILE_BYTES:,} a "
                            f"saved search is read up to. Save the search in pages "
                            f"(maxResults=100) into a folder and import the folder.")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise UserError(f"{path} nests JSON deeper than any Jira search response; check that "
                        f"it is a saved Jira search.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path} is not a readable JSON file: {exc}.") from None
    issues = doc.get("issues") if isinstance(doc, dict) else doc
    if not isinstance(issues, list):
        found = f"an object with keys {sorted(doc)[:8]}" if isinstance(doc, dict) else \
            type(doc).__name__
        raise UserError(f"{path} is not a Jira search response: expected an object with an "
                        f"\"issues\" list (or a list of issues); found {found}.")
    for n, issue in enumerate(issues):
        if not (isinstance(issue, dict) and isinstance(issue.get("key"), str)
                and isinstance(issue.get("fields"), dict)):
            raise UserError(f"{path}: issue #{n + 1} lacks a \"key\" or a \"fields\" object; "
                            f"save the search with the default fields (or fields=*all).")
        check_issue(path, issue)
    names = doc.get("names") if isinstance(doc, dict) else None
    return SearchFile(path, issues, names if isinstance(names, dict) else {})


MAX_DEPTH = 64  # Jira's deepest payloads (v3 rich-text bodies) nest about 15 levels


def check_issue(path: Path, issue: dict[str, Any]) -> None:
    """The fields the build relies on, with the types Jira gives them."""
    key, fields = issue["key"], issue["fields"]
    for name, required in (("created", True), ("updated", False)):
        value = fields.get(name)
        if value is None and not required:
            continue
        try:
            if not isinstance(value, str):
                raise TypeError
            rows.parse_time(value)
        except (TypeError, ValueError):
            raise UserError(f"{path}: issue {key} has {'no' if value is None else 'an unreadable'}"
                            f" \"{name}\" time{'' if value is None else f' {value!r}'}; "
                            f"expected e.g. 2026-02-03T09:15:00.000+0000 (save the search with "
                            f"the default fields, or fields=*all).") from None
    project = fields.get("project")
    if project is not None and not (isinstance(project, dict)
                                    and isinstance(project.get("key"), str)):
        raise UserError(f"{path}: issue {key} has a \"project\" of the wrong shape "
                        f"({json.dumps(project)[:60]}); expected an object with a \"key\", as "
                        f"Jira's search returns it.")
    if issue.get("id") is not None and not isinstance(issue["id"], str | int):
        raise UserError(f"{path}: issue {key} has an \"id\" of the wrong shape "
                        f"({json.dumps(issue['id'])[:60]}); expected a number or a string.")
    if _depth(issue) > MAX_DEPTH:
        raise UserError(f"{path}: issue {key} nests more than {MAX_DEPTH} levels deep; no Jira "
                        f"payload does. Check that the file is a saved Jira search.")


def _depth(value: Any) -> int:
    """How deep lists and objects nest (iteratively: no recursion limit to hit)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                todo += [(v, level + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item)]
    return deepest


def check_ids(files: list[SearchFile]) -> None:
    """One id is one issue: two keys sharing an id (in these files) cannot both be right."""
    seen: dict[str, tuple[str, Path]] = {}
    for f in files:
        for issue in f.issues:
            if issue.get("id") is None:
                continue
            ident = str(issue["id"])
            key, where = seen.setdefault(ident, (issue["key"], f.path))
            if key != issue["key"]:
                raise UserError(
                    f"{f.path}: issues {key} ({where.name}) and {issue['key']} share the id "
                    f"{ident}; one id is one issue. A moved issue keeps its id under a new key: "
                    f"import only the newer search, or save both again from the same site.")


def save_search_files(files: list[SearchFile], store: RawStore,
                      store_text_fields: bool = False,
                      flag_rules: Rules | None = None) -> dict[str, int]:
    """Save issues per project, and field names the store does not know yet. Returns counts:
    issues, changed, incomplete (issues whose saved changelog or comments were truncated).
    Free text is reduced to its length (comments' also to their flags, by `flag_rules`) unless
    `store_text_fields` (collectors/privacy.py)."""
    counts = {"issues": 0, "changed": 0, "incomplete": 0}
    known = _known_fields(store)
    text_ids = _text_fields(store)
    # one transaction: an issue found unreadable halfway leaves the store as it was
    with store.bulk(all_or_nothing=True):
        _save_files(store, files, known, text_ids, flag_rules, store_text_fields, counts)
    return counts


def _newest(files: list[SearchFile]) -> dict[str, tuple[int, int]]:
    """Issue key -> (file, position) of its newest version in these files (the greatest
    `updated`; of equal or missing times, the later file): overlapping searches saved at
    different times name an issue more than once, and an older copy must not replace it."""
    best: dict[str, tuple[datetime | None, int, int]] = {}
    for i, f in enumerate(files):
        for n, issue in enumerate(f.issues):
            updated = rows.parse_time((issue.get("fields") or {}).get("updated"))
            old = best.get(issue["key"])
            if old is None or old[0] is None or (updated is not None and updated >= old[0]):
                best[issue["key"]] = (updated, i, n)
    return {key: (i, n) for key, (_, i, n) in best.items()}


def _save_files(store: RawStore, files: list[SearchFile], known: set[str],
                text_ids: set[str] | None, flag_rules: Rules | None, store_text_fields: bool,
                counts: dict[str, int]) -> None:
    newest = _newest(files)
    for i, f in enumerate(files):
        names = dict(f.names)
        if not names:  # saved without expand=names: keep custom fields, named by their ids
            unnamed = sorted({k for issue in f.issues for k in issue["fields"]
                              if k.startswith("customfield_") and k not in known})
            if unnamed:
                ui.warn(f"{f.path} carries no field names (save searches with expand=names): "
                        f"{len(unnamed)} custom fields the store does not know are kept under "
                        f"their ids, e.g. {unnamed[0]}; a later `collect`, or a file saved "
                        f"with names, names them.")
                names = {k: k for k in unnamed}
        new_names = {k: v for k, v in names.items() if k not in known}
        if new_names:
            store.save(rows.SOURCE, "fields", rows.field_rows(
                rows.names_as_fields(new_names), f.path.resolve().as_uri()), scope="site")
            known |= {k for k, v in new_names.items() if v != k}  # named, not by its id
        by_project: dict[str, list[dict[str, Any]]] = {}
        for n, issue in enumerate(f.issues):
            if newest[issue["key"]] != (i, n):
                continue  # a newer version of it is saved from its own file
            try:
                if not store_text_fields:
                    issue = privacy.reduce_jira_issue(issue, text_ids, flag_rules)
                by_project.setdefault(rows.project_of(issue), []).append(
                    rows.issue_row(issue, source_url=f.path.resolve().as_uri()))
                counts["incomplete"] += bool(rows.truncated(issue))
            except SHAPE_ERRORS as exc:
                raise UserError(
                    f"{f.path}: issue {issue.get('key')} holds a part of a shape no Jira search "
                    f"response has ({type(exc).__name__}: {exc}); nothing of this import was "
                    f"saved. Save the search again, or leave this file out.") from None
        for project, batch in by_project.items():
            counts["changed"] += store.save(rows.SOURCE, "issues", batch, scope=project,
                                            keep_newer=True)
            counts["issues"] += len(batch)


def _text_fields(store: RawStore) -> set[str] | None:
    """Free-text fields by the site's field list, if a collection stored one (with schemas);
    None: judge each value (collectors/privacy.py)."""
    if not store.table_exists("raw_jira_fields"):
        return None
    listed = [json.loads(r[0]) for r in store.con.execute(
        "SELECT payload FROM raw_jira_fields WHERE (payload->'schema') IS NOT NULL").fetchall()]
    return privacy.text_field_ids(listed) if listed else None


def _known_fields(store: RawStore) -> set[str]:
    """Field ids the store holds with a name: one kept under its own id (a file saved without
    `names`) is named by the next file that names it."""
    if not store.table_exists("raw_jira_fields"):
        return set()
    return {r[0] for r in store.con.execute(
        "SELECT natural_key FROM raw_jira_fields"
        " WHERE payload ->> 'name' IS DISTINCT FROM natural_key").fetchall()}
