"""Free text reduced at ingest, before anything reaches the raw store ([privacy]
store_text_fields = false, the default), as Slack message bodies are (collectors/slack_rows.py).

What metrics need of a text is whether it is filled and how long it is, never its words:

- Jira: free-text fields (custom text fields: the site's field list says which; without one, as
  for an imported search, any custom string that is not a date, an issue key or a sprint) and
  the system description and environment become {"length": n} (an empty one stays as it was, so
  "filled" is unchanged); their changelog texts (fromString/toString) go, with their lengths
  kept; comment bodies and worklog comments become null with bodyLength / commentLength.
- GitHub: the body of issues, pull requests, comments, review comments, reviews and releases
  becomes null, with body_length. Titles, branch names and commit messages stay (Jira keys and
  work item titles are read from them).
"""

from __future__ import annotations

import re
from typing import Any

TEXT_TYPES = ("customfieldtypes:textarea", "customfieldtypes:textfield")
SYSTEM_TEXT = ("description", "environment")
_NOT_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2}([T ][\d:.+\-Z]*)?|[A-Z][A-Z0-9_]+-\d+|"
                       r"com\.atlassian\.greenhopper\.service\.sprint\.Sprint@.*)$", re.S)
GITHUB_BODIES = ("issues", "pulls", "issue_comments", "review_comments", "reviews", "releases")

Json = dict[str, Any]


class TextFields(set):
    """Ids of a site's free-text fields; `.names`: their names in lower case (Data Center
    changelogs name a field only)."""

    names: set[str]


def text_field_ids(listed: list[Json]) -> TextFields:
    """The free-text fields of a site's field list (/field)."""
    found = TextFields(SYSTEM_TEXT)
    found.names = set(SYSTEM_TEXT)
    for f in listed:
        custom = str((f.get("schema") or {}).get("custom") or "")
        if f.get("custom") and custom.endswith(TEXT_TYPES):
            found.add(str(f["id"]))
            found.names.add(str(f.get("name") or f["id"]).lower())
    return found


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip())


def _length(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    return len(_adf_text(value))


def _adf_text(value: Any) -> str:
    """The words of an Atlassian Document Format body (or any JSON), for its length only."""
    if isinstance(value, dict):
        return str(value.get("text") or "") + "".join(_adf_text(v) for k, v in value.items()
                                                      if k in ("content", "attrs") or
                                                      isinstance(v, list))
    if isinstance(value, list):
        return "".join(_adf_text(v) for v in value)
    return ""


def _is_text(field_id: str, value: Any, text_ids: set[str] | None) -> bool:
    if text_ids is not None:
        return field_id in text_ids
    if field_id in SYSTEM_TEXT:
        return True
    if not field_id.startswith("customfield_"):
        return False
    if isinstance(value, dict):
        return value.get("type") == "doc"  # an ADF rich-text body
    return isinstance(value, str) and not _NOT_TEXT.match(value.strip())


def reduce_jira_issue(issue: Json, text_ids: set[str] | None) -> Json:
    """A copy of the issue with its free text reduced (see the module docstring). text_ids: the
    site's free-text fields, or None to judge by the values (imports without a field list)."""
    fields = dict(issue.get("fields") or {})
    reduced = set()
    for field_id, value in list(fields.items()):
        if _is_text(field_id, value, text_ids) and _filled(value):
            fields[field_id] = {"length": _length(value)}
            reduced.add(field_id)
    for block, items, key in (("comment", "comments", "body"), ("worklog", "worklogs",
                                                                "comment")):
        inline = fields.get(block)
        if isinstance(inline, dict) and isinstance(inline.get(items), list):
            fields[block] = {**inline, items: [_without(c, key) for c in inline[items]]}
    out = {**issue, "fields": fields}
    changelog = issue.get("changelog")
    if isinstance(changelog, dict) and isinstance(changelog.get("histories"), list):
        ids = reduced | set(text_ids or ())
        names = set(getattr(text_ids, "names", set()))
        out["changelog"] = {**changelog, "histories": [
            _history(h, ids, names, text_ids is None) for h in changelog["histories"]]}
    return out


def _without(item: Any, key: str) -> Any:
    if not isinstance(item, dict) or key not in item:
        return item
    return {**item, key: None, f"{key}Length": _length(item[key]) if item[key] else 0}


def _history(history: Any, ids: set[str], names: set[str], guess: bool) -> Any:
    if not isinstance(history, dict) or not isinstance(history.get("items"), list):
        return history
    items = []
    for item in history["items"]:
        if isinstance(item, dict) and _text_item(item, ids, names, guess):
            item = {**item, "fromString": None, "toString": None,
                    "fromLength": len(item.get("fromString") or ""),
                    "toLength": len(item.get("toString") or "")}
        items.append(item)
    return {**history, "items": items}


def _text_item(item: Json, ids: set[str], names: set[str], guess: bool) -> bool:
    """Whether a changelog item records a free-text field's words. Cloud names the field by id
    (fieldId); Data Center by name only, custom fields with fieldtype "custom"."""
    field = str(item.get("field") or "").lower()
    custom = item.get("fieldtype") == "custom"
    if item.get("fieldId"):
        return str(item["fieldId"]) in ids
    if not custom:
        return field in SYSTEM_TEXT
    if field in names:
        return True
    # Without a field list, a custom field edit with strings and no ids is free text.
    return guess and item.get("from") is None and item.get("to") is None \
        and bool(item.get("fromString") or item.get("toString")) \
        and not _NOT_TEXT.match(str(item.get("toString") or item.get("fromString")).strip())


def reduce_github(entity: str, rows: list[Json]) -> list[Json]:
    """GitHub rows with their bodies reduced to a length (see the module docstring)."""
    if entity not in GITHUB_BODIES:
        return rows
    out = []
    for row in rows:
        payload = row.get("payload")
        if isinstance(payload, dict) and payload.get("body") is not None:
            payload = {**payload, "body": None, "body_length": len(str(payload["body"]))}
            row = {**row, "payload": payload}
        out.append(row)
    return out
