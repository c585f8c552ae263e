"""Free text reduced at ingest, before anything reaches the raw store ([privacy]
store_text_fields = false, the default), as Slack message bodies are (collectors/slack_rows.py).

What metrics need of a text is whether it is filled and how long it is, never its words:

- Jira: free-text fields (custom text fields: the site's field list says which; without one, as
  for an imported search, any custom string that is not a date, an issue key or a sprint) and
  the system description and environment become {"length": n} (an empty one stays as it was, so
  "filled" is unchanged); their changelog texts (fromString/toString) go, with their lengths
  kept; comment bodies and worklog comments become null with bodyLength / commentLength, and a
  comment gets bodyFlags.
- GitHub: the body of issues, pull requests, comments, review comments, reviews and releases
  becomes null, with body_length; a comment or review comment gets body_flags.

Declared experiments (docs/metrics.md section 9) are flagged here too, from the words in hand:
a Jira issue gets textFlags {has_hypothesis, has_success_criteria, has_result} of its reduced
description and text fields, a GitHub issue or pull request body_flags of its body, and every
comment's flags add has_result ([declared_experiments] patterns). Jira fields named in
[declared_experiments] hypothesis_fields / success_criteria_fields count by being filled, which
the build sees either way (collectors/sql/20_jira.sql).

The flags (reminder, status request, shadow-tool link) are the ones Slack messages get at ingest,
from the [slack] patterns (collectors/slack_rows.py); the build reads them from the body when it
is stored, else from these (collectors/sql/05_text_flags.sql), so a comment counts alike whether
or not its words were kept. Changing the patterns re-flags reduced comments at the next
`collect --full`. Titles, branch names and commit messages stay (Jira keys and
  work item titles are read from them).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from collectors.slack_rows import Rules
from processhealth.config_models import SlackConfig

TEXT_TYPES = ("customfieldtypes:textarea", "customfieldtypes:textfield")
SYSTEM_TEXT = ("description", "environment")
_NOT_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2}([T ][\d:.+\-Z]*)?|[A-Z][A-Z0-9_]+-\d+|"
                       r"com\.atlassian\.greenhopper\.service\.sprint\.Sprint@.*)$", re.S)
GITHUB_BODIES = ("issues", "pulls", "issue_comments", "review_comments", "reviews", "releases")
GITHUB_COMMENTS = ("issue_comments", "review_comments")

Json = dict[str, Any]


class TextFields(set):
    """Ids of a site's free-text fields; `.names`: their names in lower case (Data Center
    changelogs name a field only)."""

    names: set[str]


@functools.cache
def default_rules() -> Rules:
    """The flag rules of the default [slack] settings."""
    return Rules.from_config(SlackConfig())


def text_flags(text: str, rules: Rules | None) -> dict[str, Any]:
    """{is_reminder, is_status_request, shadow_tool} of a comment's words: the same rules as the
    build applies to a stored body (collectors/sql/05_text_flags.sql): a pattern found anywhere,
    the first configured shadow-tool domain the text contains, else a shadow-tool extension."""
    rules = rules or default_rules()
    lowered = text.lower()
    shadow = next((host + path for host, path in rules.shadow_domains
                   if host + path in lowered), None)
    if shadow is None and rules.shadow_extensions:
        found = re.search("(" + "|".join(map(re.escape, rules.shadow_extensions)) + r")\b",
                          lowered)
        shadow = found.group(1) if found else None
    return {"is_reminder": any(p.search(text) for p in rules.reminder),
            "is_status_request": any(p.search(text) for p in rules.status_request),
            "shadow_tool": shadow, **declared_flags(text, rules)}


def declared_flags(text: str, rules: Rules | None) -> dict[str, bool]:
    """{has_hypothesis, has_success_criteria, has_result} of a text: a [declared_experiments]
    pattern found anywhere (the build applies the same to a stored text: 05_text_flags.sql)."""
    hypothesis, criteria, result = (rules or default_rules()).declared
    return {"has_hypothesis": any(p.search(text) for p in hypothesis),
            "has_success_criteria": any(p.search(text) for p in criteria),
            "has_result": any(p.search(text) for p in result)}


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


def reduce_jira_issue(issue: Json, text_ids: set[str] | None, rules: Rules | None = None) -> Json:
    """A copy of the issue with its free text reduced (see the module docstring). text_ids: the
    site's free-text fields, or None to judge by the values (imports without a field list);
    rules: the comment flag rules ([slack] patterns; the defaults when None)."""
    fields = dict(issue.get("fields") or {})
    reduced = set()
    words = []
    for field_id, value in list(fields.items()):
        if _is_text(field_id, value, text_ids) and _filled(value):
            words.append(value if isinstance(value, str) else _adf_text(value))
            fields[field_id] = {"length": _length(value)}
            reduced.add(field_id)
    for block, items, key in (("comment", "comments", "body"), ("worklog", "worklogs",
                                                                "comment")):
        inline = fields.get(block)
        if isinstance(inline, dict) and isinstance(inline.get(items), list):
            flags = (rules or default_rules()) if block == "comment" else None
            fields[block] = {**inline, items: [_without(c, key, flags) for c in inline[items]]}
    out = {**issue, "fields": fields}
    if words:
        each = [declared_flags(w, rules) for w in words]  # once per text
        out["textFlags"] = {k: any(f[k] for f in each) for k in each[0]}
    changelog = issue.get("changelog")
    if isinstance(changelog, dict) and isinstance(changelog.get("histories"), list):
        ids = reduced | set(text_ids or ())
        names = set(getattr(text_ids, "names", set()))
        out["changelog"] = {**changelog, "histories": [
            _history(h, ids, names, text_ids is None) for h in changelog["histories"]]}
    return out


def _without(item: Any, key: str, rules: Rules | None = None) -> Any:
    """The item with its text `key` reduced to a length; with `rules`, also to its flags."""
    if not isinstance(item, dict) or key not in item:
        return item
    out = {**item, key: None, f"{key}Length": _length(item[key]) if item[key] else 0}
    if rules is not None and item[key]:
        text = item[key] if isinstance(item[key], str) else _adf_text(item[key])
        out[f"{key}Flags"] = text_flags(text, rules)
    return out


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


def reduce_github(entity: str, rows: list[Json], rules: Rules | None = None) -> list[Json]:
    """GitHub rows with their bodies reduced to a length, comments' also to their flags (see
    the module docstring; rules: the [slack] patterns, the defaults when None)."""
    if entity == "issue_events":  # each event embeds its issue, body and all
        return [_without_issue_body(row) for row in rows]
    if entity not in GITHUB_BODIES:
        return rows
    out = []
    for row in rows:
        payload = row.get("payload")
        if isinstance(payload, dict) and payload.get("body") is not None:
            body = str(payload["body"])
            payload = {**payload, "body": None, "body_length": len(body)}
            if entity in GITHUB_COMMENTS:
                payload["body_flags"] = text_flags(body, rules)
            elif entity in ("issues", "pulls"):
                payload["body_flags"] = declared_flags(body, rules)
            row = {**row, "payload": payload}
        out.append(row)
    return out


def _without_issue_body(row: Json) -> Json:
    """An issue event's row with the body of the issue it embeds reduced to its length (the
    issue's own row, in raw_github_issues, keeps its flags)."""
    payload = row.get("payload")
    issue = payload.get("issue") if isinstance(payload, dict) else None
    if not isinstance(issue, dict) or issue.get("body") is None:
        return row
    issue = {**issue, "body": None, "body_length": len(str(issue["body"]))}
    return {**row, "payload": {**payload, "issue": issue}}
